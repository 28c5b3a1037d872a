//! Blocking work of a local device (loading, profiling, inference with tract) on a blocking
//! thread, within the per-job limit, stopped between steps once nobody waits for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::DeviceError;

/// Tells blocking work that its result is no longer awaited (the limit passed, or the run was
/// interrupted and the waiting future dropped).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// `Err(Interrupted)` once the work should stop; call it between steps.
    pub fn check(&self) -> Result<(), DeviceError> {
        if self.0.load(Ordering::Relaxed) {
            Err(DeviceError::Interrupted)
        } else {
            Ok(())
        }
    }
}

/// Sets the flag when dropped: when the wait below ends for any reason.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        (self.0).0.store(true, Ordering::Relaxed);
    }
}

/// Runs `work` on a blocking thread and waits at most `limit` for it; `what` names it in the
/// timeout error ("the profile run on the local CPU").
pub async fn run<T: Send + 'static>(
    what: &str,
    limit: Duration,
    work: impl FnOnce(&Cancel) -> Result<T, DeviceError> + Send + 'static,
) -> Result<T, DeviceError> {
    let guard = CancelOnDrop(Cancel::default());
    let cancel = guard.0.clone();
    let task = tokio::task::spawn_blocking(move || work(&cancel));
    let out = tokio::time::timeout(limit, task)
        .await
        .map_err(|_| DeviceError::Timeout {
            what: what.to_string(),
            after: limit,
        })?
        .map_err(|e| DeviceError::Other(format!("{what} crashed: {e}")))?;
    drop(guard);
    out
}

/// The model a local device loaded last, kept for its profile and inference: `get` returns it
/// when `key` matches, else loads it on a blocking thread (`what` names the load in a crash).
pub async fn load_cached<T: Send + Sync + 'static>(
    slot: &std::sync::Mutex<Option<(String, Arc<T>)>>,
    key: &str,
    what: &str,
    load: impl FnOnce() -> Result<T, DeviceError> + Send + 'static,
) -> Result<Arc<T>, DeviceError> {
    if let Some(hit) = cached(slot, key) {
        return Ok(hit);
    }
    let loaded = Arc::new(tokio::task::spawn_blocking(load).await.map_err(|e| {
        DeviceError::InvalidModel(format!(
            "{what} crashed the engine (tract): {e}; re-export the model, or run it on AI Hub"
        ))
    })??);
    keep(slot, key, Arc::clone(&loaded));
    Ok(loaded)
}

/// The model in `slot` keyed `key`, or the error that `prepare` was not called for it.
pub fn prepared<T>(
    slot: &std::sync::Mutex<Option<(String, Arc<T>)>>,
    device: &str,
    key: &str,
) -> Result<Arc<T>, DeviceError> {
    cached(slot, key).ok_or_else(|| {
        DeviceError::Other(format!(
            "device `{device}` has not prepared model {key}; call prepare first"
        ))
    })
}

/// The model in `slot` when it is the one keyed `key`.
pub fn cached<T>(slot: &std::sync::Mutex<Option<(String, Arc<T>)>>, key: &str) -> Option<Arc<T>> {
    slot.lock()
        .ok()?
        .as_ref()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| Arc::clone(v))
}

/// Replaces the model in `slot`.
pub fn keep<T>(slot: &std::sync::Mutex<Option<(String, Arc<T>)>>, key: &str, value: Arc<T>) {
    if let Ok(mut g) = slot.lock() {
        *g = Some((key.to_string(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_past_the_limit_is_told_to_stop() {
        let seen = Cancel::default();
        let mirror = seen.clone();
        let err = run("slow work", Duration::from_millis(20), move |c| {
            for _ in 0..500 {
                if c.check().is_err() {
                    mirror.0.store(true, Ordering::Relaxed);
                    return Err(DeviceError::Interrupted);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(())
        })
        .await
        .unwrap_err();
        assert!(matches!(err, DeviceError::Timeout { .. }), "{err}");
        for _ in 0..200 {
            if seen.check().is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the work was never told to stop");
    }

    #[tokio::test]
    async fn results_and_errors_come_back() {
        assert_eq!(
            run("w", Duration::from_secs(5), |_| Ok(7)).await.unwrap(),
            7
        );
        let e = run::<()>("w", Duration::from_secs(5), |_| {
            Err(DeviceError::InvalidInput("bad".into()))
        })
        .await
        .unwrap_err();
        assert!(matches!(e, DeviceError::InvalidInput(_)));
    }
}
