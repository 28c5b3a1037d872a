//! Gate rules, deltas and names in words, shared by the table, JUnit and Markdown renderers so all
//! say the same thing the same way; numbers and units come from the one formatter in
//! `eval::format`. Reads results only; must not reach into devices, the engine or commands.

use crate::config::types::{Metric, Operator};
use crate::results::{DeviceResult, GateResult, JobKind, Results, Verdict};

pub use crate::eval::format::{Digits, clip};

/// How reports print numbers: at most three decimals.
const R: Digits = Digits::REPORT;

/// The unit of a metric as shown after a value: the one the results file recorded for the
/// device, else the metric's own; empty for a fraction.
pub fn unit(metric: Metric, device: Option<&DeviceResult>) -> &str {
    let stored = device
        .and_then(|d| d.metrics.get(metric.as_str()))
        .map(|m| m.unit.as_str())
        .unwrap_or_else(|| crate::eval::format::unit(metric));
    if stored == "fraction" { "" } else { stored }
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
        (Some(op), Some(t), _) => format!("{} {}", op.symbol(), R.with_unit(t, unit)),
        (_, _, Some(p)) => format!("regression ≤ {} vs baseline", pct(p)),
        _ => "(no rule)".into(),
    }
}

/// A short, stable, ASCII name of a gate (`inference_time_ms <= 150`), used as a test name.
pub fn gate_key(g: &GateResult) -> String {
    match (g.operator, g.threshold, g.max_regression_pct) {
        (Some(op), Some(t), _) => format!("{} {} {}", g.metric.as_str(), ascii_op(op), R.num(t)),
        (_, _, Some(p)) => format!("{} regression <= {}", g.metric.as_str(), pct(p)),
        _ => g.metric.as_str().to_string(),
    }
}

/// The delta against the baseline (`+29.2 ms (+20.6%)`), when there is one.
pub fn delta(g: &GateResult, unit: &str) -> Option<String> {
    match (g.delta, g.delta_pct) {
        (Some(d), Some(p)) => Some(format!(
            "{} ({})",
            R.signed_with_unit(d, unit),
            delta_pct(p)
        )),
        (Some(d), None) => Some(R.signed_with_unit(d, unit)),
        (None, Some(p)) => Some(delta_pct(p)),
        (None, None) => None,
    }
}

/// A relative change against the baseline, to one decimal (`+20.6%`).
pub fn delta_pct(p: f64) -> String {
    format!("{}%", R.signed((p * 10.0).round() / 10.0))
}

/// A percentage limit (`10%`).
pub fn pct(p: f64) -> String {
    format!("{}%", R.num(p))
}

/// One line stating actual, operator, threshold, baseline and delta of a gate
/// (`inference_time_ms 171.2 ms, must be ≤ 150 ms (baseline 142 ms, Δ +29.2 ms (+20.6%))`).
pub fn gate_statement(g: &GateResult, unit: &str) -> String {
    let actual = g
        .actual
        .map(|a| R.with_unit(a, unit))
        .unwrap_or_else(|| "not measured".into());
    let baseline = match g.baseline {
        Some(b) => format!("baseline {}", R.with_unit(b, unit)),
        None => "no baseline".into(),
    };
    let delta = delta(g, unit)
        .map(|d| format!(", Δ {d}"))
        .unwrap_or_default();
    let must = match (g.threshold, g.max_regression_pct) {
        (None, Some(p)) => format!("regression must be ≤ {}", pct(p)),
        _ => format!("must be {}", rule(g, unit)),
    };
    let evidence = match &g.interval {
        Some(i) if i.method != "point" => {
            let spread = i
                .spread_pct
                .map(|s| format!(", run-to-run spread {}%", R.num((s * 10.0).round() / 10.0)))
                .unwrap_or_default();
            format!(
                "; estimated regression {} ({}% interval {} to {}), {} run{} vs {} baseline run{}{spread}{}",
                delta_pct(i.estimate_pct),
                R.num(i.confidence * 100.0),
                delta_pct(i.low_pct),
                delta_pct(i.high_pct),
                i.runs,
                if i.runs == 1 { "" } else { "s" },
                i.baseline_runs,
                if i.baseline_runs == 1 { "" } else { "s" },
                if g.inconclusive { "; inconclusive" } else { "" },
            )
        }
        _ => String::new(),
    };
    format!(
        "{} {actual}, {must} ({baseline}{delta}{evidence})",
        g.metric.as_str()
    )
}

/// The indices of every gate that applies to some device, in config order: the columns of the
/// table and the rows of the Markdown gate table.
pub fn gate_indices(results: &Results) -> Vec<usize> {
    let mut indices: Vec<usize> = results
        .devices
        .iter()
        .flat_map(|d| d.gates.iter().map(|g| g.index))
        .collect();
    indices.sort_unstable();
    indices.dedup();
    indices
}

/// A verdict in one lowercase word, as results.json spells it.
pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
        Verdict::Error => "error",
    }
}

/// A job kind as results.json spells it.
pub fn job_kind(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Compile => "compile",
        JobKind::Profile => "profile",
        JobKind::Inference => "inference",
        JobKind::Local => "local",
    }
}

/// The values of a run that are estimates, not measurements: (device, metric, formula), once
/// per device and metric, in device and gate order.
pub fn estimates(r: &Results) -> Vec<(&str, Metric, &str)> {
    let mut out: Vec<(&str, Metric, &str)> = Vec::new();
    for d in &r.devices {
        for g in &d.gates {
            if let Some(f) = &g.estimate
                && !out.iter().any(|(n, m, _)| *n == d.name && *m == g.metric)
            {
                out.push((d.name.as_str(), g.metric, f.as_str()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::GateStatus;

    fn gate(delta: Option<f64>, delta_pct: Option<f64>) -> GateResult {
        GateResult {
            index: 0,
            metric: Metric::InferenceTimeMs,
            operator: Some(Operator::Lte),
            threshold: Some(150.0),
            max_regression_pct: None,
            description: None,
            actual: Some(171.2),
            baseline: Some(142.0),
            delta,
            delta_pct,
            status: GateStatus::Failed,
            message: String::new(),
            interval: None,
            inconclusive: false,
            estimate: None,
        }
    }

    #[test]
    fn a_failed_gate_reads_as_one_sentence() {
        let g = gate(Some(29.2), Some(20.5633));
        assert_eq!(
            gate_statement(&g, unit(g.metric, None)),
            "inference_time_ms 171.2 ms, must be ≤ 150 ms (baseline 142 ms, Δ +29.2 ms (+20.6%))"
        );
        assert_eq!(gate_key(&g), "inference_time_ms <= 150");
        assert_eq!(delta(&gate(None, None), "ms"), None);
    }

    #[test]
    fn units_come_from_the_one_table_and_fractions_have_none() {
        assert_eq!(unit(Metric::Tps, None), "tokens/s");
        assert_eq!(unit(Metric::Accuracy, None), "");
        assert_eq!(unit(Metric::PeakMemoryMb, None), "MiB");
    }
}
