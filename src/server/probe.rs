//! Capability probes: `POST …/capabilities/probe` starts a background task that lists the AI Hub
//! devices with the workspace's token; `GET …/tasks/{id}` reports it.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use sqlx::Row as _;
use utoipa::ToSchema;

use crate::http::Deadline;
use crate::hub::devices::DeviceQuery;
use crate::hub::proto::Device;
use crate::hub::{ClientOptions, HubClient};

use super::access;
use super::db::{new_id, now_ms, rfc3339};
use super::error::{ApiError, chain};
use super::integrations;
use super::session::CurrentUser;
use super::state::AppState;

/// How long one probe may take.
const PROBE_LIMIT: Duration = Duration::from_secs(120);

/// A started task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskStarted {
    pub task_id: String,
    pub status: String,
}

/// A background task: `queued`, `running`, `succeeded` (with `result`) or `failed` (with `error`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    pub id: String,
    pub task_id: String,
    pub kind: String,
    pub status: String,
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Start a probe of the AI Hub devices this workspace's token can use.
#[utoipa::path(post, path = "/v1/workspaces/{ws}/capabilities/probe", tag = "capabilities", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")),
    responses((status = 202, body = TaskStarted), (status = 403), (status = 404),
              (status = 424, description = "no AI Hub integration is configured or it is disabled")))]
pub async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
) -> Result<(StatusCode, Json<TaskStarted>), ApiError> {
    access::writer(&state, &user, &ws).await?;
    let Some(token) = integrations::hub_token(&state, &ws).await? else {
        return Err(ApiError::failed_dependency(
            "no enabled AI Hub integration in this workspace: POST /v1/workspaces/{ws}/integrations/qaihub with {\"token\": …} first",
        ));
    };
    let id = new_id();
    let now = now_ms();
    sqlx::query("INSERT INTO tasks (id, workspace_id, kind, status, created_at, updated_at) VALUES ($1, $2, 'probe', 'queued', $3, $3)")
        .bind(&id).bind(&ws).bind(now)
        .execute(&state.db).await?;
    let task = id.clone();
    let bg = state.clone();
    tokio::spawn(async move { run_probe(bg, task, token).await });
    Ok((
        StatusCode::ACCEPTED,
        Json(TaskStarted {
            task_id: id,
            status: "queued".into(),
        }),
    ))
}

async fn set(
    state: &AppState,
    id: &str,
    status: &str,
    result: Option<String>,
    error: Option<String>,
) {
    let r = sqlx::query(
        "UPDATE tasks SET status = $1, result = $2, error = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(status)
    .bind(result)
    .bind(error)
    .bind(now_ms())
    .bind(id)
    .execute(&state.db)
    .await;
    if let Err(e) = r {
        tracing::error!(task = %id, "failed to record a task's status: {e}");
    }
}

async fn run_probe(state: AppState, id: String, token: String) {
    set(&state, &id, "running", None, None).await;
    let outcome = tokio::select! {
        r = list_devices(state.config.hub_url.as_deref(), &token) => r,
        _ = state.shutdown.cancelled() => Err("the server stopped".to_string()),
    };
    match outcome {
        Ok(devices) => {
            let result = serde_json::json!({ "devices": devices.iter().map(device_json).collect::<Vec<_>>() });
            set(&state, &id, "succeeded", Some(result.to_string()), None).await;
        }
        Err(e) => {
            tracing::warn!(task = %id, token_last4 = %super::secrets::last4(&token), "probe failed: {e}");
            set(&state, &id, "failed", None, Some(e)).await;
        }
    }
}

async fn list_devices(hub_url: Option<&str>, token: &str) -> Result<Vec<Device>, String> {
    let config = integrations::hub_config(hub_url, token).map_err(|e| chain(&e))?;
    let client = HubClient::new(
        config,
        ClientOptions {
            deadline: Some(Deadline::after(PROBE_LIMIT, "the probe's time limit")),
            ..ClientOptions::default()
        },
    )
    .map_err(|e| chain(&e))?;
    client
        .list_devices(&DeviceQuery::default())
        .await
        .map_err(|e| chain(&e))
}

fn attr(d: &Device, key: &str) -> Vec<String> {
    d.attributes
        .iter()
        .filter_map(|a| a.split_once(':'))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
        .collect()
}

/// One device as a probe reports it: name, os, chipset, runtimes it supports, raw attributes.
fn device_json(d: &Device) -> serde_json::Value {
    serde_json::json!({
        "name": d.name,
        "os": d.os,
        "chipset": attr(d, "chipset").into_iter().next(),
        "soc_description": d.soc_description,
        "runtimes": attr(d, "framework"),
        "attributes": d.attributes,
    })
}

/// A task's status and result.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/tasks/{task_id}", tag = "capabilities", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("task_id" = String, Path, description = "task id")),
    responses((status = 200, body = TaskOut), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, id)): Path<(String, String)>,
) -> Result<Json<TaskOut>, ApiError> {
    access::reader(&state, &user, &ws).await?;
    let row = sqlx::query("SELECT id, kind, status, result, error, created_at, updated_at FROM tasks WHERE id = $1 AND workspace_id = $2")
        .bind(&id).bind(&ws)
        .fetch_optional(&state.db).await?
        .ok_or_else(|| ApiError::not_found("task"))?;
    let result: Option<String> = row.try_get("result")?;
    Ok(Json(TaskOut {
        id: row.try_get("id")?,
        task_id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        status: row.try_get("status")?,
        result: result.and_then(|r| serde_json::from_str(&r).ok()),
        error: row.try_get("error")?,
        created_at: rfc3339(row.try_get("created_at")?),
        updated_at: rfc3339(row.try_get("updated_at")?),
    }))
}
