//! All integration tests, compiled into one test binary so the crate links once.

mod bounds;
mod cache_reuse;
mod config_cli;
mod config_errors;
mod hub_client;
mod ignored_input;
mod layers;
mod local;
mod paths;
mod pinned;
mod quickstart;
mod report;
mod run;
mod sim;
mod support;
