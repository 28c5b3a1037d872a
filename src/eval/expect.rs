//! Checks one case's outputs against its `expected`. Pure apart from reading the reference `.npy`
//! files of `tensor` expectations under the promptpack's folder (through the project's
//! `PathPolicy`, never outside the project); knows nothing of devices.
//!
//! Rules, as documented for users:
//! - Text (`exact`, `contains`, `regex`, `json_schema`): the text of a case is the first output
//!   whose dtype is `uint8` or `int8`, read as UTF-8 bytes with trailing NUL bytes dropped; when
//!   there is none, and the promptpack has a labels file and the first output holds float scores,
//!   the text is the argmax label; otherwise the case is an error ("no text output").
//! - `exact`: with `normalize_whitespace` (default on) both sides are trimmed and every run of
//!   whitespace becomes one space; with `ignore_case` (default on) both are lowercased (Unicode).
//! - `contains`: substring search, lowercased when `ignore_case` (default on); no whitespace changes.
//! - `regex`: Rust `regex` syntax, unanchored (a match anywhere passes) unless the pattern uses `^`/`$`.
//! - `json_schema`: the text (trimmed) must parse as JSON and validate against the schema
//!   (format keywords are checked); text that is not JSON fails.
//! - `label` / `top_k`: scores are the named output or the first; every dimension but the last
//!   must be 1. Classes rank by score, highest first; ties rank the lower class index first (as
//!   numpy's `argmax`), NaN scores rank last. The expected label is looked up as a line of the
//!   labels file first, then read as a class index.
//! - `tensor`: the output must have the reference's shape; `|a - r| <= atol + rtol·|r|` for every
//!   element, cosine similarity ≥ `min_cosine`, PSNR (`10·log10(max|r|² / MSE)`) ≥ `min_psnr_db`.
//!   With no criterion given, atol 1e-5 and rtol 1e-3 apply; when only one of atol/rtol is given
//!   the other is 0. Element types may differ (a float16 output against a float32 reference);
//!   values are compared as f64.
//! - `none`: skipped (run and measured only).

use std::cmp::Ordering;
use std::path::PathBuf;

use crate::config::{Case, Expected, PathPolicy, Promptpack};
use crate::device::CaseOutput;
use crate::results::{CaseResult, CaseStatus};
use crate::tensor::{DType, Tensor};

use super::compare;
use super::format::{clip, num, num_sig};

/// Default absolute tolerance of a `tensor` expectation that names no criterion.
pub const DEFAULT_ATOL: f64 = 1e-5;
/// Default relative tolerance of a `tensor` expectation that names no criterion.
pub const DEFAULT_RTOL: f64 = 1e-3;
/// Longest text kept in a case result's `actual`, so one runaway output cannot swamp a report.
pub const MAX_ACTUAL_CHARS: usize = 2000;

/// What checking a case needs besides the case and its output.
#[derive(Debug, Clone, Default)]
pub struct EvalContext {
    /// The lines of the promptpack's labels file (line N = class N), when it has one.
    pub labels: Option<Vec<String>>,
    /// The promptpack's folder, against which reference `.npy` paths resolve.
    pub pack_dir: PathBuf,
    /// Where those paths may lead (the default refuses every path).
    pub paths: PathPolicy,
}

impl EvalContext {
    /// The context of a promptpack in `pack_dir`, reading its labels file (one label per line,
    /// trimmed, as validation reads it; trailing blank lines dropped).
    pub fn for_pack(
        pack: &Promptpack,
        pack_dir: PathBuf,
        paths: PathPolicy,
    ) -> Result<Self, String> {
        let labels = match &pack.labels {
            None => None,
            Some(file) => {
                let path = paths
                    .resolve(&pack_dir, file)
                    .map_err(|e| format!("labels file {e}; {}", paths.help()))?;
                let text =
                    crate::files::read_to_string(&path, "labels file", crate::files::LABELS_LIMIT)
                        .map_err(|e| {
                            format!(
                                "cannot read labels file `{}`: {}",
                                path.display(),
                                e.reason()
                            )
                        })?;
                let mut labels: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
                while labels.last().is_some_and(String::is_empty) {
                    labels.pop();
                }
                Some(labels)
            }
        };
        Ok(Self {
            labels,
            pack_dir,
            paths,
        })
    }
}

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

fn label_words(label: &str, ctx: &EvalContext) -> String {
    match ctx.labels.as_deref() {
        Some(labels) => match labels.iter().position(|l| l == label) {
            Some(i) => format!("{} (class {i})", quote(label)),
            None => match label.parse::<usize>() {
                Ok(i) => match labels.get(i) {
                    Some(name) => format!("class {i} ({})", quote(name)),
                    None => format!("class {i}"),
                },
                Err(_) => quote(label),
            },
        },
        None => match label.parse::<usize>() {
            Ok(i) => format!("class {i}"),
            Err(_) => quote(label),
        },
    }
}

fn quote(text: &str) -> String {
    format!("\"{}\"", clip(text, 200))
}

struct Outcome {
    status: CaseStatus,
    actual: String,
    reason: Option<String>,
}

impl Outcome {
    fn pass(actual: String) -> Self {
        Self {
            status: CaseStatus::Passed,
            actual,
            reason: None,
        }
    }

    fn fail(actual: String, reason: String) -> Self {
        Self {
            status: CaseStatus::Failed,
            actual,
            reason: Some(reason),
        }
    }

    fn error(actual: String, reason: String) -> Self {
        Self {
            status: CaseStatus::Error,
            actual,
            reason: Some(reason),
        }
    }

    fn verdict(ok: bool, actual: String, reason: impl FnOnce() -> String) -> Self {
        if ok {
            Self::pass(actual)
        } else {
            Self::fail(actual, reason())
        }
    }
}

fn evaluate(expected: &Expected, out: &CaseOutput, ctx: &EvalContext) -> Outcome {
    match expected {
        Expected::Exact {
            text,
            ignore_case,
            normalize_whitespace,
        } => with_text(out, ctx, |actual| {
            let norm = |s: &str| {
                let s = if *normalize_whitespace {
                    s.split_whitespace().collect::<Vec<_>>().join(" ")
                } else {
                    s.to_string()
                };
                if *ignore_case { s.to_lowercase() } else { s }
            };
            let (a, e) = (norm(actual), norm(text));
            Outcome::verdict(a == e, clip(actual, MAX_ACTUAL_CHARS), || {
                format!(
                    "output {} does not equal {}{}",
                    quote(&a),
                    quote(&e),
                    if *ignore_case || *normalize_whitespace {
                        " after normalisation"
                    } else {
                        ""
                    }
                )
            })
        }),
        Expected::Contains { text, ignore_case } => with_text(out, ctx, |actual| {
            let found = if *ignore_case {
                actual.to_lowercase().contains(&text.to_lowercase())
            } else {
                actual.contains(text.as_str())
            };
            Outcome::verdict(found, clip(actual, MAX_ACTUAL_CHARS), || {
                format!("output does not contain {}", quote(text))
            })
        }),
        Expected::Regex { pattern } => match regex::Regex::new(pattern) {
            Err(e) => Outcome::error(String::new(), format!("the regex does not compile: {e}")),
            Ok(re) => with_text(out, ctx, |actual| {
                Outcome::verdict(re.is_match(actual), clip(actual, MAX_ACTUAL_CHARS), || {
                    format!("output does not match regex {pattern}")
                })
            }),
        },
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

fn with_text(out: &CaseOutput, ctx: &EvalContext, f: impl FnOnce(&str) -> Outcome) -> Outcome {
    match output_text(out, ctx) {
        Ok(text) => f(&text),
        Err(e) => e,
    }
}

/// The text of a case's output under the documented rule (byte output, else argmax label).
pub fn text_of(out: &CaseOutput, labels: Option<&[String]>) -> Result<String, String> {
    let ctx = EvalContext {
        labels: labels.map(<[String]>::to_vec),
        ..EvalContext::default()
    };
    output_text(out, &ctx).map_err(|o| o.reason.unwrap_or_default())
}

fn output_text(out: &CaseOutput, ctx: &EvalContext) -> Result<String, Outcome> {
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

fn check_json_schema(
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

fn check_top_k(
    label: &str,
    k: usize,
    output: Option<&str>,
    out: &CaseOutput,
    ctx: &EvalContext,
) -> Outcome {
    let (name, t) = match select_output(out, output) {
        Ok(x) => x,
        Err(e) => return Outcome::error(String::new(), e),
    };
    let summary = tensor_summary(t);
    let scores = match score_vector(name, t) {
        Ok(s) => s,
        Err(e) => return Outcome::error(summary, e),
    };
    let labels = ctx.labels.as_deref();
    let want = match resolve_label(label, labels) {
        Ok(i) => i,
        Err(e) => return Outcome::error(summary, e),
    };
    if want >= scores.len() {
        return Outcome::error(
            summary,
            format!(
                "expected class {want} but output `{name}` has only {} scores",
                scores.len()
            ),
        );
    }
    let ranked = rank(&scores);
    let describe = |i: usize| match labels.and_then(|l| l.get(i)) {
        Some(l) => format!("{} (class {i}, score {})", quote(l), num(scores[i])),
        None => format!("class {i} (score {})", num(scores[i])),
    };
    let top: Vec<usize> = ranked.iter().copied().take(k).collect();
    let actual = if k == 1 {
        top.first().map(|&i| describe(i)).unwrap_or_default()
    } else {
        let list: Vec<String> = top.iter().map(|&i| describe(i)).collect();
        format!("top {k}: {}", list.join(", "))
    };
    let position = ranked
        .iter()
        .position(|&i| i == want)
        .unwrap_or(ranked.len());
    Outcome::verdict(position < k, actual, || {
        let want_words = describe(want);
        if k == 1 {
            format!("top-1 is not {want_words}; it ranks #{}", position + 1)
        } else {
            format!("{want_words} ranks #{}, outside the top {k}", position + 1)
        }
    })
}

/// The class index a `label`/`top_k` expectation names: a line of the labels file, else an index.
pub fn resolve_label(label: &str, labels: Option<&[String]>) -> Result<usize, String> {
    if let Some(i) = labels.and_then(|l| l.iter().position(|x| x == label)) {
        return Ok(i);
    }
    match (label.trim().parse::<usize>(), labels) {
        (Ok(i), _) => Ok(i),
        (Err(_), Some(_)) => Err(format!(
            "label {} is not a line of the labels file nor a class index",
            quote(label)
        )),
        (Err(_), None) => Err(format!(
            "label {} is not a class index, and the promptpack has no labels file",
            quote(label)
        )),
    }
}

/// Class indices by score, highest first; ties keep the lower index first, NaN ranks last.
pub fn rank(scores: &[f64]) -> Vec<usize> {
    let key = |i: usize| {
        let s = scores[i];
        if s.is_nan() { f64::NEG_INFINITY } else { s }
    };
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| {
        key(b)
            .partial_cmp(&key(a))
            .unwrap_or(Ordering::Equal)
            .then_with(|| scores[a].is_nan().cmp(&scores[b].is_nan()))
            .then(a.cmp(&b))
    });
    idx
}

fn label_name(i: usize, labels: &[String]) -> String {
    labels
        .get(i)
        .cloned()
        .unwrap_or_else(|| format!("class {i}"))
}

fn select_output<'a>(
    out: &'a CaseOutput,
    name: Option<&str>,
) -> Result<(&'a str, &'a Tensor), String> {
    let found = match name {
        Some(n) => out.outputs.iter().find(|(o, _)| o == n),
        None => out.outputs.first(),
    };
    match (found, name) {
        (Some((n, t)), _) => Ok((n.as_str(), t)),
        (None, _) if out.outputs.is_empty() => Err("the model produced no outputs".to_string()),
        (None, Some(n)) => {
            let names: Vec<String> = out.outputs.iter().map(|(o, _)| format!("`{o}`")).collect();
            Err(format!(
                "the model has no output `{n}` (outputs: {})",
                names.join(", ")
            ))
        }
        (None, None) => Err("the model produced no outputs".to_string()),
    }
}

fn score_vector(name: &str, t: &Tensor) -> Result<Vec<f64>, String> {
    if t.is_empty() {
        return Err(format!("output `{name}` {} is empty", shape_str(t)));
    }
    let leading: usize = t.shape().iter().rev().skip(1).product();
    if leading != 1 {
        return Err(format!(
            "output `{name}` {} is not one score vector (every dimension but the last must be 1)",
            shape_str(t)
        ));
    }
    Ok(t.to_f64_vec())
}

fn shape_str(t: &Tensor) -> String {
    let dims: Vec<String> = t.shape().iter().map(usize::to_string).collect();
    format!("{}[{}]", t.dtype(), dims.join(","))
}

/// A one-line summary of a tensor for reports: `float32[1,10] argmax=7 max=0.93`.
pub fn tensor_summary(t: &Tensor) -> String {
    let head = shape_str(t);
    let values = t.to_f64_vec();
    match rank(&values).first() {
        None => format!("{head} (empty)"),
        Some(&i) => format!("{head} argmax={i} max={}", num(values[i])),
    }
}

struct Criteria {
    atol: Option<f64>,
    rtol: Option<f64>,
    min_cosine: Option<f64>,
    min_psnr_db: Option<f64>,
}

impl Criteria {
    fn from_fields(
        atol: Option<f64>,
        rtol: Option<f64>,
        min_cosine: Option<f64>,
        min_psnr_db: Option<f64>,
    ) -> Self {
        if atol.is_none() && rtol.is_none() && min_cosine.is_none() && min_psnr_db.is_none() {
            return Self {
                atol: Some(DEFAULT_ATOL),
                rtol: Some(DEFAULT_RTOL),
                min_cosine: None,
                min_psnr_db: None,
            };
        }
        Self {
            atol,
            rtol,
            min_cosine,
            min_psnr_db,
        }
    }

    fn elementwise(&self) -> Option<(f64, f64)> {
        match (self.atol, self.rtol) {
            (None, None) => None,
            (a, r) => Some((a.unwrap_or(0.0), r.unwrap_or(0.0))),
        }
    }

    fn words(&self) -> String {
        let mut parts = Vec::new();
        if let Some((a, r)) = self.elementwise() {
            parts.push(format!("atol {}, rtol {}", num(a), num(r)));
        }
        if let Some(c) = self.min_cosine {
            parts.push(format!("cosine ≥ {}", num(c)));
        }
        if let Some(p) = self.min_psnr_db {
            parts.push(format!("PSNR ≥ {} dB", num(p)));
        }
        parts.join(", ")
    }
}

fn check_tensor(
    reference: &str,
    output: Option<&str>,
    criteria: &Criteria,
    out: &CaseOutput,
    ctx: &EvalContext,
) -> Outcome {
    let (_, t) = match select_output(out, output) {
        Ok(x) => x,
        Err(e) => return Outcome::error(String::new(), e),
    };
    let summary = tensor_summary(t);
    let path = match ctx.paths.resolve(&ctx.pack_dir, reference) {
        Ok(p) => p,
        Err(e) => {
            return Outcome::error(summary, format!("reference tensor {e}"));
        }
    };
    let reference_tensor =
        match crate::files::reader(&path, "reference tensor", crate::files::TENSOR_LIMIT)
            .map_err(|e| e.to_string())
            .and_then(|f| Tensor::read_npy(std::io::BufReader::new(f)).map_err(|e| e.to_string()))
        {
            Ok(r) => r,
            Err(e) => {
                return Outcome::error(
                    summary,
                    format!("cannot read reference `{}`: {e}", path.display()),
                );
            }
        };
    if t.shape() != reference_tensor.shape() {
        return Outcome::fail(
            summary,
            format!(
                "shape {} does not match the reference's {}",
                shape_str(t),
                shape_str(&reference_tensor)
            ),
        );
    }
    let a = t.to_f64_vec();
    let r = reference_tensor.to_f64_vec();
    let close = compare::closeness(&a, &r, 0.0, 0.0);
    let cosine = compare::cosine_similarity(&a, &r);
    let psnr = compare::psnr_db(&a, &r);
    let actual = format!(
        "{summary}; max|diff|={} cosine={} PSNR={} dB",
        num(close.max_abs_diff),
        num_sig(cosine, 9),
        num(psnr)
    );
    let mut failures = Vec::new();
    if let Some((atol, rtol)) = criteria.elementwise() {
        let c = compare::closeness(&a, &r, atol, rtol);
        if let Some(first) = c.first_violation {
            let at = unravel(first, t.shape());
            failures.push(format!(
                "{} of {} elements differ by more than atol {} + rtol {}·|ref| (first at {at}: {} vs reference {})",
                c.violations,
                a.len(),
                num(atol),
                num(rtol),
                num(a[first]),
                num(r[first])
            ));
        }
    }
    if let Some(min) = criteria.min_cosine
        && !at_least(cosine, min)
    {
        failures.push(format!(
            "cosine similarity {} is below {}",
            num_sig(cosine, 9),
            num(min)
        ));
    }
    if let Some(min) = criteria.min_psnr_db
        && !at_least(psnr, min)
    {
        failures.push(format!("PSNR {} dB is below {} dB", num(psnr), num(min)));
    }
    if failures.is_empty() {
        Outcome::pass(actual)
    } else {
        Outcome::fail(actual, failures.join("; "))
    }
}

/// `x >= min`, false for NaN.
fn at_least(x: f64, min: f64) -> bool {
    x >= min
}

fn unravel(mut flat: usize, shape: &[usize]) -> String {
    let mut idx = vec![0; shape.len()];
    for (slot, &d) in idx.iter_mut().zip(shape).rev() {
        if d > 0 {
            *slot = flat % d;
            flat /= d;
        }
    }
    let parts: Vec<String> = idx.iter().map(usize::to_string).collect();
    format!("[{}]", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;
    use serde_json::json;

    fn case(expected: serde_json::Value) -> Case {
        Case {
            case_id: "c1".to_string(),
            name: None,
            prompt: None,
            inputs: IndexMap::new(),
            expected: serde_json::from_value(expected).unwrap(),
        }
    }

    fn text_out(text: &str) -> CaseOutput {
        let t = Tensor::new(DType::U8, vec![text.len()], text.as_bytes().to_vec()).unwrap();
        CaseOutput {
            case_id: "c1".to_string(),
            outputs: vec![("text".to_string(), t)],
            latency_ms: Some(4.5),
        }
    }

    fn scores_out(shape: Vec<usize>, scores: &[f32]) -> CaseOutput {
        CaseOutput {
            case_id: "c1".to_string(),
            outputs: vec![(
                "logits".to_string(),
                Tensor::from_f32(shape, scores).unwrap(),
            )],
            latency_ms: None,
        }
    }

    fn ctx() -> EvalContext {
        EvalContext::default()
    }

    fn labels_ctx() -> EvalContext {
        EvalContext {
            labels: Some(vec!["cat".into(), "dog".into(), "bird".into()]),
            ..EvalContext::default()
        }
    }

    fn check(expected: serde_json::Value, out: &CaseOutput, ctx: &EvalContext) -> CaseResult {
        check_case(&case(expected), Some(out), ctx)
    }

    #[test]
    fn exact_trims_collapses_whitespace_and_ignores_case_by_default() {
        let r = check(
            json!({"type": "exact", "text": "hello world"}),
            &text_out("  Hello \n\t World  "),
            &ctx(),
        );
        assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
        assert_eq!(r.actual, "  Hello \n\t World  ");
        assert_eq!(
            r.expected,
            "exactly \"hello world\" (ignoring case, whitespace normalised)"
        );
        assert_eq!(r.expected_type, "exact");
        assert_eq!(r.name, "c1");
        assert_eq!(r.latency_ms, Some(4.5));
        assert_eq!(r.reason, None);
    }

    #[test]
    fn exact_with_normalisation_turned_off_is_strict() {
        let strict_case = json!({"type": "exact", "text": "Hello", "ignore_case": false});
        let r = check(strict_case.clone(), &text_out("hello"), &ctx());
        assert_eq!(r.status, CaseStatus::Failed);
        assert_eq!(
            r.reason.as_deref(),
            Some("output \"hello\" does not equal \"Hello\" after normalisation")
        );
        assert_eq!(
            check(strict_case, &text_out(" Hello "), &ctx()).status,
            CaseStatus::Passed
        );

        let ws = json!({"type": "exact", "text": "a b", "normalize_whitespace": false});
        assert_eq!(
            check(ws.clone(), &text_out("a  b"), &ctx()).status,
            CaseStatus::Failed
        );
        assert_eq!(
            check(ws, &text_out("A b"), &ctx()).status,
            CaseStatus::Passed
        );

        let raw = json!({"type": "exact", "text": "A b", "normalize_whitespace": false, "ignore_case": false});
        let r = check(raw.clone(), &text_out("a b"), &ctx());
        assert_eq!(r.status, CaseStatus::Failed);
        assert_eq!(
            r.reason.as_deref(),
            Some("output \"a b\" does not equal \"A b\"")
        );
        assert_eq!(r.expected, "exactly \"A b\"");
        assert_eq!(
            check(raw, &text_out("A b"), &ctx()).status,
            CaseStatus::Passed
        );
    }

    #[test]
    fn text_drops_trailing_nul_padding_and_rejects_invalid_utf8() {
        let padded = CaseOutput {
            case_id: "c1".into(),
            outputs: vec![(
                "text".into(),
                Tensor::new(DType::U8, vec![6], b"yes\0\0\0".to_vec()).unwrap(),
            )],
            latency_ms: None,
        };
        let r = check(
            json!({"type": "exact", "text": "yes", "normalize_whitespace": false}),
            &padded,
            &ctx(),
        );
        assert_eq!(r.status, CaseStatus::Passed);
        assert_eq!(r.actual, "yes");

        let bad = CaseOutput {
            case_id: "c1".into(),
            outputs: vec![(
                "text".into(),
                Tensor::new(DType::U8, vec![2], vec![0xff, 0xfe]).unwrap(),
            )],
            latency_ms: None,
        };
        let r = check(json!({"type": "contains", "text": "x"}), &bad, &ctx());
        assert_eq!(r.status, CaseStatus::Error);
        assert!(
            r.reason
                .as_deref()
                .unwrap()
                .starts_with("output `text` (uint8) is not valid UTF-8 text"),
            "{r:?}"
        );
    }

    #[test]
    fn text_comes_from_the_first_byte_output_even_after_float_outputs() {
        let out = CaseOutput {
            case_id: "c1".into(),
            outputs: vec![
                (
                    "scores".into(),
                    Tensor::from_f32(vec![2], &[0.1, 0.9]).unwrap(),
                ),
                (
                    "answer".into(),
                    Tensor::new(DType::I8, vec![5], b"Paris".to_vec()).unwrap(),
                ),
            ],
            latency_ms: None,
        };
        let r = check(
            json!({"type": "exact", "text": "paris"}),
            &out,
            &labels_ctx(),
        );
        assert_eq!(r.status, CaseStatus::Passed);
        assert_eq!(r.actual, "Paris");
    }

    #[test]
    fn classifier_scores_with_labels_file_give_the_argmax_label_as_text() {
        let out = scores_out(vec![1, 3], &[0.1, 0.7, 0.2]);
        let r = check(json!({"type": "exact", "text": "DOG"}), &out, &labels_ctx());
        assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
        assert_eq!(r.actual, "dog");
    }

    #[test]
    fn float_output_without_labels_file_is_no_text_output() {
        let out = scores_out(vec![1, 3], &[0.1, 0.7, 0.2]);
        let r = check(json!({"type": "contains", "text": "dog"}), &out, &ctx());
        assert_eq!(r.status, CaseStatus::Error);
        assert_eq!(r.actual, "float32[1,3] argmax=1 max=0.7");
        let reason = r.reason.unwrap();
        assert!(
            reason.starts_with("no text output: the outputs are `logits` float32[1,3];"),
            "{reason}"
        );
    }

    #[test]
    fn contains_ignores_case_by_default_and_can_be_strict() {
        let out = text_out("The capital is Paris.");
        let r = check(json!({"type": "contains", "text": "paris"}), &out, &ctx());
        assert_eq!(r.status, CaseStatus::Passed);
        assert_eq!(r.expected, "contains \"paris\" (ignoring case)");
        let r = check(
            json!({"type": "contains", "text": "paris", "ignore_case": false}),
            &out,
            &ctx(),
        );
        assert_eq!(r.status, CaseStatus::Failed);
        assert_eq!(
            r.reason.as_deref(),
            Some("output does not contain \"paris\"")
        );
        let r = check(json!({"type": "contains", "text": "Lyon"}), &out, &ctx());
        assert_eq!(r.status, CaseStatus::Failed);
    }

    #[test]
    fn regex_is_unanchored_unless_the_pattern_anchors_it() {
        let out = text_out("a cat sat");
        let status = |p: &str| check(json!({"type": "regex", "pattern": p}), &out, &ctx()).status;
        assert_eq!(status("cat"), CaseStatus::Passed);
        assert_eq!(status("^cat"), CaseStatus::Failed);
        assert_eq!(status("^cat$"), CaseStatus::Failed);
        assert_eq!(status("^a cat"), CaseStatus::Passed);
        assert_eq!(status("sat$"), CaseStatus::Passed);
        assert_eq!(status(r"^a \w+ sat$"), CaseStatus::Passed);
        let r = check(json!({"type": "regex", "pattern": "dog"}), &out, &ctx());
        assert_eq!(r.reason.as_deref(), Some("output does not match regex dog"));
        assert_eq!(r.expected, "matches regex dog");
    }

    #[test]
    fn regex_that_does_not_compile_is_an_error() {
        let r = check(
            json!({"type": "regex", "pattern": "(unclosed"}),
            &text_out("x"),
            &ctx(),
        );
        assert_eq!(r.status, CaseStatus::Error);
        assert!(r.reason.unwrap().starts_with("the regex does not compile"));
    }

    fn person_schema() -> serde_json::Value {
        json!({"type": "json_schema", "schema": {
            "type": "object",
            "required": ["age"],
            "properties": {"age": {"type": "integer"}}
        }})
    }

    #[test]
    fn json_schema_passes_valid_json() {
        let r = check(person_schema(), &text_out(" {\"age\": 31} \n"), &ctx());
        assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
        assert!(
            r.expected.starts_with("JSON valid against {"),
            "{}",
            r.expected
        );
    }

    #[test]
    fn json_schema_fails_invalid_json_naming_the_path() {
        let r = check(person_schema(), &text_out("{\"age\": \"old\"}"), &ctx());
        assert_eq!(r.status, CaseStatus::Failed);
        let reason = r.reason.unwrap();
        assert!(
            reason.starts_with("output JSON does not match the schema: at `/age`:"),
            "{reason}"
        );
        assert!(reason.contains("integer"), "{reason}");

        let r = check(person_schema(), &text_out("{}"), &ctx());
        assert_eq!(r.status, CaseStatus::Failed);
        assert!(r.reason.unwrap().contains("age"));
    }

    #[test]
    fn json_schema_checks_formats() {
        let schema = json!({"type": "json_schema", "schema": {
            "type": "object",
            "properties": {"when": {"type": "string", "format": "date"}}
        }});
        let r = check(
            schema.clone(),
            &text_out("{\"when\": \"2026-11-25\"}"),
            &ctx(),
        );
        assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
        let r = check(schema, &text_out("{\"when\": \"yesterday\"}"), &ctx());
        assert_eq!(r.status, CaseStatus::Failed, "{r:?}");
    }

    #[test]
    fn json_schema_fails_text_that_is_not_json() {
        let r = check(person_schema(), &text_out("sure! here you go"), &ctx());
        assert_eq!(r.status, CaseStatus::Failed);
        assert!(r.reason.unwrap().starts_with("output is not JSON: "));
        assert_eq!(r.actual, "sure! here you go");
    }

    #[test]
    fn label_matches_a_labels_file_line() {
        let out = scores_out(vec![1, 3], &[0.1, 0.7, 0.2]);
        let r = check(
            json!({"type": "label", "label": "dog"}),
            &out,
            &labels_ctx(),
        );
        assert_eq!(r.status, CaseStatus::Passed);
        assert_eq!(r.actual, "\"dog\" (class 1, score 0.7)");
        assert_eq!(r.expected, "label \"dog\" (class 1)");

        let r = check(
            json!({"type": "label", "label": "cat"}),
            &out,
            &labels_ctx(),
        );
        assert_eq!(r.status, CaseStatus::Failed);
        assert_eq!(
            r.reason.as_deref(),
            Some("top-1 is not \"cat\" (class 0, score 0.1); it ranks #3")
        );
    }

    #[test]
    fn label_matches_a_class_index() {
        let out = scores_out(vec![3], &[0.1, 0.2, 0.7]);
        let r = check(json!({"type": "label", "label": "2"}), &out, &ctx());
        assert_eq!(r.status, CaseStatus::Passed);
        assert_eq!(r.actual, "class 2 (score 0.7)");
        assert_eq!(r.expected, "label class 2");
        let r = check(json!({"type": "label", "label": "2"}), &out, &labels_ctx());
        assert_eq!(r.status, CaseStatus::Passed);
        assert_eq!(r.actual, "\"bird\" (class 2, score 0.7)");
        assert_eq!(
            check(json!({"type": "label", "label": "0"}), &out, &ctx()).status,
            CaseStatus::Failed
        );
    }

    #[test]
    fn label_unknown_or_out_of_range_is_an_error() {
        let out = scores_out(vec![3], &[0.1, 0.2, 0.7]);
        let r = check(
            json!({"type": "label", "label": "fish"}),
            &out,
            &labels_ctx(),
        );
        assert_eq!(r.status, CaseStatus::Error);
        assert_eq!(
            r.reason.as_deref(),
            Some("label \"fish\" is not a line of the labels file nor a class index")
        );
        let r = check(json!({"type": "label", "label": "fish"}), &out, &ctx());
        assert_eq!(
            r.reason.as_deref(),
            Some("label \"fish\" is not a class index, and the promptpack has no labels file")
        );
        let r = check(json!({"type": "label", "label": "7"}), &out, &ctx());
        assert_eq!(r.status, CaseStatus::Error);
        assert_eq!(
            r.reason.as_deref(),
            Some("expected class 7 but output `logits` has only 3 scores")
        );
    }

    #[test]
    fn label_reads_the_named_output_and_errors_on_a_missing_one() {
        let out = CaseOutput {
            case_id: "c1".into(),
            outputs: vec![
                (
                    "boxes".into(),
                    Tensor::from_f32(vec![3], &[9.0, 0.0, 0.0]).unwrap(),
                ),
                (
                    "probs".into(),
                    Tensor::from_f32(vec![3], &[0.0, 0.0, 1.0]).unwrap(),
                ),
            ],
            latency_ms: None,
        };
        let r = check(
            json!({"type": "label", "label": "bird", "output": "probs"}),
            &out,
            &labels_ctx(),
        );
        assert_eq!(r.status, CaseStatus::Passed);
        let r = check(
            json!({"type": "label", "label": "bird"}),
            &out,
            &labels_ctx(),
        );
        assert_eq!(r.status, CaseStatus::Failed);
        let r = check(
            json!({"type": "label", "label": "bird", "output": "nope"}),
            &out,
            &labels_ctx(),
        );
        assert_eq!(r.status, CaseStatus::Error);
        assert_eq!(
            r.reason.as_deref(),
            Some("the model has no output `nope` (outputs: `boxes`, `probs`)")
        );
    }

    #[test]
    fn label_needs_a_single_score_vector() {
        let out = scores_out(vec![2, 3], &[0.1, 0.2, 0.7, 0.1, 0.2, 0.7]);
        let r = check(json!({"type": "label", "label": "2"}), &out, &ctx());
        assert_eq!(r.status, CaseStatus::Error);
        assert_eq!(
            r.reason.as_deref(),
            Some(
                "output `logits` float32[2,3] is not one score vector (every dimension but the last must be 1)"
            )
        );
    }

    #[test]
    fn top_k_ties_rank_the_lower_class_index_first() {
        let out = scores_out(vec![4], &[0.5, 0.9, 0.5, 0.5]);
        let status = |label: &str, k: u32| {
            check(
                json!({"type": "top_k", "label": label, "k": k}),
                &out,
                &ctx(),
            )
            .status
        };
        assert_eq!(status("1", 1), CaseStatus::Passed);
        assert_eq!(status("0", 2), CaseStatus::Passed);
        assert_eq!(status("2", 2), CaseStatus::Failed);
        assert_eq!(status("2", 3), CaseStatus::Passed);
        assert_eq!(status("3", 3), CaseStatus::Failed);
        let r = check(json!({"type": "top_k", "label": "3", "k": 2}), &out, &ctx());
        assert_eq!(r.actual, "top 2: class 1 (score 0.9), class 0 (score 0.5)");
        assert_eq!(
            r.reason.as_deref(),
            Some("class 3 (score 0.5) ranks #4, outside the top 2")
        );
        assert_eq!(r.expected, "class 3 in the top 2");

        let tie = scores_out(vec![2], &[0.5, 0.5]);
        let r = check(json!({"type": "label", "label": "0"}), &tie, &ctx());
        assert_eq!(r.status, CaseStatus::Passed);
        let r = check(json!({"type": "label", "label": "1"}), &tie, &ctx());
        assert_eq!(r.status, CaseStatus::Failed);
    }

    #[test]
    fn top_k_with_labels_file() {
        let out = scores_out(vec![1, 3], &[0.1, 0.7, 0.2]);
        let r = check(
            json!({"type": "top_k", "label": "bird", "k": 2}),
            &out,
            &labels_ctx(),
        );
        assert_eq!(r.status, CaseStatus::Passed);
        assert_eq!(
            r.actual,
            "top 2: \"dog\" (class 1, score 0.7), \"bird\" (class 2, score 0.2)"
        );
        assert_eq!(r.expected, "\"bird\" (class 2) in the top 2");
        let r = check(
            json!({"type": "top_k", "label": "cat", "k": 2}),
            &out,
            &labels_ctx(),
        );
        assert_eq!(r.status, CaseStatus::Failed);
    }

    #[test]
    fn rank_puts_nan_last_and_keeps_index_order_on_ties() {
        assert_eq!(rank(&[f64::NAN, 1.0, 3.0, 1.0]), vec![2, 1, 3, 0]);
        assert_eq!(
            rank(&[f64::NEG_INFINITY, f64::NAN, f64::NEG_INFINITY]),
            vec![0, 2, 1]
        );
        assert_eq!(rank(&[]), Vec::<usize>::new());
    }

    #[test]
    fn missing_output_is_an_error_and_none_is_skipped() {
        let r = check_case(&case(json!({"type": "exact", "text": "x"})), None, &ctx());
        assert_eq!(r.status, CaseStatus::Error);
        assert_eq!(
            r.reason.as_deref(),
            Some("the device produced no output for this case")
        );
        assert_eq!(r.actual, "");

        let r = check(
            json!({"type": "none"}),
            &scores_out(vec![2], &[0.25, 0.75]),
            &ctx(),
        );
        assert_eq!(r.status, CaseStatus::Skipped);
        assert_eq!(r.actual, "float32[2] argmax=1 max=0.75");
        assert_eq!(r.expected, "nothing (run and measured only)");
        assert_eq!(r.reason, None);
        let r = check(json!({"type": "none"}), &text_out("hi there"), &ctx());
        assert_eq!(r.status, CaseStatus::Skipped);
        assert_eq!(r.actual, "hi there");
    }

    #[test]
    fn no_outputs_at_all_is_an_error() {
        let out = CaseOutput {
            case_id: "c1".into(),
            outputs: vec![],
            latency_ms: None,
        };
        let r = check(json!({"type": "exact", "text": "x"}), &out, &ctx());
        assert_eq!(r.status, CaseStatus::Error);
        assert_eq!(
            r.reason.as_deref(),
            Some("no text output: the model produced no outputs")
        );
        let r = check(json!({"type": "label", "label": "0"}), &out, &ctx());
        assert_eq!(r.reason.as_deref(), Some("the model produced no outputs"));
    }

    struct Pack {
        dir: tempfile::TempDir,
    }

    impl Pack {
        fn new(reference: &[f32], shape: Vec<usize>) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let t = Tensor::from_f32(shape, reference).unwrap();
            let f = std::fs::File::create(dir.path().join("ref.npy")).unwrap();
            t.write_npy(f).unwrap();
            Self { dir }
        }

        fn ctx(&self) -> EvalContext {
            EvalContext {
                labels: None,
                pack_dir: self.dir.path().to_path_buf(),
                paths: PathPolicy::confined(self.dir.path()),
            }
        }
    }

    fn tensor_case(extra: serde_json::Value) -> serde_json::Value {
        let mut v = json!({"type": "tensor", "reference": "ref.npy"});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        v
    }

    #[test]
    fn tensor_default_tolerance_is_atol_1e5_rtol_1e3() {
        let pack = Pack::new(&[1.0, 2.0], vec![2]);
        let r = check(
            tensor_case(json!({})),
            &scores_out(vec![2], &[1.0005, 2.0]),
            &pack.ctx(),
        );
        assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
        assert_eq!(r.expected, "close to `ref.npy` (atol 1.000e-5, rtol 0.001)");

        let r = check(
            tensor_case(json!({})),
            &scores_out(vec![2], &[1.0, 2.004]),
            &pack.ctx(),
        );
        assert_eq!(r.status, CaseStatus::Failed);
        assert_eq!(
            r.reason.as_deref(),
            Some(
                "1 of 2 elements differ by more than atol 1.000e-5 + rtol 0.001·|ref| (first at [1]: 2.004 vs reference 2)"
            )
        );
        assert!(
            r.actual
                .starts_with("float32[2] argmax=1 max=2.004; max|diff|=0.00399995 cosine=0.99999"),
            "{}",
            r.actual
        );
    }

    #[test]
    fn tensor_atol_alone_means_rtol_zero_and_the_boundary_passes() {
        let pack = Pack::new(&[1.0, 2.0], vec![2]);
        let out = scores_out(vec![2], &[1.25, 2.0]);
        let r = check(tensor_case(json!({"atol": 0.25})), &out, &pack.ctx());
        assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
        assert_eq!(r.expected, "close to `ref.npy` (atol 0.25, rtol 0)");
        let r = check(tensor_case(json!({"atol": 0.125})), &out, &pack.ctx());
        assert_eq!(r.status, CaseStatus::Failed);
        let r = check(tensor_case(json!({"rtol": 0.25})), &out, &pack.ctx());
        assert_eq!(r.status, CaseStatus::Passed);
        let r = check(tensor_case(json!({"rtol": 0.125})), &out, &pack.ctx());
        assert_eq!(r.status, CaseStatus::Failed);
    }

    #[test]
    fn tensor_cosine_against_hand_computed_value() {
        let pack = Pack::new(&[1.0, 0.0], vec![2]);
        let out = scores_out(vec![2], &[1.0, 1.0]);
        let r = check(tensor_case(json!({"min_cosine": 0.7})), &out, &pack.ctx());
        assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
        assert!(r.actual.contains("cosine=0.707106781"), "{}", r.actual);
        let r = check(tensor_case(json!({"min_cosine": 0.71})), &out, &pack.ctx());
        assert_eq!(r.status, CaseStatus::Failed);
        assert_eq!(
            r.reason.as_deref(),
            Some("cosine similarity 0.707106781 is below 0.71")
        );
    }

    #[test]
    fn tensor_cosine_alone_ignores_scale() {
        let pack = Pack::new(&[1.0, 2.0], vec![2]);
        let r = check(
            tensor_case(json!({"min_cosine": 0.999})),
            &scores_out(vec![2], &[2.0, 4.0]),
            &pack.ctx(),
        );
        assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
    }

    #[test]
    fn tensor_psnr_against_hand_computed_value() {
        let pack = Pack::new(&[1.0, 0.0, 0.0, 0.0], vec![4]);
        let out = scores_out(vec![4], &[0.75, 0.0, 0.0, 0.0]);
        let r = check(tensor_case(json!({"min_psnr_db": 18.0})), &out, &pack.ctx());
        assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
        assert!(r.actual.ends_with("PSNR=18.0618 dB"), "{}", r.actual);
        let r = check(tensor_case(json!({"min_psnr_db": 18.1})), &out, &pack.ctx());
        assert_eq!(r.status, CaseStatus::Failed);
        assert_eq!(
            r.reason.as_deref(),
            Some("PSNR 18.0618 dB is below 18.1 dB")
        );
        let r = check(
            tensor_case(json!({"min_psnr_db": 18.1, "min_cosine": 0.9})),
            &out,
            &pack.ctx(),
        );
        assert_eq!(
            r.reason.as_deref(),
            Some("PSNR 18.0618 dB is below 18.1 dB")
        );
    }

    #[test]
    fn tensor_float16_output_compares_with_a_float32_reference() {
        let pack = Pack::new(&[1.0, -2.0], vec![2]);
        let bytes: Vec<u8> = [1.0f32, -2.0]
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
            .collect();
        let out = CaseOutput {
            case_id: "c1".into(),
            outputs: vec![("y".into(), Tensor::new(DType::F16, vec![2], bytes).unwrap())],
            latency_ms: None,
        };
        let r = check(tensor_case(json!({})), &out, &pack.ctx());
        assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
        assert!(
            r.actual.starts_with("float16[2] argmax=0 max=1;"),
            "{}",
            r.actual
        );
    }

    #[test]
    fn tensor_shape_mismatch_fails_with_both_shapes() {
        let pack = Pack::new(&[1.0, 2.0], vec![2]);
        let r = check(
            tensor_case(json!({})),
            &scores_out(vec![1, 2], &[1.0, 2.0]),
            &pack.ctx(),
        );
        assert_eq!(r.status, CaseStatus::Failed);
        assert_eq!(
            r.reason.as_deref(),
            Some("shape float32[1,2] does not match the reference's float32[2]")
        );
    }

    #[test]
    fn tensor_missing_reference_is_an_error() {
        let pack = Pack::new(&[1.0], vec![1]);
        let r = check(
            json!({"type": "tensor", "reference": "missing.npy"}),
            &scores_out(vec![1], &[1.0]),
            &pack.ctx(),
        );
        assert_eq!(r.status, CaseStatus::Error);
        assert!(r.reason.unwrap().starts_with("cannot read reference `"));
    }

    #[test]
    fn tensor_reference_outside_the_project_is_refused_unread() {
        let pack = Pack::new(&[1.0], vec![1]);
        let outside = Pack::new(&[1.0], vec![1]);
        let named = outside.dir.path().join("ref.npy").display().to_string();
        let r = check(
            json!({"type": "tensor", "reference": named}),
            &scores_out(vec![1], &[1.0]),
            &pack.ctx(),
        );
        assert_eq!(r.status, CaseStatus::Error);
        let reason = r.reason.unwrap_or_default();
        assert!(
            reason.starts_with(&format!(
                "reference tensor `{named}` is outside the project"
            )),
            "{reason}"
        );
    }

    #[test]
    fn tensor_violation_position_is_a_multi_index() {
        let pack = Pack::new(&[0.0; 6], vec![2, 3]);
        let out = scores_out(vec![2, 3], &[0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
        let r = check(tensor_case(json!({"atol": 0.5})), &out, &pack.ctx());
        assert_eq!(
            r.reason.as_deref(),
            Some(
                "1 of 6 elements differ by more than atol 0.5 + rtol 0·|ref| (first at [1,1]: 1 vs reference 0)"
            )
        );
    }

    #[test]
    fn tensor_summary_names_dtype_shape_argmax_and_max() {
        let t = Tensor::from_f32(
            vec![1, 10],
            &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.93, 0.0, 0.07],
        )
        .unwrap();
        assert_eq!(tensor_summary(&t), "float32[1,10] argmax=7 max=0.93");
        let e = Tensor::from_f32(vec![0], &[]).unwrap();
        assert_eq!(tensor_summary(&e), "float32[0] (empty)");
    }

    #[test]
    fn context_reads_the_labels_file_relative_to_the_pack() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("labels.txt"), "cat\n dog \nbird\n\n").unwrap();
        let policy = PathPolicy::confined(dir.path());
        let mut pack: Promptpack = serde_json::from_value(json!({
            "promptpack_id": "p", "version": "1.0.0", "name": "P",
            "labels": "labels.txt",
            "cases": [{"case_id": "a", "expected": {"type": "none"}}]
        }))
        .unwrap();
        let ctx = EvalContext::for_pack(&pack, dir.path().to_path_buf(), policy.clone()).unwrap();
        assert_eq!(
            ctx.labels,
            Some(vec![
                "cat".to_string(),
                "dog".to_string(),
                "bird".to_string()
            ])
        );
        pack.labels = Some("missing.txt".into());
        let e = EvalContext::for_pack(&pack, dir.path().to_path_buf(), policy.clone()).unwrap_err();
        assert!(e.starts_with("cannot read labels file `"), "{e}");
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("env"), "QAIHUB_API_TOKEN=fake\n").unwrap();
        pack.labels = Some(outside.path().join("env").display().to_string());
        let e = EvalContext::for_pack(&pack, dir.path().to_path_buf(), policy.clone()).unwrap_err();
        assert!(e.contains("is outside the project"), "{e}");
        assert!(!e.contains("QAIHUB_API_TOKEN"), "{e}");
        pack.labels = None;
        let ctx = EvalContext::for_pack(&pack, dir.path().to_path_buf(), policy.clone()).unwrap();
        assert_eq!(ctx.labels, None);
    }

    #[test]
    fn text_of_follows_the_documented_rule() {
        assert_eq!(text_of(&text_out("hi"), None).as_deref(), Ok("hi"));
        let labels = vec!["a".to_string(), "b".to_string()];
        assert_eq!(
            text_of(&scores_out(vec![2], &[0.2, 0.8]), Some(&labels)).as_deref(),
            Ok("b")
        );
        assert!(text_of(&scores_out(vec![2], &[0.2, 0.8]), None).is_err());
    }
}
