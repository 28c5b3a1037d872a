//! GitHub: the job summary file and the one sticky PR comment per pipeline, through the REST API
//! (octocrab; any base URL, so GitHub Enterprise and local fakes work).

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use octocrab::Octocrab;
use octocrab::models::issues::Comment;

use crate::report::publish::{CommentOutcome, PublishError};
use crate::report::sticky::{self, Decision, Existing};

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

/// Creates or updates the pipeline's sticky comment on the PR.
pub async fn upsert_comment(
    target: &GithubTarget,
    pipeline: &str,
    run_id: Option<u64>,
    body: &str,
) -> Result<CommentOutcome, PublishError> {
    let (owner, repo) = target.repository.split_once('/').ok_or_else(|| {
        PublishError::Setup(format!(
            "GITHUB_REPOSITORY must be `owner/repo`, got `{}`",
            target.repository
        ))
    })?;
    let crab = Octocrab::builder()
        .base_uri(target.api_url.as_str())
        .map_err(|e| PublishError::Setup(format!("bad GitHub API URL `{}`: {e}", target.api_url)))?
        .personal_token(target.token.clone())
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(30)))
        .build()
        .map_err(|e| PublishError::Setup(format!("cannot build the GitHub client: {e}")))?;
    let issues = crab.issues(owner, repo);

    let mut existing = Vec::new();
    let mut page = issues
        .list_comments(target.pr)
        .per_page(100)
        .send()
        .await
        .map_err(|e| api_error(e, "list the PR's comments"))?;
    loop {
        existing.extend(page.items.iter().map(existing_of));
        match crab
            .get_page::<Comment>(&page.next)
            .await
            .map_err(|e| api_error(e, "list the PR's comments"))?
        {
            Some(next) => page = next,
            None => break,
        }
    }

    let full = sticky::compose(pipeline, run_id, body);
    match sticky::decide(&existing, pipeline, run_id) {
        Decision::Create => {
            let c = issues
                .create_comment(target.pr, &full)
                .await
                .map_err(|e| api_error(e, "create the PR comment"))?;
            Ok(CommentOutcome::Created {
                id: c.id.into_inner(),
                url: Some(c.html_url.to_string()),
            })
        }
        Decision::Update { id, duplicates } => {
            let c = issues
                .update_comment(id.into(), &full)
                .await
                .map_err(|e| api_error(e, "update the PR comment"))?;
            for dup in duplicates {
                let _ = issues.delete_comment(dup.into()).await;
            }
            Ok(CommentOutcome::Updated {
                id,
                url: Some(c.html_url.to_string()),
            })
        }
        Decision::Stale { id, newer_run } => Ok(CommentOutcome::Stale { id, newer_run }),
    }
}

fn existing_of(c: &Comment) -> Existing {
    Existing {
        id: c.id.into_inner(),
        body: c.body.clone().unwrap_or_default(),
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
