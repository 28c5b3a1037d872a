//! Text expectations: `exact`, `contains`, `regex`, `json_schema`, and the rule that reads the
//! text of a case's outputs. Uses `label` only to name the argmax class; never the dispatcher.
//!
//! - The text of a case is the first output whose dtype is `uint8` or `int8`, read as UTF-8 bytes
//!   with trailing NUL bytes dropped; when there is none, and the promptpack has a labels file and
//!   the first output holds float scores, the text is the argmax label; otherwise the case is an
//!   error ("no text output").
//! - `exact`: with `normalize_whitespace` (default on) both sides are trimmed and every run of
//!   whitespace becomes one space; with `ignore_case` (default on) both are lowercased (Unicode).
//! - `contains`: substring search, lowercased when `ignore_case` (default on); no whitespace changes.
//! - `regex`: Rust `regex` syntax, unanchored (a match anywhere passes) unless the pattern uses `^`/`$`.
//! - `json_schema`: the text (trimmed) must parse as JSON and validate against the schema
//!   (format keywords are checked); text that is not JSON fails.

use crate::device::CaseOutput;
use crate::eval::format::clip;
use crate::tensor::DType;

use super::context::EvalContext;
use super::label::label_name;
use super::outcome::{MAX_ACTUAL_CHARS, Outcome, quote};
use super::outputs::{rank, score_vector, shape_str, tensor_summary};

/// `exact`: equal after the normalisations asked for.
pub(super) fn check_exact(
    text: &str,
    ignore_case: bool,
    normalize_whitespace: bool,
    out: &CaseOutput,
    ctx: &EvalContext,
) -> Outcome {
    with_text(out, ctx, |actual| {
        let norm = |s: &str| {
            let s = if normalize_whitespace {
                s.split_whitespace().collect::<Vec<_>>().join(" ")
            } else {
                s.to_string()
            };
            if ignore_case { s.to_lowercase() } else { s }
        };
        let (a, e) = (norm(actual), norm(text));
        Outcome::verdict(a == e, clip(actual, MAX_ACTUAL_CHARS), || {
            format!(
                "output {} does not equal {}{}",
                quote(&a),
                quote(&e),
                if ignore_case || normalize_whitespace {
                    " after normalisation"
                } else {
                    ""
                }
            )
        })
    })
}

/// `contains`: a substring, case-insensitive when asked.
pub(super) fn check_contains(
    text: &str,
    ignore_case: bool,
    out: &CaseOutput,
    ctx: &EvalContext,
) -> Outcome {
    with_text(out, ctx, |actual| {
        let found = if ignore_case {
            actual.to_lowercase().contains(&text.to_lowercase())
        } else {
            actual.contains(text)
        };
        Outcome::verdict(found, clip(actual, MAX_ACTUAL_CHARS), || {
            format!("output does not contain {}", quote(text))
        })
    })
}

/// `regex`: a match anywhere, unless the pattern anchors itself.
pub(super) fn check_regex(pattern: &str, out: &CaseOutput, ctx: &EvalContext) -> Outcome {
    match regex::Regex::new(pattern) {
        Err(e) => Outcome::error(String::new(), format!("the regex does not compile: {e}")),
        Ok(re) => with_text(out, ctx, |actual| {
            Outcome::verdict(re.is_match(actual), clip(actual, MAX_ACTUAL_CHARS), || {
                format!("output does not match regex {pattern}")
            })
        }),
    }
}

/// `json_schema`: the text parses as JSON and validates, formats included.
pub(super) fn check_json_schema(
    schema: &serde_json::Map<String, serde_json::Value>,
    out: &CaseOutput,
    ctx: &EvalContext,
) -> Outcome {
    let schema = serde_json::Value::Object(schema.clone());
    let validator = match jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
    {
        Ok(v) => v,
        Err(e) => {
            return Outcome::error(String::new(), format!("the JSON schema is not valid: {e}"));
        }
    };
    with_text(out, ctx, |text| {
        let actual = clip(text, MAX_ACTUAL_CHARS);
        let value: serde_json::Value = match serde_json::from_str(text.trim()) {
            Ok(v) => v,
            Err(e) => return Outcome::fail(actual, format!("output is not JSON: {e}")),
        };
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| {
                let at = e.instance_path().as_str().to_string();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("at `{at}`: {e}")
                }
            })
            .collect();
        if errors.is_empty() {
            return Outcome::pass(actual);
        }
        let shown = errors
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        let more = match errors.len() {
            n if n > 3 => format!(" (and {} more)", n - 3),
            _ => String::new(),
        };
        Outcome::fail(
            actual,
            format!("output JSON does not match the schema: {shown}{more}"),
        )
    })
}

/// Runs `f` on the text of the outputs, or concludes the case could not be checked.
fn with_text(out: &CaseOutput, ctx: &EvalContext, f: impl FnOnce(&str) -> Outcome) -> Outcome {
    match output_text(out, ctx) {
        Ok(text) => f(&text),
        Err(e) => e,
    }
}

/// The text of a case's output under the documented rule (byte output, else argmax label).
pub(super) fn output_text(out: &CaseOutput, ctx: &EvalContext) -> Result<String, Outcome> {
    if let Some((name, t)) = out
        .outputs
        .iter()
        .find(|(_, t)| matches!(t.dtype(), DType::U8 | DType::I8))
    {
        let bytes = t.data();
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        return match std::str::from_utf8(&bytes[..end]) {
            Ok(s) => Ok(s.to_string()),
            Err(e) => Err(Outcome::error(
                tensor_summary(t),
                format!(
                    "output `{name}` ({}) is not valid UTF-8 text: {e}",
                    t.dtype()
                ),
            )),
        };
    }
    let Some((name, first)) = out.outputs.first() else {
        return Err(Outcome::error(
            String::new(),
            "no text output: the model produced no outputs".to_string(),
        ));
    };
    let summary = tensor_summary(first);
    let is_float = matches!(first.dtype(), DType::F32 | DType::F16);
    match (&ctx.labels, is_float) {
        (Some(labels), true) => {
            let scores = score_vector(name, first)
                .map_err(|r| Outcome::error(summary.clone(), format!("no text output: {r}")))?;
            let best = rank(&scores).first().copied().unwrap_or(0);
            Ok(label_name(best, labels))
        }
        _ => {
            let names: Vec<String> = out
                .outputs
                .iter()
                .map(|(n, t)| format!("`{n}` {}", shape_str(t)))
                .collect();
            Err(Outcome::error(
                summary,
                format!(
                    "no text output: the outputs are {}; text expectations read the first uint8/int8 output as UTF-8, or the argmax label of float scores when the promptpack has a labels file",
                    names.join(", ")
                ),
            ))
        }
    }
}
