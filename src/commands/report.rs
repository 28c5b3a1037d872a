//! `edgegate report`: every report from a results file alone, no device access; exits with the
//! results' verdict so a separate report job still fails the pipeline on a failed gate. Must not
//! reach into clap, the engine or devices; rendering and publishing are `report`'s.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::types::CommentMode;
use crate::exit;
use crate::report::{
    CommentOutcome, ReportError, ReportOptions, ReportOutcome, load_results, render_and_publish,
};
use crate::results::Verdict;

use super::error::finish;
use super::runtime::{RuntimeError, block_on};
use super::verdict::verdict_code;

/// What `edgegate report` was asked to render and publish.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// The results file written by `edgegate run`.
    pub results: PathBuf,
    /// The reports to write and the comment to post.
    pub render: RenderRequest,
    /// Exit 0 whatever the verdict.
    pub exit_zero: bool,
}

/// The reports a results file is rendered to and the comment posted from it: the same flags for
/// `report` and `merge`.
#[derive(Debug, Clone)]
pub struct RenderRequest {
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
}

impl RenderRequest {
    /// The report layer's options for the results file at `results_path`, in this CI environment.
    pub(super) fn options(&self, results_path: &std::path::Path) -> ReportOptions {
        ReportOptions {
            junit: self.junit.clone(),
            markdown: self.markdown.clone(),
            comment: self.comment,
            template: self.template.clone(),
            pr: self.pr,
            results_path: Some(results_path.to_path_buf()),
            no_step_summary: self.no_step_summary,
            env: crate::ci::CiEnv::from_env(),
            deadline: Some(crate::http::Deadline::after(self.timeout, "--timeout")),
        }
    }
}

/// Why no report was produced.
#[derive(Debug, thiserror::Error)]
enum ReportCommandError {
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// A results file or template that cannot be used is invalid input (2); failing to write a
/// report or to start is could-not-complete (3).
fn code(e: &ReportCommandError) -> i32 {
    match e {
        ReportCommandError::Report(ReportError::Write { .. } | ReportError::Junit(_))
        | ReportCommandError::Runtime(_) => exit::COULD_NOT_COMPLETE,
        ReportCommandError::Report(_) => exit::INVALID_INPUT,
    }
}

/// `edgegate report`: renders and publishes, then exits with the verdict (0 with `--exit-zero`).
pub fn report(req: &ReportRequest) -> i32 {
    finish(render(req), code)
}

fn render(req: &ReportRequest) -> Result<i32, ReportCommandError> {
    let results = load_results(&req.results)?;
    let opts = req.render.options(&req.results);
    let outcome = block_on(render_and_publish(&results, &opts))??;
    print_outcome(&outcome);
    eprintln!(
        "verdict: {}",
        match results.verdict {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Error => "error (could not complete)",
        }
    );
    Ok(if req.exit_zero {
        exit::PASSED
    } else {
        verdict_code(results.verdict)
    })
}

/// Prints what was written and posted, and every warning, to stderr (shared with `edgegate run`).
pub fn print_outcome(outcome: &ReportOutcome) {
    for path in &outcome.written {
        eprintln!("wrote {}", path.display());
    }
    if let Some((place, c)) = &outcome.comment {
        let truncated = if outcome.comment_truncated {
            " (truncated to fit the size limit)"
        } else {
            ""
        };
        match c {
            CommentOutcome::Created { url, .. } => eprintln!(
                "posted the report comment on {place}{truncated}{}",
                url.as_deref().map(|u| format!(": {u}")).unwrap_or_default()
            ),
            CommentOutcome::Updated { url, .. } => eprintln!(
                "updated the report comment on {place}{truncated}{}",
                url.as_deref().map(|u| format!(": {u}")).unwrap_or_default()
            ),
            CommentOutcome::Stale { newer_run, .. } => eprintln!(
                "left the report comment on {place} alone: it was written by a newer run ({newer_run})"
            ),
        }
    }
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_inputs_are_invalid_and_unwritable_reports_could_not_complete() {
        let write = ReportError::Write {
            path: "r.md".into(),
            source: std::io::Error::other("disk full"),
        };
        assert_eq!(code(&write.into()), exit::COULD_NOT_COMPLETE);
        let version = ReportError::ResultsVersion {
            path: "r.json".into(),
            found: 99,
            expected: 1,
        };
        assert_eq!(code(&version.into()), exit::INVALID_INPUT);
    }
}
