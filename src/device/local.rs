//! The local `host` device: runs ONNX models in-process on this machine's CPU with tract, a
//! pure-Rust inference engine, so a user with no AI Hub account still gets real answers and real
//! latency figures.
//!
//! What it measures, and the limits of each figure:
//! - `load_time_ms`: reading, parsing, optimising and planning the model (wall clock, once).
//! - `inference_ms`: wall clock of each timed `run` on a reused execution state: for each case,
//!   `warmup_runs` untimed runs then `measurement_repeats` timed ones (zero tensors of the input
//!   shapes when there are no cases).
//! - `peak_memory_bytes`: the process's peak resident set size (`VmHWM` in `/proc/self/status`)
//!   over the profile, reset first through `/proc/self/clear_refs` when the kernel allows. It is
//!   the whole edgegate process (binary, runtime, other devices running at the same time), so an
//!   upper bound of what the model needs; `None` where `/proc` does not exist (macOS, Windows).
//! - `layers`: `None`; a CPU has no NPU/GPU placement.
//!
//! Which errors mean what (the engine maps them to exit codes): `InvalidModel` for a file that is
//! not ONNX or uses an operator tract cannot run, `InvalidInput` for case tensors that do not fit
//! the model's inputs; both are problems of the user's files, not of the machine.
//!
//! Loading and running the model is `crate::onnx`, shared with the simulator; this file adds the
//! device: timing, cancellation, peak memory. It never reaches into the simulator.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;

use super::{
    CaseInputs, CaseOutput, Device, DeviceError, InferResult, ModelArtifact, Prepared,
    ProfileResult, RunSettings, blocking,
};
use crate::config::ModelKind;
use crate::onnx::{InputSpec, OnnxError, OnnxModel};
use crate::results::{JobKind, JobLink};

/// A `provider: local` device from `device_matrix`.
pub struct LocalDevice {
    name: String,
    /// The last model loaded, keyed by its target id.
    loaded: Mutex<Option<(String, Arc<Loaded>)>>,
    run_lock: tokio::sync::Mutex<()>,
    runs: AtomicU64,
}

impl std::fmt::Debug for LocalDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalDevice")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A model loaded, optimised and planned once, shared by profile and infer.
struct Loaded {
    model: OnnxModel,
    /// Where it came from, so a later run can load it afresh.
    path: std::path::PathBuf,
    specs: Vec<InputSpec>,
}

impl LocalDevice {
    /// A local device called `name` in results and reports.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            loaded: Mutex::new(None),
            run_lock: tokio::sync::Mutex::new(()),
            runs: AtomicU64::new(0),
        }
    }

    /// The job of the current local run: `prepare` starts the next one, and its profile and
    /// inference belong to it, so one local run (the plan's `local_run`) is one job.
    fn job(&self, start: bool) -> JobLink {
        local_job(&self.name, &self.runs, start)
    }

    fn loaded_for(&self, prepared: &Prepared) -> Result<Arc<Loaded>, DeviceError> {
        blocking::prepared(&self.loaded, &self.name, &prepared.target_id)
    }
}

#[async_trait]
impl Device for LocalDevice {
    fn name(&self) -> &str {
        &self.name
    }

    async fn prepare(&self, model: &ModelArtifact) -> Result<Prepared, DeviceError> {
        if model.kind != ModelKind::Onnx {
            return Err(DeviceError::InvalidModel(format!(
                "{} is a {} model, but the local device runs ONNX only; export it to ONNX, or run it on an AI Hub device",
                model.path.display(),
                model.kind.as_str()
            )));
        }
        let target_id = format!("local-{}", model.sha256);
        let path = model.path.clone();
        let specs = specs_of(model);
        let loaded =
            blocking::load_cached(&self.loaded, &target_id, "loading the model", move || {
                let model = OnnxModel::load(&path, &specs)?;
                Ok(Loaded { model, path, specs })
            })
            .await?;
        Ok(Prepared {
            target_id,
            jobs: vec![self.job(true)],
            model_size_bytes: Some(loaded.model.size_bytes()),
        })
    }

    async fn profile(
        &self,
        prepared: &Prepared,
        cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<ProfileResult, DeviceError> {
        let mut loaded = self.loaded_for(prepared)?;
        if settings.round > 0 {
            // An independent run: load, optimise and plan the model again, as a new process would.
            let (path, specs) = (loaded.path.clone(), loaded.specs.clone());
            let onnx = tokio::task::spawn_blocking(move || OnnxModel::load(&path, &specs))
                .await
                .map_err(|e| DeviceError::Other(format!("loading the model panicked: {e}")))??;
            let fresh = Arc::new(Loaded {
                model: onnx,
                path: loaded.path.clone(),
                specs: loaded.specs.clone(),
            });
            blocking::keep(&self.loaded, &prepared.target_id, Arc::clone(&fresh));
            loaded = fresh;
        }
        let feeds = if cases.is_empty() {
            vec![loaded.model.zero_feed()?]
        } else {
            cases
                .iter()
                .map(|c| loaded.model.feed(&c.case_id, &c.tensors))
                .collect::<Result<Vec<_>, _>>()?
        };
        let (warmup, repeats) = (settings.warmup_runs, settings.measurement_repeats.max(1));
        let _guard = self.run_lock.lock().await;
        let l = loaded.clone();
        let (samples, peak, _reset) = blocking::run(
            "the profile run on the local CPU",
            settings.job_timeout,
            move |cancel| {
                let reset = reset_peak_rss();
                let mut session = l.model.session()?;
                let mut samples = Vec::with_capacity(feeds.len() * repeats as usize);
                for feed in feeds {
                    let inputs = feed.into_inputs();
                    for _ in 0..warmup {
                        cancel.check()?;
                        session.run(&inputs)?;
                    }
                    for _ in 0..repeats {
                        cancel.check()?;
                        let t = Instant::now();
                        let out = session.run(&inputs);
                        let ms = t.elapsed().as_secs_f64() * 1e3;
                        out?;
                        samples.push(ms);
                    }
                }
                Ok::<_, DeviceError>((samples, peak_rss_bytes(), reset))
            },
        )
        .await?;
        Ok(ProfileResult {
            inference_ms: samples,
            load_time_ms: Some(loaded.model.load_time_ms()),
            peak_memory_bytes: peak,
            layers: None,
            model_size_bytes: Some(loaded.model.size_bytes()),
            jobs: vec![self.job(false)],
            generation: None,
            graphs: None,
        })
    }

    async fn infer(
        &self,
        prepared: &Prepared,
        cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<InferResult, DeviceError> {
        let loaded = self.loaded_for(prepared)?;
        let feeds = cases
            .iter()
            .map(|c| loaded.model.feed(&c.case_id, &c.tensors))
            .collect::<Result<Vec<_>, _>>()?;
        let _guard = self.run_lock.lock().await;
        let l = loaded.clone();
        let outputs = blocking::run(
            "the inference run on the local CPU",
            settings.job_timeout,
            move |cancel| {
                let mut session = l.model.session()?;
                let mut outputs = Vec::with_capacity(feeds.len());
                for feed in feeds {
                    cancel.check()?;
                    let case = feed.case().to_owned();
                    let inputs = feed.into_inputs();
                    let t = Instant::now();
                    let out = session.run(&inputs);
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    let named = l.model.read_outputs(&case, out?)?;
                    outputs.push(CaseOutput {
                        case_id: case,
                        outputs: named,
                        latency_ms: Some(ms),
                    });
                }
                Ok::<_, DeviceError>(outputs)
            },
        )
        .await?;
        Ok(InferResult {
            outputs,
            jobs: vec![self.job(false)],
            notes: Vec::new(),
        })
    }
}

fn specs_of(model: &ModelArtifact) -> Vec<InputSpec> {
    model
        .input_specs
        .iter()
        .map(|(n, s)| InputSpec {
            name: n.clone(),
            shape: s.shape.iter().map(|&d| d as usize).collect(),
            dtype: s.dtype,
        })
        .collect()
}

impl From<OnnxError> for DeviceError {
    fn from(e: OnnxError) -> Self {
        match e {
            OnnxError::InvalidModel(m) => DeviceError::InvalidModel(m),
            OnnxError::InvalidInput(m) => DeviceError::InvalidInput(m),
            OnnxError::Run(m) => DeviceError::Other(m),
        }
    }
}

/// Resets the process's peak RSS so the next reading covers only what follows (Linux 4.0+).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's peak resident set size (`VmHWM`), in bytes, where `/proc` exists.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The job of a local device's current run, counted in `runs`: `prepare` starts the next one
/// (`start`), and its profile and inference belong to it. Shared with the generative device.
pub(super) fn local_job(name: &str, runs: &AtomicU64, start: bool) -> JobLink {
    let n = if start {
        runs.fetch_add(1, Ordering::Relaxed) + 1
    } else {
        runs.load(Ordering::Relaxed)
    };
    JobLink {
        kind: JobKind::Local,
        id: format!("local-{name}-{n}"),
        url: None,
        reused: false,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::config::{Expected, Project, load_project};
    use crate::device::inputs::load_case_inputs;
    use crate::tensor::{DType, Tensor};

    fn quickstart(config: &str) -> (Project, ModelArtifact, Vec<CaseInputs>) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/quickstart")
            .join(config);
        let project = match load_project(&path) {
            Ok(p) => p,
            Err(f) => panic!("{:?}", f.diagnostics),
        };
        let model = artifact(&project.model_path, ModelKind::Onnx);
        let cases = load_case_inputs(&project, &model).unwrap();
        (project, model, cases)
    }

    fn artifact(path: &Path, kind: ModelKind) -> ModelArtifact {
        let bytes = std::fs::read(path).unwrap();
        ModelArtifact {
            path: path.to_owned(),
            kind,
            sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
            size_bytes: bytes.len() as u64,
            input_specs: Default::default(),
        }
    }

    fn settings(warmup_runs: u32, measurement_repeats: u32) -> RunSettings {
        RunSettings {
            warmup_runs,
            measurement_repeats,
            job_timeout: Duration::from_secs(120),
            round: 0,
            reuse_profiles: true,
        }
    }

    fn argmax(t: &Tensor) -> usize {
        let v = t.to_f64_vec();
        (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap()
    }

    async fn accuracy(config: &str) -> f64 {
        let (project, model, cases) = quickstart(config);
        let dev = LocalDevice::new("host");
        let prepared = dev.prepare(&model).await.unwrap();
        let result = dev.infer(&prepared, &cases, &settings(0, 1)).await.unwrap();
        let pack = project.promptpack.unwrap();
        assert_eq!(result.outputs.len(), pack.cases.len());
        let mut right = 0;
        for (out, case) in result.outputs.iter().zip(&pack.cases) {
            assert_eq!(out.case_id, case.case_id);
            assert_eq!(out.outputs.len(), 1);
            let (name, probs) = &out.outputs[0];
            assert_eq!(name, "probabilities");
            assert_eq!(probs.shape(), &[1, 10]);
            assert_eq!(probs.dtype(), DType::F32);
            let sum: f64 = probs.to_f64_vec().iter().sum();
            assert!((sum - 1.0).abs() < 1e-4, "softmax sums to {sum}");
            assert!(out.latency_ms.is_some_and(|ms| ms > 0.0));
            let Expected::Label { label, .. } = &case.expected else {
                panic!("quickstart cases expect labels");
            };
            if argmax(probs).to_string() == *label {
                right += 1;
            }
        }
        f64::from(right) / pack.cases.len() as f64
    }

    #[tokio::test]
    async fn quickstart_model_recognises_the_held_out_digits() {
        let good = accuracy("edgegate.yaml").await;
        assert!(good >= 0.95, "good model accuracy {good}");
    }

    #[tokio::test]
    async fn regressed_model_is_less_accurate() {
        let good = accuracy("edgegate.yaml").await;
        let bad = accuracy("edgegate-regressed.yaml").await;
        assert!(bad < good, "regressed {bad} vs good {good}");
        assert!(
            bad < 0.9,
            "regressed model accuracy {bad} should fail the 0.9 gate"
        );
    }

    #[tokio::test]
    async fn profile_times_every_repeat_of_every_case() {
        let (_, model, cases) = quickstart("edgegate.yaml");
        let dev = LocalDevice::new("host");
        let prepared = dev.prepare(&model).await.unwrap();
        assert_eq!(prepared.model_size_bytes, Some(model.size_bytes));
        assert_eq!(prepared.jobs[0].kind, JobKind::Local);
        let p = dev
            .profile(&prepared, &cases[..3], &settings(1, 4))
            .await
            .unwrap();
        assert_eq!(p.inference_ms.len(), 12);
        assert_eq!(
            p.jobs[0].id, prepared.jobs[0].id,
            "one local run is one job"
        );
        assert!(p.inference_ms.iter().all(|ms| *ms > 0.0 && *ms < 1000.0));
        assert!(p.load_time_ms.is_some_and(|ms| ms > 0.0));
        assert_eq!(p.model_size_bytes, Some(model.size_bytes));
        assert!(p.layers.is_none());
        if cfg!(target_os = "linux") {
            let peak = p.peak_memory_bytes.unwrap();
            assert!(peak > 1 << 20 && peak < 8 << 30, "{peak}");
        }
        let again = dev.prepare(&model).await.unwrap();
        assert_eq!(again.target_id, prepared.target_id);
        assert_ne!(again.jobs[0].id, prepared.jobs[0].id);
    }

    #[tokio::test]
    async fn profile_without_cases_runs_on_zero_tensors() {
        let (_, model, _) = quickstart("edgegate.yaml");
        let dev = LocalDevice::new("host");
        let prepared = dev.prepare(&model).await.unwrap();
        let p = dev.profile(&prepared, &[], &settings(0, 3)).await.unwrap();
        assert_eq!(p.inference_ms.len(), 3);
    }

    #[tokio::test]
    async fn wrong_shape_and_dtype_name_case_input_and_both_sides() {
        let (_, model, cases) = quickstart("edgegate.yaml");
        let dev = LocalDevice::new("host");
        let prepared = dev.prepare(&model).await.unwrap();
        let mut bad = cases[0].clone();
        bad.tensors[0].1 = Tensor::zeros(DType::F32, vec![1, 8, 8]).unwrap();
        let err = dev
            .infer(&prepared, &[bad.clone()], &settings(0, 1))
            .await
            .unwrap_err();
        let DeviceError::InvalidInput(msg) = &err else {
            panic!("{err:?}");
        };
        assert!(msg.contains("case `digit_000`, input `image`"), "{msg}");
        assert!(msg.contains("expects float32 [1, 64]"), "{msg}");
        assert!(msg.contains("gives float32 [1, 8, 8]"), "{msg}");
        bad.tensors[0].1 = Tensor::zeros(DType::I64, vec![1, 64]).unwrap();
        let err = dev
            .profile(&prepared, &[bad.clone()], &settings(0, 1))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, DeviceError::InvalidInput(m) if m.contains("gives int64 [1, 64]")),
            "{err:?}"
        );
        bad.tensors
            .push(("mask".into(), Tensor::zeros(DType::F32, vec![1]).unwrap()));
        let err = dev
            .infer(&prepared, &[bad], &settings(0, 1))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, DeviceError::InvalidInput(m) if m.contains("gives input `mask`") && m.contains("`image`")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_file_that_is_not_onnx_is_an_invalid_model() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        std::fs::write(&path, "this is not a protobuf\n".repeat(10)).unwrap();
        let err = LocalDevice::new("host")
            .prepare(&artifact(&path, ModelKind::Onnx))
            .await
            .unwrap_err();
        let DeviceError::InvalidModel(msg) = &err else {
            panic!("{err:?}");
        };
        assert!(msg.contains("model.onnx is not an ONNX model"), "{msg}");
        assert!(
            msg.contains("export it to ONNX, or run it on an AI Hub device"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn a_tflite_model_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.tflite");
        std::fs::write(&path, b"TFL3").unwrap();
        let err = LocalDevice::new("host")
            .prepare(&artifact(&path, ModelKind::Tflite))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, DeviceError::InvalidModel(m) if m.contains("is a tflite model") && m.contains("ONNX only")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn an_unknown_operator_is_named() {
        let (project, _, _) = quickstart("edgegate.yaml");
        let bytes = std::fs::read(&project.model_path).unwrap();
        let at = bytes.windows(7).position(|w| w == b"Softmax").unwrap();
        let mut patched = bytes.clone();
        patched[at..at + 7].copy_from_slice(b"FancyOp");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fancy.onnx");
        std::fs::write(&path, patched).unwrap();
        let err = LocalDevice::new("host")
            .prepare(&artifact(&path, ModelKind::Onnx))
            .await
            .unwrap_err();
        let DeviceError::InvalidModel(msg) = &err else {
            panic!("{err:?}");
        };
        assert!(msg.contains("cannot run operator `FancyOp`"), "{msg}");
        assert!(msg.contains("AI Hub"), "{msg}");
    }

    #[tokio::test]
    async fn input_specs_must_use_the_model_input_names() {
        let (_, mut model, _) = quickstart("edgegate.yaml");
        model.input_specs.insert(
            "pixels".into(),
            crate::config::types::TensorSpec {
                shape: vec![1, 64],
                dtype: DType::F32,
            },
        );
        let err = LocalDevice::new("host").prepare(&model).await.unwrap_err();
        assert!(
            matches!(&err, DeviceError::InvalidInput(m) if m.contains("`pixels`") && m.contains("`image`")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn profile_before_prepare_is_an_error_not_a_panic() {
        let dev = LocalDevice::new("host");
        let prepared = Prepared {
            target_id: "local-x".into(),
            jobs: vec![],
            model_size_bytes: None,
        };
        let err = dev
            .profile(&prepared, &[], &settings(0, 1))
            .await
            .unwrap_err();
        assert!(matches!(err, DeviceError::Other(_)), "{err:?}");
    }
}
