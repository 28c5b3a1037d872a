//! The typed model of `edgegate.yaml`. Field names match the `/v1` pipeline API wherever the two
//! overlap, so a file and an API body convert one to one. Every doc comment becomes the field's
//! `description` in `schemas/edgegate.schema.json`, which is what editors show while typing.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::promptpack::Promptpack;
use crate::tensor::DType;

/// An EdgeGate pipeline: which model to test, with which test cases, on which devices, held to
/// which gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "edgegate.yaml")]
pub struct Config {
    /// Version of this file format. Always `1`.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// Pipeline name, shown in reports and used to find the sticky PR comment. Example: `Production Gate - RB5`.
    #[schemars(length(min = 1))]
    pub name: String,
    /// The model under test.
    pub model: ModelSpec,
    /// The test cases: a promptpack file, an inline promptpack, or a reference to one published on a server.
    pub promptpack: PromptpackSource,
    /// The devices the model runs on. At least one must be enabled.
    #[schemars(length(min = 1))]
    pub device_matrix: Vec<Device>,
    /// Conditions every run must meet. A gate whose metric cannot be measured is never a pass.
    #[serde(default)]
    pub gates: Vec<Gate>,
    /// Warm-up, repetitions, timeouts and concurrency.
    #[serde(default)]
    pub run_policy: RunPolicy,
    /// Where reports are written and how the PR/MR comment is posted.
    #[serde(default)]
    pub report: ReportSpec,
}

/// The model file under test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Path to the model file, relative to this config file and inside the project (the git repository holding the config). Example: `build/model.onnx`.
    #[schemars(length(min = 1))]
    pub path: String,
    /// Model format. Inferred from the file extension when omitted (`.onnx`, `.tflite`, `.pt`/`.pth`, `.dlc`, `.bin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ModelKind>,
    /// Input names with shape and dtype, in the model's input order. Required where the format does not carry shapes (TorchScript).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub input_specs: IndexMap<String, TensorSpec>,
    /// Paired mode: the baseline model file (for example the default branch's build), measured on the same devices in the same run, interleaved with the model under test (A/B/A/B); relative gates then compare paired runs, which cancels drift and a lucky stored baseline. Same format as `path`; relative to this config file and inside the project. `--baseline-model` overrides it. Costs a second set of measurements (see `run --dry-run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub baseline_path: Option<String>,
    /// Makes the model generative: a Hugging Face `tokenizer.json` (read offline), relative to this config file and inside the project. The ONNX model must be a causal decoder taking `input_ids` and giving `logits` (a KV cache is used when its inputs are named `past_*` and its outputs `present_*`). On `provider: local` devices each case's `prompt` is tokenized and decoded greedily, text expectations check the generated text, and `ttft_ms` and `tps` are measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub tokenizer: Option<String>,
    /// How a generative model generates (needs `tokenizer`). Decoding is always greedy: the most likely token at every step, no sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<GenerationSpec>,
    /// A generative model on AI Hub devices: the two graphs an on-device LLM runtime runs (needs `tokenizer`). AI Hub profiles each graph and reports `prefill_ms` and `decode_ms` as measured, and `ttft_ms` and `tps` as estimates derived from them (labelled so everywhere); correctness is checked by one inference job of the prefill graph that feeds each prompt followed by its `exact` answer and checks every next-token argmax (teacher forcing). `path:` stays the model the `host` device generates with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graphs: Option<LlmGraphs>,
}

/// The two graphs of a generative model for AI Hub: a prompt processor and a token generator, both ONNX with fixed shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LlmGraphs {
    /// The prompt processor: `input_ids` [1, N] (N tokens at once; a prompt is padded on the right) → `logits` [1, N, vocab] (and its KV cache). Relative to this config file and inside the project.
    #[schemars(length(min = 1))]
    pub prefill: String,
    /// The token generator: `input_ids` [1, 1] plus the KV cache → `logits` [1, 1, vocab]; profiled for the time of one decoding step. Relative to this config file and inside the project.
    #[schemars(length(min = 1))]
    pub decode: String,
}

/// Generation settings of a generative model. Decoding is greedy (argmax at every step); there is no temperature or sampling, so a run is reproducible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerationSpec {
    /// The most tokens generated for one case (default 64).
    #[serde(default = "default_max_new_tokens")]
    #[schemars(range(min = 1, max = 4096))]
    pub max_new_tokens: u32,
    /// Generation stops once the generated text contains one of these strings; the text checked ends before it. Example: `["\n"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Generation stops at any of these token ids (an end-of-sequence token); the stop token is not part of the text checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_token_ids: Vec<u32>,
}

/// `max_new_tokens` when `generation` does not give it.
pub const DEFAULT_MAX_NEW_TOKENS: u32 = 64;

fn default_max_new_tokens() -> u32 {
    DEFAULT_MAX_NEW_TOKENS
}

impl Default for GenerationSpec {
    fn default() -> Self {
        Self {
            max_new_tokens: DEFAULT_MAX_NEW_TOKENS,
            stop: Vec::new(),
            stop_token_ids: Vec::new(),
        }
    }
}

/// A model file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// ONNX (`.onnx`): runs on AI Hub and on the local `host` device.
    Onnx,
    /// TensorFlow Lite (`.tflite`).
    Tflite,
    /// TorchScript (`.pt`, `.pth`); needs `input_specs`.
    Torchscript,
    /// QNN DLC (`.dlc`).
    QnnDlc,
    /// QNN context binary (`.bin`).
    QnnContextBinary,
}

impl ModelKind {
    /// Infers the kind from a file name's extension.
    pub fn from_path(path: &str) -> Option<Self> {
        let ext = std::path::Path::new(path)
            .extension()?
            .to_str()?
            .to_ascii_lowercase();
        match ext.as_str() {
            "onnx" => Some(Self::Onnx),
            "tflite" => Some(Self::Tflite),
            "pt" | "pth" => Some(Self::Torchscript),
            "dlc" => Some(Self::QnnDlc),
            "bin" => Some(Self::QnnContextBinary),
            _ => None,
        }
    }

    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Onnx => "onnx",
            Self::Tflite => "tflite",
            Self::Torchscript => "torchscript",
            Self::QnnDlc => "qnn_dlc",
            Self::QnnContextBinary => "qnn_context_binary",
        }
    }

    /// Whether AI Hub must compile a model of this kind before it runs with this runtime.
    pub fn needs_compile(self, runtime: Runtime) -> bool {
        !matches!(
            (self, runtime),
            (Self::Tflite, Runtime::Tflite)
                | (Self::QnnDlc, Runtime::QnnDlc)
                | (Self::QnnContextBinary, Runtime::QnnContextBinary)
        )
    }
}

/// Shape and element type of one named tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TensorSpec {
    /// Dimensions, each at least 1. Example: `[1, 3, 224, 224]`.
    #[schemars(length(min = 1), inner(range(min = 1)))]
    pub shape: Vec<u64>,
    /// Element type.
    #[serde(default)]
    pub dtype: DType,
}

/// Where the promptpack comes from: give exactly one of `path`, `content` or `promptpack_ref`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1, "maxProperties" = 1))]
pub struct PromptpackSource {
    /// Path to a promptpack file (YAML or JSON), relative to this config file and inside the project (the git repository holding the config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub path: Option<String>,
    /// The promptpack itself, inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Box<Promptpack>>,
    /// A promptpack published on an EdgeGate server (`edgegate serve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promptpack_ref: Option<PromptpackRef>,
}

/// A reference to a published promptpack version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptpackRef {
    /// The promptpack's id. Example: `vision-qa`.
    #[schemars(length(min = 1))]
    pub promptpack_id: String,
    /// The published version (semver). Example: `1.0.0`.
    #[schemars(length(min = 1))]
    pub version: String,
}

/// One device of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// A unique name for this device in reports and gate scopes. For AI Hub devices an alias (`RB5`, `s24`) or the AI Hub device name (`Samsung Galaxy S24`); `host` for the local CPU.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Set to `false` to keep the entry but skip the device.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Who runs the model: `aihub` (Qualcomm AI Hub, the default) or `local` (this machine's CPU).
    #[serde(default)]
    pub provider: Provider,
    /// The exact AI Hub device name, when `name` is only a label. Example: `Samsung Galaxy S24`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub hub_device: Option<String>,
    /// AI Hub target runtime to compile for (default `tflite`). AI Hub devices only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Runtime>,
    /// Extra AI Hub compile options, appended to `--target_runtime`. Example: `--quantize_full_type w8a8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compile_options: Option<String>,
    /// Extra AI Hub profile/inference options. Example: `--compute_unit npu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_options: Option<String>,
}

fn yes() -> bool {
    true
}

/// Who runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Qualcomm AI Hub: real phones and boards in the cloud; needs an API token.
    #[default]
    Aihub,
    /// This machine's CPU: runs ONNX models here, no account needed.
    Local,
}

/// AI Hub target runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    Tflite,
    QnnDlc,
    QnnContextBinary,
    Onnx,
    PrecompiledQnnOnnx,
    QnnLibAarch64Android,
}

impl Runtime {
    /// The value of AI Hub's `--target_runtime` option.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tflite => "tflite",
            Self::QnnDlc => "qnn_dlc",
            Self::QnnContextBinary => "qnn_context_binary",
            Self::Onnx => "onnx",
            Self::PrecompiledQnnOnnx => "precompiled_qnn_onnx",
            Self::QnnLibAarch64Android => "qnn_lib_aarch64_android",
        }
    }
}

/// A condition on one metric: absolute (`operator` + `threshold`) or relative to a baseline run (`max_regression_pct`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["operator", "threshold"]},
    {"required": ["max_regression_pct"]}
]))]
#[schemars(extend("allOf" = [
    {"if": {"properties": {"metric": {"const": "accuracy"}}, "required": ["metric", "threshold"]},
     "then": {"properties": {"threshold": {"minimum": 0, "maximum": 1}}}},
    {"if": {"properties": {"metric": {"enum": ["npu_compute_percent", "gpu_compute_percent", "cpu_compute_percent"]}}, "required": ["metric", "threshold"]},
     "then": {"properties": {"threshold": {"minimum": 0, "maximum": 100}}}}
]))]
pub struct Gate {
    /// What is measured.
    pub metric: Metric,
    /// How the measured value compares with `threshold` (absolute gates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
    /// The limit (absolute gates). `accuracy` is a fraction from 0 to 1; `*_percent` metrics are 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub threshold: Option<f64>,
    /// Relative gate: fail when the metric gets worse than the baseline run by more than this percentage. Needs `--baseline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub max_regression_pct: Option<f64>,
    /// Only these devices (names from `device_matrix`). All enabled devices when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub devices: Option<Vec<String>>,
    /// Why this gate exists, shown in reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Relative gates only: a Bencher-like statistical threshold over the history of stored baselines (`--baseline` with several results files or a folder). The gate fails when the value lies beyond the history's boundary and regresses by more than `max_regression_pct` from the history's median; with fewer stored values than `min_sample_size` the gate uses the default interval verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryThreshold>,
}

/// A statistical threshold over the stored baselines' values of a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryThreshold {
    /// `t` (Student-t prediction interval, good for small histories), `z` (normal, for 30 or more values) or `iqr` (median + k × interquartile range, robust to outliers).
    pub method: HistoryMethod,
    /// The fewest stored values the threshold needs (default 5; at least 2).
    #[serde(default = "default_min_sample")]
    #[schemars(range(min = 2, max = 1000))]
    pub min_sample_size: u32,
    /// Use at most this many of the newest stored values (default 30).
    #[serde(default = "default_max_sample")]
    #[schemars(range(min = 2, max = 1000))]
    pub max_sample_size: u32,
    /// `z`/`t`: the percentile of the boundary, 0.5 to 0.9999 (default 0.99). `iqr`: the multiplier k of the interquartile range (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.5, max = 100))]
    pub boundary: Option<f64>,
}

fn default_min_sample() -> u32 {
    5
}
fn default_max_sample() -> u32 {
    30
}

/// How a history threshold is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HistoryMethod {
    /// Normal distribution: mean + z(boundary) × standard deviation.
    Z,
    /// Student-t prediction interval: mean + t(boundary, n − 1) × s × √(1 + 1/n).
    T,
    /// Median + boundary × interquartile range.
    Iqr,
}

impl HistoryMethod {
    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Z => "z",
            Self::T => "t",
            Self::Iqr => "iqr",
        }
    }
}

/// A measured quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Median inference latency, milliseconds.
    InferenceTimeMs,
    /// Peak memory during inference, MiB.
    PeakMemoryMb,
    /// Share of layers placed on the NPU, percent.
    NpuComputePercent,
    /// Share of layers placed on the GPU, percent.
    GpuComputePercent,
    /// Share of layers placed on the CPU, percent.
    CpuComputePercent,
    /// Model load time, milliseconds.
    LoadTimeMs,
    /// Size of the model file that runs on the device, MiB.
    ModelSizeMb,
    /// Time to first token, milliseconds (generative models; an estimate on AI Hub).
    TtftMs,
    /// Tokens per second (generative models; an estimate on AI Hub).
    Tps,
    /// One inference of the prefill graph (`model.graphs.prefill`), milliseconds: measured on AI Hub.
    PrefillMs,
    /// One inference of the decode graph (`model.graphs.decode`), one token with the KV cache, milliseconds: measured on AI Hub.
    DecodeMs,
    /// Fraction of cases whose expectation holds, 0 to 1.
    Accuracy,
}

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

impl Metric {
    /// Every metric, in documentation order.
    pub const ALL: [Metric; 12] = [
        Metric::InferenceTimeMs,
        Metric::PeakMemoryMb,
        Metric::NpuComputePercent,
        Metric::GpuComputePercent,
        Metric::CpuComputePercent,
        Metric::LoadTimeMs,
        Metric::ModelSizeMb,
        Metric::TtftMs,
        Metric::Tps,
        Metric::PrefillMs,
        Metric::DecodeMs,
        Metric::Accuracy,
    ];

    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::InferenceTimeMs => "inference_time_ms",
            Metric::PeakMemoryMb => "peak_memory_mb",
            Metric::NpuComputePercent => "npu_compute_percent",
            Metric::GpuComputePercent => "gpu_compute_percent",
            Metric::CpuComputePercent => "cpu_compute_percent",
            Metric::LoadTimeMs => "load_time_ms",
            Metric::ModelSizeMb => "model_size_mb",
            Metric::TtftMs => "ttft_ms",
            Metric::Tps => "tps",
            Metric::PrefillMs => "prefill_ms",
            Metric::DecodeMs => "decode_ms",
            Metric::Accuracy => "accuracy",
        }
    }

    /// Which direction is an improvement; `None` where neither is (a GPU share can rise for good or bad reasons),
    /// which is why such metrics cannot have relative gates.
    pub fn better(self) -> Option<Better> {
        match self {
            Metric::NpuComputePercent | Metric::Tps | Metric::Accuracy => Some(Better::Higher),
            Metric::GpuComputePercent => None,
            _ => Some(Better::Lower),
        }
    }

    /// Whether a device of this provider can measure the metric for a model that is not
    /// generative (see `measurable_by_model`).
    pub fn measurable_by(self, provider: Provider) -> bool {
        self.measurable_by_model(provider, false)
    }

    /// Whether a device of this provider can measure the metric for a model that is generative
    /// (`model.tokenizer` set) or not. A generative model runs on AI Hub as two graphs
    /// (`model.graphs`): `prefill_ms` and `decode_ms` are measured there, `ttft_ms` and `tps`
    /// estimated from them, and there is no single `inference_time_ms`.
    pub fn measurable_by_model(self, provider: Provider, generative: bool) -> bool {
        match self {
            Metric::TtftMs | Metric::Tps => generative,
            Metric::PrefillMs | Metric::DecodeMs => generative && provider == Provider::Aihub,
            Metric::InferenceTimeMs => !(generative && provider == Provider::Aihub),
            Metric::NpuComputePercent | Metric::GpuComputePercent | Metric::CpuComputePercent => {
                provider == Provider::Aihub
            }
            _ => true,
        }
    }

    /// The valid range of an absolute threshold.
    pub fn threshold_range(self) -> (f64, f64) {
        match self {
            Metric::Accuracy => (0.0, 1.0),
            Metric::NpuComputePercent | Metric::GpuComputePercent | Metric::CpuComputePercent => {
                (0.0, 100.0)
            }
            _ => (0.0, f64::MAX),
        }
    }
}

/// How a measured value compares with a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Equal.
    Eq,
}

impl Operator {
    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Lt => "lt",
            Operator::Lte => "lte",
            Operator::Gt => "gt",
            Operator::Gte => "gte",
            Operator::Eq => "eq",
        }
    }

    /// The mathematical symbol, for reports.
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Lt => "<",
            Operator::Lte => "≤",
            Operator::Gt => ">",
            Operator::Gte => "≥",
            Operator::Eq => "=",
        }
    }
}

/// Warm-up, repetitions, timeouts and concurrency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunPolicy {
    /// Untimed runs before measuring.
    #[serde(default = "default_warmup")]
    #[schemars(range(max = 100))]
    pub warmup_runs: u32,
    /// Timed runs per measurement; median and p90 are taken over all of them.
    #[serde(default = "default_repeats")]
    #[schemars(range(min = 1, max = 1000))]
    pub measurement_repeats: u32,
    /// Limit for the whole run, minutes.
    #[serde(default = "default_timeout")]
    #[schemars(range(min = 1, max = 1440))]
    pub timeout_minutes: u32,
    /// Devices run at the same time.
    #[serde(default = "default_concurrency")]
    #[schemars(range(min = 1, max = 64))]
    pub max_concurrency: u32,
    /// Independent measurement runs per device: separate AI Hub profile jobs, or separate rounds with a fresh model load on the host. Metrics are the median of the run medians; relative gates get a confidence interval from the run-to-run spread. Default 1, or 5 in paired mode (`model.baseline_path` / `--baseline-model`), where each run measures both models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub runs: Option<u32>,
    /// When a relative gate is inconclusive (its interval contains the threshold), measure more runs, `runs` at a time, up to this many in all, before deciding (default 10; 0: never re-measure). Each extra run costs what a run costs; an unchanged model rarely needs them.
    #[serde(default = "default_extra_runs")]
    #[schemars(range(max = 100))]
    pub max_extra_runs: u32,
    /// Confidence level of the interval relative gates decide on (default 0.95: a gate fails only when the regression is above the threshold with 97.5 % one-sided confidence).
    #[serde(default = "default_confidence")]
    #[schemars(range(min = 0.5, max = 0.999))]
    pub confidence: f64,
    /// What an inconclusive relative gate becomes once the extra runs are spent: `error` (the default: not measured, exit 3), `fail`, or `pass` (explicitly accept the risk).
    #[serde(default)]
    pub on_inconclusive: OnInconclusive,
}

/// What an inconclusive relative gate becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnInconclusive {
    /// Not measured: the gate is an error and the run exits 3.
    #[default]
    Error,
    /// The gate fails (exit 1).
    Fail,
    /// The gate passes, with the interval in its message.
    Pass,
}

impl OnInconclusive {
    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Fail => "fail",
            Self::Pass => "pass",
        }
    }
}

fn default_extra_runs() -> u32 {
    10
}
fn default_confidence() -> f64 {
    0.95
}

/// Runs per device when `run_policy.runs` is not set: 5 in paired mode, else 1.
pub const DEFAULT_PAIRED_RUNS: u32 = 5;

fn default_warmup() -> u32 {
    1
}
fn default_repeats() -> u32 {
    3
}
fn default_timeout() -> u32 {
    30
}
fn default_concurrency() -> u32 {
    4
}

impl RunPolicy {
    /// The runs per device: `runs`, else 5 in paired mode and 1 otherwise.
    pub fn runs(&self, paired: bool) -> u32 {
        self.runs
            .unwrap_or(if paired { DEFAULT_PAIRED_RUNS } else { 1 })
            .max(1)
    }

    /// `timeout_minutes` as a duration: the limit of the whole run, and of each job unless
    /// `--job-timeout` sets a shorter one.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.timeout_minutes) * 60)
    }
}

impl Default for RunPolicy {
    fn default() -> Self {
        Self {
            warmup_runs: default_warmup(),
            measurement_repeats: default_repeats(),
            timeout_minutes: default_timeout(),
            max_concurrency: default_concurrency(),
            runs: None,
            max_extra_runs: default_extra_runs(),
            confidence: default_confidence(),
            on_inconclusive: OnInconclusive::default(),
        }
    }
}

/// Where reports go.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    /// JUnit XML file to write, relative to this config file and inside the project (`--junit` writes anywhere). Example: `edgegate-junit.xml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junit: Option<String>,
    /// results.json file to write, relative to this config file and inside the project (default `edgegate-results.json`; `--json` writes anywhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<String>,
    /// Markdown summary file to write, relative to this config file and inside the project (`--markdown` writes anywhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    /// PR/MR comment: `auto` (GitHub or GitLab when their CI variables are set), `github`, `gitlab` or `off`.
    #[serde(default)]
    pub comment: CommentMode,
}

/// How the sticky PR/MR comment is posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommentMode {
    #[default]
    Auto,
    Github,
    Gitlab,
    Off,
}
