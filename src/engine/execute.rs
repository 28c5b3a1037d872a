//! Execution of a plan on devices: every device concurrently up to `max_concurrency`, prepare
//! then the steps its plan asks for (profile and inference side by side), a whole-run time
//! limit, and a clean stop on a signal that keeps what each device measured so far. Knows the
//! [`Device`] trait, never a backend, and never the config: each [`DeviceTask`] says what to run.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::progress::{Event, Progress};
use crate::device::{
    CaseInputs, Device, DeviceError, InferResult, ModelArtifact, Prepared, ProfileResult,
    RunSettings,
};
use crate::results::{JobKind, JobLink};

/// How a run executes.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Devices at the same time.
    pub max_concurrency: usize,
    /// Limit of the whole run.
    pub run_timeout: Duration,
}

/// One device of the plan and the steps its jobs call for after `prepare`.
#[derive(Clone)]
pub struct DeviceTask {
    /// The device, built for its planned target.
    pub device: Arc<dyn Device>,
    /// Profile (an AI Hub profile job, or the timed runs of a local run).
    pub profile: bool,
    /// Run inference over the cases.
    pub infer: bool,
    /// Warm-up, repeats and the per-job limit.
    pub settings: RunSettings,
    /// Independent measurement runs (profile jobs, or local rounds with a fresh model load).
    pub runs: u32,
    /// Paired mode: the device instance that measures the baseline model, and that model; each
    /// run then measures the model under test, then the baseline model (A/B/A/B).
    pub baseline: Option<(Arc<dyn Device>, ModelArtifact)>,
    /// Extra runs allowed while `more` says a relative gate is still inconclusive.
    pub extra_runs: u32,
    /// Decides, from the runs so far (model under test, baseline model), whether to measure more.
    pub more: Option<MoreRuns>,
}

/// Whether the runs so far leave a relative gate inconclusive.
pub type MoreRuns = Arc<dyn Fn(&[ProfileResult], &[ProfileResult]) -> bool + Send + Sync>;

/// What one device delivered, complete or not.
#[derive(Debug, Clone, Default)]
pub struct DeviceRun {
    /// The model made ready, when prepare succeeded.
    pub prepared: Option<Prepared>,
    /// Every finished profile run of the model under test, in order.
    pub profiles: Vec<ProfileResult>,
    /// Paired mode: every finished profile run of the baseline model, in order.
    pub baseline_profiles: Vec<ProfileResult>,
    /// The outputs of every case, when inference finished.
    pub infer: Option<InferResult>,
    /// Every job run or reused, in submission order.
    pub jobs: Vec<JobLink>,
    /// Everything that went wrong, in order.
    pub errors: Vec<String>,
    /// Wall time on this device.
    pub duration: Duration,
    /// The device finished (successfully or not) before the run stopped.
    pub finished: bool,
    /// The device was stopped by a signal or the whole-run limit.
    pub interrupted: bool,
    /// An error came from the user's files (model or inputs unusable), not from the device.
    pub invalid_input: bool,
}

impl DeviceRun {
    /// All errors as one message, or `None` when everything was measured.
    pub fn error(&self) -> Option<String> {
        (!self.errors.is_empty()).then(|| self.errors.join("; "))
    }

    fn fail(&mut self, what: &str, e: &DeviceError) {
        if let DeviceError::JobFailed { job, .. } = e {
            self.add_jobs(std::slice::from_ref(job));
        }
        if matches!(
            e,
            DeviceError::InvalidModel(_) | DeviceError::InvalidInput(_)
        ) {
            self.invalid_input = true;
        }
        let text = match e {
            DeviceError::JobFailed { .. }
            | DeviceError::Timeout { .. }
            | DeviceError::Interrupted => e.to_string(),
            _ => format!("{what}: {e}"),
        };
        if !self.errors.contains(&text) {
            self.errors.push(text);
        }
    }

    fn add_jobs(&mut self, jobs: &[JobLink]) {
        for j in jobs {
            if !self.jobs.iter().any(|k| k.id == j.id && k.kind == j.kind) {
                self.jobs.push(j.clone());
            }
        }
    }
}

/// The outcome of executing every device.
#[derive(Debug, Clone)]
pub struct Execution {
    /// One entry per device, in the order given.
    pub devices: Vec<DeviceRun>,
    /// Why the run stopped early, when it did.
    pub stopped: Option<String>,
}

/// Runs every task; returns when all are done, the run limit passes, or `stop` is cancelled.
pub async fn execute(
    tasks: &[DeviceTask],
    model: &ModelArtifact,
    cases: Arc<Vec<CaseInputs>>,
    opts: &ExecOptions,
    stop: CancellationToken,
    progress: Arc<dyn Progress>,
) -> Execution {
    let started = Instant::now();
    let semaphore = Arc::new(Semaphore::new(opts.max_concurrency.max(1)));
    let states: Vec<Arc<Mutex<DeviceRun>>> = tasks
        .iter()
        .map(|_| Arc::new(Mutex::new(DeviceRun::default())))
        .collect();
    let mut set = JoinSet::new();
    for (task, state) in tasks.iter().zip(&states) {
        progress.event(task.device.name(), Event::Queued);
        set.spawn(run_device(
            task.clone(),
            model.clone(),
            Arc::clone(&cases),
            Arc::clone(&semaphore),
            Arc::clone(state),
            Arc::clone(&progress),
        ));
    }
    let all_done = async { while set.join_next().await.is_some() {} };
    let stopped = tokio::select! {
        () = all_done => None,
        () = stop.cancelled() => Some("interrupted by a signal (Ctrl-C or SIGTERM)".to_string()),
        () = tokio::time::sleep(opts.run_timeout) => Some(format!(
            "the run took longer than run_policy.timeout_minutes ({} min)",
            opts.run_timeout.as_secs().div_ceil(60)
        )),
    };
    if stopped.is_some() {
        set.abort_all();
        while set.join_next().await.is_some() {}
    }
    let runs = tasks
        .iter()
        .zip(&states)
        .map(|(task, state)| {
            let mut run = state.lock().map(|s| s.clone()).unwrap_or_default();
            if let (Some(why), false) = (&stopped, run.finished) {
                run.interrupted = true;
                run.duration = started.elapsed();
                let pending: Vec<&str> = run
                    .jobs
                    .iter()
                    .filter(|j| !j.reused && j.kind != JobKind::Local)
                    .map(|j| j.id.as_str())
                    .collect();
                let mut text = format!("{why}; not every measurement was taken");
                if !pending.is_empty() {
                    text.push_str(&format!(
                        " (submitted ai hub jobs keep running: {})",
                        pending.join(", ")
                    ));
                }
                run.errors.push(text);
                progress.event(task.device.name(), Event::Finished(run.error().as_deref()));
            }
            run
        })
        .collect();
    Execution {
        devices: runs,
        stopped,
    }
}

fn update(state: &Mutex<DeviceRun>, f: impl FnOnce(&mut DeviceRun)) {
    if let Ok(mut s) = state.lock() {
        f(&mut s);
    }
}

async fn run_device(
    task: DeviceTask,
    model: ModelArtifact,
    cases: Arc<Vec<CaseInputs>>,
    semaphore: Arc<Semaphore>,
    state: Arc<Mutex<DeviceRun>>,
    progress: Arc<dyn Progress>,
) {
    let Ok(_permit) = semaphore.acquire_owned().await else {
        return;
    };
    let DeviceTask {
        device,
        profile,
        infer,
        settings,
        runs,
        baseline,
        extra_runs,
        more,
    } = task;
    let name = device.name().to_string();
    let started = Instant::now();
    progress.event(&name, Event::Preparing);
    match device.prepare(&model).await {
        Err(e) => update(&state, |s| s.fail("prepare", &e)),
        Ok(prepared) => {
            update(&state, |s| {
                s.add_jobs(&prepared.jobs);
                s.prepared = Some(prepared.clone());
            });
            progress.event(&name, Event::Running);
            let base_prepared = match &baseline {
                Some((bdev, bmodel)) if profile => match bdev.prepare(bmodel).await {
                    Ok(p) => {
                        update(&state, |s| s.add_jobs(&p.jobs));
                        Some((Arc::clone(bdev), p))
                    }
                    Err(e) => {
                        update(&state, |s| s.fail("baseline model", &e));
                        None
                    }
                },
                _ => None,
            };
            let profile = async {
                if !profile {
                    return;
                }
                let mut done = 0u32;
                let mut target = runs.max(1);
                let mut budget = extra_runs;
                let mut err = None;
                'rounds: loop {
                    while done < target {
                        let mut settings = settings.clone();
                        settings.round = done;
                        let r = device.profile(&prepared, &cases, &settings).await;
                        let failed = r.is_err();
                        if let Err(e) = &r {
                            err = Some(e.to_string());
                        }
                        update(&state, |s| match r {
                            Ok(p) => {
                                s.add_jobs(&p.jobs);
                                s.profiles.push(p);
                            }
                            Err(e) => s.fail("profile", &e),
                        });
                        if failed {
                            break 'rounds;
                        }
                        if let Some((bdev, bprep)) = &base_prepared {
                            let r = bdev.profile(bprep, &cases, &settings).await;
                            let failed = r.is_err();
                            update(&state, |s| match r {
                                Ok(p) => {
                                    s.add_jobs(&p.jobs);
                                    s.baseline_profiles.push(p);
                                }
                                Err(e) => s.fail("baseline model profile", &e),
                            });
                            if failed {
                                break 'rounds;
                            }
                        }
                        done += 1;
                    }
                    let Some(more) = &more else { break };
                    if budget == 0 {
                        break;
                    }
                    let (a, b) = state
                        .lock()
                        .map(|s| (s.profiles.clone(), s.baseline_profiles.clone()))
                        .unwrap_or_default();
                    if !more(&a, &b) {
                        break;
                    }
                    let step = runs.max(1).min(budget);
                    budget -= step;
                    target += step;
                    progress.event(&name, Event::Note(&format!(
                        "a relative gate is inconclusive after {done} run{}: measuring {step} more",
                        if done == 1 { "" } else { "s" }
                    )));
                }
                progress.event(&name, Event::Profiled(err.as_deref()));
            };
            let infer = async {
                if !infer {
                    return;
                }
                let r = device.infer(&prepared, &cases, &settings).await;
                let err = r.as_ref().err().map(ToString::to_string);
                update(&state, |s| match r {
                    Ok(i) => {
                        s.add_jobs(&i.jobs);
                        s.infer = Some(i);
                    }
                    Err(e) => s.fail("inference", &e),
                });
                progress.event(&name, Event::Inferred(err.as_deref()));
            };
            tokio::join!(profile, infer);
        }
    }
    let mut error = None;
    update(&state, |s| {
        s.duration = started.elapsed();
        s.finished = true;
        error = s.error();
    });
    progress.event(&name, Event::Finished(error.as_deref()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelKind;
    use crate::device::CaseOutput;
    use crate::engine::progress::Quiet;
    use crate::results::JobKind;
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Fake {
        name: String,
        delay: Duration,
        fail_prepare: bool,
        running: Arc<AtomicUsize>,
        peak: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl Device for Fake {
        fn name(&self) -> &str {
            &self.name
        }
        async fn prepare(&self, _model: &ModelArtifact) -> Result<Prepared, DeviceError> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            if self.fail_prepare {
                self.running.fetch_sub(1, Ordering::SeqCst);
                return Err(DeviceError::JobFailed {
                    job: JobLink {
                        kind: JobKind::Compile,
                        id: "jc".into(),
                        url: None,
                        reused: false,
                    },
                    reason: "unsupported op".into(),
                });
            }
            Ok(Prepared {
                target_id: "m1".into(),
                jobs: vec![],
                model_size_bytes: Some(10),
            })
        }
        async fn profile(
            &self,
            _p: &Prepared,
            _c: &[CaseInputs],
            _s: &RunSettings,
        ) -> Result<ProfileResult, DeviceError> {
            tokio::time::sleep(self.delay).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            Ok(ProfileResult {
                inference_ms: vec![1.0, 2.0],
                ..ProfileResult::default()
            })
        }
        async fn infer(
            &self,
            _p: &Prepared,
            cases: &[CaseInputs],
            _s: &RunSettings,
        ) -> Result<InferResult, DeviceError> {
            Ok(InferResult {
                outputs: cases
                    .iter()
                    .map(|c| CaseOutput {
                        case_id: c.case_id.clone(),
                        outputs: vec![],
                        latency_ms: None,
                    })
                    .collect(),
                jobs: vec![],
                notes: Vec::new(),
            })
        }
    }

    fn model() -> ModelArtifact {
        ModelArtifact {
            path: "m.onnx".into(),
            kind: ModelKind::Onnx,
            sha256: "00".into(),
            size_bytes: 10,
            input_specs: Default::default(),
        }
    }

    fn opts(max: usize, timeout: Duration) -> ExecOptions {
        ExecOptions {
            max_concurrency: max,
            run_timeout: timeout,
        }
    }

    /// Tasks that profile and infer on every device.
    fn all_steps(devices: Vec<Arc<dyn Device>>) -> Vec<DeviceTask> {
        devices
            .into_iter()
            .map(|device| DeviceTask {
                device,
                profile: true,
                infer: true,
                settings: RunSettings {
                    warmup_runs: 0,
                    measurement_repeats: 1,
                    job_timeout: Duration::from_secs(60),
                    round: 0,
                    reuse_profiles: true,
                },
                runs: 1,
                baseline: None,
                extra_runs: 0,
                more: None,
            })
            .collect()
    }

    fn fakes(
        n: usize,
        delay: Duration,
        fail: &[usize],
    ) -> (Vec<Arc<dyn Device>>, Arc<AtomicUsize>) {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let devices = (0..n)
            .map(|i| {
                Arc::new(Fake {
                    name: format!("d{i}"),
                    delay,
                    fail_prepare: fail.contains(&i),
                    running: Arc::clone(&running),
                    peak: Arc::clone(&peak),
                }) as Arc<dyn Device>
            })
            .collect();
        (devices, peak)
    }

    /// Executes `tasks` on the one-case input with a quiet display.
    async fn exec(
        tasks: &[DeviceTask],
        max: usize,
        timeout: Duration,
        stop: CancellationToken,
    ) -> Execution {
        execute(
            tasks,
            &model(),
            cases(),
            &opts(max, timeout),
            stop,
            Arc::new(Quiet),
        )
        .await
    }

    fn cases() -> Arc<Vec<CaseInputs>> {
        Arc::new(vec![CaseInputs {
            case_id: "c1".into(),
            prompt: None,
            tensors: vec![],
        }])
    }

    #[tokio::test]
    async fn concurrency_is_bounded_and_a_failed_device_does_not_stop_others() {
        let (devices, peak) = fakes(5, Duration::from_millis(30), &[1]);
        let exec = exec(
            &all_steps(devices),
            2,
            Duration::from_secs(10),
            CancellationToken::new(),
        )
        .await;
        assert!(exec.stopped.is_none());
        assert!(peak.load(Ordering::SeqCst) <= 2);
        assert_eq!(
            exec.devices[1].error().as_deref(),
            Some("Compile job jc failed: unsupported op")
        );
        assert_eq!(exec.devices[1].jobs[0].id, "jc");
        for i in [0, 2, 3, 4] {
            let d = &exec.devices[i];
            assert!(d.finished && d.error().is_none());
            assert_eq!(d.profiles.first().map(|p| p.inference_ms.len()), Some(2));
            assert_eq!(d.infer.as_ref().map(|r| r.outputs.len()), Some(1));
        }
    }

    #[tokio::test]
    async fn only_the_steps_a_task_asks_for_run() {
        let (devices, _) = fakes(2, Duration::ZERO, &[]);
        let mut tasks = all_steps(devices);
        tasks[0].infer = false;
        tasks[1].profile = false;
        let exec = exec(&tasks, 2, Duration::from_secs(10), CancellationToken::new()).await;
        let (profiled, inferred) = (&exec.devices[0], &exec.devices[1]);
        assert!(!profiled.profiles.is_empty() && profiled.infer.is_none());
        assert!(inferred.profiles.is_empty() && inferred.infer.is_some());
        assert!(profiled.finished && inferred.finished);
    }

    #[tokio::test]
    async fn a_cancelled_run_keeps_finished_devices_and_marks_the_rest() {
        let (devices, _) = fakes(2, Duration::from_secs(30), &[0]);
        let stop = CancellationToken::new();
        let trigger = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            trigger.cancel();
        });
        let exec = exec(&all_steps(devices), 4, Duration::from_secs(60), stop).await;
        assert!(
            exec.stopped
                .as_deref()
                .is_some_and(|s| s.contains("signal"))
        );
        assert!(!exec.devices[0].interrupted);
        assert!(exec.devices[1].interrupted);
        assert!(exec.devices[1].prepared.is_some());
        assert!(
            exec.devices[1]
                .error()
                .is_some_and(|e| e.starts_with("interrupted by a signal"))
        );
    }

    /// A local device whose inference is done (its run id recorded) while its profile still runs.
    struct HalfDoneLocal;

    #[async_trait]
    impl Device for HalfDoneLocal {
        fn name(&self) -> &str {
            "host"
        }
        async fn prepare(&self, _model: &ModelArtifact) -> Result<Prepared, DeviceError> {
            Ok(Prepared {
                target_id: "local-x".into(),
                jobs: vec![],
                model_size_bytes: Some(1),
            })
        }
        async fn profile(
            &self,
            _p: &Prepared,
            _c: &[CaseInputs],
            _s: &RunSettings,
        ) -> Result<ProfileResult, DeviceError> {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(ProfileResult::default())
        }
        async fn infer(
            &self,
            _p: &Prepared,
            _cases: &[CaseInputs],
            _s: &RunSettings,
        ) -> Result<InferResult, DeviceError> {
            Ok(InferResult {
                outputs: vec![],
                jobs: vec![JobLink {
                    kind: JobKind::Local,
                    id: "local-host-1".into(),
                    url: None,
                    reused: false,
                }],
                notes: Vec::new(),
            })
        }
    }

    #[tokio::test]
    async fn a_stopped_local_run_lists_no_ai_hub_jobs() {
        let devices: Vec<Arc<dyn Device>> = vec![Arc::new(HalfDoneLocal)];
        let stop = CancellationToken::new();
        let trigger = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            trigger.cancel();
        });
        let exec = exec(&all_steps(devices), 1, Duration::from_secs(60), stop).await;
        let d = &exec.devices[0];
        assert!(d.interrupted);
        assert_eq!(d.jobs.len(), 1, "the local run is still recorded");
        assert_eq!(
            d.error().as_deref(),
            Some("interrupted by a signal (Ctrl-C or SIGTERM); not every measurement was taken")
        );
    }

    #[tokio::test]
    async fn a_job_timeout_names_the_job_once() {
        let mut run = DeviceRun::default();
        let stuck = DeviceError::Timeout {
            what: "compile job j1".into(),
            after: Duration::from_secs(90),
        };
        run.fail("profile", &stuck);
        run.fail("inference", &stuck);
        assert_eq!(
            run.error().as_deref(),
            Some("compile job j1 did not finish within the job time limit of 90 s (--job-timeout)")
        );
    }

    #[tokio::test]
    async fn the_whole_run_limit_stops_slow_devices() {
        let (devices, _) = fakes(1, Duration::from_secs(30), &[]);
        let exec = exec(
            &all_steps(devices),
            1,
            Duration::from_millis(50),
            CancellationToken::new(),
        )
        .await;
        assert!(exec.devices[0].interrupted);
        assert!(
            exec.devices[0]
                .error()
                .is_some_and(|e| e.contains("timeout_minutes"))
        );
    }
}
