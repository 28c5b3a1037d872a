//! `/v1/workspaces/{ws}/runs` and a pipeline's runs: queueing a run (the worker executes it),
//! its status, verdict, gates and per-device jobs, its results.json, JUnit and HTML report, and a
//! pipeline's paged history and history page.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use utoipa::{IntoParams, ToSchema};

use crate::results::Results;

use super::access;
use super::artifacts;
use super::db::{new_id, now_ms, rfc3339};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery};
use super::pages;
use super::pipelines;
use super::session::{CurrentUser, PageUser, view_key};
use super::state::AppState;

/// Start-a-run body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RunIn {
    pub pipeline_id: String,
    pub model_artifact_id: String,
    /// A run whose results the relative gates compare against; by default the pipeline's last
    /// passed run.
    pub baseline_run_id: Option<String>,
}

/// A run. `status`: queued, running, passed, failed or error (`error_detail` says why; a run that
/// could not be measured is `error`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunOut {
    pub id: String,
    pub workspace_id: String,
    pub pipeline_id: String,
    pub model_artifact_id: String,
    pub baseline_run_id: Option<String>,
    pub status: String,
    pub verdict: Option<String>,
    pub error_detail: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Per device: verdict, metrics, gate results, AI Hub jobs.
    #[schema(value_type = Vec<Object>)]
    pub devices: Vec<serde_json::Value>,
    /// Every gate result, with its device.
    #[schema(value_type = Vec<Object>)]
    pub gates: Vec<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub summary: Option<serde_json::Value>,
    /// The HTML report, openable in a browser: the link carries a page key (`?key=`) valid for
    /// 7 days that opens only this workspace's read-only pages, and only while you are a member.
    pub report_url: String,
    /// results.json (same key).
    pub results_url: String,
    /// JUnit XML (same key).
    pub junit_url: String,
    /// The pipeline's history page with a chart per gated metric and device (same key).
    pub history_url: String,
}

/// A page of runs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunPage {
    pub items: Vec<RunOut>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// Paging of a run list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Paging {
    /// At most this many runs (1–200, default 50).
    pub limit: Option<i64>,
    /// Skip this many of the newest runs.
    pub offset: Option<i64>,
}

const COLUMNS: &str = "id, workspace_id, pipeline_id, artifact_id, baseline_run_id, status, verdict, error_detail, results, created_at, started_at, finished_at";

/// A run row as the API shows it; `key` is the page key (`?key=…`) appended to its links.
fn out(row: &sqlx::any::AnyRow, key: &str) -> Result<RunOut, ApiError> {
    let id: String = row.try_get("id")?;
    let ws: String = row.try_get("workspace_id")?;
    let results: Option<String> = row.try_get("results")?;
    let results: Option<serde_json::Value> = results.and_then(|r| serde_json::from_str(&r).ok());
    let mut devices = Vec::new();
    let mut gates = Vec::new();
    if let Some(list) = results
        .as_ref()
        .and_then(|r| r.get("devices"))
        .and_then(|d| d.as_array())
    {
        for d in list {
            let name = d.get("name").cloned().unwrap_or_default();
            for g in d
                .get("gates")
                .and_then(|g| g.as_array())
                .into_iter()
                .flatten()
            {
                let mut g = g.clone();
                if let Some(o) = g.as_object_mut() {
                    o.insert("device".into(), name.clone());
                }
                gates.push(g);
            }
            devices.push(serde_json::json!({
                "name": name,
                "hub_device": d.get("hub_device"),
                "runtime": d.get("runtime"),
                "verdict": d.get("verdict"),
                "error": d.get("error"),
                "metrics": d.get("metrics"),
                "gates": d.get("gates"),
                "jobs": d.get("jobs"),
            }));
        }
    }
    let base = format!("/v1/workspaces/{ws}/runs/{id}");
    let pipeline_id: String = row.try_get("pipeline_id")?;
    Ok(RunOut {
        history_url: format!("/v1/workspaces/{ws}/pipelines/{pipeline_id}/history{key}"),
        pipeline_id,
        model_artifact_id: row.try_get("artifact_id")?,
        baseline_run_id: row.try_get("baseline_run_id")?,
        status: row.try_get("status")?,
        verdict: row.try_get("verdict")?,
        error_detail: row.try_get("error_detail")?,
        created_at: rfc3339(row.try_get("created_at")?),
        started_at: row.try_get::<Option<i64>, _>("started_at")?.map(rfc3339),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(rfc3339),
        devices,
        gates,
        summary: results.as_ref().and_then(|r| r.get("summary")).cloned(),
        report_url: format!("{base}/report{key}"),
        results_url: format!("{base}/results.json{key}"),
        junit_url: format!("{base}/junit.xml{key}"),
        id,
        workspace_id: ws,
    })
}

async fn find(state: &AppState, ws: &str, id: &str) -> Result<sqlx::any::AnyRow, ApiError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM runs WHERE id = $1 AND workspace_id = $2"
    ))
    .bind(id)
    .bind(ws)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| ApiError::not_found("run"))
}

/// Queue a run of a pipeline on a model artifact.
#[utoipa::path(post, path = "/v1/workspaces/{ws}/runs", tag = "runs", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")), request_body = RunIn,
    responses((status = 202, body = RunOut), (status = 403), (status = 404),
              (status = 422, description = "the pipeline, artifact or baseline run does not exist in this workspace")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<RunIn>,
) -> Result<(StatusCode, Json<RunOut>), ApiError> {
    access::writer(&state, &user, &ws).await?;
    if pipelines::load(&state, &ws, &body.pipeline_id)
        .await?
        .is_none()
    {
        return Err(ApiError::unprocessable(
            "pipeline_id: no such pipeline in this workspace",
        ));
    }
    if artifacts::load(&state, &ws, &body.model_artifact_id)
        .await?
        .is_none()
    {
        return Err(ApiError::unprocessable(
            "model_artifact_id: no such artifact in this workspace",
        ));
    }
    if let Some(baseline) = &body.baseline_run_id {
        let row = sqlx::query("SELECT results FROM runs WHERE id = $1 AND workspace_id = $2")
            .bind(baseline)
            .bind(&ws)
            .fetch_optional(&state.db)
            .await?
            .ok_or_else(|| {
                ApiError::unprocessable("baseline_run_id: no such run in this workspace")
            })?;
        if row.try_get::<Option<String>, _>("results")?.is_none() {
            return Err(ApiError::unprocessable(
                "baseline_run_id: that run has no results",
            ));
        }
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO runs (id, workspace_id, pipeline_id, artifact_id, baseline_run_id, status, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7)",
    )
    .bind(&id).bind(&ws).bind(&body.pipeline_id).bind(&body.model_artifact_id).bind(&body.baseline_run_id)
    .bind(&user.id).bind(now_ms())
    .execute(&state.db).await?;
    let queued = out(
        &find(&state, &ws, &id).await?,
        &view_key(&state, &user, &ws),
    )?;
    state.run_bell.notify_one();
    tracing::info!(workspace = %ws, run = %id, "queued a run");
    Ok((StatusCode::ACCEPTED, Json(queued)))
}

/// A run's status, verdict, gates and per-device jobs.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/runs/{id}", tag = "runs", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("id" = String, Path, description = "run id")),
    responses((status = 200, body = RunOut), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    access::reader(&state, &user, &ws).await?;
    let key = view_key(&state, &user, &ws);
    let cache_key = (ws, id);
    let body = match state.caches.ended_runs.get(&cache_key) {
        Some(body) => body,
        None => {
            let run = out(&find(&state, &cache_key.0, &cache_key.1).await?, KEY_SLOT)?;
            let body = Arc::new(
                serde_json::to_string(&run).map_err(|e| ApiError::internal("a run's answer", e))?,
            );
            if matches!(run.status.as_str(), "passed" | "failed" | "error") {
                state.caches.ended_runs.insert(cache_key, body.clone());
            }
            body
        }
    };
    // Only this caller's own key goes into this caller's answer.
    let body = body.replace(KEY_SLOT, &key);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Where a run's links take the caller's page key (`?key=…`) in an answer kept for every member.
const KEY_SLOT: &str = "?key=@@edgegate-page-key@@";

async fn stored(state: &AppState, ws: &str, id: &str, column: &str) -> Result<String, ApiError> {
    let row = sqlx::query(&format!(
        "SELECT status, {column} AS doc FROM runs WHERE id = $1 AND workspace_id = $2"
    ))
    .bind(id)
    .bind(ws)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| ApiError::not_found("run"))?;
    let status: String = row.try_get("status")?;
    row.try_get::<Option<String>, _>("doc")?
        .ok_or_else(|| ApiError::conflict(format!("the run is {status} and has no results")))
}

/// The run's results.json.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/runs/{id}/results.json", tag = "runs", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("id" = String, Path, description = "run id")),
    responses((status = 200, content_type = "application/json"), (status = 404), (status = 409, description = "no results yet")))]
pub async fn results_json(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((ws, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    access::reader(&state, &user, &ws).await?;
    let doc = stored(&state, &ws, &id, "results").await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], doc).into_response())
}

/// The run's JUnit XML.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/runs/{id}/junit.xml", tag = "runs", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("id" = String, Path, description = "run id")),
    responses((status = 200, content_type = "application/xml"), (status = 404), (status = 409)))]
pub async fn junit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((ws, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    access::reader(&state, &user, &ws).await?;
    let doc = stored(&state, &ws, &id, "junit").await?;
    Ok(([(header::CONTENT_TYPE, "application/xml")], doc).into_response())
}

/// The run's HTML report.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/runs/{id}/report", tag = "runs", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("id" = String, Path, description = "run id")),
    responses((status = 200, content_type = "text/html"), (status = 404), (status = 409)))]
pub async fn report(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((ws, id)): Path<(String, String)>,
) -> Result<Html<String>, ApiError> {
    access::reader(&state, &user, &ws).await?;
    let doc = stored(&state, &ws, &id, "results").await?;
    let results: Results =
        serde_json::from_str(&doc).map_err(|e| ApiError::internal("stored results", e))?;
    let markdown = stored(&state, &ws, &id, "markdown")
        .await
        .unwrap_or_default();
    let row = find(&state, &ws, &id).await?;
    let pipeline: String = row.try_get("pipeline_id")?;
    let base = format!("/v1/workspaces/{ws}/runs/{id}");
    let key = view_key(&state, &user, &ws);
    let links = pages::ReportLinks {
        results_json: format!("{base}/results.json{key}"),
        junit: format!("{base}/junit.xml{key}"),
        history: format!("/v1/workspaces/{ws}/pipelines/{pipeline}/history{key}"),
    };
    let title = format!("{} — run {id}", results.pipeline);
    Ok(Html(pages::run_report_html(
        &title, &results, &markdown, &links,
    )))
}

/// A pipeline's runs, newest first.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/pipelines/{id}/runs", tag = "runs", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("id" = String, Path, description = "pipeline id"), Paging),
    responses((status = 200, body = RunPage), (status = 404)))]
pub async fn list_for_pipeline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, pipeline)): Path<(String, String)>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<RunPage>, ApiError> {
    access::reader(&state, &user, &ws).await?;
    pipelines::load(&state, &ws, &pipeline)
        .await?
        .ok_or_else(|| ApiError::not_found("pipeline"))?;
    let limit = paging.limit.unwrap_or(50).clamp(1, 200);
    let offset = paging.offset.unwrap_or(0).max(0);
    let total: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM runs WHERE pipeline_id = $1 AND workspace_id = $2")
            .bind(&pipeline)
            .bind(&ws)
            .fetch_one(&state.db)
            .await?
            .try_get("n")?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM runs WHERE pipeline_id = $1 AND workspace_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(&pipeline).bind(&ws).bind(limit).bind(offset)
    .fetch_all(&state.db).await?;
    let key = view_key(&state, &user, &ws);
    let items = rows
        .iter()
        .map(|r| out(r, &key))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(RunPage {
        items,
        total,
        limit,
        offset,
    }))
}

/// A pipeline's history page (the last 200 runs, oldest first).
#[utoipa::path(get, path = "/v1/workspaces/{ws}/pipelines/{id}/history", tag = "runs", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("id" = String, Path, description = "pipeline id")),
    responses((status = 200, content_type = "text/html"), (status = 404)))]
pub async fn history(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((ws, pipeline)): Path<(String, String)>,
) -> Result<Html<String>, ApiError> {
    access::reader(&state, &user, &ws).await?;
    let p = pipelines::load(&state, &ws, &pipeline)
        .await?
        .ok_or_else(|| ApiError::not_found("pipeline"))?;
    let rows = sqlx::query("SELECT id, status, results, created_at FROM runs WHERE pipeline_id = $1 AND workspace_id = $2 ORDER BY created_at DESC, id DESC LIMIT 200")
        .bind(&pipeline).bind(&ws).fetch_all(&state.db).await?;
    let key = view_key(&state, &user, &ws);
    let mut points = Vec::with_capacity(rows.len());
    for row in rows.iter().rev() {
        let results: Option<Results> = row
            .try_get::<Option<String>, _>("results")?
            .and_then(|r| serde_json::from_str(&r).ok());
        let run_id: String = row.try_get("id")?;
        points.push(pages::HistoryPoint {
            report_url: if results.is_some() {
                format!("/v1/workspaces/{ws}/runs/{run_id}/report{key}")
            } else {
                String::new()
            },
            run_id,
            created_at: rfc3339(row.try_get("created_at")?),
            status: row.try_get("status")?,
            results,
        });
    }
    Ok(Html(pages::pipeline_history_html(&p.name, &points)))
}
