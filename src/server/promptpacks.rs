//! `/v1/workspaces/{ws}/promptpacks`: versioned promptpacks. A version is checked on create
//! (`execute::check_promptpack`), can be published (idempotent, irreversible), and a published
//! version can be neither replaced nor deleted.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use utoipa::ToSchema;

use super::access;
use super::auth::is_unique_violation;
use super::db::{now_ms, rfc3339};
use super::error::ApiError;
use super::execute::{self, Issue};
use super::extract::ApiJson;
use super::session::CurrentUser;
use super::state::AppState;

/// Create body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PromptpackIn {
    pub promptpack_id: String,
    pub version: String,
    /// The promptpack document (`name`, `cases`, …).
    #[schema(value_type = Object)]
    pub content: serde_json::Value,
}

/// A promptpack version; `content` only when one version is asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct PromptpackOut {
    pub promptpack_id: String,
    pub version: String,
    /// sha256 of the canonical content.
    pub sha256: String,
    pub case_count: i64,
    pub published: bool,
    pub published_at: Option<String>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub content: Option<serde_json::Value>,
}

fn check_key(field: &str, value: &str) -> Option<Issue> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (!ok).then(|| Issue {
        pointer: format!("/{field}"),
        message: "expected 1 to 128 characters of letters, digits, '-', '_' or '.'".into(),
        help: None,
    })
}

fn out(row: &sqlx::any::AnyRow, with_content: bool) -> Result<PromptpackOut, ApiError> {
    let published_at: Option<i64> = row.try_get("published_at")?;
    let content = if with_content {
        let text: String = row.try_get("content")?;
        Some(serde_json::from_str(&text).map_err(|e| ApiError::internal("stored promptpack", e))?)
    } else {
        None
    };
    Ok(PromptpackOut {
        promptpack_id: row.try_get("promptpack_id")?,
        version: row.try_get("version")?,
        sha256: row.try_get("sha256")?,
        case_count: row.try_get("case_count")?,
        published: row.try_get::<i64, _>("published")? != 0,
        published_at: published_at.map(rfc3339),
        created_at: rfc3339(row.try_get("created_at")?),
        content,
    })
}

const COLUMNS: &str =
    "promptpack_id, version, sha256, case_count, published, published_at, created_at, content";

async fn find(
    state: &AppState,
    ws: &str,
    id: &str,
    version: &str,
) -> Result<Option<sqlx::any::AnyRow>, ApiError> {
    Ok(sqlx::query(&format!("SELECT {COLUMNS} FROM promptpacks WHERE workspace_id = $1 AND promptpack_id = $2 AND version = $3"))
        .bind(ws).bind(id).bind(version)
        .fetch_optional(&state.db).await?)
}

/// The content of a published promptpack version, for pipelines and runs.
pub async fn published_content(
    state: &AppState,
    ws: &str,
    id: &str,
    version: &str,
) -> Result<Option<serde_json::Value>, ApiError> {
    let Some(row) = find(state, ws, id, version).await? else {
        return Ok(None);
    };
    if row.try_get::<i64, _>("published")? == 0 {
        return Ok(None);
    }
    Ok(out(&row, true)?.content)
}

/// Create a promptpack version.
#[utoipa::path(post, path = "/v1/workspaces/{ws}/promptpacks", tag = "promptpacks", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")), request_body = PromptpackIn,
    responses((status = 201, body = PromptpackOut), (status = 403), (status = 404),
              (status = 409, description = "this id and version exist"), (status = 422, description = "detail lists {pointer, message}")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<PromptpackIn>,
) -> Result<(StatusCode, Json<PromptpackOut>), ApiError> {
    access::writer(&state, &user, &ws).await?;
    let mut issues: Vec<Issue> = [
        check_key("promptpack_id", &body.promptpack_id),
        check_key("version", &body.version),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (field, given) in [
        ("promptpack_id", &body.promptpack_id),
        ("version", &body.version),
    ] {
        if let Some(inner) = body.content.get(field).and_then(|v| v.as_str())
            && inner != given
        {
            issues.push(Issue {
                pointer: format!("/content/{field}"),
                message: format!("is {inner:?} but the request's {field} is {given:?}"),
                help: None,
            });
        }
    }
    let summary = match execute::check_promptpack(&body.content) {
        Ok(s) => Some(s),
        Err(found) => {
            issues.extend(found.into_iter().map(|i| Issue {
                pointer: if i.pointer.starts_with("/content") {
                    i.pointer
                } else {
                    format!("/content{}", i.pointer)
                },
                message: i.message,
                help: i.help,
            }));
            None
        }
    };
    let Some(summary) = summary.filter(|_| issues.is_empty()) else {
        return Err(ApiError::issues(issues));
    };
    if find(&state, &ws, &body.promptpack_id, &body.version)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(format!(
            "promptpack {} version {} already exists; publish it or create a new version",
            body.promptpack_id, body.version
        )));
    }
    let inserted = sqlx::query(
        "INSERT INTO promptpacks (workspace_id, promptpack_id, version, content, sha256, case_count, published, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
    )
    .bind(&ws).bind(&body.promptpack_id).bind(&body.version).bind(body.content.to_string())
    .bind(&summary.sha256).bind(i64::try_from(summary.case_count).unwrap_or(i64::MAX)).bind(now_ms())
    .execute(&state.db).await;
    if let Err(e) = inserted {
        if is_unique_violation(&e) {
            return Err(ApiError::conflict("this promptpack version already exists"));
        }
        return Err(e.into());
    }
    let row = find(&state, &ws, &body.promptpack_id, &body.version)
        .await?
        .ok_or_else(|| ApiError::internal("promptpack", "vanished"))?;
    Ok((StatusCode::CREATED, Json(out(&row, true)?)))
}

/// Every promptpack version of the workspace (without content).
#[utoipa::path(get, path = "/v1/workspaces/{ws}/promptpacks", tag = "promptpacks", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")),
    responses((status = 200, body = [PromptpackOut]), (status = 404)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
) -> Result<Json<Vec<PromptpackOut>>, ApiError> {
    access::reader(&state, &user, &ws).await?;
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM promptpacks WHERE workspace_id = $1 ORDER BY promptpack_id, created_at"))
        .bind(&ws).fetch_all(&state.db).await?;
    rows.iter()
        .map(|r| out(r, false))
        .collect::<Result<Vec<_>, _>>()
        .map(Json)
}

/// One promptpack version with its content.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/promptpacks/{promptpack_id}/{version}", tag = "promptpacks", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("promptpack_id" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = PromptpackOut), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, id, version)): Path<(String, String, String)>,
) -> Result<Json<PromptpackOut>, ApiError> {
    access::reader(&state, &user, &ws).await?;
    let row = find(&state, &ws, &id, &version)
        .await?
        .ok_or_else(|| ApiError::not_found("promptpack version"))?;
    Ok(Json(out(&row, true)?))
}

/// Publish a version: idempotent and irreversible.
#[utoipa::path(put, path = "/v1/workspaces/{ws}/promptpacks/{promptpack_id}/{version}/publish", tag = "promptpacks", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("promptpack_id" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = PromptpackOut), (status = 403), (status = 404)))]
pub async fn publish(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, id, version)): Path<(String, String, String)>,
) -> Result<Json<PromptpackOut>, ApiError> {
    access::writer(&state, &user, &ws).await?;
    find(&state, &ws, &id, &version)
        .await?
        .ok_or_else(|| ApiError::not_found("promptpack version"))?;
    sqlx::query("UPDATE promptpacks SET published = 1, published_at = $1 WHERE workspace_id = $2 AND promptpack_id = $3 AND version = $4 AND published = 0")
        .bind(now_ms()).bind(&ws).bind(&id).bind(&version)
        .execute(&state.db).await?;
    let row = find(&state, &ws, &id, &version)
        .await?
        .ok_or_else(|| ApiError::not_found("promptpack version"))?;
    Ok(Json(out(&row, true)?))
}

/// Delete an unpublished version (409 once published).
#[utoipa::path(delete, path = "/v1/workspaces/{ws}/promptpacks/{promptpack_id}/{version}", tag = "promptpacks", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("promptpack_id" = String, Path), ("version" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409, description = "published versions are permanent")))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, id, version)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    access::writer(&state, &user, &ws).await?;
    let row = find(&state, &ws, &id, &version)
        .await?
        .ok_or_else(|| ApiError::not_found("promptpack version"))?;
    if row.try_get::<i64, _>("published")? != 0 {
        return Err(ApiError::conflict(
            "a published promptpack version cannot be changed or deleted",
        ));
    }
    sqlx::query("DELETE FROM promptpacks WHERE workspace_id = $1 AND promptpack_id = $2 AND version = $3 AND published = 0")
        .bind(&ws).bind(&id).bind(&version)
        .execute(&state.db).await?;
    Ok(StatusCode::NO_CONTENT)
}
