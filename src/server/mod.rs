//! `edgegate serve`: the `/v1` REST API (workspaces, AI Hub integration, promptpacks,
//! pipelines, artifacts, runs) over a SQL database, beside `commands` in the layer order.
//! [`execute`] checks pipeline and promptpack bodies and runs one pipeline run with the same
//! loader, engine and report code as `edgegate run`; [`pages`] renders the HTML pages (run
//! report, pipeline history, API docs) from results alone. Must not import `commands`.

mod access;
mod app;
mod artifacts;
mod auth;
mod command;
mod config;
mod db;
mod error;
pub mod execute;
mod extract;
mod integrations;
mod openapi;
pub mod pages;
mod pipelines;
mod probe;
mod promptpacks;
mod runs;
mod secrets;
mod session;
mod state;
mod store;
mod worker;
mod workspaces;

pub use app::{ServeError, serve};
pub use command::{ServeRequest, serve_command};
pub use config::{
    ConfigError, DEFAULT_ARTIFACT_LIMIT, DEFAULT_RUN_LEASE, ENV_JWT_SECRET, ENV_MASTER_KEY,
    MasterKey, Role, ServerConfig, parse_jwt_secret, parse_master_key,
};
pub use openapi::document as openapi_document;
