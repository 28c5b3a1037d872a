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
        let row = sqlx::query("SELECT id, email FROM users WHERE id = $1")
            .bind(&user_id)
            .fetch_optional(&state.db)
            .await?
            .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
        Ok(Self {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
        })
    }
}
