//! The one reader of the CI system's environment (GitHub Actions, GitLab CI): where a run
//! happens, which PR or MR it belongs to, where the API lives, and whether it comes from a fork.
//! The engine writes [`CiEnv::context`] into results.json and the report layer comments with the
//! same reader, so both always name the same PR. Uses `results` only; must not reach into any
//! layer above it (engine, report, commands).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::results::CiContext;

/// The CI environment variables EdgeGate reads, snapshotted so tests and the server can hand in
/// their own values.
#[derive(Debug, Clone, Default)]
pub struct CiEnv {
    vars: BTreeMap<String, String>,
}

/// Every variable [`CiEnv::from_env`] reads.
const VARS: &[&str] = &[
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_API_URL",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "GITHUB_SHA",
    "GITHUB_REF",
    "GITHUB_EVENT_PATH",
    "GITHUB_EVENT_NAME",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_RUN_ID",
    "GITHUB_SERVER_URL",
    "GITLAB_CI",
    "CI_API_V4_URL",
    "CI_PROJECT_ID",
    "CI_PROJECT_PATH",
    "CI_COMMIT_SHA",
    "CI_COMMIT_REF_NAME",
    "CI_MERGE_REQUEST_IID",
    "CI_PIPELINE_ID",
    "CI_PIPELINE_URL",
    "CI_JOB_URL",
    "GITLAB_TOKEN",
];

impl CiEnv {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_pairs(
            VARS.iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v))),
        )
    }

    /// Builds an environment from explicit pairs (tests, the server).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A variable, trimmed, when set and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    fn number(&self, key: &str) -> Option<u64> {
        self.get(key)?.parse().ok()
    }

    /// True inside GitHub Actions.
    pub fn is_github(&self) -> bool {
        self.get("GITHUB_ACTIONS") == Some("true")
    }

    /// True inside GitLab CI.
    pub fn is_gitlab(&self) -> bool {
        self.get("GITLAB_CI") == Some("true")
    }

    /// The GitHub event payload, when `GITHUB_EVENT_PATH` is set and the file parses.
    pub fn github_event(&self) -> Option<serde_json::Value> {
        read_event(&PathBuf::from(self.get("GITHUB_EVENT_PATH")?))
    }

    /// The PR number of the GitHub event (`pull_request`, `pull_request_target`, `issue_comment`,
    /// or the first PR of a `workflow_run`).
    pub fn github_pr_number(&self) -> Option<u64> {
        pr_number_from_event(&self.github_event()?)
    }

    /// The GitLab merge request iid.
    pub fn gitlab_mr_iid(&self) -> Option<u64> {
        self.number("CI_MERGE_REQUEST_IID")
    }

    /// Where this run happens, as results.json records it; `None` outside CI.
    pub fn context(&self) -> Option<CiContext> {
        if self.is_github() {
            let repository = self.get("GITHUB_REPOSITORY").map(String::from);
            let run_id = self.number("GITHUB_RUN_ID");
            let run_url = match (self.get("GITHUB_SERVER_URL"), &repository, run_id) {
                (Some(server), Some(repo), Some(id)) => Some(format!(
                    "{}/{repo}/actions/runs/{id}",
                    server.trim_end_matches('/')
                )),
                _ => None,
            };
            return Some(CiContext {
                provider: "github".into(),
                repository,
                project_id: None,
                sha: self.get("GITHUB_SHA").map(String::from),
                git_ref: self.get("GITHUB_REF").map(String::from),
                pr_number: self.github_pr_number(),
                mr_iid: None,
                pipeline_id: run_id,
                run_url,
            });
        }
        if self.is_gitlab() {
            return Some(CiContext {
                provider: "gitlab".into(),
                repository: self.get("CI_PROJECT_PATH").map(String::from),
                project_id: self.get("CI_PROJECT_ID").map(String::from),
                sha: self.get("CI_COMMIT_SHA").map(String::from),
                git_ref: self.get("CI_COMMIT_REF_NAME").map(String::from),
                pr_number: None,
                mr_iid: self.gitlab_mr_iid(),
                pipeline_id: self.number("CI_PIPELINE_ID"),
                run_url: self.get("CI_PIPELINE_URL").map(String::from),
            });
        }
        self.get("CI").filter(|v| *v != "false").map(|_| CiContext {
            provider: "other".into(),
            ..CiContext::default()
        })
    }
}

fn read_event(path: &Path) -> Option<serde_json::Value> {
    match crate::files::read(path, "CI event file", crate::files::CI_EVENT_LIMIT) {
        Ok(bytes) => serde_json::from_slice(&bytes).ok(),
        Err(crate::files::FileError::NotFound { .. }) => None,
        Err(e) => {
            tracing::warn!("ignoring the CI event: {e}");
            None
        }
    }
}

/// The PR number in a GitHub event payload, wherever the event kind keeps it.
pub fn pr_number_from_event(event: &serde_json::Value) -> Option<u64> {
    event
        .pointer("/pull_request/number")
        .or_else(|| event.pointer("/issue/number"))
        .or_else(|| event.pointer("/workflow_run/pull_requests/0/number"))
        .or_else(|| event.get("number"))
        .and_then(serde_json::Value::as_u64)
}

/// True when the GitHub event is a pull request whose head lives in another repository (a fork),
/// so anything it runs is untrusted and must not see a write token.
pub fn is_fork_pr_event(event: &serde_json::Value) -> bool {
    let head = event
        .pointer("/pull_request/head/repo/full_name")
        .and_then(serde_json::Value::as_str);
    let base = event
        .pointer("/pull_request/base/repo/full_name")
        .and_then(serde_json::Value::as_str);
    let flagged = event
        .pointer("/pull_request/head/repo/fork")
        .and_then(serde_json::Value::as_bool);
    match (head, base) {
        (Some(h), Some(b)) => !h.eq_ignore_ascii_case(b),
        (None, Some(_)) => true,
        _ => flagged.unwrap_or(false),
    }
}

/// True when this process runs for a fork pull request on GitHub (reads `GITHUB_EVENT_PATH`).
pub fn is_fork_pr() -> bool {
    CiEnv::from_env()
        .github_event()
        .is_some_and(|e| is_fork_pr_event(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(pairs: &[(&str, &str)]) -> CiEnv {
        CiEnv::from_pairs(pairs.iter().copied())
    }

    fn event_file(dir: &tempfile::TempDir, event: &serde_json::Value) -> String {
        let path = dir.path().join("event.json");
        std::fs::write(&path, event.to_string()).expect("write event");
        path.display().to_string()
    }

    #[test]
    fn github_pull_request_context() {
        let dir = tempfile::tempdir().expect("tempdir");
        let event = event_file(&dir, &json!({"pull_request": {"number": 42}}));
        let ci = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/models"),
            ("GITHUB_SHA", "abc123"),
            ("GITHUB_REF", "refs/pull/42/merge"),
            ("GITHUB_EVENT_PATH", &event),
            ("GITHUB_RUN_ID", "9001"),
            ("GITHUB_SERVER_URL", "https://github.com"),
        ])
        .context()
        .expect("github");
        assert_eq!(ci.provider, "github");
        assert_eq!(ci.repository.as_deref(), Some("acme/models"));
        assert_eq!(ci.pr_number, Some(42));
        assert_eq!(ci.pipeline_id, Some(9001));
        assert_eq!(
            ci.run_url.as_deref(),
            Some("https://github.com/acme/models/actions/runs/9001")
        );
    }

    #[test]
    fn a_workflow_run_records_the_pr_the_comment_step_finds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let event = event_file(
            &dir,
            &json!({"action": "completed",
                "workflow_run": {"id": 77, "pull_requests": [{"number": 9}]}}),
        );
        let ci = env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", "workflow_run"),
            ("GITHUB_EVENT_PATH", &event),
        ]);
        assert_eq!(ci.github_pr_number(), Some(9));
        assert_eq!(ci.context().and_then(|c| c.pr_number), Some(9));
    }

    #[test]
    fn gitlab_merge_request_context() {
        let ci = env(&[
            ("GITLAB_CI", "true"),
            ("CI", "true"),
            ("CI_PROJECT_PATH", "group/models"),
            ("CI_PROJECT_ID", "77"),
            ("CI_COMMIT_SHA", "def456"),
            ("CI_MERGE_REQUEST_IID", "5"),
            ("CI_PIPELINE_ID", "123"),
        ])
        .context()
        .expect("gitlab");
        assert_eq!(ci.provider, "gitlab");
        assert_eq!(ci.project_id.as_deref(), Some("77"));
        assert_eq!(ci.mr_iid, Some(5));
        assert_eq!(ci.pipeline_id, Some(123));
        assert_eq!(ci.pr_number, None);
    }

    #[test]
    fn no_ci_is_none_and_a_plain_ci_is_other() {
        assert_eq!(env(&[]).context(), None);
        assert_eq!(env(&[("CI", "false")]).context(), None);
        assert_eq!(
            env(&[("CI", "true")]).context().map(|c| c.provider),
            Some("other".to_string())
        );
    }

    #[test]
    fn fork_detection_compares_head_and_base_repositories() {
        let same = json!({"pull_request": {"number": 3,
            "head": {"repo": {"full_name": "acme/model", "fork": false}},
            "base": {"repo": {"full_name": "acme/model"}}}});
        let fork = json!({"pull_request": {"number": 3,
            "head": {"repo": {"full_name": "mallory/model", "fork": true}},
            "base": {"repo": {"full_name": "acme/model"}}}});
        let deleted_fork = json!({"pull_request": {"number": 3,
            "head": {"repo": null}, "base": {"repo": {"full_name": "acme/model"}}}});
        assert!(!is_fork_pr_event(&same));
        assert!(is_fork_pr_event(&fork));
        assert!(is_fork_pr_event(&deleted_fork));
        assert!(!is_fork_pr_event(&json!({"ref": "refs/heads/main"})));
    }

    #[test]
    fn pr_number_is_found_in_every_event_kind() {
        assert_eq!(
            pr_number_from_event(&json!({"pull_request": {"number": 7}})),
            Some(7)
        );
        assert_eq!(
            pr_number_from_event(&json!({"issue": {"number": 8}})),
            Some(8)
        );
        assert_eq!(
            pr_number_from_event(&json!({"workflow_run": {"pull_requests": [{"number": 9}]}})),
            Some(9)
        );
        assert_eq!(
            pr_number_from_event(&json!({"workflow_run": {"pull_requests": []}})),
            None
        );
    }
}
