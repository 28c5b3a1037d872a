//! What every handler shares: the pool, the settings, the login limiter, the run queue's bell and
//! the shutdown token. Holds no routes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::AnyPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::config::ServerConfig;
use super::db::Backend;
use super::store::ArtifactStore;

/// Failed logins allowed per email and client in [`LOGIN_WINDOW`].
pub const LOGIN_FAILURES: usize = 5;
/// The window of the login limiter.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    pub db: AnyPool,
    /// Which database `db` is.
    pub backend: Backend,
    /// Where model artifacts live.
    pub artifacts: Arc<dyn ArtifactStore>,
    pub config: Arc<ServerConfig>,
    pub logins: Arc<LoginLimiter>,
    /// Rung when a run is queued.
    pub run_bell: Arc<Notify>,
    /// Cancelled on shutdown.
    pub shutdown: CancellationToken,
    /// Short-lived read caches of the hot read paths.
    pub caches: Arc<Caches>,
}

/// Read caches, so that polling a run (what every client does until it ends) costs no database
/// query: the signed-in user, a member's role, and the answer for a run that has ended (an ended
/// run never changes). Every entry expires on its own (a role after a few seconds, so a change
/// made by another server process is seen soon), and this process drops entries at once when it
/// changes members or deletes a workspace or pipeline.
pub struct Caches {
    /// User id → email.
    pub users: moka::sync::Cache<String, String>,
    /// (user id, workspace id) → stored role.
    pub roles: moka::sync::Cache<(String, String), String>,
    /// (workspace id, run id) → the API's JSON answer for an ended run, with a slot where each
    /// caller's page key goes.
    pub ended_runs: moka::sync::Cache<(String, String), Arc<String>>,
    /// (user id, workspace id) → a page key (valid 7 days), reused for an hour.
    pub page_keys: moka::sync::Cache<(String, String), String>,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            users: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
            roles: moka::sync::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(Duration::from_secs(5))
                .build(),
            ended_runs: moka::sync::Cache::builder()
                .max_capacity(2_000)
                .time_to_live(Duration::from_secs(300))
                .build(),
            page_keys: moka::sync::Cache::builder()
                .max_capacity(50_000)
                .time_to_live(Duration::from_secs(3600))
                .build(),
        }
    }
}

impl Caches {
    /// After a change of members, or a deleted workspace or pipeline.
    pub fn forget_access(&self) {
        self.roles.invalidate_all();
        self.ended_runs.invalidate_all();
    }
}

/// Failed logins per (email, client address).
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<(String, String), Vec<Instant>>>,
}

impl LoginLimiter {
    /// Seconds until another attempt is allowed, when the key is locked out.
    pub fn locked_for(&self, key: &(String, String)) -> Option<u64> {
        let mut map = self.failures.lock().ok()?;
        let now = Instant::now();
        let list = map.get_mut(key)?;
        list.retain(|t| now.duration_since(*t) < LOGIN_WINDOW);
        if list.len() < LOGIN_FAILURES {
            return None;
        }
        let oldest = list.first().copied()?;
        let wait = LOGIN_WINDOW.saturating_sub(now.duration_since(oldest));
        Some(wait.as_secs().max(1))
    }

    /// Records a failed attempt.
    pub fn fail(&self, key: (String, String)) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                let now = Instant::now();
                map.retain(|_, l| l.iter().any(|t| now.duration_since(*t) < LOGIN_WINDOW));
            }
            map.entry(key).or_default().push(Instant::now());
        }
    }

    /// Forgets failures after a successful login.
    pub fn clear(&self, key: &(String, String)) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}
