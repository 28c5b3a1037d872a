//! What checking a case needs besides the case and its output: the promptpack's labels and the
//! folder (and path policy) its reference files resolve against. Reads the labels file once;
//! knows nothing of the expectation families.

use std::path::PathBuf;

use crate::config::{PathPolicy, Promptpack};

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
    ) -> Result<Self, String> {
        let labels = match &pack.labels {
            None => None,
            Some(file) => {
                let path = paths
                    .resolve(&pack_dir, file)
                    .map_err(|e| format!("labels file {e}; {}", paths.help()))?;
                let text =
                    crate::files::read_to_string(&path, "labels file", crate::files::LABELS_LIMIT)
                        .map_err(|e| {
                            format!(
                                "cannot read labels file `{}`: {}",
                                path.display(),
                                e.reason()
                            )
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
