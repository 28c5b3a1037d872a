//! The project as a command loads it: every diagnostic printed as `validate` prints it, and the
//! warnings of a project that loaded. Must not reach into clap, and picks no exit code.

use std::io::Write as _;
use std::path::Path;

use crate::config::diagnostic::Severity;
use crate::config::{Diagnostic, LoadFailure, OutsideProject, Project, Sources, load_project_with};

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticFormat {
    Text,
    Json,
    Github,
}

/// Loads the project, or prints its diagnostics as text and returns `None` (nothing may run).
pub fn load(config: &Path, outside: OutsideProject) -> Option<Project> {
    match load_project_with(config, outside) {
        Ok(project) => Some(project),
        Err(LoadFailure {
            diagnostics,
            sources,
        }) => {
            print_diagnostics(&diagnostics, &sources, DiagnosticFormat::Text, config, None);
            None
        }
    }
}

/// Prints the warnings of a project that loaded, to stderr.
pub fn print_warnings(project: &Project) {
    for w in &project.warnings {
        eprintln!("{}", w.render_text(project.sources.get(&w.file)));
    }
}

/// `s` for any count but one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Prints diagnostics and the closing line: `summary` when the project is valid, else the count
/// of errors and warnings.
pub fn print_diagnostics(
    diags: &[Diagnostic],
    sources: &Sources,
    format: DiagnosticFormat,
    config: &Path,
    summary: Option<&str>,
) {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    let mut stdout = std::io::stdout().lock();
    match format {
        DiagnosticFormat::Text => {
            let mut stderr = std::io::stderr().lock();
            for d in diags {
                let _ = writeln!(stderr, "{}", d.render_text(sources.get(&d.file)));
            }
            match summary {
                Some(s) => {
                    let _ = writeln!(
                        stdout,
                        "✓ {s}{}",
                        if warnings > 0 {
                            format!(" ({warnings} warning{})", plural(warnings))
                        } else {
                            String::new()
                        }
                    );
                }
                None => {
                    let _ = writeln!(
                        stderr,
                        "{} is invalid: {errors} error{}{}",
                        config.display(),
                        plural(errors),
                        if warnings > 0 {
                            format!(", {warnings} warning{}", plural(warnings))
                        } else {
                            String::new()
                        }
                    );
                }
            }
        }
        DiagnosticFormat::Json => {
            let doc = serde_json::json!({
                "valid": summary.is_some(),
                "config": config.display().to_string(),
                "errors": errors,
                "warnings": warnings,
                "diagnostics": diags,
            });
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            );
        }
        DiagnosticFormat::Github => {
            for d in diags {
                let _ = writeln!(stdout, "{}", d.render_github());
            }
            match summary {
                Some(s) => {
                    let _ = writeln!(stdout, "{s}");
                }
                None => {
                    let _ = writeln!(
                        stdout,
                        "{} is invalid: {errors} error{}",
                        config.display(),
                        plural(errors)
                    );
                }
            }
        }
    }
}
