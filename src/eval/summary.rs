//! The run's counts and overall verdict, from every device's result.

use crate::report::results::Summary;
use crate::report::{CaseStatus, DeviceResult, GateStatus, Verdict};

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
