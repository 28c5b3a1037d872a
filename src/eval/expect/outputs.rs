//! Reading a case's output tensors the way every expectation family does: pick an output by
//! name, take one score vector, rank classes, and describe a tensor in one line for reports.
//!
//! Ranking: classes by score, highest first; ties rank the lower class index first (as numpy's
//! `argmax`), NaN scores rank last. Imports no other file of `expect`: the families build on it.

use std::cmp::Ordering;

use crate::device::CaseOutput;
use crate::eval::format::num;
use crate::tensor::Tensor;

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

/// The output named `name`, or the first; the error says which outputs exist.
pub(super) fn select_output<'a>(
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

/// The scores of an output holding one vector (every dimension but the last is 1).
pub(super) fn score_vector(name: &str, t: &Tensor) -> Result<Vec<f64>, String> {
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

/// `float32[1,10]`: dtype and shape.
pub(super) fn shape_str(t: &Tensor) -> String {
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
