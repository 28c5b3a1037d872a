//! `results.json`: the one contract every report reads. Written by `edgegate run`, read by
//! `edgegate report`, by `--baseline`, and by the server. Versioned; its schema is generated into
//! `schemas/results.schema.json`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::types::{Metric, Operator, Provider};

/// The format version of results.json; bumped on incompatible changes.
pub const RESULTS_VERSION: u32 = 1;

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "EdgeGate results")]
pub struct Results {
    /// Format version of this file.
    pub results_version: u32,
    /// The tool that wrote it.
    pub tool: ToolInfo,
    /// Pipeline name from the config.
    pub pipeline: String,
    /// The config file, as given on the command line.
    pub config_path: String,
    /// sha256 of the config file and the promptpack file, so a report can tell whether two runs used the same gates and cases.
    pub config_digest: String,
    /// The model under test.
    pub model: ModelInfo,
    /// The promptpack, when it was resolved locally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promptpack: Option<PackInfo>,
    /// Where the run happened (GitHub Actions, GitLab CI), read from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<CiContext>,
    /// The baseline relative gates compared against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineInfo>,
    /// Paired mode: the baseline model measured beside the model under test in this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_model: Option<ModelInfo>,
    /// What a measurement depends on besides the model (run policy, build, machine), so a later run can tell whether this one is comparable. Absent in files written before edgegate recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// Warnings about the verdict's trustworthiness (an incomparable baseline, a threshold within the noise), also printed by `run`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
    /// End time, RFC 3339 UTC.
    pub finished_at: String,
    /// Wall time of the whole run, seconds.
    pub duration_s: f64,
    /// True when the run was stopped (Ctrl-C, SIGTERM, whole-run timeout) and these results are partial.
    #[serde(default)]
    pub interrupted: bool,
    /// The slice of the device matrix this run covered, when run with `--shard i/n`;
    /// `edgegate merge` joins the shards into one results file without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// One entry per enabled device, in config order.
    pub devices: Vec<DeviceResult>,
    /// Counts over all devices.
    pub summary: Summary,
    /// passed, failed or error.
    pub verdict: Verdict,
}

/// Which slice of the device matrix a sharded run covered: device number p (0-based, in config
/// order, over the enabled devices) belongs to shard `p mod count + 1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShardInfo {
    /// This shard, 1-based.
    pub index: u32,
    /// How many shards the matrix was split into.
    pub count: u32,
    /// Every enabled device of the matrix, in config order, so a merge can tell a missing one.
    pub matrix: Vec<String>,
}

/// The tool that wrote a results file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolInfo {
    /// Always `edgegate`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The model under test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelInfo {
    /// Path as written in the config.
    pub path: String,
    /// Format (onnx, tflite, ...).
    pub kind: String,
    /// Lowercase hex sha256 of the file.
    pub sha256: String,
    /// File size, bytes.
    pub size_bytes: u64,
}

/// The promptpack that was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PackInfo {
    /// Its id.
    pub promptpack_id: String,
    /// Its version.
    pub version: String,
    /// Its name.
    pub name: String,
    /// Number of cases.
    pub cases: usize,
}

/// Where the run happened, read from the CI system's environment variables.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct CiContext {
    /// `github`, `gitlab` or `other`.
    pub provider: String,
    /// GitHub `owner/repo` or GitLab project path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// GitLab project id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The commit under test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    /// The git ref (branch or tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    /// GitHub pull request number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pr_number: Option<u64>,
    /// GitLab merge request iid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mr_iid: Option<u64>,
    /// GitLab pipeline id, or GitHub run id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<u64>,
    /// Link to the CI run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
}

/// The earlier run relative gates compared against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BaselineInfo {
    /// The baseline results file (the newest one, when several were given).
    pub path: String,
    /// Its model sha256.
    pub model_sha256: String,
    /// When it started.
    pub started_at: String,
    /// How many results files were given (`--baseline` with several files or a folder): the history of statistical thresholds.
    #[serde(default = "one_file", skip_serializing_if = "is_one")]
    pub files: usize,
}

fn one_file() -> usize {
    1
}
fn is_one(n: &usize) -> bool {
    *n == 1
}

/// What a measurement depends on besides the model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    /// Untimed runs before measuring.
    pub warmup_runs: u32,
    /// Timed iterations per run.
    pub measurement_repeats: u32,
    /// Independent runs per device (before re-measuring).
    pub runs: u32,
    /// Whether the baseline model was measured in the same run (paired mode).
    #[serde(default)]
    pub paired: bool,
    /// `debug` or `release`: how edgegate itself was built (a debug build runs host models several times slower).
    pub build_profile: String,
    /// The CPU model of the machine that ran edgegate (`/proc/cpuinfo`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_model: Option<String>,
    /// Logical CPU cores available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_cores: Option<u32>,
    /// Operating system and architecture, e.g. `linux-x86_64`.
    pub os: String,
}

/// passed / failed / error, kept apart everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every gate was evaluated and held.
    Passed,
    /// At least one gate was evaluated and did not hold.
    Failed,
    /// No gate failed, but something could not be measured.
    Error,
}

impl Verdict {
    /// Combines verdicts: any failure fails; otherwise any error is an error.
    pub fn combine(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        let mut out = Verdict::Passed;
        for v in verdicts {
            match v {
                Verdict::Failed => return Verdict::Failed,
                Verdict::Error => out = Verdict::Error,
                Verdict::Passed => {}
            }
        }
        out
    }
}

/// Everything measured and decided on one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceResult {
    /// The name from `device_matrix`.
    pub name: String,
    /// `aihub` or `local`.
    pub provider: Provider,
    /// The resolved AI Hub device name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_device: Option<String>,
    /// The AI Hub target runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Jobs run (or reused) for this device, with links.
    pub jobs: Vec<JobLink>,
    /// Measured metrics by name (`inference_time_ms`, `accuracy`, ...).
    pub metrics: BTreeMap<String, MetricValue>,
    /// Layer placement, where the device reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<LayerCounts>,
    /// One entry per case.
    pub cases: Vec<CaseResult>,
    /// One entry per gate that applies to this device.
    pub gates: Vec<GateResult>,
    /// This device's verdict.
    pub verdict: Verdict,
    /// What went wrong, when the device could not be measured fully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// True when the error came from the user's files (a model or input the device cannot use), not from the device: `edgegate run` then exits 2.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invalid_input: bool,
    /// Wall time on this device, seconds.
    pub duration_s: f64,
    /// Paired mode: the baseline model's metrics measured on this device in this run, with every run.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub baseline_metrics: BTreeMap<String, MetricValue>,
}

/// One metric: the value gates compare, and the raw samples it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricValue {
    /// The value gates compare (the median for timings).
    pub value: f64,
    /// Unit: `ms`, `MiB`, `%`, `fraction`.
    pub unit: String,
    /// 90th percentile, for timings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90: Option<f64>,
    /// Raw samples (every timed iteration of every run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<f64>,
    /// With `run_policy.runs` above 1: each independent run's value and samples, in order; `value` is the median of the run values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<RunValue>,
    /// Set when the value is an estimate derived from other measurements rather than measured itself (`ttft_ms` and `tps` of a generative model on AI Hub): the formula, with the figures it used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<String>,
}

/// One independent run of a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunValue {
    /// The run's value (its median for timings).
    pub value: f64,
    /// Its timed iterations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<f64>,
}

impl MetricValue {
    /// The independent run values: each run's value, or the one value of a single run.
    pub fn run_values(&self) -> Vec<f64> {
        if self.runs.is_empty() {
            vec![self.value]
        } else {
            self.runs.iter().map(|r| r.value).collect()
        }
    }
}

/// One case on one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseResult {
    /// The case id.
    pub case_id: String,
    /// Its name.
    pub name: String,
    /// The expectation type.
    pub expected_type: String,
    /// The expectation in words (`label 7`, `regex ^hi`).
    pub expected: String,
    /// What the model produced: text, a label, or a tensor summary.
    pub actual: String,
    /// `passed`, `failed` (expectation did not hold), `error` (no output to check) or `skipped` (`type: none`).
    pub status: CaseStatus,
    /// Why it failed or errored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Latency of this case, when measured per case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

/// The outcome of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Passed,
    Failed,
    Error,
    Skipped,
}

/// One gate on one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateResult {
    /// Index of the gate in the config's `gates`.
    pub index: usize,
    /// The metric.
    pub metric: Metric,
    /// Absolute gate: the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
    /// Absolute gate: the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Relative gate: the allowed regression, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_regression_pct: Option<f64>,
    /// The gate's description from the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The measured value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<f64>,
    /// The baseline's value of the metric on this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// actual - baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<f64>,
    /// (actual - baseline) / baseline, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_pct: Option<f64>,
    /// passed, failed or error (could not be measured or compared: never a pass).
    pub status: GateStatus,
    /// One sentence: what was compared and why it passed, failed or errored.
    pub message: String,
    /// Relative gates: the estimated regression with its confidence interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<RegressionInterval>,
    /// True when the interval contained the threshold after every extra run; `status` then follows `run_policy.on_inconclusive`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inconclusive: bool,
    /// Set when `actual` is an estimate derived from other measurements, not a measurement (`ttft_ms` and `tps` of a generative model on AI Hub): the formula with its figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<String>,
}

/// The estimated regression of a relative gate, in percent (positive = worse).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RegressionInterval {
    /// The point estimate.
    pub estimate_pct: f64,
    /// Lower end of the interval.
    pub low_pct: f64,
    /// Upper end of the interval.
    pub high_pct: f64,
    /// Its confidence level (two-sided).
    pub confidence: f64,
    /// `paired` (Student-t on the log of paired run ratios), `unpaired` (two-sample t on the log run values), `history-z`/`history-t`/`history-iqr`, or `point` (one run each side: no interval).
    pub method: String,
    /// Independent runs behind the measured value.
    pub runs: usize,
    /// Independent runs (or stored results) behind the baseline value.
    pub baseline_runs: usize,
    /// The observed run-to-run spread (standard deviation of the log run values or log ratios, as a percentage), when there were enough runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread_pct: Option<f64>,
}

/// The outcome of one gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GateStatus {
    Passed,
    Failed,
    Error,
}

/// Counts over the whole run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Devices run.
    pub devices: usize,
    /// Gate evaluations that passed (a gate on three devices counts three times).
    pub gates_passed: usize,
    /// Gate evaluations that failed.
    pub gates_failed: usize,
    /// Gate evaluations that could not be made.
    pub gates_error: usize,
    /// Case results that passed.
    pub cases_passed: usize,
    /// Case results that failed.
    pub cases_failed: usize,
    /// Case results that errored.
    pub cases_error: usize,
}

impl Results {
    /// The schema of results.json.
    pub fn schema() -> serde_json::Value {
        schemars::schema_for!(Results).to_value()
    }
}

/// The kind of a job a device ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Compile,
    Profile,
    Inference,
    /// A run on the local CPU.
    Local,
}

/// A job a device ran (or reused from the cache), with where to look at it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobLink {
    pub kind: JobKind,
    /// The AI Hub job id (or a local run id).
    pub id: String,
    /// Web page of the job, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// True when a finished job from an earlier run was reused instead of spending device time.
    #[serde(default)]
    pub reused: bool,
}

/// Layers by compute unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct LayerCounts {
    pub npu: u32,
    pub gpu: u32,
    pub cpu: u32,
}
