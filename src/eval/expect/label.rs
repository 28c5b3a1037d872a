//! Label expectations: `label` and `top_k` over one score vector. Classes rank by score, highest
//! first (ties: lower index first; NaN last); the expected label is looked up as a line of the
//! labels file first, then read as a class index. Scores are the named output or the first, and
//! every dimension but the last must be 1. Imports no other family and never the dispatcher.

use crate::device::CaseOutput;
use crate::eval::format::num;

use super::context::EvalContext;
use super::outcome::{Outcome, quote};
use super::outputs::{rank, score_vector, select_output, tensor_summary};

/// `label` (k = 1) and `top_k`: the expected class ranks within the first `k`.
pub(super) fn check_top_k(
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

/// The name of class `i`: its line of the labels file, else `class i`.
pub(super) fn label_name(i: usize, labels: &[String]) -> String {
    labels
        .get(i)
        .cloned()
        .unwrap_or_else(|| format!("class {i}"))
}

/// The expected label in words, with its class index or name where the labels file tells.
pub(super) fn label_words(label: &str, ctx: &EvalContext) -> String {
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
