//! Numbers, units and gate rules in words, shared by the JUnit and Markdown renderers so both say
//! the same thing the same way.

use crate::config::types::{Metric, Operator};
use crate::results::{DeviceResult, GateResult};

/// A number as people read it: no trailing zeros, at most three decimals.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// A signed number (`+3.2`, `-1`), for deltas.
pub fn signed(v: f64) -> String {
    if v > 0.0 {
        format!("+{}", num(v))
    } else {
        num(v)
    }
}

/// The unit of a metric as shown after a value.
pub fn unit(metric: Metric, device: Option<&DeviceResult>) -> String {
    if let Some(u) = device.and_then(|d| d.metrics.get(metric.as_str())) {
        return match u.unit.as_str() {
            "fraction" => String::new(),
            other => other.to_string(),
        };
    }
    match metric {
        Metric::InferenceTimeMs | Metric::LoadTimeMs | Metric::TtftMs => "ms".into(),
        Metric::PeakMemoryMb | Metric::ModelSizeMb => "MiB".into(),
        Metric::NpuComputePercent | Metric::GpuComputePercent | Metric::CpuComputePercent => {
            "%".into()
        }
        Metric::Tps => "tok/s".into(),
        Metric::Accuracy => String::new(),
    }
}

/// A value with its unit (`171.2 ms`, `0.95`).
pub fn with_unit(v: f64, unit: &str) -> String {
    match unit {
        "" => num(v),
        "%" => format!("{}%", num(v)),
        u => format!("{} {u}", num(v)),
    }
}

/// The operator in ASCII (`<=`), for places where symbols may not render (JUnit names).
pub fn ascii_op(op: Operator) -> &'static str {
    match op {
        Operator::Lt => "<",
        Operator::Lte => "<=",
        Operator::Gt => ">",
        Operator::Gte => ">=",
        Operator::Eq => "==",
    }
}

/// The rule of a gate in words (`≤ 150 ms`, `regression ≤ 10% vs baseline`).
pub fn rule(g: &GateResult, unit: &str) -> String {
    match (g.operator, g.threshold, g.max_regression_pct) {
        (Some(op), Some(t), _) => format!("{} {}", op.symbol(), with_unit(t, unit)),
        (_, _, Some(pct)) => format!("regression ≤ {}% vs baseline", num(pct)),
        _ => "(no rule)".into(),
    }
}

/// A short, stable, ASCII name of a gate (`inference_time_ms <= 150`), used as a test name.
pub fn gate_key(g: &GateResult) -> String {
    match (g.operator, g.threshold, g.max_regression_pct) {
        (Some(op), Some(t), _) => format!("{} {} {}", g.metric.as_str(), ascii_op(op), num(t)),
        (_, _, Some(pct)) => format!("{} regression <= {}%", g.metric.as_str(), num(pct)),
        _ => g.metric.as_str().to_string(),
    }
}

/// The delta against the baseline (`+29.2 ms (+20.6%)`), when there is one.
pub fn delta(g: &GateResult, unit: &str) -> Option<String> {
    match (g.delta, g.delta_pct) {
        (Some(d), Some(p)) => Some(format!("{} ({}%)", signed_unit(d, unit), signed(pct(p)))),
        (Some(d), None) => Some(signed_unit(d, unit)),
        (None, Some(p)) => Some(format!("{}%", signed(pct(p)))),
        (None, None) => None,
    }
}

fn pct(p: f64) -> f64 {
    (p * 10.0).round() / 10.0
}

fn signed_unit(v: f64, unit: &str) -> String {
    let s = signed(v);
    match unit {
        "" => s,
        "%" => format!("{s} pp"),
        u => format!("{s} {u}"),
    }
}

/// One line stating actual, operator, threshold, baseline and delta of a gate
/// (`inference_time_ms 171.2 ms, must be ≤ 150 ms (baseline 142 ms, Δ +29.2 ms (+20.6%))`).
pub fn gate_statement(g: &GateResult, unit: &str) -> String {
    let actual = g
        .actual
        .map(|a| with_unit(a, unit))
        .unwrap_or_else(|| "not measured".into());
    let baseline = match g.baseline {
        Some(b) => format!("baseline {}", with_unit(b, unit)),
        None => "no baseline".into(),
    };
    let delta = delta(g, unit)
        .map(|d| format!(", Δ {d}"))
        .unwrap_or_default();
    let must = match (g.threshold, g.max_regression_pct) {
        (None, Some(pct)) => format!("regression must be ≤ {}%", num(pct)),
        _ => format!("must be {}", rule(g, unit)),
    };
    format!("{} {actual}, {must} ({baseline}{delta})", g.metric.as_str())
}

/// Cuts text to at most `max` characters, marking the cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_drop_trailing_zeros() {
        assert_eq!(num(150.0), "150");
        assert_eq!(num(171.2), "171.2");
        assert_eq!(num(0.95), "0.95");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(signed(20.6), "+20.6");
        assert_eq!(signed(-3.0), "-3");
    }

    #[test]
    fn clip_keeps_short_text_and_marks_cuts() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
