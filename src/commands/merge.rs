//! `edgegate merge`: joins the results files of a sharded run (`run --shard i/n`, one CI job per
//! shard) into one results.json, with the verdict an unsharded run would have had, then renders
//! and publishes the reports like `edgegate report` (one JUnit, one comment). Must not reach
//! into clap, the engine or devices; the join itself is `eval::merge`'s.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::types::CommentMode;
use crate::eval::merge::{MergeError, ShardResults, merge as join};
use crate::exit;
use crate::report::{ReportError, ReportOptions, load_results, render_and_publish};

use super::error::{finish, print_warning};
use super::report::print_outcome;
use super::run::write_results;
use super::runtime::{RuntimeError, block_on};
use super::verdict::exit_code_of;

/// What `edgegate merge` was asked to join and render.
#[derive(Debug, Clone)]
pub struct MergeRequest {
    /// The results file of every shard.
    pub shards: Vec<PathBuf>,
    /// Where the merged results.json goes.
    pub output: PathBuf,
    /// Write JUnit XML here.
    pub junit: Option<PathBuf>,
    /// Write the full Markdown report here.
    pub markdown: Option<PathBuf>,
    /// Where the sticky comment goes.
    pub comment: CommentMode,
    /// A template replacing the shipped Markdown template.
    pub template: Option<PathBuf>,
    /// The PR number or MR iid, when the CI event does not carry it.
    pub pr: Option<u64>,
    /// Do not append to `$GITHUB_STEP_SUMMARY`.
    pub no_step_summary: bool,
    /// Total time for posting the comment.
    pub timeout: Duration,
    /// `-q`: print only the verdict line of the table.
    pub quiet: bool,
}

/// Why no merged results were written.
#[derive(Debug, thiserror::Error)]
enum MergeCommandError {
    #[error(transparent)]
    Read(#[from] ReportError),
    #[error("cannot merge the shards: {0}")]
    Merge(#[from] MergeError),
    #[error("cannot write results to `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Shards that cannot be read or do not belong together are invalid input (2); failing to
/// write is could-not-complete (3).
fn code(e: &MergeCommandError) -> i32 {
    match e {
        MergeCommandError::Read(_) | MergeCommandError::Merge(_) => exit::INVALID_INPUT,
        MergeCommandError::Write { .. } | MergeCommandError::Runtime(_) => exit::COULD_NOT_COMPLETE,
    }
}

/// `edgegate merge`: writes the merged results and the reports, then exits with the merged
/// verdict (0 passed, 1 failed, 3 could not complete; 2 when the shards cannot be merged).
pub fn merge(req: &MergeRequest) -> i32 {
    finish(run(req), code)
}

fn run(req: &MergeRequest) -> Result<i32, MergeCommandError> {
    let mut shards = Vec::with_capacity(req.shards.len());
    for path in &req.shards {
        shards.push(ShardResults {
            name: path.display().to_string(),
            results: load_results(path)?,
        });
    }
    let merged = join(shards)?;
    write_results(&req.output, &merged).map_err(|source| MergeCommandError::Write {
        path: req.output.clone(),
        source,
    })?;
    let table = crate::report::table::render(&merged);
    if req.quiet {
        println!("{}", table.lines().last().unwrap_or_default());
    } else {
        print!("{table}");
        println!(
            "results: {} (merged from {} shard{})",
            req.output.display(),
            req.shards.len(),
            if req.shards.len() == 1 { "" } else { "s" }
        );
    }
    let opts = ReportOptions {
        junit: req.junit.clone(),
        markdown: req.markdown.clone(),
        comment: req.comment,
        template: req.template.clone(),
        pr: req.pr,
        results_path: Some(req.output.clone()),
        no_step_summary: req.no_step_summary,
        env: crate::ci::CiEnv::from_env(),
        deadline: Some(crate::http::Deadline::after(req.timeout, "--timeout")),
    };
    match block_on(render_and_publish(&merged, &opts))? {
        Ok(outcome) => print_outcome(&outcome),
        Err(e) => print_warning("reports", &e),
    }
    Ok(exit_code_of(&merged))
}
