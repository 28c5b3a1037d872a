//! One whole run of a loaded project: hash the model, load the cases, build the devices, execute,
//! evaluate every case and gate, and assemble `results.json`. Printing and exit codes are the
//! command's business; this returns data or a classified failure.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::clock::rfc3339;
use super::execute::{DeviceRun, ExecOptions, execute};
use super::progress::{Event, Progress, ProgressMode};
use crate::config::types::Provider;
use crate::config::{Project, PromptpackOrigin};
use crate::device::aihub::{AihubDevice, HubContext, Notify};
use crate::device::cache::JobCache;
use crate::device::local::LocalDevice;
use crate::device::{CaseInputs, Device, DeviceError, ModelArtifact, RunSettings};
use crate::eval;
use crate::hub::{ClientOptions, HubClient, HubEnv, HubError, HubOptions};
use crate::results::Results;
use crate::results::{BaselineInfo, DeviceResult, ModelInfo, PackInfo, RESULTS_VERSION, ToolInfo};

/// What `edgegate run` was asked to do, beyond the config.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// An earlier results file for relative gates.
    pub baseline: Option<PathBuf>,
    /// Ignore and do not write the job cache.
    pub no_cache: bool,
    /// The job cache file (default `.edgegate/cache/jobs.json` beside the config).
    pub cache_path: Option<PathBuf>,
    /// Explicit AI Hub settings (`--hub-url`).
    pub hub: HubOptions,
    /// Timeouts, retries and polling of the AI Hub client.
    pub client: ClientOptions,
    /// Limit of one job; defaults to the whole-run limit.
    pub job_timeout: Option<Duration>,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunFailure {
    /// The config, promptpack, inputs, baseline or command line is wrong (exit 2).
    #[error("{0}")]
    Invalid(String),
    /// The environment is missing something (a token, a writable folder) (exit 3).
    #[error("{0}")]
    Environment(String),
}

/// The cache file of a project unless `--no-cache`.
pub fn cache_for(project: &Project, req: &RunRequest) -> Option<Arc<JobCache>> {
    if req.no_cache {
        return None;
    }
    let path = req
        .cache_path
        .clone()
        .unwrap_or_else(|| project.cache_path.clone());
    Some(Arc::new(JobCache::open(&path)))
}

/// Hashes the model file and gathers what devices need to know about it.
pub fn model_artifact(project: &Project) -> Result<ModelArtifact, RunFailure> {
    let path = &project.model_path;
    let mut reader = crate::files::reader(path, "model", crate::files::MODEL_LIMIT)
        .map_err(|e| RunFailure::Invalid(e.to_string()))?;
    let sha256 = crate::files::sha256_hex(&mut reader)
        .map_err(|e| RunFailure::Invalid(format!("cannot read model `{}`: {e}", path.display())))?;
    Ok(ModelArtifact {
        path: path.clone(),
        kind: project.model_kind,
        sha256,
        size_bytes: reader.bytes_read(),
        input_specs: project.config.model.input_specs.clone(),
    })
}

/// Every case's input tensors, read from the promptpack's files.
pub fn case_inputs(
    project: &Project,
    model: &ModelArtifact,
) -> Result<Vec<CaseInputs>, RunFailure> {
    if project.promptpack.is_none() {
        return Ok(Vec::new());
    }
    crate::device::inputs::load_case_inputs(project, model)
        .map_err(|e| RunFailure::Invalid(e.to_string()))
}

/// sha256 over the config file's bytes and the promptpack file's bytes.
pub fn config_digest(project: &Project) -> String {
    let read = |p: &Path, what: &str| {
        crate::files::read(p, what, crate::files::CONFIG_LIMIT).unwrap_or_default()
    };
    let mut h = Sha256::new();
    h.update(read(&project.config_path, "config file"));
    if let PromptpackOrigin::File(p) = &project.promptpack_origin {
        h.update(read(p, "promptpack file"));
    }
    hex::encode(h.finalize())
}

/// Resolves the AI Hub client, mapping a missing token to an environment failure.
pub fn hub_client(req: &RunRequest) -> Result<HubClient, RunFailure> {
    let config = crate::hub::config::resolve(&req.hub, &HubEnv::from_process()).map_err(|e| {
        match e {
            HubError::MissingToken => RunFailure::Environment(format!(
                "this config has enabled AI Hub devices but {e}; or set `enabled: false` on them, or use a `provider: local` device"
            )),
            HubError::InvalidUrl { .. } => RunFailure::Invalid(e.to_string()),
            other => RunFailure::Environment(crate::device::aihub::chain(&other)),
        }
    })?;
    HubClient::new(config, req.client).map_err(|e| RunFailure::Environment(e.to_string()))
}

/// Runs a loaded project to completion (or until `stop`), returning its results.
pub async fn run(
    project: &Project,
    req: &RunRequest,
    mode: ProgressMode,
    stop: CancellationToken,
) -> Result<Results, RunFailure> {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let config = &project.config;
    let model = model_artifact(project)?;
    let baseline = match &req.baseline {
        Some(p) => {
            let b = eval::baseline::load(p).map_err(RunFailure::Invalid)?;
            let enabled: Vec<&str> = config
                .device_matrix
                .iter()
                .filter(|d| d.enabled)
                .map(|d| d.name.as_str())
                .collect();
            eval::baseline::check(&b, p, &config.gates, &enabled).map_err(RunFailure::Invalid)?;
            Some((p.clone(), b))
        }
        None => None,
    };
    let inputs = case_inputs(project, &model)?;
    let ctx = match &project.promptpack {
        Some(pack) => {
            eval::EvalContext::for_pack(pack, project.pack_dir.clone(), project.paths.clone())
                .map_err(RunFailure::Invalid)?
        }
        None => eval::EvalContext::default(),
    };
    let enabled: Vec<&crate::config::Device> =
        config.device_matrix.iter().filter(|d| d.enabled).collect();
    let names: Vec<String> = enabled.iter().map(|d| d.name.clone()).collect();
    let progress: Arc<dyn Progress> = Arc::from(mode.build(&names));
    let notify_progress = Arc::clone(&progress);
    let notify: Notify = Arc::new(move |device: &str, msg: &str| {
        notify_progress.event(device, Event::Note(msg));
    });
    let mut hub_ctx: Option<Result<Arc<HubContext>, String>> = None;
    let mut devices: Vec<Arc<dyn Device>> = Vec::new();
    for d in &enabled {
        match d.provider {
            Provider::Aihub => {
                if hub_ctx.is_none() {
                    hub_ctx = Some(match hub_client(req) {
                        Ok(client) => Ok(Arc::new(HubContext::new(
                            client,
                            cache_for(project, req),
                            Some(Arc::clone(&notify)),
                        ))),
                        Err(RunFailure::Environment(why)) => {
                            progress.message(&format!("error: {why}"));
                            Err(why)
                        }
                        Err(invalid) => {
                            progress.finish();
                            return Err(invalid);
                        }
                    });
                }
                let ctx = match &hub_ctx {
                    Some(Ok(c)) => Arc::clone(c),
                    Some(Err(why)) => {
                        devices.push(Arc::new(Unreachable {
                            name: d.name.clone(),
                            why: why.clone(),
                        }));
                        continue;
                    }
                    None => continue,
                };
                let hub_name = project
                    .hub_devices
                    .get(&d.name)
                    .cloned()
                    .unwrap_or_else(|| d.name.clone());
                let sized = eval::gates::applicable(&config.gates, &d.name)
                    .iter()
                    .any(|(_, g)| g.metric == crate::config::Metric::ModelSizeMb);
                devices.push(Arc::new(
                    AihubDevice::new(ctx, d, &hub_name, project.model_kind)
                        .measure_model_size(sized),
                ));
            }
            Provider::Local => devices.push(Arc::new(LocalDevice::new(&d.name))),
        }
    }
    let policy = &config.run_policy;
    let run_timeout = Duration::from_secs(u64::from(policy.timeout_minutes) * 60);
    let opts = ExecOptions {
        max_concurrency: policy.max_concurrency as usize,
        run_timeout,
        settings: RunSettings {
            warmup_runs: policy.warmup_runs,
            measurement_repeats: policy.measurement_repeats,
            job_timeout: req.job_timeout.unwrap_or(run_timeout).min(run_timeout),
        },
    };
    let execution = execute(
        &devices,
        &model,
        Arc::new(inputs),
        &opts,
        stop,
        Arc::clone(&progress),
    )
    .await;
    progress.finish();
    let device_results: Vec<DeviceResult> = enabled
        .iter()
        .zip(&execution.devices)
        .map(|(d, run)| evaluate_device(project, d, run, &ctx, baseline.as_ref().map(|(_, b)| b)))
        .collect();
    let (summary, mut verdict) = eval::summarize(&device_results);
    if execution.stopped.is_some() {
        verdict = crate::results::Verdict::Error;
    }
    Ok(Results {
        results_version: RESULTS_VERSION,
        tool: ToolInfo {
            name: "edgegate".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        pipeline: config.name.clone(),
        config_path: project.config_path.display().to_string(),
        config_digest: config_digest(project),
        model: ModelInfo {
            path: config.model.path.clone(),
            kind: model.kind.as_str().into(),
            sha256: model.sha256.clone(),
            size_bytes: model.size_bytes,
        },
        promptpack: project.promptpack.as_ref().map(|p| PackInfo {
            promptpack_id: p.promptpack_id.clone(),
            version: p.version.clone(),
            name: p.name.clone(),
            cases: p.cases.len(),
        }),
        ci: crate::ci::CiEnv::from_env().context(),
        baseline: baseline.as_ref().map(|(path, b)| BaselineInfo {
            path: path.display().to_string(),
            model_sha256: b.model.sha256.clone(),
            started_at: b.started_at.clone(),
        }),
        started_at: rfc3339(started_at),
        finished_at: rfc3339(SystemTime::now()),
        duration_s: started.elapsed().as_secs_f64(),
        interrupted: execution.stopped.is_some(),
        devices: device_results,
        summary,
        verdict,
    })
}

/// An AI Hub device that cannot be reached at all (no token, unreadable client.ini): it reports
/// why as its error, so results.json is written like for any other device error.
struct Unreachable {
    name: String,
    why: String,
}

#[async_trait::async_trait]
impl Device for Unreachable {
    fn name(&self) -> &str {
        &self.name
    }

    async fn prepare(
        &self,
        _model: &ModelArtifact,
    ) -> Result<crate::device::Prepared, DeviceError> {
        Err(DeviceError::Unavailable(self.why.clone()))
    }

    async fn profile(
        &self,
        _prepared: &crate::device::Prepared,
        _cases: &[CaseInputs],
        _settings: &RunSettings,
    ) -> Result<crate::device::ProfileResult, DeviceError> {
        Err(DeviceError::Unavailable(self.why.clone()))
    }

    async fn infer(
        &self,
        _prepared: &crate::device::Prepared,
        _cases: &[CaseInputs],
        _settings: &RunSettings,
    ) -> Result<crate::device::InferResult, DeviceError> {
        Err(DeviceError::Unavailable(self.why.clone()))
    }
}

/// Checks the cases, aggregates metrics and evaluates the gates of one device.
pub fn evaluate_device(
    project: &Project,
    device: &crate::config::Device,
    run: &DeviceRun,
    ctx: &eval::expect::EvalContext,
    baseline: Option<&Results>,
) -> DeviceResult {
    let error = run.error();
    let cases = project
        .promptpack
        .as_ref()
        .map(|p| {
            p.cases
                .iter()
                .map(|c| {
                    let out = run
                        .infer
                        .as_ref()
                        .and_then(|i| i.outputs.iter().find(|o| o.case_id == c.case_id));
                    eval::expect::check_case(c, out, ctx)
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let metrics =
        eval::metrics::device_metrics(run.profile.as_ref(), run.prepared.as_ref(), &cases);
    let gates = eval::gates::applicable(&project.config.gates, &device.name);
    let base = baseline.and_then(|b| eval::baseline::device(b, &device.name));
    let gate_results =
        eval::gates::evaluate_gates(&gates, &metrics, base, baseline.is_some(), error.as_deref());
    let verdict = if run.interrupted {
        crate::results::Verdict::Error
    } else {
        eval::gates::device_verdict(&gate_results, error.as_deref())
    };
    DeviceResult {
        name: device.name.clone(),
        provider: device.provider,
        hub_device: project.hub_devices.get(&device.name).cloned(),
        runtime: (device.provider == Provider::Aihub).then(|| {
            device
                .runtime
                .unwrap_or(crate::config::types::Runtime::Tflite)
                .as_str()
                .to_string()
        }),
        jobs: run.jobs.clone(),
        metrics,
        layers: run.profile.as_ref().and_then(|p| p.layers),
        cases,
        gates: gate_results,
        verdict,
        error,
        invalid_input: run.invalid_input,
        duration_s: run.duration.as_secs_f64(),
    }
}

/// Where results.json goes: `--json` (the user's choice, anywhere), else `report.json` of the
/// config (beside it, inside the project), else `edgegate-results.json` in the working folder.
pub fn results_path(project: &Project, flag: Option<&Path>) -> Result<PathBuf, RunFailure> {
    match (flag, &project.config.report.json) {
        (Some(p), _) => Ok(p.to_path_buf()),
        (None, Some(p)) => project.config_file(p).map_err(|e| {
            RunFailure::Invalid(format!(
                "report file {e}\nhelp: {}",
                project.paths.output_help("--json")
            ))
        }),
        (None, None) => Ok(PathBuf::from("edgegate-results.json")),
    }
}
