//! `/v1/workspaces/{ws}/integrations/qaihub`: the workspace's AI Hub token, sealed with the
//! master key at rest. Responses and logs show only its last four characters.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use utoipa::ToSchema;

use crate::hub::{ApiToken, HubConfig, HubEnv, HubError, HubOptions};

use super::access;
use super::db::{now_ms, rfc3339};
use super::error::ApiError;
use super::extract::ApiJson;
use super::secrets;
use super::session::CurrentUser;
use super::state::AppState;

const PROVIDER: &str = "qaihub";

/// Connect or rotate body.
#[derive(Deserialize, ToSchema)]
pub struct TokenIn {
    /// The AI Hub API token; stored encrypted, never returned.
    pub token: String,
}

/// Enable or disable body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct IntegrationPatch {
    pub enabled: bool,
}

/// The integration as shown: never the token.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationOut {
    pub provider: String,
    /// `active` or `disabled`.
    pub status: String,
    pub enabled: bool,
    pub token_last4: String,
    pub created_at: String,
    pub updated_at: String,
}

async fn load(state: &AppState, ws: &str) -> Result<Option<IntegrationOut>, ApiError> {
    let row = sqlx::query(
        "SELECT token_last4, enabled, created_at, updated_at FROM integrations WHERE workspace_id = $1 AND provider = $2",
    )
    .bind(ws)
    .bind(PROVIDER)
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let enabled = row.try_get::<i64, _>("enabled")? != 0;
    Ok(Some(IntegrationOut {
        provider: PROVIDER.into(),
        status: if enabled { "active" } else { "disabled" }.into(),
        enabled,
        token_last4: row.try_get("token_last4")?,
        created_at: rfc3339(row.try_get("created_at")?),
        updated_at: rfc3339(row.try_get("updated_at")?),
    }))
}

/// The decrypted token of an enabled integration, or `None` when there is none.
pub async fn hub_token(state: &AppState, ws: &str) -> Result<Option<String>, ApiError> {
    let row = sqlx::query(
        "SELECT token_sealed FROM integrations WHERE workspace_id = $1 AND provider = $2 AND enabled = 1",
    )
    .bind(ws)
    .bind(PROVIDER)
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let sealed: String = row.try_get("token_sealed")?;
    secrets::open(&state.config.master_key, ws, &sealed)
        .map(Some)
        .map_err(|e| ApiError::internal("opening an ai hub token", e))
}

/// The AI Hub configuration for a token: `QAIHUB_API_URL` of the server, or the public service.
pub fn hub_config(hub_url: Option<&str>, token: &str) -> Result<HubConfig, HubError> {
    crate::hub::config::resolve(
        &HubOptions {
            api_token: Some(ApiToken::new(token)),
            api_url: hub_url.map(String::from),
            web_url: None,
        },
        &HubEnv {
            client_ini: Some("/dev/null".into()),
            ..HubEnv::default()
        },
    )
}

/// Connect AI Hub, or rotate its token (201 on first connect, 200 on rotation).
#[utoipa::path(post, path = "/v1/workspaces/{ws}/integrations/qaihub", tag = "integrations", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")), request_body = TokenIn,
    responses((status = 201, body = IntegrationOut), (status = 200, body = IntegrationOut, description = "token rotated"),
              (status = 403), (status = 404), (status = 422)))]
pub async fn put(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<TokenIn>,
) -> Result<(StatusCode, Json<IntegrationOut>), ApiError> {
    access::writer(&state, &user, &ws).await?;
    let token = body.token.trim();
    if token.is_empty()
        || token.len() > 4096
        || token.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ApiError::unprocessable(
            "token: expected the AI Hub API token (no spaces, at most 4096 characters)",
        ));
    }
    let sealed = secrets::seal(&state.config.master_key, &ws, token)
        .map_err(|e| ApiError::internal("sealing a token", e))?;
    let last4 = secrets::last4(token);
    let now = now_ms();
    let existed = load(&state, &ws).await?.is_some();
    if existed {
        sqlx::query("UPDATE integrations SET token_sealed = $1, token_last4 = $2, enabled = 1, updated_at = $3 WHERE workspace_id = $4 AND provider = $5")
            .bind(&sealed).bind(&last4).bind(now).bind(&ws).bind(PROVIDER)
            .execute(&state.db).await?;
    } else {
        sqlx::query("INSERT INTO integrations (workspace_id, provider, token_sealed, token_last4, enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $5)")
            .bind(&ws).bind(PROVIDER).bind(&sealed).bind(&last4).bind(now)
            .execute(&state.db).await?;
    }
    tracing::info!(workspace = %ws, token_last4 = %last4, "ai hub token {}", if existed { "rotated" } else { "connected" });
    let out = load(&state, &ws)
        .await?
        .ok_or_else(|| ApiError::internal("integration", "vanished"))?;
    Ok((
        if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(out),
    ))
}

/// The AI Hub integration (without the token).
#[utoipa::path(get, path = "/v1/workspaces/{ws}/integrations/qaihub", tag = "integrations", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")),
    responses((status = 200, body = IntegrationOut), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
) -> Result<Json<IntegrationOut>, ApiError> {
    access::reader(&state, &user, &ws).await?;
    load(&state, &ws)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("ai hub integration"))
}

/// Enable or disable the integration without forgetting the token.
#[utoipa::path(patch, path = "/v1/workspaces/{ws}/integrations/qaihub", tag = "integrations", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")), request_body = IntegrationPatch,
    responses((status = 200, body = IntegrationOut), (status = 403), (status = 404)))]
pub async fn patch(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<IntegrationPatch>,
) -> Result<Json<IntegrationOut>, ApiError> {
    access::writer(&state, &user, &ws).await?;
    let done = sqlx::query("UPDATE integrations SET enabled = $1, updated_at = $2 WHERE workspace_id = $3 AND provider = $4")
        .bind(i64::from(body.enabled)).bind(now_ms()).bind(&ws).bind(PROVIDER)
        .execute(&state.db).await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("ai hub integration"));
    }
    load(&state, &ws)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("ai hub integration"))
}

/// Delete the integration and its token.
#[utoipa::path(delete, path = "/v1/workspaces/{ws}/integrations/qaihub", tag = "integrations", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
) -> Result<StatusCode, ApiError> {
    access::writer(&state, &user, &ws).await?;
    let done = sqlx::query("DELETE FROM integrations WHERE workspace_id = $1 AND provider = $2")
        .bind(&ws)
        .bind(PROVIDER)
        .execute(&state.db)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::not_found("ai hub integration"));
    }
    Ok(StatusCode::NO_CONTENT)
}
