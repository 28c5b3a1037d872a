//! `edgegate report`: every report from a results file alone, no device access; exits with the
//! results' verdict so a separate report job still fails the pipeline on a failed gate.

use std::path::Path;

use crate::exit;
use crate::report::publish::{ReportOptions, ReportOutcome, load_results, render_and_publish};
use crate::report::sticky::CommentOutcome;

/// Runs `edgegate report` and returns the exit code.
pub fn report(results_path: &Path, mut opts: ReportOptions, exit_zero: bool) -> i32 {
    let results = match load_results(results_path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return e.exit_code();
        }
    };
    if opts.results_path.is_none() {
        opts.results_path = Some(results_path.to_path_buf());
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return exit::COULD_NOT_COMPLETE;
        }
    };
    let outcome = match runtime.block_on(render_and_publish(&results, &opts)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return e.exit_code();
        }
    };
    print_outcome(&outcome);
    eprintln!(
        "verdict: {}",
        match results.verdict {
            crate::results::Verdict::Passed => "passed",
            crate::results::Verdict::Failed => "failed",
            crate::results::Verdict::Error => "error (could not complete)",
        }
    );
    if exit_zero {
        exit::PASSED
    } else {
        results.verdict.exit_code()
    }
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
