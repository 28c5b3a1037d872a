//! A local AI Hub simulator speaking the same wire protocol (`edgegate hub-sim`), faithful enough
//! that the official `qai-hub` client works against it unchanged.
//!
//! [`start`] serves it in-process (tests) and `edgegate hub-sim` serves it from the command line.
//! Measurements are deterministic ([`measure`]); a [`Scenario`] sets timing, measurements and faults.

mod api;
mod blobs;
mod command;
pub mod devices;
mod infer;
pub mod measure;
pub mod scenario;
mod server;
mod store;

pub use command::run_command;
pub use scenario::Scenario;
pub use server::{SimConfig, SimError, SimHandle, SimStats, start};

/// The API token `edgegate hub-sim` accepts when `--token` is not given.
pub const DEFAULT_TOKEN: &str = "edgegate-sim-token";
