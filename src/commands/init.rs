//! `edgegate init`: write a starter config, promptpack, model and schemas into a folder; never
//! overwrite without `--force`. Must not reach into clap, the engine or devices.

use std::path::PathBuf;

use crate::config::schema::{DocKind, schema_text};
use crate::exit;

use super::error::finish;

/// What `edgegate init` was asked to write.
#[derive(Debug, Clone)]
pub struct InitRequest {
    /// The folder to write into.
    pub dir: PathBuf,
    /// Overwrite files that already exist.
    pub force: bool,
}

/// Why the starter files were not written.
#[derive(Debug, thiserror::Error)]
enum InitError {
    /// Some files exist and `--force` was not given.
    #[error(
        "refusing to overwrite existing files:{}\nhelp: pass `--force` to overwrite them, or choose another folder: `edgegate init path/to/dir`",
        .0.iter().map(|p| format!("\n  {}", p.display())).collect::<String>()
    )]
    WouldOverwrite(Vec<PathBuf>),
    /// A folder could not be created.
    #[error("cannot create folder `{}`", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A refusal is the user's to fix (2); a folder or file that cannot be written is not (3).
fn code(e: &InitError) -> i32 {
    match e {
        InitError::WouldOverwrite(_) => exit::INVALID_INPUT,
        InitError::CreateDir { .. } | InitError::Write { .. } => exit::COULD_NOT_COMPLETE,
    }
}

/// The starter files `edgegate init` writes, relative to the target folder.
pub fn starter_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "edgegate.yaml",
            include_bytes!("../../templates/init/edgegate.yaml").to_vec(),
        ),
        (
            "promptpack.yaml",
            include_bytes!("../../templates/init/promptpack.yaml").to_vec(),
        ),
        (
            "model.onnx",
            include_bytes!("../../examples/quickstart/model.onnx").to_vec(),
        ),
        (
            "labels.txt",
            include_bytes!("../../examples/quickstart/labels.txt").to_vec(),
        ),
        (
            "inputs/digit_0.npy",
            include_bytes!("../../examples/quickstart/inputs/case_000.npy").to_vec(),
        ),
        (
            "inputs/digit_1.npy",
            include_bytes!("../../examples/quickstart/inputs/case_001.npy").to_vec(),
        ),
        (
            ".edgegate/edgegate.schema.json",
            schema_text(DocKind::Config).into_bytes(),
        ),
        (
            ".edgegate/promptpack.schema.json",
            schema_text(DocKind::Promptpack).into_bytes(),
        ),
    ]
}

/// `edgegate init`: writes starter files; never overwrites without `--force`.
pub fn init(req: &InitRequest) -> i32 {
    finish(write_starter(req), code)
}

fn write_starter(req: &InitRequest) -> Result<i32, InitError> {
    let files = starter_files();
    let targets: Vec<(PathBuf, &Vec<u8>)> = files
        .iter()
        .map(|(rel, bytes)| (req.dir.join(rel), bytes))
        .collect();
    let existing: Vec<PathBuf> = targets
        .iter()
        .filter(|(p, _)| p.exists())
        .map(|(p, _)| p.clone())
        .collect();
    if !existing.is_empty() && !req.force {
        return Err(InitError::WouldOverwrite(existing));
    }
    for (path, bytes) in &targets {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| InitError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(path, bytes).map_err(|source| InitError::Write {
            path: path.clone(),
            source,
        })?;
        println!("wrote {}", path.display());
    }
    let config = req.dir.join("edgegate.yaml");
    println!(
        "\nnext:\n  edgegate validate {0}\n  edgegate run {0} --dry-run",
        config.display()
    );
    println!(
        "then replace model.onnx and the cases with your own (the starter is a handwritten-digit classifier)."
    );
    Ok(exit::PASSED)
}
