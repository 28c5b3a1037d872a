//! Execution: the plan (jobs graph, dry-run), its execution on devices (concurrency, timeouts,
//! cancellation), progress display, and the run that turns it into results.

pub mod clock;
pub mod execute;
pub mod plan;
pub mod progress;
pub mod run;
