//! What checking one case concluded (passed, failed or could not be checked, with the actual
//! output in words and why), and how expected and actual text is quoted in reasons. Imports no
//! other file of `expect`.

use crate::eval::format::clip;
use crate::results::CaseStatus;

/// Longest text kept in a case result's `actual`, so one runaway output cannot swamp a report.
pub const MAX_ACTUAL_CHARS: usize = 2000;

/// A text in double quotes, clipped so one long expectation cannot swamp a reason.
pub(super) fn quote(text: &str) -> String {
    format!("\"{}\"", clip(text, 200))
}

/// What a check concluded about one case.
pub(super) struct Outcome {
    pub(super) status: CaseStatus,
    pub(super) actual: String,
    pub(super) reason: Option<String>,
}

impl Outcome {
    pub(super) fn pass(actual: String) -> Self {
        Self {
            status: CaseStatus::Passed,
            actual,
            reason: None,
        }
    }

    pub(super) fn fail(actual: String, reason: String) -> Self {
        Self {
            status: CaseStatus::Failed,
            actual,
            reason: Some(reason),
        }
    }

    pub(super) fn error(actual: String, reason: String) -> Self {
        Self {
            status: CaseStatus::Error,
            actual,
            reason: Some(reason),
        }
    }

    pub(super) fn verdict(ok: bool, actual: String, reason: impl FnOnce() -> String) -> Self {
        if ok {
            Self::pass(actual)
        } else {
            Self::fail(actual, reason())
        }
    }
}
