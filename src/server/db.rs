//! The database: connecting (SQLite file in the data dir by default, or any URL sqlx's `any`
//! driver knows), the embedded migrations, and the start-up recovery of interrupted runs.
//! Queries are portable SQL with `$n` placeholders, TEXT ids and BIGINT unix-ms times.

use std::path::Path;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor as _};

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("failed to connect to the database {url}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("failed to apply the database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    #[error("failed to recover runs interrupted by the last stop")]
    Recover(#[source] sqlx::Error),
}

/// The default SQLite URL for a data dir.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("edgegate.db").display()
    )
}

/// Opens the pool and applies the migrations.
pub async fn connect(url: &str) -> Result<AnyPool, DbError> {
    sqlx::any::install_default_drivers();
    let is_sqlite = url.starts_with("sqlite:");
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
        .map_err(|source| DbError::Connect {
            url: redact_url(url),
            source,
        })?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .map_err(DbError::Migrate)?;
    Ok(pool)
}

/// Marks runs left `running` (or claimed) by a stopped server as `error` "interrupted".
pub async fn recover_interrupted(pool: &AnyPool, now: i64) -> Result<u64, DbError> {
    let done = sqlx::query(
        "UPDATE runs SET status = 'error', error_detail = 'interrupted', finished_at = $1 \
         WHERE status = 'running'",
    )
    .bind(now)
    .execute(pool)
    .await
    .map_err(DbError::Recover)?;
    sqlx::query(
        "UPDATE tasks SET status = 'failed', error = 'interrupted', updated_at = $1 \
         WHERE status IN ('queued', 'running')",
    )
    .bind(now)
    .execute(pool)
    .await
    .map_err(DbError::Recover)?;
    Ok(done.rows_affected())
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
