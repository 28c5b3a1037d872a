//! GitLab: the transport of the sticky merge request note (`report::sticky` decides what to
//! write) through the REST API (reqwest; any base URL, so self-managed instances and local fakes
//! work). Must not decide anything about the note itself.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use url::Url;

use crate::report::sticky::{CommentThread, Existing, Page, Posted, PublishError};

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

/// Largest answer read: a page of 100 notes, or one note.
const MAX_ANSWER_BYTES: u64 = 32 * 1024 * 1024;

/// The notes of one merge request.
pub struct MergeRequest {
    client: reqwest::Client,
    token: String,
    /// `…/projects/<project>/merge_requests/<iid>/notes`, the project as one encoded segment.
    notes: Url,
}

impl MergeRequest {
    /// Checks the target and builds the HTTP client; nothing is sent yet.
    pub fn connect(target: &GitlabTarget) -> Result<Self, PublishError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| PublishError::Setup(format!("cannot build the HTTP client: {e}")))?;
        let bad_url = || {
            PublishError::Setup(format!(
                "CI_API_V4_URL is not a usable URL: `{}`",
                target.api_url
            ))
        };
        let mut notes = Url::parse(&target.api_url).map_err(|_| bad_url())?;
        notes
            .path_segments_mut()
            .map_err(|()| bad_url())?
            .pop_if_empty()
            .extend([
                "projects",
                &target.project,
                "merge_requests",
                &target.mr_iid.to_string(),
                "notes",
            ]);
        Ok(Self {
            client,
            token: target.token.clone(),
            notes,
        })
    }

    fn note(&self, id: u64) -> Url {
        let mut url = self.notes.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.push(&id.to_string());
        }
        url
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        doing: &str,
    ) -> Result<reqwest::Response, PublishError> {
        let resp = request
            .header("PRIVATE-TOKEN", &self.token)
            .send()
            .await
            .map_err(|e| {
                PublishError::Api(format!(
                    "could not reach GitLab to {doing}: {}",
                    e.without_url()
                ))
            })?;
        check(resp, doing).await
    }
}

/// A request carrying a note body as JSON.
fn with_body(request: reqwest::RequestBuilder, body: &str) -> reqwest::RequestBuilder {
    request
        .header("content-type", "application/json")
        .body(serde_json::json!({ "body": body }).to_string())
}

#[async_trait]
impl CommentThread for MergeRequest {
    async fn list_page(&self, page: u32) -> Result<Page, PublishError> {
        let mut url = self.notes.clone();
        url.query_pairs_mut()
            .append_pair("per_page", "100")
            .append_pair("page", &page.to_string())
            .append_pair("sort", "asc")
            .append_pair("order_by", "created_at");
        let resp = self
            .send(self.client.get(url), "list the merge request's notes")
            .await?;
        let next = resp
            .headers()
            .get("x-next-page")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok());
        let notes: Vec<Note> = parse(resp).await?;
        Ok(Page {
            comments: notes
                .into_iter()
                .map(|n| Existing {
                    id: n.id,
                    body: n.body,
                })
                .collect(),
            next,
        })
    }

    async fn create(&self, body: &str) -> Result<Posted, PublishError> {
        let request = with_body(self.client.post(self.notes.clone()), body);
        let resp = self.send(request, "create the merge request note").await?;
        let note: Note = parse(resp).await?;
        Ok(Posted {
            id: note.id,
            url: None,
        })
    }

    async fn update(&self, id: u64, body: &str) -> Result<Posted, PublishError> {
        let request = with_body(self.client.put(self.note(id)), body);
        self.send(request, "update the merge request note").await?;
        Ok(Posted { id, url: None })
    }

    async fn delete(&self, id: u64) {
        let _ = self
            .client
            .delete(self.note(id))
            .header("PRIVATE-TOKEN", &self.token)
            .send()
            .await;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn target(api_url: &str, project: &str) -> GitlabTarget {
        GitlabTarget {
            api_url: api_url.into(),
            token: "t".into(),
            project: project.into(),
            mr_iid: 5,
        }
    }

    #[test]
    fn a_project_path_is_one_encoded_segment() {
        let mr = MergeRequest::connect(&target("https://gl.example/api/v4/", "group/sub models"))
            .expect("connect");
        assert_eq!(
            mr.notes.as_str(),
            "https://gl.example/api/v4/projects/group%2Fsub%20models/merge_requests/5/notes"
        );
        assert_eq!(
            mr.note(9).as_str(),
            "https://gl.example/api/v4/projects/group%2Fsub%20models/merge_requests/5/notes/9"
        );
    }

    #[test]
    fn an_unusable_api_url_is_a_setup_problem() {
        let err = MergeRequest::connect(&target("not a url", "42")).err();
        assert!(matches!(err, Some(PublishError::Setup(m)) if m.contains("CI_API_V4_URL")));
    }
}
