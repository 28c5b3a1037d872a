//! The Qualcomm AI Hub backend of [`Device`]: upload the model once per run (shared by every AI
//! Hub device), compile with a seeded target model, wait for the compile, then submit the
//! profile and the inference job on its target. A failed compile submits neither and uploads no
//! inputs for that device: jobs that can only fail would still spend the user's job slots.
//!
//! Finished jobs are recorded in the [`JobCache`]; a later run with the same key re-reads their
//! results instead of submitting. This file knows AI Hub and the cache, never the engine.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::cache::{
    CacheKey, CachedKind, JobCache, JobKeyParts, compile_options, inference_options, job_key,
    profile_options, upload_key,
};
use super::{
    CaseInputs, CaseOutput, Device, DeviceError, InferResult, ModelArtifact, Prepared,
    ProfileResult, RunSettings,
};
use crate::config::HubTarget;
use crate::config::types::{ModelKind, Runtime};
use crate::hub::dataset::NamedSamples;
use crate::hub::devices::DeviceQuery;
use crate::hub::jobs::{CompileRequest, InferenceRequest};
use crate::hub::measure::ProfileMeasurements;
use crate::hub::proto::{self, NamedTensorType, TensorDtype, TensorType};
use crate::hub::{HubClient, HubError};
use crate::results::{JobKind, JobLink, LayerCounts};

/// A callback for progress notes: (device name, message).
pub type Notify = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// One model file's upload: its AI Hub model id, or why the upload failed.
type Upload = OnceCell<Result<String, String>>;

/// What every AI Hub device of one run shares: the client, the cache, the uploaded model and
/// the uploaded inputs.
pub struct HubContext {
    client: HubClient,
    cache: Option<Arc<JobCache>>,
    /// The uploaded model of each model file (by sha256): the model under test, and in paired
    /// mode the baseline model.
    model_ids: std::sync::Mutex<HashMap<String, Arc<Upload>>>,
    dataset_id: OnceCell<Result<String, String>>,
    inputs_digest: OnceLock<String>,
    notify: Option<Notify>,
}

impl HubContext {
    /// A context for one run; `cache` is `None` with `--no-cache`.
    pub fn new(client: HubClient, cache: Option<Arc<JobCache>>, notify: Option<Notify>) -> Self {
        Self {
            client,
            cache,
            model_ids: std::sync::Mutex::new(HashMap::new()),
            dataset_id: OnceCell::new(),
            inputs_digest: OnceLock::new(),
            notify,
        }
    }

    /// The client every device uses.
    pub fn client(&self) -> &HubClient {
        &self.client
    }

    fn hub_url(&self) -> String {
        self.client.config().api_url.to_string()
    }

    fn note(&self, device: &str, msg: &str) {
        if let Some(n) = &self.notify {
            n(device, msg);
        }
    }

    fn cached(&self, key: &CacheKey) -> Option<super::cache::CachedJob> {
        self.cache.as_ref().and_then(|c| c.get(key))
    }

    fn remember(&self, key: CacheKey, id: &str, target: Option<&str>) {
        if let Some(c) = &self.cache {
            c.put(key, id, target);
        }
    }

    fn upload_key(&self, model: &ModelArtifact) -> CacheKey {
        upload_key(&self.hub_url(), &model.sha256)
    }

    /// The AI Hub id of the model: uploaded once per run, or reused from the cache.
    async fn model_id(&self, device: &str, model: &ModelArtifact) -> Result<String, DeviceError> {
        let cell = match self.model_ids.lock() {
            Ok(mut m) => Arc::clone(m.entry(model.sha256.clone()).or_default()),
            Err(_) => Arc::new(OnceCell::new()),
        };
        cell.get_or_init(|| async {
            let key = self.upload_key(model);
            if let Some(hit) = self.cached(&key) {
                self.note(device, &format!("reusing uploaded model {}", hit.id));
                return Ok(hit.id);
            }
            self.note(device, "uploading the model");
            let name = model
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            match self.client.upload_model(&model.path, name.as_deref()).await {
                Ok(up) => {
                    self.remember(key, &up.model_id, None);
                    Ok(up.model_id)
                }
                Err(e) => Err(format!("failed to upload the model: {}", chain(&e))),
            }
        })
        .await
        .clone()
        .map_err(DeviceError::Unavailable)
    }

    fn inputs_digest(&self, cases: &[CaseInputs]) -> String {
        self.inputs_digest
            .get_or_init(|| digest_inputs(cases))
            .clone()
    }

    /// The inputs of every case as one dataset: uploaded once per run.
    async fn dataset_id(&self, device: &str, cases: &[CaseInputs]) -> Result<String, DeviceError> {
        if let Some(done) = self.dataset_id.get() {
            return done.clone().map_err(DeviceError::Unavailable);
        }
        let samples = dataset_samples(cases)?;
        self.dataset_id
            .get_or_init(|| async {
                self.note(
                    device,
                    &format!("uploading the inputs of {} cases", cases.len()),
                );
                self.client
                    .upload_inputs(samples, "edgegate-inputs")
                    .await
                    .map_err(|e| format!("failed to upload the case inputs: {}", chain(&e)))
            })
            .await
            .clone()
            .map_err(DeviceError::Unavailable)
    }
}

/// One AI Hub device of the matrix.
pub struct AihubDevice {
    name: String,
    hub_device: String,
    runtime: Runtime,
    compile_options: Option<String>,
    profile_options: Option<String>,
    model_kind: ModelKind,
    ctx: Arc<HubContext>,
    selected: OnceCell<Result<proto::Device, String>>,
    model_sha: Mutex<String>,
    compiled: OnceCell<Result<(), DeviceError>>,
    measure_size: bool,
}

impl AihubDevice {
    /// The device `name` of the matrix, reached as its resolved `target` says.
    pub fn new(
        ctx: Arc<HubContext>,
        name: &str,
        target: &HubTarget,
        model_kind: ModelKind,
    ) -> Self {
        Self {
            name: name.to_string(),
            hub_device: target.hub_device.clone(),
            runtime: target.runtime,
            compile_options: target.compile_options.clone(),
            profile_options: target.profile_options.clone(),
            model_kind,
            ctx,
            selected: OnceCell::new(),
            model_sha: Mutex::new(String::new()),
            compiled: OnceCell::new(),
            measure_size: false,
        }
    }

    /// Downloads the compiled model after profiling to report its size (`model_size_mb`); only
    /// worth it when a gate on that metric applies to this device.
    pub fn measure_model_size(mut self, on: bool) -> Self {
        self.measure_size = on;
        self
    }

    /// The size of the model that runs on the device: the source file when nothing was
    /// compiled, else the downloaded target model.
    async fn target_size(&self, prepared: &Prepared) -> Option<u64> {
        if let Some(b) = prepared.model_size_bytes {
            return Some(b);
        }
        if !self.measure_size {
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        match self
            .ctx
            .client
            .download_model(&prepared.target_id, dir.path())
            .await
        {
            Ok(path) => tokio::fs::metadata(&path).await.ok().map(|m| m.len()),
            Err(e) => {
                self.ctx.note(
                    &self.name,
                    &format!(
                        "could not download the compiled model to size it: {}",
                        chain(&e)
                    ),
                );
                None
            }
        }
    }

    fn compile_options(&self) -> String {
        compile_options(self.runtime, self.compile_options.as_deref())
    }

    fn key(&self, kind: CachedKind, model: &str, job_options: &str, inputs: &str) -> CacheKey {
        job_key(
            &JobKeyParts {
                hub_url: &self.ctx.hub_url(),
                model_sha256: model,
                model_kind: self.model_kind,
                hub_device: &self.hub_device,
                runtime: self.runtime,
                compile_options: self.compile_options.as_deref(),
            },
            kind,
            job_options,
            inputs,
        )
    }

    async fn device(&self) -> Result<proto::Device, DeviceError> {
        self.selected
            .get_or_init(|| async {
                let q = DeviceQuery {
                    name: Some(self.hub_device.clone()),
                    ..DeviceQuery::default()
                };
                self.ctx
                    .client
                    .select_device(&q)
                    .await
                    .map_err(|e| chain(&e))
            })
            .await
            .clone()
            .map_err(DeviceError::Unavailable)
    }

    fn link(&self, kind: JobKind, id: &str, reused: bool) -> JobLink {
        JobLink {
            kind,
            id: id.to_string(),
            url: Some(self.ctx.client.job_web_url(id)),
            reused,
        }
    }

    /// Waits once for this device's compile job (profile and inference share the wait); the
    /// dependent jobs are submitted only after it succeeded, so a failed compile is reported as
    /// itself and costs no further job.
    async fn compiled(
        &self,
        prepared: &Prepared,
        settings: &RunSettings,
    ) -> Result<(), DeviceError> {
        let Some(compile) = prepared
            .jobs
            .iter()
            .find(|j| j.kind == JobKind::Compile && !j.reused)
        else {
            return Ok(());
        };
        self.compiled
            .get_or_init(|| async {
                let waited = tokio::time::timeout(
                    settings.job_timeout,
                    self.ctx.client.wait_job(&compile.id),
                )
                .await;
                match waited {
                    Ok(Ok(_)) => {
                        self.ctx
                            .note(&self.name, &format!("compile job {} done", compile.id));
                        self.remember_compile(&self.model_sha(), prepared);
                        Ok(())
                    }
                    Ok(Err(HubError::JobFailed { reason, .. })) => Err(DeviceError::JobFailed {
                        job: compile.clone(),
                        reason,
                    }),
                    Ok(Err(e)) => Err(DeviceError::Unavailable(chain(&e))),
                    Err(_) => Err(DeviceError::Timeout {
                        what: format!("compile job {}", compile.id),
                        after: settings.job_timeout,
                    }),
                }
            })
            .await
            .clone()
    }

    /// Waits for a job within the per-job limit.
    async fn wait(
        &self,
        kind: JobKind,
        job_id: &str,
        settings: &RunSettings,
    ) -> Result<(), DeviceError> {
        let waited =
            tokio::time::timeout(settings.job_timeout, self.ctx.client.wait_job(job_id)).await;
        match waited {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self.map_err(kind, job_id, e)),
            Err(_) => Err(DeviceError::Timeout {
                what: format!("{} job {job_id}", kind_name(kind)),
                after: settings.job_timeout,
            }),
        }
    }

    fn map_err(&self, kind: JobKind, job_id: &str, e: HubError) -> DeviceError {
        match e {
            HubError::JobFailed { reason, .. } => DeviceError::JobFailed {
                job: self.link(kind, job_id, false),
                reason,
            },
            other => DeviceError::Unavailable(chain(&other)),
        }
    }

    fn remember_compile(&self, model: &str, prepared: &Prepared) {
        if let Some(c) = prepared
            .jobs
            .iter()
            .find(|j| j.kind == JobKind::Compile && !j.reused)
        {
            self.ctx.remember(
                self.key(CachedKind::Compile, model, "", ""),
                &c.id,
                Some(&prepared.target_id),
            );
        }
    }

    fn profile_options(&self, settings: &RunSettings) -> String {
        profile_options(
            settings.warmup_runs + settings.measurement_repeats,
            self.profile_options.as_deref(),
        )
    }

    async fn read_profile(&self, job_id: &str) -> Result<ProfileMeasurements, DeviceError> {
        let outcome = self
            .ctx
            .client
            .inference_outcome(job_id)
            .await
            .map_err(|e| self.map_err(JobKind::Profile, job_id, e))?;
        outcome.profile.ok_or_else(|| {
            DeviceError::Other(format!("profile job {job_id} returned no measurements"))
        })
    }

    async fn read_outputs(
        &self,
        job_id: &str,
        cases: &[CaseInputs],
    ) -> Result<Vec<CaseOutput>, DeviceError> {
        let outcome = self
            .ctx
            .client
            .inference_outcome(job_id)
            .await
            .map_err(|e| self.map_err(JobKind::Inference, job_id, e))?;
        let dataset = outcome.output_dataset_id.ok_or_else(|| {
            DeviceError::Other(format!("inference job {job_id} returned no outputs"))
        })?;
        let outputs = self
            .ctx
            .client
            .download_outputs(&dataset)
            .await
            .map_err(|e| DeviceError::Unavailable(chain(&e)))?;
        split_outputs(outputs, cases)
    }

    fn model_sha(&self) -> String {
        self.model_sha.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Device for AihubDevice {
    fn name(&self) -> &str {
        &self.name
    }

    async fn prepare(&self, model: &ModelArtifact) -> Result<Prepared, DeviceError> {
        if let Ok(mut sha) = self.model_sha.lock() {
            sha.clone_from(&model.sha256);
        }
        if !self.model_kind.needs_compile(self.runtime) {
            let model_id = self.ctx.model_id(&self.name, model).await?;
            return Ok(Prepared {
                target_id: model_id,
                jobs: Vec::new(),
                model_size_bytes: Some(model.size_bytes),
            });
        }
        let key = self.key(CachedKind::Compile, &model.sha256, "", "");
        if let Some(hit) = self.ctx.cached(&key)
            && let Some(target) = hit.target_model_id.clone()
        {
            self.ctx.note(
                &self.name,
                &format!("reusing compile job {} (target model {target})", hit.id),
            );
            return Ok(Prepared {
                target_id: target,
                jobs: vec![self.link(JobKind::Compile, &hit.id, true)],
                model_size_bytes: None,
            });
        }
        let model_id = self.ctx.model_id(&self.name, model).await?;
        let device = self.device().await?;
        let req = CompileRequest {
            model_id,
            device,
            name: format!("edgegate {}", self.name),
            options: self.compile_options(),
            input_specs: model
                .input_specs
                .iter()
                .map(|(name, spec)| NamedTensorType {
                    name: name.clone(),
                    tensor_type: Some(TensorType {
                        shape: spec.shape.iter().map(|&d| d as i64).collect(),
                        dtype: TensorDtype::from(spec.dtype) as i32,
                        scale: None,
                        zero_point: None,
                    }),
                    graph_name: None,
                })
                .collect(),
            calibration_dataset_id: None,
        };
        let submitted = self
            .ctx
            .client
            .submit_compile(&req)
            .await
            .map_err(|e| DeviceError::Unavailable(chain(&e)))?;
        self.ctx.note(
            &self.name,
            &format!(
                "submitted compile job {} ({})",
                submitted.job.job_id, submitted.job.url
            ),
        );
        Ok(Prepared {
            target_id: submitted.target_model_id,
            jobs: vec![self.link(JobKind::Compile, &submitted.job.job_id, false)],
            model_size_bytes: None,
        })
    }

    async fn profile(
        &self,
        prepared: &Prepared,
        _cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<ProfileResult, DeviceError> {
        let sha = self.model_sha();
        let options = self.profile_options(settings);
        let key = self.key(CachedKind::Profile, &sha, &options, "");
        if let Some(hit) = self.ctx.cached(&key).filter(|_| settings.reuse_profiles) {
            match self.read_profile(&hit.id).await {
                Ok(m) => {
                    self.ctx
                        .note(&self.name, &format!("reusing profile job {}", hit.id));
                    let mut r = profile_result(
                        &m,
                        self.link(JobKind::Profile, &hit.id, true),
                        settings.warmup_runs,
                    );
                    r.model_size_bytes = self.target_size(prepared).await;
                    return Ok(r);
                }
                Err(e) => {
                    tracing::info!(job = %hit.id, error = %e, "cached profile not readable; profiling again")
                }
            }
        }
        let job_id = self
            .run_on_target(JobKind::Profile, options, None, prepared, settings)
            .await?;
        let m = self.read_profile(&job_id).await?;
        self.ctx.remember(key, &job_id, None);
        let mut r = profile_result(
            &m,
            self.link(JobKind::Profile, &job_id, false),
            settings.warmup_runs,
        );
        r.model_size_bytes = self.target_size(prepared).await;
        Ok(r)
    }

    async fn infer(
        &self,
        prepared: &Prepared,
        cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<InferResult, DeviceError> {
        if cases.is_empty() {
            return Ok(InferResult::default());
        }
        let sha = self.model_sha();
        let options = inference_options(self.profile_options.as_deref());
        let key = self.key(
            CachedKind::Inference,
            &sha,
            &options,
            &self.ctx.inputs_digest(cases),
        );
        if let Some(hit) = self.ctx.cached(&key) {
            match self.read_outputs(&hit.id, cases).await {
                Ok(outputs) => {
                    self.ctx
                        .note(&self.name, &format!("reusing inference job {}", hit.id));
                    return Ok(InferResult {
                        outputs,
                        jobs: vec![self.link(JobKind::Inference, &hit.id, true)],
                        notes: Vec::new(),
                    });
                }
                Err(e) => {
                    tracing::info!(job = %hit.id, error = %e, "cached inference not readable; running again")
                }
            }
        }
        self.compiled(prepared, settings).await?;
        let dataset_id = self.ctx.dataset_id(&self.name, cases).await?;
        let job_id = self
            .run_on_target(
                JobKind::Inference,
                options,
                Some(dataset_id),
                prepared,
                settings,
            )
            .await?;
        let outputs = self.read_outputs(&job_id, cases).await?;
        self.ctx.remember(key, &job_id, None);
        Ok(InferResult {
            outputs,
            jobs: vec![self.link(JobKind::Inference, &job_id, false)],
            notes: Vec::new(),
        })
    }
}

impl AihubDevice {
    /// Waits for the compile, then submits a profile or inference job on its target model,
    /// waits for that job, and returns its id. Nothing is submitted when the compile failed.
    async fn run_on_target(
        &self,
        kind: JobKind,
        options: String,
        dataset_id: Option<String>,
        prepared: &Prepared,
        settings: &RunSettings,
    ) -> Result<String, DeviceError> {
        self.compiled(prepared, settings).await?;
        let what = kind_name(kind);
        let req = InferenceRequest {
            model_id: prepared.target_id.clone(),
            device: self.device().await?,
            name: format!("edgegate {} {what}", self.name),
            options,
            dataset_id,
            profile: kind == JobKind::Profile,
        };
        let job = self
            .ctx
            .client
            .submit_inference(&req)
            .await
            .map_err(|e| submit_error(&e, prepared))?;
        self.ctx.note(
            &self.name,
            &format!("submitted {what} job {} ({})", job.job_id, job.url),
        );
        self.wait(kind, &job.job_id, settings).await?;
        Ok(job.job_id)
    }
}

/// The kind of a job as messages name it.
fn kind_name(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Compile => "compile",
        JobKind::Profile => "profile",
        JobKind::Inference => "inference",
        JobKind::Local => "local",
    }
}

/// A refused submission; on a reused compile, a hint that its target model may be gone.
fn submit_error(e: &HubError, prepared: &Prepared) -> DeviceError {
    let mut text = chain(e);
    if let Some(c) = prepared
        .jobs
        .iter()
        .find(|j| j.kind == JobKind::Compile && j.reused)
    {
        text.push_str(&format!(
            " (the target model of cached compile job {} may no longer exist: run with --no-cache)",
            c.id
        ));
    }
    DeviceError::Unavailable(text)
}

/// An error with its causes, one sentence.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

/// A digest of every input tensor of every case, in order, for the inference cache key.
pub fn digest_inputs(cases: &[CaseInputs]) -> String {
    let mut h = Sha256::new();
    for c in cases {
        h.update(c.case_id.as_bytes());
        h.update([0]);
        for (name, t) in &c.tensors {
            h.update(name.as_bytes());
            h.update([0]);
            h.update(t.dtype().name().as_bytes());
            for d in t.shape() {
                h.update((*d as u64).to_le_bytes());
            }
            h.update((t.data().len() as u64).to_le_bytes());
            h.update(t.data());
        }
    }
    hex::encode(h.finalize())
}

/// The cases' inputs as one dataset: one entry per input name, one sample per case.
pub fn dataset_samples(cases: &[CaseInputs]) -> Result<Vec<NamedSamples>, DeviceError> {
    let Some(first) = cases.first() else {
        return Ok(Vec::new());
    };
    let names: Vec<&str> = first.tensors.iter().map(|(n, _)| n.as_str()).collect();
    if names.is_empty() {
        return Err(DeviceError::InvalidInput(format!(
            "case {} has no input tensors; ai hub inference needs `inputs:` (npy or image) on every case",
            first.case_id
        )));
    }
    let mut out: Vec<NamedSamples> = names
        .iter()
        .map(|n| NamedSamples {
            name: n.to_string(),
            samples: Vec::with_capacity(cases.len()),
        })
        .collect();
    for c in cases {
        let these: Vec<&str> = c.tensors.iter().map(|(n, _)| n.as_str()).collect();
        if these != names {
            return Err(DeviceError::InvalidInput(format!(
                "case {} has inputs [{}] but case {} has [{}]; one ai hub dataset needs the same inputs on every case",
                c.case_id,
                these.join(", "),
                first.case_id,
                names.join(", ")
            )));
        }
        for (slot, (_, t)) in out.iter_mut().zip(&c.tensors) {
            slot.samples.push(t.clone());
        }
    }
    Ok(out)
}

/// Splits a batch of outputs (one sample per case, in case order) back into per-case outputs.
pub fn split_outputs(
    outputs: Vec<NamedSamples>,
    cases: &[CaseInputs],
) -> Result<Vec<CaseOutput>, DeviceError> {
    for o in &outputs {
        if o.samples.len() != cases.len() {
            return Err(DeviceError::Other(format!(
                "ai hub returned {} samples of output {} for {} cases",
                o.samples.len(),
                o.name,
                cases.len()
            )));
        }
    }
    let mut per_case: Vec<CaseOutput> = cases
        .iter()
        .map(|c| CaseOutput {
            case_id: c.case_id.clone(),
            outputs: Vec::with_capacity(outputs.len()),
            latency_ms: None,
        })
        .collect();
    for o in outputs {
        for (slot, t) in per_case.iter_mut().zip(o.samples) {
            slot.outputs.push((o.name.clone(), t));
        }
    }
    Ok(per_case)
}

/// A profile's measurements as the device trait reports them. The job ran `warmup + repeats`
/// iterations (`--max_profiler_iterations`); the first `warmup` of them are warm-up and are
/// dropped, so the median covers the timed iterations only (when the profile lists no more
/// than `warmup` iterations, all of them are kept rather than none).
pub fn profile_result(m: &ProfileMeasurements, job: JobLink, warmup: u32) -> ProfileResult {
    let warmup = warmup as usize;
    let inference_ms = if m.all_inference_times_ms.is_empty() {
        vec![m.inference_time_ms]
    } else if m.all_inference_times_ms.len() > warmup {
        m.all_inference_times_ms[warmup..].to_vec()
    } else {
        m.all_inference_times_ms.clone()
    };
    let p = m.layer_placement;
    ProfileResult {
        inference_ms,
        load_time_ms: m.first_load_time_ms,
        peak_memory_bytes: m
            .inference_memory_peak_range
            .map(|r| r.upper)
            .or(m.inference_peak_memory_bytes),
        layers: (p.total() > 0).then_some(LayerCounts {
            npu: p.npu,
            gpu: p.gpu,
            cpu: p.cpu,
        }),
        model_size_bytes: None,
        jobs: vec![job],
        generation: None,
        graphs: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::measure::{ByteRange, LayerPlacement};
    use crate::tensor::Tensor;

    fn case(id: &str, names: &[&str], v: f32) -> CaseInputs {
        CaseInputs {
            case_id: id.into(),
            prompt: None,
            tensors: names
                .iter()
                .map(|n| {
                    (
                        n.to_string(),
                        Tensor::from_f32(vec![1, 2], &[v, v]).expect("tensor"),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn cases_become_one_dataset_and_outputs_split_back_per_case() {
        let cases = vec![case("a", &["x", "y"], 1.0), case("b", &["x", "y"], 2.0)];
        let ds = dataset_samples(&cases).expect("dataset");
        assert_eq!(ds.len(), 2);
        assert_eq!(ds[0].name, "x");
        assert_eq!(ds[0].samples.len(), 2);
        assert_eq!(ds[1].samples[1].to_f64_vec(), vec![2.0, 2.0]);
        let outs = split_outputs(ds, &cases).expect("split");
        assert_eq!(outs[1].case_id, "b");
        assert_eq!(outs[1].outputs[0].0, "x");
        assert_eq!(outs[1].outputs[1].1.to_f64_vec(), vec![2.0, 2.0]);
    }

    #[test]
    fn mismatched_or_missing_inputs_and_short_outputs_are_errors() {
        let err = dataset_samples(&[case("a", &["x"], 1.0), case("b", &["z"], 1.0)])
            .expect_err("mismatch");
        assert!(err.to_string().contains("case b has inputs [z]"), "{err}");
        let err = dataset_samples(&[case("a", &[], 1.0)]).expect_err("no tensors");
        assert!(matches!(err, DeviceError::InvalidInput(_)));
        let one = dataset_samples(&[case("a", &["x"], 1.0)]).expect("dataset");
        let err = split_outputs(one, &[case("a", &["x"], 1.0), case("b", &["x"], 1.0)])
            .expect_err("short");
        assert!(
            err.to_string()
                .contains("1 samples of output x for 2 cases"),
            "{err}"
        );
    }

    #[test]
    fn profiles_keep_every_iteration_and_the_upper_peak() {
        let link = JobLink {
            kind: JobKind::Profile,
            id: "j1".into(),
            url: None,
            reused: false,
        };
        let mut m = ProfileMeasurements {
            inference_time_ms: 5.0,
            all_inference_times_ms: vec![4.9, 5.1, 5.0],
            inference_peak_memory_bytes: Some(10),
            inference_memory_peak_range: Some(ByteRange {
                lower: 10,
                upper: 20,
            }),
            inference_memory_increase_range: None,
            first_load_time_ms: Some(100.0),
            all_first_load_times_ms: vec![],
            first_load_peak_memory_bytes: None,
            first_load_memory_peak_range: None,
            warm_load_time_ms: None,
            warm_load_peak_memory_bytes: None,
            warm_load_memory_peak_range: None,
            compile_time_ms: None,
            compile_memory_peak_range: None,
            layer_placement: LayerPlacement {
                npu: 3,
                gpu: 0,
                cpu: 1,
                unspecified: 0,
            },
            layers: vec![],
            profile_version: "1.8".into(),
        };
        let r = profile_result(&m, link.clone(), 0);
        assert_eq!(r.inference_ms, vec![4.9, 5.1, 5.0]);
        let r = profile_result(&m, link.clone(), 1);
        assert_eq!(
            r.inference_ms,
            vec![5.1, 5.0],
            "the warm-up iteration is dropped"
        );
        let r = profile_result(&m, link.clone(), 3);
        assert_eq!(r.inference_ms, vec![4.9, 5.1, 5.0], "never all of them");
        assert_eq!(r.peak_memory_bytes, Some(20));
        assert_eq!(r.load_time_ms, Some(100.0));
        assert_eq!(r.layers.map(|l| (l.npu, l.cpu)), Some((3, 1)));
        m.all_inference_times_ms.clear();
        m.inference_memory_peak_range = None;
        m.layer_placement = LayerPlacement::default();
        let r = profile_result(&m, link, 1);
        assert_eq!(r.inference_ms, vec![5.0]);
        assert_eq!(r.peak_memory_bytes, Some(10));
        assert_eq!(r.layers, None);
    }
}
