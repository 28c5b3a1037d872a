//! Numeric comparison of an output tensor with a reference: elementwise tolerance, cosine
//! similarity and PSNR. Works on flat `f64` slices of equal length; shapes are checked by the caller.

/// How far an output is from a reference under an elementwise tolerance.
#[derive(Debug, Clone, PartialEq)]
pub struct Closeness {
    /// Elements where `|a - r| > atol + rtol * |r|` (NaN never counts as close).
    pub violations: usize,
    /// Largest `|a - r|`; NaN when any element is NaN.
    pub max_abs_diff: f64,
    /// Flat index of the element with the largest difference (the first NaN, if any).
    pub worst_index: usize,
    /// Flat index of the first element outside the tolerance.
    pub first_violation: Option<usize>,
}

/// Elementwise `|a - r| <= atol + rtol * |r|`, as numpy's `isclose` (equal infinities are close,
/// NaN is never close).
pub fn closeness(actual: &[f64], reference: &[f64], atol: f64, rtol: f64) -> Closeness {
    let mut out = Closeness {
        violations: 0,
        max_abs_diff: 0.0,
        worst_index: 0,
        first_violation: None,
    };
    for (i, (&a, &r)) in actual.iter().zip(reference).enumerate() {
        let d = if a == r { 0.0 } else { (a - r).abs() };
        if (d.is_nan() && !out.max_abs_diff.is_nan()) || d > out.max_abs_diff {
            out.max_abs_diff = d;
            out.worst_index = i;
        }
        let close = a == r || d <= atol + rtol * r.abs();
        if !close {
            out.violations += 1;
            out.first_violation.get_or_insert(i);
        }
    }
    out
}

/// Cosine similarity `a·r / (|a| |r|)`; 1 when both are all zeros, 0 when only one is.
pub fn cosine_similarity(actual: &[f64], reference: &[f64]) -> f64 {
    let (mut dot, mut na, mut nr) = (0.0, 0.0, 0.0);
    for (&a, &r) in actual.iter().zip(reference) {
        dot += a * r;
        na += a * a;
        nr += r * r;
    }
    match (na == 0.0, nr == 0.0) {
        (true, true) => 1.0,
        (true, false) | (false, true) => 0.0,
        (false, false) => dot / (na.sqrt() * nr.sqrt()),
    }
}

/// Peak signal-to-noise ratio in dB, `10·log10(peak² / MSE)` with `peak = max |r|` (the
/// reference's largest magnitude); infinite when the tensors are identical.
pub fn psnr_db(actual: &[f64], reference: &[f64]) -> f64 {
    let n = actual.len().min(reference.len());
    if n == 0 {
        return f64::INFINITY;
    }
    let mut se = 0.0;
    let mut peak: f64 = 0.0;
    for (&a, &r) in actual.iter().zip(reference) {
        let d = if a == r { 0.0 } else { a - r };
        se += d * d;
        peak = peak.max(r.abs());
    }
    let mse = se / n as f64;
    if mse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (peak * peak / mse).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closeness_counts_elements_outside_atol_plus_rtol() {
        let r = [1.0, 2.0, 100.0, 0.0];
        let a = [1.05, 2.0, 100.5, 0.2];
        let c = closeness(&a, &r, 0.1, 0.01);
        assert_eq!(c.violations, 1);
        assert_eq!(c.first_violation, Some(3));
        assert_eq!(c.worst_index, 2);
        assert!((c.max_abs_diff - 0.5).abs() < 1e-12);
    }

    #[test]
    fn closeness_boundary_is_inclusive() {
        let c = closeness(&[1.5], &[1.0], 0.5, 0.0);
        assert_eq!(c.violations, 0);
        let c = closeness(&[2.0], &[1.0], 0.5, 0.5);
        assert_eq!(c.violations, 0);
        let c = closeness(&[2.0], &[1.0], 0.5, 0.25);
        assert_eq!(c.violations, 1);
    }

    #[test]
    fn nan_is_never_close_and_equal_infinities_are() {
        let c = closeness(&[f64::NAN, f64::INFINITY], &[0.0, f64::INFINITY], 1.0, 1.0);
        assert_eq!(c.violations, 1);
        assert_eq!(c.first_violation, Some(0));
        assert!(c.max_abs_diff.is_nan());
    }

    #[test]
    fn cosine_matches_hand_computed_values() {
        assert!((cosine_similarity(&[1.0, 0.0], &[0.0, 1.0])).abs() < 1e-12);
        assert!((cosine_similarity(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-12);
        assert!((cosine_similarity(&[1.0, 0.0], &[-1.0, 0.0]) + 1.0).abs() < 1e-12);
        let c = cosine_similarity(&[1.0, 1.0], &[1.0, 0.0]);
        assert!((c - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        assert_eq!(cosine_similarity(&[0.0, 0.0], &[0.0, 0.0]), 1.0);
        assert_eq!(cosine_similarity(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn psnr_matches_hand_computed_values() {
        let p = psnr_db(&[0.9, 0.0, 0.0, 0.0], &[1.0, 0.0, 0.0, 0.0]);
        assert!((p - 10.0 * 400f64.log10()).abs() < 1e-9, "{p}");
        assert!((p - 26.0206).abs() < 1e-4);
        let p = psnr_db(&[2.0, 1.0], &[2.0, 2.0]);
        assert!((p - 10.0 * 8f64.log10()).abs() < 1e-9, "{p}");
        assert_eq!(psnr_db(&[1.0, 2.0], &[1.0, 2.0]), f64::INFINITY);
    }
}
