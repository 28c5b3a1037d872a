//! The plan of a run: per device, which jobs are submitted, which cases run and which gates apply.
//! `edgegate run --dry-run` prints it without touching the network; the executor follows it.

use std::fmt::Write as _;

use serde::Serialize;

use crate::config::types::{Gate, Provider, RunPolicy};
use crate::config::{Expected, Project, Target};
use crate::eval::gates::applicable;
use crate::results::ShardInfo;

/// Device minutes an AI Hub profile job is estimated to hold a device (provisioning + measuring).
pub const EST_PROFILE_MINUTES: f64 = 1.0;
/// Device minutes an AI Hub inference job is estimated to hold a device, before per-case time.
pub const EST_INFERENCE_MINUTES: f64 = 0.5;
/// Device minutes added per case of an inference job.
pub const EST_MINUTES_PER_CASE: f64 = 0.01;

/// What a run will do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub pipeline: String,
    pub model: ModelPlan,
    pub promptpack: Option<PackPlan>,
    pub devices: Vec<DevicePlan>,
    /// Disabled devices, listed so nobody wonders where they went.
    pub skipped_devices: Vec<String>,
    /// AI Hub jobs over all devices.
    pub total_hub_jobs: u32,
    /// Rough AI Hub device minutes over all devices.
    pub estimated_device_minutes: f64,
    /// Whether some gate compares against a baseline (`--baseline` needed).
    pub needs_baseline: bool,
    /// With `--shard i/n`: which slice of the enabled devices this plan covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// Independent measurement runs per device (`run_policy.runs`).
    pub runs: u32,
    /// Paired mode: the baseline model measured beside the model in every run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_model: Option<String>,
    /// Extra runs a device may take while a relative gate is inconclusive.
    pub max_extra_runs: u32,
    /// AI Hub device minutes those extra runs cost at most, over all devices.
    pub extra_device_minutes: f64,
    /// The run policy the jobs were planned with: execution takes its limits from here.
    #[serde(skip)]
    pub policy: RunPolicy,
}

/// The model as the plan sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelPlan {
    pub path: String,
    pub kind: &'static str,
    pub size_bytes: Option<u64>,
}

/// The promptpack as the plan sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PackPlan {
    pub promptpack_id: String,
    pub version: String,
    pub cases: usize,
    /// Cases with an expectation (the denominator of `accuracy`).
    pub checked_cases: usize,
    /// Cases that can be given to the model: inference and the dataset upload cover only these.
    pub runnable_cases: usize,
    /// Cases that cannot be given to the model, with the reason; `run` reports them as skipped.
    pub skipped_cases: Vec<SkippedCase>,
}

/// A case the plan does not run, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedCase {
    pub case_id: String,
    pub reason: String,
}

/// One job the executor will submit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum JobPlan {
    /// Upload the model file (once per run, shared by every AI Hub device).
    UploadModel,
    /// Upload the case inputs as one dataset (once per run, shared).
    UploadDataset { cases: usize },
    /// Compile for a target runtime.
    Compile {
        runtime: &'static str,
        options: Option<String>,
    },
    /// Profile: warm-up and timed iterations on the device, one job per run (and per model in
    /// paired mode).
    Profile {
        iterations: u32,
        #[serde(skip_serializing_if = "is_one")]
        runs: u32,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        paired: bool,
    },
    /// Inference over every case in one dataset.
    Inference { cases: usize },
    /// A generative model on AI Hub: upload its two graphs (once per run, shared).
    UploadGraphs,
    /// A generative model on AI Hub: compile the prefill and the decode graph (two jobs).
    CompileGraphs {
        runtime: &'static str,
        options: Option<String>,
    },
    /// A generative model on AI Hub: profile the prefill and the decode graph, one job each per
    /// run; `prefill_ms` and `decode_ms` are measured, `ttft_ms` and `tps` estimated from them.
    ProfileGraphs {
        iterations: u32,
        #[serde(skip_serializing_if = "is_one")]
        runs: u32,
    },
    /// A generative model on AI Hub: one inference job of the prefill graph over every case with
    /// an `exact` answer, each prompt followed by its answer (teacher forcing).
    TeacherForced { cases: usize },
    /// Local CPU run: load once, warm-up, timed repeats per case.
    LocalRun {
        warmup_runs: u32,
        measurement_repeats: u32,
        cases: usize,
        #[serde(skip_serializing_if = "is_one")]
        runs: u32,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        paired: bool,
    },
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// What happens on one device.
#[derive(Debug, Clone, Serialize)]
pub struct DevicePlan {
    pub name: String,
    pub provider: Provider,
    /// The AI Hub device name it resolves to.
    pub hub_device: Option<String>,
    pub jobs: Vec<JobPlan>,
    pub gates: Vec<GatePlan>,
    pub hub_jobs: u32,
    pub estimated_device_minutes: f64,
    /// Jobs a finished earlier run left in the job cache; they are re-read, not submitted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reused: Vec<ReusedJob>,
    /// Cases this device skips although the run gives them to others (a generative model on
    /// AI Hub checks `exact` answers only), with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped_cases: Vec<SkippedCase>,
    /// How the device is reached (AI Hub device, runtime and options, or the local CPU).
    #[serde(skip)]
    pub target: Target,
}

impl DevicePlan {
    /// Whether the plan measures on this device: an AI Hub profile job or a local run.
    pub fn profiles(&self) -> bool {
        self.jobs.iter().any(|j| {
            matches!(
                j,
                JobPlan::Profile { .. } | JobPlan::ProfileGraphs { .. } | JobPlan::LocalRun { .. }
            )
        })
    }

    /// The cases the plan runs inference over on this device (0: no inference).
    pub fn inference_cases(&self) -> usize {
        self.jobs
            .iter()
            .map(|j| match j {
                JobPlan::Inference { cases }
                | JobPlan::TeacherForced { cases }
                | JobPlan::LocalRun { cases, .. } => *cases,
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }
}

/// A job of the plan that the job cache already holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReusedJob {
    /// `upload_model`, `compile`, `profile` or `inference` (`compile_graphs`, `profile_graphs`,
    /// `teacher_forced` for a generative model's graphs).
    pub kind: &'static str,
    /// The AI Hub job id (the model id for an upload; for two graphs, the ids found, named).
    pub id: String,
    /// How many AI Hub jobs it stands for (two graphs: 1 or 2).
    #[serde(skip)]
    pub jobs: u32,
}

/// What the job cache lookup of a plan needs.
pub struct CacheLookup<'a> {
    /// The job cache of the project.
    pub cache: &'a crate::device::cache::JobCache,
    /// The AI Hub API base URL the run would use.
    pub hub_url: &'a str,
    /// sha256 of the model file.
    pub model_sha256: &'a str,
    /// sha256 of the case inputs, when they could be read.
    pub inputs_sha256: Option<&'a str>,
    /// A generative model on AI Hub: what its graphs' jobs are keyed by.
    pub graphs: Option<&'a GraphLookup>,
    /// Paired mode: sha256 of the baseline model file, whose compile jobs are cached too.
    pub baseline_sha256: Option<&'a str>,
}

/// What the jobs of a generative model's two graphs are keyed by.
pub struct GraphLookup {
    pub prefill_sha256: String,
    pub decode_sha256: String,
    /// The digest of the teacher-forced inputs, when they could be built.
    pub inputs_sha256: Option<String>,
}

/// A gate as it applies to one device.
#[derive(Debug, Clone, Serialize)]
pub struct GatePlan {
    pub index: usize,
    pub text: String,
    pub relative: bool,
    /// The gate itself, as evaluation reads it.
    #[serde(skip)]
    pub gate: Gate,
}

/// A gate in one line: `inference_time_ms ≤ 150` or `inference_time_ms +10% max vs baseline`.
pub fn gate_text(g: &Gate) -> String {
    match (g.operator, g.threshold, g.max_regression_pct) {
        (Some(op), Some(t), _) => format!("{} {} {t}", g.metric.as_str(), op.as_str()),
        (_, _, Some(pct)) => format!("{} regresses at most {pct}% vs baseline", g.metric.as_str()),
        _ => g.metric.as_str().to_string(),
    }
}

/// One slice of the device matrix (`run --shard i/n`): the enabled devices, in config order, are
/// dealt round-robin, so device number p (0-based) goes to shard `p mod n + 1`. Every device is in
/// exactly one shard, the slices differ in size by at most one, and the rule depends only on
/// the config, so every job of a CI matrix computes the same split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `i/n` with 1 ≤ i ≤ n.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let usage = || "expected I/N with 1 ≤ I ≤ N, e.g. 2/3".to_string();
        let (i, n) = text.trim().split_once('/').ok_or_else(usage)?;
        let index: u32 = i.trim().parse().map_err(|_| usage())?;
        let count: u32 = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || index == 0 || index > count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }

    /// Whether the enabled device at `position` (0-based, config order) is in this shard.
    pub fn includes(&self, position: usize) -> bool {
        position % self.count as usize == (self.index - 1) as usize
    }
}

/// Builds the plan of a loaded project.
pub fn build(project: &Project) -> Plan {
    build_shard(project, None)
}

/// Builds the plan of one shard of a loaded project's device matrix (all of it with `None`).
pub fn build_shard(project: &Project, shard: Option<Shard>) -> Plan {
    build_paired(project, shard, project.config.model.baseline_path.clone())
}

/// Builds the plan of one shard, with `baseline_model` (paired mode: `--baseline-model`, else
/// `model.baseline_path`) measured beside the model in every run.
pub fn build_paired(
    project: &Project,
    shard: Option<Shard>,
    baseline_model: Option<String>,
) -> Plan {
    let config = &project.config;
    let policy = &config.run_policy;
    let paired = baseline_model.is_some();
    let runs = policy.runs(paired);
    let sides = if paired { 2.0 } else { 1.0 };
    let has_relative = config.gates.iter().any(|g| g.max_regression_pct.is_some());
    let extra = if has_relative && (paired || runs > 1) {
        policy.max_extra_runs
    } else {
        0
    };
    let mut extra_minutes = 0.0;
    let (all_cases, checked) = project
        .promptpack
        .as_ref()
        .map(|p| {
            (
                p.cases.len(),
                p.cases
                    .iter()
                    .filter(|c| !matches!(c.expected, Expected::None {}))
                    .count(),
            )
        })
        .unwrap_or((0, 0));
    let skipped_cases: Vec<SkippedCase> = project
        .promptpack
        .iter()
        .flat_map(|p| &p.cases)
        .filter_map(|c| {
            c.skip_text_for(config.model.tokenizer.is_some())
                .map(|reason| SkippedCase {
                    case_id: c.case_id.clone(),
                    reason,
                })
        })
        .collect();
    let cases = all_cases - skipped_cases.len();
    // A generative model runs on AI Hub as its two graphs (`model.graphs`).
    let llm = config.model.tokenizer.is_some() && config.model.graphs.is_some();
    // A prefill graph with inputs besides `input_ids` is profiled but not teacher-forced.
    let unforceable = config
        .model
        .graphs
        .as_ref()
        .filter(|_| llm)
        .and_then(|g| project.config_file(&g.prefill).ok())
        .and_then(|p| crate::device::aihub_llm::unforceable(&p));
    let mut devices = Vec::new();
    let mut first_hub = true;
    let shard_info = shard.map(|s| ShardInfo {
        index: s.index,
        count: s.count,
        matrix: project.enabled_devices().map(|d| d.name.clone()).collect(),
    });
    for (position, d) in project.enabled_devices().enumerate() {
        if shard.is_some_and(|s| !s.includes(position)) {
            continue;
        }
        let gates: Vec<GatePlan> = applicable(&config.gates, &d.name)
            .into_iter()
            .map(|(i, g)| GatePlan {
                index: i,
                text: gate_text(g),
                relative: g.max_regression_pct.is_some(),
                gate: g.clone(),
            })
            .collect();
        let mut jobs = Vec::new();
        let mut hub_jobs = 0;
        let mut minutes = 0.0;
        let mut device_skips = Vec::new();
        match &d.target {
            Target::Local => jobs.push(JobPlan::LocalRun {
                warmup_runs: policy.warmup_runs,
                measurement_repeats: policy.measurement_repeats,
                cases,
                runs,
                paired,
            }),
            Target::Aihub(hub) if llm => {
                let forceable = |c: &&crate::config::Case| {
                    unforceable.is_none() && matches!(c.expected, Expected::Exact { .. })
                };
                let prompted = || {
                    project
                        .promptpack
                        .iter()
                        .flat_map(|p| &p.cases)
                        .filter(|c| c.prompt.is_some())
                };
                let forced = prompted().filter(forceable).count();
                device_skips = prompted()
                    .filter(|c| !forceable(c))
                    .map(|c| SkippedCase {
                        case_id: c.case_id.clone(),
                        reason: unforceable
                            .clone()
                            .unwrap_or_else(|| crate::device::aihub_llm::NEEDS_EXACT.to_string()),
                    })
                    .collect();
                if first_hub {
                    jobs.push(JobPlan::UploadGraphs);
                    if forced > 0 {
                        jobs.push(JobPlan::UploadDataset { cases: forced });
                    }
                    first_hub = false;
                }
                jobs.push(JobPlan::CompileGraphs {
                    runtime: hub.runtime.as_str(),
                    options: hub.compile_options.clone(),
                });
                hub_jobs += 2;
                jobs.push(JobPlan::ProfileGraphs {
                    iterations: policy.warmup_runs + policy.measurement_repeats,
                    runs,
                });
                hub_jobs += 2 * runs;
                minutes += 2.0 * EST_PROFILE_MINUTES * f64::from(runs);
                extra_minutes += 2.0 * EST_PROFILE_MINUTES * f64::from(extra);
                if forced > 0 {
                    jobs.push(JobPlan::TeacherForced { cases: forced });
                    hub_jobs += 1;
                    minutes += EST_INFERENCE_MINUTES + EST_MINUTES_PER_CASE * forced as f64;
                }
            }
            Target::Aihub(hub) => {
                if first_hub {
                    jobs.push(JobPlan::UploadModel);
                    if cases > 0 {
                        jobs.push(JobPlan::UploadDataset { cases });
                    }
                    first_hub = false;
                }
                if project.model_kind.needs_compile(hub.runtime) {
                    jobs.push(JobPlan::Compile {
                        runtime: hub.runtime.as_str(),
                        options: hub.compile_options.clone(),
                    });
                    // Paired: the baseline model compiles too (the job cache reuses it when unchanged).
                    hub_jobs += if paired { 2 } else { 1 };
                }
                jobs.push(JobPlan::Profile {
                    iterations: policy.warmup_runs + policy.measurement_repeats,
                    runs,
                    paired,
                });
                hub_jobs += runs * if paired { 2 } else { 1 };
                minutes += EST_PROFILE_MINUTES * sides * f64::from(runs);
                extra_minutes += EST_PROFILE_MINUTES * sides * f64::from(extra);
                if cases > 0 {
                    jobs.push(JobPlan::Inference { cases });
                    hub_jobs += 1;
                    minutes += EST_INFERENCE_MINUTES + EST_MINUTES_PER_CASE * cases as f64;
                }
            }
        }
        devices.push(DevicePlan {
            name: d.name.clone(),
            provider: d.target.provider(),
            hub_device: d.target.hub().map(|h| h.hub_device.clone()),
            jobs,
            gates,
            hub_jobs,
            estimated_device_minutes: minutes,
            reused: Vec::new(),
            skipped_cases: device_skips,
            target: d.target.clone(),
        });
    }
    Plan {
        pipeline: config.name.clone(),
        model: ModelPlan {
            path: config.model.path.clone(),
            kind: project.model_kind.as_str(),
            size_bytes: std::fs::metadata(&project.model_path).ok().map(|m| m.len()),
        },
        promptpack: project.promptpack.as_ref().map(|p| PackPlan {
            promptpack_id: p.promptpack_id.clone(),
            version: p.version.clone(),
            cases: all_cases,
            checked_cases: checked,
            runnable_cases: cases,
            skipped_cases,
        }),
        total_hub_jobs: devices.iter().map(|d| d.hub_jobs).sum(),
        estimated_device_minutes: devices.iter().map(|d| d.estimated_device_minutes).sum(),
        skipped_devices: project
            .devices
            .iter()
            .filter(|d| !d.enabled)
            .map(|d| d.name.clone())
            .collect(),
        needs_baseline: config.gates.iter().any(|g| g.max_regression_pct.is_some()),
        devices,
        shard: shard_info,
        policy: policy.clone(),
        runs,
        baseline_model,
        max_extra_runs: extra,
        extra_device_minutes: extra_minutes,
    }
}

/// The cached jobs of a generative model's graphs that stand in for `job`: both graphs' compile
/// or profile jobs (those found), or the teacher-forced inference job.
fn graph_hits(
    job: &JobPlan,
    g: &GraphLookup,
    parts: &crate::device::cache::JobKeyParts<'_>,
    hub: &crate::config::HubTarget,
    cache: &crate::device::cache::JobCache,
) -> Option<ReusedJob> {
    use crate::device::cache::{
        CachedKind, JobKeyParts, inference_options, job_key, profile_options,
    };
    fn graph<'b>(parts: &JobKeyParts<'b>, sha: &'b str) -> JobKeyParts<'b> {
        JobKeyParts {
            hub_url: parts.hub_url,
            model_sha256: sha,
            model_kind: crate::config::ModelKind::Onnx,
            hub_device: parts.hub_device,
            runtime: parts.runtime,
            compile_options: parts.compile_options,
        }
    }
    let (kind, keys) = match job {
        JobPlan::CompileGraphs { .. } => (
            "compile_graphs",
            vec![
                (
                    "prefill",
                    job_key(
                        &graph(parts, &g.prefill_sha256),
                        CachedKind::Compile,
                        "",
                        "",
                    ),
                ),
                (
                    "decode",
                    job_key(&graph(parts, &g.decode_sha256), CachedKind::Compile, "", ""),
                ),
            ],
        ),
        JobPlan::ProfileGraphs {
            iterations,
            runs: 1,
        } => {
            let o = profile_options(*iterations, hub.profile_options.as_deref());
            (
                "profile_graphs",
                vec![
                    (
                        "prefill",
                        job_key(
                            &graph(parts, &g.prefill_sha256),
                            CachedKind::Profile,
                            &o,
                            "",
                        ),
                    ),
                    (
                        "decode",
                        job_key(&graph(parts, &g.decode_sha256), CachedKind::Profile, &o, ""),
                    ),
                ],
            )
        }
        JobPlan::TeacherForced { .. } => (
            "teacher_forced",
            vec![(
                "prefill",
                job_key(
                    &graph(parts, &g.prefill_sha256),
                    CachedKind::Inference,
                    &inference_options(hub.profile_options.as_deref()),
                    g.inputs_sha256.as_deref()?,
                ),
            )],
        ),
        _ => return None,
    };
    let hits: Vec<String> = keys
        .iter()
        .filter_map(|(name, key)| cache.get(key).map(|h| format!("{name} {}", h.id)))
        .collect();
    (!hits.is_empty()).then(|| ReusedJob {
        kind,
        jobs: hits.len() as u32,
        id: hits.join(", "),
    })
}

/// Marks the jobs the job cache already holds, and takes them out of the job and minute counts.
pub fn mark_reused(plan: &mut Plan, project: &Project, lookup: &CacheLookup<'_>) {
    use crate::device::cache::{
        CachedKind, JobKeyParts, inference_options, job_key, profile_options, upload_key,
    };
    for dp in &mut plan.devices {
        let Target::Aihub(hub) = &dp.target else {
            continue;
        };
        let parts = JobKeyParts {
            hub_url: lookup.hub_url,
            model_sha256: lookup.model_sha256,
            model_kind: project.model_kind,
            hub_device: &hub.hub_device,
            runtime: hub.runtime,
            compile_options: hub.compile_options.as_deref(),
        };
        let mut reused = Vec::new();
        for job in &dp.jobs {
            let (kind, key) = match job {
                JobPlan::UploadModel => (
                    "upload_model",
                    upload_key(lookup.hub_url, lookup.model_sha256),
                ),
                JobPlan::UploadDataset { .. } => continue,
                JobPlan::Compile { .. } => {
                    ("compile", job_key(&parts, CachedKind::Compile, "", ""))
                }
                JobPlan::Profile {
                    iterations,
                    runs: 1,
                    paired: false,
                } => (
                    "profile",
                    job_key(
                        &parts,
                        CachedKind::Profile,
                        &profile_options(*iterations, hub.profile_options.as_deref()),
                        "",
                    ),
                ),
                JobPlan::Inference { .. } => match lookup.inputs_sha256 {
                    Some(inputs) => (
                        "inference",
                        job_key(
                            &parts,
                            CachedKind::Inference,
                            &inference_options(hub.profile_options.as_deref()),
                            inputs,
                        ),
                    ),
                    None => continue,
                },
                JobPlan::Profile { .. } | JobPlan::LocalRun { .. } => continue,
                JobPlan::UploadGraphs => continue,
                JobPlan::CompileGraphs { .. }
                | JobPlan::ProfileGraphs { .. }
                | JobPlan::TeacherForced { .. } => {
                    if let Some(g) = lookup.graphs
                        && let Some(hit) = graph_hits(job, g, &parts, hub, lookup.cache)
                    {
                        reused.push(hit);
                    }
                    continue;
                }
            };
            let mut ids: Vec<String> = lookup.cache.get(&key).map(|h| h.id).into_iter().collect();
            // Paired mode compiles the baseline model too.
            if kind == "compile"
                && let Some(base) = lookup.baseline_sha256
            {
                let base_parts = JobKeyParts {
                    model_sha256: base,
                    ..parts
                };
                if let Some(hit) =
                    lookup
                        .cache
                        .get(&job_key(&base_parts, CachedKind::Compile, "", ""))
                {
                    ids.push(format!("baseline {}", hit.id));
                }
            }
            if !ids.is_empty() {
                reused.push(ReusedJob {
                    kind,
                    jobs: ids.len() as u32,
                    id: ids.join(", "),
                });
            }
        }
        for r in &reused {
            match r.kind {
                "compile_graphs" | "compile" => dp.hub_jobs = dp.hub_jobs.saturating_sub(r.jobs),
                "profile_graphs" => {
                    dp.hub_jobs = dp.hub_jobs.saturating_sub(r.jobs);
                    dp.estimated_device_minutes -= EST_PROFILE_MINUTES * f64::from(r.jobs);
                }
                "teacher_forced" => {
                    dp.hub_jobs = dp.hub_jobs.saturating_sub(1);
                    dp.estimated_device_minutes -= EST_INFERENCE_MINUTES;
                }
                "profile" => {
                    dp.hub_jobs = dp.hub_jobs.saturating_sub(1);
                    dp.estimated_device_minutes -= EST_PROFILE_MINUTES;
                }
                "inference" => {
                    dp.hub_jobs = dp.hub_jobs.saturating_sub(1);
                    let cases = plan
                        .promptpack
                        .as_ref()
                        .map(|p| p.runnable_cases)
                        .unwrap_or(0);
                    dp.estimated_device_minutes -=
                        EST_INFERENCE_MINUTES + EST_MINUTES_PER_CASE * cases as f64;
                }
                _ => {}
            }
        }
        dp.estimated_device_minutes = dp.estimated_device_minutes.max(0.0);
        dp.reused = reused;
    }
    plan.total_hub_jobs = plan.devices.iter().map(|d| d.hub_jobs).sum();
    plan.estimated_device_minutes = plan
        .devices
        .iter()
        .map(|d| d.estimated_device_minutes)
        .sum();
}

impl Plan {
    /// The plan as readable text.
    pub fn render_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "Plan for pipeline \"{}\" (dry run: nothing is uploaded or run)",
            self.pipeline
        );
        if let Some(sh) = &self.shard {
            let _ = writeln!(
                o,
                "  shard:      {}/{}: {} of the {} enabled device{} (round-robin in config order)",
                sh.index,
                sh.count,
                self.devices.len(),
                sh.matrix.len(),
                if sh.matrix.len() == 1 { "" } else { "s" },
            );
        }
        let size = self
            .model
            .size_bytes
            .map(human_bytes)
            .unwrap_or_else(|| "size unknown".into());
        let _ = writeln!(
            o,
            "  model:      {} ({}, {size})",
            self.model.path, self.model.kind
        );
        match &self.promptpack {
            Some(p) => {
                let _ = write!(
                    o,
                    "  promptpack: {} {} — {} case{} ({} checked)",
                    p.promptpack_id,
                    p.version,
                    p.cases,
                    if p.cases == 1 { "" } else { "s" },
                    p.checked_cases,
                );
                if p.skipped_cases.is_empty() {
                    let _ = writeln!(o);
                } else {
                    let _ = writeln!(
                        o,
                        ": {} to run, {} skipped",
                        p.runnable_cases,
                        p.skipped_cases.len()
                    );
                }
                for c in &p.skipped_cases {
                    let _ = writeln!(o, "    skipped case {}: {}", c.case_id, c.reason);
                }
            }
            None => {
                let _ = writeln!(o, "  promptpack: resolved by the server at run time");
            }
        }
        for d in &self.devices {
            let target = match (&d.provider, &d.hub_device) {
                (Provider::Local, _) => "local CPU".to_string(),
                (Provider::Aihub, Some(h)) => format!("AI Hub: {h}"),
                (Provider::Aihub, None) => "AI Hub".to_string(),
            };
            let _ = writeln!(o, "\n  device {} ({target})", d.name);
            if !d.skipped_cases.is_empty() {
                let _ = writeln!(
                    o,
                    "    skips {} case{} here: {}",
                    d.skipped_cases.len(),
                    if d.skipped_cases.len() == 1 { "" } else { "s" },
                    d.skipped_cases
                        .iter()
                        .map(|c| c.case_id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let _ = writeln!(o, "      ({})", d.skipped_cases[0].reason);
            }
            for (i, j) in d.jobs.iter().enumerate() {
                let reused = d.reused.iter().find(|r| r.kind == job_kind(j));
                match reused {
                    Some(r) => {
                        let _ = writeln!(
                            o,
                            "    {}. {} — reused from cache ({})",
                            i + 1,
                            job_text(j),
                            r.id
                        );
                    }
                    None => {
                        let _ = writeln!(o, "    {}. {}", i + 1, job_text(j));
                    }
                }
            }
            if d.gates.is_empty() {
                let _ = writeln!(o, "    gates: none");
            } else {
                let _ = writeln!(o, "    gates:");
                for g in &d.gates {
                    let _ = writeln!(o, "      - [{}] {}", g.index, g.text);
                }
            }
        }
        if self.shard.is_some() && self.devices.is_empty() {
            let _ = writeln!(
                o,
                "\n  no device in this shard: it passes, `edgegate merge` decides the verdict"
            );
        }
        for s in &self.skipped_devices {
            let _ = writeln!(o, "\n  device {s}: disabled, skipped");
        }
        let _ = writeln!(
            o,
            "\n  total: {} AI Hub job{}, about {:.1} device minute{}",
            self.total_hub_jobs,
            if self.total_hub_jobs == 1 { "" } else { "s" },
            self.estimated_device_minutes,
            if (self.estimated_device_minutes - 1.0).abs() < f64::EPSILON {
                ""
            } else {
                "s"
            }
        );
        if self.runs > 1 || self.baseline_model.is_some() {
            let each = match &self.baseline_model {
                Some(b) => format!(
                    ", each measuring the model and then the baseline model {b} (paired A/B: twice the profile jobs and device minutes of unpaired runs)"
                ),
                None => String::new(),
            };
            let _ = writeln!(
                o,
                "  measurement: {} independent run{} per device{each}",
                self.runs,
                if self.runs == 1 { "" } else { "s" },
            );
        }
        if self.max_extra_runs > 0 {
            let _ = writeln!(
                o,
                "  inconclusive relative gates re-measure up to {} more run{} per device (at most about {:.1} more device minute{})",
                self.max_extra_runs,
                if self.max_extra_runs == 1 { "" } else { "s" },
                self.extra_device_minutes,
                if (self.extra_device_minutes - 1.0).abs() < f64::EPSILON {
                    ""
                } else {
                    "s"
                },
            );
        }
        if self.needs_baseline && self.baseline_model.is_none() {
            let _ = writeln!(
                o,
                "  relative gates need a baseline: pass `--baseline <earlier edgegate-results.json>`, or `--baseline-model <file>` to measure both models here"
            );
        }
        o
    }
}

fn job_kind(j: &JobPlan) -> &'static str {
    match j {
        JobPlan::UploadModel => "upload_model",
        JobPlan::UploadDataset { .. } => "upload_dataset",
        JobPlan::Compile { .. } => "compile",
        JobPlan::Profile { .. } => "profile",
        JobPlan::Inference { .. } => "inference",
        JobPlan::LocalRun { .. } => "local_run",
        JobPlan::UploadGraphs => "upload_graphs",
        JobPlan::CompileGraphs { .. } => "compile_graphs",
        JobPlan::ProfileGraphs { .. } => "profile_graphs",
        JobPlan::TeacherForced { .. } => "teacher_forced",
    }
}

fn job_text(j: &JobPlan) -> String {
    match j {
        JobPlan::UploadModel => "upload model (once, shared by all AI Hub devices)".into(),
        JobPlan::UploadGraphs => {
            "upload the prefill and decode graphs (once, shared by all AI Hub devices)".into()
        }
        JobPlan::CompileGraphs { runtime, options } => match options {
            Some(o) => format!("compile the prefill and decode graphs for {runtime} ({o}): 2 jobs"),
            None => format!("compile the prefill and decode graphs for {runtime}: 2 jobs"),
        },
        JobPlan::ProfileGraphs { iterations, runs } => format!(
            "profile the prefill and decode graphs ({iterations} iterations each{}): {} jobs; prefill_ms and decode_ms measured, ttft_ms and tps estimated from them",
            if *runs > 1 {
                format!(", × {runs} runs")
            } else {
                String::new()
            },
            2 * runs
        ),
        JobPlan::TeacherForced { cases } => format!(
            "inference of the prefill graph over {cases} case{}, each prompt followed by its `exact` answer (teacher forcing)",
            if *cases == 1 { "" } else { "s" }
        ),
        JobPlan::UploadDataset { cases } => format!(
            "upload inputs of {cases} case{} as one dataset (once, shared)",
            if *cases == 1 { "" } else { "s" }
        ),
        JobPlan::Compile { runtime, options } => match options {
            Some(o) => format!("compile for {runtime} ({o})"),
            None => format!("compile for {runtime}"),
        },
        JobPlan::Profile {
            iterations,
            runs,
            paired,
        } => {
            let mut t = format!("profile ({iterations} iterations)");
            if *runs > 1 || *paired {
                let jobs = runs * if *paired { 2 } else { 1 };
                t.push_str(&format!(
                    " × {runs} run{}{}: {jobs} profile jobs",
                    if *runs == 1 { "" } else { "s" },
                    if *paired {
                        " of each model, interleaved"
                    } else {
                        ""
                    },
                ));
            }
            t
        }
        JobPlan::Inference { cases } => format!(
            "inference over {cases} case{}",
            if *cases == 1 { "" } else { "s" }
        ),
        JobPlan::LocalRun {
            warmup_runs,
            measurement_repeats,
            cases,
            runs,
            paired,
        } => {
            let mut t = format!(
                "run on this CPU: {warmup_runs} warm-up + {measurement_repeats} timed runs per case, {cases} cases"
            );
            if *runs > 1 || *paired {
                t.push_str(&format!(
                    "; {runs} independent run{} with a fresh model load{}",
                    if *runs == 1 { "" } else { "s" },
                    if *paired {
                        ", each followed by the baseline model (A/B/A/B)"
                    } else {
                        ""
                    },
                ));
            }
            t
        }
    }
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn shards_parse_and_deal_round_robin() {
        let s = Shard::parse("2/3").expect("parses");
        assert_eq!((s.index, s.count), (2, 3));
        assert!([1, 4, 7].iter().all(|&p| s.includes(p)));
        assert!(![0, 2, 3, 5].iter().any(|&p| s.includes(p)));
        for bad in ["0/3", "4/3", "1/0", "", "a/b", "1", "1/2/3", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
    use super::*;
    use crate::config::types::{ModelKind, Runtime};
    use crate::device::cache::{CachedKind, JobCache, JobKeyParts, job_key, profile_options};

    fn write_npy(dir: &std::path::Path) {
        let t = crate::tensor::Tensor::from_f32(vec![1, 2], &[0.0, 1.0]).expect("tensor");
        let mut bytes = Vec::new();
        t.write_npy(&mut bytes).expect("npy");
        std::fs::write(dir.join("x.npy"), bytes).expect("npy file");
    }

    /// A loaded project with a model `m.onnx` and an inline promptpack `p` whose `cases:` and
    /// the rest of the config follow as `tail`.
    fn project(tail: &str) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("m.onnx"), b"model").expect("model");
        write_npy(dir.path());
        std::fs::write(
            dir.path().join("edgegate.yaml"),
            format!(
                "version: 1\nname: p\nmodel: {{ path: m.onnx }}\npromptpack:\n  content:\n    promptpack_id: p\n    version: 1.0.0\n    name: p\n{tail}"
            ),
        )
        .expect("config");
        let project =
            crate::config::load_project(&dir.path().join("edgegate.yaml")).expect("valid config");
        (dir, project)
    }

    #[test]
    fn each_planned_device_carries_its_resolved_target_steps_and_gates() {
        let (_dir, project) = project(
            "    cases:\n      - { case_id: a, inputs: { x: { npy: x.npy } }, expected: { type: none } }\n      - { case_id: b, inputs: { x: { npy: x.npy } }, expected: { type: none } }\n      - { case_id: c, prompt: text only, expected: { type: none } }\ndevice_matrix:\n  - { name: s24 }\n  - { name: host, provider: local }\n  - { name: RB5, enabled: false }\ngates:\n  - { metric: model_size_mb, operator: lte, threshold: 1, devices: [host] }\nrun_policy: { warmup_runs: 2, measurement_repeats: 5, max_concurrency: 3 }\n",
        );
        let plan = build(&project);
        assert_eq!(plan.policy, project.config.run_policy);
        assert_eq!(plan.skipped_devices, vec!["RB5".to_string()]);
        let [s24, host] = &plan.devices[..] else {
            panic!("two enabled devices: {plan:?}");
        };
        let hub = s24.target.hub().expect("an AI Hub target");
        assert_eq!(
            (hub.hub_device.as_str(), hub.runtime),
            ("Samsung Galaxy S24", Runtime::Tflite)
        );
        assert_eq!(
            s24.jobs,
            vec![
                JobPlan::UploadModel,
                JobPlan::UploadDataset { cases: 2 },
                JobPlan::Compile {
                    runtime: "tflite",
                    options: None
                },
                JobPlan::Profile {
                    iterations: 7,
                    runs: 1,
                    paired: false,
                },
                JobPlan::Inference { cases: 2 },
            ]
        );
        assert!(s24.profiles() && s24.inference_cases() == 2);
        assert!(s24.gates.is_empty());
        let pack = plan.promptpack.as_ref().expect("pack");
        assert_eq!((pack.cases, pack.runnable_cases), (3, 2));
        assert_eq!(pack.skipped_cases[0].case_id, "c");
        assert!(plan.render_text().contains("3 cases (0 checked): 2 to run, 1 skipped\n    skipped case c: not run: it has a text `prompt` but no `inputs:`"));
        assert_eq!(host.target, Target::Local);
        assert!(host.profiles() && host.inference_cases() == 2);
        assert_eq!(host.gates.len(), 1);
        assert_eq!(
            host.gates[0].gate.metric,
            crate::config::Metric::ModelSizeMb
        );
    }

    #[test]
    fn cached_jobs_are_marked_and_leave_the_counts() {
        let (dir, project) = project(
            "    cases:\n      - { case_id: a, inputs: { x: { npy: x.npy } }, expected: { type: none } }\ndevice_matrix:\n  - { name: s24, runtime: tflite }\n  - { name: RB5, runtime: tflite }\n",
        );
        let mut plan = build(&project);
        assert_eq!(plan.total_hub_jobs, 6);
        let cache = JobCache::open(&dir.path().join("jobs.json"));
        let parts = JobKeyParts {
            hub_url: "http://h/",
            model_sha256: "abc",
            model_kind: ModelKind::Onnx,
            hub_device: "Samsung Galaxy S24",
            runtime: Runtime::Tflite,
            compile_options: None,
        };
        cache.put(
            job_key(&parts, CachedKind::Compile, "", ""),
            "jc",
            Some("mt"),
        );
        cache.put(
            job_key(&parts, CachedKind::Profile, &profile_options(4, None), ""),
            "jp",
            None,
        );
        mark_reused(
            &mut plan,
            &project,
            &CacheLookup {
                cache: &cache,
                hub_url: "http://h/",
                model_sha256: "abc",
                inputs_sha256: None,
                graphs: None,
                baseline_sha256: None,
            },
        );
        let s24 = &plan.devices[0];
        assert_eq!(
            s24.reused,
            vec![
                ReusedJob {
                    kind: "compile",
                    id: "jc".into(),
                    jobs: 1,
                },
                ReusedJob {
                    kind: "profile",
                    id: "jp".into(),
                    jobs: 1,
                }
            ]
        );
        assert_eq!(s24.hub_jobs, 1);
        assert!(plan.devices[1].reused.is_empty());
        assert_eq!(plan.total_hub_jobs, 4);
        let text = plan.render_text();
        assert!(
            text.contains("compile for tflite — reused from cache (jc)"),
            "{text}"
        );
    }
}
