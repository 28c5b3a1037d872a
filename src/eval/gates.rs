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
use crate::results::{DeviceResult, GateResult, GateStatus, MetricValue, Verdict};

use super::format::{num, signed, signed_with_unit, with_unit};

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

/// The gates that apply to a device, with their config indices: unscoped gates, and gates whose
/// `devices:` lists this device's name (exact match).
pub fn applicable<'a>(gates: &'a [Gate], device: &str) -> Vec<(usize, &'a Gate)> {
    gates
        .iter()
        .enumerate()
        .filter(|(_, g)| {
            g.devices
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| n == device))
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
        Metric::Accuracy => {
            "no case could be checked (every case is `type: none`, was skipped, or produced no checkable output)"
        }
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
        let gap = (actual - threshold).abs();
        let by = match op {
            _ if gap == 0.0 => String::new(),
            Operator::Lt | Operator::Lte => format!(" (over by {})", with_unit(metric, gap)),
            Operator::Gt | Operator::Gte => format!(" (short by {})", with_unit(metric, gap)),
            Operator::Eq => format!(" (off by {})", with_unit(metric, gap)),
        };
        (
            GateStatus::Failed,
            format!("`{name}` {a} is not {sym} {t}{by}"),
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
            "no baseline: the relative gate on `{name}` (max {}% regression) is not measured; pass `--baseline <earlier edgegate-results.json>` to compare (in CI: the default branch's results)",
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
        signed_with_unit(metric, delta),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Provider;

    fn gate(metric: Metric, op: Operator, threshold: f64) -> Gate {
        Gate {
            metric,
            operator: Some(op),
            threshold: Some(threshold),
            max_regression_pct: None,
            devices: None,
            description: None,
        }
    }

    fn rel(metric: Metric, max: f64) -> Gate {
        Gate {
            metric,
            operator: None,
            threshold: None,
            max_regression_pct: Some(max),
            devices: None,
            description: Some("no slower than main".into()),
        }
    }

    fn metrics(pairs: &[(Metric, f64)]) -> BTreeMap<String, MetricValue> {
        pairs
            .iter()
            .map(|&(m, v)| {
                (
                    m.as_str().to_string(),
                    MetricValue {
                        value: v,
                        unit: super::super::format::unit(m).to_string(),
                        p90: None,
                        samples: Vec::new(),
                    },
                )
            })
            .collect()
    }

    fn device(pairs: &[(Metric, f64)]) -> DeviceResult {
        DeviceResult {
            name: "RB5".into(),
            provider: Provider::Aihub,
            hub_device: None,
            runtime: None,
            jobs: Vec::new(),
            metrics: metrics(pairs),
            layers: None,
            cases: Vec::new(),
            gates: Vec::new(),
            verdict: Verdict::Passed,
            error: None,
            invalid_input: false,
            duration_s: 1.0,
        }
    }

    fn one(g: &Gate, m: &BTreeMap<String, MetricValue>) -> GateResult {
        evaluate_gates(&[(3, g)], m, None, false, None).remove(0)
    }

    fn absolute_status(op: Operator, actual: f64, threshold: f64) -> GateStatus {
        let m = metrics(&[(Metric::InferenceTimeMs, actual)]);
        one(&gate(Metric::InferenceTimeMs, op, threshold), &m).status
    }

    fn relative_one(metric: Metric, max: f64, actual: f64, baseline: f64) -> GateResult {
        let m = metrics(&[(metric, actual)]);
        let b = device(&[(metric, baseline)]);
        evaluate_gates(&[(0, &rel(metric, max))], &m, Some(&b), true, None).remove(0)
    }

    #[test]
    fn lte_at_exactly_the_threshold_passes() {
        let m = metrics(&[(Metric::InferenceTimeMs, 150.0)]);
        let r = one(&gate(Metric::InferenceTimeMs, Operator::Lte, 150.0), &m);
        assert_eq!(r.status, GateStatus::Passed);
        assert_eq!(r.message, "`inference_time_ms` 150 ms ≤ 150 ms");
        assert_eq!(r.index, 3);
        assert_eq!(r.actual, Some(150.0));
        assert_eq!(r.threshold, Some(150.0));
        assert_eq!(r.operator, Some(Operator::Lte));
        assert_eq!(r.baseline, None);
    }

    #[test]
    fn lt_at_exactly_the_threshold_fails() {
        let m = metrics(&[(Metric::InferenceTimeMs, 150.0)]);
        let r = one(&gate(Metric::InferenceTimeMs, Operator::Lt, 150.0), &m);
        assert_eq!(r.status, GateStatus::Failed);
        assert_eq!(r.message, "`inference_time_ms` 150 ms is not < 150 ms");
    }

    #[test]
    fn every_operator_below_at_and_above_the_threshold() {
        use GateStatus::{Failed as F, Passed as P};
        let table = [
            (Operator::Lt, [P, F, F]),
            (Operator::Lte, [P, P, F]),
            (Operator::Gt, [F, F, P]),
            (Operator::Gte, [F, P, P]),
            (Operator::Eq, [F, P, F]),
        ];
        for (op, want) in table {
            let got = [99.0, 100.0, 101.0].map(|a| absolute_status(op, a, 100.0));
            assert_eq!(got, want, "{op:?}");
        }
    }

    #[test]
    fn failed_message_states_actual_operator_threshold_and_distance() {
        let m = metrics(&[(Metric::PeakMemoryMb, 312.5)]);
        let r = one(&gate(Metric::PeakMemoryMb, Operator::Lte, 300.0), &m);
        assert_eq!(r.status, GateStatus::Failed);
        assert_eq!(
            r.message,
            "`peak_memory_mb` 312.5 MiB is not ≤ 300 MiB (over by 12.5 MiB)"
        );
        let m = metrics(&[(Metric::Accuracy, 0.9)]);
        let r = one(&gate(Metric::Accuracy, Operator::Gte, 0.95), &m);
        assert_eq!(r.message, "`accuracy` 0.9 is not ≥ 0.95 (short by 0.05)");
    }

    #[test]
    fn eq_failure_states_the_difference() {
        let m = metrics(&[(Metric::NpuComputePercent, 97.5)]);
        let r = one(&gate(Metric::NpuComputePercent, Operator::Eq, 100.0), &m);
        assert_eq!(r.status, GateStatus::Failed);
        assert_eq!(
            r.message,
            "`npu_compute_percent` 97.5% is not = 100% (off by 2.5%)"
        );
    }

    #[test]
    fn eq_holds_within_one_part_per_million() {
        assert_eq!(
            absolute_status(Operator::Eq, 150.0001, 150.0),
            GateStatus::Passed
        );
        assert_eq!(
            absolute_status(Operator::Eq, 150.001, 150.0),
            GateStatus::Failed
        );
        assert_eq!(absolute_status(Operator::Eq, 0.0, 0.0), GateStatus::Passed);
        assert!(holds(Operator::Eq, 0.1 + 0.2, 0.3));
        assert!(!holds(Operator::Eq, 1e-12, 0.0));
    }

    #[test]
    fn nan_actual_is_an_error_never_a_pass() {
        for op in [
            Operator::Lt,
            Operator::Lte,
            Operator::Gt,
            Operator::Gte,
            Operator::Eq,
        ] {
            let m = metrics(&[(Metric::InferenceTimeMs, f64::NAN)]);
            let r = one(&gate(Metric::InferenceTimeMs, op, 100.0), &m);
            assert_eq!(r.status, GateStatus::Error, "{op:?}");
            assert_eq!(r.message, "`inference_time_ms` is NaN on this device");
            assert_eq!(r.actual, None);
        }
    }

    #[test]
    fn missing_metric_is_an_error_that_says_why() {
        let g = gate(Metric::PeakMemoryMb, Operator::Lte, 300.0);
        let r = evaluate_gates(
            &[(0, &g)],
            &BTreeMap::new(),
            None,
            false,
            Some("compile job j1 failed: unsupported op"),
        )
        .remove(0);
        assert_eq!(r.status, GateStatus::Error);
        assert_eq!(
            r.message,
            "`peak_memory_mb` was not measured on this device: compile job j1 failed: unsupported op"
        );
        let g = gate(Metric::NpuComputePercent, Operator::Gte, 90.0);
        let r = one(&g, &BTreeMap::new());
        assert_eq!(r.status, GateStatus::Error);
        assert_eq!(
            r.message,
            "`npu_compute_percent` was not measured on this device: the device did not report layer placement"
        );
    }

    #[test]
    fn relative_gate_at_exactly_max_regression_passes() {
        let r = relative_one(Metric::InferenceTimeMs, 10.0, 110.0, 100.0);
        assert_eq!(r.status, GateStatus::Passed, "{}", r.message);
        assert_eq!(r.delta_pct, Some(10.0));
        let r = relative_one(Metric::InferenceTimeMs, 10.0, 0.33, 0.3);
        assert_eq!(r.status, GateStatus::Passed, "{}", r.message);
    }

    #[test]
    fn relative_gate_fails_a_20_pct_slowdown_against_10_pct_max() {
        let r = relative_one(Metric::InferenceTimeMs, 10.0, 120.0, 100.0);
        assert_eq!(r.status, GateStatus::Failed);
        assert_eq!(r.actual, Some(120.0));
        assert_eq!(r.baseline, Some(100.0));
        assert_eq!(r.delta, Some(20.0));
        assert_eq!(r.delta_pct, Some(20.0));
        assert_eq!(r.max_regression_pct, Some(10.0));
        assert_eq!(r.description.as_deref(), Some("no slower than main"));
        assert_eq!(
            r.message,
            "`inference_time_ms` 120 ms vs baseline 100 ms: +20 ms (+20%), a 20% regression, more than the allowed 10%"
        );
    }

    #[test]
    fn relative_gate_passes_a_2_pct_slowdown_and_an_improvement() {
        let r = relative_one(Metric::InferenceTimeMs, 10.0, 102.0, 100.0);
        assert_eq!(r.status, GateStatus::Passed);
        assert_eq!(r.delta, Some(2.0));
        assert_eq!(r.delta_pct, Some(2.0));
        assert_eq!(
            r.message,
            "`inference_time_ms` 102 ms vs baseline 100 ms: +2 ms (+2%), a 2% regression, within the allowed 10%"
        );
        let r = relative_one(Metric::InferenceTimeMs, 10.0, 80.0, 100.0);
        assert_eq!(r.status, GateStatus::Passed);
        assert_eq!(r.delta_pct, Some(-20.0));
        assert_eq!(
            r.message,
            "`inference_time_ms` 80 ms vs baseline 100 ms: -20 ms (-20%), no regression (allowed 10%)"
        );
    }

    #[test]
    fn relative_gate_on_higher_is_better_flips_the_sign() {
        let r = relative_one(Metric::Accuracy, 5.0, 0.85, 0.95);
        assert_eq!(r.status, GateStatus::Failed);
        let pct = r.delta_pct.unwrap();
        assert!((pct - (-10.526315789)).abs() < 1e-6, "{pct}");
        assert_eq!(
            r.message,
            "`accuracy` 0.85 vs baseline 0.95: -0.1 (-10.5263%), a 10.5263% regression, more than the allowed 5%"
        );
        let r = relative_one(Metric::Accuracy, 5.0, 0.99, 0.95);
        assert_eq!(r.status, GateStatus::Passed);
        let r = relative_one(Metric::NpuComputePercent, 5.0, 96.0, 100.0);
        assert_eq!(r.status, GateStatus::Passed);
        let r = relative_one(Metric::NpuComputePercent, 5.0, 90.0, 100.0);
        assert_eq!(r.status, GateStatus::Failed);
    }

    #[test]
    fn relative_gate_without_baseline_file_says_how_to_give_one() {
        let m = metrics(&[(Metric::InferenceTimeMs, 100.0)]);
        let r = one(&rel(Metric::InferenceTimeMs, 10.0), &m);
        assert_eq!(r.status, GateStatus::Error);
        assert!(
            r.message.starts_with(
                "no baseline: the relative gate on `inference_time_ms` (max 10% regression) is not measured"
            ),
            "{}",
            r.message
        );
        assert!(
            r.message
                .contains("pass `--baseline <earlier edgegate-results.json>` to compare"),
            "{}",
            r.message
        );
        assert_eq!(r.actual, Some(100.0));
    }

    #[test]
    fn relative_gate_with_baseline_lacking_the_device_or_metric_is_an_error() {
        let m = metrics(&[(Metric::InferenceTimeMs, 100.0)]);
        let g = rel(Metric::InferenceTimeMs, 10.0);
        let r = evaluate_gates(&[(0, &g)], &m, None, true, None).remove(0);
        assert_eq!(r.status, GateStatus::Error);
        assert_eq!(
            r.message,
            "the baseline results have no entry for this device, so `inference_time_ms` cannot be compared; use a baseline run that included it"
        );
        let mut b = device(&[(Metric::PeakMemoryMb, 10.0)]);
        let r = evaluate_gates(&[(0, &g)], &m, Some(&b), true, None).remove(0);
        assert_eq!(r.status, GateStatus::Error);
        assert_eq!(
            r.message,
            "the baseline results have no `inference_time_ms` for device `RB5`"
        );
        b.error = Some("timed out".into());
        let r = evaluate_gates(&[(0, &g)], &m, Some(&b), true, None).remove(0);
        assert_eq!(
            r.message,
            "the baseline results have no `inference_time_ms` for device `RB5` (the baseline run errored there: timed out)"
        );
    }

    #[test]
    fn relative_gate_against_zero_baseline_is_an_error() {
        let r = relative_one(Metric::LoadTimeMs, 10.0, 5.0, 0.0);
        assert_eq!(r.status, GateStatus::Error);
        assert_eq!(r.baseline, Some(0.0));
        assert_eq!(r.delta_pct, None);
        assert_eq!(
            r.message,
            "the baseline's `load_time_ms` is 0, so a percentage change is undefined; use an absolute gate"
        );
    }

    #[test]
    fn relative_gate_with_unmeasured_actual_or_no_direction_is_an_error() {
        let b = device(&[(Metric::InferenceTimeMs, 100.0)]);
        let g = rel(Metric::InferenceTimeMs, 10.0);
        let r = evaluate_gates(
            &[(0, &g)],
            &BTreeMap::new(),
            Some(&b),
            true,
            Some("device offline"),
        )
        .remove(0);
        assert_eq!(r.status, GateStatus::Error);
        assert_eq!(
            r.message,
            "`inference_time_ms` was not measured on this device: device offline"
        );
        let r = relative_one(Metric::GpuComputePercent, 10.0, 5.0, 5.0);
        assert_eq!(r.status, GateStatus::Error);
        assert!(
            r.message.contains("cannot have a relative gate"),
            "{}",
            r.message
        );
    }

    #[test]
    fn gate_without_operator_or_regression_is_an_error() {
        let g = Gate {
            metric: Metric::Tps,
            operator: Some(Operator::Gt),
            threshold: None,
            max_regression_pct: None,
            devices: None,
            description: None,
        };
        let r = one(&g, &metrics(&[(Metric::Tps, 10.0)]));
        assert_eq!(r.status, GateStatus::Error);
    }

    #[test]
    fn gates_keep_their_order_and_config_index() {
        let m = metrics(&[(Metric::InferenceTimeMs, 10.0)]);
        let a = gate(Metric::InferenceTimeMs, Operator::Lte, 5.0);
        let b = gate(Metric::InferenceTimeMs, Operator::Lte, 50.0);
        let r = evaluate_gates(&[(4, &a), (1, &b)], &m, None, false, None);
        assert_eq!(r.iter().map(|g| g.index).collect::<Vec<_>>(), vec![4, 1]);
        assert_eq!(
            r.iter().map(|g| g.status).collect::<Vec<_>>(),
            vec![GateStatus::Failed, GateStatus::Passed]
        );
    }

    #[test]
    fn applicable_keeps_unscoped_gates_and_those_naming_the_device() {
        let mut scoped = gate(Metric::PeakMemoryMb, Operator::Lte, 300.0);
        scoped.devices = Some(vec!["RB5".into()]);
        let all = gate(Metric::InferenceTimeMs, Operator::Lte, 150.0);
        let gates = vec![all, scoped];
        let idx = |d: &str| {
            applicable(&gates, d)
                .iter()
                .map(|(i, _)| *i)
                .collect::<Vec<_>>()
        };
        assert_eq!(idx("RB5"), vec![0, 1]);
        assert_eq!(idx("host"), vec![0]);
        assert_eq!(idx("rb5"), vec![0]);
    }

    #[test]
    fn device_without_outputs_errors_its_accuracy_gate_instead_of_failing_it() {
        let errored = crate::results::CaseResult {
            case_id: "c".into(),
            name: "c".into(),
            expected_type: "label".into(),
            expected: "label 1".into(),
            actual: String::new(),
            status: crate::results::CaseStatus::Error,
            reason: Some("the device produced no output for this case".into()),
            latency_ms: None,
        };
        let m = super::super::metrics::device_metrics(None, None, &[errored.clone(), errored]);
        let g = gate(Metric::Accuracy, Operator::Gte, 0.9);
        let r = evaluate_gates(
            &[(0, &g)],
            &m,
            None,
            false,
            Some("inference job j9 failed: OOM"),
        );
        assert_eq!(r[0].status, GateStatus::Error);
        assert_eq!(
            r[0].message,
            "`accuracy` was not measured on this device: inference job j9 failed: OOM"
        );
        assert_eq!(
            device_verdict(&r, Some("inference job j9 failed: OOM")),
            Verdict::Error
        );
    }

    #[test]
    fn device_verdict_failed_beats_error_beats_passed() {
        let m = metrics(&[(Metric::InferenceTimeMs, 10.0)]);
        let pass = one(&gate(Metric::InferenceTimeMs, Operator::Lte, 50.0), &m);
        let fail = one(&gate(Metric::InferenceTimeMs, Operator::Lte, 5.0), &m);
        let err = one(&gate(Metric::PeakMemoryMb, Operator::Lte, 5.0), &m);
        assert_eq!(device_verdict(&[], None), Verdict::Passed);
        assert_eq!(
            device_verdict(std::slice::from_ref(&pass), None),
            Verdict::Passed
        );
        assert_eq!(
            device_verdict(std::slice::from_ref(&pass), Some("boom")),
            Verdict::Error
        );
        assert_eq!(device_verdict(&[], Some("boom")), Verdict::Error);
        assert_eq!(
            device_verdict(&[pass.clone(), err.clone()], None),
            Verdict::Error
        );
        assert_eq!(
            device_verdict(&[err.clone(), fail.clone()], None),
            Verdict::Failed
        );
        assert_eq!(device_verdict(&[fail, pass], Some("boom")), Verdict::Failed);
    }
}
