//! One trait for "a device that can compile, profile and infer", so the engine never knows
//! whether it drives Qualcomm AI Hub or this machine's CPU. Backends live beside this file.

pub mod aihub;
pub mod aihub_llm;
mod blocking;
pub mod cache;
pub mod generative;
pub mod inputs;
pub mod local;

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use indexmap::IndexMap;

use crate::config::ModelKind;
use crate::config::types::TensorSpec;
use crate::results::{JobLink, LayerCounts};
use crate::tensor::Tensor;

/// The model file under test, hashed once per run.
#[derive(Debug, Clone)]
pub struct ModelArtifact {
    pub path: PathBuf,
    pub kind: ModelKind,
    /// Lowercase hex sha256 of the file.
    pub sha256: String,
    pub size_bytes: u64,
    /// Input names, shapes and dtypes from the config (empty when the format carries them).
    pub input_specs: IndexMap<String, TensorSpec>,
}

/// The inputs of one case, in the model's input order.
#[derive(Debug, Clone)]
pub struct CaseInputs {
    pub case_id: String,
    pub prompt: Option<String>,
    pub tensors: Vec<(String, Tensor)>,
}

/// The outputs of one case, by output name, in the model's output order.
#[derive(Debug, Clone)]
pub struct CaseOutput {
    pub case_id: String,
    pub outputs: Vec<(String, Tensor)>,
    /// Latency of this case's inference when the device measures it per case.
    pub latency_ms: Option<f64>,
}

/// How measurements are taken.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub warmup_runs: u32,
    pub measurement_repeats: u32,
    /// Limit for one job (compile, profile or inference).
    pub job_timeout: Duration,
    /// Which independent run this profile is (0-based): a local device loads the model afresh
    /// for every run after the first.
    pub round: u32,
    /// Whether a finished profile job from an earlier run may stand in for this one (off when
    /// runs are repeated or paired: a reused measurement is not an independent one).
    pub reuse_profiles: bool,
}

/// The model made ready for a device (compiled on AI Hub, loaded and optimised locally).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The AI Hub target model id, or a backend-local key.
    pub target_id: String,
    pub jobs: Vec<JobLink>,
    /// Size of the model that actually runs on the device, when known.
    pub model_size_bytes: Option<u64>,
}

/// What a profile measured. Times in milliseconds, sizes in bytes.
#[derive(Debug, Clone, Default)]
pub struct ProfileResult {
    /// Every timed inference iteration.
    pub inference_ms: Vec<f64>,
    pub load_time_ms: Option<f64>,
    /// Peak memory during inference (upper bound of the reported range).
    pub peak_memory_bytes: Option<u64>,
    /// Layer placement, where the device reports it.
    pub layers: Option<LayerCounts>,
    pub model_size_bytes: Option<u64>,
    pub jobs: Vec<JobLink>,
    /// Generation timings, for a generative model on the local device.
    pub generation: Option<crate::generate::GenerationTimes>,
    /// The two graphs of a generative model on AI Hub, each profiled on its own.
    pub graphs: Option<GraphTimes>,
}

/// What AI Hub measured of a generative model's two graphs (`model.graphs`), and what the
/// estimates of time to first token and tokens/s are derived from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphTimes {
    /// Timed iterations of the prefill graph (N tokens at once), ms.
    pub prefill_ms: Vec<f64>,
    /// Timed iterations of the decode graph (one token with the KV cache), ms.
    pub decode_ms: Vec<f64>,
    /// N: the tokens the prefill graph takes at once.
    pub prefill_tokens: usize,
    /// The prompt's tokens of each case with a prompt, in case order.
    pub prompt_tokens: Vec<usize>,
}

/// What an inference over all cases produced.
#[derive(Debug, Clone, Default)]
pub struct InferResult {
    pub outputs: Vec<CaseOutput>,
    pub jobs: Vec<JobLink>,
    /// Per case (by id), what the device adds to its row: why a case was not run (it is then
    /// skipped with this reason), or how a failed check came about.
    pub notes: Vec<(String, String)>,
}

/// Why a device could not deliver a measurement.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeviceError {
    /// The device or service could not be reached or refused the work.
    #[error("{0}")]
    Unavailable(String),
    /// A job ended FAILED.
    #[error("{kind:?} job {id} failed: {reason}", kind = job.kind, id = job.id)]
    JobFailed { job: JobLink, reason: String },
    /// A job did not finish within the per-job limit; `what` names the job waited on.
    #[error(
        "{what} did not finish within the job time limit of {} (--job-timeout)",
        crate::http::seconds_text(*after)
    )]
    Timeout { what: String, after: Duration },
    /// The model cannot run here (not ONNX for the local device, an unsupported operator, ...).
    #[error("{0}")]
    InvalidModel(String),
    /// A case input does not fit the model (shape, dtype, missing input).
    #[error("{0}")]
    InvalidInput(String),
    /// The run was interrupted (Ctrl-C, SIGTERM, the whole-run timeout).
    #[error("interrupted")]
    Interrupted,
    #[error("{0}")]
    Other(String),
}

/// A device that can prepare a model, profile it and run inference over the cases.
///
/// The engine may call `profile` and `infer` concurrently once `prepare` returned: AI Hub's
/// backend waits for the compile job once inside both and submits nothing if it failed.
#[async_trait]
pub trait Device: Send + Sync {
    /// The name from `device_matrix`.
    fn name(&self) -> &str;
    /// Compile (AI Hub) or load and optimise (local).
    async fn prepare(&self, model: &ModelArtifact) -> Result<Prepared, DeviceError>;
    /// Warm-up, then timed runs; latency, memory, load time, layer placement.
    async fn profile(
        &self,
        prepared: &Prepared,
        cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<ProfileResult, DeviceError>;
    /// One inference per case; the outputs every expectation is checked against.
    async fn infer(
        &self,
        prepared: &Prepared,
        cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<InferResult, DeviceError>;
}
