//! `edgegate validate`: load the config and its promptpack, print every diagnostic, exit 0 or 2.
//! Must not reach into clap, the engine or devices: validating runs nothing.

use std::path::PathBuf;

use crate::config::{LoadFailure, OutsideProject, Project, load_project_with};
use crate::exit;

use super::project::{DiagnosticFormat, plural, print_diagnostics};

/// What `edgegate validate` was asked to check.
#[derive(Debug, Clone)]
pub struct ValidateRequest {
    /// The config file.
    pub config: PathBuf,
    /// How problems are printed.
    pub format: DiagnosticFormat,
    /// Whether paths in the config may leave the project.
    pub outside: OutsideProject,
}

/// `edgegate validate`: exit 0 when the config and its promptpack are valid, 2 otherwise.
pub fn validate(req: &ValidateRequest) -> i32 {
    let config = &req.config;
    let (diags, sources, summary) = match load_project_with(config, req.outside) {
        Ok(project) => {
            let summary = summary(&req.config, &project);
            (project.warnings, project.sources, Some(summary))
        }
        Err(LoadFailure {
            diagnostics,
            sources,
        }) => (diagnostics, sources, None),
    };
    print_diagnostics(&diags, &sources, req.format, config, summary.as_deref());
    if summary.is_some() {
        exit::PASSED
    } else {
        exit::INVALID_INPUT
    }
}

/// `edgegate.yaml is valid: 2 devices, 3 gates, 24 cases (promptpack digits 1.0.0)`.
fn summary(config: &std::path::Path, project: &Project) -> String {
    let cases = project.promptpack.as_ref().map(|p| p.cases.len());
    let enabled = project
        .config
        .device_matrix
        .iter()
        .filter(|d| d.enabled)
        .count();
    format!(
        "{} is valid: {enabled} device{}, {} gate{}{}",
        config.display(),
        plural(enabled),
        project.config.gates.len(),
        plural(project.config.gates.len()),
        match (&project.promptpack, cases) {
            (Some(p), Some(n)) => format!(
                ", {n} case{} (promptpack {} {})",
                plural(n),
                p.promptpack_id,
                p.version
            ),
            _ => String::new(),
        }
    )
}
