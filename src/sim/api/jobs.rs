//! `jobs/`: submit compile and inference (profile) jobs, read, list and rename them. A job's
//! timing and failure are decided when it is created (scenario, device, options); its state at
//! any moment follows from the clock (`store.rs`). Results and logs are in `results.rs`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

use crate::hub::proto::{self, JobArtifactType, JobFailureType, JobState, ModelType, job};
use crate::sim::blobs;
use crate::sim::measure;
use crate::sim::outputs::{echo_spec, run_dataset};
use crate::sim::scenario::JobKind;
use crate::sim::state::{Counters, SimState};
use crate::sim::store::{JobRec, ModelRec, Status, Store, timing};

use super::datasets::dataset_msg;
use super::models::model_msg;
use super::results::peak_range;
use super::wire::{ApiError, ApiResult, Query, bad, decode, found, paginate, pb, ts, urm};

pub(super) async fn create_job(
    State(s): State<Arc<SimState>>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult {
    let q = Query::parse(q);
    let req: proto::Job = decode(&body, "Job")?;
    match req.job {
        Some(job::Job::CompileJob(c)) => create_compile(&s, c, q.flag("seed_target_model")).await,
        Some(job::Job::InferenceJob(i)) => create_inference(&s, i).await,
        Some(job::Job::ProfileJob(_)) => Err(bad(
            "profile_job is the pre-0.56 shape; submit an inference_job with is_profiling_on",
        )),
        Some(job::Job::QuantizeJob(_)) | Some(job::Job::LinkJob(_)) => {
            Err(bad("quantize and link jobs are not simulated"))
        }
        None => Err(bad("the Job message holds no job")),
    }
}

pub(super) async fn get_job(State(s): State<Arc<SimState>>, Path(id): Path<String>) -> ApiResult {
    let store = s.store();
    let j = found(store.jobs.get(&id), "Job", &id)?;
    let st = store.status(j, Instant::now());
    Ok(pb(&job_msg(&s, &store, j, &st)))
}

pub(super) async fn list_jobs(State(s): State<Arc<SimState>>, RawQuery(q): RawQuery) -> ApiResult {
    let page = Query::parse(q).page()?;
    let store = s.store();
    let now = Instant::now();
    let jobs: Vec<proto::Job> = store
        .job_order
        .iter()
        .rev()
        .filter_map(|id| store.jobs.get(id))
        .map(|j| job_msg(&s, &store, j, &store.status(j, now)))
        .collect();
    let total = jobs.len() as u64;
    Ok(pb(&proto::JobList {
        jobs: paginate(jobs, page),
        total_query_count: total,
    }))
}

pub(super) async fn patch_job(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: proto::JobPublicUpdate = decode(&body, "JobPublicUpdate")?;
    let mut store = s.store();
    let j = found(store.jobs.get_mut(&id), "Job", &id)?;
    if let Some(name) = req.name {
        j.name = name;
    }
    Ok(urm(&id, None, None))
}

pub(super) fn job_msg(s: &SimState, store: &Store, j: &JobRec, st: &Status) -> proto::Job {
    let done = st.state == JobState::Done;
    let terminal = st.state.is_terminal();
    let started = st.started.map(|t| s.unix(t));
    let finished = st.finished.map(|t| s.unix(t));
    let model = store.models.get(&j.model_id).map(model_msg);
    let failure_reason = st.failure.as_ref().map(|f| f.0.clone());
    let last_updated = finished.or(started).unwrap_or(j.created);
    let inner = match j.kind {
        JobKind::Compile => {
            let target = j
                .target_model_id
                .as_ref()
                .filter(|_| j.seeded || done)
                .and_then(|id| store.models.get(id))
                .map(model_msg);
            job::Job::CompileJob(proto::CompileJob {
                compile_job_id: j.id.clone(),
                model,
                job_state: st.state as i32,
                device: Some(j.device.clone()),
                devices: j.devices.clone(),
                tensor_type_list: j.tensor_type_list.clone(),
                name: j.name.clone(),
                options: j.options.clone(),
                failure_reason,
                target_model: target,
                has_vizgraph: Some(false),
                creation_time: ts(j.created),
                start_time: started.and_then(ts),
                completion_time: finished.and_then(ts),
                last_updated_time: ts(last_updated),
                target_tensor_type_list: done
                    .then(|| j.tensor_type_list.clone().unwrap_or_default()),
                queued_time: ts(j.created),
                ..proto::CompileJob::default()
            })
        }
        JobKind::Profile | JobKind::Inference => {
            let m = j.measurement.as_ref().filter(|_| done);
            job::Job::InferenceJob(proto::InferenceJob {
                inference_job_id: j.id.clone(),
                model,
                device: Some(j.device.clone()),
                job_state: st.state as i32,
                name: j.name.clone(),
                dataset: j
                    .dataset_id
                    .as_ref()
                    .and_then(|d| store.datasets.get(d))
                    .map(dataset_msg),
                creation_time: ts(j.created),
                start_time: started.and_then(ts),
                completion_time: finished.and_then(ts),
                failure_reason,
                options: j.options.clone(),
                last_updated_time: ts(last_updated),
                queued_time: ts(j.created),
                is_profiling_on: Some(j.kind == JobKind::Profile),
                execution_time: m.map(|m| m.inference_us),
                execution_peak_memory: m.map(peak_range),
                has_vizgraph: Some(false),
                tensor_type_list: done.then(|| j.input_types.clone().unwrap_or_default()),
                ..proto::InferenceJob::default()
            })
        }
    };
    let available_artifacts = match (terminal, j.kind) {
        (false, _) => vec![],
        (true, JobKind::Compile) => vec![JobArtifactType::HubLog as i32],
        (true, _) => vec![
            JobArtifactType::DeviceLog as i32,
            JobArtifactType::HubLog as i32,
        ],
    };
    proto::Job {
        job: Some(inner),
        hub_version: Some(concat!("edgegate-hub-sim ", env!("CARGO_PKG_VERSION")).to_owned()),
        read_only: Some(false),
        notices: vec![],
        failure_type: st.failure.as_ref().map_or(0, |f| f.1),
        available_artifacts,
        actor_authorization: None,
    }
}

fn model_ref_id(m: Option<&proto::Model>) -> Result<String, ApiError> {
    m.and_then(|m| m.model_id.clone())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad("the job names no model"))
}

/// The model a new job names and the sha256 of its uploaded file, or the 400 the hub answers.
fn uploaded_model<'a>(
    store: &'a Store,
    model_id: &str,
) -> Result<(&'a ModelRec, String), ApiError> {
    let m = store
        .models
        .get(model_id)
        .ok_or_else(|| bad(format!("model {model_id} does not exist")))?;
    let sha = m
        .source_sha256
        .clone()
        .ok_or_else(|| bad(format!("model {model_id} has no uploaded file")))?;
    Ok((m, sha))
}

async fn create_compile(s: &Arc<SimState>, c: proto::CompileJob, seed: bool) -> ApiResult {
    let model_id = model_ref_id(c.model.as_ref())?;
    let wanted = c
        .device
        .as_ref()
        .or_else(|| c.devices.as_ref().and_then(|l| l.devices.first()));
    let device = resolve_device(s, wanted)?;
    let options = c.options.trim().to_owned();
    let (target_type, ext, is_dir) = runtime_output(target_runtime(&options))?;
    let runtime = target_runtime(&options).to_owned();
    let profile = s.scenario.device(&device.name);
    let durations = profile.durations.unwrap_or(s.scenario.durations);
    let (queue, phases) = timing(
        JobKind::Compile,
        &durations,
        profile.queue_s.unwrap_or(durations.queue_s),
    );
    let failure = planned_failure(s, &device.name, JobKind::Compile);
    let created = s.now_unix();
    let (source_name, source_sha) = {
        let store = s.store();
        let (m, sha) = uploaded_model(&store, &model_id)?;
        (m.name.clone(), sha)
    };
    let stem = source_name
        .split('.')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("model")
        .to_owned();
    let content = format!(
        "edgegate hub-sim compiled model\nruntime: {runtime}\nsource: {model_id}\nsource_sha256: {source_sha}\n"
    );
    let (job_id, target_id) = {
        let mut store = s.store();
        (store.new_id('j'), store.new_id('m'))
    };
    let (blob, _) = blobs::store_bytes(
        s,
        &format!("target-{target_id}"),
        &format!("{stem}{ext}"),
        content.as_bytes(),
    )
    .await
    .map_err(|e| bad(format!("storing the target model failed: {e}")))?;
    let input_spec = c.tensor_type_list.clone().unwrap_or_default();
    let name = if c.name.is_empty() {
        source_name
    } else {
        c.name.clone()
    };
    let mut store = s.store();
    store.models.insert(
        target_id.clone(),
        ModelRec {
            id: target_id.clone(),
            name: format!("{stem}{ext}"),
            model_type: target_type as i32,
            is_directory: is_dir,
            created,
            blob: Some(blob),
            sha256: Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                content.as_bytes(),
            ))),
            source_sha256: Some(source_sha),
            producer: Some(job_id.clone()),
            output_spec: Some(echo_spec(&input_spec)),
            input_spec: Some(input_spec),
            upload: None,
        },
    );
    store.jobs.insert(
        job_id.clone(),
        JobRec {
            id: job_id.clone(),
            kind: JobKind::Compile,
            name,
            options,
            created,
            created_at: Instant::now(),
            model_id,
            device,
            devices: c.devices.clone(),
            tensor_type_list: c.tensor_type_list.clone(),
            dataset_id: c.calibration_dataset.and_then(|d| d.dataset_id),
            target_model_id: Some(target_id),
            seeded: seed,
            failure,
            depends_on: None,
            queue,
            phases,
            output_dataset_id: None,
            input_types: None,
            measurement: None,
            iterations: 0,
        },
    );
    store.job_order.push(job_id.clone());
    drop(store);
    Counters::bump(&s.counters.compile_jobs);
    Ok(urm(&job_id, Some(created), None))
}

async fn create_inference(s: &Arc<SimState>, i: proto::InferenceJob) -> ApiResult {
    let model_id = model_ref_id(i.model.as_ref())?;
    let device = resolve_device(s, i.device.as_ref())?;
    let profiling = i.is_profiling_on.unwrap_or(false);
    let kind = if profiling {
        JobKind::Profile
    } else {
        JobKind::Inference
    };
    let dataset_id = i
        .dataset
        .as_ref()
        .and_then(|d| d.dataset_id.clone())
        .filter(|d| !d.is_empty());
    let (model_sha, producer, model_inputs, model_name) = {
        let store = s.store();
        let (m, sha) = uploaded_model(&store, &model_id)?;
        if let Some(d) = &dataset_id {
            let ds = store
                .datasets
                .get(d)
                .ok_or_else(|| bad(format!("dataset {d} does not exist")))?;
            if !ds.complete {
                return Err(bad(format!("dataset {d} has no completed upload")));
            }
        }
        (
            sha,
            m.producer.clone(),
            m.input_spec.clone(),
            m.name.clone(),
        )
    };
    if !profiling && dataset_id.is_none() {
        return Err(bad("an inference job without profiling needs a dataset"));
    }
    let options = i.options.trim().to_owned();
    let name = if i.name.is_empty() {
        model_name
    } else {
        i.name.clone()
    };
    let profile = s.scenario.device(&device.name);
    let durations = profile.durations.unwrap_or(s.scenario.durations);
    let (queue, phases) = timing(
        kind,
        &durations,
        profile.queue_s.unwrap_or(durations.queue_s),
    );
    let mut failure = planned_failure(s, &device.name, kind);
    let mut output_dataset_id = None;
    let mut input_types = model_inputs;
    if let (Some(d), None) = (&dataset_id, &failure) {
        let out = run_dataset(s, d, &name, onnx_source(s, &model_sha)).await;
        output_dataset_id = out.dataset_id;
        if out.input_types.is_some() {
            input_types = out.input_types;
        }
        failure = out.failure;
    }
    let has_npu = device.attributes.iter().any(|a| a == "framework:qnn");
    let mut measurement =
        profiling.then(|| measure::measure(&model_sha, &device.name, has_npu, &profile));
    if let (Some(m), Some(effect)) = (measurement.as_mut(), s.scenario.models.get(&model_sha)) {
        measure::apply_effect(m, effect);
    }
    let noise = s.scenario.noise_of(&device.name);
    let created = s.now_unix();
    let mut store = s.store();
    if let (Some(m), Some(noise)) = (measurement.as_mut(), noise) {
        let run = store.next_profile_run(&device.name);
        measure::apply_noise(m, &noise, &model_sha, &device.name, run);
    }
    let job_id = store.new_id('j');
    let depends_on = producer.filter(|p| store.jobs.contains_key(p));
    store.jobs.insert(
        job_id.clone(),
        JobRec {
            id: job_id.clone(),
            kind,
            name,
            iterations: profiler_iterations(&options),
            options,
            created,
            created_at: Instant::now(),
            model_id,
            device,
            devices: None,
            tensor_type_list: None,
            dataset_id,
            target_model_id: None,
            seeded: false,
            failure,
            depends_on,
            queue,
            phases,
            output_dataset_id,
            input_types,
            measurement,
        },
    );
    store.job_order.push(job_id.clone());
    drop(store);
    Counters::bump(if profiling {
        &s.counters.profile_jobs
    } else {
        &s.counters.inference_jobs
    });
    Ok(urm(&job_id, Some(created), None))
}

/// The uploaded ONNX file with this sha256, when there is one (a single file, not a directory).
fn onnx_source(s: &Arc<SimState>, sha256: &str) -> Option<(String, std::path::PathBuf)> {
    let store = s.store();
    let m = store.models.values().find(|m| {
        m.sha256.as_deref() == Some(sha256)
            && !m.is_directory
            && (m.model_type == ModelType::Onnx as i32
                || m.name.to_ascii_lowercase().ends_with(".onnx"))
    })?;
    let path = store.blobs.get(m.blob.as_ref()?)?.path.clone();
    Some((sha256.to_owned(), path))
}

fn target_runtime(options: &str) -> &str {
    let mut words = options.split_whitespace();
    while let Some(w) = words.next() {
        if w == "--target_runtime" {
            return words.next().unwrap_or("tflite");
        }
        if let Some(v) = w.strip_prefix("--target_runtime=") {
            return v;
        }
    }
    "tflite"
}

fn profiler_iterations(options: &str) -> usize {
    let mut words = options.split_whitespace();
    while let Some(w) = words.next() {
        let v = if w == "--max_profiler_iterations" {
            words.next()
        } else {
            w.strip_prefix("--max_profiler_iterations=")
        };
        if let Some(n) = v.and_then(|v| v.parse::<usize>().ok()) {
            return n.clamp(1, 1000);
        }
    }
    100
}

fn runtime_output(runtime: &str) -> Result<(ModelType, &'static str, bool), ApiError> {
    Ok(match runtime {
        "tflite" => (ModelType::Tflite, ".tflite", false),
        "qnn_dlc" => (ModelType::QnnDlc, ".dlc", false),
        "qnn_context_binary" => (ModelType::QnnContextBinary, ".bin", false),
        "onnx" | "precompiled_qnn_onnx" => (ModelType::Onnx, ".onnx.zip", true),
        "qnn_lib_aarch64_android" => (ModelType::QnnLibAarch64Android, ".so", false),
        other => return Err(bad(format!("unsupported --target_runtime {other:?}"))),
    })
}

fn resolve_device(s: &SimState, wanted: Option<&proto::Device>) -> Result<proto::Device, ApiError> {
    let wanted = wanted.ok_or_else(|| bad("the job names no device"))?;
    s.devices
        .iter()
        .find(|d| d.name == wanted.name && (wanted.os.is_empty() || d.os == wanted.os))
        .cloned()
        .ok_or_else(|| {
            bad(format!(
                "device {:?} (os {:?}) is not available",
                wanted.name, wanted.os
            ))
        })
}

fn planned_failure(s: &SimState, device: &str, kind: JobKind) -> Option<(String, i32)> {
    s.scenario
        .failures
        .iter()
        .find(|r| {
            r.device.as_deref().is_none_or(|d| d == device) && r.job_type.is_none_or(|k| k == kind)
        })
        .map(|r| {
            (
                r.reason.clone(),
                r.failure_type
                    .unwrap_or(JobFailureType::RuntimeUnknown as i32),
            )
        })
}
