//! Deterministic measurements of the simulator, so tests can predict every number a profile shows.
//!
//! The key is the sha256 of the *source* model bytes (for a compiled model, the model it was
//! compiled from) and the exact device name. With `h = sha256("<sha256 hex>\n<device name>")`:
//!
//! | measurement | default rule | scenario override |
//! |---|---|---|
//! | inference time | `1000 + u32(h[0..4]) % 9000` µs (1–10 ms) | `latency_ms` |
//! | peak memory | `16 MiB + u32(h[4..8]) % 112 MiB` bytes | `peak_memory_mb` |
//! | cold load | `20 × inference time` | `load_time_ms` |
//! | warm load | `cold load / 4` | – |
//! | compile time | `50 × inference time` | – |
//! | layers | `8 + h[8] % 25` layers: NPU on devices with `framework:qnn`, else CPU | `compute_units` |
//!
//! `all_execution_times` holds `iterations` values (100, or `--max_profiler_iterations N` up to
//! 1000), each `time × (1 + (h_i % 101 − 50) / 1000)` with `h_i = sha256(h ‖ i)`: within ±5 %.

use sha2::{Digest, Sha256};

use super::scenario::{ComputeSplit, DeviceProfile};

/// Everything a simulated profile reports, in the protocol's units (µs, bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    /// Inference time in µs (`ProfileDetail.execution_time`).
    pub inference_us: u64,
    /// Peak memory during inference in bytes.
    pub peak_memory_bytes: u64,
    /// First (cold) load time in µs.
    pub cold_load_us: u64,
    /// Warm load time in µs.
    pub warm_load_us: u64,
    /// On-device compile time in µs.
    pub compile_us: u64,
    /// Layer counts per compute unit.
    pub layers: ComputeSplit,
}

/// The measurement of a model (by source sha256 hex) on a device, per the table above.
pub fn measure(
    source_sha256: &str,
    device: &str,
    device_has_npu: bool,
    profile: &DeviceProfile,
) -> Measurement {
    let h = key(source_sha256, device);
    let word = |i: usize| u64::from(u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]));
    let inference_us = match profile.latency_ms {
        Some(ms) => (ms * 1000.0).round() as u64,
        None => 1000 + word(0) % 9000,
    };
    let peak_memory_bytes = match profile.peak_memory_mb {
        Some(mb) => (mb * 1024.0 * 1024.0).round() as u64,
        None => 16 * 1024 * 1024 + word(4) % (112 * 1024 * 1024),
    };
    let cold_load_us = match profile.load_time_ms {
        Some(ms) => (ms * 1000.0).round() as u64,
        None => inference_us * 20,
    };
    let layers = profile.compute_units.unwrap_or_else(|| {
        let n = 8 + u32::from(h[8]) % 25;
        if device_has_npu {
            ComputeSplit {
                npu: n,
                gpu: 0,
                cpu: 0,
            }
        } else {
            ComputeSplit {
                npu: 0,
                gpu: 0,
                cpu: n,
            }
        }
    });
    Measurement {
        inference_us,
        peak_memory_bytes,
        cold_load_us,
        warm_load_us: cold_load_us / 4,
        compile_us: inference_us * 50,
        layers,
    }
}

/// The per-iteration inference times of a profile (see the module docs).
pub fn iteration_times(source_sha256: &str, device: &str, inference_us: u64, n: usize) -> Vec<u64> {
    let h = key(source_sha256, device);
    (0..n)
        .map(|i| {
            let hi = Sha256::new()
                .chain_update(h)
                .chain_update((i as u64).to_le_bytes())
                .finalize();
            let r = u64::from(u16::from_le_bytes([hi[0], hi[1]])) % 101;
            let permille = 1000 + r - 50;
            inference_us * permille / 1000
        })
        .collect()
}

fn key(source_sha256: &str, device: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(source_sha256.as_bytes())
        .chain_update(b"\n")
        .chain_update(device.as_bytes())
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn same_inputs_same_numbers_and_devices_differ() {
        let p = DeviceProfile::default();
        let a = measure(SHA, "Samsung Galaxy S24", true, &p);
        assert_eq!(a, measure(SHA, "Samsung Galaxy S24", true, &p));
        assert!((1000..10_000).contains(&a.inference_us));
        assert_ne!(a, measure(SHA, "Samsung Galaxy S23", true, &p));
        assert_eq!(a.layers.cpu + a.layers.gpu, 0);
    }

    #[test]
    fn overrides_win_and_iterations_stay_within_five_percent() {
        let p = DeviceProfile {
            latency_ms: Some(4.2),
            peak_memory_mb: Some(55.0),
            ..DeviceProfile::default()
        };
        let m = measure(SHA, "X", false, &p);
        assert_eq!(m.inference_us, 4200);
        assert_eq!(m.peak_memory_bytes, 55 * 1024 * 1024);
        assert!(m.layers.cpu > 0 && m.layers.npu == 0);
        let t = iteration_times(SHA, "X", 4200, 100);
        assert_eq!(t.len(), 100);
        assert!(t.iter().all(|&v| (3990..=4410).contains(&v)));
    }
}
