//! The databases the server tests run on: the embedded SQLite file in the test's data dir, and
//! PostgreSQL when `EDGEGATE_TEST_POSTGRES_URL` names a server (scripts/test.sh always starts a
//! throwaway one and sets it). Each PostgreSQL test gets a fresh database of its own. Without
//! the variable the PostgreSQL variants print a notice and return, so a plain `cargo test`
//! works on a machine without PostgreSQL.

use std::path::Path;

/// The admin URL of a PostgreSQL server the tests may create databases on.
pub const ENV_POSTGRES: &str = "EDGEGATE_TEST_POSTGRES_URL";

/// Which database a test's server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One test's database.
pub struct TestDb {
    /// `--database-url`, or `None` for the SQLite file in the data dir.
    pub url: Option<String>,
}

impl TestDb {
    /// A fresh database on `backend`; `None` (after a printed notice) when PostgreSQL is not
    /// configured.
    pub async fn create(backend: Backend, test: &str) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self { url: None }),
            Backend::Postgres => {
                let Some(admin) = std::env::var(ENV_POSTGRES).ok().filter(|u| !u.is_empty()) else {
                    eprintln!(
                        "notice: {test} on PostgreSQL skipped: {ENV_POSTGRES} is not set \
                         (scripts/test.sh starts a throwaway PostgreSQL and sets it)"
                    );
                    return None;
                };
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                sqlx::any::install_default_drivers();
                let pool = sqlx::AnyPool::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("connect to {ENV_POSTGRES}: {e}"));
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .expect("create a test database");
                pool.close().await;
                let mut url = url::Url::parse(&admin).expect("postgres url");
                url.set_path(&format!("/{name}"));
                Some(Self {
                    url: Some(url.to_string()),
                })
            }
        }
    }

    /// The serve arguments that select this database.
    pub fn args(&self) -> Vec<String> {
        match &self.url {
            Some(u) => vec!["--database-url".into(), u.clone()],
            None => Vec::new(),
        }
    }

    /// The database's password, if its URL has one (it must never be printed).
    pub fn password(&self) -> Option<String> {
        let url = url::Url::parse(self.url.as_deref()?).ok()?;
        url.password().map(str::to_string)
    }

    /// A pool on the database a server with `data_dir` uses.
    pub async fn pool(&self, data_dir: &Path) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = match &self.url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", data_dir.join("edgegate.db").display()),
        };
        sqlx::AnyPool::connect(&url)
            .await
            .expect("open the database")
    }
}

/// Declares `mod $name { sqlite, postgres }`: the async test `$body(Backend)` on each database.
macro_rules! on_both_databases {
    ($name:ident => $body:path) => {
        mod $name {
            use crate::server_backend::Backend;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body(Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $body(Backend::Postgres).await
            }
        }
    };
}
pub(crate) use on_both_databases;
