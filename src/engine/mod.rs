//! Execution: the plan (jobs graph, dry-run), its execution on devices (concurrency, timeouts,
//! cancellation), progress display, and the run that executes that same plan into results.

pub mod clock;
pub mod error;
pub mod execute;
pub mod plan;
pub mod progress;
pub mod run;
