//! The dispatcher: checks one case by handing its expectation to its family (`text`, `label`,
//! `tensor`), and describes any expectation in words for reports. `none` is skipped (run and
//! measured only). No family imports this file.

use crate::config::{Case, Expected};
use crate::device::CaseOutput;
use crate::eval::format::clip;
use crate::results::{CaseResult, CaseStatus};

use super::context::EvalContext;
use super::label::{check_top_k, label_words};
use super::outcome::{MAX_ACTUAL_CHARS, Outcome, quote};
use super::outputs::tensor_summary;
use super::tensor::{Criteria, check_tensor};
use super::text::{check_contains, check_exact, check_json_schema, check_regex, output_text};

/// Checks one case, so every report can show what was expected, what came out, and why it failed.
pub fn check_case(case: &Case, output: Option<&CaseOutput>, ctx: &EvalContext) -> CaseResult {
    let outcome = match output {
        Some(out) => evaluate(&case.expected, out, ctx),
        None if matches!(case.expected, Expected::None {}) => Outcome {
            status: CaseStatus::Skipped,
            actual: String::new(),
            reason: Some("no output was produced".to_string()),
        },
        None => Outcome::error(
            String::new(),
            "the device produced no output for this case".to_string(),
        ),
    };
    CaseResult {
        case_id: case.case_id.clone(),
        name: case.name.clone().unwrap_or_else(|| case.case_id.clone()),
        expected_type: case.expected.type_name().to_string(),
        expected: describe_expected(&case.expected, ctx),
        actual: outcome.actual,
        status: outcome.status,
        reason: outcome.reason,
        latency_ms: output.and_then(|o| o.latency_ms),
    }
}

/// A case that was not given to the model (`Case::skip_reason`): skipped, with its reason, and
/// never counted as passed.
pub fn skipped_case(case: &Case, reason: String, ctx: &EvalContext) -> CaseResult {
    CaseResult {
        case_id: case.case_id.clone(),
        name: case.name.clone().unwrap_or_else(|| case.case_id.clone()),
        expected_type: case.expected.type_name().to_string(),
        expected: describe_expected(&case.expected, ctx),
        actual: String::new(),
        status: CaseStatus::Skipped,
        reason: Some(reason),
        latency_ms: None,
    }
}

/// The expectation in words, as reports show it next to the actual output.
pub fn describe_expected(expected: &Expected, ctx: &EvalContext) -> String {
    match expected {
        Expected::Exact {
            text,
            ignore_case,
            normalize_whitespace,
        } => {
            let mut mods = Vec::new();
            if *ignore_case {
                mods.push("ignoring case");
            }
            if *normalize_whitespace {
                mods.push("whitespace normalised");
            }
            if mods.is_empty() {
                format!("exactly {}", quote(text))
            } else {
                format!("exactly {} ({})", quote(text), mods.join(", "))
            }
        }
        Expected::Contains { text, ignore_case } => {
            if *ignore_case {
                format!("contains {} (ignoring case)", quote(text))
            } else {
                format!("contains {}", quote(text))
            }
        }
        Expected::Regex { pattern } => format!("matches regex {pattern}"),
        Expected::JsonSchema { schema } => {
            let s = serde_json::Value::Object(schema.clone()).to_string();
            format!("JSON valid against {}", clip(&s, 200))
        }
        Expected::Label { label, .. } => format!("label {}", label_words(label, ctx)),
        Expected::TopK { label, k, .. } => {
            format!("{} in the top {k}", label_words(label, ctx))
        }
        Expected::Tensor {
            reference,
            atol,
            rtol,
            min_cosine,
            min_psnr_db,
            ..
        } => {
            let c = Criteria::from_fields(*atol, *rtol, *min_cosine, *min_psnr_db);
            format!("close to `{reference}` ({})", c.words())
        }
        Expected::None {} => "nothing (run and measured only)".to_string(),
    }
}

fn evaluate(expected: &Expected, out: &CaseOutput, ctx: &EvalContext) -> Outcome {
    match expected {
        Expected::Exact {
            text,
            ignore_case,
            normalize_whitespace,
        } => check_exact(text, *ignore_case, *normalize_whitespace, out, ctx),
        Expected::Contains { text, ignore_case } => check_contains(text, *ignore_case, out, ctx),
        Expected::Regex { pattern } => check_regex(pattern, out, ctx),
        Expected::JsonSchema { schema } => check_json_schema(schema, out, ctx),
        Expected::Label { label, output } => check_top_k(label, 1, output.as_deref(), out, ctx),
        Expected::TopK { label, k, output } => {
            check_top_k(label, *k as usize, output.as_deref(), out, ctx)
        }
        Expected::Tensor {
            reference,
            output,
            atol,
            rtol,
            min_cosine,
            min_psnr_db,
        } => {
            let c = Criteria::from_fields(*atol, *rtol, *min_cosine, *min_psnr_db);
            check_tensor(reference, output.as_deref(), &c, out, ctx)
        }
        Expected::None {} => Outcome {
            status: CaseStatus::Skipped,
            actual: match output_text(out, ctx) {
                Ok(text) => clip(&text, MAX_ACTUAL_CHARS),
                Err(_) => out
                    .outputs
                    .first()
                    .map(|(_, t)| tensor_summary(t))
                    .unwrap_or_default(),
            },
            reason: None,
        },
    }
}
