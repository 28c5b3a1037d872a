//! The run's counts and overall verdict, from every device's result.

use crate::results::Summary;
use crate::results::{CaseStatus, DeviceResult, GateStatus, Verdict};

/// Counts gates and cases over all devices and combines the device verdicts; a run with no
/// device is an error, since nothing was measured.
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
    let verdict = if devices.is_empty() {
        Verdict::Error
    } else {
        Verdict::combine(devices.iter().map(|d| d.verdict))
    };
    (s, verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Metric, Provider};
    use crate::results::{CaseResult, GateResult};

    fn device(verdict: Verdict, gates: &[GateStatus], cases: &[CaseStatus]) -> DeviceResult {
        DeviceResult {
            name: "d".into(),
            provider: Provider::Aihub,
            hub_device: None,
            runtime: None,
            jobs: Vec::new(),
            metrics: Default::default(),
            layers: None,
            cases: cases
                .iter()
                .map(|&status| CaseResult {
                    case_id: "c".into(),
                    name: "c".into(),
                    expected_type: "exact".into(),
                    expected: String::new(),
                    actual: String::new(),
                    status,
                    reason: None,
                    latency_ms: None,
                })
                .collect(),
            gates: gates
                .iter()
                .map(|&status| GateResult {
                    index: 0,
                    metric: Metric::InferenceTimeMs,
                    operator: None,
                    threshold: None,
                    max_regression_pct: None,
                    description: None,
                    actual: None,
                    baseline: None,
                    delta: None,
                    delta_pct: None,
                    status,
                    message: String::new(),
                    interval: None,
                    inconclusive: false,
                    estimate: None,
                })
                .collect(),
            verdict,
            error: None,
            invalid_input: false,
            duration_s: 0.0,
            baseline_metrics: Default::default(),
        }
    }

    #[test]
    fn counts_every_gate_and_case_across_devices() {
        use CaseStatus as C;
        use GateStatus as G;
        let devices = [
            device(
                Verdict::Failed,
                &[G::Passed, G::Failed],
                &[C::Passed, C::Skipped],
            ),
            device(
                Verdict::Error,
                &[G::Error, G::Passed],
                &[C::Failed, C::Error, C::Passed],
            ),
        ];
        let (s, v) = summarize(&devices);
        assert_eq!(
            s,
            Summary {
                devices: 2,
                gates_passed: 2,
                gates_failed: 1,
                gates_error: 1,
                cases_passed: 2,
                cases_failed: 1,
                cases_error: 1,
            }
        );
        assert_eq!(v, Verdict::Failed);
    }

    #[test]
    fn verdict_combines_devices_and_no_device_is_an_error() {
        let pass = device(Verdict::Passed, &[], &[]);
        let err = device(Verdict::Error, &[], &[]);
        assert_eq!(summarize(std::slice::from_ref(&pass)).1, Verdict::Passed);
        assert_eq!(summarize(&[pass, err]).1, Verdict::Error);
        let (s, v) = summarize(&[]);
        assert_eq!(v, Verdict::Error);
        assert_eq!(s, Summary::default());
    }
}
