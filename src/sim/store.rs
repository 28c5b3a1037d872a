//! The simulator's in-memory records (models, datasets, jobs, uploads, blobs) and the rule that
//! turns elapsed time into a job's state. Blob bytes live in files under a temporary folder;
//! this module holds only their paths. No HTTP here.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::hub::proto::{self, JobFailureType, JobState};

use super::measure::Measurement;
use super::scenario::{Durations, JobKind};

/// Datasets expire this long after creation unless permanent.
pub(crate) const DATASET_LIFETIME_S: i64 = 30 * 24 * 3600;

/// One uploaded or produced model.
#[derive(Debug, Clone)]
pub(crate) struct ModelRec {
    pub id: String,
    pub name: String,
    pub model_type: i32,
    pub is_directory: bool,
    pub created: i64,
    /// Blob id once the bytes are complete.
    pub blob: Option<String>,
    /// The model's own sha256 once complete.
    pub sha256: Option<String>,
    /// The sha256 measurements are keyed on: its own, or the compile source's.
    pub source_sha256: Option<String>,
    pub producer: Option<String>,
    pub input_spec: Option<proto::NamedTensorTypeList>,
    pub output_spec: Option<proto::NamedTensorTypeList>,
    pub upload: Option<String>,
}

/// A multipart upload in progress.
#[derive(Debug, Clone)]
pub(crate) struct UploadRec {
    pub model_id: String,
    pub etags: Vec<Option<String>>,
    /// The `file_size` the client announced, when it did.
    pub file_size: Option<u64>,
    /// The `max_part_size` handed out: every part but the last must be exactly this long.
    pub max_part_size: u64,
}

/// One dataset (uploaded input or produced output).
#[derive(Debug, Clone)]
pub(crate) struct DatasetRec {
    pub id: String,
    pub name: String,
    pub created: i64,
    pub expires: Option<i64>,
    pub permanent: bool,
    pub blob: Option<String>,
    pub complete: bool,
}

/// A stored file served at `/blobs/<id>/<filename>`.
#[derive(Debug, Clone)]
pub(crate) struct BlobRec {
    pub path: PathBuf,
    pub filename: String,
}

/// One job and everything needed to answer for it at any time.
#[derive(Debug, Clone)]
pub(crate) struct JobRec {
    pub id: String,
    pub kind: JobKind,
    pub name: String,
    pub options: String,
    pub created: i64,
    pub created_at: Instant,
    pub model_id: String,
    pub device: proto::Device,
    pub devices: Option<proto::DeviceList>,
    pub tensor_type_list: Option<proto::NamedTensorTypeList>,
    pub dataset_id: Option<String>,
    pub target_model_id: Option<String>,
    pub seeded: bool,
    /// Failure decided at creation (scenario rule or unusable input): reason and type.
    pub failure: Option<(String, i32)>,
    /// The compile job producing this job's model, if any.
    pub depends_on: Option<String>,
    pub queue: Duration,
    pub phases: [Duration; 2],
    pub output_dataset_id: Option<String>,
    pub input_types: Option<proto::NamedTensorTypeList>,
    pub measurement: Option<Measurement>,
    pub iterations: usize,
}

/// Where a job stands at one instant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Status {
    pub state: JobState,
    pub started: Option<Instant>,
    pub finished: Option<Instant>,
    /// Reason and failure type when FAILED.
    pub failure: Option<(String, i32)>,
}

impl JobRec {
    /// The in-progress states of this kind of job, in order.
    pub fn phase_states(&self) -> [JobState; 2] {
        match self.kind {
            JobKind::Compile => [JobState::OptimizingModel, JobState::OptimizingModel],
            JobKind::Profile => [JobState::ProvisioningDevice, JobState::MeasuringPerformance],
            JobKind::Inference => [JobState::ProvisioningDevice, JobState::RunningInference],
        }
    }
}

/// Splits configured durations into (queue, phases) for a job kind.
pub(crate) fn timing(kind: JobKind, d: &Durations, queue_s: f64) -> (Duration, [Duration; 2]) {
    let secs = |s: f64| Duration::from_secs_f64(s.max(0.0));
    let phases = match kind {
        JobKind::Compile => [secs(d.compile_s), Duration::ZERO],
        JobKind::Profile | JobKind::Inference => [secs(d.provision_s), secs(d.run_s)],
    };
    (secs(queue_s), phases)
}

/// All records, behind one lock held only briefly.
#[derive(Debug, Default)]
pub(crate) struct Store {
    next_id: u64,
    pub models: HashMap<String, ModelRec>,
    pub datasets: HashMap<String, DatasetRec>,
    pub jobs: BTreeMap<String, JobRec>,
    pub job_order: Vec<String>,
    pub uploads: HashMap<String, UploadRec>,
    pub blobs: HashMap<String, BlobRec>,
    /// Profile jobs created per device name: the run number of the next one's noise.
    pub profile_runs: HashMap<String, u64>,
}

impl Store {
    /// The run number of a new profile job on `device` (0 for its first).
    pub fn next_profile_run(&mut self, device: &str) -> u64 {
        let n = self.profile_runs.entry(device.to_owned()).or_insert(0);
        *n += 1;
        *n - 1
    }

    /// A fresh id: the prefix and 8 lowercase alphanumerics, unique and reproducible per run.
    pub fn new_id(&mut self, prefix: char) -> String {
        self.next_id += 1;
        const SPACE: u64 = 36u64.pow(8);
        let mut n = (self.next_id.wrapping_mul(1_000_003).wrapping_add(7_777_777)) % SPACE;
        let mut out = [b'0'; 8];
        for slot in out.iter_mut().rev() {
            let d = (n % 36) as u8;
            *slot = if d < 10 { b'0' + d } else { b'a' + d - 10 };
            n /= 36;
        }
        let mut id = String::with_capacity(9);
        id.push(prefix);
        id.extend(out.iter().map(|&b| b as char));
        id
    }

    /// Stores a new dataset under a fresh id, complete once it has bytes; one that is not
    /// permanent expires `DATASET_LIFETIME_S` after `created`.
    pub fn add_dataset(
        &mut self,
        name: String,
        created: i64,
        permanent: bool,
        blob: Option<String>,
    ) -> &DatasetRec {
        let id = self.new_id('d');
        let rec = DatasetRec {
            id: id.clone(),
            name,
            created,
            expires: (!permanent).then_some(created + DATASET_LIFETIME_S),
            permanent,
            complete: blob.is_some(),
            blob,
        };
        self.datasets.entry(id).or_insert(rec)
    }

    /// The job's state at `now`, following its producer for dependent jobs.
    pub fn status(&self, job: &JobRec, now: Instant) -> Status {
        let mut base = job.created_at;
        if let Some(dep) = job.depends_on.as_ref().and_then(|id| self.jobs.get(id)) {
            let dep_status = self.status_of(dep, dep.created_at, now);
            match dep_status.state {
                JobState::Done => {
                    base = base.max(dep_status.finished.unwrap_or(base));
                }
                JobState::Failed => {
                    return Status {
                        state: JobState::Failed,
                        started: None,
                        finished: dep_status.finished,
                        failure: Some((
                            format!("the job {} that produces this job's model failed", dep.id),
                            JobFailureType::RuntimeFailedDependency as i32,
                        )),
                    };
                }
                _ => {
                    return Status {
                        state: JobState::Created,
                        started: None,
                        finished: None,
                        failure: None,
                    };
                }
            }
        }
        self.status_of(job, base, now)
    }

    fn status_of(&self, job: &JobRec, base: Instant, now: Instant) -> Status {
        let start = base + job.queue;
        let mid = start + job.phases[0];
        let end = mid + job.phases[1];
        let states = job.phase_states();
        let (state, started, finished) = if now < start {
            (JobState::Created, None, None)
        } else if now < mid {
            (states[0], Some(start), None)
        } else if now < end {
            (states[1], Some(start), None)
        } else if job.failure.is_some() {
            (JobState::Failed, Some(start), Some(end))
        } else {
            (JobState::Done, Some(start), Some(end))
        };
        Status {
            state,
            started,
            finished,
            failure: if state == JobState::Failed {
                job.failure.clone()
            } else {
                None
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(kind: JobKind, queue_ms: u64, p0: u64, p1: u64) -> JobRec {
        JobRec {
            id: "j1".into(),
            kind,
            name: String::new(),
            options: String::new(),
            created: 0,
            created_at: Instant::now(),
            model_id: "m1".into(),
            device: proto::Device::default(),
            devices: None,
            tensor_type_list: None,
            dataset_id: None,
            target_model_id: None,
            seeded: false,
            failure: None,
            depends_on: None,
            queue: Duration::from_millis(queue_ms),
            phases: [Duration::from_millis(p0), Duration::from_millis(p1)],
            output_dataset_id: None,
            input_types: None,
            measurement: None,
            iterations: 0,
        }
    }

    #[test]
    fn ids_are_unique_prefixed_and_nine_chars() {
        let mut s = Store::default();
        let a = s.new_id('j');
        let b = s.new_id('j');
        assert_ne!(a, b);
        assert_eq!(a.len(), 9);
        assert!(a.starts_with('j'));
        assert!(
            a[1..]
                .bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
    }

    #[test]
    fn profile_walks_its_states_in_order() {
        let s = Store::default();
        let j = job(JobKind::Profile, 10, 10, 10);
        let t0 = j.created_at;
        let at = |ms| s.status(&j, t0 + Duration::from_millis(ms)).state;
        assert_eq!(at(5), JobState::Created);
        assert_eq!(at(15), JobState::ProvisioningDevice);
        assert_eq!(at(25), JobState::MeasuringPerformance);
        assert_eq!(at(35), JobState::Done);
    }

    #[test]
    fn dependent_job_waits_then_fails_with_its_producer() {
        let mut s = Store::default();
        let mut compile = job(JobKind::Compile, 0, 20, 0);
        compile.id = "jc".into();
        compile.failure = Some(("boom".into(), 2000));
        let t0 = compile.created_at;
        s.jobs.insert("jc".into(), compile);
        let mut inf = job(JobKind::Inference, 0, 0, 0);
        inf.depends_on = Some("jc".into());
        inf.created_at = t0;
        assert_eq!(
            s.status(&inf, t0 + Duration::from_millis(5)).state,
            JobState::Created
        );
        let st = s.status(&inf, t0 + Duration::from_millis(30));
        assert_eq!(st.state, JobState::Failed);
        assert_eq!(
            st.failure.unwrap().1,
            JobFailureType::RuntimeFailedDependency as i32
        );
    }
}
