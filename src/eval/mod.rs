//! Evaluation: expectations per case, metric aggregation, gates, baseline comparison, verdicts.
//! Works on measurements and outputs only; knows nothing of HTTP or devices' internals.

pub mod baseline;
pub mod compare;
pub mod expect;
pub mod format;
pub mod gates;
pub mod merge;
pub mod metrics;
pub mod stats;
mod summary;

pub use expect::{EvalContext, check_case, skipped_case};
pub use gates::{device_verdict, evaluate_gates};
pub use metrics::device_metrics;
pub use summary::summarize;
