//! `/v1/workspaces/{ws}/pipelines`: the guide's pipeline bodies (name, promptpack_ref,
//! device_matrix, gates), checked by `execute::check_pipeline`; the promptpack version they name
//! must exist and be published (424 otherwise).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use sqlx::Row as _;
use utoipa::ToSchema;

use super::access;
use super::db::{new_id, now_ms, rfc3339};
use super::error::ApiError;
use super::execute;
use super::extract::ApiJson;
use super::promptpacks;
use super::session::CurrentUser;
use super::state::AppState;

/// A pipeline: its body as given, plus `id`, `workspace_id` and times.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct PipelineOut(pub serde_json::Value);

/// A stored pipeline.
pub struct Pipeline {
    pub id: String,
    pub name: String,
    pub body: serde_json::Value,
    pub promptpack_id: String,
    pub promptpack_version: String,
}

/// Loads a pipeline of the workspace.
pub async fn load(state: &AppState, ws: &str, id: &str) -> Result<Option<Pipeline>, ApiError> {
    let row = sqlx::query("SELECT id, name, body, promptpack_id, promptpack_version FROM pipelines WHERE id = $1 AND workspace_id = $2")
        .bind(id).bind(ws)
        .fetch_optional(&state.db).await?;
    let Some(row) = row else { return Ok(None) };
    let body: String = row.try_get("body")?;
    Ok(Some(Pipeline {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        body: serde_json::from_str(&body).map_err(|e| ApiError::internal("stored pipeline", e))?,
        promptpack_id: row.try_get("promptpack_id")?,
        promptpack_version: row.try_get("promptpack_version")?,
    }))
}

async fn show(state: &AppState, ws: &str, id: &str) -> Result<PipelineOut, ApiError> {
    let row = sqlx::query(
        "SELECT body, created_at, updated_at FROM pipelines WHERE id = $1 AND workspace_id = $2",
    )
    .bind(id)
    .bind(ws)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| ApiError::not_found("pipeline"))?;
    let body: String = row.try_get("body")?;
    let mut v: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| ApiError::internal("stored pipeline", e))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("id".into(), id.into());
        o.insert("workspace_id".into(), ws.into());
        o.insert(
            "created_at".into(),
            rfc3339(row.try_get("created_at")?).into(),
        );
        o.insert(
            "updated_at".into(),
            rfc3339(row.try_get("updated_at")?).into(),
        );
    }
    Ok(PipelineOut(v))
}

/// Checks a body: 422 with issues, 424 when its promptpack version is missing or unpublished.
async fn checked(
    state: &AppState,
    ws: &str,
    mut body: serde_json::Value,
) -> Result<(String, execute::PromptpackRefOwned, serde_json::Value), ApiError> {
    if let Some(o) = body.as_object_mut() {
        for k in ["id", "workspace_id", "created_at", "updated_at"] {
            o.remove(k);
        }
    }
    let reference = execute::check_pipeline(&body).map_err(ApiError::issues)?;
    if promptpacks::published_content(state, ws, &reference.promptpack_id, &reference.version)
        .await?
        .is_none()
    {
        return Err(ApiError::failed_dependency(format!(
            "promptpack {} version {} does not exist in this workspace or is not published: \
             PUT /v1/workspaces/{{ws}}/promptpacks/{}/{}/publish first",
            reference.promptpack_id, reference.version, reference.promptpack_id, reference.version
        )));
    }
    let name = body
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or_default()
        .to_string();
    Ok((name, reference, body))
}

/// Create a pipeline.
#[utoipa::path(post, path = "/v1/workspaces/{ws}/pipelines", tag = "pipelines", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")),
    request_body(content = Object, description = "{name, promptpack_ref: {promptpack_id, version}, device_matrix, gates}"),
    responses((status = 201, body = PipelineOut), (status = 403), (status = 404), (status = 422),
              (status = 424, description = "the promptpack version does not exist or is not published")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<PipelineOut>), ApiError> {
    access::writer(&state, &user, &ws).await?;
    let (name, reference, body) = checked(&state, &ws, body).await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO pipelines (id, workspace_id, name, body, promptpack_id, promptpack_version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&id).bind(&ws).bind(&name).bind(body.to_string())
    .bind(&reference.promptpack_id).bind(&reference.version).bind(now_ms())
    .execute(&state.db).await?;
    Ok((StatusCode::CREATED, Json(show(&state, &ws, &id).await?)))
}

/// The workspace's pipelines.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/pipelines", tag = "pipelines", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")),
    responses((status = 200, body = [PipelineOut]), (status = 404)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
) -> Result<Json<Vec<PipelineOut>>, ApiError> {
    access::reader(&state, &user, &ws).await?;
    let rows =
        sqlx::query("SELECT id FROM pipelines WHERE workspace_id = $1 ORDER BY created_at, id")
            .bind(&ws)
            .fetch_all(&state.db)
            .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        out.push(show(&state, &ws, &id).await?);
    }
    Ok(Json(out))
}

/// One pipeline.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/pipelines/{id}", tag = "pipelines", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("id" = String, Path, description = "pipeline id")),
    responses((status = 200, body = PipelineOut), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, id)): Path<(String, String)>,
) -> Result<Json<PipelineOut>, ApiError> {
    access::reader(&state, &user, &ws).await?;
    Ok(Json(show(&state, &ws, &id).await?))
}

/// Replace a pipeline's body.
#[utoipa::path(put, path = "/v1/workspaces/{ws}/pipelines/{id}", tag = "pipelines", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("id" = String, Path, description = "pipeline id")),
    request_body(content = Object), responses((status = 200, body = PipelineOut), (status = 403), (status = 404), (status = 422), (status = 424)))]
pub async fn replace(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<PipelineOut>, ApiError> {
    access::writer(&state, &user, &ws).await?;
    load(&state, &ws, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("pipeline"))?;
    let (name, reference, body) = checked(&state, &ws, body).await?;
    sqlx::query("UPDATE pipelines SET name = $1, body = $2, promptpack_id = $3, promptpack_version = $4, updated_at = $5 WHERE id = $6 AND workspace_id = $7")
        .bind(&name).bind(body.to_string()).bind(&reference.promptpack_id).bind(&reference.version)
        .bind(now_ms()).bind(&id).bind(&ws)
        .execute(&state.db).await?;
    Ok(Json(show(&state, &ws, &id).await?))
}

/// Delete a pipeline and its finished runs (409 while one is queued or running).
#[utoipa::path(delete, path = "/v1/workspaces/{ws}/pipelines/{id}", tag = "pipelines", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("id" = String, Path, description = "pipeline id")),
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    access::writer(&state, &user, &ws).await?;
    load(&state, &ws, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("pipeline"))?;
    let busy = sqlx::query(
        "SELECT COUNT(*) AS n FROM runs WHERE pipeline_id = $1 AND status IN ('queued', 'running')",
    )
    .bind(&id)
    .fetch_one(&state.db)
    .await?;
    if busy.try_get::<i64, _>("n")? > 0 {
        return Err(ApiError::conflict(
            "the pipeline has queued or running runs",
        ));
    }
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "DELETE FROM run_attempts WHERE run_id IN \
         (SELECT id FROM runs WHERE pipeline_id = $1 AND workspace_id = $2)",
    )
    .bind(&id)
    .bind(&ws)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM runs WHERE pipeline_id = $1 AND workspace_id = $2")
        .bind(&id)
        .bind(&ws)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM pipelines WHERE id = $1 AND workspace_id = $2")
        .bind(&id)
        .bind(&ws)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    state.caches.forget_access();
    Ok(StatusCode::NO_CONTENT)
}
