//! One whole run of a loaded project: execute its [`Plan`] (the one `run --dry-run` prints) device
//! by device and job by job, evaluate every case and gate, and assemble `results.json`. Nothing
//! here decides a default or re-reads the device matrix: the plan says which devices, runtimes,
//! jobs and cases, and its policy gives the limits. Printing and exit codes are the command's
//! business; this returns data or a typed [`RunError`].

use std::collections::HashMap;
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
use crate::device::aihub_llm::{AihubLlmDevice, GraphFiles};
use crate::device::cache::JobCache;
use crate::device::local::LocalDevice;
use crate::device::{CaseInputs, Device, DeviceError, ModelArtifact, RunSettings};
use crate::eval;
use crate::hub::{ClientOptions, HubClient, HubEnv, HubError, HubOptions};
use crate::results::Results;
use crate::results::{
    BaselineInfo, DeviceResult, Environment, ModelInfo, PackInfo, RESULTS_VERSION, ToolInfo,
};

/// What `edgegate run` was asked to do, beyond the config.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// Earlier results for relative gates: results files, or folders of them (a history).
    pub baseline: Vec<PathBuf>,
    /// Paired mode: the baseline model file, measured beside the model in every run
    /// (`--baseline-model`; else the config's `model.baseline_path`).
    pub baseline_model: Option<PathBuf>,
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
    artifact_at(project, &project.model_path)
}

/// The baseline model of paired mode: `--baseline-model`, else `model.baseline_path`; it must
/// have the model's format.
pub fn baseline_model(
    project: &Project,
    req: &RunRequest,
) -> Result<Option<ModelArtifact>, RunError> {
    let path = match (&req.baseline_model, &project.config.model.baseline_path) {
        (Some(p), _) => p.clone(),
        (None, Some(named)) => {
            project
                .config_file(named)
                .map_err(|source| RunError::BaselineModelPath {
                    source,
                    help: project.paths.output_help("--baseline-model"),
                })?
        }
        (None, None) => return Ok(None),
    };
    let text = path.to_string_lossy().to_string();
    let kind = crate::config::ModelKind::from_path(&text).unwrap_or(project.model_kind);
    if kind != project.model_kind {
        return Err(RunError::BaselineModelKind {
            path,
            theirs: kind.as_str(),
            ours: project.model_kind.as_str(),
        });
    }
    artifact_at(project, &path).map(Some)
}

/// The model file at `path`, hashed from disk in bounded chunks.
pub fn artifact_at(project: &Project, path: &Path) -> Result<ModelArtifact, RunError> {
    let path = &path.to_path_buf();
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
    llm: Option<&LlmOnHub>,
) -> Arc<dyn Device> {
    match hub {
        Hub::Ready(ctx) if let Some(llm) = llm => Arc::new(AihubLlmDevice::new(
            Arc::clone(ctx),
            &dp.name,
            target,
            Arc::clone(&llm.files),
            llm.spec.clone(),
            Arc::clone(&llm.answers),
        )),
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

/// What the AI Hub devices of a generative model share: its two graphs, hashed, its tokenizer
/// and settings, and the `exact` answer of each case.
pub struct LlmOnHub {
    pub files: Arc<GraphFiles>,
    pub spec: crate::generate::GenerativeSpec,
    pub answers: Arc<HashMap<String, String>>,
}

/// The two graphs of a generative model, when the plan runs it on AI Hub.
pub fn llm_on_hub(project: &Project, plan: &Plan) -> Result<Option<LlmOnHub>, RunError> {
    let model = &project.config.model;
    let (Some(graphs), Some(spec)) = (
        &model.graphs,
        crate::generate::GenerativeSpec::for_project(project),
    ) else {
        return Ok(None);
    };
    if !plan
        .devices
        .iter()
        .any(|d| matches!(d.target, Target::Aihub(_)))
    {
        return Ok(None);
    }
    let artifact = |which: &'static str, file: &str| -> Result<ModelArtifact, RunError> {
        let path = project
            .config_file(file)
            .map_err(|source| RunError::GraphPath {
                which,
                source,
                help: project.paths.help(),
            })?;
        let mut a = artifact_at(project, &path)?;
        a.kind = crate::config::ModelKind::Onnx;
        a.input_specs = Default::default();
        Ok(a)
    };
    let files = GraphFiles {
        prefill: artifact("prefill", &graphs.prefill)?,
        decode: artifact("decode", &graphs.decode)?,
    };
    let answers = project
        .promptpack
        .iter()
        .flat_map(|p| &p.cases)
        .filter_map(|c| match &c.expected {
            crate::config::promptpack::Expected::Exact { text, .. } => {
                Some((c.case_id.clone(), text.clone()))
            }
            _ => None,
        })
        .collect();
    Ok(Some(LlmOnHub {
        files: Arc::new(files),
        spec,
        answers: Arc::new(answers),
    }))
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
    let base_model = baseline_model(project, req)?;
    let paired = base_model.is_some();
    let environment = environment(&plan.policy, paired);
    let baselines: Vec<(PathBuf, Results)> = match &req.baseline_given {
        Some((name, b)) => {
            let p = PathBuf::from(name);
            eval::baseline::check_given(b, &p)?;
            vec![(p, b.clone())]
        }
        None => eval::baseline::load_many(&req.baseline)?,
    };
    let this = eval::baseline::ThisRun {
        model_kind: model.kind.as_str(),
        devices: plan
            .devices
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    d.provider,
                    d.hub_device.clone(),
                    d.target.hub().map(|h| h.runtime.as_str().to_string()),
                )
            })
            .collect(),
        environment: &environment,
        version: env!("CARGO_PKG_VERSION"),
    };
    let mut warnings: Vec<String> = Vec::new();
    for (p, b) in &baselines {
        eval::baseline::check(b, p, &config.gates, &planned)?;
        for w in eval::baseline::comparability(b, p, &this)? {
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
    }
    if paired {
        for (i, g) in config.gates.iter().enumerate() {
            if g.history.is_some() {
                warnings.push(format!(
                    "gate {i} (`{}`): its `history:` threshold is not used in paired mode; the paired A/B runs of this run decide it (history applies when comparing with stored results, `--baseline`)",
                    g.metric.as_str()
                ));
            }
        }
    }
    let inputs = case_inputs(project, &model)?;
    let ctx = match &project.promptpack {
        Some(pack) => {
            eval::EvalContext::for_pack(pack, project.pack_dir.clone(), project.paths.clone())?
        }
        None => eval::EvalContext::default(),
    };
    let progress: Arc<dyn Progress> = Arc::from(mode.build(&names));
    let run_timeout = plan.policy.timeout();
    let runs = plan.policy.runs(paired);
    let settings = RunSettings {
        warmup_runs: plan.policy.warmup_runs,
        measurement_repeats: plan.policy.measurement_repeats,
        job_timeout: req.job_timeout.unwrap_or(run_timeout).min(run_timeout),
        round: 0,
        reuse_profiles: runs == 1 && !paired,
    };
    let view_of = |name: &str| -> Vec<DeviceResult> {
        baselines
            .iter()
            .filter_map(|(_, b)| eval::baseline::device(b, name).cloned())
            .collect()
    };
    let mut hub: Option<Hub> = None;
    let generative = crate::generate::GenerativeSpec::for_project(project);
    let llm = llm_on_hub(project, plan)?;
    if paired && llm.is_some() {
        return Err(RunError::PairedGraphs);
    }
    let mut tasks = Vec::with_capacity(plan.devices.len());
    for dp in &plan.devices {
        let mut base_device: Option<Arc<dyn Device>> = None;
        let device: Arc<dyn Device> = match &dp.target {
            Target::Local => {
                let make = || -> Arc<dyn Device> {
                    match &generative {
                        Some(g) => Arc::new(crate::device::generative::GenerativeDevice::new(
                            &dp.name,
                            g.clone(),
                        )),
                        None => Arc::new(LocalDevice::new(&dp.name)),
                    }
                };
                if paired {
                    base_device = Some(make());
                }
                make()
            }
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
                let device = hub_device(project, dp, target, &connected, llm.as_ref());
                if paired {
                    base_device = Some(hub_device(project, dp, target, &connected, None));
                }
                hub = Some(connected);
                device
            }
        };
        let relative: Vec<(usize, crate::config::Gate)> = dp
            .gates
            .iter()
            .filter(|g| g.gate.max_regression_pct.is_some())
            .map(|g| (g.index, g.gate.clone()))
            .collect();
        let stored = view_of(&dp.name);
        let can_decide = paired || !stored.is_empty();
        let more: Option<super::execute::MoreRuns> =
            (!relative.is_empty() && can_decide && (paired || runs > 1)).then(|| {
                let policy = plan.policy.clone();
                let f: super::execute::MoreRuns = Arc::new(move |a, b| {
                    let m = eval::metrics::device_metrics(a, None, &[]);
                    let bm = eval::metrics::device_metrics(b, None, &[]);
                    let refs: Vec<&DeviceResult> = stored.iter().collect();
                    let view = eval::gates::BaselineView {
                        given: true,
                        paired: paired.then_some(&bm),
                        stored: &refs,
                        confidence: policy.confidence,
                        on_inconclusive: policy.on_inconclusive,
                    };
                    let gates: Vec<(usize, &crate::config::Gate)> =
                        relative.iter().map(|(i, g)| (*i, g)).collect();
                    eval::gates::evaluate_gates(&gates, &m, &view, None)
                        .iter()
                        .any(|g| g.inconclusive)
                });
                f
            });
        tasks.push(DeviceTask {
            device,
            profile: dp.profiles(),
            infer: dp.inference_cases() > 0,
            settings: settings.clone(),
            runs,
            baseline: base_device.zip(base_model.clone()),
            extra_runs: if more.is_some() {
                plan.policy.max_extra_runs
            } else {
                0
            },
            more,
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
        .map(|(dp, run)| {
            let stored = view_of(&dp.name);
            let refs: Vec<&DeviceResult> = stored.iter().collect();
            evaluate_device(
                project,
                dp,
                run,
                &ctx,
                &Compare {
                    given: paired || !baselines.is_empty(),
                    paired,
                    stored: &refs,
                    policy: &plan.policy,
                },
            )
        })
        .collect();
    for d in &device_results {
        for g in &d.gates {
            if let Some(w) = eval::gates::noise_warning(&d.name, g)
                && !warnings.contains(&w)
            {
                warnings.push(w);
            }
        }
    }
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
        baseline: baselines.last().map(|(path, b)| BaselineInfo {
            path: path.display().to_string(),
            model_sha256: b.model.sha256.clone(),
            started_at: b.started_at.clone(),
            files: baselines.len(),
        }),
        baseline_model: base_model.as_ref().map(|m| ModelInfo {
            path: m.path.display().to_string(),
            kind: m.kind.as_str().into(),
            sha256: m.sha256.clone(),
            size_bytes: m.size_bytes,
        }),
        environment: Some(environment),
        warnings,
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

/// What the gates of one device compare against.
struct Compare<'a> {
    given: bool,
    paired: bool,
    stored: &'a [&'a DeviceResult],
    policy: &'a crate::config::types::RunPolicy,
}

/// What a measurement depends on besides the model: run policy, build, machine.
pub fn environment(policy: &crate::config::types::RunPolicy, paired: bool) -> Environment {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    });
    Environment {
        warmup_runs: policy.warmup_runs,
        measurement_repeats: policy.measurement_repeats,
        runs: policy.runs(paired),
        paired,
        build_profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .into(),
        cpu_model,
        cpu_cores: std::thread::available_parallelism()
            .ok()
            .map(|n| n.get() as u32),
        os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
    }
}

/// Checks the cases, aggregates metrics and evaluates the planned gates of one device.
fn evaluate_device(
    project: &Project,
    device: &DevicePlan,
    run: &DeviceRun,
    ctx: &eval::EvalContext,
    cmp: &Compare<'_>,
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
                    if let Some(s) = device.skipped_cases.iter().find(|s| s.case_id == c.case_id) {
                        return eval::skipped_case(c, s.reason.clone(), ctx);
                    }
                    let out = run
                        .infer
                        .as_ref()
                        .and_then(|i| i.outputs.iter().find(|o| o.case_id == c.case_id));
                    let note = run.infer.as_ref().and_then(|i| {
                        i.notes
                            .iter()
                            .find(|(id, _)| *id == c.case_id)
                            .map(|(_, n)| n.clone())
                    });
                    match (out, note) {
                        (None, Some(note)) => eval::skipped_case(c, note, ctx),
                        (out, note) => {
                            let mut r = eval::check_case(c, out, ctx);
                            if let Some(note) = note
                                && r.status != crate::results::CaseStatus::Passed
                            {
                                r.reason = Some(match r.reason.take() {
                                    Some(why) => format!("{why}; {note}"),
                                    None => note,
                                });
                            }
                            r
                        }
                    }
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let metrics = eval::metrics::device_metrics(&run.profiles, run.prepared.as_ref(), &cases);
    let baseline_metrics = if cmp.paired {
        eval::metrics::device_metrics(&run.baseline_profiles, None, &[])
    } else {
        Default::default()
    };
    let gates: Vec<(usize, &crate::config::Gate)> =
        device.gates.iter().map(|g| (g.index, &g.gate)).collect();
    let view = eval::gates::BaselineView {
        given: cmp.given,
        paired: cmp.paired.then_some(&baseline_metrics),
        stored: cmp.stored,
        confidence: cmp.policy.confidence,
        on_inconclusive: cmp.policy.on_inconclusive,
    };
    let gate_results = eval::gates::evaluate_gates(&gates, &metrics, &view, error.as_deref());
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
        layers: run.profiles.iter().find_map(|p| p.layers),
        cases,
        gates: gate_results,
        verdict,
        error,
        invalid_input: run.invalid_input,
        duration_s: run.duration.as_secs_f64(),
        baseline_metrics,
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
