//! The statistics behind relative gates: Student-t and normal quantiles, and the confidence
//! interval of a regression estimated from independent runs.
//!
//! Why this method (see `README.md`, "Choosing runs, thresholds and paired mode"): run-to-run
//! noise of a latency median is multiplicative (a per-process or per-job offset of a few percent)
//! and lives between runs, not between the samples of one run. So the unit of evidence is one
//! run's value, never a single sample, and the analysis works on the logarithm of run values,
//! where a multiplicative offset is additive and close to normal. Assumptions: runs are
//! independent (separate processes or profile jobs), their log values share one variance, and in
//! paired mode the two models of a round see the same drift. Under those assumptions the
//! Student-t interval below is exact; it widens by itself when a run is an outlier (a slow-mode
//! process), which makes the gate inconclusive rather than wrong.

/// The mean of `x` (NaN for an empty slice).
pub fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// The sum of squared deviations from the mean.
pub fn sum_sq(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m).powi(2)).sum()
}

/// The sample standard deviation (n − 1); `None` below two values.
pub fn sd(x: &[f64]) -> Option<f64> {
    (x.len() >= 2).then(|| (sum_sq(x) / (x.len() - 1) as f64).sqrt())
}

/// The `p`-quantile of the standard normal distribution (Acklam's rational approximation,
/// relative error below 1.2e-9), for 0 < p < 1.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let lo = 0.02425;
    if p < lo {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - lo {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized incomplete beta function I_x(a, b) (continued fraction, Numerical Recipes).
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(x, a, b) / a
    } else {
        1.0 - front * beta_cf(1.0 - x, b, a) / b
    }
}

fn beta_cf(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The `p`-quantile of Student's t with `df` degrees of freedom (bisection on the CDF).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while t_cdf(hi, df) < p && hi < 1e7 {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// An interval on the log scale: estimate, low, high, and the spread behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogInterval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// Run-to-run standard deviation of the log values (or log ratios); `None` with one value.
    pub spread: Option<f64>,
    /// Standard error of the estimate; 0 for a point comparison.
    pub se: f64,
}

/// The paired interval: the mean of `d` (log ratios of paired runs) ± t·s/√n.
pub fn paired(d: &[f64], confidence: f64) -> LogInterval {
    let estimate = mean(d);
    match sd(d) {
        Some(s) => {
            let se = s / (d.len() as f64).sqrt();
            let t = t_quantile(0.5 + confidence / 2.0, (d.len() - 1) as f64);
            LogInterval {
                estimate,
                low: estimate - t * se,
                high: estimate + t * se,
                spread: Some(s),
                se,
            }
        }
        None => LogInterval {
            estimate,
            low: estimate,
            high: estimate,
            spread: None,
            se: 0.0,
        },
    }
}

/// The unpaired interval: mean(x) − mean(y) ± t·s_p·√(1/n + 1/m), with the pooled standard
/// deviation s_p (a single run on one side borrows the other side's spread).
pub fn unpaired(x: &[f64], y: &[f64], confidence: f64) -> LogInterval {
    let estimate = mean(x) - mean(y);
    let df = (x.len() + y.len()) as f64 - 2.0;
    if df < 1.0 {
        return LogInterval {
            estimate,
            low: estimate,
            high: estimate,
            spread: None,
            se: 0.0,
        };
    }
    let s = ((sum_sq(x) + sum_sq(y)) / df).sqrt();
    let se = s * (1.0 / x.len() as f64 + 1.0 / y.len() as f64).sqrt();
    let t = t_quantile(0.5 + confidence / 2.0, df);
    LogInterval {
        estimate,
        low: estimate - t * se,
        high: estimate + t * se,
        spread: Some(s),
        se,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_published_tables() {
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
        assert!((normal_quantile(0.01) + 2.326_348).abs() < 1e-5);
        for (p, df, want) in [
            (0.975, 1.0, 12.706_2),
            (0.975, 4.0, 2.776_4),
            (0.975, 9.0, 2.262_2),
            (0.95, 4.0, 2.131_8),
            (0.99, 29.0, 2.462_0),
            (0.975, 1000.0, 1.962_3),
        ] {
            let got = t_quantile(p, df);
            assert!(
                (got - want).abs() < 1e-3,
                "t({p}, {df}) = {got}, want {want}"
            );
        }
        assert!((t_quantile(0.025, 4.0) + 2.776_4).abs() < 1e-3);
    }

    #[test]
    fn intervals_cover_the_mean_and_collapse_without_spread() {
        let d = [0.01, -0.02, 0.03, 0.0, 0.015];
        let i = paired(&d, 0.95);
        assert!(i.low < i.estimate && i.estimate < i.high);
        assert!((i.estimate - 0.007).abs() < 1e-12);
        let p = paired(&[0.1], 0.95);
        assert_eq!((p.low, p.high, p.spread), (0.1, 0.1, None));
        let u = unpaired(&[0.1], &[0.0], 0.95);
        assert_eq!((u.low, u.high), (0.1, 0.1));
        let u = unpaired(&[0.1, 0.1, 0.1], &[0.0], 0.95);
        assert!((u.low - 0.1).abs() < 1e-12 && (u.high - 0.1).abs() < 1e-12);
        assert!(u.spread.is_some_and(|s| s < 1e-12));
        let u = unpaired(&[0.1, 0.12, 0.08], &[0.0, 0.01], 0.95);
        assert!(u.low < 0.1 && u.high > 0.1 && u.spread.is_some());
    }
}
