//! The database: connecting (SQLite file in the data dir by default, or a PostgreSQL URL), the
//! embedded migrations, and the start-up recovery of interrupted runs and tasks.
//! Queries are portable SQL with `$n` placeholders, TEXT ids and BIGINT unix-ms times; the one
//! query that differs per backend (claiming a run) lives in `worker`.
//!
//! Several processes may start at once on one PostgreSQL database: sqlx's migrator takes a
//! session advisory lock (`pg_advisory_lock`, keyed on the database name) before it creates its
//! `_sqlx_migrations` table or applies anything, so one process migrates and the others wait,
//! then find nothing left to apply.

use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Connection as _, Executor as _};

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("failed to connect to the database {url}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "unsupported database URL {url}: use postgres://user:password@host:port/database, or \
leave --database-url unset for the SQLite file in the data dir (or give sqlite:///path/edgegate.db)"
    )]
    Unsupported { url: String },
    #[error("failed to apply the database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("failed to recover runs interrupted by the last stop")]
    Recover(#[source] sqlx::Error),
}

/// Which database a URL names; everything else is refused before connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded database: one file, one server process.
    Sqlite,
    /// PostgreSQL: several API processes and workers on one database.
    Postgres,
}

impl Backend {
    /// The backend of a database URL, by its scheme.
    pub fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split(':').next().unwrap_or("").to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }
}

/// The default SQLite URL for a data dir.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("edgegate.db").display()
    )
}

/// Opens the pool and applies the migrations (under the migrator's lock on PostgreSQL).
pub async fn connect(url: &str) -> Result<(AnyPool, Backend), DbError> {
    let backend = Backend::of_url(url).ok_or_else(|| DbError::Unsupported {
        url: redact_url(url),
    })?;
    sqlx::any::install_default_drivers();
    let connect_error = |source| DbError::Connect {
        url: redact_url(url),
        source,
    };
    let first = sqlx::AnyConnection::connect(url)
        .await
        .map_err(connect_error)?;
    let _ = first.close().await;
    let is_sqlite = backend == Backend::Sqlite;
    let pool = AnyPoolOptions::new()
        .max_connections(if is_sqlite { 4 } else { 10 })
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if is_sqlite {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .map_err(connect_error)?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .map_err(DbError::Migrate)?;
    Ok((pool, backend))
}

/// How long a probe task may stay unfinished before a starting PostgreSQL server process takes
/// it for one whose API process died (probes take seconds; another live process may own it).
const STALE_TASK_MS: i64 = 15 * 60 * 1000;

/// At start: on SQLite (one process, so nothing else can be running them) expires the lease of
/// every run left `running`, so this process's worker claims it again at once, and fails the
/// probe tasks left unfinished. On PostgreSQL other processes may be running them: runs are left
/// to their leases, and only tasks untouched for a long time are failed. Returns the runs whose
/// lease was expired.
pub async fn recover_interrupted(
    pool: &AnyPool,
    backend: Backend,
    now: i64,
) -> Result<u64, DbError> {
    let (runs, tasks_before) = match backend {
        Backend::Sqlite => {
            let done = sqlx::query("UPDATE runs SET lease_expires_at = 0 WHERE status = 'running'")
                .execute(pool)
                .await
                .map_err(DbError::Recover)?;
            (done.rows_affected(), now + 1)
        }
        Backend::Postgres => (0, now - STALE_TASK_MS),
    };
    sqlx::query(
        "UPDATE tasks SET status = 'failed', error = 'interrupted', updated_at = $1 \
         WHERE status IN ('queued', 'running') AND updated_at < $2",
    )
    .bind(now)
    .bind(tasks_before)
    .execute(pool)
    .await
    .map_err(DbError::Recover)?;
    Ok(runs)
}

/// A URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A new random id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// RFC 3339 text of a unix-ms time, for responses.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
