//! The `/api/v1/` routes of the simulator, one file per resource (devices, models, uploads,
//! datasets, jobs, results, job summaries), answered as protobuf with the exact content type the
//! official client requires (protocol notes §2, §3, §4, §9). This file holds the route table and
//! the token and client-version check in front of it; the route files never import it.

mod datasets;
mod devices;
mod jobs;
mod models;
mod results;
mod summaries;
mod uploads;
mod wire;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::reply::detail;
use super::state::{Counters, SimState};

/// The API routes, behind token and client-version checks.
pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/api/v1/devices/", get(devices::list_devices))
        .route("/api/v1/frameworks/", get(devices::list_frameworks))
        .route(
            "/api/v1/models/",
            get(models::list_models).post(models::create_model),
        )
        .route(
            "/api/v1/projects/{project}/models/",
            get(models::list_models).post(models::create_model),
        )
        .route("/api/v1/models/{id}/", get(models::get_model))
        .route(
            "/api/v1/models/{id}/multipart_upload/",
            get(uploads::multipart_urls).post(uploads::multipart_complete),
        )
        .route(
            "/api/v1/models/{id}/upload_complete/",
            axum::routing::post(uploads::credentials_complete),
        )
        .route("/api/v1/models/{id}/download/", get(models::download_model))
        .route(
            "/api/v1/datasets/",
            get(datasets::list_datasets).post(datasets::create_dataset),
        )
        .route(
            "/api/v1/projects/{project}/datasets/",
            get(datasets::list_datasets).post(datasets::create_dataset),
        )
        .route(
            "/api/v1/datasets/{id}/",
            get(datasets::get_dataset).patch(datasets::patch_dataset),
        )
        .route(
            "/api/v1/datasets/{id}/upload_url/",
            get(uploads::dataset_upload_url),
        )
        .route(
            "/api/v1/datasets/{id}/upload_complete/",
            axum::routing::post(uploads::credentials_complete),
        )
        .route(
            "/api/v1/datasets/{id}/download_data/",
            get(datasets::download_dataset),
        )
        .route("/api/v1/jobs/", get(jobs::list_jobs).post(jobs::create_job))
        .route(
            "/api/v1/projects/{project}/jobs/",
            axum::routing::post(jobs::create_job),
        )
        .route(
            "/api/v1/jobs/{id}/",
            get(jobs::get_job).patch(jobs::patch_job),
        )
        .route(
            "/api/v1/jobs/{id}/result/",
            get(results::job_result_handler),
        )
        .route(
            "/api/v1/jobs/{id}/device_runs/{attempt}/artifact_list/{kind}/",
            get(results::artifact_list),
        )
        .route("/api/v1/job_summaries/", get(summaries::job_summaries))
        .route(
            "/api/v1/projects/{project}/job_summaries/",
            get(summaries::job_summaries),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), require_auth))
        .with_state(state)
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
