//! Reports: results.json (the contract), JUnit XML, Markdown summaries, PR/MR comments.
//! This layer reads results only; it never talks to devices.

pub mod ci;
pub mod command;
pub mod error;
pub mod format;
pub mod github;
pub mod gitlab;
pub mod junit;
pub mod markdown;
pub mod publish;
pub mod results;
pub mod sticky;

pub use ci::{CiEnv, is_fork_pr};
pub use error::ReportError;
pub use publish::{
    CommentOutcome, PublishError, ReportOptions, ReportOutcome, load_results, render_and_publish,
};
pub use results::{
    CaseResult, CaseStatus, DeviceResult, GateResult, GateStatus, MetricValue, Results, Verdict,
};
