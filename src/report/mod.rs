//! Reports rendered from results.json (`crate::results`): JUnit XML, Markdown summaries, PR/MR comments.
//! This layer reads results only; it never talks to devices.

pub mod error;
pub mod format;
pub mod github;
pub mod gitlab;
pub mod junit;
pub mod markdown;
pub mod publish;
pub mod sticky;
pub mod table;

pub use error::ReportError;
pub use publish::{ReportOptions, ReportOutcome, load_results, render_and_publish};
pub use sticky::{CommentOutcome, PublishError};
