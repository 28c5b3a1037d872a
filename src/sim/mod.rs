//! A local AI Hub simulator speaking the same wire protocol (`edgegate hub-sim`), faithful enough
//! that the official `qai-hub` client works against it unchanged.
//!
//! [`start`] serves it, in-process for tests and from the command line for `edgegate hub-sim`.
//! Measurements are deterministic ([`measure`]); a [`Scenario`] sets timing, measurements and faults.
//!
//! `server` (listener, fault injection) joins `api/` (the routes, one file per resource) and
//! `blobs` (storage stand-ins); all of them work on `state` (shared state) and `store` (records),
//! which import none of them. `outputs` and `infer` decide what an inference job returns.

mod api;
mod blobs;
pub mod devices;
mod infer;
pub mod measure;
mod outputs;
mod reply;
pub mod scenario;
mod server;
mod state;
mod store;

pub use scenario::Scenario;
pub use server::{SimConfig, SimError, SimHandle, start};
pub use state::{SimJob, SimStats};

/// The API token `edgegate hub-sim` accepts when `--token` is not given.
pub const DEFAULT_TOKEN: &str = "edgegate-sim-token";
