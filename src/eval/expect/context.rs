//! What checking a case needs besides the case and its output: the promptpack's labels and the
//! folder (and path policy) its reference files resolve against. Reads the labels file once;
//! knows nothing of the expectation families.

use std::path::PathBuf;

use crate::config::{PathError, PathPolicy, Promptpack};
use crate::files::FileError;

/// Why the promptpack's labels file cannot be read for checking cases.
#[derive(Debug, thiserror::Error)]
pub enum LabelsError {
    /// The path leads outside the project (or wherever the policy forbids).
    #[error("labels file {source}; {help}")]
    Refused {
        #[source]
        source: PathError,
        /// What to do about it, from the path policy.
        help: String,
    },
    /// Missing, not a regular file, too large or unreadable.
    #[error("cannot read labels file `{}`: {}", path.display(), source.reason())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: FileError,
    },
}

/// What checking a case needs besides the case and its output.
#[derive(Debug, Clone, Default)]
pub struct EvalContext {
    /// The lines of the promptpack's labels file (line N = class N), when it has one.
    pub labels: Option<Vec<String>>,
    /// The promptpack's folder, against which reference `.npy` paths resolve.
    pub pack_dir: PathBuf,
    /// Where those paths may lead (the default refuses every path).
    pub paths: PathPolicy,
}

impl EvalContext {
    /// The context of a promptpack in `pack_dir`, reading its labels file (one label per line,
    /// trimmed, as validation reads it; trailing blank lines dropped).
    pub fn for_pack(
        pack: &Promptpack,
        pack_dir: PathBuf,
        paths: PathPolicy,
    ) -> Result<Self, LabelsError> {
        let labels = match &pack.labels {
            None => None,
            Some(file) => {
                let path =
                    paths
                        .resolve(&pack_dir, file)
                        .map_err(|source| LabelsError::Refused {
                            source,
                            help: paths.help(),
                        })?;
                let text =
                    crate::files::read_to_string(&path, "labels file", crate::files::LABELS_LIMIT)
                        .map_err(|source| LabelsError::Unreadable {
                            path: path.clone(),
                            source,
                        })?;
                let mut labels: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
                while labels.last().is_some_and(String::is_empty) {
                    labels.pop();
                }
                Some(labels)
            }
        };
        Ok(Self {
            labels,
            pack_dir,
            paths,
        })
    }
}
