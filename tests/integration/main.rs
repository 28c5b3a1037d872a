//! All integration tests, compiled into one test binary so the crate links once.

mod alloc_probe;
mod baseline;
mod bounds;
mod cache_reuse;
mod config_cli;
mod config_errors;
mod dist;
mod fuzz_decoders;
mod guide;
mod hub_client;
mod ignored_input;
mod layers;
mod local;
mod paths;
mod pinned;
mod plan_matches_run;
mod quickstart;
mod report;
mod run;
mod server_api;
mod server_execute;
mod shard;
mod sim;
mod support;
mod verdicts;
