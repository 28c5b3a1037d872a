//! Execution: the plan (jobs graph, dry-run) and, later, its execution on devices.

pub mod plan;
