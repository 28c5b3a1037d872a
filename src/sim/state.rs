//! The shared state of one running simulator: its token, scenario, device list, blob folder,
//! records (behind one lock), fault-injection dice, clock and counters. Every route and the
//! server read it; it imports no route, no HTTP and not the server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tempfile::TempDir;

use crate::hub::proto;

use super::scenario::{DEFAULT_MIN_CLIENT_VERSION, HttpFault, Scenario};
use super::store::Store;

/// One job the simulator was asked to run, so tests can compare what a client submitted per
/// device with what it planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimJob {
    /// The job id (`j…`).
    pub id: String,
    /// Compile, profile or inference.
    pub kind: super::scenario::JobKind,
    /// The AI Hub name of the device it targets.
    pub device: String,
    /// The sha256 of the uploaded model it measures (a compiled model's source), when known.
    pub model_sha256: Option<String>,
}

/// Counts of what the simulator has seen, so tests can assert e.g. that a cached run submitted nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Every HTTP request received (API and blobs, faulted or not).
    pub requests: u64,
    /// Authenticated API requests that reached a handler.
    pub api_requests: u64,
    /// Requests answered by an injected fault (status, drop).
    pub faults_injected: u64,
    /// Compile jobs created.
    pub compile_jobs: u64,
    /// Profile jobs (inference with profiling) created.
    pub profile_jobs: u64,
    /// Inference jobs (profiling off) created.
    pub inference_jobs: u64,
    /// Models created by `POST models/`.
    pub models_created: u64,
    /// Datasets created by `POST datasets/`.
    pub datasets_created: u64,
    /// Model upload parts stored (`PUT` to a part URL that succeeded).
    pub upload_parts: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub api_requests: AtomicU64,
    pub faults_injected: AtomicU64,
    pub compile_jobs: AtomicU64,
    pub profile_jobs: AtomicU64,
    pub inference_jobs: AtomicU64,
    pub models_created: AtomicU64,
    pub datasets_created: AtomicU64,
    pub upload_parts: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn snapshot(&self) -> SimStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SimStats {
            requests: g(&self.requests),
            api_requests: g(&self.api_requests),
            faults_injected: g(&self.faults_injected),
            compile_jobs: g(&self.compile_jobs),
            profile_jobs: g(&self.profile_jobs),
            inference_jobs: g(&self.inference_jobs),
            models_created: g(&self.models_created),
            datasets_created: g(&self.datasets_created),
            upload_parts: g(&self.upload_parts),
        }
    }
}

#[derive(Debug)]
struct FaultState {
    rng: StdRng,
    hits: Vec<u64>,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub(crate) struct SimState {
    pub token: String,
    pub scenario: Scenario,
    pub min_client_version: semver::Version,
    pub base_url: String,
    pub devices: Vec<proto::Device>,
    pub blob_dir: TempDir,
    pub counters: Counters,
    store: Mutex<Store>,
    faults: Mutex<FaultState>,
    epoch: (Instant, i64),
}

impl SimState {
    /// The state of a simulator that answers at `base_url` and keeps blobs in `blob_dir`.
    pub fn new(token: String, scenario: Scenario, base_url: String, blob_dir: TempDir) -> Self {
        let min_client_version = scenario
            .min_client_version
            .as_deref()
            .and_then(|v| semver::Version::parse(v).ok())
            .or_else(|| semver::Version::parse(DEFAULT_MIN_CLIENT_VERSION).ok())
            .unwrap_or_else(|| semver::Version::new(0, 0, 0));
        let now_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Self {
            token,
            min_client_version,
            base_url,
            devices: super::devices::default_devices(),
            blob_dir,
            counters: Counters::default(),
            store: Mutex::new(Store::default()),
            faults: Mutex::new(FaultState {
                rng: StdRng::seed_from_u64(scenario.seed),
                hits: vec![0; scenario.http_faults.len()],
            }),
            epoch: (Instant::now(), now_unix),
            scenario,
        }
    }

    /// Locks the records; a poisoned lock is recovered because records stay consistent per call.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Unix seconds of an instant of this run.
    pub fn unix(&self, at: Instant) -> i64 {
        let (i0, u0) = self.epoch;
        match at.checked_duration_since(i0) {
            Some(d) => u0 + d.as_secs() as i64,
            None => u0,
        }
    }

    /// Unix seconds now.
    pub fn now_unix(&self) -> i64 {
        self.unix(Instant::now())
    }

    /// The HTTP fault to inject for a request, if a scenario rule fires.
    pub(crate) fn decide_fault(&self, method: &str, path: &str) -> Option<HttpFault> {
        let rules = &self.scenario.http_faults;
        if rules.is_empty() {
            return None;
        }
        let mut f = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        for (i, rule) in rules.iter().enumerate() {
            let path_ok = rule.path.as_deref().is_none_or(|p| path.starts_with(p));
            let method_ok = rule
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method));
            let under_limit = rule.limit.is_none_or(|l| f.hits[i] < l);
            if !(path_ok && method_ok && under_limit) {
                continue;
            }
            let rate = rule.rate.unwrap_or(1.0);
            let fire = rate >= 1.0 || f.rng.random::<f64>() < rate;
            if fire {
                f.hits[i] += 1;
                return Some(rule.clone());
            }
        }
        None
    }
}
