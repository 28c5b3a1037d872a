//! The server's settings: where it listens and keeps data, and the secrets it refuses to start
//! without. Read once at start; nothing here touches the network or the database.

use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine as _;

/// Environment variable holding the master key (base64 of 32 bytes) that encrypts AI Hub tokens.
pub const ENV_MASTER_KEY: &str = "EDGEGENAI_MASTER_KEY";
/// Environment variable holding the secret that signs login tokens.
pub const ENV_JWT_SECRET: &str = "EDGEGATE_JWT_SECRET";
/// The default limit of one uploaded model artifact: 1 GiB.
pub const DEFAULT_ARTIFACT_LIMIT: u64 = 1 << 30;
/// How long a worker's claim on a run lasts unless renewed (it renews a third of the way in).
pub const DEFAULT_RUN_LEASE: std::time::Duration = std::time::Duration::from_secs(30);

/// What one `edgegate serve` process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// Serves the `/v1` API only; runs it queues are executed by workers.
    Api,
    /// Executes queued runs only (and answers `/health`).
    Worker,
    /// Both, the single-machine default.
    #[default]
    All,
}

impl Role {
    /// Whether this process serves the `/v1` API.
    pub fn serves_api(self) -> bool {
        matches!(self, Self::Api | Self::All)
    }

    /// Whether this process executes runs.
    pub fn runs_work(self) -> bool {
        matches!(self, Self::Worker | Self::All)
    }
}

/// Everything `edgegate serve` runs with.
#[derive(Clone)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Database, artifacts and run folders live here.
    pub data_dir: PathBuf,
    /// A database URL; `None` is the SQLite file `edgegate.db` in the data dir.
    pub database_url: Option<String>,
    /// AES-256-GCM key for AI Hub tokens at rest.
    pub master_key: MasterKey,
    /// HS256 secret of login tokens.
    pub jwt_secret: String,
    /// AI Hub API base for probes and runs; `None` is the public service.
    pub hub_url: Option<String>,
    /// Largest accepted model artifact, in bytes.
    pub artifact_limit: u64,
    /// Runs executed at once.
    pub max_concurrent_runs: usize,
    /// API, worker or both.
    pub role: Role,
    /// Where artifacts and the AI Hub job cache live; `None` is the data dir. Every process of
    /// one database must see the same directory.
    pub shared_dir: Option<PathBuf>,
    /// How long a worker's claim on a run lasts unless renewed.
    pub run_lease: std::time::Duration,
}

impl ServerConfig {
    /// The directory of artifacts and job caches.
    pub fn shared_dir(&self) -> &std::path::Path {
        self.shared_dir.as_deref().unwrap_or(&self.data_dir)
    }
}

/// The 32-byte master key; never printed.
#[derive(Clone)]
pub struct MasterKey(pub [u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// Why the server refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No master key in the environment.
    #[error(
        "{ENV_MASTER_KEY} is not set: the server encrypts AI Hub tokens with it; set it to the \
base64 of 32 random bytes, e.g. `export {ENV_MASTER_KEY}=$(openssl rand -base64 32)`"
    )]
    MissingMasterKey,
    /// The master key is not base64 of exactly 32 bytes.
    #[error(
        "{ENV_MASTER_KEY} is malformed: {reason}; expected the base64 of exactly 32 bytes, \
e.g. `export {ENV_MASTER_KEY}=$(openssl rand -base64 32)`"
    )]
    BadMasterKey { reason: String },
    /// No JWT secret in the environment.
    #[error(
        "{ENV_JWT_SECRET} is not set: the server signs login tokens with it; set it to a long \
random string, e.g. `export {ENV_JWT_SECRET}=$(openssl rand -base64 48)`"
    )]
    MissingJwtSecret,
}

/// Parses the master key's text (surrounding whitespace ignored).
pub fn parse_master_key(text: Option<&str>) -> Result<MasterKey, ConfigError> {
    let text = text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ConfigError::MissingMasterKey)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| ConfigError::BadMasterKey {
            reason: format!("not base64 ({e})"),
        })?;
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| ConfigError::BadMasterKey {
            reason: format!("it decodes to {} bytes", bytes.len()),
        })?;
    Ok(MasterKey(key))
}

/// Checks the JWT secret's text.
pub fn parse_jwt_secret(text: Option<&str>) -> Result<String, ConfigError> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .ok_or(ConfigError::MissingJwtSecret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_must_be_base64_of_32_bytes() {
        assert!(matches!(
            parse_master_key(None),
            Err(ConfigError::MissingMasterKey)
        ));
        assert!(matches!(
            parse_master_key(Some("not base64!")),
            Err(ConfigError::BadMasterKey { .. })
        ));
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        let err = parse_master_key(Some(&short)).err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("16 bytes") && e.contains("openssl rand")));
        let ok = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert_eq!(
            parse_master_key(Some(&ok)).map(|k| k.0).ok(),
            Some([7u8; 32])
        );
    }
}
