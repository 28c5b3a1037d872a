//! All integration tests, compiled into one test binary so the crate links once.

mod config_cli;
mod config_errors;
mod hub_client;
mod ignored_input;
mod local;
mod quickstart;
mod report;
mod run;
mod sim;
mod support;
