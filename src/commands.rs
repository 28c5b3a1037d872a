//! The body of each command: calls into the library, prints, and returns an exit code.

use std::path::Path;

use crate::exit;

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticFormat {
    Text,
    Json,
    Github,
}

/// Which JSON schema to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    Config,
    Promptpack,
    Results,
}

pub fn validate(_config: &Path, _format: DiagnosticFormat) -> i32 {
    exit::INVALID_INPUT
}

pub fn schema(_kind: SchemaKind) -> i32 {
    exit::INVALID_INPUT
}

pub fn init(_dir: &Path, _force: bool) -> i32 {
    exit::INVALID_INPUT
}

pub fn dry_run(_config: &Path, _json: bool) -> i32 {
    exit::INVALID_INPUT
}
