//! `edgegate serve` as a command: check the secrets, start the server, announce its URL on the
//! first stdout line, serve until Ctrl-C or SIGTERM, and pick the exit code. The server's own
//! front door beside `commands` (the layer order keeps the two apart), so it prints its errors
//! the way `commands` does: `error: …` then `Caused by:` lines. Must not reach into clap.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::exit;

use super::app::ServeError;
use super::config::{ConfigError, Role, ServerConfig, parse_jwt_secret, parse_master_key};
use super::db::DbError;

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
    /// API, worker or both.
    pub role: Role,
    /// Artifacts and the job cache, when not in the data dir.
    pub shared_dir: Option<PathBuf>,
    /// How long a worker's claim on a run lasts unless renewed.
    pub run_lease: std::time::Duration,
}

/// Why the server did not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
enum ServeCommandError {
    #[error("refusing to start")]
    Config(#[source] ConfigError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("failed to start the async runtime")]
    Runtime(#[source] std::io::Error),
}

fn code(e: &ServeCommandError) -> i32 {
    match e {
        ServeCommandError::Config(_)
        | ServeCommandError::Serve(
            ServeError::RoleNeedsPostgres { .. } | ServeError::Db(DbError::Unsupported { .. }),
        ) => exit::INVALID_INPUT,
        ServeCommandError::Serve(_) | ServeCommandError::Runtime(_) => exit::COULD_NOT_COMPLETE,
    }
}

/// `edgegate serve`: serves until stopped (exit 0).
pub fn serve_command(req: &ServeRequest) -> i32 {
    match run(req) {
        Ok(code) => code,
        Err(e) => {
            let mut text = format!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text.push_str(&format!("\n  Caused by: {cause}"));
                source = cause.source();
            }
            eprintln!("{text}");
            code(&e)
        }
    }
}

fn run(req: &ServeRequest) -> Result<i32, ServeCommandError> {
    let master_key =
        parse_master_key(req.master_key.as_deref()).map_err(ServeCommandError::Config)?;
    let jwt_secret =
        parse_jwt_secret(req.jwt_secret.as_deref()).map_err(ServeCommandError::Config)?;
    let config = ServerConfig {
        bind: req.bind,
        data_dir: req.data_dir.clone(),
        database_url: req.database_url.clone(),
        master_key,
        jwt_secret,
        hub_url: req.hub_url.clone(),
        artifact_limit: req.artifact_limit,
        max_concurrent_runs: req.max_concurrent_runs,
        role: req.role,
        shared_dir: req.shared_dir.clone(),
        run_lease: req.run_lease,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeCommandError::Runtime)?;
    let served = runtime.block_on(super::app::serve(config, |addr| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{addr}");
        let _ = out.flush();
    }));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    served?;
    Ok(exit::PASSED)
}
