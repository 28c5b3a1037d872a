//! A stand-in for `crate::eval` with the agreed signatures, used until the eval branch lands.

#![allow(dead_code)]

use std::collections::BTreeMap;

use crate::device::{Prepared, ProfileResult};
use crate::report::results::Summary;
use crate::report::{
    CaseResult, CaseStatus, DeviceResult, GateResult, GateStatus, MetricValue, Results, Verdict,
};

/// Expectations per case.
pub mod expect {
    use std::path::PathBuf;

    use super::*;
    use crate::config::{Case, Expected};
    use crate::device::CaseOutput;

    /// What checking needs besides the case.
    pub struct EvalContext {
        pub labels: Option<Vec<String>>,
        pub pack_dir: PathBuf,
    }

    /// Checks one case.
    pub fn check_case(case: &Case, output: Option<&CaseOutput>, ctx: &EvalContext) -> CaseResult {
        let mut r = CaseResult {
            case_id: case.case_id.clone(),
            name: case.name.clone().unwrap_or_else(|| case.case_id.clone()),
            expected_type: case.expected.type_name().to_string(),
            expected: String::new(),
            actual: String::new(),
            status: CaseStatus::Skipped,
            reason: None,
            latency_ms: output.and_then(|o| o.latency_ms),
        };
        let Some(out) = output else {
            r.status = CaseStatus::Error;
            r.reason = Some("no output".into());
            return r;
        };
        if let Expected::Label { label, .. } = &case.expected {
            r.expected = format!("label {label}");
            let Some((_, t)) = out.outputs.first() else {
                r.status = CaseStatus::Error;
                return r;
            };
            let v = t.to_f64_vec();
            let idx = v
                .iter()
                .enumerate()
                .fold((0, f64::MIN), |b, (i, &x)| if x > b.1 { (i, x) } else { b })
                .0;
            let name = ctx
                .labels
                .as_ref()
                .and_then(|l| l.get(idx).cloned())
                .unwrap_or_else(|| idx.to_string());
            r.actual = name.clone();
            r.status = if &name == label {
                CaseStatus::Passed
            } else {
                CaseStatus::Failed
            };
        }
        r
    }
}

/// Metric aggregation.
pub mod metrics {
    use super::*;

    fn pct(v: &[f64], q: f64) -> f64 {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        let i = ((s.len() as f64 - 1.0) * q).round() as usize;
        s.get(i).copied().unwrap_or(f64::NAN)
    }

    /// Metrics of one device.
    pub fn device_metrics(
        profile: Option<&ProfileResult>,
        prepared: Option<&Prepared>,
        cases: &[CaseResult],
    ) -> BTreeMap<String, MetricValue> {
        let mut m = BTreeMap::new();
        let mv = |value: f64, unit: &str| MetricValue {
            value,
            unit: unit.into(),
            p90: None,
            samples: vec![],
        };
        if let Some(p) = profile {
            if !p.inference_ms.is_empty() {
                m.insert(
                    "inference_time_ms".into(),
                    MetricValue {
                        value: pct(&p.inference_ms, 0.5),
                        unit: "ms".into(),
                        p90: Some(pct(&p.inference_ms, 0.9)),
                        samples: p.inference_ms.clone(),
                    },
                );
            }
            if let Some(b) = p.peak_memory_bytes {
                m.insert("peak_memory_mb".into(), mv(b as f64 / 1048576.0, "MiB"));
            }
            if let Some(l) = p.load_time_ms {
                m.insert("load_time_ms".into(), mv(l, "ms"));
            }
        }
        if let Some(b) = prepared.and_then(|p| p.model_size_bytes) {
            m.insert("model_size_mb".into(), mv(b as f64 / 1048576.0, "MiB"));
        }
        let checked: Vec<_> = cases
            .iter()
            .filter(|c| matches!(c.status, CaseStatus::Passed | CaseStatus::Failed))
            .collect();
        if !checked.is_empty() {
            let ok = checked
                .iter()
                .filter(|c| c.status == CaseStatus::Passed)
                .count();
            m.insert(
                "accuracy".into(),
                mv(ok as f64 / checked.len() as f64, "fraction"),
            );
        }
        m
    }
}

/// Gates.
pub mod gates {
    use super::*;
    use crate::config::types::Better;
    use crate::config::{Gate, Operator};

    /// Evaluates gates on one device.
    pub fn evaluate_gates(
        gates: &[(usize, &Gate)],
        metrics: &BTreeMap<String, MetricValue>,
        baseline: Option<&DeviceResult>,
        baseline_given: bool,
        device_error: Option<&str>,
    ) -> Vec<GateResult> {
        gates
            .iter()
            .map(|(i, g)| {
                let actual = metrics.get(g.metric.as_str()).map(|m| m.value);
                let mut r = GateResult {
                    index: *i,
                    metric: g.metric,
                    operator: g.operator,
                    threshold: g.threshold,
                    max_regression_pct: g.max_regression_pct,
                    description: g.description.clone(),
                    actual,
                    baseline: None,
                    delta: None,
                    delta_pct: None,
                    status: GateStatus::Error,
                    message: String::new(),
                };
                let Some(a) = actual.filter(|a| a.is_finite()) else {
                    r.message = format!(
                        "{} was not measured{}",
                        g.metric.as_str(),
                        device_error.map(|e| format!(": {e}")).unwrap_or_default()
                    );
                    return r;
                };
                if let (Some(op), Some(t)) = (g.operator, g.threshold) {
                    let ok = match op {
                        Operator::Lt => a < t,
                        Operator::Lte => a <= t,
                        Operator::Gt => a > t,
                        Operator::Gte => a >= t,
                        Operator::Eq => a == t,
                    };
                    r.status = if ok {
                        GateStatus::Passed
                    } else {
                        GateStatus::Failed
                    };
                    r.message = format!("{} {a} {} {t}", g.metric.as_str(), op.symbol());
                } else if let Some(pct) = g.max_regression_pct {
                    let b = baseline
                        .and_then(|b| b.metrics.get(g.metric.as_str()))
                        .map(|m| m.value);
                    let Some(b) = b else {
                        r.message = if baseline_given {
                            "the baseline has no value for this metric on this device".into()
                        } else {
                            "no baseline: pass --baseline <earlier edgegate-results.json>".into()
                        };
                        return r;
                    };
                    r.baseline = Some(b);
                    r.delta = Some(a - b);
                    let dp = (a - b) / b * 100.0;
                    r.delta_pct = Some(dp);
                    let worse = match g.metric.better() {
                        Some(Better::Higher) => -dp,
                        _ => dp,
                    };
                    r.status = if worse <= pct {
                        GateStatus::Passed
                    } else {
                        GateStatus::Failed
                    };
                    r.message = format!("{dp:+.1}% vs baseline (max {pct}%)");
                }
                r
            })
            .collect()
    }

    /// The verdict of one device.
    pub fn device_verdict(gates: &[GateResult], error: Option<&str>) -> Verdict {
        if gates.iter().any(|g| g.status == GateStatus::Failed) {
            Verdict::Failed
        } else if error.is_some() || gates.iter().any(|g| g.status == GateStatus::Error) {
            Verdict::Error
        } else {
            Verdict::Passed
        }
    }
}

/// Baselines.
pub mod baseline {
    use super::*;
    use std::path::Path;

    /// Reads a baseline results file.
    pub fn load(path: &Path) -> Result<Results, String> {
        let b = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_slice(&b)
            .map_err(|e| format!("{} is not a results file: {e}", path.display()))
    }

    /// One device of a baseline.
    pub fn device<'a>(baseline: &'a Results, name: &str) -> Option<&'a DeviceResult> {
        baseline.devices.iter().find(|d| d.name == name)
    }
}

/// Counts and the overall verdict.
pub fn summarize(devices: &[DeviceResult]) -> (Summary, Verdict) {
    let mut s = Summary {
        devices: devices.len(),
        ..Summary::default()
    };
    for d in devices {
        for g in &d.gates {
            match g.status {
                GateStatus::Passed => s.gates_passed += 1,
                GateStatus::Failed => s.gates_failed += 1,
                GateStatus::Error => s.gates_error += 1,
            }
        }
        for c in &d.cases {
            match c.status {
                CaseStatus::Passed => s.cases_passed += 1,
                CaseStatus::Failed => s.cases_failed += 1,
                CaseStatus::Error => s.cases_error += 1,
                CaseStatus::Skipped => {}
            }
        }
    }
    (s, Verdict::combine(devices.iter().map(|d| d.verdict)))
}

/// Case inputs (npy only).
pub mod inputs {
    use crate::config::Project;
    use crate::device::{CaseInputs, ModelArtifact};
    use crate::tensor::Tensor;

    /// Loads every case's tensors.
    pub fn load_case_inputs(
        project: &Project,
        _model: &ModelArtifact,
    ) -> Result<Vec<CaseInputs>, String> {
        let Some(pack) = &project.promptpack else {
            return Ok(vec![]);
        };
        pack.cases
            .iter()
            .map(|c| {
                let tensors = c
                    .inputs
                    .iter()
                    .map(|(name, i)| {
                        let rel = i.npy.as_deref().ok_or("only npy inputs")?;
                        let f = std::fs::File::open(project.pack_dir.join(rel))
                            .map_err(|e| format!("{rel}: {e}"))?;
                        let t = Tensor::read_npy(std::io::BufReader::new(f))
                            .map_err(|e| format!("{rel}: {e}"))?;
                        Ok((name.clone(), t))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                Ok(CaseInputs {
                    case_id: c.case_id.clone(),
                    prompt: c.prompt.clone(),
                    tensors,
                })
            })
            .collect()
    }
}
