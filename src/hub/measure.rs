//! Typed measurements decoded from an AI Hub profile (`ProfileDetail`), in the units gates use:
//! times in milliseconds (the wire carries microseconds), memory in bytes.
//!
//! The field mapping is the official client's `execution_summary` for `major_version == 1`, with
//! the legacy 0.x fallback; nothing here does I/O.

use serde::Serialize;

use super::proto::{ComputeUnit, MemoryUsage, ProfileDetail, Range};

/// A memory interval in bytes, measured across repeated runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ByteRange {
    /// Smallest observed value.
    pub lower: u64,
    /// Largest observed value.
    pub upper: u64,
}

impl From<Range> for ByteRange {
    fn from(r: Range) -> Self {
        Self {
            lower: r.lower,
            upper: r.upper,
        }
    }
}

/// How many layers ran on each compute unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LayerPlacement {
    /// Layers on the NPU (HTP).
    pub npu: u32,
    /// Layers on the GPU.
    pub gpu: u32,
    /// Layers on the CPU.
    pub cpu: u32,
    /// Layers the server did not attribute to a unit.
    pub unspecified: u32,
}

impl LayerPlacement {
    /// All layers counted.
    pub fn total(&self) -> u32 {
        self.npu + self.gpu + self.cpu + self.unspecified
    }

    /// Share of layers on a unit in percent (0 when there are no layers), for the
    /// `*_compute_percent` metrics.
    pub fn percent(&self, unit: ComputeUnit) -> f64 {
        let total = self.total();
        if total == 0 {
            return 0.0;
        }
        let n = match unit {
            ComputeUnit::Npu => self.npu,
            ComputeUnit::Gpu => self.gpu,
            ComputeUnit::Cpu => self.cpu,
            ComputeUnit::Unspecified => self.unspecified,
        };
        f64::from(n) * 100.0 / f64::from(total)
    }

    /// The unit with the most layers (ties prefer NPU, then GPU), as qai-hub-models reports it.
    pub fn primary(&self) -> Option<ComputeUnit> {
        [
            (self.npu, ComputeUnit::Npu),
            (self.gpu, ComputeUnit::Gpu),
            (self.cpu, ComputeUnit::Cpu),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .fold(
            None,
            |best: Option<(u32, ComputeUnit)>, (n, u)| match best {
                Some((b, _)) if b >= n => best,
                _ => Some((n, u)),
            },
        )
        .map(|(_, u)| u)
    }
}

/// One profiled layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerMeasurement {
    /// Layer name.
    pub name: String,
    /// Operator type (`CONV_2D`).
    pub layer_type: String,
    /// `NPU`, `GPU`, `CPU` or `UNSPECIFIED`.
    pub compute_unit: &'static str,
    /// Time spent in the layer, when reported.
    pub execution_time_ms: Option<f64>,
}

/// The measurements of one profiling run, ready for gates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileMeasurements {
    /// Estimated inference time.
    pub inference_time_ms: f64,
    /// Every measured inference, when the profile carries them (minor version ≥ 2).
    pub all_inference_times_ms: Vec<f64>,
    /// Peak memory during inference.
    pub inference_peak_memory_bytes: Option<u64>,
    /// Range of inference peak memory across runs (minor version ≥ 1).
    pub inference_memory_peak_range: Option<ByteRange>,
    /// Range of inference memory increase across runs.
    pub inference_memory_increase_range: Option<ByteRange>,
    /// First (cold) load time.
    pub first_load_time_ms: Option<f64>,
    /// Every cold load, when present.
    pub all_first_load_times_ms: Vec<f64>,
    /// Peak memory after the cold load.
    pub first_load_peak_memory_bytes: Option<u64>,
    /// Range of cold-load peak memory.
    pub first_load_memory_peak_range: Option<ByteRange>,
    /// Warm load time.
    pub warm_load_time_ms: Option<f64>,
    /// Peak memory after the warm load.
    pub warm_load_peak_memory_bytes: Option<u64>,
    /// Range of warm-load peak memory.
    pub warm_load_memory_peak_range: Option<ByteRange>,
    /// On-device compile time.
    pub compile_time_ms: Option<f64>,
    /// Range of on-device compile peak memory.
    pub compile_memory_peak_range: Option<ByteRange>,
    /// Layers per compute unit.
    pub layer_placement: LayerPlacement,
    /// Per-layer details.
    pub layers: Vec<LayerMeasurement>,
    /// `major.minor` of the profile format.
    pub profile_version: String,
}

fn us_to_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn nonzero_ms(us: u64) -> Option<f64> {
    (us > 0).then(|| us_to_ms(us))
}

fn nonzero(v: u64) -> Option<u64> {
    (v > 0).then_some(v)
}

fn peak(m: &Option<MemoryUsage>) -> Option<ByteRange> {
    m.as_ref().and_then(|m| m.peak).map(ByteRange::from)
}

fn increase(m: &Option<MemoryUsage>) -> Option<ByteRange> {
    m.as_ref().and_then(|m| m.increase).map(ByteRange::from)
}

fn unit_name(unit: i32) -> (&'static str, ComputeUnit) {
    match ComputeUnit::try_from(unit).unwrap_or(ComputeUnit::Unspecified) {
        ComputeUnit::Npu => ("NPU", ComputeUnit::Npu),
        ComputeUnit::Gpu => ("GPU", ComputeUnit::Gpu),
        ComputeUnit::Cpu => ("CPU", ComputeUnit::Cpu),
        ComputeUnit::Unspecified => ("UNSPECIFIED", ComputeUnit::Unspecified),
    }
}

impl From<&ProfileDetail> for ProfileMeasurements {
    fn from(d: &ProfileDetail) -> Self {
        let mut placement = LayerPlacement::default();
        let layers = d
            .layer_details
            .iter()
            .map(|l| {
                let (name, unit) = unit_name(l.compute_unit);
                match unit {
                    ComputeUnit::Npu => placement.npu += 1,
                    ComputeUnit::Gpu => placement.gpu += 1,
                    ComputeUnit::Cpu => placement.cpu += 1,
                    ComputeUnit::Unspecified => placement.unspecified += 1,
                }
                LayerMeasurement {
                    name: l.name.clone(),
                    layer_type: l.layer_type_name.clone(),
                    compute_unit: name,
                    execution_time_ms: l.execution_time.map(us_to_ms),
                }
            })
            .collect();
        let ms = |v: &[u64]| v.iter().copied().map(us_to_ms).collect::<Vec<_>>();
        let base = Self {
            inference_time_ms: us_to_ms(d.execution_time),
            all_inference_times_ms: Vec::new(),
            inference_peak_memory_bytes: None,
            inference_memory_peak_range: None,
            inference_memory_increase_range: None,
            first_load_time_ms: None,
            all_first_load_times_ms: Vec::new(),
            first_load_peak_memory_bytes: None,
            first_load_memory_peak_range: None,
            warm_load_time_ms: None,
            warm_load_peak_memory_bytes: None,
            warm_load_memory_peak_range: None,
            compile_time_ms: None,
            compile_memory_peak_range: None,
            layer_placement: placement,
            layers,
            profile_version: format!("{}.{}", d.major_version, d.minor_version),
        };
        if d.major_version != 1 {
            return Self {
                first_load_time_ms: d.load_time.map(us_to_ms),
                ..base
            };
        }
        let ranges = d.minor_version >= 1;
        let lists = d.minor_version >= 2;
        Self {
            all_inference_times_ms: if lists {
                ms(&d.all_execution_times)
            } else {
                Vec::new()
            },
            inference_peak_memory_bytes: nonzero(d.after_execution_peak_memory),
            inference_memory_peak_range: ranges.then(|| peak(&d.execution_memory)).flatten(),
            inference_memory_increase_range: ranges
                .then(|| increase(&d.execution_memory))
                .flatten(),
            first_load_time_ms: nonzero_ms(d.cold_load_time),
            all_first_load_times_ms: if lists {
                ms(&d.all_cold_load_times)
            } else {
                Vec::new()
            },
            first_load_peak_memory_bytes: nonzero(d.after_cold_load_peak_memory),
            first_load_memory_peak_range: ranges.then(|| peak(&d.cold_load_memory)).flatten(),
            warm_load_time_ms: nonzero_ms(d.warm_load_time),
            warm_load_peak_memory_bytes: nonzero(d.after_warm_load_peak_memory),
            warm_load_memory_peak_range: ranges.then(|| peak(&d.warm_load_memory)).flatten(),
            compile_time_ms: nonzero_ms(d.compile_time),
            compile_memory_peak_range: ranges.then(|| peak(&d.compile_memory)).flatten(),
            ..base
        }
    }
}

impl ProfileMeasurements {
    /// Upper bound of inference peak memory in MiB, the figure `peak_memory_mb` gates compare.
    pub fn peak_memory_mb(&self) -> Option<f64> {
        self.inference_memory_peak_range
            .map(|r| r.upper)
            .or(self.inference_peak_memory_bytes)
            .map(|b| b as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::super::proto::LayerDetail;
    use super::*;

    fn layer(unit: ComputeUnit) -> LayerDetail {
        LayerDetail {
            name: "l".into(),
            compute_unit: unit as i32,
            layer_type_name: "CONV_2D".into(),
            execution_time: Some(1500),
            ..LayerDetail::default()
        }
    }

    #[test]
    fn decodes_the_reference_profile_of_the_official_client() {
        let d = ProfileDetail {
            execution_time: 3652,
            major_version: 1,
            minor_version: 8,
            after_execution_peak_memory: 166_711_296,
            cold_load_time: 120_000,
            warm_load_time: 80_500,
            execution_memory: Some(MemoryUsage {
                increase: None,
                peak: Some(Range {
                    lower: 2_654_208,
                    upper: 39_406_752,
                }),
            }),
            all_execution_times: vec![3600, 3652, 3700],
            layer_details: vec![
                layer(ComputeUnit::Npu),
                layer(ComputeUnit::Npu),
                layer(ComputeUnit::Npu),
                layer(ComputeUnit::Cpu),
            ],
            ..ProfileDetail::default()
        };
        let m = ProfileMeasurements::from(&d);
        assert_eq!(m.inference_time_ms, 3.652);
        assert_eq!(m.all_inference_times_ms, vec![3.6, 3.652, 3.7]);
        assert_eq!(m.inference_peak_memory_bytes, Some(166_711_296));
        assert_eq!(
            m.inference_memory_peak_range,
            Some(ByteRange {
                lower: 2_654_208,
                upper: 39_406_752
            })
        );
        assert_eq!(m.inference_memory_increase_range, None);
        assert_eq!(m.first_load_time_ms, Some(120.0));
        assert_eq!(m.warm_load_time_ms, Some(80.5));
        assert_eq!(m.compile_time_ms, None);
        assert_eq!(
            m.layer_placement,
            LayerPlacement {
                npu: 3,
                gpu: 0,
                cpu: 1,
                unspecified: 0
            }
        );
        assert_eq!(m.layer_placement.percent(ComputeUnit::Npu), 75.0);
        assert_eq!(m.layer_placement.primary(), Some(ComputeUnit::Npu));
        assert_eq!(m.layers[3].compute_unit, "CPU");
        assert_eq!(m.layers[0].execution_time_ms, Some(1.5));
        assert_eq!(m.profile_version, "1.8");
        let mb = m.peak_memory_mb().expect("peak memory present");
        assert!((mb - 37.581_207).abs() < 1e-5, "{mb}");
    }

    #[test]
    fn older_minor_versions_do_not_invent_ranges_or_lists() {
        let d = ProfileDetail {
            execution_time: 1000,
            major_version: 1,
            minor_version: 0,
            all_execution_times: vec![1, 2],
            execution_memory: Some(MemoryUsage {
                increase: None,
                peak: Some(Range { lower: 1, upper: 2 }),
            }),
            ..ProfileDetail::default()
        };
        let m = ProfileMeasurements::from(&d);
        assert!(m.all_inference_times_ms.is_empty());
        assert_eq!(m.inference_memory_peak_range, None);
        assert_eq!(m.layer_placement.total(), 0);
        assert_eq!(m.layer_placement.percent(ComputeUnit::Npu), 0.0);
        assert_eq!(m.layer_placement.primary(), None);
    }

    #[test]
    fn legacy_major_version_reads_load_time() {
        let d = ProfileDetail {
            execution_time: 2000,
            load_time: Some(5000),
            cold_load_time: 99,
            major_version: 0,
            ..ProfileDetail::default()
        };
        let m = ProfileMeasurements::from(&d);
        assert_eq!(m.inference_time_ms, 2.0);
        assert_eq!(m.first_load_time_ms, Some(5.0));
        assert_eq!(m.warm_load_time_ms, None);
    }

    #[test]
    fn placement_ties_prefer_the_npu() {
        let p = LayerPlacement {
            npu: 2,
            gpu: 2,
            cpu: 2,
            unspecified: 0,
        };
        assert_eq!(p.primary(), Some(ComputeUnit::Npu));
        let p = LayerPlacement {
            npu: 1,
            gpu: 0,
            cpu: 4,
            unspecified: 1,
        };
        assert_eq!(p.primary(), Some(ComputeUnit::Cpu));
        assert!((p.percent(ComputeUnit::Cpu) - 66.666_666).abs() < 1e-4);
    }
}
