//! The body of each command: calls into the library, prints, and returns an exit code.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::config::diagnostic::Severity;
use crate::config::schema::{DocKind, schema_text};
use crate::config::{Diagnostic, LoadFailure, OutsideProject, Sources, load_project_with};
use crate::engine::plan;
use crate::exit;

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticFormat {
    Text,
    Json,
    Github,
}

/// Which JSON schema to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    Config,
    Promptpack,
    Results,
}

/// `edgegate validate`: exit 0 when the config and its promptpack are valid, 2 otherwise.
pub fn validate(config: &Path, format: DiagnosticFormat, outside: OutsideProject) -> i32 {
    let (diags, sources, summary) = match load_project_with(config, outside) {
        Ok(project) => {
            let cases = project.promptpack.as_ref().map(|p| p.cases.len());
            let enabled = project
                .config
                .device_matrix
                .iter()
                .filter(|d| d.enabled)
                .count();
            let summary = format!(
                "{} is valid: {enabled} device{}, {} gate{}{}",
                config.display(),
                plural(enabled),
                project.config.gates.len(),
                plural(project.config.gates.len()),
                match (&project.promptpack, cases) {
                    (Some(p), Some(n)) => format!(
                        ", {n} case{} (promptpack {} {})",
                        plural(n),
                        p.promptpack_id,
                        p.version
                    ),
                    _ => String::new(),
                }
            );
            (project.warnings, project.sources, Some(summary))
        }
        Err(LoadFailure {
            diagnostics,
            sources,
        }) => (diagnostics, sources, None),
    };
    print_diagnostics(&diags, &sources, format, config, summary.as_deref());
    if summary.is_some() {
        exit::PASSED
    } else {
        exit::INVALID_INPUT
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn print_diagnostics(
    diags: &[Diagnostic],
    sources: &Sources,
    format: DiagnosticFormat,
    config: &Path,
    summary: Option<&str>,
) {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    let mut stdout = std::io::stdout().lock();
    match format {
        DiagnosticFormat::Text => {
            let mut stderr = std::io::stderr().lock();
            for d in diags {
                let _ = writeln!(stderr, "{}", d.render_text(sources.get(&d.file)));
            }
            match summary {
                Some(s) => {
                    let _ = writeln!(
                        stdout,
                        "✓ {s}{}",
                        if warnings > 0 {
                            format!(" ({warnings} warning{})", plural(warnings))
                        } else {
                            String::new()
                        }
                    );
                }
                None => {
                    let _ = writeln!(
                        stderr,
                        "{} is invalid: {errors} error{}{}",
                        config.display(),
                        plural(errors),
                        if warnings > 0 {
                            format!(", {warnings} warning{}", plural(warnings))
                        } else {
                            String::new()
                        }
                    );
                }
            }
        }
        DiagnosticFormat::Json => {
            let doc = serde_json::json!({
                "valid": summary.is_some(),
                "config": config.display().to_string(),
                "errors": errors,
                "warnings": warnings,
                "diagnostics": diags,
            });
            let _ = writeln!(
                stdout,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            );
        }
        DiagnosticFormat::Github => {
            for d in diags {
                let _ = writeln!(stdout, "{}", d.render_github());
            }
            match summary {
                Some(s) => {
                    let _ = writeln!(stdout, "{s}");
                }
                None => {
                    let _ = writeln!(
                        stdout,
                        "{} is invalid: {errors} error{}",
                        config.display(),
                        plural(errors)
                    );
                }
            }
        }
    }
}

/// `edgegate schema`: prints a JSON schema.
pub fn schema(kind: SchemaKind) -> i32 {
    let text = match kind {
        SchemaKind::Config => schema_text(DocKind::Config),
        SchemaKind::Promptpack => schema_text(DocKind::Promptpack),
        SchemaKind::Results => {
            let mut s = serde_json::to_string_pretty(&crate::results::Results::schema())
                .unwrap_or_default();
            s.push('\n');
            s
        }
    };
    print!("{text}");
    exit::PASSED
}

/// The starter files `edgegate init` writes, relative to the target folder.
pub fn starter_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "edgegate.yaml",
            include_bytes!("../templates/init/edgegate.yaml").to_vec(),
        ),
        (
            "promptpack.yaml",
            include_bytes!("../templates/init/promptpack.yaml").to_vec(),
        ),
        (
            "model.onnx",
            include_bytes!("../examples/quickstart/model.onnx").to_vec(),
        ),
        (
            "labels.txt",
            include_bytes!("../examples/quickstart/labels.txt").to_vec(),
        ),
        (
            "inputs/digit_0.npy",
            include_bytes!("../examples/quickstart/inputs/case_000.npy").to_vec(),
        ),
        (
            "inputs/digit_1.npy",
            include_bytes!("../examples/quickstart/inputs/case_001.npy").to_vec(),
        ),
        (
            ".edgegate/edgegate.schema.json",
            schema_text(DocKind::Config).into_bytes(),
        ),
        (
            ".edgegate/promptpack.schema.json",
            schema_text(DocKind::Promptpack).into_bytes(),
        ),
    ]
}

/// `edgegate init`: writes starter files; never overwrites without `--force`.
pub fn init(dir: &Path, force: bool) -> i32 {
    let files = starter_files();
    let targets: Vec<(PathBuf, &Vec<u8>)> = files
        .iter()
        .map(|(rel, bytes)| (dir.join(rel), bytes))
        .collect();
    let existing: Vec<String> = targets
        .iter()
        .filter(|(p, _)| p.exists())
        .map(|(p, _)| p.display().to_string())
        .collect();
    if !existing.is_empty() && !force {
        eprintln!("error: refusing to overwrite existing files:");
        for e in &existing {
            eprintln!("  {e}");
        }
        eprintln!(
            "help: pass `--force` to overwrite them, or choose another folder: `edgegate init path/to/dir`"
        );
        return exit::INVALID_INPUT;
    }
    for (path, bytes) in &targets {
        if let Some(parent) = path.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            eprintln!("error: cannot create folder `{}`: {e}", parent.display());
            return exit::COULD_NOT_COMPLETE;
        }
        if let Err(e) = std::fs::write(path, bytes) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return exit::COULD_NOT_COMPLETE;
        }
        println!("wrote {}", path.display());
    }
    let config = dir.join("edgegate.yaml");
    println!(
        "\nnext:\n  edgegate validate {0}\n  edgegate run {0} --dry-run",
        config.display()
    );
    println!(
        "then replace model.onnx and the cases with your own (the starter is a handwritten-digit classifier)."
    );
    exit::PASSED
}

/// What the dry run needs to show cache reuse: `--hub-url` and `--no-cache`.
#[derive(Debug, Clone, Default)]
pub struct DryRunCache {
    /// `--hub-url`.
    pub hub_url: Option<String>,
    /// `--no-cache`.
    pub no_cache: bool,
}

/// `edgegate run --dry-run`: prints the plan, with the jobs the job cache would reuse; no network.
pub fn dry_run(config: &Path, json: bool, cache: &DryRunCache, outside: OutsideProject) -> i32 {
    let project = match load_project_with(config, outside) {
        Ok(p) => p,
        Err(LoadFailure {
            diagnostics,
            sources,
        }) => {
            print_diagnostics(&diagnostics, &sources, DiagnosticFormat::Text, config, None);
            return exit::INVALID_INPUT;
        }
    };
    for w in &project.warnings {
        eprintln!("{}", w.render_text(project.sources.get(&w.file)));
    }
    let mut plan = plan::build(&project);
    if !cache.no_cache {
        mark_cached(&mut plan, &project, cache);
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan).unwrap_or_default()
        );
    } else {
        print!("{}", plan.render_text());
    }
    exit::PASSED
}

fn mark_cached(plan: &mut plan::Plan, project: &crate::config::Project, cache: &DryRunCache) {
    use crate::hub::{ApiToken, HubEnv, HubOptions};
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
        api_url: cache.hub_url.clone(),
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
    plan::mark_reused(
        plan,
        project,
        &plan::CacheLookup {
            cache: &job_cache,
            hub_url: &hub_url,
            model_sha256: &model.sha256,
            inputs_sha256: inputs.as_deref(),
        },
    );
}

/// What `edgegate run` (without `--dry-run`) was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
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
    pub comment: Option<crate::config::types::CommentMode>,
    /// `--allow-fork-token`.
    pub allow_fork_token: bool,
    /// `--allow-outside-project`: whether paths in the config may leave the project.
    pub outside: OutsideProject,
    /// Everything else the engine needs.
    pub request: crate::engine::run::RunRequest,
    /// `-q`.
    pub quiet: bool,
    /// `-v`.
    pub verbose: bool,
}

/// `edgegate run`: runs the device matrix, writes results.json, prints the table, and returns
/// the verdict's exit code (0 passed, 1 failed, 3 error; 2 when nothing could run).
pub fn run(opts: &RunOptions) -> i32 {
    use crate::engine::progress::ProgressMode;

    let mut project = match load_project_with(&opts.config, opts.outside) {
        Ok(p) => p,
        Err(LoadFailure {
            diagnostics,
            sources,
        }) => {
            print_diagnostics(
                &diagnostics,
                &sources,
                DiagnosticFormat::Text,
                &opts.config,
                None,
            );
            return exit::INVALID_INPUT;
        }
    };
    if let Some(model) = &opts.model
        && let Err(msg) = override_model(&mut project, model)
    {
        eprintln!("error: {msg}");
        return exit::INVALID_INPUT;
    }
    if !opts.allow_fork_token && crate::ci::is_fork_pr() {
        let tokens: Vec<&str> = ["GITHUB_TOKEN", "GITLAB_TOKEN"]
            .into_iter()
            .filter(|v| std::env::var_os(v).is_some_and(|t| !t.is_empty()))
            .collect();
        if !tokens.is_empty() {
            eprintln!(
                "error: refusing to run a pull request from a fork while {} is set: the PR's code \
                 would see a write token\nhelp: run without the token and post the comment from a \
                 `workflow_run` job (see examples/github), or pass --allow-fork-token",
                tokens.join(" and ")
            );
            return exit::INVALID_INPUT;
        }
    }
    for w in &project.warnings {
        eprintln!("{}", w.render_text(project.sources.get(&w.file)));
    }
    let outputs = match report_outputs(&project, opts) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("error: {msg}");
            return exit::INVALID_INPUT;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return exit::COULD_NOT_COMPLETE;
        }
    };
    let mode = ProgressMode::detect(opts.quiet, opts.verbose);
    let plan = plan::build(&project);
    let outcome = runtime.block_on(async {
        let stop = tokio_util::sync::CancellationToken::new();
        tokio::spawn(watch_signals(stop.clone()));
        crate::engine::run::run(&project, &plan, &opts.request, mode, stop).await
    });
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    let results = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let ReportOutputs {
        results: path,
        junit,
        markdown,
    } = outputs;
    let written = serde_json::to_vec_pretty(&results)
        .map_err(std::io::Error::other)
        .and_then(|mut bytes| {
            bytes.push(b'\n');
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, bytes)
        });
    if !opts.quiet {
        print!("{}", crate::report::table::render(&results));
    } else {
        println!(
            "{}",
            crate::report::table::render(&results)
                .lines()
                .last()
                .unwrap_or_default()
        );
    }
    if let Err(e) = written {
        eprintln!("error: cannot write results to `{}`: {e}", path.display());
        return exit::COULD_NOT_COMPLETE;
    }
    if !opts.quiet {
        println!("results: {}", path.display());
    }
    let report_opts = crate::report::ReportOptions {
        junit,
        markdown,
        comment: opts.comment.unwrap_or(project.config.report.comment),
        results_path: Some(path.clone()),
        env: crate::ci::CiEnv::from_env(),
        deadline: Some(crate::http::Deadline::after(
            crate::http::DEFAULT_TIMEOUT,
            "posting the comment",
        )),
        ..Default::default()
    };
    let published = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| {
            rt.block_on(crate::report::render_and_publish(&results, &report_opts))
                .map_err(|e| e.to_string())
        });
    match published {
        Ok(outcome) => crate::report::command::print_outcome(&outcome),
        Err(e) => eprintln!("warning: reports: {e}"),
    }
    results.exit_code()
}

/// The files a run writes: from the command line as given, else from `report:` of the config
/// inside the project.
struct ReportOutputs {
    results: PathBuf,
    junit: Option<PathBuf>,
    markdown: Option<PathBuf>,
}

/// Resolves the files a run writes before anything runs, so a refused path stops it early.
fn report_outputs(
    project: &crate::config::Project,
    opts: &RunOptions,
) -> Result<ReportOutputs, String> {
    let from_config =
        |flag: &Option<PathBuf>, named: &Option<String>, name: &str| match (flag, named) {
            (Some(p), _) => Ok(Some(p.clone())),
            (None, Some(named)) => project.config_file(named).map(Some).map_err(|e| {
                format!(
                    "report file {e}\nhelp: {}",
                    project.paths.output_help(&format!("--{name}"))
                )
            }),
            (None, None) => Ok(None),
        };
    let report = &project.config.report;
    Ok(ReportOutputs {
        results: crate::engine::run::results_path(project, opts.json.as_deref())
            .map_err(|e| e.to_string())?,
        junit: from_config(&opts.junit, &report.junit, "junit")?,
        markdown: from_config(&opts.markdown, &report.markdown, "markdown")?,
    })
}

/// Replaces the config's model with `--model`, re-checking what depends on the model kind.
fn override_model(project: &mut crate::config::Project, model: &Path) -> Result<(), String> {
    if !model.is_file() {
        return Err(format!("--model `{}` is not a file", model.display()));
    }
    let text = model.to_string_lossy().to_string();
    let kind = project
        .config
        .model
        .kind
        .or_else(|| crate::config::ModelKind::from_path(&text))
        .ok_or_else(|| format!("cannot tell the format of `{text}` from its extension; set `model.kind` in the config"))?;
    project.model_path = model.to_path_buf();
    project.model_kind = kind;
    project.config.model.path = text;
    Ok(())
}

/// Cancels `stop` on the first Ctrl-C or SIGTERM; a second one exits at once.
#[cfg(unix)]
async fn watch_signals(stop: tokio_util::sync::CancellationToken) {
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
async fn watch_signals(stop: tokio_util::sync::CancellationToken) {
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("stopping: writing partial results (interrupt again to quit without them)");
        stop.cancel();
    }
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(exit::COULD_NOT_COMPLETE);
    }
}
