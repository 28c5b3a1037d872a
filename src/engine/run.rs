//! One whole run of a loaded project: execute its [`Plan`] (the one `run --dry-run` prints) device
//! by device and job by job, evaluate every case and gate, and assemble `results.json`. Nothing
//! here decides a default or re-reads the device matrix: the plan says which devices, runtimes,
//! jobs and cases, and its policy gives the limits. Printing and exit codes are the command's
//! business; this returns data or a typed [`RunError`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::clock::rfc3339;
use super::error::RunError;
use super::execute::{DeviceRun, DeviceTask, ExecOptions, execute};
use super::plan::{DevicePlan, Plan};
use super::progress::{Event, Progress, ProgressMode};
use crate::config::types::Metric;
use crate::config::{Project, PromptpackOrigin, Target};
use crate::device::aihub::{AihubDevice, HubContext, Notify, chain};
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
    /// An earlier run's results already in memory (a server's stored run), used instead of
    /// reading `baseline`: the name that stands for it in messages and results.json, and the
    /// results.
    pub baseline_given: Option<(String, Results)>,
    /// Ignore and do not write the job cache.
    pub no_cache: bool,
    /// The job cache file (default `.edgegate/cache/jobs.json` beside the config).
    pub cache_path: Option<PathBuf>,
    /// Explicit AI Hub settings (`--hub-url`).
    pub hub: HubOptions,
    /// Where AI Hub settings not in `hub` come from: `None` reads this process's environment
    /// and client.ini; a server passes `HubEnv::default()` so that only `hub` counts.
    pub hub_env: Option<HubEnv>,
    /// Timeouts, retries and polling of the AI Hub client.
    pub client: ClientOptions,
    /// Limit of one job; defaults to the whole-run limit.
    pub job_timeout: Option<Duration>,
}

/// The cache file of a project unless `--no-cache`.
fn cache_for(project: &Project, req: &RunRequest) -> Option<Arc<JobCache>> {
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
pub fn model_artifact(project: &Project) -> Result<ModelArtifact, RunError> {
    let path = &project.model_path;
    let mut reader =
        crate::files::reader(path, "model", crate::files::MODEL_LIMIT).map_err(RunError::Model)?;
    let sha256 = crate::files::sha256_hex(&mut reader).map_err(|source| RunError::ModelRead {
        path: path.clone(),
        source,
    })?;
    Ok(ModelArtifact {
        path: path.clone(),
        kind: project.model_kind,
        sha256,
        size_bytes: reader.bytes_read(),
        input_specs: project.config.model.input_specs.clone(),
    })
}

/// Every case's input tensors, read from the promptpack's files.
pub fn case_inputs(project: &Project, model: &ModelArtifact) -> Result<Vec<CaseInputs>, RunError> {
    if project.promptpack.is_none() {
        return Ok(Vec::new());
    }
    Ok(crate::device::inputs::load_case_inputs(project, model)?)
}

/// sha256 over the config file's bytes and the promptpack file's bytes.
fn config_digest(project: &Project) -> String {
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

/// Why the AI Hub devices of a run cannot be reached; each of them reports it as its error,
/// and the other devices still run.
#[derive(Debug, thiserror::Error)]
enum HubUnavailable {
    /// No token in the flags, the environment or client.ini.
    #[error(
        "this config has enabled AI Hub devices but {0}; or set `enabled: false` on them, or use a `provider: local` device"
    )]
    MissingToken(#[source] HubError),
    /// client.ini or the environment could not be read.
    #[error("{}", chain(.0))]
    Settings(#[source] HubError),
    /// The HTTP client could not be built.
    #[error("{0}")]
    Client(#[source] HubError),
}

/// The AI Hub side of a run: one shared context, or the reason no AI Hub device can run.
enum Hub {
    Ready(Arc<HubContext>),
    Unreachable(String),
}

/// Resolves the AI Hub client; an unusable URL is the user's input, anything else makes the AI
/// Hub devices unreachable.
fn hub_client(req: &RunRequest) -> Result<Result<HubClient, HubUnavailable>, RunError> {
    let env = req.hub_env.clone().unwrap_or_else(HubEnv::from_process);
    let config = match crate::hub::config::resolve(&req.hub, &env) {
        Ok(c) => c,
        Err(e @ HubError::InvalidUrl { .. }) => return Err(RunError::HubUrl(e)),
        Err(e @ HubError::MissingToken) => return Ok(Err(HubUnavailable::MissingToken(e))),
        Err(e) => return Ok(Err(HubUnavailable::Settings(e))),
    };
    Ok(HubClient::new(config, req.client).map_err(HubUnavailable::Client))
}

/// Connects the AI Hub side once, for the first AI Hub device of the plan.
fn connect(
    project: &Project,
    req: &RunRequest,
    progress: &Arc<dyn Progress>,
) -> Result<Hub, RunError> {
    match hub_client(req)? {
        Ok(client) => {
            let notify_progress = Arc::clone(progress);
            let notify: Notify = Arc::new(move |device: &str, msg: &str| {
                notify_progress.event(device, Event::Note(msg));
            });
            Ok(Hub::Ready(Arc::new(HubContext::new(
                client,
                cache_for(project, req),
                Some(notify),
            ))))
        }
        Err(why) => {
            let why = why.to_string();
            progress.message(&format!("error: {why}"));
            Ok(Hub::Unreachable(why))
        }
    }
}

/// The device that runs a planned AI Hub device: on the shared context, or one that reports
/// why AI Hub cannot be reached.
fn hub_device(
    project: &Project,
    dp: &DevicePlan,
    target: &crate::config::HubTarget,
    hub: &Hub,
) -> Arc<dyn Device> {
    match hub {
        Hub::Ready(ctx) => {
            let sized = dp
                .gates
                .iter()
                .any(|g| g.gate.metric == Metric::ModelSizeMb);
            Arc::new(
                AihubDevice::new(Arc::clone(ctx), &dp.name, target, project.model_kind)
                    .measure_model_size(sized),
            )
        }
        Hub::Unreachable(why) => Arc::new(Unreachable {
            name: dp.name.clone(),
            why: why.clone(),
        }),
    }
}

/// Executes `plan` (built by [`super::plan::build`] from `project`) to completion, or until
/// `stop`, and returns its results.
pub async fn run(
    project: &Project,
    plan: &Plan,
    req: &RunRequest,
    mode: ProgressMode,
    stop: CancellationToken,
) -> Result<Results, RunError> {
    let started_at = SystemTime::now();
    let started = Instant::now();
    let config = &project.config;
    let model = model_artifact(project)?;
    let names: Vec<String> = plan.devices.iter().map(|d| d.name.clone()).collect();
    let planned: Vec<&str> = names.iter().map(String::as_str).collect();
    let baseline = match (&req.baseline_given, &req.baseline) {
        (Some((name, b)), _) => {
            let p = PathBuf::from(name);
            eval::baseline::check_given(b, &p)?;
            eval::baseline::check(b, &p, &config.gates, &planned)?;
            Some((p, b.clone()))
        }
        (None, Some(p)) => {
            let b = eval::baseline::load(p)?;
            eval::baseline::check(&b, p, &config.gates, &planned)?;
            Some((p.clone(), b))
        }
        (None, None) => None,
    };
    let inputs = case_inputs(project, &model)?;
    let ctx = match &project.promptpack {
        Some(pack) => {
            eval::EvalContext::for_pack(pack, project.pack_dir.clone(), project.paths.clone())?
        }
        None => eval::EvalContext::default(),
    };
    let progress: Arc<dyn Progress> = Arc::from(mode.build(&names));
    let run_timeout = plan.policy.timeout();
    let settings = RunSettings {
        warmup_runs: plan.policy.warmup_runs,
        measurement_repeats: plan.policy.measurement_repeats,
        job_timeout: req.job_timeout.unwrap_or(run_timeout).min(run_timeout),
    };
    let mut hub: Option<Hub> = None;
    let generative = crate::generate::GenerativeSpec::for_project(project);
    let mut tasks = Vec::with_capacity(plan.devices.len());
    for dp in &plan.devices {
        let device: Arc<dyn Device> = match &dp.target {
            Target::Local => match &generative {
                Some(g) => Arc::new(crate::device::generative::GenerativeDevice::new(
                    &dp.name,
                    g.clone(),
                )),
                None => Arc::new(LocalDevice::new(&dp.name)),
            },
            Target::Aihub(target) => {
                let connected = match hub.take() {
                    Some(h) => h,
                    None => match connect(project, req, &progress) {
                        Ok(h) => h,
                        Err(e) => {
                            progress.finish();
                            return Err(e);
                        }
                    },
                };
                let device = hub_device(project, dp, target, &connected);
                hub = Some(connected);
                device
            }
        };
        tasks.push(DeviceTask {
            device,
            profile: dp.profiles(),
            infer: dp.inference_cases() > 0,
            settings: settings.clone(),
        });
    }
    let opts = ExecOptions {
        max_concurrency: plan.policy.max_concurrency as usize,
        run_timeout,
    };
    let execution = execute(
        &tasks,
        &model,
        Arc::new(inputs),
        &opts,
        stop,
        Arc::clone(&progress),
    )
    .await;
    progress.finish();
    let device_results: Vec<DeviceResult> = plan
        .devices
        .iter()
        .zip(&execution.devices)
        .map(|(dp, run)| evaluate_device(project, dp, run, &ctx, baseline.as_ref().map(|(_, b)| b)))
        .collect();
    let (summary, mut verdict) = eval::summarize(&device_results);
    if plan.shard.is_some() && device_results.is_empty() {
        // A shard of a matrix smaller than the shard count: nothing to measure here is not a
        // failure of this CI job; `edgegate merge` decides the run's verdict.
        verdict = crate::results::Verdict::Passed;
    }
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
        shard: plan.shard.clone(),
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

/// Checks the cases, aggregates metrics and evaluates the planned gates of one device.
fn evaluate_device(
    project: &Project,
    device: &DevicePlan,
    run: &DeviceRun,
    ctx: &eval::EvalContext,
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
                    if let Some(reason) = c.skip_text_for(project.config.model.tokenizer.is_some())
                    {
                        return eval::skipped_case(c, reason, ctx);
                    }
                    let out = run
                        .infer
                        .as_ref()
                        .and_then(|i| i.outputs.iter().find(|o| o.case_id == c.case_id));
                    eval::check_case(c, out, ctx)
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let metrics =
        eval::metrics::device_metrics(run.profile.as_ref(), run.prepared.as_ref(), &cases);
    let gates: Vec<(usize, &crate::config::Gate)> =
        device.gates.iter().map(|g| (g.index, &g.gate)).collect();
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
        hub_device: device.hub_device.clone(),
        runtime: device.target.hub().map(|h| h.runtime.as_str().to_string()),
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
pub fn results_path(project: &Project, flag: Option<&Path>) -> Result<PathBuf, RunError> {
    match (flag, &project.config.report.json) {
        (Some(p), _) => Ok(p.to_path_buf()),
        (None, Some(p)) => project
            .config_file(p)
            .map_err(|source| RunError::ResultsPath {
                source,
                help: project.paths.output_help("--json"),
            }),
        (None, None) => Ok(PathBuf::from("edgegate-results.json")),
    }
}
