//! The simulator's scenario file (`edgegate hub-sim --scenario FILE`): per-device measurements,
//! job timing, failed jobs and HTTP faults, so a test can stage exactly the situation it checks.
//!
//! Every field is optional; an empty file (or no file) gives instant, fault-free jobs with the
//! hash-derived measurements documented in [`crate::sim::measure`].
//!
//! ```yaml
//! seed: 7
//! durations: { queue_s: 0, compile_s: 0.2, provision_s: 0.1, run_s: 0.2 }
//! upload: { max_part_size: 1048576, part_urls: 2 }
//! transfers:
//!   wrapped: always
//!   s3_credentials: [dataset_download]
//! devices:
//!   "Samsung Galaxy S24":
//!     latency_ms: 4.2
//!     peak_memory_mb: 55
//!     compute_units: { npu: 30, gpu: 0, cpu: 2 }
//!     queue_s: 1.5
//! noise: { seed: 1, latency_cv: 0.05, sample_cv: 0.02, drift_pct: 3, memory_cv: 0.01 }
//! models:
//!   "<sha256 of a model file>": { latency_factor: 1.2 }
//! failures:
//!   - { device: "RB5 (Proxy)", job_type: profile, reason: "device lost" }
//! http_faults:
//!   - { path: "/api/v1/jobs/", method: POST, status: 429, retry_after_s: 1, limit: 1 }
//!   - { path: "/api/v1/devices/", status: 503, rate: 0.5 }
//!   - { path: "/blobs/", drop: true, limit: 1 }
//!   - { delay_ms: 300, rate: 0.1 }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use thiserror::Error;

/// The whole scenario; unknown keys are errors so typos do not silently do nothing.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Seed of the random stream that decides rate-based HTTP faults (same seed, same faults).
    #[serde(default)]
    pub seed: u64,
    /// Default job phase durations; 0 everywhere makes every job terminal on its first poll.
    #[serde(default)]
    pub durations: Durations,
    /// How uploads are split and how big they may get.
    #[serde(default)]
    pub upload: UploadSettings,
    /// Which of the protocol's answer shapes the upload and download routes use.
    #[serde(default)]
    pub transfers: TransferSettings,
    /// Overrides per AI Hub device name (exact name, e.g. `Samsung Galaxy S24`).
    #[serde(default)]
    pub devices: BTreeMap<String, DeviceProfile>,
    /// Jobs that end FAILED, chosen by device and/or job type (first matching rule wins).
    #[serde(default)]
    pub failures: Vec<FailureRule>,
    /// Faults injected into HTTP requests: error statuses, dropped connections, slow answers.
    #[serde(default)]
    pub http_faults: Vec<HttpFault>,
    /// Oldest `Client-Version` accepted; older clients get 426 (default [`DEFAULT_MIN_CLIENT_VERSION`]).
    #[serde(default)]
    pub min_client_version: Option<String>,
    /// Measurement noise of every device (a device's own `noise` replaces it). None: every
    /// profile of a model on a device reports the same numbers.
    #[serde(default)]
    pub noise: Option<Noise>,
    /// Effects per model, keyed by the lowercase hex sha256 of the uploaded (source) model file:
    /// how a true regression is staged (`latency_factor: 1.1` = 10 % slower).
    #[serde(default)]
    pub models: BTreeMap<String, ModelEffect>,
}

/// Seeded measurement noise, so tests and benchmarks can see what a real device does: each
/// profile job is one run with its own offset, drawn from `seed`, the model, the device and the
/// number of profile jobs the device ran before it (same scenario and same job order, same numbers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Noise {
    /// Seed of the noise stream.
    #[serde(default)]
    pub seed: u64,
    /// Coefficient of variation of the per-run latency multiplier (log-normal, median 1): `0.05`
    /// = 5 % run-to-run spread, the spread measured on a shared CI machine.
    #[serde(default)]
    pub latency_cv: f64,
    /// Coefficient of variation of each timed iteration around its run's value (log-normal).
    #[serde(default)]
    pub sample_cv: f64,
    /// Amplitude in percent of a slow sinusoidal drift over the device's profile jobs.
    #[serde(default)]
    pub drift_pct: f64,
    /// Profile jobs on the device per drift cycle (default 40).
    #[serde(default)]
    pub drift_period_runs: Option<f64>,
    /// Bimodal runs: with this probability a run is slower by `bimodal_factor`.
    #[serde(default)]
    pub bimodal_probability: f64,
    /// The slowdown of a slow-mode run (default 1.5).
    #[serde(default)]
    pub bimodal_factor: Option<f64>,
    /// Coefficient of variation of the per-run peak-memory multiplier (log-normal).
    #[serde(default)]
    pub memory_cv: f64,
    /// The first this many iterations of a profile are cold (warm-up) iterations...
    #[serde(default)]
    pub cold_iterations: u32,
    /// ...and take this many times as long (default 1: no cold start).
    #[serde(default)]
    pub cold_factor: Option<f64>,
}

/// What a scenario does to one model's measurements.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEffect {
    /// Multiplies the model's inference time (1.2 = a true +20 % regression).
    #[serde(default = "one")]
    pub latency_factor: f64,
    /// Multiplies the model's peak memory.
    #[serde(default = "one")]
    pub memory_factor: f64,
}

fn one() -> f64 {
    1.0
}

/// The `Client-Version` below which the simulator answers 426 Upgrade Required.
pub const DEFAULT_MIN_CLIENT_VERSION: &str = "0.30.0";

/// Seconds a job spends in each phase; fractional seconds are fine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Durations {
    /// Time in CREATED before the job starts (queueing).
    #[serde(default)]
    pub queue_s: f64,
    /// Time in OPTIMIZING_MODEL for compile jobs.
    #[serde(default)]
    pub compile_s: f64,
    /// Time in PROVISIONING_DEVICE for profile and inference jobs.
    #[serde(default)]
    pub provision_s: f64,
    /// Time in MEASURING_PERFORMANCE (profile) or RUNNING_INFERENCE (inference).
    #[serde(default)]
    pub run_s: f64,
}

/// Upload behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadSettings {
    /// Bytes per presigned part of a model upload (`max_part_size` of the answer).
    #[serde(default = "default_part_size")]
    pub max_part_size: u64,
    /// Hand out at most this many part URLs. The protocol's rule is "as many parts as URLs, the
    /// last takes the rest" (notes §3.1), so with fewer URLs than `⌈file_size / max_part_size⌉`
    /// the last part is larger than `max_part_size`. Default: that ceiling, one URL per
    /// `max_part_size` bytes.
    #[serde(default)]
    pub part_urls: Option<u64>,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            max_part_size: default_part_size(),
            part_urls: None,
        }
    }
}

/// The answer shapes of the upload and download routes (`GET models/<id>/multipart_upload/`,
/// `datasets/<id>/upload_url/`, `models/<id>/download/`, `datasets/<id>/download_data/`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferSettings {
    /// When the `File*Response` wrappers are answered instead of the legacy messages.
    #[serde(default)]
    pub wrapped: Wrapped,
    /// Routes answered with the wrapper's `credentials` variant (temporary S3 keys for a direct
    /// transfer to a bucket, notes §3.1, §3.2, §3.4) instead of URLs. The credentials are fake
    /// and no S3 stands behind them: this stages a server that insists on direct S3 transfers.
    /// Only the wrapper can carry them, so they are sent wrapped even to a client that did not
    /// send `supports_s3_credentials=true`, as a server ignoring that flag would.
    #[serde(default)]
    pub s3_credentials: Vec<TransferRoute>,
}

/// When the simulator answers the `File*Response` wrappers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wrapped {
    /// To clients that send `supports_s3_credentials=true` (the official 0.56 client); the
    /// legacy bare messages to the rest (notes §2.1, §9 item 9).
    #[default]
    ByFlag,
    /// To every client, as a server that ignores the flag would.
    Always,
}

/// An upload or download route whose answer a scenario can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferRoute {
    /// `GET models/<id>/multipart_upload/`.
    ModelUpload,
    /// `GET datasets/<id>/upload_url/`.
    DatasetUpload,
    /// `GET models/<id>/download/`.
    ModelDownload,
    /// `GET datasets/<id>/download_data/`.
    DatasetDownload,
}

fn default_part_size() -> u64 {
    64 * 1024 * 1024
}

/// Measurements and timing for one device, replacing the hash-derived defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceProfile {
    /// Inference time in milliseconds (`ProfileDetail.execution_time`, reported in µs).
    #[serde(default)]
    pub latency_ms: Option<f64>,
    /// Peak memory during inference in MiB (`after_execution_peak_memory`, reported in bytes).
    #[serde(default)]
    pub peak_memory_mb: Option<f64>,
    /// First (cold) load time in milliseconds.
    #[serde(default)]
    pub load_time_ms: Option<f64>,
    /// How many layers run on each compute unit.
    #[serde(default)]
    pub compute_units: Option<ComputeSplit>,
    /// Queue time for jobs on this device, replacing `durations.queue_s`.
    #[serde(default)]
    pub queue_s: Option<f64>,
    /// Phase durations for jobs on this device, replacing `durations` (except the queue).
    #[serde(default)]
    pub durations: Option<Durations>,
    /// Measurement noise on this device, replacing the scenario's `noise`.
    #[serde(default)]
    pub noise: Option<Noise>,
}

/// Layer counts per compute unit in a profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeSplit {
    /// Layers on the NPU (HTP).
    #[serde(default)]
    pub npu: u32,
    /// Layers on the GPU.
    #[serde(default)]
    pub gpu: u32,
    /// Layers on the CPU.
    #[serde(default)]
    pub cpu: u32,
}

/// The job kinds a scenario can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A compile job.
    Compile,
    /// An inference job with profiling on.
    Profile,
    /// An inference job with profiling off.
    Inference,
}

impl JobKind {
    /// The lowercase name used in scenarios and `job_summaries/?type=`.
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Compile => "compile",
            JobKind::Profile => "profile",
            JobKind::Inference => "inference",
        }
    }
}

/// Makes matching jobs end FAILED with a reason, as a real device or compiler would.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureRule {
    /// Only jobs on this device (exact AI Hub name); any device when absent.
    #[serde(default)]
    pub device: Option<String>,
    /// Only jobs of this kind; any kind when absent.
    #[serde(default)]
    pub job_type: Option<JobKind>,
    /// The `failure_reason` the job reports.
    pub reason: String,
    /// The `JobFailureType` code (default 2000, RUNTIME_UNKNOWN).
    #[serde(default)]
    pub failure_type: Option<i32>,
}

/// One HTTP fault rule; the first rule that matches a request and fires decides its fate.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFault {
    /// Only requests whose path starts with this (e.g. `/api/v1/jobs/`, `/blobs/`).
    #[serde(default)]
    pub path: Option<String>,
    /// Only requests with this method (e.g. `GET`, `POST`).
    #[serde(default)]
    pub method: Option<String>,
    /// Probability in [0, 1] that a matching request is hit (default 1), drawn from `seed`.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Stop after hitting this many requests (default: unlimited).
    #[serde(default)]
    pub limit: Option<u64>,
    /// Answer with this status (e.g. 429, 500, 503) and a JSON `detail`.
    #[serde(default)]
    pub status: Option<u16>,
    /// `Retry-After` seconds sent with the status.
    #[serde(default)]
    pub retry_after_s: Option<u64>,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop: bool,
    /// Wait this long before answering (alone: a slow but correct answer).
    #[serde(default)]
    pub delay_ms: Option<u64>,
}

/// Why a scenario file could not be used.
#[derive(Debug, Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("failed to read scenario {path}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The YAML does not match the scenario format.
    #[error("invalid scenario {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with position.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid scenario: {0}")]
    Invalid(String),
}

impl Scenario {
    /// Parses scenario YAML; `origin` names the source in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = if text.trim().is_empty() {
            Scenario::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| ScenarioError::Parse {
                path: origin.to_owned(),
                message: e.to_string(),
            })?
        };
        scenario.check()?;
        Ok(scenario)
    }

    /// Reads and parses a scenario file.
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        let text = crate::files::read_to_string(path, "scenario", crate::files::CONFIG_LIMIT)
            .map_err(|e| ScenarioError::Read {
                path: path.display().to_string(),
                source: e.into_io(),
            })?;
        Self::from_yaml(&text, &path.display().to_string())
    }

    fn check(&self) -> Result<(), ScenarioError> {
        let bad_secs = |v: f64| !(v.is_finite() && (0.0..=86_400.0).contains(&v));
        let mut all_durations = vec![self.durations];
        all_durations.extend(self.devices.values().filter_map(|d| d.durations));
        for d in all_durations {
            if [d.queue_s, d.compile_s, d.provision_s, d.run_s]
                .into_iter()
                .any(bad_secs)
            {
                return Err(ScenarioError::Invalid(
                    "durations must be between 0 and 86400 seconds".into(),
                ));
            }
        }
        for (name, dev) in &self.devices {
            let positive = |v: Option<f64>| v.is_none_or(|v| v.is_finite() && v >= 0.0);
            if !positive(dev.latency_ms)
                || !positive(dev.peak_memory_mb)
                || !positive(dev.load_time_ms)
                || dev.queue_s.is_some_and(bad_secs)
            {
                return Err(ScenarioError::Invalid(format!(
                    "device {name:?}: measurements must be finite and not negative"
                )));
            }
        }
        if self.upload.max_part_size == 0 {
            return Err(ScenarioError::Invalid(
                "upload.max_part_size must be at least 1".into(),
            ));
        }
        if self.upload.part_urls == Some(0) {
            return Err(ScenarioError::Invalid(
                "upload.part_urls must be at least 1".into(),
            ));
        }
        for f in &self.http_faults {
            if f.rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
                return Err(ScenarioError::Invalid(
                    "http_faults rate must be between 0 and 1".into(),
                ));
            }
            if f.status.is_some_and(|s| !(100..=599).contains(&s)) {
                return Err(ScenarioError::Invalid(
                    "http_faults status must be an HTTP status code".into(),
                ));
            }
            if f.status.is_none() && !f.drop && f.delay_ms.is_none() {
                return Err(ScenarioError::Invalid(
                    "an http_faults entry needs `status`, `drop` or `delay_ms`".into(),
                ));
            }
        }
        let mut noises: Vec<&Noise> = self.noise.iter().collect();
        noises.extend(self.devices.values().filter_map(|d| d.noise.as_ref()));
        for n in noises {
            let cv_ok = |v: f64| v.is_finite() && (0.0..=2.0).contains(&v);
            let factor_ok =
                |v: Option<f64>| v.is_none_or(|v| v.is_finite() && (0.01..=100.0).contains(&v));
            if !cv_ok(n.latency_cv) || !cv_ok(n.sample_cv) || !cv_ok(n.memory_cv) {
                return Err(ScenarioError::Invalid(
                    "noise: latency_cv, sample_cv and memory_cv must be between 0 and 2 (0.05 = 5 %)".into(),
                ));
            }
            if !(n.drift_pct.is_finite() && (0.0..=90.0).contains(&n.drift_pct))
                || n.drift_period_runs
                    .is_some_and(|p| !(p.is_finite() && p >= 1.0))
            {
                return Err(ScenarioError::Invalid(
                    "noise: drift_pct must be between 0 and 90 and drift_period_runs at least 1"
                        .into(),
                ));
            }
            if !(0.0..=1.0).contains(&n.bimodal_probability)
                || !factor_ok(n.bimodal_factor)
                || !factor_ok(n.cold_factor)
            {
                return Err(ScenarioError::Invalid(
                    "noise: bimodal_probability must be between 0 and 1, bimodal_factor and cold_factor between 0.01 and 100".into(),
                ));
            }
        }
        for (sha, m) in &self.models {
            let ok = |v: f64| v.is_finite() && (0.01..=100.0).contains(&v);
            if !ok(m.latency_factor) || !ok(m.memory_factor) {
                return Err(ScenarioError::Invalid(format!(
                    "models {sha:?}: latency_factor and memory_factor must be between 0.01 and 100"
                )));
            }
        }
        if let Some(v) = &self.min_client_version {
            semver::Version::parse(v)
                .map_err(|e| ScenarioError::Invalid(format!("min_client_version {v:?}: {e}")))?;
        }
        Ok(())
    }

    /// Whether the scenario answers `route` with S3 credentials.
    pub fn s3_credentials(&self, route: TransferRoute) -> bool {
        self.transfers.s3_credentials.contains(&route)
    }

    /// Whether an answer on a transfer route is the wrapper, given the client's
    /// `supports_s3_credentials` flag.
    pub fn wrapped(&self, client_flag: bool) -> bool {
        client_flag || self.transfers.wrapped == Wrapped::Always
    }

    /// The profile of one device, empty when the scenario does not mention it.
    pub fn device(&self, name: &str) -> DeviceProfile {
        self.devices.get(name).cloned().unwrap_or_default()
    }

    /// The noise of one device: its own, else the scenario's.
    pub fn noise_of(&self, device: &str) -> Option<Noise> {
        self.devices
            .get(device)
            .and_then(|d| d.noise)
            .or(self.noise)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let text = r#"
seed: 7
durations: { queue_s: 0, compile_s: 0.2, provision_s: 0.1, run_s: 0.2 }
upload: { max_part_size: 1048576, part_urls: 2 }
transfers:
  wrapped: always
  s3_credentials: [dataset_download]
devices:
  "Samsung Galaxy S24":
    latency_ms: 4.2
    peak_memory_mb: 55
    compute_units: { npu: 30, gpu: 0, cpu: 2 }
    queue_s: 1.5
failures:
  - { device: "RB5 (Proxy)", job_type: profile, reason: "device lost" }
http_faults:
  - { path: "/api/v1/jobs/", method: POST, status: 429, retry_after_s: 1, limit: 1 }
  - { path: "/api/v1/devices/", status: 503, rate: 0.5 }
  - { path: "/blobs/", drop: true, limit: 1 }
  - { delay_ms: 300, rate: 0.1 }
"#;
        let s = Scenario::from_yaml(text, "t.yaml").unwrap();
        assert_eq!(s.seed, 7);
        assert_eq!(s.upload.max_part_size, 1_048_576);
        assert_eq!(s.upload.part_urls, Some(2));
        assert!(s.wrapped(false));
        assert!(s.s3_credentials(TransferRoute::DatasetDownload));
        assert!(!s.s3_credentials(TransferRoute::ModelUpload));
        let s24 = s.device("Samsung Galaxy S24");
        assert_eq!(s24.latency_ms, Some(4.2));
        assert_eq!(s24.compute_units.unwrap().npu, 30);
        assert_eq!(s.failures[0].job_type, Some(JobKind::Profile));
        assert_eq!(s.http_faults.len(), 4);
        assert!(s.http_faults[2].drop);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Scenario::from_yaml("devices:\n  X:\n    latency: 3\n", "t.yaml").unwrap_err();
        assert!(err.to_string().contains("latency"), "{err}");
    }

    #[test]
    fn empty_is_default_and_bad_rates_are_rejected() {
        assert_eq!(Scenario::from_yaml("", "t").unwrap(), Scenario::default());
        assert!(Scenario::from_yaml("http_faults: [{status: 503, rate: 2}]", "t").is_err());
        assert!(Scenario::from_yaml("http_faults: [{rate: 0.5}]", "t").is_err());
        assert!(Scenario::from_yaml("upload: { part_urls: 0 }", "t").is_err());
        assert!(Scenario::from_yaml("transfers: { s3_credentials: [s3] }", "t").is_err());
        let default = Scenario::default();
        assert!(!default.wrapped(false) && default.wrapped(true));
        assert_eq!(default.upload.part_urls, None);
    }

    #[test]
    fn noise_and_model_effects_parse_and_bad_values_are_refused() {
        let s = Scenario::from_yaml(
            "noise: { seed: 3, latency_cv: 0.05, drift_pct: 2 }\ndevices:\n  X: { noise: { latency_cv: 0.1 } }\nmodels:\n  abc: { latency_factor: 1.2 }\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(s.noise_of("Y").map(|n| n.latency_cv), Some(0.05));
        assert_eq!(s.noise_of("X").map(|n| n.latency_cv), Some(0.1));
        assert_eq!(s.models["abc"].latency_factor, 1.2);
        assert_eq!(s.models["abc"].memory_factor, 1.0);
        for bad in [
            "noise: { latency_cv: -1 }",
            "noise: { bimodal_probability: 2 }",
            "noise: { drift_pct: 95 }",
            "models: { abc: { latency_factor: 0 } }",
        ] {
            let e = Scenario::from_yaml(bad, "t.yaml").unwrap_err().to_string();
            assert!(e.starts_with("invalid scenario: "), "{bad}: {e}");
        }
        assert!(Scenario::from_yaml("noise: { jitter: 1 }", "t.yaml").is_err());
    }
}
