//! Starting and stopping the simulator: the listener, the per-connection HTTP/1 loop, HTTP fault
//! injection (statuses, dropped connections, delays). Joins the API routes (`api/`) and the
//! storage stand-ins (`blobs.rs`) over the shared state (`state.rs`); none of them imports it.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use thiserror::Error;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::reply::detail;
use super::scenario::Scenario;
use super::state::{Counters, SimJob, SimState, SimStats};

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

    /// Every job created so far, in creation order.
    pub fn jobs(&self) -> Vec<SimJob> {
        let store = self.state.store();
        store
            .job_order
            .iter()
            .filter_map(|id| store.jobs.get(id))
            .map(|j| SimJob {
                id: j.id.clone(),
                kind: j.kind,
                device: j.device.name.clone(),
                model_sha256: store
                    .models
                    .get(&j.model_id)
                    .and_then(|m| m.source_sha256.clone()),
            })
            .collect()
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
    let state = Arc::new(SimState::new(
        config.token,
        config.scenario,
        format!("http://{addr}"),
        blob_dir,
    ));
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

async fn not_found(req: Request) -> Response {
    detail(
        StatusCode::NOT_FOUND,
        &format!("no route for {} {}", req.method(), req.uri().path()),
    )
}
