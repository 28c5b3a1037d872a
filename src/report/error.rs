//! Why a report could not be rendered or written. Publishing failures (a comment that could not
//! be posted) are not here: they are warnings and never change the gate's exit code.

use std::path::PathBuf;

/// A report that could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The results file could not be read (missing, not a regular file, too large).
    #[error("failed to read results file {}: {}", .0.path().display(), .0.reason())]
    ReadResults(crate::files::FileError),
    /// The results file is not a valid results.json.
    #[error("{} is not a valid EdgeGate results file", path.display())]
    ParseResults {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The results file was written by an incompatible version.
    #[error(
        "{} has results_version {found}; this edgegate reads version {expected}",
        path.display()
    )]
    ResultsVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    /// A user template could not be read.
    #[error("failed to read template {}: {}", .0.path().display(), .0.reason())]
    ReadTemplate(crate::files::FileError),
    /// A template did not compile or render.
    #[error("failed to render template {name}")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    /// The JUnit XML could not be serialised.
    #[error("failed to serialise JUnit XML")]
    Junit(#[source] quick_junit::SerializeError),
    /// A report file could not be written.
    #[error("failed to write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
