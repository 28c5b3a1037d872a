//! `edgegate run` and `edgegate run --dry-run`: load the project, run it with the engine (or print
//! the engine's plan), write results.json and the reports, exit with the verdict. Must not reach
//! into clap, engine internals or device backends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::types::CommentMode;
use crate::config::{OutsideProject, PathError, Project};
use crate::engine::error::RunError as EngineError;
use crate::engine::plan;
use crate::engine::progress::ProgressMode;
use crate::engine::run::RunRequest as EngineRequest;
use crate::exit;
use crate::hub::HubOptions;
use crate::results::Results;

use super::error::{finish, print_warning};
use super::project::{load, print_warnings};
use super::report::print_outcome;
use super::runtime::{RuntimeError, block_on};
use super::verdict::exit_code_of;

/// What `edgegate run --dry-run` was asked to show.
#[derive(Debug, Clone)]
pub struct DryRunRequest {
    /// The config file.
    pub config: PathBuf,
    /// Print the plan as JSON instead of text.
    pub json: bool,
    /// `--hub-url`: which AI Hub's cached jobs count.
    pub hub_url: Option<String>,
    /// `--no-cache`: show no reuse.
    pub no_cache: bool,
    /// Whether paths in the config may leave the project.
    pub outside: OutsideProject,
    /// `--shard i/n`: plan only this slice of the enabled devices.
    pub shard: Option<plan::Shard>,
    /// `--baseline-model`: plan paired measurements.
    pub baseline_model: Option<PathBuf>,
}

/// What `edgegate run` (without `--dry-run`) was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// The config file.
    pub config: PathBuf,
    /// `--json`: where results.json goes.
    pub json: Option<PathBuf>,
    /// `--model`: a model file replacing `model.path`.
    pub model: Option<PathBuf>,
    /// `--junit`, overriding `report.junit`.
    pub junit: Option<PathBuf>,
    /// `--markdown`, overriding `report.markdown`.
    pub markdown: Option<PathBuf>,
    /// `--comment`, overriding `report.comment`.
    pub comment: Option<CommentMode>,
    /// `--allow-fork-token`.
    pub allow_fork_token: bool,
    /// `--allow-outside-project`: whether paths in the config may leave the project.
    pub outside: OutsideProject,
    /// `--baseline`: earlier results files (or folders of them) for relative gates.
    pub baseline: Vec<PathBuf>,
    /// `--baseline-model`: paired mode's baseline model.
    pub baseline_model: Option<PathBuf>,
    /// `--no-cache`.
    pub no_cache: bool,
    /// `--hub-url`.
    pub hub_url: Option<String>,
    /// `--job-timeout`, already checked to be positive and at most a day.
    pub job_timeout: Option<Duration>,
    /// `-q`.
    pub quiet: bool,
    /// `-v`.
    pub verbose: bool,
    /// `--shard i/n`: run only this slice of the enabled devices.
    pub shard: Option<plan::Shard>,
}

/// Why a run stopped before its verdict.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("--model `{}` is not a file", .0.display())]
    ModelNotAFile(PathBuf),
    #[error("cannot tell the format of `{0}` from its extension; set `model.kind` in the config")]
    ModelKind(String),
    #[error(
        "refusing to run a pull request from a fork while {} is set: the PR's code would see a \
         write token\nhelp: run without the token and post the comment from a `workflow_run` job \
         (see examples/github), or pass --allow-fork-token",
        .0.join(" and ")
    )]
    ForkToken(Vec<&'static str>),
    #[error("report file {source}\nhelp: {help}")]
    ReportFile {
        #[source]
        source: PathError,
        help: String,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("cannot write results to `{}`", path.display())]
    WriteResults {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the user must fix is invalid input (2); what the environment lacks is could-not-complete (3).
fn code(e: &RunError) -> i32 {
    match e {
        RunError::ModelNotAFile(_)
        | RunError::ModelKind(_)
        | RunError::ForkToken(_)
        | RunError::ReportFile { .. }
        | RunError::Engine(_) => exit::INVALID_INPUT,
        RunError::Runtime(_) | RunError::WriteResults { .. } => exit::COULD_NOT_COMPLETE,
    }
}

/// `edgegate run --dry-run`: prints the plan, with the jobs the job cache would reuse; no network.
pub fn dry_run(req: &DryRunRequest) -> i32 {
    let Some(project) = load(&req.config, req.outside) else {
        return exit::INVALID_INPUT;
    };
    print_warnings(&project);
    let paired = req
        .baseline_model
        .as_ref()
        .map(|p| p.display().to_string())
        .or_else(|| project.config.model.baseline_path.clone());
    let mut plan = plan::build_paired(&project, req.shard, paired);
    if !req.no_cache {
        mark_cached(&mut plan, &project, req);
    }
    if req.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan).unwrap_or_default()
        );
    } else {
        print!("{}", plan.render_text());
    }
    exit::PASSED
}

fn mark_cached(plan: &mut plan::Plan, project: &Project, req: &DryRunRequest) {
    use crate::hub::{ApiToken, HubEnv};
    if !plan
        .devices
        .iter()
        .any(|d| d.provider == crate::config::Provider::Aihub)
    {
        return;
    }
    if !project.cache_path.is_file() {
        return;
    }
    let job_cache = crate::device::cache::JobCache::open(&project.cache_path);
    let opts = HubOptions {
        api_token: Some(ApiToken::new("dry-run")),
        api_url: req.hub_url.clone(),
        web_url: None,
    };
    let Ok(hub) = crate::hub::config::resolve(&opts, &HubEnv::from_process()) else {
        return;
    };
    let Ok(model) = crate::engine::run::model_artifact(project) else {
        return;
    };
    let inputs = crate::engine::run::case_inputs(project, &model)
        .ok()
        .map(|c| crate::device::aihub::digest_inputs(&c));
    let hub_url = hub.api_url.to_string();
    // Paired mode: the baseline model's compile jobs are keyed by its own sha256.
    let baseline = req
        .baseline_model
        .clone()
        .or_else(|| {
            let named = project.config.model.baseline_path.as_ref()?;
            project.config_file(named).ok()
        })
        .and_then(|p| crate::engine::run::artifact_at(project, &p).ok())
        .map(|a| a.sha256);
    // A generative model on AI Hub: its jobs are keyed by each graph's sha256 and the
    // teacher-forced inputs.
    let graphs = crate::engine::run::llm_on_hub(project, plan)
        .ok()
        .flatten()
        .map(|llm| {
            let cases = crate::engine::run::case_inputs(project, &model).unwrap_or_default();
            plan::GraphLookup {
                prefill_sha256: llm.files.prefill.sha256.clone(),
                decode_sha256: llm.files.decode.sha256.clone(),
                inputs_sha256: crate::device::aihub_llm::forced_inputs_digest(
                    &llm.files,
                    &llm.spec,
                    &llm.answers,
                    &cases,
                ),
            }
        });
    plan::mark_reused(
        plan,
        project,
        &plan::CacheLookup {
            cache: &job_cache,
            hub_url: &hub_url,
            model_sha256: &model.sha256,
            inputs_sha256: inputs.as_deref(),
            graphs: graphs.as_ref(),
            baseline_sha256: baseline.as_deref(),
        },
    );
}

/// `edgegate run`: runs the device matrix, writes results.json, prints the table, and returns
/// the verdict's exit code (0 passed, 1 failed, 3 error; 2 when nothing could run).
pub fn run(req: &RunRequest) -> i32 {
    finish(run_project(req), code)
}

fn run_project(req: &RunRequest) -> Result<i32, RunError> {
    let Some(mut project) = load(&req.config, req.outside) else {
        return Ok(exit::INVALID_INPUT);
    };
    if let Some(model) = &req.model {
        override_model(&mut project, model)?;
    }
    refuse_fork_token(req)?;
    print_warnings(&project);
    let outputs = report_outputs(&project, req)?;
    let engine = EngineRequest {
        baseline: req.baseline.clone(),
        baseline_model: req.baseline_model.clone(),
        no_cache: req.no_cache,
        hub: HubOptions {
            api_url: req.hub_url.clone(),
            ..HubOptions::default()
        },
        job_timeout: req.job_timeout,
        ..EngineRequest::default()
    };
    let mode = ProgressMode::detect(req.quiet, req.verbose);
    let paired = req
        .baseline_model
        .as_ref()
        .map(|p| p.display().to_string())
        .or_else(|| project.config.model.baseline_path.clone());
    let plan = plan::build_paired(&project, req.shard, paired);
    block_on(async {
        let stop = CancellationToken::new();
        let signals = tokio::spawn(watch_signals(stop.clone()));
        let outcome = crate::engine::run::run(&project, &plan, &engine, mode, stop).await;
        signals.abort();
        let results = outcome?;
        finish_run(&project, req, outputs, &results).await
    })?
}

/// Writes results.json, prints the table, then writes and posts the reports (a report that
/// fails is a warning); returns the verdict's exit code.
async fn finish_run(
    project: &Project,
    req: &RunRequest,
    outputs: ReportOutputs,
    results: &Results,
) -> Result<i32, RunError> {
    let ReportOutputs {
        results: path,
        junit,
        markdown,
    } = outputs;
    for w in &results.warnings {
        eprintln!("warning: {w}");
    }
    let written = write_results(&path, results);
    let table = crate::report::table::render(results);
    if req.quiet {
        println!("{}", table.lines().last().unwrap_or_default());
    } else {
        print!("{table}");
    }
    written.map_err(|source| RunError::WriteResults {
        path: path.clone(),
        source,
    })?;
    if !req.quiet {
        println!("results: {}", path.display());
    }
    let report_opts = crate::report::ReportOptions {
        junit,
        markdown,
        comment: req.comment.unwrap_or(project.config.report.comment),
        results_path: Some(path),
        env: crate::ci::CiEnv::from_env(),
        deadline: Some(crate::http::Deadline::after(
            crate::http::DEFAULT_TIMEOUT,
            "posting the comment",
        )),
        ..Default::default()
    };
    match crate::report::render_and_publish(results, &report_opts).await {
        Ok(outcome) => print_outcome(&outcome),
        Err(e) => print_warning("reports", &e),
    }
    Ok(exit_code_of(results))
}

pub(super) fn write_results(path: &Path, results: &Results) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(results).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)
}

/// Refuses a pull request from a fork while a forge write token is set, unless allowed.
fn refuse_fork_token(req: &RunRequest) -> Result<(), RunError> {
    if req.allow_fork_token || !crate::ci::is_fork_pr() {
        return Ok(());
    }
    let tokens: Vec<&'static str> = ["GITHUB_TOKEN", "GITLAB_TOKEN"]
        .into_iter()
        .filter(|v| std::env::var_os(v).is_some_and(|t| !t.is_empty()))
        .collect();
    if tokens.is_empty() {
        Ok(())
    } else {
        Err(RunError::ForkToken(tokens))
    }
}

/// The files a run writes: from the command line as given, else from `report:` of the config
/// inside the project.
struct ReportOutputs {
    results: PathBuf,
    junit: Option<PathBuf>,
    markdown: Option<PathBuf>,
}

/// Resolves the files a run writes before anything runs, so a refused path stops it early.
fn report_outputs(project: &Project, req: &RunRequest) -> Result<ReportOutputs, RunError> {
    let from_config =
        |flag: &Option<PathBuf>, named: &Option<String>, name: &str| match (flag, named) {
            (Some(p), _) => Ok(Some(p.clone())),
            (None, Some(named)) => {
                project
                    .config_file(named)
                    .map(Some)
                    .map_err(|source| RunError::ReportFile {
                        source,
                        help: project.paths.output_help(&format!("--{name}")),
                    })
            }
            (None, None) => Ok(None),
        };
    let report = &project.config.report;
    Ok(ReportOutputs {
        results: crate::engine::run::results_path(project, req.json.as_deref())?,
        junit: from_config(&req.junit, &report.junit, "junit")?,
        markdown: from_config(&req.markdown, &report.markdown, "markdown")?,
    })
}

/// Replaces the config's model with `--model`, re-checking what depends on the model kind.
fn override_model(project: &mut Project, model: &Path) -> Result<(), RunError> {
    if !model.is_file() {
        return Err(RunError::ModelNotAFile(model.to_path_buf()));
    }
    let text = model.to_string_lossy().to_string();
    let kind = project
        .config
        .model
        .kind
        .or_else(|| crate::config::ModelKind::from_path(&text))
        .ok_or_else(|| RunError::ModelKind(text.clone()))?;
    project.model_path = model.to_path_buf();
    project.model_kind = kind;
    project.config.model.path = text;
    Ok(())
}

/// Cancels `stop` on the first Ctrl-C or SIGTERM; a second one exits at once.
#[cfg(unix)]
async fn watch_signals(stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    let mut seen = 0;
    loop {
        let got = tokio::select! {
            v = int.recv() => v.is_some(),
            v = term.recv() => v.is_some(),
        };
        if !got {
            return;
        }
        seen += 1;
        if seen == 1 {
            eprintln!("stopping: writing partial results (interrupt again to quit without them)");
            stop.cancel();
        } else {
            eprintln!("stopped without writing results");
            std::process::exit(exit::COULD_NOT_COMPLETE);
        }
    }
}

/// Cancels `stop` on the first Ctrl-C; a second one exits at once.
#[cfg(not(unix))]
async fn watch_signals(stop: CancellationToken) {
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("stopping: writing partial results (interrupt again to quit without them)");
        stop.cancel();
    }
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(exit::COULD_NOT_COMPLETE);
    }
}
