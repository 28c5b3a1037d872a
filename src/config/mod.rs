//! edgegate.yaml and promptpack types, loading with source positions, validation.
//!
//! This layer knows nothing of AI Hub, devices or reports: it turns files into checked types.

pub mod catalog;
mod check;
pub mod diagnostic;
pub mod generative;
pub mod load;
pub mod matrix;
pub mod measurable;
pub mod paths;
pub mod pattern;
pub mod promptpack;
pub mod schema;
pub mod schema_errors;
pub mod types;
pub mod yaml;

pub use diagnostic::{Diagnostic, Severity};
pub use load::{
    LoadFailure, Project, PromptpackOrigin, Sources, check_config_value, check_promptpack_value,
    load_project, load_project_confined, load_project_with, load_promptpack,
};
pub use matrix::{DEFAULT_RUNTIME, HubTarget, MatrixDevice, Target};
pub use paths::{OutsideProject, PathError, PathPolicy};
pub use promptpack::{Case, CaseInput, Expected, Promptpack};
pub use types::{Config, Device, Gate, Metric, ModelKind, Operator, Provider};
