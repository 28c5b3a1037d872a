//! Gates on one device: absolute gates compare a metric with a threshold, relative gates compare
//! it with the baseline run. A gate that could not be measured or compared is an error, never a
//! pass; every result carries a one-sentence message that reports print verbatim.
//!
//! - `lt`/`lte`/`gt`/`gte` compare exactly (`lte` at exactly the threshold passes, `lt` fails).
//! - `eq` holds within one part per million: `|actual - threshold| <= 1e-6 · max(|actual|, |threshold|)`.
//! - Relative gates: regression % = (actual - baseline) / baseline · 100 for lower-is-better
//!   metrics, with the sign flipped for higher-is-better ones; the gate fails when the regression
//!   exceeds `max_regression_pct` by more than 1e-9 percentage points (exactly at the limit passes).

use std::collections::BTreeMap;

use crate::config::types::Better;
use crate::config::{Gate, Metric, Operator};
use crate::report::{DeviceResult, GateResult, GateStatus, MetricValue, Verdict};

use super::format::{num, signed, with_unit};

/// Relative tolerance of the `eq` operator.
pub const EQ_RELATIVE_TOLERANCE: f64 = 1e-6;
/// Slack, in percentage points, on `max_regression_pct`, so floating-point noise at the limit passes.
pub const REGRESSION_SLACK_PCT: f64 = 1e-9;

/// Evaluates the gates that apply to one device, in the order given.
///
/// `gates` pairs each gate with its index in the config; `baseline` is this device's entry in the
/// baseline file (if the file has one), `baseline_given` whether `--baseline` was passed at all;
/// `device_error` explains missing metrics.
pub fn evaluate_gates(
    gates: &[(usize, &Gate)],
    metrics: &BTreeMap<String, MetricValue>,
    baseline: Option<&DeviceResult>,
    baseline_given: bool,
    device_error: Option<&str>,
) -> Vec<GateResult> {
    gates
        .iter()
        .map(|&(index, gate)| {
            let mut r = GateResult {
                index,
                metric: gate.metric,
                operator: gate.operator,
                threshold: gate.threshold,
                max_regression_pct: gate.max_regression_pct,
                description: gate.description.clone(),
                actual: None,
                baseline: None,
                delta: None,
                delta_pct: None,
                status: GateStatus::Error,
                message: String::new(),
            };
            let measured = measured(gate.metric, metrics, device_error);
            if let Ok(v) = measured {
                r.actual = Some(v);
            }
            match (gate.operator, gate.threshold, gate.max_regression_pct) {
                (Some(op), Some(threshold), _) => {
                    let (status, message) = absolute(gate.metric, op, threshold, measured);
                    r.status = status;
                    r.message = message;
                }
                (_, _, Some(max)) => relative(&mut r, max, measured, baseline, baseline_given),
                _ => {
                    r.message = format!(
                        "the gate on `{}` has neither `operator` + `threshold` nor `max_regression_pct`",
                        gate.metric.as_str()
                    );
                }
            }
            r
        })
        .collect()
}

/// A device's verdict: any failed gate fails it; otherwise any gate error or device error makes it
/// an error; otherwise it passed (also when no gate applies).
pub fn device_verdict(gates: &[GateResult], error: Option<&str>) -> Verdict {
    if gates.iter().any(|g| g.status == GateStatus::Failed) {
        Verdict::Failed
    } else if error.is_some() || gates.iter().any(|g| g.status == GateStatus::Error) {
        Verdict::Error
    } else {
        Verdict::Passed
    }
}

/// Whether `actual op threshold` holds, with `eq` tolerant to one part per million.
pub fn holds(op: Operator, actual: f64, threshold: f64) -> bool {
    match op {
        Operator::Lt => actual < threshold,
        Operator::Lte => actual <= threshold,
        Operator::Gt => actual > threshold,
        Operator::Gte => actual >= threshold,
        Operator::Eq => {
            (actual - threshold).abs() <= EQ_RELATIVE_TOLERANCE * actual.abs().max(threshold.abs())
        }
    }
}

fn measured(
    metric: Metric,
    metrics: &BTreeMap<String, MetricValue>,
    device_error: Option<&str>,
) -> Result<f64, String> {
    let name = metric.as_str();
    match metrics.get(name).map(|m| m.value) {
        Some(v) if v.is_nan() => Err(format!("`{name}` is NaN on this device")),
        Some(v) => Ok(v),
        None => {
            let why = match device_error {
                Some(e) => e.to_string(),
                None => not_measured_reason(metric).to_string(),
            };
            Err(format!("`{name}` was not measured on this device: {why}"))
        }
    }
}

fn not_measured_reason(metric: Metric) -> &'static str {
    match metric {
        Metric::TtftMs | Metric::Tps => "this backend does not measure generative-model timings",
        Metric::NpuComputePercent | Metric::GpuComputePercent | Metric::CpuComputePercent => {
            "the device did not report layer placement"
        }
        Metric::Accuracy => "no case has an expectation to check (all are `type: none`)",
        Metric::InferenceTimeMs => "the profile reported no timed iterations",
        Metric::PeakMemoryMb => "the profile reported no peak memory",
        Metric::LoadTimeMs => "the profile reported no load time",
        Metric::ModelSizeMb => "the device reported no model size",
    }
}

fn absolute(
    metric: Metric,
    op: Operator,
    threshold: f64,
    measured: Result<f64, String>,
) -> (GateStatus, String) {
    let actual = match measured {
        Ok(v) => v,
        Err(e) => return (GateStatus::Error, e),
    };
    let name = metric.as_str();
    let a = with_unit(metric, actual);
    let t = with_unit(metric, threshold);
    let sym = op.symbol();
    if holds(op, actual, threshold) {
        (GateStatus::Passed, format!("`{name}` {a} {sym} {t}"))
    } else {
        (
            GateStatus::Failed,
            format!(
                "`{name}` {a} is not {sym} {t} (off by {})",
                num((actual - threshold).abs())
            ),
        )
    }
}

fn relative(
    r: &mut GateResult,
    max: f64,
    measured: Result<f64, String>,
    baseline: Option<&DeviceResult>,
    baseline_given: bool,
) {
    let metric = r.metric;
    let name = metric.as_str();
    let Some(better) = metric.better() else {
        r.message = format!(
            "`{name}` has no better direction, so it cannot have a relative gate; use `operator` and `threshold`"
        );
        return;
    };
    if !baseline_given {
        r.message = format!(
            "`{name}` has a relative gate (max {}% regression) but no baseline was given: pass `--baseline <earlier edgegate-results.json>` to compare",
            num(max)
        );
        return;
    }
    let actual = match measured {
        Ok(v) => v,
        Err(e) => {
            r.message = e;
            return;
        }
    };
    let Some(base_dev) = baseline else {
        r.message = format!(
            "the baseline results have no entry for this device, so `{name}` cannot be compared; use a baseline run that included it"
        );
        return;
    };
    let base = match base_dev.metrics.get(name).map(|m| m.value) {
        Some(b) if b.is_finite() => b,
        Some(_) => {
            r.message = format!("the baseline's `{name}` on this device is not a number");
            return;
        }
        None => {
            let why = match &base_dev.error {
                Some(e) => format!(" (the baseline run errored there: {e})"),
                None => String::new(),
            };
            r.message = format!(
                "the baseline results have no `{name}` for device `{}`{why}",
                base_dev.name
            );
            return;
        }
    };
    r.baseline = Some(base);
    let delta = actual - base;
    r.delta = Some(delta);
    if base == 0.0 {
        r.message = format!(
            "the baseline's `{name}` is 0, so a percentage change is undefined; use an absolute gate"
        );
        return;
    }
    let delta_pct = delta * 100.0 / base;
    r.delta_pct = Some(delta_pct);
    let regression = match better {
        Better::Lower => delta_pct,
        Better::Higher => -delta_pct,
    };
    let head = format!(
        "`{name}` {} vs baseline {}: {} ({}%)",
        with_unit(metric, actual),
        with_unit(metric, base),
        signed(delta),
        signed(delta_pct)
    );
    if regression > max + REGRESSION_SLACK_PCT {
        r.status = GateStatus::Failed;
        r.message = format!(
            "{head}, a {}% regression, more than the allowed {}%",
            num(regression),
            num(max)
        );
    } else {
        r.status = GateStatus::Passed;
        r.message = if regression > 0.0 {
            format!(
                "{head}, a {}% regression, within the allowed {}%",
                num(regression),
                num(max)
            )
        } else {
            format!("{head}, no regression (allowed {}%)", num(max))
        };
    }
}
