//! The exit code of a run's results, shared by `edgegate run` and `edgegate report`. Must not
//! reach into clap or print; the codes themselves are named in `crate::exit`.

use crate::exit;
use crate::results::{Results, Verdict};

/// The process exit code of a verdict: passed 0, failed 1, error 3.
pub fn verdict_code(verdict: Verdict) -> i32 {
    match verdict {
        Verdict::Passed => exit::PASSED,
        Verdict::Failed => exit::GATE_FAILED,
        Verdict::Error => exit::COULD_NOT_COMPLETE,
    }
}

/// The exit code of `edgegate run`: the verdict's, except that an error caused by the user's
/// files (a model or input a device cannot use) is invalid input (2).
pub fn exit_code_of(results: &Results) -> i32 {
    if results.verdict == Verdict::Error && results.devices.iter().any(|d| d.invalid_input) {
        exit::INVALID_INPUT
    } else {
        verdict_code(results.verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_keep_their_codes_apart() {
        assert_eq!(verdict_code(Verdict::Passed), 0);
        assert_eq!(verdict_code(Verdict::Failed), 1);
        assert_eq!(verdict_code(Verdict::Error), 3);
    }

    #[test]
    fn an_error_from_the_users_files_is_invalid_input() {
        let mut results: Results =
            serde_json::from_str(include_str!("../../tests/fixtures/results/erroring.json"))
                .expect("fixture parses");
        assert_eq!(exit_code_of(&results), exit::COULD_NOT_COMPLETE);
        results.devices[0].invalid_input = true;
        assert_eq!(exit_code_of(&results), exit::INVALID_INPUT);
        results.verdict = Verdict::Failed;
        assert_eq!(exit_code_of(&results), exit::GATE_FAILED);
    }
}
