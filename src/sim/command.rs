//! `edgegate hub-sim`: start the simulator, announce its URL on the first stdout line, serve until killed.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use crate::exit;

use super::{Scenario, SimConfig};

/// Runs `edgegate hub-sim` and returns the process exit code.
pub fn run_command(bind: &str, token: &str, scenario: Option<&Path>) -> i32 {
    let bind: SocketAddr = match bind.parse() {
        Ok(a) => a,
        Err(_) => {
            eprintln!("error: --bind {bind:?} is not an address such as 127.0.0.1:0");
            return exit::INVALID_INPUT;
        }
    };
    if token.trim().is_empty() {
        eprintln!("error: --token must not be empty");
        return exit::INVALID_INPUT;
    }
    let scenario = match scenario.map(Scenario::from_file).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return exit::COULD_NOT_COMPLETE;
        }
    };
    runtime.block_on(async move {
        let config = SimConfig {
            bind,
            token: token.to_owned(),
            scenario,
        };
        let handle = match super::start(config).await {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: {e}");
                if let Some(src) = std::error::Error::source(&e) {
                    eprintln!("Caused by:\n    {src}");
                }
                return exit::COULD_NOT_COMPLETE;
            }
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", handle.url());
        let _ = out.flush();
        drop(out);
        tokio::select! {
            _ = handle.wait() => exit::COULD_NOT_COMPLETE,
            _ = tokio::signal::ctrl_c() => exit::PASSED,
        }
    })
}
