//! `edgegate serve`: check the secrets, start the `/v1` server, announce its URL on the first
//! stdout line, serve until Ctrl-C or SIGTERM. Must not reach into clap or the server's
//! internals: `server` serves, this prints and picks the exit code.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::exit;
use crate::server::{ConfigError, ServeError, ServerConfig};

use super::error::finish;
use super::runtime::{RuntimeError, block_on};

/// What `edgegate serve` was asked for.
#[derive(Debug, Clone)]
pub struct ServeRequest {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Database, artifacts and run folders.
    pub data_dir: PathBuf,
    /// A database URL instead of the SQLite file in the data dir.
    pub database_url: Option<String>,
    /// `EDGEGENAI_MASTER_KEY` as given.
    pub master_key: Option<String>,
    /// `EDGEGATE_JWT_SECRET` as given.
    pub jwt_secret: Option<String>,
    /// `QAIHUB_API_URL`, or `None` for the public service.
    pub hub_url: Option<String>,
    /// Largest model artifact, bytes.
    pub artifact_limit: u64,
    /// Runs executed at once.
    pub max_concurrent_runs: usize,
}

/// Why the server did not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
enum ServeCommandError {
    #[error("refusing to start")]
    Config(#[source] ConfigError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

fn code(e: &ServeCommandError) -> i32 {
    match e {
        ServeCommandError::Config(_) => exit::INVALID_INPUT,
        ServeCommandError::Serve(_) | ServeCommandError::Runtime(_) => exit::COULD_NOT_COMPLETE,
    }
}

/// `edgegate serve`: serves until stopped (exit 0).
pub fn serve(req: &ServeRequest) -> i32 {
    finish(run(req), code)
}

fn run(req: &ServeRequest) -> Result<i32, ServeCommandError> {
    let master_key = crate::server::parse_master_key(req.master_key.as_deref())
        .map_err(ServeCommandError::Config)?;
    let jwt_secret = crate::server::parse_jwt_secret(req.jwt_secret.as_deref())
        .map_err(ServeCommandError::Config)?;
    let config = ServerConfig {
        bind: req.bind,
        data_dir: req.data_dir.clone(),
        database_url: req.database_url.clone(),
        master_key,
        jwt_secret,
        hub_url: req.hub_url.clone(),
        artifact_limit: req.artifact_limit,
        max_concurrent_runs: req.max_concurrent_runs,
    };
    block_on(crate::server::serve(config, |addr| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
    }))??;
    Ok(exit::PASSED)
}
