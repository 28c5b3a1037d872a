//! Qualcomm AI Hub: protocol messages, HTTP client, device selection, uploads, jobs and
//! measurements. `proto` is shared with the simulator; the rest is the client.

pub mod client;
pub mod config;
pub mod dataset;
pub mod dataset_child;
pub mod devices;
pub mod error;
pub mod jobs;
pub mod measure;
pub mod proto;
pub mod retry;
pub mod transfer;
pub mod upload;

pub use client::{ClientOptions, HubClient};
pub use config::{ApiToken, HubConfig, HubEnv, HubOptions};
pub use error::HubError;
