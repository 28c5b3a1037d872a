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

use crate::config::types::{Better, HistoryMethod, HistoryThreshold, OnInconclusive};
use crate::config::{Gate, Metric, Operator};
use crate::results::{
    DeviceResult, GateResult, GateStatus, MetricValue, RegressionInterval, Verdict,
};

use super::format::{num, signed, signed_with_unit, with_unit};

/// Relative tolerance of the `eq` operator.
pub const EQ_RELATIVE_TOLERANCE: f64 = 1e-6;
/// Slack, in percentage points, on `max_regression_pct`, so floating-point noise at the limit passes.
pub const REGRESSION_SLACK_PCT: f64 = 1e-9;

/// What relative gates on one device compare against.
#[derive(Debug, Clone, Copy)]
pub struct BaselineView<'a> {
    /// Whether a baseline was given at all (`--baseline`, or a baseline model).
    pub given: bool,
    /// Paired mode: the baseline model's metrics measured on this device in this run.
    pub paired: Option<&'a BTreeMap<String, MetricValue>>,
    /// This device's entries in the stored baseline files, oldest first (empty: none has it).
    pub stored: &'a [&'a DeviceResult],
    /// Confidence level of relative gates' intervals.
    pub confidence: f64,
    /// What an inconclusive relative gate becomes.
    pub on_inconclusive: OnInconclusive,
}

impl Default for BaselineView<'_> {
    fn default() -> Self {
        Self {
            given: false,
            paired: None,
            stored: &[],
            confidence: 0.95,
            on_inconclusive: OnInconclusive::Error,
        }
    }
}

/// Evaluates the gates that apply to one device, in the order given.
///
/// `gates` pairs each gate with its index in the config; `baseline` says what relative gates
/// compare against (and absolute gates show beside their value); `device_error` explains
/// missing metrics.
pub fn evaluate_gates(
    gates: &[(usize, &Gate)],
    metrics: &BTreeMap<String, MetricValue>,
    baseline: &BaselineView<'_>,
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
                interval: None,
                inconclusive: false,
                estimate: None,
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
                    show_baseline(&mut r, baseline);
                    if r.status == GateStatus::Failed {
                        r.message.push_str(&evidence(&r, metrics, baseline));
                    }
                }
                (_, _, Some(max)) => {
                    relative(&mut r, gate, max, measured, metrics, baseline);
                }
                _ => {
                    r.message = format!(
                        "the gate on `{}` has neither `operator` + `threshold` nor `max_regression_pct`",
                        gate.metric.as_str()
                    );
                }
            }
            if r.actual.is_some()
                && let Some(formula) = metrics
                    .get(gate.metric.as_str())
                    .and_then(|m| m.estimate.clone())
            {
                r.message.push_str(&format!(" ({formula})"));
                r.estimate = Some(formula);
            }
            r
        })
        .collect()
}

/// The baseline's value of a metric on this device: the baseline model's (paired mode), else
/// the median of the stored runs.
fn baseline_value(metric: Metric, baseline: &BaselineView<'_>) -> Option<f64> {
    let name = metric.as_str();
    if let Some(p) = baseline.paired {
        return p.get(name).map(|m| m.value).filter(|v| v.is_finite());
    }
    let runs = stored_runs(name, baseline.stored);
    super::metrics::median(&runs)
}

/// Every independent run value of a metric in the stored baselines.
fn stored_runs(name: &str, stored: &[&DeviceResult]) -> Vec<f64> {
    stored
        .iter()
        .filter_map(|d| d.metrics.get(name))
        .flat_map(MetricValue::run_values)
        .filter(|v| v.is_finite())
        .collect()
}

/// What a failed absolute gate's value rests on: the runs behind it and their spread, and the
/// baseline's when one was given, e.g. `; 5 runs, run-to-run spread 3.1%; baseline 9.5 ms
/// (+12.6%) over 5 runs`.
fn evidence(
    r: &GateResult,
    metrics: &BTreeMap<String, MetricValue>,
    baseline: &BaselineView<'_>,
) -> String {
    let name = r.metric.as_str();
    let side = |runs: &[f64]| match runs.len() {
        0 | 1 => "1 run".to_string(),
        n => match spread_pct(runs) {
            Some(cv) => format!("{n} runs, run-to-run spread {}%", num(round2(cv))),
            None => format!("{n} runs"),
        },
    };
    let own = metrics
        .get(name)
        .map(MetricValue::run_values)
        .unwrap_or_default();
    if own.len() < 2 && r.baseline.is_none() {
        return String::new();
    }
    let mut out = format!("; {}", side(&own));
    if let Some(base) = r.baseline {
        let base_runs = match baseline.paired {
            Some(p) => p.get(name).map(MetricValue::run_values).unwrap_or_default(),
            None => stored_runs(name, baseline.stored),
        };
        let pct = r
            .delta_pct
            .map(|p| format!(" ({}%)", signed(round2(p))))
            .unwrap_or_default();
        out.push_str(&format!(
            "; baseline {}{pct} over {}",
            with_unit(r.metric, base),
            side(&base_runs)
        ));
    }
    out
}

/// The coefficient of variation of run values, in percent.
fn spread_pct(runs: &[f64]) -> Option<f64> {
    let n = runs.len() as f64;
    let mean = runs.iter().sum::<f64>() / n;
    if n < 2.0 || mean == 0.0 || !mean.is_finite() {
        return None;
    }
    let var = runs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some(var.sqrt() * 100.0 / mean.abs())
}

/// Absolute gates show the baseline beside the value when one was given.
fn show_baseline(r: &mut GateResult, baseline: &BaselineView<'_>) {
    let (Some(actual), Some(base)) = (r.actual, baseline_value(r.metric, baseline)) else {
        return;
    };
    r.baseline = Some(base);
    r.delta = Some(actual - base);
    if base != 0.0 {
        r.delta_pct = Some((actual - base) * 100.0 / base);
    }
}

/// The warning a relative gate deserves when its threshold is within about three times the noise
/// of the compared estimate, or when it rests on one run per side. A noisy estimate whose
/// interval still lay wholly on one side of the threshold decided the gate anyway: no warning.
pub fn noise_warning(device: &str, g: &GateResult) -> Option<String> {
    let i = g.interval.as_ref()?;
    let max = g.max_regression_pct?;
    let name = g.metric.as_str();
    if i.method == "point" {
        return Some(format!(
            "device `{device}`: the relative gate on `{name}` compares one run with one run, so it cannot tell a {}% regression from noise (run-to-run spread on a shared CI machine is about 5%); set `run_policy.runs` (3 or more) or use paired mode (`--baseline-model`)",
            num(max)
        ));
    }
    let spread = i.spread_pct?;
    let noise = match i.method.as_str() {
        "paired" => spread / (i.runs as f64).sqrt(),
        "unpaired" => spread * (1.0 / i.runs as f64 + 1.0 / i.baseline_runs.max(1) as f64).sqrt(),
        _ => return None,
    };
    let decisive = !g.inconclusive && (i.high_pct <= max || i.low_pct > max);
    (max < 3.0 * noise && !decisive).then(|| {
        format!(
            "device `{device}`: the relative gate on `{name}` allows {}% but the compared estimate is noisy: run-to-run spread {}% over {} run{} ({}% after averaging); a threshold below about 3× that ({}%) is often inconclusive; raise `run_policy.runs` or the threshold",
            num(max),
            num(round2(spread)),
            i.runs,
            if i.runs == 1 { "" } else { "s" },
            num(round2(noise)),
            num(round2(3.0 * noise))
        )
    })
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
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
        Metric::PrefillMs | Metric::DecodeMs => {
            "only AI Hub devices profiling the two graphs of `model.graphs` report it"
        }
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
    gate: &Gate,
    max: f64,
    measured: Result<f64, String>,
    metrics: &BTreeMap<String, MetricValue>,
    baseline: &BaselineView<'_>,
) {
    let metric = r.metric;
    let name = metric.as_str();
    let Some(better) = metric.better() else {
        r.message = format!(
            "`{name}` has no better direction, so it cannot have a relative gate; use `operator` and `threshold`"
        );
        return;
    };
    if !baseline.given {
        r.message = format!(
            "no baseline: the relative gate on `{name}` (max {}% regression) is not measured; pass `--baseline <earlier edgegate-results.json>` to compare (in CI: the default branch's results), or `--baseline-model <baseline model file>` to measure both models in this run",
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
    let base_runs: Vec<f64> = match baseline.paired {
        Some(p) => match p.get(name) {
            Some(m) if m.value.is_finite() => m.run_values(),
            Some(_) => {
                r.message = format!("the baseline model's `{name}` on this device is not a number");
                return;
            }
            None => {
                r.message = format!(
                    "the baseline model was not measured on this device, so `{name}` cannot be compared (see the device's error)"
                );
                return;
            }
        },
        None => {
            let Some(last) = baseline.stored.last() else {
                r.message = format!(
                    "the baseline results have no entry for this device, so `{name}` cannot be compared; use a baseline run that included it"
                );
                return;
            };
            let runs = stored_runs(name, baseline.stored);
            if runs.is_empty() {
                if last.metrics.get(name).is_some_and(|m| !m.value.is_finite()) {
                    r.message = format!("the baseline's `{name}` on this device is not a number");
                    return;
                }
                let why = match &last.error {
                    Some(e) => format!(" (the baseline run errored there: {e})"),
                    None => String::new(),
                };
                r.message = format!(
                    "the baseline results have no `{name}` for device `{}`{why}",
                    last.name
                );
                return;
            }
            runs
        }
    };
    let base = if baseline.paired.is_some() || baseline.stored.len() > 1 {
        super::metrics::median(&base_runs).unwrap_or(f64::NAN)
    } else {
        baseline
            .stored
            .last()
            .and_then(|d| d.metrics.get(name))
            .map_or(f64::NAN, |m| m.value)
    };
    r.baseline = Some(base);
    let delta = actual - base;
    r.delta = Some(delta);
    if base == 0.0 || base_runs.iter().any(|&v| v <= 0.0) {
        r.message = format!(
            "the baseline's `{name}` is 0, so a percentage change is undefined; use an absolute gate"
        );
        return;
    }
    let delta_pct = delta * 100.0 / base;
    r.delta_pct = Some(delta_pct);
    let head = format!(
        "`{name}` {} vs baseline {}: {} ({}%)",
        with_unit(metric, actual),
        with_unit(metric, base),
        signed_with_unit(metric, delta),
        signed(delta_pct)
    );
    let cand_runs = metrics
        .get(name)
        .map(MetricValue::run_values)
        .unwrap_or_default();
    if let (Some(h), None) = (&gate.history, baseline.paired)
        && history(r, h, max, better, actual, baseline.stored, &head)
    {
        return;
    }
    // One value per side, or values a logarithm cannot take: the point comparison.
    let usable = cand_runs.iter().all(|&v| v > 0.0 && v.is_finite()) && !cand_runs.is_empty();
    let (method, li) = if !usable {
        ("point", None)
    } else if baseline.paired.is_some() {
        let n = cand_runs.len().min(base_runs.len());
        let d: Vec<f64> = (0..n)
            .map(|i| cand_runs[i].ln() - base_runs[i].ln())
            .collect();
        let li = super::stats::paired(&d, baseline.confidence);
        (if n >= 2 { "paired" } else { "point" }, Some((li, n, n)))
    } else {
        let x: Vec<f64> = cand_runs.iter().map(|v| v.ln()).collect();
        let y: Vec<f64> = base_runs.iter().map(|v| v.ln()).collect();
        let li = super::stats::unpaired(&x, &y, baseline.confidence);
        let m = if x.len() + y.len() >= 3 {
            "unpaired"
        } else {
            "point"
        };
        (m, Some((li, x.len(), y.len())))
    };
    let to_reg = |d: f64| match better {
        Better::Lower => (d.exp() - 1.0) * 100.0,
        Better::Higher => (1.0 - d.exp()) * 100.0,
    };
    let (regression, lo, hi) = match (method, li) {
        ("point", _) | (_, None) => {
            let reg = match better {
                Better::Lower => delta_pct,
                Better::Higher => -delta_pct,
            };
            (reg, reg, reg)
        }
        (_, Some((li, _, _))) => {
            let (a, b) = (to_reg(li.low), to_reg(li.high));
            (to_reg(li.estimate), a.min(b), a.max(b))
        }
    };
    // With an interval, the change shown is the one the verdict rests on (the mean of the log
    // ratios, as a percentage), not the difference of two medians, which can even differ in
    // sign on a noisy machine.
    let head = if method == "point" {
        head
    } else {
        let change_pct = match better {
            Better::Lower => regression,
            Better::Higher => -regression,
        };
        r.delta_pct = Some(change_pct);
        r.delta = Some(base * change_pct / 100.0);
        format!(
            "`{name}` {} vs baseline {} (medians of runs): estimated change {} ({}%)",
            with_unit(metric, actual),
            with_unit(metric, base),
            signed_with_unit(metric, base * change_pct / 100.0),
            signed(round2(change_pct))
        )
    };
    let (runs, base_n) = li.map_or(
        (cand_runs.len().max(1), base_runs.len().max(1)),
        |(_, n, m)| (n, m),
    );
    r.interval = Some(RegressionInterval {
        estimate_pct: regression,
        low_pct: lo,
        high_pct: hi,
        confidence: baseline.confidence,
        method: method.to_string(),
        runs,
        baseline_runs: base_n,
        spread_pct: li
            .and_then(|(l, _, _)| l.spread)
            .filter(|_| method != "point")
            .map(|s| (s.exp() - 1.0) * 100.0),
    });
    if method == "point" {
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
        return;
    }
    let spread = r
        .interval
        .as_ref()
        .and_then(|i| i.spread_pct)
        .map(|s| format!(", run-to-run spread {}%", num(round2(s))))
        .unwrap_or_default();
    let evidence = match method {
        "paired" => format!("{runs} paired run{}", if runs == 1 { "" } else { "s" }),
        _ => format!(
            "{runs} run{} vs {base_n} baseline run{}",
            if runs == 1 { "" } else { "s" },
            if base_n == 1 { "" } else { "s" }
        ),
    };
    let ci = format!(
        "estimated regression {}% ({}% interval {}% to {}%; {evidence}{spread})",
        signed(round2(regression)),
        num(baseline.confidence * 100.0),
        signed(round2(lo)),
        signed(round2(hi)),
    );
    if lo > max + REGRESSION_SLACK_PCT {
        r.status = GateStatus::Failed;
        r.message = format!("{head}, {ci}: above the allowed {}%", num(max));
    } else if hi <= max + REGRESSION_SLACK_PCT {
        r.status = GateStatus::Passed;
        r.message = format!("{head}, {ci}: within the allowed {}%", num(max));
    } else {
        r.inconclusive = true;
        let then = match baseline.on_inconclusive {
            OnInconclusive::Error if method == "paired" => {
                r.status = GateStatus::Error;
                "not measured (run_policy.on_inconclusive: error); raise `run_policy.runs` or `max_extra_runs`, or the threshold"
            }
            OnInconclusive::Error => {
                r.status = GateStatus::Error;
                "not measured (run_policy.on_inconclusive: error); raise `run_policy.runs` or `max_extra_runs`, or use paired mode (`--baseline-model`)"
            }
            OnInconclusive::Fail => {
                r.status = GateStatus::Failed;
                "failed as run_policy.on_inconclusive: fail asks"
            }
            OnInconclusive::Pass => {
                r.status = GateStatus::Passed;
                "passed as run_policy.on_inconclusive: pass asks"
            }
        };
        r.message = format!(
            "{head}, {ci}: inconclusive, the interval contains the allowed {}%; {then}",
            num(max)
        );
    }
}

/// A Bencher-like statistical threshold over the stored history; returns false (and changes
/// nothing) when the history is too short, so the interval verdict decides.
fn history(
    r: &mut GateResult,
    h: &HistoryThreshold,
    max: f64,
    better: Better,
    actual: f64,
    stored: &[&DeviceResult],
    head: &str,
) -> bool {
    let name = r.metric.as_str();
    let mut values: Vec<f64> = stored
        .iter()
        .filter_map(|d| d.metrics.get(name))
        .map(|m| m.value)
        .filter(|v| v.is_finite())
        .collect();
    if values.len() < h.min_sample_size as usize {
        return false;
    }
    let keep = (h.max_sample_size as usize).max(2);
    if values.len() > keep {
        values.drain(..values.len() - keep);
    }
    let n = values.len();
    let median = super::metrics::median(&values).unwrap_or(f64::NAN);
    let mean = super::stats::mean(&values);
    let sd = super::stats::sd(&values).unwrap_or(0.0);
    let sign = match better {
        Better::Lower => 1.0,
        Better::Higher => -1.0,
    };
    let (center, width) = match h.method {
        HistoryMethod::Z => {
            let p = h.boundary.unwrap_or(0.99).clamp(0.5, 0.9999);
            (mean, super::stats::normal_quantile(p) * sd)
        }
        HistoryMethod::T => {
            let p = h.boundary.unwrap_or(0.99).clamp(0.5, 0.9999);
            let t = super::stats::t_quantile(p, (n - 1) as f64);
            (mean, t * sd * (1.0 + 1.0 / n as f64).sqrt())
        }
        HistoryMethod::Iqr => {
            let k = h.boundary.unwrap_or(3.0);
            let q1 = super::metrics::percentile(&values, 25.0).unwrap_or(median);
            let q3 = super::metrics::percentile(&values, 75.0).unwrap_or(median);
            (median, k * (q3 - q1))
        }
    };
    let boundary = center + sign * width;
    if median == 0.0 {
        return false;
    }
    let regression = sign * (actual - median) * 100.0 / median;
    let beyond = sign * (actual - boundary) > 0.0;
    let cv = if mean != 0.0 { sd / mean * 100.0 } else { 0.0 };
    r.interval = Some(RegressionInterval {
        estimate_pct: regression,
        low_pct: regression,
        high_pct: regression,
        confidence: h.boundary.unwrap_or(0.99),
        method: format!("history-{}", h.method.as_str()),
        runs: 1,
        baseline_runs: n,
        spread_pct: Some(cv),
    });
    let side = if sign > 0.0 { "upper" } else { "lower" };
    let stat = format!(
        "the {side} {} boundary of the last {n} stored results is {} (median {}, spread {}%)",
        h.method.as_str(),
        with_unit(r.metric, boundary),
        with_unit(r.metric, median),
        num(round2(cv))
    );
    if beyond && regression > max + REGRESSION_SLACK_PCT {
        r.status = GateStatus::Failed;
        r.message = format!(
            "{head}; {stat}: beyond it, and a {}% regression from the median, more than the allowed {}%",
            num(round2(regression)),
            num(max)
        );
    } else {
        r.status = GateStatus::Passed;
        r.message = if beyond {
            format!(
                "{head}; {stat}: beyond it, but only a {}% regression from the median (allowed {}%)",
                num(round2(regression)),
                num(max)
            )
        } else {
            format!("{head}; {stat}: within it (allowed {}%)", num(max))
        };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Provider;

    fn eval_old(
        gates: &[(usize, &Gate)],
        m: &BTreeMap<String, MetricValue>,
        b: Option<&DeviceResult>,
        given: bool,
        err: Option<&str>,
    ) -> Vec<GateResult> {
        let stored: Vec<&DeviceResult> = b.into_iter().collect();
        let view = BaselineView {
            given,
            stored: &stored,
            ..BaselineView::default()
        };
        evaluate_gates(gates, m, &view, err)
    }

    fn gate(metric: Metric, op: Operator, threshold: f64) -> Gate {
        Gate {
            metric,
            operator: Some(op),
            threshold: Some(threshold),
            max_regression_pct: None,
            devices: None,
            description: None,
            history: None,
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
            history: None,
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
                        runs: Vec::new(),
                        estimate: None,
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
            baseline_metrics: BTreeMap::new(),
        }
    }

    fn one(g: &Gate, m: &BTreeMap<String, MetricValue>) -> GateResult {
        eval_old(&[(3, g)], m, None, false, None).remove(0)
    }

    fn absolute_status(op: Operator, actual: f64, threshold: f64) -> GateStatus {
        let m = metrics(&[(Metric::InferenceTimeMs, actual)]);
        one(&gate(Metric::InferenceTimeMs, op, threshold), &m).status
    }

    fn relative_one(metric: Metric, max: f64, actual: f64, baseline: f64) -> GateResult {
        let m = metrics(&[(metric, actual)]);
        let b = device(&[(metric, baseline)]);
        eval_old(&[(0, &rel(metric, max))], &m, Some(&b), true, None).remove(0)
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
    fn a_failed_absolute_gate_names_its_runs_spread_and_baseline() {
        use crate::results::RunValue;
        let mut m = metrics(&[(Metric::InferenceTimeMs, 12.0)]);
        if let Some(v) = m.get_mut("inference_time_ms") {
            v.runs = [11.0, 12.0, 13.0]
                .into_iter()
                .map(|value| RunValue {
                    value,
                    samples: Vec::new(),
                })
                .collect();
        }
        let b = device(&[(Metric::InferenceTimeMs, 10.0)]);
        let r = eval_old(
            &[(0, &gate(Metric::InferenceTimeMs, Operator::Lte, 11.5))],
            &m,
            Some(&b),
            true,
            None,
        )
        .remove(0);
        assert_eq!(r.status, GateStatus::Failed);
        assert_eq!(
            r.message,
            "`inference_time_ms` 12 ms is not ≤ 11.5 ms (over by 0.5 ms); 3 runs, run-to-run spread 8.33%; baseline 10 ms (+20%) over 1 run"
        );
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
        let r = eval_old(
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
        let r = eval_old(&[(0, &g)], &m, None, true, None).remove(0);
        assert_eq!(r.status, GateStatus::Error);
        assert_eq!(
            r.message,
            "the baseline results have no entry for this device, so `inference_time_ms` cannot be compared; use a baseline run that included it"
        );
        let mut b = device(&[(Metric::PeakMemoryMb, 10.0)]);
        let r = eval_old(&[(0, &g)], &m, Some(&b), true, None).remove(0);
        assert_eq!(r.status, GateStatus::Error);
        assert_eq!(
            r.message,
            "the baseline results have no `inference_time_ms` for device `RB5`"
        );
        b.error = Some("timed out".into());
        let r = eval_old(&[(0, &g)], &m, Some(&b), true, None).remove(0);
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
        let r = eval_old(
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
            history: None,
        };
        let r = one(&g, &metrics(&[(Metric::Tps, 10.0)]));
        assert_eq!(r.status, GateStatus::Error);
    }

    #[test]
    fn gates_keep_their_order_and_config_index() {
        let m = metrics(&[(Metric::InferenceTimeMs, 10.0)]);
        let a = gate(Metric::InferenceTimeMs, Operator::Lte, 5.0);
        let b = gate(Metric::InferenceTimeMs, Operator::Lte, 50.0);
        let r = eval_old(&[(4, &a), (1, &b)], &m, None, false, None);
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
        let m = super::super::metrics::device_metrics(&[], None, &[errored.clone(), errored]);
        let g = gate(Metric::Accuracy, Operator::Gte, 0.9);
        let r = eval_old(
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

    fn runs(metric: Metric, values: &[f64]) -> BTreeMap<String, MetricValue> {
        let mut m = metrics(&[(metric, super::super::metrics::median(values).unwrap())]);
        if let Some(v) = m.get_mut(metric.as_str()) {
            v.runs = values
                .iter()
                .map(|&value| crate::results::RunValue {
                    value,
                    samples: Vec::new(),
                })
                .collect();
        }
        m
    }

    fn paired_one(cand: &[f64], base: &[f64], on: OnInconclusive) -> GateResult {
        let m = runs(Metric::InferenceTimeMs, cand);
        let b = runs(Metric::InferenceTimeMs, base);
        let view = BaselineView {
            given: true,
            paired: Some(&b),
            stored: &[],
            confidence: 0.95,
            on_inconclusive: on,
        };
        evaluate_gates(&[(0, &rel(Metric::InferenceTimeMs, 10.0))], &m, &view, None).remove(0)
    }

    #[test]
    fn paired_runs_decide_on_the_interval_of_their_ratios() {
        let base = [10.0, 10.2, 9.9, 10.1, 10.0];
        let r = paired_one(
            &[13.0, 13.1, 12.9, 13.2, 13.0],
            &base,
            OnInconclusive::Error,
        );
        assert_eq!(r.status, GateStatus::Failed, "{}", r.message);
        let i = r.interval.clone().unwrap();
        assert_eq!(
            (i.method.as_str(), i.runs, i.baseline_runs),
            ("paired", 5, 5)
        );
        assert!(i.low_pct > 10.0 && i.estimate_pct > 25.0, "{i:?}");
        assert!(
            r.message.contains("5 paired runs, run-to-run spread"),
            "{}",
            r.message
        );
        let r = paired_one(&[10.1, 10.0, 10.2, 9.9, 10.0], &base, OnInconclusive::Error);
        assert_eq!(r.status, GateStatus::Passed, "{}", r.message);
        assert!(!r.inconclusive);
    }

    #[test]
    fn an_inconclusive_interval_is_never_a_pass_unless_asked() {
        let base = [10.0, 10.0, 10.0];
        let cand = [10.2, 11.8, 11.0];
        for (on, want) in [
            (OnInconclusive::Error, GateStatus::Error),
            (OnInconclusive::Fail, GateStatus::Failed),
            (OnInconclusive::Pass, GateStatus::Passed),
        ] {
            let r = paired_one(&cand, &base, on);
            assert!(r.inconclusive, "{}", r.message);
            assert_eq!(r.status, want, "{}", r.message);
            assert!(r.message.contains("inconclusive"), "{}", r.message);
        }
    }

    #[test]
    fn absolute_gates_show_the_stored_baseline() {
        let m = metrics(&[(Metric::InferenceTimeMs, 12.0)]);
        let b = device(&[(Metric::InferenceTimeMs, 10.0)]);
        let stored = [&b];
        let view = BaselineView {
            given: true,
            stored: &stored,
            ..BaselineView::default()
        };
        let g = gate(Metric::InferenceTimeMs, Operator::Lte, 150.0);
        let r = evaluate_gates(&[(0, &g)], &m, &view, None).remove(0);
        assert_eq!(r.status, GateStatus::Passed);
        assert_eq!((r.baseline, r.delta), (Some(10.0), Some(2.0)));
        assert_eq!(r.delta_pct, Some(20.0));
        assert_eq!(r.message, "`inference_time_ms` 12 ms ≤ 150 ms");
    }

    #[test]
    fn a_history_threshold_fails_only_beyond_the_boundary_and_the_allowed_regression() {
        let hist: Vec<DeviceResult> = [10.0, 10.3, 9.8, 10.1, 9.9, 10.2]
            .iter()
            .map(|&v| device(&[(Metric::InferenceTimeMs, v)]))
            .collect();
        let stored: Vec<&DeviceResult> = hist.iter().collect();
        let mut g = rel(Metric::InferenceTimeMs, 10.0);
        g.history = Some(HistoryThreshold {
            method: HistoryMethod::T,
            min_sample_size: 5,
            max_sample_size: 30,
            boundary: None,
        });
        let view = BaselineView {
            given: true,
            stored: &stored,
            ..BaselineView::default()
        };
        let at = |v: f64| {
            evaluate_gates(
                &[(0, &g)],
                &metrics(&[(Metric::InferenceTimeMs, v)]),
                &view,
                None,
            )
            .remove(0)
        };
        let r = at(12.0);
        assert_eq!(r.status, GateStatus::Failed, "{}", r.message);
        assert_eq!(r.interval.as_ref().unwrap().method, "history-t");
        let r = at(10.9);
        assert_eq!(r.status, GateStatus::Passed, "{}", r.message);
        assert!(
            r.message.contains("only a"),
            "beyond the boundary but within 10%: {}",
            r.message
        );
        let r = at(10.05);
        assert_eq!(r.status, GateStatus::Passed, "{}", r.message);
        assert!(r.message.contains("within it"), "{}", r.message);
    }

    #[test]
    fn noise_warnings_name_the_device_and_the_numbers() {
        let r = relative_one(Metric::InferenceTimeMs, 10.0, 102.0, 100.0);
        let w = noise_warning("host", &r).unwrap();
        assert!(w.starts_with("device `host`: the relative gate on `inference_time_ms` compares one run with one run"), "{w}");
        let r = paired_one(
            &[10.0, 12.0, 9.0],
            &[10.0, 10.0, 10.0],
            OnInconclusive::Error,
        );
        let w = noise_warning("s24", &r).unwrap();
        assert!(w.contains("run-to-run spread"), "{w}");
        let r = paired_one(
            &[10.0, 10.01, 10.0],
            &[10.0, 10.0, 10.0],
            OnInconclusive::Error,
        );
        assert_eq!(noise_warning("s24", &r), None);
        let r = paired_one(
            &[20.0, 24.0, 18.0],
            &[10.0, 10.0, 10.0],
            OnInconclusive::Error,
        );
        assert_eq!(r.status, GateStatus::Failed, "{}", r.message);
        assert_eq!(
            noise_warning("s24", &r),
            None,
            "noisy, but its interval lies wholly above the threshold: the verdict stands"
        );
    }
}
