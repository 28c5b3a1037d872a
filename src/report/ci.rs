//! What the CI system tells us through its environment: which PR or MR this is, where its API
//! lives, which token to use, and whether the run comes from a fork. Read once into [`CiEnv`] so
//! tests can hand in their own values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The environment variables the report layer reads, snapshotted.
#[derive(Debug, Clone, Default)]
pub struct CiEnv {
    vars: BTreeMap<String, String>,
}

/// Every variable [`CiEnv::from_env`] reads.
const VARS: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_API_URL",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "GITHUB_EVENT_PATH",
    "GITHUB_EVENT_NAME",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_RUN_ID",
    "GITHUB_SERVER_URL",
    "GITLAB_CI",
    "CI_API_V4_URL",
    "CI_PROJECT_ID",
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

    /// A variable, when set and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// True inside GitHub Actions.
    pub fn is_github(&self) -> bool {
        self.get("GITHUB_ACTIONS") == Some("true")
    }

    /// True inside GitLab CI.
    pub fn is_gitlab(&self) -> bool {
        self.get("GITLAB_CI") == Some("true")
    }

    /// The GitHub event payload file.
    pub fn event_path(&self) -> Option<PathBuf> {
        self.get("GITHUB_EVENT_PATH").map(PathBuf::from)
    }

    /// The GitHub event payload, when the file is set and parses.
    pub fn github_event(&self) -> Option<serde_json::Value> {
        read_event(&self.event_path()?)
    }

    /// The PR number of the GitHub event (`pull_request`, `pull_request_target`, `issue_comment`,
    /// or the first PR of a `workflow_run`).
    pub fn github_pr_number(&self) -> Option<u64> {
        pr_number_from_event(&self.github_event()?)
    }

    /// The GitLab merge request iid.
    pub fn gitlab_mr_iid(&self) -> Option<u64> {
        self.get("CI_MERGE_REQUEST_IID")?.parse().ok()
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
            pr_number_from_event(&json!({"workflow_run": {"pull_requests": [{"number": 9}]}})),
            Some(9)
        );
        assert_eq!(
            pr_number_from_event(&json!({"workflow_run": {"pull_requests": []}})),
            None
        );
    }
}
