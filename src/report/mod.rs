//! Reports rendered from results.json (`crate::results`): JUnit XML, Markdown summaries, PR/MR comments.
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
pub mod sticky;
pub mod table;

pub use ci::{CiEnv, is_fork_pr};
pub use error::ReportError;
pub use publish::{
    CommentOutcome, PublishError, ReportOptions, ReportOutcome, load_results, render_and_publish,
};
