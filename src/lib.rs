//! EdgeGate: a CI regression gate for on-device AI models.
//!
//! Layers, highest first (lower layers never import higher ones; `ARCHITECTURE.md` explains each,
//! `tests/integration/layers.rs` enforces the order): `cli` → `commands` / `server` → `report` →
//! `engine` → `eval` → `device` / `sim` → `hub` → `results` / `ci` / `config` / `tensor` / `onnx` /
//! `files` / `http` / `exit`.

pub mod ci;
pub mod cli;
pub mod commands;
pub mod config;
pub mod device;
pub mod engine;
pub mod eval;
pub mod exit;
pub mod files;
pub mod generate;
pub mod http;
pub mod hub;
pub mod onnx;
pub mod report;
pub mod results;
pub mod server;
pub mod sim;
pub mod tensor;
