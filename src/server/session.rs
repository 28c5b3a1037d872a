//! Who is calling: the bearer token of `Authorization` checked against the JWT secret and the
//! users table. Missing, malformed, expired or foreign tokens are 401.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sqlx::Row as _;

use super::error::ApiError;
use super::secrets;
use super::state::AppState;

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    pub email: String,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized("not authenticated: send Authorization: Bearer <token>")
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| ApiError::unauthorized("not authenticated: expected a Bearer token"))?;
        let user_id = secrets::verify_token(&state.config.jwt_secret, token)
            .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
        user_by_id(state, user_id, "invalid or expired token").await
    }
}

/// The user of a verified token's subject (cached briefly), or 401 when it no longer exists.
async fn user_by_id(
    state: &AppState,
    user_id: String,
    unknown: &str,
) -> Result<CurrentUser, ApiError> {
    if let Some(email) = state.caches.users.get(&user_id) {
        return Ok(CurrentUser { id: user_id, email });
    }
    let row = sqlx::query("SELECT id, email FROM users WHERE id = $1")
        .bind(&user_id)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::unauthorized(unknown.to_string()))?;
    let user = CurrentUser {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
    };
    state
        .caches
        .users
        .insert(user.id.clone(), user.email.clone());
    Ok(user)
}

/// How long a page link's key (`?key=`) stays valid.
pub const VIEW_KEY_TTL_SECS: u64 = 7 * 24 * 3600;

/// The caller of a read-only page or download (run report, history, results.json, JUnit): a
/// bearer token as for the API, or, so that a link opens in a browser, a page key `?key=` signed
/// for this workspace (see [`view_key`]). Membership is checked by the handler as usual.
#[derive(Debug, Clone)]
pub struct PageUser(pub CurrentUser);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            return CurrentUser::from_request_parts(parts, state)
                .await
                .map(Self);
        }
        let key = parts
            .uri
            .query()
            .and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "key")
                    .map(|(_, v)| v.into_owned())
            })
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "not authenticated: send Authorization: Bearer <token>, or open the link with its ?key= as the API gave it",
                )
            })?;
        // /v1/workspaces/{ws}/…
        let ws = parts.uri.path().split('/').nth(3).unwrap_or_default();
        let user_id =
            secrets::verify_view_key(&state.config.jwt_secret, &key, ws).ok_or_else(|| {
                ApiError::unauthorized(
                    "this link's key is invalid or expired; get a new link from the API",
                )
            })?;
        user_by_id(state, user_id, "invalid or expired key")
            .await
            .map(Self)
    }
}

/// A page key for `user` in `workspace_id`, as `?key=…` to append to a page link; empty when
/// signing fails (the link then needs a bearer token).
pub fn view_key(state: &AppState, user: &CurrentUser, workspace_id: &str) -> String {
    let cache_key = (user.id.clone(), workspace_id.to_string());
    if let Some(key) = state.caches.page_keys.get(&cache_key) {
        return key;
    }
    let key = sign_view_key(state, user, workspace_id);
    if !key.is_empty() {
        state.caches.page_keys.insert(cache_key, key.clone());
    }
    key
}

fn sign_view_key(state: &AppState, user: &CurrentUser, workspace_id: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    secrets::issue_view_key(
        &state.config.jwt_secret,
        &user.id,
        workspace_id,
        now,
        VIEW_KEY_TTL_SECS,
    )
    .map(|k| format!("?key={k}"))
    .unwrap_or_default()
}
