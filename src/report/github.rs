//! GitHub: the job summary file, and the transport of the sticky PR comment (`report::sticky`
//! decides what to write) through the REST API (octocrab; any base URL, so GitHub Enterprise and
//! local fakes work). Must not decide anything about the comment itself.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use octocrab::Octocrab;
use octocrab::models::issues::Comment;

use crate::report::sticky::{CommentThread, Existing, Page, Posted, PublishError};

/// The public API, used when `GITHUB_API_URL` is not set.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// Where the comment goes.
#[derive(Debug, Clone)]
pub struct GithubTarget {
    /// REST API base URL (`https://api.github.com`, `https://ghe.example.com/api/v3`).
    pub api_url: String,
    /// A token allowed to write PR comments.
    pub token: String,
    /// `owner/repo`.
    pub repository: String,
    /// The pull request number.
    pub pr: u64,
}

/// Appends the report to the job summary file (`$GITHUB_STEP_SUMMARY`).
pub fn append_step_summary(path: &Path, markdown: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(markdown.as_bytes())?;
    f.write_all(b"\n")
}

/// The comments of one pull request, through octocrab.
pub struct PullRequest {
    crab: Octocrab,
    owner: String,
    repo: String,
    pr: u64,
}

impl PullRequest {
    /// Checks the target and builds the HTTP client; nothing is sent yet.
    pub fn connect(target: &GithubTarget) -> Result<Self, PublishError> {
        let (owner, repo) = target.repository.split_once('/').ok_or_else(|| {
            PublishError::Setup(format!(
                "GITHUB_REPOSITORY must be `owner/repo`, got `{}`",
                target.repository
            ))
        })?;
        let crab = Octocrab::builder()
            .base_uri(target.api_url.as_str())
            .map_err(|e| {
                PublishError::Setup(format!("bad GitHub API URL `{}`: {e}", target.api_url))
            })?
            .personal_token(target.token.clone())
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|e| PublishError::Setup(format!("cannot build the GitHub client: {e}")))?;
        Ok(Self {
            crab,
            owner: owner.to_string(),
            repo: repo.to_string(),
            pr: target.pr,
        })
    }

    fn issues(&self) -> octocrab::issues::IssueHandler<'_> {
        self.crab.issues(&self.owner, &self.repo)
    }
}

#[async_trait]
impl CommentThread for PullRequest {
    async fn list_page(&self, page: u32) -> Result<Page, PublishError> {
        let listed = self
            .issues()
            .list_comments(self.pr)
            .per_page(100)
            .page(page)
            .send()
            .await
            .map_err(|e| api_error(e, "list the PR's comments"))?;
        Ok(Page {
            next: listed.next.is_some().then_some(page + 1),
            comments: listed
                .items
                .into_iter()
                .map(|c| Existing {
                    id: c.id.into_inner(),
                    body: c.body.unwrap_or_default(),
                })
                .collect(),
        })
    }

    async fn create(&self, body: &str) -> Result<Posted, PublishError> {
        let c = self
            .issues()
            .create_comment(self.pr, body)
            .await
            .map_err(|e| api_error(e, "create the PR comment"))?;
        Ok(posted(&c))
    }

    async fn update(&self, id: u64, body: &str) -> Result<Posted, PublishError> {
        let c = self
            .issues()
            .update_comment(id.into(), body)
            .await
            .map_err(|e| api_error(e, "update the PR comment"))?;
        Ok(posted(&c))
    }

    async fn delete(&self, id: u64) {
        let _ = self.issues().delete_comment(id.into()).await;
    }
}

fn posted(c: &Comment) -> Posted {
    Posted {
        id: c.id.into_inner(),
        url: Some(c.html_url.to_string()),
    }
}

fn api_error(e: octocrab::Error, doing: &str) -> PublishError {
    match &e {
        octocrab::Error::GitHub { source, .. } => {
            let status = source.status_code.as_u16();
            if status == 403 || status == 401 {
                PublishError::Forbidden(format!(
                    "GitHub refused to {doing} ({status}: {}). The workflow token needs \
                     `permissions: pull-requests: write` (add it to the job). On pull requests \
                     from forks the token is always read-only: run `edgegate run` in \
                     `pull_request`, upload the results as an artifact, and post the comment \
                     with `edgegate report --comment github` from a `workflow_run` workflow \
                     (see examples/github/).",
                    crate::http::server_text(&source.message, false)
                ))
            } else {
                PublishError::Api(format!(
                    "GitHub could not {doing} ({status}: {})",
                    crate::http::server_text(&source.message, false)
                ))
            }
        }
        other => PublishError::Api(format!(
            "could not {doing} on GitHub: {}",
            crate::http::server_text(&other.to_string(), false)
        )),
    }
}
