//! All integration tests, compiled into one test binary so the crate links once.

mod config_cli;
mod config_errors;
mod hub_client;
mod layers;
mod local;
mod pinned;
mod quickstart;
mod report;
mod run;
mod sim;
mod support;
