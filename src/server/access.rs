//! Workspace membership: a caller's role in a workspace, and the rule that a non-member sees 404
//! (a workspace's existence is not revealed) while a member without the needed role sees 403.

use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use utoipa::ToSchema;

use super::error::ApiError;
use super::session::CurrentUser;
use super::state::AppState;

/// A member's role, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Viewer,
}

impl Role {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    /// Owners and admins change resources; viewers only read.
    pub fn can_write(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// The caller's role in `workspace_id`, or 404 when they are not a member (or it does not exist).
pub async fn role_in(
    state: &AppState,
    user: &CurrentUser,
    workspace_id: &str,
) -> Result<Role, ApiError> {
    let key = (user.id.clone(), workspace_id.to_string());
    let role = match state.caches.roles.get(&key) {
        Some(role) => role,
        None => {
            let row =
                sqlx::query("SELECT role FROM members WHERE workspace_id = $1 AND user_id = $2")
                    .bind(workspace_id)
                    .bind(&user.id)
                    .fetch_optional(&state.db)
                    .await?
                    .ok_or_else(|| ApiError::not_found("workspace"))?;
            let role: String = row.try_get("role")?;
            state.caches.roles.insert(key, role.clone());
            role
        }
    };
    Role::parse(&role).ok_or_else(|| ApiError::internal("stored role", role))
}

/// 404 for non-members; any member may read.
pub async fn reader(
    state: &AppState,
    user: &CurrentUser,
    workspace_id: &str,
) -> Result<Role, ApiError> {
    role_in(state, user, workspace_id).await
}

/// 404 for non-members, 403 for viewers.
pub async fn writer(
    state: &AppState,
    user: &CurrentUser,
    workspace_id: &str,
) -> Result<Role, ApiError> {
    let role = role_in(state, user, workspace_id).await?;
    if !role.can_write() {
        return Err(ApiError::forbidden(format!(
            "your role in this workspace is {}; this needs owner or admin",
            role.as_str()
        )));
    }
    Ok(role)
}
