//! The command layer: one file per command, the only place that prints, starts the async runtime
//! (`block_on`) and picks exit codes. Takes typed requests from `cli` and never sees clap; calls
//! the engine, report, hub and sim through their public functions.

mod devices;
mod error;
mod generate;
mod hub_sim;
mod init;
mod merge;
mod project;
mod report;
mod run;
mod runtime;
mod schema;
mod validate;
mod verdict;

pub use devices::{DevicesRequest, devices, list as list_devices};
pub use error::{invalid_arguments, print_error, with_causes};
pub use generate::{GenerateRequest, generate};
pub use hub_sim::{HubSimRequest, hub_sim};
pub use init::{InitRequest, init, starter_files};
pub use merge::{MergeRequest, merge};
pub use project::DiagnosticFormat;
pub use report::{RenderRequest, ReportRequest, report};
pub use run::{DryRunRequest, RunRequest, dry_run, run};
pub use runtime::{RuntimeError, block_on};
pub use schema::{SchemaKind, schema};
pub use validate::{ValidateRequest, validate};
pub use verdict::{exit_code_of, verdict_code};
