//! Checks one case's outputs against its `expected`. Pure apart from reading the reference `.npy`
//! files of `tensor` expectations under the promptpack's folder; knows nothing of devices.
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
//!   the other is 0.
//! - `none`: skipped (run and measured only).

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use crate::config::{Case, Expected};
use crate::device::CaseOutput;
use crate::report::{CaseResult, CaseStatus};
use crate::tensor::{DType, Tensor};

use super::compare;
use super::format::{clip, num};

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
            check_tensor(reference, output.as_deref(), &c, out, &ctx.pack_dir)
        }
        Expected::None {} => Outcome {
            status: CaseStatus::Skipped,
            actual: out
                .outputs
                .first()
                .map(|(_, t)| tensor_summary(t))
                .unwrap_or_default(),
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
        pack_dir: PathBuf::new(),
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
    pack_dir: &Path,
) -> Outcome {
    let (_, t) = match select_output(out, output) {
        Ok(x) => x,
        Err(e) => return Outcome::error(String::new(), e),
    };
    let summary = tensor_summary(t);
    let path = pack_dir.join(reference);
    let reference_tensor = match std::fs::File::open(&path)
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
        num(cosine),
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
            num(cosine),
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
