//! Turns what a device measured (profile, prepared model, case results) into the named metrics
//! gates compare. Keys are `Metric::as_str()` names; a metric that was not measured is absent,
//! never a made-up value, and no value is ever NaN (results.json could not carry it).

use std::collections::BTreeMap;

use crate::config::Metric;
use crate::device::{Prepared, ProfileResult};
use crate::report::{CaseResult, CaseStatus, MetricValue};

use super::format::unit;

const MIB: f64 = 1024.0 * 1024.0;

/// The metrics of one device, by name, for gates and results.json.
///
/// `inference_time_ms` is the median of every finite profile sample, with p90 and the samples;
/// sizes are bytes / 2^20; compute shares are each unit's share of all reported layers; `accuracy`
/// is passed / (passed + failed + error) over the cases that are not skipped.
pub fn device_metrics(
    profile: Option<&ProfileResult>,
    prepared: Option<&Prepared>,
    cases: &[CaseResult],
) -> BTreeMap<String, MetricValue> {
    let mut out = BTreeMap::new();
    let mut put = |metric: Metric, value: f64, p90: Option<f64>, samples: Vec<f64>| {
        if value.is_finite() {
            out.insert(
                metric.as_str().to_string(),
                MetricValue {
                    value,
                    unit: unit(metric).to_string(),
                    p90: p90.filter(|p| p.is_finite()),
                    samples,
                },
            );
        }
    };
    if let Some(p) = profile {
        let samples: Vec<f64> = p
            .inference_ms
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        if let Some(m) = median(&samples) {
            put(
                Metric::InferenceTimeMs,
                m,
                percentile(&samples, 90.0),
                samples,
            );
        }
        if let Some(ms) = p.load_time_ms {
            put(Metric::LoadTimeMs, ms, None, Vec::new());
        }
        if let Some(b) = p.peak_memory_bytes {
            put(Metric::PeakMemoryMb, b as f64 / MIB, None, Vec::new());
        }
        if let Some(l) = p.layers {
            let total = f64::from(l.npu) + f64::from(l.gpu) + f64::from(l.cpu);
            if total > 0.0 {
                let pct = |n: u32| f64::from(n) / total * 100.0;
                put(Metric::NpuComputePercent, pct(l.npu), None, Vec::new());
                put(Metric::GpuComputePercent, pct(l.gpu), None, Vec::new());
                put(Metric::CpuComputePercent, pct(l.cpu), None, Vec::new());
            }
        }
    }
    let size = profile
        .and_then(|p| p.model_size_bytes)
        .or_else(|| prepared.and_then(|p| p.model_size_bytes));
    if let Some(b) = size {
        put(Metric::ModelSizeMb, b as f64 / MIB, None, Vec::new());
    }
    let count = |s: CaseStatus| cases.iter().filter(|c| c.status == s).count();
    let passed = count(CaseStatus::Passed);
    let checked = passed + count(CaseStatus::Failed) + count(CaseStatus::Error);
    if checked > 0 {
        put(
            Metric::Accuracy,
            passed as f64 / checked as f64,
            None,
            Vec::new(),
        );
    }
    out
}

/// The median, averaging the two middle values of an even count; NaN values are ignored.
pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 50.0)
}

/// The `p`-th percentile (0 to 100) by linear interpolation between the closest ranks, as numpy's
/// default: rank `p/100 · (n - 1)` of the sorted values. NaN values are ignored; `None` when no
/// value is left or `p` is outside 0..=100.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if !(0.0..=100.0).contains(&p) {
        return None;
    }
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = p / 100.0 * (v.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let (a, b) = (v[lo], v[hi.min(v.len() - 1)]);
    if lo == hi || a == b {
        return Some(a);
    }
    Some(a + (b - a) * (rank - lo as f64))
}
