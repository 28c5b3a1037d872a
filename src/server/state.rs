//! What every handler shares: the pool, the settings, the login limiter, the run queue's bell and
//! the shutdown token. Holds no routes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::AnyPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::config::ServerConfig;

/// Failed logins allowed per email and client in [`LOGIN_WINDOW`].
pub const LOGIN_FAILURES: usize = 5;
/// The window of the login limiter.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    pub db: AnyPool,
    pub config: Arc<ServerConfig>,
    pub logins: Arc<LoginLimiter>,
    /// Rung when a run is queued.
    pub run_bell: Arc<Notify>,
    /// Cancelled on shutdown.
    pub shutdown: CancellationToken,
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
