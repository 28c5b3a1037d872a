//! Turns what a device measured (profile, prepared model, case results) into the named metrics
//! gates compare. Keys are `Metric::as_str()` names; a metric that was not measured is absent,
//! never a made-up value, and no value is ever NaN (results.json could not carry it).

use std::collections::BTreeMap;

use crate::config::Metric;
use crate::device::{Prepared, ProfileResult};
use crate::results::{CaseResult, CaseStatus, MetricValue, RunValue};

use super::format::{num, unit};

const MIB: f64 = 1024.0 * 1024.0;

/// The metrics of one device, by name, for gates and results.json.
///
/// `inference_time_ms` is the median of every finite profile sample, with p90 and the samples;
/// sizes are bytes / 2^20; compute shares are each unit's share of all reported layers; `accuracy`
/// is passed / (passed + failed + error) over the cases that are not skipped, and absent when no
/// case could be checked (all skipped or all errored: a device that produced no outputs has not
/// measured its accuracy, so an accuracy gate is an error there, not a failure).
pub fn device_metrics(
    profiles: &[ProfileResult],
    prepared: Option<&Prepared>,
    cases: &[CaseResult],
) -> BTreeMap<String, MetricValue> {
    let mut out = BTreeMap::new();
    let mut put =
        |metric: Metric, value: f64, p90: Option<f64>, samples: Vec<f64>, runs: Vec<RunValue>| {
            if value.is_finite() {
                out.insert(
                    metric.as_str().to_string(),
                    MetricValue {
                        value,
                        unit: unit(metric).to_string(),
                        p90: p90.filter(|p| p.is_finite()),
                        samples,
                        runs,
                        estimate: None,
                    },
                );
            }
        };
    let many = profiles.len() > 1;
    // One value per run, and the value gates compare: the median of the run values.
    let per_run = |values: Vec<Option<f64>>| -> (Option<f64>, Vec<RunValue>) {
        let v: Vec<f64> = values
            .into_iter()
            .flatten()
            .filter(|x| x.is_finite())
            .collect();
        let runs = if many {
            v.iter()
                .map(|&value| RunValue {
                    value,
                    samples: Vec::new(),
                })
                .collect()
        } else {
            Vec::new()
        };
        (median(&v), runs)
    };
    let run_samples: Vec<Vec<f64>> = profiles
        .iter()
        .map(|p| {
            p.inference_ms
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .collect()
        })
        .collect();
    let all: Vec<f64> = run_samples.iter().flatten().copied().collect();
    let run_medians: Vec<(f64, &Vec<f64>)> = run_samples
        .iter()
        .filter_map(|s| median(s).map(|m| (m, s)))
        .collect();
    if let Some(m) = median(&run_medians.iter().map(|(m, _)| *m).collect::<Vec<_>>()) {
        let runs = if many {
            run_medians
                .iter()
                .map(|(value, s)| RunValue {
                    value: *value,
                    samples: (*s).clone(),
                })
                .collect()
        } else {
            Vec::new()
        };
        put(
            Metric::InferenceTimeMs,
            m,
            percentile(&all, 90.0),
            all,
            runs,
        );
    }
    let (load, runs) = per_run(profiles.iter().map(|p| p.load_time_ms).collect());
    if let Some(ms) = load {
        put(Metric::LoadTimeMs, ms, None, Vec::new(), runs);
    }
    let (peak, runs) = per_run(
        profiles
            .iter()
            .map(|p| p.peak_memory_bytes.map(|b| b as f64 / MIB))
            .collect(),
    );
    if let Some(mb) = peak {
        put(Metric::PeakMemoryMb, mb, None, Vec::new(), runs);
    }
    if let Some(l) = profiles.iter().find_map(|p| p.layers) {
        let total = f64::from(l.npu) + f64::from(l.gpu) + f64::from(l.cpu);
        if total > 0.0 {
            let pct = |n: u32| f64::from(n) / total * 100.0;
            put(
                Metric::NpuComputePercent,
                pct(l.npu),
                None,
                Vec::new(),
                Vec::new(),
            );
            put(
                Metric::GpuComputePercent,
                pct(l.gpu),
                None,
                Vec::new(),
                Vec::new(),
            );
            put(
                Metric::CpuComputePercent,
                pct(l.cpu),
                None,
                Vec::new(),
                Vec::new(),
            );
        }
    }
    // A generative model's figures: each run's median, and the median of those.
    for metric in [Metric::TtftMs, Metric::Tps] {
        let per: Vec<Vec<f64>> = profiles
            .iter()
            .filter_map(|p| p.generation.as_ref())
            .map(|g| {
                if metric == Metric::TtftMs {
                    g.ttft_ms.clone()
                } else {
                    g.tps.clone()
                }
            })
            .collect();
        if let Some(v) = series(per, many) {
            put(metric, v.value, v.p90, v.samples, v.runs);
        }
    }
    let size = profiles
        .iter()
        .find_map(|p| p.model_size_bytes)
        .or_else(|| prepared.and_then(|p| p.model_size_bytes));
    if let Some(b) = size {
        put(
            Metric::ModelSizeMb,
            b as f64 / MIB,
            None,
            Vec::new(),
            Vec::new(),
        );
    }
    let count = |s: CaseStatus| cases.iter().filter(|c| c.status == s).count();
    let passed = count(CaseStatus::Passed);
    let failed = count(CaseStatus::Failed);
    let checked = passed + failed + count(CaseStatus::Error);
    if passed + failed > 0 {
        put(
            Metric::Accuracy,
            passed as f64 / checked as f64,
            None,
            Vec::new(),
            Vec::new(),
        );
    }
    if let Some(g) = profiles.iter().find_map(|p| p.generation.as_ref()) {
        prefill_rate(&mut out, g);
    }
    graph_metrics(&mut out, profiles);
    out
}

/// A generative model's two graphs on AI Hub: `prefill_ms` and `decode_ms` as measured (each
/// run's median, the median of those), and `ttft_ms` and `tps` derived from them, marked as
/// estimates with their formula: TTFT ≈ ⌈prompt tokens / N⌉ × prefill_ms (the median over the
/// cases' prompts of the prefill passes they need), tokens/s ≈ 1000 / decode_ms.
fn graph_metrics(out: &mut BTreeMap<String, MetricValue>, profiles: &[ProfileResult]) {
    let graphs: Vec<&crate::device::GraphTimes> =
        profiles.iter().filter_map(|p| p.graphs.as_ref()).collect();
    let Some(first) = graphs.first() else {
        return;
    };
    let many = graphs.len() > 1;
    let series = |pick: &dyn Fn(&crate::device::GraphTimes) -> Vec<f64>,
                  f: &dyn Fn(f64) -> f64|
     -> Option<MetricValue> {
        series(
            graphs
                .iter()
                .map(|g| pick(g).into_iter().map(f).collect())
                .collect(),
            many,
        )
    };
    let mut put = |metric: Metric, v: Option<MetricValue>, estimate: Option<String>| {
        if let Some(mut v) = v {
            v.unit = unit(metric).to_string();
            v.estimate = estimate;
            out.insert(metric.as_str().to_string(), v);
        }
    };
    let prefill = series(&|g| g.prefill_ms.clone(), &|x| x);
    let decode = series(&|g| g.decode_ms.clone(), &|x| x);
    let n = first.prefill_tokens.max(1);
    let passes: Vec<f64> = first
        .prompt_tokens
        .iter()
        .map(|&t| t.div_ceil(n).max(1) as f64)
        .collect();
    if let (Some(p), Some(chunks)) = (&prefill, median(&passes)) {
        let (lo, hi) = (
            first.prompt_tokens.iter().min().copied().unwrap_or(0),
            first.prompt_tokens.iter().max().copied().unwrap_or(0),
        );
        let formula = format!(
            "estimate, not measured: ⌈prompt tokens / {n}⌉ × prefill_ms = {} × {} ms (median over {} prompts of {lo}–{hi} tokens); the runtime's own overhead, tokenization and sampling are not included",
            num(chunks),
            num(p.value),
            passes.len()
        );
        put(
            Metric::TtftMs,
            series(&|g| g.prefill_ms.clone(), &|x| x * chunks),
            Some(formula),
        );
    }
    if let Some(d) = &decode
        && d.value > 0.0
    {
        let formula = format!(
            "estimate, not measured: 1000 / decode_ms = 1000 / {} ms (one decoding step with a full KV cache); the runtime's own overhead and sampling are not included",
            num(d.value)
        );
        put(
            Metric::Tps,
            series(&|g| g.decode_ms.clone(), &|x| {
                if x > 0.0 { 1e3 / x } else { f64::NAN }
            }),
            Some(formula),
        );
    }
    put(Metric::PrefillMs, prefill, None);
    put(Metric::DecodeMs, decode, None);
}

/// Name of the prompt-processing rate in a device's metrics (reported, not a gate metric).
pub const PREFILL_TPS: &str = "prefill_tps";

/// Adds `prefill_tps`, a generative model's prompt-processing rate (prompt tokens / time to
/// first token, median over generations), which no gate takes.
fn prefill_rate(out: &mut BTreeMap<String, MetricValue>, g: &crate::generate::GenerationTimes) {
    let samples: Vec<f64> = g
        .prefill_tps
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if let Some(m) = median(&samples) {
        out.insert(
            PREFILL_TPS.to_string(),
            MetricValue {
                value: m,
                unit: "tokens/s".into(),
                p90: percentile(&samples, 90.0).filter(|p| p.is_finite()),
                samples,
                runs: Vec::new(),
                estimate: None,
            },
        );
    }
}

/// One metric over runs, from each run's samples (non-finite ones dropped): the median of the
/// run medians, p90 and every sample, and each run's median and samples when there are several
/// runs. `None` when no run has a finite sample. The unit is left empty for the caller.
fn series(per_run: Vec<Vec<f64>>, many: bool) -> Option<MetricValue> {
    let per: Vec<Vec<f64>> = per_run
        .into_iter()
        .map(|s| s.into_iter().filter(|x| x.is_finite()).collect())
        .collect();
    let medians: Vec<f64> = per.iter().filter_map(|s| median(s)).collect();
    let value = median(&medians)?;
    let all: Vec<f64> = per.iter().flatten().copied().collect();
    let runs = if many {
        per.iter()
            .filter_map(|s| {
                median(s).map(|value| RunValue {
                    value,
                    samples: s.clone(),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    Some(MetricValue {
        value,
        unit: String::new(),
        p90: percentile(&all, 90.0).filter(|p| p.is_finite()),
        samples: all,
        runs,
        estimate: None,
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::LayerCounts;

    fn case(status: CaseStatus) -> CaseResult {
        CaseResult {
            case_id: "c".into(),
            name: "c".into(),
            expected_type: "exact".into(),
            expected: String::new(),
            actual: String::new(),
            status,
            reason: None,
            latency_ms: None,
        }
    }

    fn value(m: &BTreeMap<String, MetricValue>, metric: Metric) -> Option<f64> {
        m.get(metric.as_str()).map(|v| v.value)
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 1.0, 3.0]), Some(2.0));
        assert_eq!(median(&[f64::NAN]), None);
    }

    #[test]
    fn percentile_interpolates_linearly_between_ranks() {
        let v = [40.0, 10.0, 30.0, 20.0];
        assert_eq!(percentile(&v, 0.0), Some(10.0));
        assert_eq!(percentile(&v, 100.0), Some(40.0));
        let p90 = percentile(&v, 90.0).unwrap();
        assert!((p90 - 37.0).abs() < 1e-9, "{p90}");
        let p25 = percentile(&v, 25.0).unwrap();
        assert!((p25 - 17.5).abs() < 1e-9, "{p25}");
        assert_eq!(percentile(&v, 101.0), None);
        assert_eq!(percentile(&v, -1.0), None);
        assert_eq!(percentile(&[], 50.0), None);
    }

    proptest::proptest! {
        #[test]
        fn percentile_stays_within_the_data_and_grows_with_p(
            v in proptest::collection::vec(-1e6f64..1e6, 1..50),
            p in 0.0f64..=100.0,
            q in 0.0f64..=100.0,
        ) {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let a = percentile(&v, p.min(q)).unwrap();
            let b = percentile(&v, p.max(q)).unwrap();
            proptest::prop_assert!(lo <= a && a <= b && b <= hi, "{a} {b} in [{lo}, {hi}]");
        }
    }

    #[test]
    fn profile_becomes_named_metrics_with_units() {
        let profile = ProfileResult {
            inference_ms: vec![10.0, 30.0, 20.0, 40.0],
            load_time_ms: Some(120.5),
            peak_memory_bytes: Some(300 * 1024 * 1024),
            layers: Some(LayerCounts {
                npu: 6,
                gpu: 2,
                cpu: 2,
            }),
            model_size_bytes: Some(5 * 1024 * 1024 / 2),
            jobs: Vec::new(),
            generation: None,
            graphs: None,
        };
        let prepared = Prepared {
            target_id: "t".into(),
            jobs: Vec::new(),
            model_size_bytes: Some(1024 * 1024),
        };
        let m = device_metrics(std::slice::from_ref(&profile), Some(&prepared), &[]);
        let t = &m["inference_time_ms"];
        assert_eq!(t.value, 25.0);
        assert_eq!(t.unit, "ms");
        assert!((t.p90.unwrap() - 37.0).abs() < 1e-9);
        assert_eq!(t.samples, vec![10.0, 30.0, 20.0, 40.0]);
        assert_eq!(value(&m, Metric::PeakMemoryMb), Some(300.0));
        assert_eq!(m["peak_memory_mb"].unit, "MiB");
        assert_eq!(value(&m, Metric::LoadTimeMs), Some(120.5));
        assert_eq!(value(&m, Metric::ModelSizeMb), Some(2.5));
        assert_eq!(value(&m, Metric::NpuComputePercent), Some(60.0));
        assert_eq!(value(&m, Metric::GpuComputePercent), Some(20.0));
        assert_eq!(value(&m, Metric::CpuComputePercent), Some(20.0));
        assert_eq!(m["npu_compute_percent"].unit, "%");
        assert_eq!(value(&m, Metric::Accuracy), None);
        assert_eq!(value(&m, Metric::TtftMs), None);
        assert_eq!(m.len(), 7);
    }

    #[test]
    fn model_size_falls_back_to_the_prepared_model() {
        let prepared = Prepared {
            target_id: "t".into(),
            jobs: Vec::new(),
            model_size_bytes: Some(3 * 1024 * 1024),
        };
        let m = device_metrics(&[], Some(&prepared), &[]);
        assert_eq!(value(&m, Metric::ModelSizeMb), Some(3.0));
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn compute_shares_only_when_layers_are_reported() {
        let mut profile = ProfileResult {
            inference_ms: vec![5.0],
            ..ProfileResult::default()
        };
        let m = device_metrics(std::slice::from_ref(&profile), None, &[]);
        assert_eq!(value(&m, Metric::NpuComputePercent), None);
        assert_eq!(m["inference_time_ms"].p90, Some(5.0));
        profile.layers = Some(LayerCounts::default());
        let m = device_metrics(std::slice::from_ref(&profile), None, &[]);
        assert_eq!(value(&m, Metric::CpuComputePercent), None);
    }

    #[test]
    fn non_finite_samples_are_dropped_and_never_become_a_value() {
        let profile = ProfileResult {
            inference_ms: vec![f64::NAN, 10.0, f64::INFINITY, 20.0],
            load_time_ms: Some(f64::NAN),
            ..ProfileResult::default()
        };
        let m = device_metrics(std::slice::from_ref(&profile), None, &[]);
        assert_eq!(m["inference_time_ms"].value, 15.0);
        assert_eq!(m["inference_time_ms"].samples, vec![10.0, 20.0]);
        assert_eq!(value(&m, Metric::LoadTimeMs), None);
        let only_nan = ProfileResult {
            inference_ms: vec![f64::NAN],
            ..ProfileResult::default()
        };
        assert!(device_metrics(std::slice::from_ref(&only_nan), None, &[]).is_empty());
    }

    #[test]
    fn accuracy_counts_errors_as_misses_and_ignores_skipped() {
        let cases = [
            case(CaseStatus::Passed),
            case(CaseStatus::Passed),
            case(CaseStatus::Failed),
            case(CaseStatus::Error),
            case(CaseStatus::Skipped),
        ];
        let m = device_metrics(&[], None, &cases);
        assert_eq!(value(&m, Metric::Accuracy), Some(0.5));
        assert_eq!(m["accuracy"].unit, "fraction");
        let m = device_metrics(&[], None, &[case(CaseStatus::Skipped)]);
        assert_eq!(value(&m, Metric::Accuracy), None);
        let m = device_metrics(
            &[],
            None,
            &[case(CaseStatus::Error), case(CaseStatus::Error)],
        );
        assert_eq!(value(&m, Metric::Accuracy), None);
        let m = device_metrics(
            &[],
            None,
            &[case(CaseStatus::Error), case(CaseStatus::Failed)],
        );
        assert_eq!(value(&m, Metric::Accuracy), Some(0.0));
        let m = device_metrics(&[], None, &[case(CaseStatus::Passed)]);
        assert_eq!(value(&m, Metric::Accuracy), Some(1.0));
    }

    #[test]
    fn two_graphs_give_measured_times_and_labelled_estimates() {
        let profile = ProfileResult {
            graphs: Some(crate::device::GraphTimes {
                prefill_ms: vec![10.0, 12.0, 11.0],
                decode_ms: vec![4.0, 5.0, 5.0],
                prefill_tokens: 32,
                prompt_tokens: vec![6, 40, 70],
            }),
            ..ProfileResult::default()
        };
        let m = device_metrics(std::slice::from_ref(&profile), None, &[]);
        assert_eq!(value(&m, Metric::PrefillMs), Some(11.0));
        assert_eq!(value(&m, Metric::DecodeMs), Some(5.0));
        assert!(m["prefill_ms"].estimate.is_none() && m["decode_ms"].estimate.is_none());
        // The median prompt (40 tokens) needs two passes of 32 tokens.
        assert_eq!(value(&m, Metric::TtftMs), Some(22.0));
        assert_eq!(m["ttft_ms"].samples, vec![20.0, 24.0, 22.0]);
        assert!(
            m["ttft_ms"]
                .estimate
                .as_deref()
                .is_some_and(|f| f.contains("⌈prompt tokens / 32⌉ × prefill_ms = 2 × 11 ms"))
        );
        assert_eq!(value(&m, Metric::Tps), Some(200.0));
        assert!(
            m["tps"]
                .estimate
                .as_deref()
                .is_some_and(|f| f.contains("1000 / decode_ms = 1000 / 5 ms"))
        );
        assert_eq!(value(&m, Metric::InferenceTimeMs), None);
    }
}
