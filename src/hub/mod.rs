//! Qualcomm AI Hub: protocol messages, HTTP client, device selection.

pub mod dataset;
pub mod proto;
