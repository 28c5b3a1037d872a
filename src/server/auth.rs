//! `/v1/auth`: register, log in (the OAuth2 password form the guide's clients send, or JSON) and
//! who am I. Failed logins are limited per email and client address.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{StatusCode, header};
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use utoipa::ToSchema;

use super::db::{new_id, now_ms, rfc3339};
use super::error::ApiError;
use super::extract::ApiJson;
use super::secrets;
use super::session::CurrentUser;
use super::state::AppState;

/// Shortest accepted password.
pub const MIN_PASSWORD: usize = 8;
/// Lifetime of a login token, seconds.
pub const TOKEN_TTL_SECS: u64 = 12 * 3600;

/// Registration and JSON login body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// The OAuth2 password form (`username` is the email).
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
}

/// A user, without the password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: String,
    pub email: String,
    pub created_at: String,
}

/// A login token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

fn normalise_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(user, domain)| !user.is_empty() && !domain.is_empty())
        && !email.chars().any(char::is_whitespace);
    if !valid {
        return Err(ApiError::unprocessable(
            "email: expected an address such as dev@example.com",
        ));
    }
    Ok(email)
}

/// Create an account.
#[utoipa::path(post, path = "/v1/auth/register", tag = "auth", request_body = Credentials,
    responses((status = 201, body = UserOut), (status = 409, description = "email taken"),
              (status = 422, description = "invalid email or password too short")))]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<UserOut>), ApiError> {
    let email = normalise_email(&body.email)?;
    if body.password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::unprocessable(format!(
            "password: must be at least {MIN_PASSWORD} characters"
        )));
    }
    if body.password.len() > 1024 {
        return Err(ApiError::unprocessable(
            "password: must be at most 1024 bytes",
        ));
    }
    let taken = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(&state.db)
        .await?;
    if taken.is_some() {
        return Err(ApiError::conflict("a user with this email already exists"));
    }
    let password = body.password;
    let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .map_err(|e| ApiError::internal("hashing task", e))?
        .map_err(|e| ApiError::internal("hashing a password", e))?;
    let id = new_id();
    let now = now_ms();
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(&email)
    .bind(&hash)
    .bind(now)
    .execute(&state.db)
    .await;
    if let Err(e) = inserted {
        if is_unique_violation(&e) {
            return Err(ApiError::conflict("a user with this email already exists"));
        }
        return Err(e.into());
    }
    tracing::info!(user = %id, "registered a user");
    Ok((
        StatusCode::CREATED,
        Json(UserOut {
            id,
            email,
            created_at: rfc3339(now),
        }),
    ))
}

/// Whether a database error is a unique-constraint violation (SQLite or PostgreSQL).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation() || d.message().to_lowercase().contains("unique")
        }
        _ => false,
    }
}

/// Log in with the OAuth2 password form (`username`, `password`) or JSON `{email, password}`.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded",
                 description = "the OAuth2 password form; JSON {email, password} is accepted too"),
    responses((status = 200, body = TokenOut), (status = 401, description = "wrong email or password"),
              (status = 429, description = "too many failed logins; see Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Result<Json<TokenOut>, ApiError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (email, password) = if is_form {
        match axum::Form::<LoginForm>::from_request(req, &state).await {
            Ok(axum::Form(f)) => (f.username, f.password),
            Err(rejection) => {
                return Err(ApiError::new(
                    if rejection.status().is_server_error() {
                        StatusCode::UNPROCESSABLE_ENTITY
                    } else {
                        rejection.status()
                    },
                    rejection.body_text(),
                ));
            }
        }
    } else {
        let ApiJson(c) = ApiJson::<Credentials>::from_request(req, &state).await?;
        (c.email, c.password)
    };
    let email = email.trim().to_lowercase();
    let key = (email.clone(), peer.ip().to_string());
    if let Some(wait) = state.logins.locked_for(&key) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many failed logins for this email; try again in {wait} s"),
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(&state.db)
        .await?;
    let (id, hash) = match row {
        Some(r) => (
            Some(r.try_get::<String, _>("id")?),
            r.try_get::<String, _>("password_hash")?,
        ),
        None => (None, String::new()),
    };
    let ok = tokio::task::spawn_blocking(move || {
        !hash.is_empty() && secrets::verify_password(&password, &hash)
    })
    .await
    .unwrap_or(false);
    let Some(id) = id.filter(|_| ok) else {
        state.logins.fail(key);
        return Err(ApiError::unauthorized("incorrect email or password"));
    };
    state.logins.clear(&key);
    let now_secs = u64::try_from(now_ms() / 1000).unwrap_or(0);
    let token = secrets::issue_token(&state.config.jwt_secret, &id, now_secs, TOKEN_TTL_SECS)
        .map_err(|e| ApiError::internal("signing a token", e))?;
    Ok(Json(TokenOut {
        access_token: token,
        token_type: "bearer".into(),
        expires_in: TOKEN_TTL_SECS,
    }))
}

/// The signed-in user.
#[utoipa::path(get, path = "/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 401)))]
pub async fn me(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<UserOut>, ApiError> {
    let row = sqlx::query("SELECT created_at FROM users WHERE id = $1")
        .bind(&user.id)
        .fetch_one(&state.db)
        .await?;
    Ok(Json(UserOut {
        id: user.id,
        email: user.email,
        created_at: rfc3339(row.try_get("created_at")?),
    }))
}
