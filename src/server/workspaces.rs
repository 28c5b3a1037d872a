//! `/v1/workspaces`: workspaces and their members. The creator is the owner; only members see a
//! workspace; owners and admins manage members; only an owner grants or removes ownership or
//! deletes the workspace (with everything in it).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use utoipa::ToSchema;

use super::access::{self, Role};
use super::db::{new_id, now_ms, rfc3339};
use super::error::ApiError;
use super::extract::ApiJson;
use super::session::CurrentUser;
use super::state::AppState;

/// Create or rename body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WorkspaceIn {
    pub name: String,
}

/// A workspace, with the caller's role in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceOut {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub updated_at: String,
}

/// Add-member body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberIn {
    pub email: String,
    pub role: Role,
}

/// A member of a workspace.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub added_at: String,
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::unprocessable(
            "name: expected 1 to 200 characters",
        ));
    }
    Ok(name.to_string())
}

async fn load(state: &AppState, id: &str, role: Role) -> Result<WorkspaceOut, ApiError> {
    let row = sqlx::query("SELECT id, name, created_at, updated_at FROM workspaces WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    Ok(WorkspaceOut {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role,
        created_at: rfc3339(row.try_get("created_at")?),
        updated_at: rfc3339(row.try_get("updated_at")?),
    })
}

/// Create a workspace; the caller becomes its owner.
#[utoipa::path(post, path = "/v1/workspaces", tag = "workspaces", security(("bearer" = [])),
    request_body = WorkspaceIn, responses((status = 201, body = WorkspaceOut), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<WorkspaceIn>,
) -> Result<(StatusCode, Json<WorkspaceOut>), ApiError> {
    let name = check_name(&body.name)?;
    let id = new_id();
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO workspaces (id, name, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(&id)
        .bind(&name)
        .bind(&user.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO members (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)")
        .bind(&id)
        .bind(&user.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(load(&state, &id, Role::Owner).await?),
    ))
}

/// The workspaces the caller is a member of.
#[utoipa::path(get, path = "/v1/workspaces", tag = "workspaces", security(("bearer" = [])),
    responses((status = 200, body = [WorkspaceOut])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<WorkspaceOut>>, ApiError> {
    let rows = sqlx::query(
        "SELECT w.id, w.name, w.created_at, w.updated_at, m.role FROM workspaces w \
         JOIN members m ON m.workspace_id = w.id WHERE m.user_id = $1 ORDER BY w.created_at, w.id",
    )
    .bind(&user.id)
    .fetch_all(&state.db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let role: String = row.try_get("role")?;
        out.push(WorkspaceOut {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            created_at: rfc3339(row.try_get("created_at")?),
            updated_at: rfc3339(row.try_get("updated_at")?),
        });
    }
    Ok(Json(out))
}

/// One workspace.
#[utoipa::path(get, path = "/v1/workspaces/{ws}", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")),
    responses((status = 200, body = WorkspaceOut), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
) -> Result<Json<WorkspaceOut>, ApiError> {
    let role = access::reader(&state, &user, &ws).await?;
    Ok(Json(load(&state, &ws, role).await?))
}

/// Rename a workspace (owner or admin).
#[utoipa::path(patch, path = "/v1/workspaces/{ws}", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")), request_body = WorkspaceIn,
    responses((status = 200, body = WorkspaceOut), (status = 403), (status = 404), (status = 422)))]
pub async fn rename(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<WorkspaceIn>,
) -> Result<Json<WorkspaceOut>, ApiError> {
    let role = access::writer(&state, &user, &ws).await?;
    let name = check_name(&body.name)?;
    sqlx::query("UPDATE workspaces SET name = $1, updated_at = $2 WHERE id = $3")
        .bind(&name)
        .bind(now_ms())
        .bind(&ws)
        .execute(&state.db)
        .await?;
    Ok(Json(load(&state, &ws, role).await?))
}

/// Delete a workspace and everything in it (owner only).
#[utoipa::path(delete, path = "/v1/workspaces/{ws}", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
) -> Result<StatusCode, ApiError> {
    if access::role_in(&state, &user, &ws).await? != Role::Owner {
        return Err(ApiError::forbidden("only an owner can delete a workspace"));
    }
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "DELETE FROM run_attempts WHERE run_id IN (SELECT id FROM runs WHERE workspace_id = $1)",
    )
    .bind(&ws)
    .execute(&mut *tx)
    .await?;
    for table in [
        "runs",
        "pipelines",
        "promptpacks",
        "artifacts",
        "tasks",
        "integrations",
        "members",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE workspace_id = $1"))
            .bind(&ws)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM workspaces WHERE id = $1")
        .bind(&ws)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    state.caches.forget_access();
    Ok(StatusCode::NO_CONTENT)
}

async fn members_of(state: &AppState, ws: &str) -> Result<Vec<MemberOut>, ApiError> {
    let rows = sqlx::query(
        "SELECT m.user_id, u.email, m.role, m.created_at FROM members m JOIN users u ON u.id = m.user_id \
         WHERE m.workspace_id = $1 ORDER BY m.created_at, u.email",
    )
    .bind(ws)
    .fetch_all(&state.db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let role: String = row.try_get("role")?;
        out.push(MemberOut {
            user_id: row.try_get("user_id")?,
            email: row.try_get("email")?,
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            added_at: rfc3339(row.try_get("created_at")?),
        });
    }
    Ok(out)
}

/// The members of a workspace.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/members", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")),
    responses((status = 200, body = [MemberOut]), (status = 404)))]
pub async fn list_members(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
) -> Result<Json<Vec<MemberOut>>, ApiError> {
    access::reader(&state, &user, &ws).await?;
    Ok(Json(members_of(&state, &ws).await?))
}

/// Add a registered user by email, or change their role (owner or admin; owner to grant owner).
#[utoipa::path(post, path = "/v1/workspaces/{ws}/members", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")), request_body = MemberIn,
    responses((status = 201, body = MemberOut), (status = 403), (status = 404), (status = 422)))]
pub async fn add_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
    ApiJson(body): ApiJson<MemberIn>,
) -> Result<(StatusCode, Json<MemberOut>), ApiError> {
    let mine = access::writer(&state, &user, &ws).await?;
    if body.role == Role::Owner && mine != Role::Owner {
        return Err(ApiError::forbidden("only an owner can make another owner"));
    }
    let email = body.email.trim().to_lowercase();
    let row = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::unprocessable("email: no registered user has this email"))?;
    let member_id: String = row.try_get("id")?;
    let existing = sqlx::query("SELECT role FROM members WHERE workspace_id = $1 AND user_id = $2")
        .bind(&ws)
        .bind(&member_id)
        .fetch_optional(&state.db)
        .await?;
    let now = now_ms();
    if let Some(existing) = existing {
        let role: String = existing.try_get("role")?;
        if role == "owner" && mine != Role::Owner {
            return Err(ApiError::forbidden(
                "only an owner can change an owner's role",
            ));
        }
        if role == "owner" && body.role != Role::Owner {
            ensure_another_owner(&state, &ws, &member_id).await?;
        }
        sqlx::query("UPDATE members SET role = $1 WHERE workspace_id = $2 AND user_id = $3")
            .bind(body.role.as_str())
            .bind(&ws)
            .bind(&member_id)
            .execute(&state.db)
            .await?;
        state.caches.forget_access();
    } else {
        sqlx::query(
            "INSERT INTO members (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&ws)
        .bind(&member_id)
        .bind(body.role.as_str())
        .bind(now)
        .execute(&state.db)
        .await?;
        state.caches.forget_access();
    }
    let out = members_of(&state, &ws)
        .await?
        .into_iter()
        .find(|m| m.user_id == member_id)
        .ok_or_else(|| ApiError::internal("member", "vanished after insert"))?;
    Ok((StatusCode::CREATED, Json(out)))
}

async fn ensure_another_owner(state: &AppState, ws: &str, leaving: &str) -> Result<(), ApiError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM members WHERE workspace_id = $1 AND role = 'owner' AND user_id <> $2")
        .bind(ws)
        .bind(leaving)
        .fetch_one(&state.db)
        .await?;
    let n: i64 = row.try_get("n")?;
    if n == 0 {
        return Err(ApiError::conflict("a workspace keeps at least one owner"));
    }
    Ok(())
}

/// Remove a member (owner or admin; owner to remove an owner; the last owner stays).
#[utoipa::path(delete, path = "/v1/workspaces/{ws}/members/{user_id}", tag = "workspaces", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("user_id" = String, Path, description = "user id")),
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn remove_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, member_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let mine = access::writer(&state, &user, &ws).await?;
    let row = sqlx::query("SELECT role FROM members WHERE workspace_id = $1 AND user_id = $2")
        .bind(&ws)
        .bind(&member_id)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))?;
    let role: String = row.try_get("role")?;
    if role == "owner" {
        if mine != Role::Owner {
            return Err(ApiError::forbidden("only an owner can remove an owner"));
        }
        ensure_another_owner(&state, &ws, &member_id).await?;
    }
    sqlx::query("DELETE FROM members WHERE workspace_id = $1 AND user_id = $2")
        .bind(&ws)
        .bind(&member_id)
        .execute(&state.db)
        .await?;
    state.caches.forget_access();
    Ok(StatusCode::NO_CONTENT)
}
