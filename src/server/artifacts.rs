//! `/v1/workspaces/{ws}/artifacts`: model files. An upload streams to a temporary file while it
//! is hashed (never held whole in memory), is refused past the size limit (the temporary file
//! goes), then lands in the store addressed by its sha256; the same bytes and kind give the same
//! artifact again. The bytes live in the server's [`super::store::ArtifactStore`].

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;
use tokio::io::AsyncWriteExt as _;
use utoipa::ToSchema;

use super::access;
use super::db::{new_id, now_ms, rfc3339};
use super::error::ApiError;
use super::session::CurrentUser;
use super::state::AppState;

/// The model kinds an artifact may be.
pub const KINDS: &[&str] = &[
    "torchscript",
    "onnx",
    "tflite",
    "qnn_dlc",
    "qnn_context_binary",
];

/// An artifact's metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactOut {
    pub id: String,
    pub kind: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub filename: String,
    pub created_at: String,
    pub download_url: String,
}

/// A stored artifact, for runs.
pub struct Artifact {
    pub kind: String,
    pub sha256: String,
    pub filename: String,
}

/// Loads an artifact of the workspace.
pub async fn load(state: &AppState, ws: &str, id: &str) -> Result<Option<Artifact>, ApiError> {
    let row = sqlx::query(
        "SELECT kind, sha256, filename FROM artifacts WHERE id = $1 AND workspace_id = $2",
    )
    .bind(id)
    .bind(ws)
    .fetch_optional(&state.db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Artifact {
        kind: row.try_get("kind")?,
        sha256: row.try_get("sha256")?,
        filename: row.try_get("filename")?,
    }))
}

async fn show(state: &AppState, ws: &str, id: &str) -> Result<ArtifactOut, ApiError> {
    let row = sqlx::query("SELECT id, kind, sha256, size_bytes, filename, created_at FROM artifacts WHERE id = $1 AND workspace_id = $2")
        .bind(id).bind(ws).fetch_optional(&state.db).await?
        .ok_or_else(|| ApiError::not_found("artifact"))?;
    Ok(ArtifactOut {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        sha256: row.try_get("sha256")?,
        size_bytes: row.try_get("size_bytes")?,
        filename: row.try_get("filename")?,
        created_at: rfc3339(row.try_get("created_at")?),
        download_url: format!("/v1/workspaces/{ws}/artifacts/{id}/download"),
    })
}

fn check_kind(kind: &str) -> Result<String, ApiError> {
    let kind = kind.trim();
    if KINDS.contains(&kind) {
        Ok(kind.to_string())
    } else {
        Err(ApiError::unprocessable(format!(
            "kind: expected one of {}",
            KINDS.join(", ")
        )))
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(e.body_text())
    } else {
        ApiError::bad_request(format!("malformed multipart body: {}", e.body_text()))
    }
}

/// Upload a model (multipart: `file`, `kind`).
#[utoipa::path(post, path = "/v1/workspaces/{ws}/artifacts", tag = "artifacts", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id")),
    request_body(content_type = "multipart/form-data", description = "`file`: the model; `kind`: torchscript, onnx, tflite, qnn_dlc or qnn_context_binary"),
    responses((status = 201, body = ArtifactOut), (status = 200, body = ArtifactOut, description = "the same bytes were uploaded before"),
              (status = 400), (status = 403), (status = 404), (status = 413), (status = 422)))]
pub async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ws): Path<String>,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<ArtifactOut>), ApiError> {
    access::writer(&state, &user, &ws).await?;
    let limit = state.config.artifact_limit;
    let tmp_dir = state.artifacts.staging_dir().to_path_buf();
    let mut kind: Option<String> = None;
    let mut stored: Option<(tempfile::NamedTempFile, String, u64, String)> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("kind") => {
                let text = field.text().await.map_err(multipart_error)?;
                kind = Some(check_kind(&text)?);
            }
            Some("file") => {
                if stored.is_some() {
                    return Err(ApiError::unprocessable("file: send one file"));
                }
                let filename = field
                    .file_name()
                    .unwrap_or("model")
                    .chars()
                    .take(255)
                    .collect::<String>();
                let tmp = tempfile::Builder::new()
                    .prefix("upload-")
                    .tempfile_in(&tmp_dir)
                    .map_err(|e| ApiError::internal("creating an upload file", e))?;
                let std_file = tmp
                    .reopen()
                    .map_err(|e| ApiError::internal("opening an upload file", e))?;
                let mut out = tokio::fs::File::from_std(std_file);
                let mut hasher = Sha256::new();
                let mut size: u64 = 0;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    size += chunk.len() as u64;
                    if size > limit {
                        drop(out);
                        drop(tmp);
                        return Err(ApiError::too_large(format!(
                            "the artifact is larger than the limit of {limit} bytes"
                        )));
                    }
                    hasher.update(&chunk);
                    out.write_all(&chunk)
                        .await
                        .map_err(|e| ApiError::internal("writing an upload", e))?;
                }
                out.flush()
                    .await
                    .map_err(|e| ApiError::internal("writing an upload", e))?;
                out.sync_all()
                    .await
                    .map_err(|e| ApiError::internal("writing an upload", e))?;
                stored = Some((tmp, hex::encode(hasher.finalize()), size, filename));
            }
            _ => {}
        }
    }
    let kind =
        kind.ok_or_else(|| ApiError::unprocessable("kind: missing; send a `kind` form field"))?;
    let (tmp, sha256, size, filename) = stored.ok_or_else(|| {
        ApiError::unprocessable("file: missing; send the model as a `file` form field")
    })?;
    if size == 0 {
        return Err(ApiError::unprocessable("file: the uploaded file is empty"));
    }
    state
        .artifacts
        .put(tmp, &sha256)
        .map_err(|e| ApiError::internal("storing an artifact", e))?;
    let existing = sqlx::query(
        "SELECT id FROM artifacts WHERE workspace_id = $1 AND sha256 = $2 AND kind = $3",
    )
    .bind(&ws)
    .bind(&sha256)
    .bind(&kind)
    .fetch_optional(&state.db)
    .await?;
    if let Some(row) = existing {
        let id: String = row.try_get("id")?;
        return Ok((StatusCode::OK, Json(show(&state, &ws, &id).await?)));
    }
    let id = new_id();
    sqlx::query("INSERT INTO artifacts (id, workspace_id, sha256, kind, filename, size_bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&id).bind(&ws).bind(&sha256).bind(&kind).bind(&filename)
        .bind(i64::try_from(size).unwrap_or(i64::MAX)).bind(now_ms())
        .execute(&state.db).await?;
    tracing::info!(workspace = %ws, artifact = %id, %sha256, size, "stored an artifact");
    Ok((StatusCode::CREATED, Json(show(&state, &ws, &id).await?)))
}

/// An artifact's metadata.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/artifacts/{id}", tag = "artifacts", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("id" = String, Path, description = "artifact id")),
    responses((status = 200, body = ArtifactOut), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, id)): Path<(String, String)>,
) -> Result<Json<ArtifactOut>, ApiError> {
    access::reader(&state, &user, &ws).await?;
    Ok(Json(show(&state, &ws, &id).await?))
}

/// An artifact's bytes.
#[utoipa::path(get, path = "/v1/workspaces/{ws}/artifacts/{id}/download", tag = "artifacts", security(("bearer" = [])),
    params(("ws" = String, Path, description = "workspace id"), ("id" = String, Path, description = "artifact id")),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404)))]
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((ws, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    access::reader(&state, &user, &ws).await?;
    let artifact = load(&state, &ws, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("artifact"))?;
    let len = state
        .artifacts
        .size(&artifact.sha256)
        .map_err(|e| ApiError::internal("opening a stored artifact", e))?;
    let file = state
        .artifacts
        .open(&artifact.sha256)
        .map_err(|e| ApiError::internal("opening a stored artifact", e))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let disposition = format!(
        "attachment; filename=\"{}\"",
        artifact
            .filename
            .chars()
            .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
            .collect::<String>()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
