//! `edgegate merge`: joins the results files of a sharded run (`run --shard i/n`, one CI job per
//! shard) into one results.json, with the verdict an unsharded run would have had, then renders
//! and publishes the reports like `edgegate report` (one JUnit, one comment). Must not reach
//! into clap, the engine or devices; the join itself is `eval::merge`'s.

use std::path::PathBuf;

use crate::eval::merge::{MergeError, ShardResults, merge as join};
use crate::exit;
use crate::report::{ReportError, load_results, render_and_publish};

use super::error::{finish, print_warning};
use super::report::{RenderRequest, print_outcome};
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
    /// The reports to write and the comment to post, as for `report`.
    pub render: RenderRequest,
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
    let opts = req.render.options(&req.output);
    match block_on(render_and_publish(&merged, &opts))? {
        Ok(outcome) => print_outcome(&outcome),
        Err(e) => print_warning("reports", &e),
    }
    Ok(exit_code_of(&merged))
}
