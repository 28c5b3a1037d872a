//! Why a run could not start, typed, with the cause kept as its source. Every variant means the
//! run's input is unusable (the model, a case input, the baseline, a path, the AI Hub URL), so
//! nothing was measured; the command layer (or a server) picks the exit code or status. Nothing
//! here prints, and this file imports no other file of the engine.

use std::path::PathBuf;

use crate::config::PathError;
use crate::device::inputs::InputError;
use crate::eval::baseline::BaselineError;
use crate::eval::expect::LabelsError;
use crate::files::FileError;
use crate::hub::HubError;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The model file cannot be opened: missing, not a regular file, larger than its limit.
    #[error(transparent)]
    Model(FileError),
    /// Reading the model failed part way.
    #[error("cannot read model `{}`: {source}", path.display())]
    ModelRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `--baseline` names a file that cannot serve as a baseline.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// A case input cannot be read or does not fit the model (boxed: it is large).
    #[error(transparent)]
    Inputs(Box<InputError>),
    /// The promptpack's labels file cannot be read.
    #[error(transparent)]
    Labels(#[from] LabelsError),
    /// The AI Hub URL (`--hub-url`, `QAIHUB_API_URL` or client.ini) is not a usable URL.
    #[error(transparent)]
    HubUrl(HubError),
    /// `model.baseline_path` of the config points where the path policy forbids.
    #[error("model.baseline_path {source}\nhelp: {help}")]
    BaselineModelPath {
        #[source]
        source: PathError,
        help: String,
    },
    /// The baseline model has another format than the model under test.
    #[error(
        "baseline model `{}` is a {theirs} model but the model under test is {ours}; paired mode compares two builds of the same format: pass a {ours} baseline model",
        path.display()
    )]
    BaselineModelKind {
        path: PathBuf,
        theirs: &'static str,
        ours: &'static str,
    },
    /// A file of `model.graphs` points where the path policy forbids.
    #[error("model.graphs.{which} {source}\nhelp: {help}")]
    GraphPath {
        which: &'static str,
        #[source]
        source: PathError,
        help: String,
    },
    /// Paired mode asked for a generative model on AI Hub, which runs two graphs.
    #[error(
        "paired mode (--baseline-model, model.baseline_path) is not available for a generative model on AI Hub devices: it runs two graphs (`model.graphs`), and there is no baseline pair of them; compare against a stored baseline (--baseline) instead"
    )]
    PairedGraphs,
    /// `report.json` of the config would be written where the path policy forbids.
    #[error("report file {source}\nhelp: {help}")]
    ResultsPath {
        #[source]
        source: PathError,
        /// What to do instead (the `--json` flag, or a path inside the project).
        help: String,
    },
}

impl From<InputError> for RunError {
    fn from(e: InputError) -> Self {
        Self::Inputs(Box::new(e))
    }
}
