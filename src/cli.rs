//! The command line: clap definitions of every command and flag, their conversion into the typed
//! requests of `commands` (`TryFrom` where a check clap cannot express may refuse them), and the
//! dispatch. Only this file knows about clap; it must not run, print or pick exit codes itself.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

/// EdgeGate — a CI regression gate for on-device AI models.
///
/// A model change can silently make a model slower, larger, push layers off the NPU or change
/// its answers on one device. EdgeGate runs your model on the devices of `edgegate.yaml`
/// (Qualcomm AI Hub devices or the local CPU), checks every case and gate, and exits with a
/// code CI can trust.
///
/// Exit codes: 0 passed, 1 a gate failed, 2 invalid input (nothing ran),
/// 3 could not complete (something could not be measured).
#[derive(Debug, Parser)]
#[command(name = "edgegate", version, about, long_about, max_term_width = 100)]
#[command(
    after_help = "Start with `edgegate init` to write a starter config, then \
`edgegate validate` and `edgegate run --dry-run`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check edgegate.yaml and its promptpack; print every problem with file, line and column.
    Validate(ValidateArgs),
    /// Print the JSON schema of edgegate.yaml, of promptpack files or of results.json.
    Schema(SchemaArgs),
    /// Write a commented starter edgegate.yaml and promptpack that validate as written.
    Init(InitArgs),
    /// Run the device matrix, evaluate cases and gates, and exit with the verdict.
    ///
    /// Writes results.json and prints a devices × gates table. Exit codes: 0 every gate passed;
    /// 1 a gate failed; 2 the config, promptpack, inputs, baseline or command line is invalid
    /// (nothing ran); 3 something could not be measured (a job failed, a device was unavailable,
    /// a timeout, AI Hub unreachable, no AI Hub token: set QAIHUB_API_TOKEN) and no gate failed.
    ///
    /// Ctrl-C or SIGTERM stops the run cleanly: results.json is written with the interrupted
    /// devices as errors and the exit code is 3. A second Ctrl-C quits at once without results.
    ///
    /// Finished AI Hub jobs are cached in `.edgegate/cache/jobs.json` beside the config; an
    /// unchanged model on an unchanged device reuses them (`--no-cache` to measure afresh).
    Run(RunArgs),
    /// Render JUnit, Markdown, the job summary and the sticky PR/MR comment from a results file.
    Report(ReportArgs),
    /// Join the results files of a sharded run (`run --shard i/n`) into one, with its reports.
    ///
    /// Reads one results file per shard, checks that they belong together (same pipeline,
    /// config and promptpack, model, baseline and shard count; every shard once; every device
    /// in the shard the round-robin rule gives it, none missing), writes the results.json an
    /// unsharded run would have written (devices in config order, verdict recomputed from them),
    /// then renders JUnit, Markdown and the one sticky comment like `edgegate report`.
    Merge(MergeArgs),
    /// List Qualcomm AI Hub devices (filter by name or attributes).
    Devices(DevicesArgs),
    /// Print what a generative model (`model.tokenizer`) says to each prompt on this CPU.
    ///
    /// Greedy decoding with the config's `generation` settings, exactly as `run` does on the
    /// host device; one JSON line per generation: case_id, prompt, prompt_tokens, tokens (the
    /// generated ids), text, ttft_ms, tps, prefill_tps, kv_cache. Checks no expectation and no
    /// gate. Exit codes: 0 done; 2 the config or model is unusable; 3 a generation failed.
    Generate(GenerateArgs),
    /// Serve a local AI Hub simulator on loopback, for tests and demos.
    #[command(name = "hub-sim")]
    HubSim(HubSimArgs),
    /// Serve the /v1 REST API: workspaces, pipelines, artifacts and runs in a local database.
    ///
    /// Keeps everything in --data-dir: a SQLite database (edgegate.db; nothing to install) and
    /// the uploaded models, addressed by sha256. Runs execute in this process with the same
    /// engine as `edgegate run`, against AI Hub (QAIHUB_API_URL, the public service by default)
    /// with each workspace's own token.
    ///
    /// Past one machine: several `--role api` processes and `--role worker` processes on one
    /// PostgreSQL database (--database-url), with models and the AI Hub job cache in a
    /// --shared-dir they all mount. A worker holds a lease on each run it executes; if it dies,
    /// another worker claims the run when the lease expires and runs it again from the job cache.
    ///
    /// Needs two secrets in the environment and refuses to start without them:
    /// EDGEGENAI_MASTER_KEY, the base64 of exactly 32 bytes that encrypts AI Hub tokens at rest
    /// (make one with `openssl rand -base64 32`, and keep it: tokens stored under one key cannot
    /// be read with another), and EDGEGATE_JWT_SECRET, any long random string that signs login
    /// tokens.
    ///
    /// The first line printed is `listening on http://ADDRESS` (with port 0, the real port).
    /// API docs at /docs, the OpenAPI document at /openapi.json. Ctrl-C or SIGTERM stops it
    /// cleanly; runs still executing are recorded as error "interrupted" with their partial
    /// results.
    #[command(
        after_help = "Example:\n  export EDGEGENAI_MASTER_KEY=$(openssl rand -base64 32)\n  \
export EDGEGATE_JWT_SECRET=$(openssl rand -base64 48)\n  \
edgegate serve --bind 127.0.0.1:8080 --data-dir ./edgegate-data\n  \
curl http://127.0.0.1:8080/health"
    )]
    Serve(ServeArgs),
    /// Internal: reads an AI Hub dataset file for a parent `edgegate`, so libhdf5 runs isolated.
    #[command(name = "__read-dataset", hide = true)]
    ReadDataset(ReadDatasetArgs),
}

#[derive(Debug, Args)]
pub struct ReadDatasetArgs {
    /// The HDF5 dataset file.
    pub file: PathBuf,
}

/// How `validate` prints problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// Compiler-style errors with the offending line and a caret.
    Text,
    /// One JSON document with every diagnostic.
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…,col=…::…`).
    Github,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The config file.
    #[arg(default_value = "edgegate.yaml")]
    pub config: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,
    /// Accept paths in the config and promptpack that lead outside the project (the git
    /// repository holding the config, or its folder outside git). Only for configs you trust.
    #[arg(long)]
    pub allow_outside_project: bool,
}

/// Which schema `schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// edgegate.yaml
    Config,
    /// promptpack files (YAML or JSON)
    Promptpack,
    /// results.json written by `edgegate run`
    Results,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The config file.
    #[arg(default_value = "edgegate.yaml")]
    pub config: PathBuf,
    /// A prompt to use instead of the promptpack's cases (repeatable).
    #[arg(long = "prompt", value_name = "TEXT")]
    pub prompts: Vec<String>,
    /// Untimed generations of each prompt before the timed ones.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub warmup: u32,
    /// Timed generations of each prompt (each prints a line).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeats: u32,
    /// Accept paths in the config that lead outside the project. Only for configs you trust.
    #[arg(long)]
    pub allow_outside_project: bool,
}

impl From<GenerateArgs> for commands::GenerateRequest {
    fn from(a: GenerateArgs) -> Self {
        Self {
            config: a.config,
            prompts: a.prompts,
            warmup: a.warmup,
            repeats: a.repeats,
            outside: if a.allow_outside_project {
                crate::config::OutsideProject::Allowed
            } else {
                crate::config::OutsideProject::Refused
            },
        }
    }
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema to print.
    #[arg(value_enum, default_value_t = SchemaKind::Config)]
    pub kind: SchemaKind,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to write edgegate.yaml and promptpack.yaml into.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite files that already exist.
    #[arg(long)]
    pub force: bool,
}

/// How `run --dry-run` prints the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// A readable plan.
    Text,
    /// The plan as JSON.
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The config file.
    #[arg(default_value = "edgegate.yaml")]
    pub config: PathBuf,
    /// Print the plan (jobs per device, cases, gates, estimated device minutes) and stop:
    /// no network, no device minutes.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format of the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Where to write results.json (default: `report.json` of the config, else
    /// `edgegate-results.json`).
    #[arg(long, visible_alias = "results", value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Test this model file instead of `model.path` of the config (e.g. the artifact a CI job built).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Also write JUnit XML here (default: `report.junit` of the config).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the Markdown summary here (default: `report.markdown` of the config).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// The sticky PR/MR comment (default: `report.comment` of the config, `auto`). A comment that
    /// cannot be posted is a warning and never changes the exit code.
    #[arg(long, value_enum)]
    pub comment: Option<CommentArg>,
    /// Run even in a pull request from a fork while GITHUB_TOKEN or GITLAB_TOKEN is set (by
    /// default refused: untrusted code must not see a write token; see examples/github).
    #[arg(long)]
    pub allow_fork_token: bool,
    /// Accept paths in the config and promptpack that lead outside the project (the git
    /// repository holding the config, or its folder outside git). Only for configs you trust;
    /// paths given on the command line (`--json`, `--model`, …) are never restricted.
    #[arg(long)]
    pub allow_outside_project: bool,
    /// An earlier run's results.json; relative gates (`max_regression_pct`) compare against it.
    /// Repeat the flag, or name a folder of results files, to give a history: the runs of every
    /// file are pooled, and gates with `history:` use a statistical threshold over them.
    /// Refused when the baseline measured another model format or device; warned about when its
    /// run policy, build, machine or edgegate version differs.
    #[arg(long, value_name = "FILE|DIR", action = clap::ArgAction::Append)]
    pub baseline: Vec<PathBuf>,
    /// Paired mode: measure this baseline model (e.g. the default branch's build) on the same
    /// devices in the same run, interleaved with the model under test (A/B/A/B, 5 runs each by
    /// default); relative gates then compare paired runs, which cancels drift and a lucky stored
    /// baseline. Overrides `model.baseline_path`. Costs a second set of profile jobs: see
    /// `--dry-run`.
    #[arg(long, value_name = "FILE")]
    pub baseline_model: Option<PathBuf>,
    /// Neither reuse nor record finished AI Hub jobs in `.edgegate/cache/jobs.json` (beside the
    /// config).
    #[arg(long)]
    pub no_cache: bool,
    /// AI Hub API base URL (default: $QAIHUB_API_URL, the client.ini, then the public service).
    #[arg(long, value_name = "URL")]
    pub hub_url: Option<String>,
    /// Limit of one AI Hub job in minutes (default and maximum: `run_policy.timeout_minutes`).
    #[arg(long, value_name = "MINUTES")]
    pub job_timeout: Option<f64>,
    /// Print only the verdict line (no progress, no table).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print every job submitted or reused, with its link, as timestamped lines.
    #[arg(short, long)]
    pub verbose: bool,
    /// Run only shard i of n of the enabled devices (1 ≤ i ≤ n), for a CI matrix of n jobs:
    /// devices are dealt round-robin in config order (device p, 0-based, goes to shard
    /// p mod n + 1), so the n shards cover the matrix exactly once. Join their results files
    /// with `edgegate merge`. A shard left without devices (n larger than the matrix) passes.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<crate::engine::plan::Shard>,
}

/// Joins shard results; exits with the merged verdict.
#[derive(Debug, Args)]
#[command(after_help = "Example (the follow-up job of a 3-job CI matrix):\n  \
edgegate merge shards/*/edgegate-results.json -o edgegate-results.json --junit junit.xml\n\n\
Exit code: the merged verdict (0 passed, 1 a gate failed, 3 could not complete); 2 when a \
results file cannot be read or the shards do not belong together (different config, model or \
shard count, a shard twice or missing). A comment that cannot be posted is a warning.")]
pub struct MergeArgs {
    /// The results file of every shard (written by `edgegate run --shard i/n`).
    #[arg(required = true, value_name = "SHARD_RESULTS")]
    pub shards: Vec<PathBuf>,
    /// Where to write the merged results.json.
    #[arg(
        short,
        long,
        value_name = "PATH",
        default_value = "edgegate-results.json"
    )]
    pub output: PathBuf,
    /// Write JUnit XML here (one testsuite per device; GitLab, Jenkins, GitHub JUnit actions).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the full Markdown report here (never truncated).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Post or update the one sticky comment of this pipeline on the PR/MR.
    #[arg(long, value_enum, default_value_t = CommentArg::Auto)]
    pub comment: CommentArg,
    /// A minijinja template replacing the shipped Markdown template.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// PR number (GitHub) or MR iid (GitLab), when the CI event does not carry it (workflow_run).
    #[arg(long)]
    pub pr: Option<u64>,
    /// Do not append to $GITHUB_STEP_SUMMARY.
    #[arg(long)]
    pub no_step_summary: bool,
    /// Total time for posting the comment, in seconds.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Print only the verdict line (no table).
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_shard(text: &str) -> Result<crate::engine::plan::Shard, String> {
    crate::engine::plan::Shard::parse(text)
}

/// Where the sticky report comment goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CommentArg {
    /// GitHub or GitLab, when their CI variables name a PR or MR; otherwise none.
    Auto,
    /// A GitHub PR comment (GITHUB_TOKEN, GITHUB_REPOSITORY, the event's or --pr's number).
    Github,
    /// A GitLab MR note (GITLAB_TOKEN, CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID).
    Gitlab,
    /// No comment.
    Off,
}

/// Renders reports from a results file; exits with the results' verdict.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit code: the results' verdict (0 passed, 1 a gate failed, 3 could not \
complete), or 0 with --exit-zero; 2 when the results file or the template is broken. A comment \
that cannot be posted (missing token, 403) is a warning and never changes the exit code."
)]
pub struct ReportArgs {
    /// The results file written by `edgegate run`.
    #[arg(long, default_value = "edgegate-results.json")]
    pub results: PathBuf,
    /// Write JUnit XML here (one testsuite per device; GitLab, Jenkins, GitHub JUnit actions).
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write the full Markdown report here (never truncated).
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Post or update the one sticky comment of this pipeline on the PR/MR.
    #[arg(long, value_enum, default_value_t = CommentArg::Auto)]
    pub comment: CommentArg,
    /// A minijinja template replacing the shipped Markdown template.
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// PR number (GitHub) or MR iid (GitLab), when the CI event does not carry it (workflow_run).
    #[arg(long)]
    pub pr: Option<u64>,
    /// Exit 0 whatever the verdict (the report job of a pipeline whose gate job already failed).
    #[arg(long)]
    pub exit_zero: bool,
    /// Do not append to $GITHUB_STEP_SUMMARY.
    #[arg(long)]
    pub no_step_summary: bool,
    /// Total time for posting the comment, in seconds; what is not done by then is given up
    /// (a warning, like any comment that cannot be posted).
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_timeout)]
    pub timeout: Duration,
}

/// How `devices` prints the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table.
    Text,
    /// JSON.
    Json,
}

#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// AI Hub API base URL (default: $QAIHUB_API_URL, the client.ini, then the public service).
    #[arg(long)]
    pub hub_url: Option<String>,
    /// Only the device with this name (an alias such as `RB5` is resolved first).
    #[arg(long)]
    pub name: Option<String>,
    /// Only devices with this attribute (`key:value`, repeatable, ANDed), e.g. `framework:qnn`.
    #[arg(long = "attribute")]
    pub attributes: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    /// Total time for the whole command, in seconds, retries included; a retry that would start
    /// after it is not attempted.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_timeout)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct HubSimArgs {
    /// Address to listen on (port 0 picks a free port; the first line printed names it).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub bind: String,
    /// The API token the simulator accepts; any other gets 401.
    #[arg(long, default_value = crate::sim::DEFAULT_TOKEN)]
    pub token: String,
    /// A YAML scenario: per-device latency, memory, compute-unit split, job durations, faults.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the first line printed names it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Where the database, uploaded models and run folders live (created if missing).
    #[arg(long, env = "EDGEGATE_DATA_DIR", default_value = "edgegate-data")]
    pub data_dir: PathBuf,
    /// The database. Unset: the embedded SQLite file `edgegate.db` in --data-dir (one process).
    /// For several API processes and workers on one database give PostgreSQL:
    /// postgres://user:password@host:5432/edgegate (the password is never printed). Every
    /// process applies the migrations at start; they wait for each other.
    #[arg(long, env = "EDGEGATE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// What this process does: `api` serves the /v1 API and queues runs, `worker` executes queued
    /// runs (claimed from the database, one worker per run; answers only /health), `all` both.
    /// Several `api` and `worker` processes need PostgreSQL (--database-url) and one --shared-dir.
    #[arg(long, env = "EDGEGATE_ROLE", value_enum, default_value_t = ServeRole::All)]
    pub role: ServeRole,
    /// Where uploaded models and the AI Hub job cache live (default: --data-dir). With several
    /// processes, a directory they all mount (e.g. NFS), so a worker finds what the API stored
    /// and no AI Hub job is submitted twice.
    #[arg(long, env = "EDGEGATE_SHARED_DIR")]
    pub shared_dir: Option<PathBuf>,
    /// Seconds a worker's claim on a run lasts unless renewed (renewed every third of it). A run
    /// whose worker died is claimed by another worker this long after the last renewal.
    #[arg(long, env = "EDGEGATE_RUN_LEASE_SECS", default_value_t = 30)]
    pub run_lease_secs: u64,
    /// Largest accepted model upload, in MiB; larger uploads get 413.
    #[arg(long, env = "EDGEGATE_MAX_ARTIFACT_MB", default_value_t = 1024)]
    pub max_artifact_mb: u64,
    /// Runs executed at the same time; more wait in the queue.
    #[arg(long, env = "EDGEGATE_MAX_CONCURRENT_RUNS", default_value_t = 2)]
    pub max_concurrent_runs: usize,
}

/// `edgegate serve --role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServeRole {
    /// The /v1 API only.
    Api,
    /// Queued runs only.
    Worker,
    /// Both (one machine).
    All,
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    // The server logs a line per request: through a background writer, so a busy server never
    // waits on stderr; the guard flushes what is left when the command returns.
    let _log_guard = init_tracing(matches!(cli.command, Command::Serve(_)));
    if !matches!(cli.command, Command::ReadDataset(_))
        && let Ok(exe) = std::env::current_exe()
    {
        crate::hub::dataset_child::isolate_reads(exe);
    }
    match cli.command {
        Command::Validate(args) => commands::validate(&args.into()),
        Command::Schema(args) => commands::schema(args.kind.into()),
        Command::Init(args) => commands::init(&args.into()),
        Command::Run(args) if args.dry_run => commands::dry_run(&args.into()),
        Command::Run(args) => match commands::RunRequest::try_from(args) {
            Ok(req) => commands::run(&req),
            Err(e) => commands::invalid_arguments(&e),
        },
        Command::Report(args) => commands::report(&args.into()),
        Command::Merge(args) => commands::merge(&args.into()),
        Command::Devices(args) => commands::devices(&args.into()),
        Command::Generate(args) => commands::generate(&args.into()),
        Command::HubSim(args) => match commands::HubSimRequest::try_from(args) {
            Ok(req) => commands::hub_sim(&req),
            Err(e) => commands::invalid_arguments(&e),
        },
        Command::Serve(args) => match crate::server::ServeRequest::try_from(args) {
            Ok(req) => crate::server::serve_command(&req),
            Err(e) => commands::invalid_arguments(&e),
        },
        Command::ReadDataset(args) => crate::hub::dataset_child::serve(&args.file),
    }
}

/// A command line clap accepted but a check it cannot express refused.
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    /// `--job-timeout` outside (0, 1440] minutes.
    #[error("--job-timeout {0}: expected minutes between 0 and 1440")]
    JobTimeout(f64),
    /// `--bind` is not a socket address.
    #[error("--bind {bind:?} is not an address such as 127.0.0.1:0")]
    Bind {
        bind: String,
        #[source]
        source: std::net::AddrParseError,
    },
    /// `--max-artifact-mb` or `--max-concurrent-runs` is 0.
    #[error("--max-artifact-mb and --max-concurrent-runs must be at least 1")]
    Zero,
    /// `--run-lease-secs` below 2.
    #[error("--run-lease-secs must be at least 2 (the lease is renewed every third of it)")]
    RunLease,
    /// `--token` is empty or blank.
    #[error("--token must not be empty")]
    EmptyToken,
}

impl From<ValidateArgs> for commands::ValidateRequest {
    fn from(args: ValidateArgs) -> Self {
        Self {
            config: args.config,
            format: args.format.into(),
            outside: outside_project(args.allow_outside_project),
        }
    }
}

impl From<InitArgs> for commands::InitRequest {
    fn from(args: InitArgs) -> Self {
        Self {
            dir: args.dir,
            force: args.force,
        }
    }
}

impl From<RunArgs> for commands::DryRunRequest {
    fn from(args: RunArgs) -> Self {
        Self {
            config: args.config,
            json: args.format == PlanFormat::Json,
            hub_url: args.hub_url,
            no_cache: args.no_cache,
            outside: outside_project(args.allow_outside_project),
            shard: args.shard,
            baseline_model: args.baseline_model,
        }
    }
}

impl TryFrom<RunArgs> for commands::RunRequest {
    type Error = ArgsError;

    fn try_from(args: RunArgs) -> Result<Self, ArgsError> {
        let job_timeout = match args.job_timeout {
            Some(m) if m.is_finite() && m > 0.0 && m <= 1440.0 => {
                Some(Duration::from_secs_f64(m * 60.0))
            }
            Some(m) => return Err(ArgsError::JobTimeout(m)),
            None => None,
        };
        Ok(Self {
            config: args.config,
            json: args.json,
            model: args.model,
            junit: args.junit,
            markdown: args.markdown,
            comment: args.comment.map(Into::into),
            allow_fork_token: args.allow_fork_token,
            outside: outside_project(args.allow_outside_project),
            baseline: args.baseline,
            baseline_model: args.baseline_model,
            no_cache: args.no_cache,
            hub_url: args.hub_url,
            job_timeout,
            quiet: args.quiet,
            verbose: args.verbose,
            shard: args.shard,
        })
    }
}

impl From<ReportArgs> for commands::ReportRequest {
    fn from(args: ReportArgs) -> Self {
        Self {
            render: commands::RenderRequest {
                junit: args.junit,
                markdown: args.markdown,
                comment: args.comment.into(),
                template: args.template,
                pr: args.pr,
                no_step_summary: args.no_step_summary,
                timeout: args.timeout,
            },
            results: args.results,
            exit_zero: args.exit_zero,
        }
    }
}

impl From<MergeArgs> for commands::MergeRequest {
    fn from(args: MergeArgs) -> Self {
        Self {
            render: commands::RenderRequest {
                junit: args.junit,
                markdown: args.markdown,
                comment: args.comment.into(),
                template: args.template,
                pr: args.pr,
                no_step_summary: args.no_step_summary,
                timeout: args.timeout,
            },
            shards: args.shards,
            output: args.output,
            quiet: args.quiet,
        }
    }
}

impl From<DevicesArgs> for commands::DevicesRequest {
    fn from(args: DevicesArgs) -> Self {
        Self {
            hub_url: args.hub_url,
            name: args.name,
            attributes: args.attributes,
            json: args.format == ListFormat::Json,
            timeout: Some(args.timeout),
        }
    }
}

impl TryFrom<HubSimArgs> for commands::HubSimRequest {
    type Error = ArgsError;

    fn try_from(args: HubSimArgs) -> Result<Self, ArgsError> {
        let bind = args.bind.parse().map_err(|source| ArgsError::Bind {
            bind: args.bind.clone(),
            source,
        })?;
        if args.token.trim().is_empty() {
            return Err(ArgsError::EmptyToken);
        }
        Ok(Self {
            bind,
            token: args.token,
            scenario: args.scenario,
        })
    }
}

impl TryFrom<ServeArgs> for crate::server::ServeRequest {
    type Error = ArgsError;

    fn try_from(args: ServeArgs) -> Result<Self, ArgsError> {
        let bind = args.bind.parse().map_err(|source| ArgsError::Bind {
            bind: args.bind.clone(),
            source,
        })?;
        if args.max_artifact_mb == 0 || args.max_concurrent_runs == 0 {
            return Err(ArgsError::Zero);
        }
        if args.run_lease_secs < 2 {
            return Err(ArgsError::RunLease);
        }
        let var = |k: &str| std::env::var(k).ok();
        Ok(Self {
            bind,
            data_dir: args.data_dir,
            database_url: args.database_url.filter(|u| !u.trim().is_empty()),
            master_key: var(crate::server::ENV_MASTER_KEY),
            jwt_secret: var(crate::server::ENV_JWT_SECRET),
            hub_url: var(crate::hub::config::ENV_URL).filter(|u| !u.trim().is_empty()),
            artifact_limit: args.max_artifact_mb.saturating_mul(1 << 20),
            max_concurrent_runs: args.max_concurrent_runs,
            role: match args.role {
                ServeRole::Api => crate::server::Role::Api,
                ServeRole::Worker => crate::server::Role::Worker,
                ServeRole::All => crate::server::Role::All,
            },
            shared_dir: args.shared_dir,
            run_lease: std::time::Duration::from_secs(args.run_lease_secs),
        })
    }
}

/// `--allow-outside-project` as the library's path policy setting.
fn outside_project(allow: bool) -> crate::config::OutsideProject {
    if allow {
        crate::config::OutsideProject::Allowed
    } else {
        crate::config::OutsideProject::Refused
    }
}

/// Seconds for `--timeout`: more than 0, at most a day.
fn parse_timeout(raw: &str) -> Result<Duration, String> {
    match raw.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("expected seconds between 0 and 86400, got `{raw}`")),
    }
}

fn init_tracing(server: bool) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let default = if server { "warn,edgegate=info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("EDGEGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = use_colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    if server {
        // Not lossy: when the buffer is full, requests wait rather than lose log lines.
        let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .finish(std::io::stderr());
        let _ = builder.with_writer(writer).try_init();
        Some(guard)
    } else {
        let _ = builder.with_writer(std::io::stderr).try_init();
        None
    }
}

/// Colours only on a terminal, and never when `NO_COLOR` is set to anything but empty
/// (<https://no-color.org>).
pub fn use_colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

impl From<ValidateFormat> for commands::DiagnosticFormat {
    fn from(f: ValidateFormat) -> Self {
        match f {
            ValidateFormat::Text => Self::Text,
            ValidateFormat::Json => Self::Json,
            ValidateFormat::Github => Self::Github,
        }
    }
}

impl From<SchemaKind> for commands::SchemaKind {
    fn from(k: SchemaKind) -> Self {
        match k {
            SchemaKind::Config => Self::Config,
            SchemaKind::Promptpack => Self::Promptpack,
            SchemaKind::Results => Self::Results,
        }
    }
}

impl From<CommentArg> for crate::config::types::CommentMode {
    fn from(c: CommentArg) -> Self {
        match c {
            CommentArg::Auto => Self::Auto,
            CommentArg::Github => Self::Github,
            CommentArg::Gitlab => Self::Gitlab,
            CommentArg::Off => Self::Off,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(use_colour(true, None));
        assert!(!use_colour(false, None));
        assert!(!use_colour(true, Some(OsStr::new("1"))));
        assert!(use_colour(true, Some(OsStr::new(""))));
        assert!(!use_colour(false, Some(OsStr::new(""))));
    }

    fn parse(args: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once("edgegate").chain(args.iter().copied()))
            .expect("clap accepts it")
            .command
    }

    #[test]
    fn a_job_timeout_outside_a_day_is_refused_after_parsing() {
        for (minutes, ok) in [("0.5", true), ("1440", true), ("0", false), ("1441", false)] {
            let Command::Run(args) = parse(&["run", "--job-timeout", minutes]) else {
                panic!("not run");
            };
            let req = commands::RunRequest::try_from(args);
            assert_eq!(req.is_ok(), ok, "{minutes}");
        }
        let Command::Run(args) = parse(&["run", "--job-timeout", "2"]) else {
            panic!("not run");
        };
        let req = commands::RunRequest::try_from(args).expect("valid");
        assert_eq!(req.job_timeout, Some(Duration::from_secs(120)));
    }

    #[test]
    fn hub_sim_needs_an_address_and_a_token() {
        let Command::HubSim(args) = parse(&["hub-sim", "--bind", "localhost"]) else {
            panic!("not hub-sim");
        };
        assert!(matches!(
            commands::HubSimRequest::try_from(args),
            Err(ArgsError::Bind { .. })
        ));
        let Command::HubSim(args) = parse(&["hub-sim", "--token", " "]) else {
            panic!("not hub-sim");
        };
        assert!(matches!(
            commands::HubSimRequest::try_from(args),
            Err(ArgsError::EmptyToken)
        ));
        let Command::HubSim(args) = parse(&["hub-sim"]) else {
            panic!("not hub-sim");
        };
        let req = commands::HubSimRequest::try_from(args).expect("defaults are valid");
        assert_eq!(req.bind.to_string(), "127.0.0.1:0");
    }

    #[test]
    fn timeouts_are_positive_seconds_up_to_a_day() {
        assert_eq!(parse_timeout("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_timeout("0.5"), Ok(Duration::from_millis(500)));
        for bad in ["0", "-1", "nan", "inf", "86401", "x"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
