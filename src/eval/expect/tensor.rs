//! Tensor expectations: the output must have the reference `.npy`'s shape; `|a - r| <= atol +
//! rtol·|r|` for every element, cosine similarity ≥ `min_cosine`, PSNR (`10·log10(max|r|² /
//! MSE)`) ≥ `min_psnr_db`. With no criterion given, atol 1e-5 and rtol 1e-3 apply; when only one
//! of atol/rtol is given the other is 0. Element types may differ (a float16 output against a
//! float32 reference); values are compared as f64. The reference is read under the promptpack's
//! folder through the project's `PathPolicy`, never outside the project. Imports no other
//! family and never the dispatcher.

use crate::device::CaseOutput;
use crate::eval::compare;
use crate::eval::format::{num, num_sig};
use crate::tensor::Tensor;

use super::context::EvalContext;
use super::outcome::Outcome;
use super::outputs::{select_output, shape_str, tensor_summary};

/// Default absolute tolerance of a `tensor` expectation that names no criterion.
pub const DEFAULT_ATOL: f64 = 1e-5;
/// Default relative tolerance of a `tensor` expectation that names no criterion.
pub const DEFAULT_RTOL: f64 = 1e-3;

/// The criteria of one `tensor` expectation, with the defaults applied.
pub(super) struct Criteria {
    atol: Option<f64>,
    rtol: Option<f64>,
    min_cosine: Option<f64>,
    min_psnr_db: Option<f64>,
}

impl Criteria {
    pub(super) fn from_fields(
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

    pub(super) fn elementwise(&self) -> Option<(f64, f64)> {
        match (self.atol, self.rtol) {
            (None, None) => None,
            (a, r) => Some((a.unwrap_or(0.0), r.unwrap_or(0.0))),
        }
    }

    pub(super) fn words(&self) -> String {
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

/// `tensor`: the output is close to the reference by every criterion given.
pub(super) fn check_tensor(
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

/// `[i,j,k]`: the multi-index of a flat element index.
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
