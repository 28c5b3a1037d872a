//! EdgeGate: a CI regression gate for on-device AI models.
//!
//! Layers (data flows downward; lower layers never call upward):
//! `config` → `hub` / `sim` → `engine` → `cli`.

pub mod ci;
pub mod cli;
pub mod commands;
pub mod config;
pub mod device;
pub mod engine;
pub mod eval;
pub mod exit;
pub mod files;
pub mod http;
pub mod hub;
pub mod onnx;
pub mod report;
pub mod results;
pub mod sim;
pub mod tensor;
