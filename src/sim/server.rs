//! Starting and stopping the simulator: the listener, the per-connection HTTP/1 loop, HTTP fault
//! injection (statuses, dropped connections, delays), auth and client-version checks, counters.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::hub::proto;

use super::scenario::{DEFAULT_MIN_CLIENT_VERSION, HttpFault, Scenario};
use super::store::Store;

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// The only API token accepted.
    pub token: String,
    /// Measurements, timing and faults.
    pub scenario: Scenario,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: super::DEFAULT_TOKEN.to_owned(),
            scenario: Scenario::default(),
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, Error)]
pub enum SimError {
    /// Binding the listen address failed.
    #[error("failed to listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The temporary blob folder could not be created.
    #[error("failed to create the simulator's blob folder")]
    Blobs(#[source] std::io::Error),
}

/// Counts of what the simulator has seen, so tests can assert e.g. that a cached run submitted nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Every HTTP request received (API and blobs, faulted or not).
    pub requests: u64,
    /// Authenticated API requests that reached a handler.
    pub api_requests: u64,
    /// Requests answered by an injected fault (status, drop).
    pub faults_injected: u64,
    /// Compile jobs created.
    pub compile_jobs: u64,
    /// Profile jobs (inference with profiling) created.
    pub profile_jobs: u64,
    /// Inference jobs (profiling off) created.
    pub inference_jobs: u64,
    /// Models created by `POST models/`.
    pub models_created: u64,
    /// Datasets created by `POST datasets/`.
    pub datasets_created: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub api_requests: AtomicU64,
    pub faults_injected: AtomicU64,
    pub compile_jobs: AtomicU64,
    pub profile_jobs: AtomicU64,
    pub inference_jobs: AtomicU64,
    pub models_created: AtomicU64,
    pub datasets_created: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> SimStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SimStats {
            requests: g(&self.requests),
            api_requests: g(&self.api_requests),
            faults_injected: g(&self.faults_injected),
            compile_jobs: g(&self.compile_jobs),
            profile_jobs: g(&self.profile_jobs),
            inference_jobs: g(&self.inference_jobs),
            models_created: g(&self.models_created),
            datasets_created: g(&self.datasets_created),
        }
    }
}

#[derive(Debug)]
struct FaultState {
    rng: StdRng,
    hits: Vec<u64>,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub(crate) struct SimState {
    pub token: String,
    pub scenario: Scenario,
    pub min_client_version: semver::Version,
    pub base_url: String,
    pub devices: Vec<proto::Device>,
    pub blob_dir: tempfile::TempDir,
    pub counters: Counters,
    store: Mutex<Store>,
    faults: Mutex<FaultState>,
    epoch: (Instant, i64),
}

impl SimState {
    /// Locks the records; a poisoned lock is recovered because records stay consistent per call.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Unix seconds of an instant of this run.
    pub fn unix(&self, at: Instant) -> i64 {
        let (i0, u0) = self.epoch;
        match at.checked_duration_since(i0) {
            Some(d) => u0 + d.as_secs() as i64,
            None => u0,
        }
    }

    /// Unix seconds now.
    pub fn now_unix(&self) -> i64 {
        self.unix(Instant::now())
    }

    fn decide_fault(&self, method: &str, path: &str) -> Option<HttpFault> {
        let rules = &self.scenario.http_faults;
        if rules.is_empty() {
            return None;
        }
        let mut f = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        for (i, rule) in rules.iter().enumerate() {
            let path_ok = rule.path.as_deref().is_none_or(|p| path.starts_with(p));
            let method_ok = rule
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method));
            let under_limit = rule.limit.is_none_or(|l| f.hits[i] < l);
            if !(path_ok && method_ok && under_limit) {
                continue;
            }
            let rate = rule.rate.unwrap_or(1.0);
            let fire = rate >= 1.0 || f.rng.random::<f64>() < rate;
            if fire {
                f.hits[i] += 1;
                return Some(rule.clone());
            }
        }
        None
    }
}

/// A running simulator; dropping it stops the server.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    state: Arc<SimState>,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    /// The bound address (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give clients as `api_url`, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.state.base_url.clone()
    }

    /// The token the simulator accepts.
    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// Counters so far.
    pub fn stats(&self) -> SimStats {
        self.state.counters.snapshot()
    }

    /// The sha256 of a model's uploaded bytes, the key of its measurements.
    pub fn model_sha256(&self, model_id: &str) -> Option<String> {
        self.state
            .store()
            .models
            .get(model_id)
            .and_then(|m| m.source_sha256.clone())
    }

    /// The scenario in force.
    pub fn scenario(&self) -> &Scenario {
        &self.state.scenario
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves until the process is stopped (for `edgegate hub-sim`).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Starts a simulator on `config.bind` and returns once it accepts connections.
pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| SimError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: config.bind,
        source,
    })?;
    let blob_dir = tempfile::Builder::new()
        .prefix("edgegate-hub-sim-")
        .tempdir()
        .map_err(SimError::Blobs)?;
    let min_client_version = config
        .scenario
        .min_client_version
        .as_deref()
        .and_then(|v| semver::Version::parse(v).ok())
        .or_else(|| semver::Version::parse(DEFAULT_MIN_CLIENT_VERSION).ok())
        .unwrap_or_else(|| semver::Version::new(0, 0, 0));
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let state = Arc::new(SimState {
        token: config.token,
        min_client_version,
        base_url: format!("http://{addr}"),
        devices: super::devices::default_devices(),
        blob_dir,
        counters: Counters::default(),
        store: Mutex::new(Store::default()),
        faults: Mutex::new(FaultState {
            rng: StdRng::seed_from_u64(config.scenario.seed),
            hits: vec![0; config.scenario.http_faults.len()],
        }),
        epoch: (Instant::now(), now_unix),
        scenario: config.scenario,
    });
    let router = super::api::router(state.clone())
        .merge(super::blobs::router(state.clone()))
        .fallback(not_found);
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(serve(listener, router, state.clone(), rx));
    Ok(SimHandle {
        addr,
        state,
        shutdown: tx,
        task: Some(task),
    })
}

async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    state: Arc<SimState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("hub-sim accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let svc = FaultService {
            router: router.clone(),
            state: state.clone(),
        };
        let mut stop = shutdown.clone();
        conns.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
            }
        });
    }
    conns.shutdown().await;
}

/// The error that makes hyper close a connection without answering (an injected drop).
#[derive(Debug, Error)]
#[error("connection dropped by the simulator's fault injection")]
struct Dropped;

#[derive(Clone)]
struct FaultService {
    router: Router,
    state: Arc<SimState>,
}

impl hyper::service::Service<Request<hyper::body::Incoming>> for FaultService {
    type Response = Response;
    type Error = Dropped;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Dropped>> + Send>>;

    fn call(&self, req: Request<hyper::body::Incoming>) -> Self::Future {
        Counters::bump(&self.state.counters.requests);
        let fault = self
            .state
            .decide_fault(req.method().as_str(), req.uri().path());
        let router = self.router.clone();
        let state = self.state.clone();
        Box::pin(async move {
            if let Some(fault) = fault {
                if let Some(ms) = fault.delay_ms {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                if fault.drop {
                    Counters::bump(&state.counters.faults_injected);
                    return Err(Dropped);
                }
                if let Some(status) = fault.status {
                    Counters::bump(&state.counters.faults_injected);
                    return Ok(fault_response(status, fault.retry_after_s));
                }
            }
            let method = req.method().clone();
            let uri = req.uri().clone();
            let resp: Result<Response, Infallible> = router.oneshot(req.map(Body::new)).await;
            match resp {
                Ok(r) => {
                    tracing::debug!("hub-sim {method} {uri} -> {}", r.status());
                    Ok(r)
                }
                Err(never) => match never {},
            }
        })
    }
}

fn fault_response(status: u16, retry_after: Option<u64>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut resp = detail(code, &format!("injected fault: HTTP {status}"));
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// A JSON `{"detail": …}` answer, the shape AI Hub uses for errors.
pub(crate) fn detail(code: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "detail": message }).to_string();
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn not_found(req: Request) -> Response {
    detail(
        StatusCode::NOT_FOUND,
        &format!("no route for {} {}", req.method(), req.uri().path()),
    )
}

/// Rejects requests without the right token (401) or from too old a client (426).
pub(crate) async fn require_auth(
    State(state): State<Arc<SimState>>,
    req: Request,
    next: Next,
) -> Response {
    let expected = format!("token {}", state.token);
    let ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    if !ok {
        return detail(
            StatusCode::UNAUTHORIZED,
            "Invalid token. Authentication credentials were not provided or are wrong.",
        );
    }
    if let Some(v) = req
        .headers()
        .get("client-version")
        .and_then(|v| v.to_str().ok())
        && let Ok(version) = semver::Version::parse(v.trim())
        && version < state.min_client_version
    {
        return (
            StatusCode::UPGRADE_REQUIRED,
            [(header::CONTENT_TYPE, "text/plain")],
            format!(
                "qai-hub {version} is no longer supported; upgrade to {} or newer \
                 (pip install --upgrade qai-hub)",
                state.min_client_version
            ),
        )
            .into_response();
    }
    Counters::bump(&state.counters.api_requests);
    next.run(req).await
}
