//! Where a run happens, read from the CI system's environment: GitHub Actions or GitLab CI.

use crate::report::results::CiContext;

/// Reads the CI context through `var` (the process environment in production, a map in tests).
pub fn ci_context(var: &dyn Fn(&str) -> Option<String>) -> Option<CiContext> {
    let get = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    let num = |k: &str| get(k).and_then(|v| v.trim().parse::<u64>().ok());
    if get("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
        let repository = get("GITHUB_REPOSITORY");
        let run_id = num("GITHUB_RUN_ID");
        let run_url = match (get("GITHUB_SERVER_URL"), &repository, run_id) {
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
            sha: get("GITHUB_SHA"),
            git_ref: get("GITHUB_REF"),
            pr_number: get("GITHUB_EVENT_PATH").and_then(|p| pr_number(&p)),
            mr_iid: None,
            pipeline_id: run_id,
            run_url,
        });
    }
    if get("GITLAB_CI").is_some() {
        return Some(CiContext {
            provider: "gitlab".into(),
            repository: get("CI_PROJECT_PATH"),
            project_id: get("CI_PROJECT_ID"),
            sha: get("CI_COMMIT_SHA"),
            git_ref: get("CI_COMMIT_REF_NAME"),
            pr_number: None,
            mr_iid: num("CI_MERGE_REQUEST_IID"),
            pipeline_id: num("CI_PIPELINE_ID"),
            run_url: get("CI_PIPELINE_URL"),
        });
    }
    get("CI").filter(|v| v != "false").map(|_| CiContext {
        provider: "other".into(),
        ..CiContext::default()
    })
}

/// `pull_request.number` of a GitHub event payload file.
fn pr_number(path: &str) -> Option<u64> {
    let bytes = crate::files::read(
        std::path::Path::new(path),
        "CI event file",
        crate::files::CI_EVENT_LIMIT,
    )
    .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("pull_request")?.get("number")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn github_pull_request_context() {
        let dir = tempfile::tempdir().expect("tempdir");
        let event = dir.path().join("event.json");
        std::fs::write(&event, r#"{"pull_request":{"number":42}}"#).expect("write");
        let event = event.display().to_string();
        let ci = ci_context(&env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/models"),
            ("GITHUB_SHA", "abc123"),
            ("GITHUB_REF", "refs/pull/42/merge"),
            ("GITHUB_EVENT_PATH", &event),
            ("GITHUB_RUN_ID", "9001"),
            ("GITHUB_SERVER_URL", "https://github.com"),
        ]))
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
    fn gitlab_merge_request_context() {
        let ci = ci_context(&env(&[
            ("GITLAB_CI", "true"),
            ("CI", "true"),
            ("CI_PROJECT_PATH", "group/models"),
            ("CI_PROJECT_ID", "77"),
            ("CI_COMMIT_SHA", "def456"),
            ("CI_MERGE_REQUEST_IID", "5"),
            ("CI_PIPELINE_ID", "123"),
        ]))
        .expect("gitlab");
        assert_eq!(ci.provider, "gitlab");
        assert_eq!(ci.project_id.as_deref(), Some("77"));
        assert_eq!(ci.mr_iid, Some(5));
        assert_eq!(ci.pipeline_id, Some(123));
        assert_eq!(ci.pr_number, None);
    }

    #[test]
    fn no_ci_is_none_and_a_plain_ci_is_other() {
        assert_eq!(ci_context(&env(&[])), None);
        assert_eq!(
            ci_context(&env(&[("CI", "true")])).map(|c| c.provider),
            Some("other".to_string())
        );
    }
}
