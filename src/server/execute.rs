//! One pipeline run of the `/v1` API, with the same loader, engine and reports as `edgegate run`,
//! and the checks of pipeline and promptpack bodies before they are stored.
//!
//! A run never copies engine, eval or report code: [`execute_run`] writes an `edgegate.yaml` into
//! the run's own empty folder (the stored pipeline, the artifact linked in as `model.<ext>`, the
//! published promptpack inline), loads it with every path confined to that folder, builds the plan
//! and runs it through [`crate::engine::run::run`], then renders JUnit and Markdown from the
//! results. The AI Hub token comes from the job only (never this process's environment or
//! client.ini) and is written nowhere.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::config::types::PromptpackRef;
use crate::config::{Diagnostic, ModelKind, Severity};
use crate::engine::error::RunError;
use crate::engine::progress::ProgressMode;
use crate::hub::{ApiToken, HubEnv, HubOptions};
use crate::results::Results;

/// One problem in a request body: where (a JSON pointer into the body) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// JSON pointer into the request body (`""` for the body as a whole).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it, when there is something specific to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Issue {
    fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
            help: None,
        }
    }

    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "(body)"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// What a valid promptpack is, for storing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptpackSummary {
    /// Lowercase hex sha256 of the content's canonical JSON (RFC 8785).
    pub sha256: String,
    /// Number of cases.
    pub case_count: usize,
    /// Problems that do not stop it being stored (a prompt-only case will be skipped by runs).
    pub warnings: Vec<Issue>,
}

/// The promptpack a pipeline names: `{promptpack_id, version}`.
pub type PromptpackRefOwned = PromptpackRef;

/// Keys a pipeline body may have.
const PIPELINE_KEYS: [&str; 6] = [
    "name",
    "promptpack_ref",
    "device_matrix",
    "gates",
    "run_policy",
    "input_specs",
];

/// Why a promptpack on the server cannot name a file.
const NO_FILES: &str = "a promptpack on the server cannot name files (there are none beside it)";

/// Checks a promptpack's `content` (the shape of a promptpack file): the schema, the semantic
/// checks of `edgegate validate`, and that it names no file (`labels`, `inputs`, reference
/// tensors). Returns the sha256 of its canonical JSON (RFC 8785) and its case count.
pub fn check_promptpack(content: &Value) -> Result<PromptpackSummary, Vec<Issue>> {
    let Some(obj) = content.as_object() else {
        return Err(vec![Issue::new(
            "",
            format!(
                "the promptpack content must be a JSON object, not {}",
                kind_of(content)
            ),
        )]);
    };
    let refused = file_issues(obj);
    let pack = crate::config::check_promptpack_value(content.clone());
    let under_refused = |d: &Diagnostic| {
        refused
            .iter()
            .any(|r| d.pointer == r.pointer || d.pointer.starts_with(&format!("{}/", r.pointer)))
    };
    let (pack, warnings) = match pack {
        Ok((pack, warnings)) => (Some(pack), warnings),
        Err(diags) => (None, diags),
    };
    let mut issues = refused.clone();
    issues.extend(
        warnings
            .iter()
            .filter(|d| d.severity == Severity::Error && !under_refused(d))
            .map(|d| issue_of(d, |p| p.to_string())),
    );
    let Some(pack) = pack.filter(|_| issues.is_empty()) else {
        return Err(issues);
    };
    let canonical = serde_json_canonicalizer::to_vec(content).map_err(|e| {
        vec![Issue::new(
            "",
            format!("the promptpack has no canonical JSON form: {e}"),
        )]
    })?;
    Ok(PromptpackSummary {
        sha256: hex::encode(Sha256::digest(&canonical)),
        case_count: pack.cases.len(),
        warnings: warnings
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .map(|d| issue_of(d, |p| p.to_string()))
            .collect(),
    })
}

/// The parts of a promptpack that name files, each refused.
fn file_issues(obj: &Map<String, Value>) -> Vec<Issue> {
    let mut out = Vec::new();
    if obj.contains_key("labels") {
        out.push(
            Issue::new(
                "/labels",
                format!("{NO_FILES}: `labels` names a labels file"),
            )
            .with_help("remove `labels` and give `label`/`top_k` expectations as class indices"),
        );
    }
    let cases = obj.get("cases").and_then(Value::as_array);
    for (i, case) in cases.into_iter().flatten().enumerate() {
        let Some(case) = case.as_object() else {
            continue;
        };
        if case.get("inputs").is_some_and(has_entries) {
            out.push(
                Issue::new(
                    format!("/cases/{i}/inputs"),
                    format!("{NO_FILES}: `inputs` name `.npy` or image files"),
                )
                .with_help(
                    "remove `inputs`: cases without inputs are reported as skipped, and the \
                     gates on latency and memory are still measured",
                ),
            );
        }
        let expected = case.get("expected").and_then(Value::as_object);
        if expected.and_then(|e| e.get("type")).and_then(Value::as_str) == Some("tensor") {
            out.push(
                Issue::new(
                    format!("/cases/{i}/expected"),
                    format!("{NO_FILES}: a `tensor` expectation names a reference `.npy` file"),
                )
                .with_help("use another expectation type, or `none`"),
            );
        }
    }
    out
}

fn has_entries(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Null => false,
        _ => true,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks a pipeline body: `name`, `promptpack_ref {promptpack_id, version}`, `device_matrix`,
/// `gates`, optional `run_policy` (and `input_specs` for TorchScript models): an `edgegate.yaml`
/// without `version` and `model`, with `promptpack_ref` at the top. Unknown fields are issues.
/// Returns the promptpack it references.
pub fn check_pipeline(body: &Value) -> Result<PromptpackRefOwned, Vec<Issue>> {
    let (config, mut issues) = pipeline_config(body, None, None);
    let Some(config) = config else {
        return Err(issues);
    };
    let pack_ref = body.get("promptpack_ref").cloned().unwrap_or(Value::Null);
    match crate::config::check_config_value(config) {
        Ok(_) => {}
        Err(diags) => issues.extend(
            diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| issue_of(d, pipeline_pointer)),
        ),
    }
    if let Some(v) = pack_ref.get("version").and_then(Value::as_str)
        && !v.is_empty()
        && semver::Version::parse(v).is_err()
    {
        issues.push(
            Issue::new(
                "/promptpack_ref/version",
                format!("`{v}` is not a semantic version"),
            )
            .with_help("write MAJOR.MINOR.PATCH, e.g. `1.0.0`"),
        );
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    serde_json::from_value::<PromptpackRef>(pack_ref)
        .map_err(|e| vec![Issue::new("/promptpack_ref", e.to_string())])
}

/// The `edgegate.yaml` (as JSON) a pipeline body stands for, with the issues only the body has
/// (not an object, unknown or missing top-level fields). `model` is the model file name and kind
/// a run uses; when `None`, a placeholder the checks accept for any model kind. `pack` is the
/// promptpack content a run uses; when `None`, the body's `promptpack_ref`.
fn pipeline_config(
    body: &Value,
    model: Option<(&str, ModelKind)>,
    pack: Option<&Value>,
) -> (Option<Value>, Vec<Issue>) {
    let Some(obj) = body.as_object() else {
        return (
            None,
            vec![Issue::new(
                "",
                format!("the pipeline must be a JSON object, not {}", kind_of(body)),
            )],
        );
    };
    let mut issues = Vec::new();
    let allowed: Vec<String> = PIPELINE_KEYS.iter().map(|k| k.to_string()).collect();
    for key in obj.keys() {
        if !PIPELINE_KEYS.contains(&key.as_str()) {
            let help = match crate::config::schema_errors::suggest(key, &allowed) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "allowed fields: {}",
                    crate::config::schema_errors::backticked(&allowed)
                ),
            };
            issues.push(
                Issue::new(
                    format!("/{}", crate::config::yaml::escape_segment(key)),
                    format!("unknown field `{key}`"),
                )
                .with_help(help),
            );
        }
    }
    if pack.is_none() && !obj.contains_key("promptpack_ref") {
        issues.push(
            Issue::new("", "missing required field `promptpack_ref`").with_help(
                "name a published promptpack: `{\"promptpack_id\": \"…\", \"version\": \"1.0.0\"}`",
            ),
        );
    }
    let mut model_spec = Map::new();
    match model {
        Some((path, kind)) => {
            model_spec.insert("path".into(), path.into());
            model_spec.insert("kind".into(), kind.as_str().into());
        }
        None => {
            model_spec.insert("path".into(), "model".into());
        }
    }
    if let Some(specs) = obj.get("input_specs") {
        model_spec.insert("input_specs".into(), specs.clone());
    }
    let mut config = Map::new();
    config.insert("version".into(), 1.into());
    if let Some(name) = obj.get("name") {
        config.insert("name".into(), name.clone());
    }
    config.insert("model".into(), Value::Object(model_spec));
    let promptpack = match pack {
        Some(content) => serde_json::json!({ "content": content }),
        None => serde_json::json!({
            "promptpack_ref": obj.get("promptpack_ref").cloned()
                .unwrap_or_else(|| serde_json::json!({"promptpack_id": "missing", "version": "0.0.0"}))
        }),
    };
    config.insert("promptpack".into(), promptpack);
    for key in ["device_matrix", "gates", "run_policy"] {
        if let Some(v) = obj.get(key) {
            config.insert(key.into(), v.clone());
        }
    }
    config.insert("report".into(), serde_json::json!({ "comment": "off" }));
    (Some(Value::Object(config)), issues)
}

/// A pointer into the config a pipeline body stands for, as a pointer into the body (and, for
/// an inline promptpack, under `/promptpack`).
fn pipeline_pointer(p: &str) -> String {
    if let Some(rest) = p.strip_prefix("/promptpack/promptpack_ref") {
        format!("/promptpack_ref{rest}")
    } else if let Some(rest) = p.strip_prefix("/promptpack/content") {
        format!("/promptpack{rest}")
    } else if p == "/promptpack" {
        "/promptpack_ref".into()
    } else if let Some(rest) = p.strip_prefix("/model/input_specs") {
        format!("/input_specs{rest}")
    } else if p == "/model" || p.starts_with("/model/") {
        String::new()
    } else {
        p.to_string()
    }
}

fn issue_of(d: &Diagnostic, pointer: impl Fn(&str) -> String) -> Issue {
    let fix = |s: &str| {
        s.replace("`promptpack.promptpack_ref", "`promptpack_ref")
            .replace("`promptpack.content.", "`promptpack.")
            .replace("`model.input_specs", "`input_specs")
    };
    Issue {
        pointer: pointer(&d.pointer),
        message: fix(&d.message),
        help: d.help.as_deref().map(fix),
    }
}

/// One run to execute.
pub struct RunJob {
    /// The stored pipeline body (already checked by [`check_pipeline`]).
    pub pipeline: Value,
    /// The published promptpack's content (already checked by [`check_promptpack`]).
    pub promptpack: Value,
    /// The artifact file on disk (in the content-addressed store, outside `work_dir`).
    pub model_path: PathBuf,
    /// The artifact kind: `onnx`, `tflite`, `torchscript`, `qnn_dlc`, `qnn_context_binary`.
    pub model_kind: String,
    /// AI Hub base URL; the public service when `None`.
    pub hub_url: Option<String>,
    /// The workspace's AI Hub token. Never logged nor written anywhere.
    pub hub_token: Option<String>,
    /// The results relative gates compare against.
    pub baseline: Option<Results>,
    /// An empty folder owned by the server for this run.
    pub work_dir: PathBuf,
    /// The workspace's AI Hub job cache file.
    pub cache_path: PathBuf,
}

impl fmt::Debug for RunJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunJob")
            .field("model_path", &self.model_path)
            .field("model_kind", &self.model_kind)
            .field("hub_url", &self.hub_url)
            .field("hub_token", &self.hub_token.as_ref().map(|_| "<redacted>"))
            .field("baseline", &self.baseline.is_some())
            .field("work_dir", &self.work_dir)
            .field("cache_path", &self.cache_path)
            .finish_non_exhaustive()
    }
}

/// A finished run: its results and the reports rendered from them.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The verdict is in here (passed, failed, or error when something was not measured); a
    /// cancelled run has `interrupted` set and partial results.
    pub results: Results,
    /// results.json as written by `edgegate run`.
    pub results_json: String,
    /// JUnit XML.
    pub junit_xml: String,
    /// The Markdown summary (never truncated).
    pub markdown: String,
}

/// Why a run produced no results. Messages never contain the AI Hub token.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// The pipeline or promptpack is refused by the loader (pointers into the pipeline body;
    /// promptpack problems under `/promptpack`).
    #[error("the pipeline is invalid: {}", join(.0))]
    Invalid(Vec<Issue>),
    /// The run's input cannot be used, so nothing was measured (a baseline that cannot be
    /// compared, a model or case input the run cannot read).
    #[error("nothing was measured: {0}")]
    NotMeasured(String),
    /// The server could not run it (the work folder, the artifact file, the AI Hub URL, a crash).
    #[error("the run failed: {0}")]
    Failed(String),
}

fn join(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(Issue::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The file extension a model of this kind gets, so the loader infers nothing surprising.
fn extension(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Onnx => "onnx",
        ModelKind::Tflite => "tflite",
        ModelKind::Torchscript => "pt",
        ModelKind::QnnDlc => "dlc",
        ModelKind::QnnContextBinary => "bin",
    }
}

/// The name a baseline given as data has in messages and results.json.
const BASELINE_NAME: &str = "baseline";

/// Runs one pipeline run to completion (or until `cancel`) and renders its reports.
///
/// A verdict of failed or error is an outcome, not an error; `Err` means no results exist.
pub async fn execute_run(
    job: RunJob,
    cancel: CancellationToken,
) -> Result<RunOutcome, ExecuteError> {
    let secret = job.hub_token.clone().filter(|t| !t.is_empty());
    let scrub = |s: String| match &secret {
        Some(t) => s.replace(t.as_str(), "<redacted>"),
        None => s,
    };
    match run_inner(job, cancel).await {
        Ok(mut outcome) => {
            if let Some(t) = &secret
                && [&outcome.results_json, &outcome.junit_xml, &outcome.markdown]
                    .iter()
                    .any(|s| s.contains(t.as_str()))
            {
                outcome.results_json = scrub(outcome.results_json);
                outcome.junit_xml = scrub(outcome.junit_xml);
                outcome.markdown = scrub(outcome.markdown);
                if let Ok(r) = serde_json::from_str(&outcome.results_json) {
                    outcome.results = r;
                }
            }
            Ok(outcome)
        }
        Err(ExecuteError::Invalid(issues)) => Err(ExecuteError::Invalid(
            issues
                .into_iter()
                .map(|i| Issue {
                    pointer: i.pointer,
                    message: scrub(i.message),
                    help: i.help.map(scrub),
                })
                .collect(),
        )),
        Err(ExecuteError::NotMeasured(m)) => Err(ExecuteError::NotMeasured(scrub(m))),
        Err(ExecuteError::Failed(m)) => Err(ExecuteError::Failed(scrub(m))),
    }
}

async fn run_inner(job: RunJob, cancel: CancellationToken) -> Result<RunOutcome, ExecuteError> {
    check_pipeline(&job.pipeline).map_err(ExecuteError::Invalid)?;
    check_promptpack(&job.promptpack).map_err(|issues| {
        ExecuteError::Invalid(
            issues
                .into_iter()
                .map(|i| Issue {
                    pointer: format!("/promptpack{}", i.pointer),
                    ..i
                })
                .collect(),
        )
    })?;
    let kind: ModelKind = serde_json::from_value(Value::String(job.model_kind.clone()))
        .map_err(|_| {
            ExecuteError::Invalid(vec![Issue::new(
                "",
                format!(
                    "unknown artifact kind `{}` (onnx, tflite, torchscript, qnn_dlc, qnn_context_binary)",
                    job.model_kind
                ),
            )])
        })?;
    let work_dir = prepare_dir(&job.work_dir)?;
    let model_name = format!("model.{}", extension(kind));
    link_model(&job.model_path, &work_dir.join(&model_name))?;
    let (config, issues) = pipeline_config(
        &job.pipeline,
        Some((&model_name, kind)),
        Some(&job.promptpack),
    );
    let config = match config {
        Some(c) if issues.is_empty() => c,
        _ => return Err(ExecuteError::Invalid(issues)),
    };
    let config_path = work_dir.join("edgegate.yaml");
    let text = serde_json::to_string_pretty(&config)
        .map_err(|e| ExecuteError::Failed(format!("cannot write the run's config: {e}")))?;
    std::fs::write(&config_path, text + "\n").map_err(|e| {
        ExecuteError::Failed(format!("cannot write `{}`: {e}", config_path.display()))
    })?;
    let project = crate::config::load_project_confined(&config_path, &work_dir).map_err(|f| {
        ExecuteError::Invalid(
            f.diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| issue_of(d, pipeline_pointer))
                .collect(),
        )
    })?;
    let plan = crate::engine::plan::build(&project);
    let req = crate::engine::run::RunRequest {
        baseline_given: job.baseline.map(|b| (BASELINE_NAME.to_string(), b)),
        cache_path: Some(job.cache_path.clone()),
        hub: HubOptions {
            api_token: job.hub_token.map(ApiToken::new),
            api_url: job.hub_url,
            web_url: None,
        },
        hub_env: Some(HubEnv::default()),
        ..Default::default()
    };
    if let Some(parent) = job
        .cache_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            ExecuteError::Failed(format!(
                "cannot create the job cache folder `{}`: {e}",
                parent.display()
            ))
        })?;
    }
    let task = tokio::spawn(async move {
        crate::engine::run::run(&project, &plan, &req, ProgressMode::Quiet, cancel).await
    });
    let mut results = match task.await {
        Ok(Ok(results)) => results,
        Ok(Err(e)) => return Err(engine_error(e)),
        Err(e) if e.is_panic() => {
            return Err(ExecuteError::Failed(
                "the run stopped unexpectedly (an internal error)".into(),
            ));
        }
        Err(_) => return Err(ExecuteError::Failed("the run was aborted".into())),
    };
    results.config_path = "edgegate.yaml".into();
    results.ci = None;
    render(results)
}

/// The work folder, created if missing, as a canonical path.
fn prepare_dir(dir: &Path) -> Result<PathBuf, ExecuteError> {
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::canonicalize(dir))
        .map_err(|e| {
            ExecuteError::Failed(format!(
                "cannot use the work folder `{}`: {e}",
                dir.display()
            ))
        })
}

/// Hard-links the artifact into the work folder, or copies it where a link cannot be made.
fn link_model(from: &Path, to: &Path) -> Result<(), ExecuteError> {
    if same_file(from, to) {
        // Already staged there; copying a file onto itself would empty it.
        return Ok(());
    }
    if !from.is_file() {
        return Err(ExecuteError::Failed(format!(
            "the artifact file `{}` is missing",
            from.display()
        )));
    }
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to).map(|_| ()).map_err(|e| {
        ExecuteError::Failed(format!(
            "cannot copy the artifact `{}` into the work folder: {e}",
            from.display()
        ))
    })
}

/// Whether two paths name one file (same device and inode), e.g. the same path twice.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

fn engine_error(e: RunError) -> ExecuteError {
    let message = crate::device::aihub::chain(&e);
    match e {
        RunError::Baseline(_)
        | RunError::Inputs(_)
        | RunError::Labels(_)
        | RunError::BaselineModelPath { .. }
        | RunError::BaselineModelKind { .. }
        | RunError::PairedGraphs => ExecuteError::NotMeasured(message),
        RunError::Model(_)
        | RunError::ModelRead { .. }
        | RunError::HubUrl(_)
        | RunError::GraphPath { .. }
        | RunError::ResultsPath { .. } => ExecuteError::Failed(message),
    }
}

/// results.json, JUnit and Markdown of a run.
fn render(results: Results) -> Result<RunOutcome, ExecuteError> {
    let failed = |what: &str, e: &dyn std::error::Error| {
        ExecuteError::Failed(format!("cannot render {what}: {e}"))
    };
    let mut results_json =
        serde_json::to_string_pretty(&results).map_err(|e| failed("results.json", &e))?;
    results_json.push('\n');
    let junit_xml = crate::report::junit::render(&results).map_err(|e| failed("JUnit", &e))?;
    let markdown = crate::report::markdown::render(
        &results,
        &crate::report::markdown::MarkdownOptions::default(),
    )
    .map_err(|e| failed("the Markdown summary", &e))?
    .body;
    Ok(RunOutcome {
        results,
        results_json,
        junit_xml,
        markdown,
    })
}
