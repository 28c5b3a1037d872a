//! TEMPORARY placeholder until the `h12-runs` branch lands: validation of promptpacks and
//! pipelines, and running a pipeline with the CLI's engine. The signatures are the contract.

use std::path::PathBuf;

use tokio_util::sync::CancellationToken;

use crate::results::Results;

/// One problem in a request body, located by a JSON pointer into it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Issue {
    /// JSON pointer into the request body.
    pub pointer: String,
    /// What is wrong there.
    pub message: String,
}

/// What the server stores about a valid promptpack.
#[derive(Debug, Clone)]
pub struct PromptpackSummary {
    /// sha256 of the canonical content.
    pub sha256: String,
    /// Number of cases.
    pub case_count: usize,
}

/// Checks a promptpack's content.
pub fn check_promptpack(content: &serde_json::Value) -> Result<PromptpackSummary, Vec<Issue>> {
    let Some(cases) = content.get("cases").and_then(|c| c.as_array()) else {
        return Err(vec![Issue {
            pointer: "/cases".into(),
            message: "expected an array of cases".into(),
        }]);
    };
    let canonical = serde_json::to_vec(content).unwrap_or_default();
    use sha2::Digest as _;
    Ok(PromptpackSummary {
        sha256: hex::encode(sha2::Sha256::digest(&canonical)),
        case_count: cases.len(),
    })
}

/// The promptpack version a pipeline names.
#[derive(Debug, Clone)]
pub struct PromptpackRefOwned {
    /// `promptpack_ref.promptpack_id`.
    pub promptpack_id: String,
    /// `promptpack_ref.version`.
    pub version: String,
}

/// Checks a pipeline body and returns the promptpack version it names.
pub fn check_pipeline(body: &serde_json::Value) -> Result<PromptpackRefOwned, Vec<Issue>> {
    let mut issues = Vec::new();
    if !body.get("name").is_some_and(|n| n.is_string()) {
        issues.push(Issue {
            pointer: "/name".into(),
            message: "expected a string".into(),
        });
    }
    let r = body.get("promptpack_ref");
    let field = |k: &str| r.and_then(|r| r.get(k)).and_then(|v| v.as_str());
    let (Some(id), Some(version)) = (field("promptpack_id"), field("version")) else {
        issues.push(Issue {
            pointer: "/promptpack_ref".into(),
            message: "expected {promptpack_id, version}".into(),
        });
        return Err(issues);
    };
    if !issues.is_empty() {
        return Err(issues);
    }
    Ok(PromptpackRefOwned {
        promptpack_id: id.into(),
        version: version.into(),
    })
}

/// Everything one run needs.
pub struct RunJob {
    pub pipeline: serde_json::Value,
    pub promptpack: serde_json::Value,
    pub model_path: PathBuf,
    pub model_kind: String,
    pub hub_url: Option<String>,
    pub hub_token: Option<String>,
    pub baseline: Option<Results>,
    pub work_dir: PathBuf,
    pub cache_path: PathBuf,
}

/// What a finished run produced.
pub struct RunOutcome {
    pub results: Results,
    pub results_json: String,
    pub junit_xml: String,
    pub markdown: String,
}

/// Why a run produced no results.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    #[error("invalid run input")]
    Invalid(Vec<Issue>),
    #[error("not measured: {0}")]
    NotMeasured(String),
    #[error("run failed: {0}")]
    Failed(String),
}

/// Runs a pipeline (placeholder: not wired yet).
pub async fn execute_run(
    job: RunJob,
    cancel: CancellationToken,
) -> Result<RunOutcome, ExecuteError> {
    let _ = (job, cancel);
    Err(ExecuteError::Failed("not wired yet".into()))
}
