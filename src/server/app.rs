//! The server's assembly: the router of every route, request logging, start-up (data dir,
//! artifact store, database, migrations, recovery of interrupted runs, the worker) and graceful
//! shutdown on Ctrl-C or SIGTERM. `--role api` serves the routes without a worker; `--role worker`
//! runs the worker and answers only `/health`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use tokio_util::sync::CancellationToken;

use super::config::{Role, ServerConfig};
use super::db::{self, Backend, DbError};
use super::error::ApiError;
use super::openapi;
use super::pages;
use super::state::{AppState, LoginLimiter};
use super::store::LocalDirStore;
use super::worker;
use super::{artifacts, auth, integrations, pipelines, probe, promptpacks, runs, workspaces};

/// Largest JSON body accepted.
pub const JSON_LIMIT: usize = 4 << 20;

/// Why the server did not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("failed to create the data directory {path}")]
    DataDir {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to open the artifact store in {path}")]
    Store {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "--role {role} needs PostgreSQL: the embedded SQLite database belongs to one process, \
which must both serve the API and run the runs (--role all); give --database-url \
postgres://user:password@host:5432/edgegate (or EDGEGATE_DATABASE_URL) to split the roles"
    )]
    RoleNeedsPostgres { role: &'static str },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("failed to listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server stopped with an error")]
    Serve(#[source] std::io::Error),
}

async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::document(),
    )
        .into_response()
}

async fn docs() -> Html<String> {
    Html(pages::docs_html("/openapi.json"))
}

async fn docs_asset(Path(name): Path<String>) -> Response {
    match pages::docs_asset(&name) {
        Some((bytes, mime)) => ([(header::CONTENT_TYPE, mime)], bytes).into_response(),
        None => ApiError::not_found("asset").into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Not Found")
}

/// One line per request: method, path, status, time. Never bodies, queries or headers.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    tracing::info!(
        "{method} {path} {} {:.1}ms",
        response.status().as_u16(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// The routes of a worker process: its health, for orchestrators' liveness checks.
pub fn worker_router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(openapi::health))
        .fallback(not_found)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Every route.
pub fn router(state: AppState) -> Router {
    let w = "/v1/workspaces/{ws}";
    Router::new()
        .route("/health", get(openapi::health))
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs))
        .route("/docs/assets/{name}", get(docs_asset))
        .route("/v1/auth/register", post(auth::register))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/me", get(auth::me))
        .route(
            "/v1/workspaces",
            post(workspaces::create).get(workspaces::list),
        )
        .route(
            w,
            get(workspaces::get)
                .patch(workspaces::rename)
                .delete(workspaces::delete),
        )
        .route(
            &format!("{w}/members"),
            get(workspaces::list_members).post(workspaces::add_member),
        )
        .route(
            &format!("{w}/members/{{user_id}}"),
            axum::routing::delete(workspaces::remove_member),
        )
        .route(
            &format!("{w}/integrations/qaihub"),
            post(integrations::put)
                .put(integrations::put)
                .get(integrations::get)
                .patch(integrations::patch)
                .delete(integrations::delete),
        )
        .route(&format!("{w}/capabilities/probe"), post(probe::start))
        .route(&format!("{w}/tasks/{{task_id}}"), get(probe::get))
        .route(
            &format!("{w}/promptpacks"),
            post(promptpacks::create).get(promptpacks::list),
        )
        .route(
            &format!("{w}/promptpacks/{{promptpack_id}}/{{version}}"),
            get(promptpacks::get).delete(promptpacks::delete),
        )
        .route(
            &format!("{w}/promptpacks/{{promptpack_id}}/{{version}}/publish"),
            put(promptpacks::publish),
        )
        .route(
            &format!("{w}/pipelines"),
            post(pipelines::create).get(pipelines::list),
        )
        .route(
            &format!("{w}/pipelines/{{id}}"),
            get(pipelines::get)
                .put(pipelines::replace)
                .delete(pipelines::delete),
        )
        .route(
            &format!("{w}/pipelines/{{id}}/runs"),
            get(runs::list_for_pipeline),
        )
        .route(&format!("{w}/pipelines/{{id}}/history"), get(runs::history))
        .route(
            &format!("{w}/artifacts"),
            post(artifacts::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(&format!("{w}/artifacts/{{id}}"), get(artifacts::get))
        .route(
            &format!("{w}/artifacts/{{id}}/download"),
            get(artifacts::download),
        )
        .route(&format!("{w}/runs"), post(runs::create))
        .route(&format!("{w}/runs/{{id}}"), get(runs::get))
        .route(
            &format!("{w}/runs/{{id}}/results.json"),
            get(runs::results_json),
        )
        .route(&format!("{w}/runs/{{id}}/junit.xml"), get(runs::junit))
        .route(&format!("{w}/runs/{{id}}/report"), get(runs::report))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// Starts the server; `ready` gets the address it listens on (before any request is served).
/// Returns after a clean shutdown on Ctrl-C or SIGTERM.
pub async fn serve(config: ServerConfig, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    for sub in ["", "runs"] {
        let path = config.data_dir.join(sub);
        std::fs::create_dir_all(&path).map_err(|source| ServeError::DataDir { path, source })?;
    }
    let shared = config.shared_dir().to_path_buf();
    let path = shared.join("cache");
    std::fs::create_dir_all(&path).map_err(|source| ServeError::DataDir { path, source })?;
    let store = LocalDirStore::open(&shared).map_err(|source| ServeError::Store {
        path: shared.clone(),
        source,
    })?;
    let url = config
        .database_url
        .clone()
        .unwrap_or_else(|| db::sqlite_url(&config.data_dir));
    if Backend::of_url(&url) == Some(Backend::Sqlite) && config.role != Role::All {
        return Err(ServeError::RoleNeedsPostgres {
            role: if config.role == Role::Api {
                "api"
            } else {
                "worker"
            },
        });
    }
    let (pool, backend) = db::connect(&url).await?;
    let recovered = db::recover_interrupted(&pool, backend, db::now_ms()).await?;
    if recovered > 0 {
        tracing::warn!(
            "{recovered} run(s) left running by the last stop will be claimed again (or marked \
             error \"interrupted\" if already retried)"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.bind,
        source,
    })?;
    let shutdown = CancellationToken::new();
    let role = config.role;
    let state = AppState {
        db: pool.clone(),
        backend,
        artifacts: Arc::new(store),
        config: Arc::new(config),
        logins: Arc::new(LoginLimiter::default()),
        run_bell: Arc::new(tokio::sync::Notify::new()),
        shutdown: shutdown.clone(),
        caches: Arc::default(),
    };
    let worker = role
        .runs_work()
        .then(|| tokio::spawn(worker::run_worker(state.clone())));
    ready(addr);
    let signal_token = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        signal_token.cancel();
    });
    let app = if role.serves_api() {
        router(state)
    } else {
        worker_router(state)
    }
    .into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await;
    shutdown.cancel();
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    pool.close().await;
    served.map_err(ServeError::Serve)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
