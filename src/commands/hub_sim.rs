//! `edgegate hub-sim`: start the simulator, announce its URL on the first stdout line, serve until
//! Ctrl-C. Must not reach into clap or the simulator's internals: `sim` serves, this prints.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::exit;
use crate::sim::scenario::ScenarioError;
use crate::sim::{Scenario, SimConfig, SimError};

use super::error::finish;
use super::runtime::{RuntimeError, block_on};

/// What `edgegate hub-sim` was asked to serve.
#[derive(Debug, Clone)]
pub struct HubSimRequest {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// The only API token accepted (not empty).
    pub token: String,
    /// A scenario file: measurements, timing and faults.
    pub scenario: Option<PathBuf>,
}

/// Why the simulator did not serve until stopped.
#[derive(Debug, thiserror::Error)]
enum HubSimError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Start(#[from] SimError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("the simulator stopped serving")]
    Stopped,
}

/// A scenario that cannot be used is invalid input (2); failing to start or to keep serving is
/// could-not-complete (3).
fn code(e: &HubSimError) -> i32 {
    match e {
        HubSimError::Scenario(_) => exit::INVALID_INPUT,
        HubSimError::Start(_) | HubSimError::Runtime(_) | HubSimError::Stopped => {
            exit::COULD_NOT_COMPLETE
        }
    }
}

/// `edgegate hub-sim`: serves until Ctrl-C (exit 0).
pub fn hub_sim(req: &HubSimRequest) -> i32 {
    finish(serve(req), code)
}

fn serve(req: &HubSimRequest) -> Result<i32, HubSimError> {
    let scenario = match &req.scenario {
        Some(path) => Scenario::from_file(path)?,
        None => Scenario::default(),
    };
    let config = SimConfig {
        bind: req.bind,
        token: req.token.clone(),
        scenario,
    };
    block_on(async move {
        let handle = crate::sim::start(config).await?;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", handle.url());
        let _ = out.flush();
        drop(out);
        tokio::select! {
            _ = handle.wait() => Err(HubSimError::Stopped),
            _ = tokio::signal::ctrl_c() => Ok(exit::PASSED),
        }
    })?
}
