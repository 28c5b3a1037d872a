//! GitLab: the one sticky merge request note per pipeline, through the REST API (reqwest; any
//! base URL, so self-managed instances and local fakes work).

use std::time::Duration;

use serde::Deserialize;

use crate::report::publish::{CommentOutcome, PublishError};
use crate::report::sticky::{self, Decision, Existing};

/// Where the note goes.
#[derive(Debug, Clone)]
pub struct GitlabTarget {
    /// `CI_API_V4_URL`, e.g. `https://gitlab.example.com/api/v4`.
    pub api_url: String,
    /// A project access token (api scope) sent as `PRIVATE-TOKEN`; `CI_JOB_TOKEN` cannot write notes.
    pub token: String,
    /// `CI_PROJECT_ID` (numeric id or URL-encoded path).
    pub project: String,
    /// The merge request iid.
    pub mr_iid: u64,
}

#[derive(Debug, Deserialize)]
struct Note {
    id: u64,
    #[serde(default)]
    body: String,
}

/// Most pages read when looking for the note (100 notes a page).
const MAX_PAGES: u32 = 100;
/// Largest answer read: a page of 100 notes, or one note.
const MAX_ANSWER_BYTES: u64 = 32 * 1024 * 1024;

/// Creates or updates the pipeline's sticky note on the merge request.
pub async fn upsert_note(
    target: &GitlabTarget,
    pipeline: &str,
    run_id: Option<u64>,
    body: &str,
) -> Result<CommentOutcome, PublishError> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| PublishError::Setup(format!("cannot build the HTTP client: {e}")))?;
    let project = url_encode(&target.project);
    let notes_url = format!(
        "{}/projects/{project}/merge_requests/{}/notes",
        target.api_url.trim_end_matches('/'),
        target.mr_iid
    );

    let mut existing = Vec::new();
    let mut page = 1u32;
    loop {
        let resp = client
            .get(format!(
                "{notes_url}?per_page=100&page={page}&sort=asc&order_by=created_at"
            ))
            .header("PRIVATE-TOKEN", &target.token)
            .send()
            .await
            .map_err(|e| transport("list the merge request's notes", e))?;
        let resp = check(resp, "list the merge request's notes").await?;
        let next = resp
            .headers()
            .get("x-next-page")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok());
        let notes: Vec<Note> = parse(resp).await?;
        existing.extend(notes.into_iter().map(|n| Existing {
            id: n.id,
            body: n.body,
        }));
        match next {
            Some(n) if n > page && n <= MAX_PAGES => page = n,
            _ => break,
        }
    }

    let full = sticky::compose(pipeline, run_id, body);
    let payload = serde_json::json!({ "body": full });
    match sticky::decide(&existing, pipeline, run_id) {
        Decision::Create => {
            let resp = client
                .post(&notes_url)
                .header("PRIVATE-TOKEN", &target.token)
                .header("content-type", "application/json")
                .body(payload.to_string())
                .send()
                .await
                .map_err(|e| transport("create the merge request note", e))?;
            let note: Note = parse(check(resp, "create the merge request note").await?).await?;
            Ok(CommentOutcome::Created {
                id: note.id,
                url: None,
            })
        }
        Decision::Update { id, duplicates } => {
            let resp = client
                .put(format!("{notes_url}/{id}"))
                .header("PRIVATE-TOKEN", &target.token)
                .header("content-type", "application/json")
                .body(payload.to_string())
                .send()
                .await
                .map_err(|e| transport("update the merge request note", e))?;
            check(resp, "update the merge request note").await?;
            for dup in duplicates {
                let _ = client
                    .delete(format!("{notes_url}/{dup}"))
                    .header("PRIVATE-TOKEN", &target.token)
                    .send()
                    .await;
            }
            Ok(CommentOutcome::Updated { id, url: None })
        }
        Decision::Stale { id, newer_run } => Ok(CommentOutcome::Stale { id, newer_run }),
    }
}

async fn parse<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> Result<T, PublishError> {
    let bytes = crate::http::read_body(resp, MAX_ANSWER_BYTES)
        .await
        .map_err(|e| match e {
            crate::http::BodyError::Transport(e) => {
                PublishError::Api(format!("GitLab's reply was cut off: {}", e.without_url()))
            }
            other => PublishError::Api(format!("GitLab's reply was refused: {other}")),
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| PublishError::Api(format!("GitLab's reply does not parse: {e}")))
}

async fn check(resp: reqwest::Response, doing: &str) -> Result<reqwest::Response, PublishError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let (bytes, cut) = crate::http::read_prefix(resp, crate::http::ERROR_BODY_LIMIT).await;
    let text = crate::http::server_text(&String::from_utf8_lossy(&bytes), cut);
    if status.as_u16() == 401 || status.as_u16() == 403 {
        Err(PublishError::Forbidden(format!(
            "GitLab refused to {doing} ({status}: {text}). Set GITLAB_TOKEN to a project access \
             token with the `api` scope and at least the Reporter role; CI_JOB_TOKEN cannot \
             write merge request notes. Keep the token in a variable only the comment job can \
             read."
        )))
    } else {
        Err(PublishError::Api(format!(
            "GitLab could not {doing} ({status}: {text})"
        )))
    }
}

fn transport(doing: &str, e: reqwest::Error) -> PublishError {
    PublishError::Api(format!(
        "could not reach GitLab to {doing}: {}",
        e.without_url()
    ))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
