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
//!
//! A scenario's `models:` multiplies a model's time and memory (a staged true regression), and its
//! `noise:` ([`apply_noise`]) turns each profile job into one run of a noisy device: a per-run
//! log-normal multiplier (`latency_cv`), optional slow mode (`bimodal_*`), a slow sinusoidal drift
//! over the device's profile jobs (`drift_pct`), per-iteration jitter (`sample_cv`), cold first
//! iterations (`cold_*`) and a per-run memory multiplier (`memory_cv`). Every draw comes from
//! `sha256(seed ‖ model ‖ device ‖ n)`, n = the profile jobs the device ran before, so the same
//! scenario and job order give the same numbers. Without `noise:` nothing changes.

use sha2::{Digest, Sha256};

use super::scenario::{ComputeSplit, DeviceProfile, ModelEffect, Noise};

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
    /// Per-iteration noise of this run, when the scenario has `noise:`.
    pub samples: Option<SampleNoise>,
}

/// What the per-iteration times of one noisy run need: integers, so a measurement stays `Eq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleNoise {
    /// Seed of this run's per-iteration draws.
    pub seed: u64,
    /// Per-iteration CV in parts per million.
    pub cv_ppm: u64,
    /// Cold first iterations.
    pub cold_iterations: u32,
    /// Their slowdown in parts per million (1 000 000 = none).
    pub cold_factor_ppm: u64,
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
        samples: None,
    }
}

/// A model's staged effect (scenario `models:`) applied to its measurement.
pub fn apply_effect(m: &mut Measurement, effect: &ModelEffect) {
    m.inference_us = scale(m.inference_us, effect.latency_factor);
    m.compile_us = m.inference_us * 50;
    m.peak_memory_bytes = scale(m.peak_memory_bytes, effect.memory_factor);
}

/// Turns a deterministic measurement into run number `run` (0-based, per device) of a noisy
/// device (see the module docs).
pub fn apply_noise(
    m: &mut Measurement,
    noise: &Noise,
    source_sha256: &str,
    device: &str,
    run: u64,
) {
    let seed: [u8; 32] = Sha256::new()
        .chain_update(noise.seed.to_le_bytes())
        .chain_update(source_sha256.as_bytes())
        .chain_update(b"\n")
        .chain_update(device.as_bytes())
        .chain_update(run.to_le_bytes())
        .finalize()
        .into();
    let mut draws = Draws::new(seed);
    let mut factor = lognormal(noise.latency_cv, draws.normal());
    let slow = draws.uniform() < noise.bimodal_probability;
    if slow {
        factor *= noise.bimodal_factor.unwrap_or(1.5);
    }
    if noise.drift_pct > 0.0 {
        let period = noise.drift_period_runs.unwrap_or(40.0);
        factor *=
            1.0 + noise.drift_pct / 100.0 * (std::f64::consts::TAU * run as f64 / period).sin();
    }
    m.inference_us = scale(m.inference_us, factor).max(1);
    m.cold_load_us = scale(m.cold_load_us, factor);
    m.warm_load_us = m.cold_load_us / 4;
    m.peak_memory_bytes = scale(
        m.peak_memory_bytes,
        lognormal(noise.memory_cv, draws.normal()),
    );
    m.samples = Some(SampleNoise {
        seed: u64::from_le_bytes([
            seed[8], seed[9], seed[10], seed[11], seed[12], seed[13], seed[14], seed[15],
        ]),
        cv_ppm: (noise.sample_cv * 1e6).round() as u64,
        cold_iterations: noise.cold_iterations,
        cold_factor_ppm: (noise.cold_factor.unwrap_or(1.0) * 1e6).round() as u64,
    });
}

/// The per-iteration times of one noisy run: the deterministic pattern of [`iteration_times`]
/// with log-normal jitter, and the cold first iterations slower.
pub fn noisy_iteration_times(
    source_sha256: &str,
    device: &str,
    inference_us: u64,
    n: usize,
    noise: &SampleNoise,
) -> Vec<u64> {
    let base = iteration_times(source_sha256, device, inference_us, n);
    let mut draws = Draws::new(
        Sha256::new()
            .chain_update(noise.seed.to_le_bytes())
            .finalize()
            .into(),
    );
    let cv = noise.cv_ppm as f64 / 1e6;
    base.into_iter()
        .enumerate()
        .map(|(i, t)| {
            let mut f = lognormal(cv, draws.normal());
            if i < noise.cold_iterations as usize {
                f *= noise.cold_factor_ppm as f64 / 1e6;
            }
            scale(t, f).max(1)
        })
        .collect()
}

fn scale(v: u64, f: f64) -> u64 {
    (v as f64 * f).round().max(0.0) as u64
}

/// exp(σ·z) with σ² = ln(1 + cv²): a log-normal multiplier of median 1 and the given CV.
fn lognormal(cv: f64, z: f64) -> f64 {
    if cv <= 0.0 {
        return 1.0;
    }
    let sigma = (1.0 + cv * cv).ln().sqrt();
    (sigma * z).exp()
}

/// A deterministic stream of uniform and normal draws from a 32-byte seed.
struct Draws {
    seed: [u8; 32],
    n: u64,
}

impl Draws {
    fn new(seed: [u8; 32]) -> Self {
        Self { seed, n: 0 }
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        self.n += 1;
        let h = Sha256::new()
            .chain_update(self.seed)
            .chain_update(self.n.to_le_bytes())
            .finalize();
        let x = u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]) >> 11;
        (x as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
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

    #[test]
    fn noise_is_seeded_and_has_about_the_requested_spread() {
        let p = DeviceProfile {
            latency_ms: Some(10.0),
            ..DeviceProfile::default()
        };
        let noise = Noise {
            seed: 3,
            latency_cv: 0.05,
            ..Noise::default()
        };
        let runs: Vec<f64> = (0..400)
            .map(|run| {
                let mut m = measure(SHA, "X", false, &p);
                apply_noise(&mut m, &noise, SHA, "X", run);
                m.inference_us as f64
            })
            .collect();
        let again = {
            let mut m = measure(SHA, "X", false, &p);
            apply_noise(&mut m, &noise, SHA, "X", 0);
            m.inference_us as f64
        };
        assert_eq!(runs[0], again);
        let mean = runs.iter().sum::<f64>() / runs.len() as f64;
        let sd =
            (runs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (runs.len() - 1) as f64).sqrt();
        let cv = sd / mean;
        assert!((0.04..0.06).contains(&cv), "cv {cv}");
        let mut m = measure(SHA, "X", false, &p);
        let quiet = m.clone();
        apply_noise(&mut m, &Noise::default(), SHA, "X", 5);
        assert_eq!(m.inference_us, quiet.inference_us);
    }

    #[test]
    fn cold_iterations_are_slower_and_jitter_is_seeded() {
        let noise = SampleNoise {
            seed: 9,
            cv_ppm: 10_000,
            cold_iterations: 2,
            cold_factor_ppm: 10_000_000,
        };
        let t = noisy_iteration_times(SHA, "X", 1000, 6, &noise);
        assert_eq!(t, noisy_iteration_times(SHA, "X", 1000, 6, &noise));
        assert!(t[0] > 5000 && t[1] > 5000, "{t:?}");
        assert!(t[2..].iter().all(|&v| (850..1150).contains(&v)), "{t:?}");
    }
}
