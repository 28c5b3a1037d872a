//! The `/api/v1/` routes of the simulator: devices, frameworks, models, datasets, jobs, results,
//! job summaries and artifact lists, answered as protobuf with the exact content type the
//! official client requires (protocol notes §2, §3, §4, §9).
//!
//! Inference outputs of an ONNX source model that the local CPU engine can load are real: the
//! model runs on every sample (see `infer.rs`). For anything else one documented rule applies (the
//! echo): for every input `i` (in dataset order) the output dataset holds `output_<i>`, the input's
//! samples converted to float32 with the same shapes.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prost::Message;

use crate::hub::dataset::{self, NamedSamples};
use crate::hub::proto::{
    self, ComputeUnit, JobArtifactType, JobFailureType, JobState, ModelType, TensorDtype,
    file_download_response, file_upload_response, job, job_result, job_summary,
};
use crate::tensor::{DType, Tensor};

use super::blobs;
use super::devices;
use super::measure::{self, Measurement};
use super::scenario::JobKind;
use super::server::{Counters, SimState, detail, require_auth};
use super::store::{DatasetRec, JobRec, ModelRec, Status, UploadRec, timing};

/// The only content type the official client accepts.
pub const PROTOBUF: &str = "application/x-protobuf";
/// Datasets expire this long after creation unless permanent.
const DATASET_LIFETIME_S: i64 = 30 * 24 * 3600;
/// Upper bound of parts per upload, so a hostile `file_size` cannot make a huge answer.
const MAX_PARTS: u64 = 10_000;
/// The QAIRT version the simulator claims.
const QAIRT: &str = "2.37.0";

type ApiResult = Result<Response, ApiError>;

/// An error answer: status and the `detail` text.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        detail(self.0, &self.1)
    }
}

/// The API routes, behind token and client-version checks.
pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/api/v1/devices/", get(list_devices))
        .route("/api/v1/frameworks/", get(list_frameworks))
        .route("/api/v1/models/", get(list_models).post(create_model))
        .route(
            "/api/v1/projects/{project}/models/",
            get(list_models).post(create_model),
        )
        .route("/api/v1/models/{id}/", get(get_model))
        .route(
            "/api/v1/models/{id}/multipart_upload/",
            get(multipart_urls).post(multipart_complete),
        )
        .route(
            "/api/v1/models/{id}/upload_complete/",
            axum::routing::post(credentials_complete),
        )
        .route("/api/v1/models/{id}/download/", get(download_model))
        .route("/api/v1/datasets/", get(list_datasets).post(create_dataset))
        .route(
            "/api/v1/projects/{project}/datasets/",
            get(list_datasets).post(create_dataset),
        )
        .route(
            "/api/v1/datasets/{id}/",
            get(get_dataset).patch(patch_dataset),
        )
        .route("/api/v1/datasets/{id}/upload_url/", get(dataset_upload_url))
        .route(
            "/api/v1/datasets/{id}/upload_complete/",
            axum::routing::post(credentials_complete),
        )
        .route(
            "/api/v1/datasets/{id}/download_data/",
            get(download_dataset),
        )
        .route("/api/v1/jobs/", get(list_jobs).post(create_job))
        .route(
            "/api/v1/projects/{project}/jobs/",
            axum::routing::post(create_job),
        )
        .route("/api/v1/jobs/{id}/", get(get_job).patch(patch_job))
        .route("/api/v1/jobs/{id}/result/", get(job_result_handler))
        .route(
            "/api/v1/jobs/{id}/device_runs/{attempt}/artifact_list/{kind}/",
            get(artifact_list),
        )
        .route("/api/v1/job_summaries/", get(job_summaries))
        .route(
            "/api/v1/projects/{project}/job_summaries/",
            get(job_summaries),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), require_auth))
        .with_state(state)
}

fn pb<M: Message>(m: &M) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, PROTOBUF)],
        m.encode_to_vec(),
    )
        .into_response()
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, msg.into())
}

fn not_found(msg: impl Into<String>) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, msg.into())
}

fn decode<M: Message + Default>(body: &[u8], what: &str) -> Result<M, ApiError> {
    M::decode(body).map_err(|e| bad(format!("malformed {what} message: {e}")))
}

fn ts(seconds: i64) -> Option<proto::Timestamp> {
    Some(proto::Timestamp::from_seconds(seconds))
}

fn urm(id: &str, created: Option<i64>, expires: Option<i64>) -> Response {
    pb(&proto::CreateUpdateResponse {
        id: id.to_owned(),
        status: String::new(),
        creation_time: created.and_then(ts),
        expiration_time: expires.and_then(ts),
        validation_error: None,
    })
}

/// Query pairs in order, keeping repeated keys (`attributes=a&attributes=b`).
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<String>) -> Self {
        Query(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| matches!(v, "true" | "True" | "1"))
    }

    fn number(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| bad(format!("`{key}` must be a non-negative integer"))),
        }
    }

    fn page(&self) -> Result<(usize, usize), ApiError> {
        let offset = self.number("offset")?.unwrap_or(0);
        let limit = self.number("limit")?.unwrap_or(50).min(1000);
        Ok((
            usize::try_from(offset).unwrap_or(usize::MAX),
            limit as usize,
        ))
    }
}

fn paginate<T>(items: Vec<T>, (offset, limit): (usize, usize)) -> Vec<T> {
    items.into_iter().skip(offset).take(limit).collect()
}

// ---------------------------------------------------------------- devices, frameworks

async fn list_devices(State(s): State<Arc<SimState>>, RawQuery(q): RawQuery) -> Response {
    let q = Query::parse(q);
    let attrs = q.all("attributes");
    match devices::filter(
        &s.devices,
        q.get("name"),
        q.get("os"),
        &attrs,
        q.flag("select"),
    ) {
        Ok(list) => pb(&proto::DeviceList {
            total_query_count: list.len() as u64,
            devices: list.into_iter().cloned().collect(),
        }),
        Err(devices::BadQuery(m)) => bad(m).into_response(),
    }
}

async fn list_frameworks() -> Response {
    let fw = |v: &str, full: &str, tags: &[&str]| proto::Framework {
        name: "QAIRT".into(),
        api_version: v.into(),
        api_tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        full_version: full.into(),
    };
    pb(&proto::FrameworkList {
        frameworks: vec![
            fw("2.37", "2.37.0.250724175447_124859", &["default", "latest"]),
            fw("2.36", "2.36.0.250627144407_121548", &[]),
        ],
        total_query_count: 2,
    })
}

// ---------------------------------------------------------------- models

fn model_msg(m: &ModelRec) -> proto::Model {
    proto::Model {
        model_id: Some(m.id.clone()),
        name: Some(m.name.clone()),
        creation_time: ts(m.created),
        model_type: Some(m.model_type),
        file_upload_complete: Some(m.blob.is_some()),
        producer_id: m.producer.clone(),
        read_only: Some(false),
        is_directory: Some(m.is_directory),
        hidden: Some(false),
        input_spec: m.input_spec.clone(),
        output_spec: m.output_spec.clone(),
        ..proto::Model::default()
    }
}

async fn create_model(State(s): State<Arc<SimState>>, body: Bytes) -> ApiResult {
    let req: proto::Model = decode(&body, "Model")?;
    let created = s.now_unix();
    let id = {
        let mut store = s.store();
        let id = store.new_id('m');
        store.models.insert(
            id.clone(),
            ModelRec {
                id: id.clone(),
                name: req
                    .name
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "model".into()),
                model_type: req.model_type.unwrap_or(ModelType::Unspecified as i32),
                is_directory: req.is_directory.unwrap_or(false),
                created,
                blob: None,
                sha256: None,
                source_sha256: None,
                producer: None,
                input_spec: None,
                output_spec: None,
                upload: None,
            },
        );
        id
    };
    Counters::bump(&s.counters.models_created);
    Ok(urm(&id, Some(created), None))
}

async fn list_models(State(s): State<Arc<SimState>>, RawQuery(q): RawQuery) -> ApiResult {
    let q = Query::parse(q);
    let page = q.page()?;
    let producer = q.get("producer").map(str::to_owned);
    let store = s.store();
    let mut models: Vec<&ModelRec> = store
        .models
        .values()
        .filter(|m| {
            producer
                .as_deref()
                .is_none_or(|p| m.producer.as_deref() == Some(p))
        })
        .collect();
    models.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
    let total = models.len() as u64;
    Ok(pb(&proto::ModelList {
        models: paginate(models, page).into_iter().map(model_msg).collect(),
        total_query_count: total,
    }))
}

async fn get_model(State(s): State<Arc<SimState>>, Path(id): Path<String>) -> ApiResult {
    let store = s.store();
    let m = store
        .models
        .get(&id)
        .ok_or_else(|| not_found(format!("Model {id} not found.")))?;
    Ok(pb(&model_msg(m)))
}

async fn multipart_urls(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let q = Query::parse(q);
    let size = q.number("file_size")?;
    let part = s.scenario.upload.max_part_size;
    let parts = match size {
        Some(0) | None => 1,
        Some(n) => n.div_ceil(part),
    };
    if parts > MAX_PARTS {
        return Err(bad(format!(
            "file_size {} is too large for this simulator ({MAX_PARTS} parts of {part} bytes)",
            size.unwrap_or(0)
        )));
    }
    let upload_id = {
        let mut store = s.store();
        if !store.models.contains_key(&id) {
            return Err(not_found(format!("Model {id} not found.")));
        }
        let upload_id = store.new_id('u');
        store.uploads.insert(
            upload_id.clone(),
            UploadRec {
                model_id: id.clone(),
                etags: vec![None; parts as usize],
            },
        );
        if let Some(m) = store.models.get_mut(&id) {
            m.upload = Some(upload_id.clone());
        }
        upload_id
    };
    let msg = proto::FileMultipartUploadUrl {
        urls: (0..parts)
            .map(|i| format!("{}/blobs/parts/{upload_id}/{i}", s.base_url))
            .collect(),
        upload_id,
        max_part_size: part,
    };
    Ok(if q.flag("supports_s3_credentials") {
        pb(&proto::FileUploadResponse {
            method: Some(file_upload_response::Method::MultipartUrl(msg)),
        })
    } else {
        pb(&msg)
    })
}

async fn multipart_complete(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: proto::FileMultipartUploadComplete = decode(&body, "FileMultipartUploadComplete")?;
    let (parts, name) = {
        let store = s.store();
        let model = store
            .models
            .get(&id)
            .ok_or_else(|| not_found(format!("Model {id} not found.")))?;
        let upload = store
            .uploads
            .get(&req.upload_id)
            .filter(|u| u.model_id == id)
            .ok_or_else(|| bad(format!("unknown upload_id {:?}", req.upload_id)))?;
        if req.etags.len() != upload.etags.len() {
            return Err(bad(format!(
                "expected {} etags, got {}",
                upload.etags.len(),
                req.etags.len()
            )));
        }
        for (i, (sent, stored)) in req.etags.iter().zip(&upload.etags).enumerate() {
            match stored {
                None => return Err(bad(format!("part {i} was never uploaded"))),
                Some(e) if e != sent => {
                    return Err(bad(format!("etag of part {i} does not match")));
                }
                Some(_) => {}
            }
        }
        let parts: Vec<_> = (0..upload.etags.len())
            .map(|i| blobs::part_path(&s, &req.upload_id, i))
            .collect();
        (parts, model.name.clone())
    };
    let out = blobs::file_path(&s, &format!("model-{id}"));
    let (sha, _size) = blobs::concat(&parts, &out)
        .await
        .map_err(|e| bad(format!("assembling the upload failed: {e}")))?;
    let (blob, _) = blobs::register(&s, out, &name);
    let mut store = s.store();
    store.uploads.remove(&req.upload_id);
    if let Some(m) = store.models.get_mut(&id) {
        m.blob = Some(blob);
        m.sha256 = Some(sha.clone());
        m.source_sha256 = Some(sha);
        m.upload = None;
    }
    Ok(urm(&id, None, None))
}

async fn credentials_complete() -> Response {
    bad("this simulator never hands out S3 credentials; upload through the presigned URLs")
        .into_response()
}

fn download_answer(url: String, filename: String, wrapped: bool) -> Response {
    let msg = proto::FileDownloadUrl { url, filename };
    if wrapped {
        pb(&proto::FileDownloadResponse {
            method: Some(file_download_response::Method::Url(msg)),
        })
    } else {
        pb(&msg)
    }
}

async fn download_model(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let q = Query::parse(q);
    let store = s.store();
    let m = store
        .models
        .get(&id)
        .ok_or_else(|| not_found(format!("Model {id} not found.")))?;
    if let Some(job) = m.producer.as_ref().and_then(|j| store.jobs.get(j))
        && store.status(job, Instant::now()).state != JobState::Done
    {
        return Err(not_found(format!(
            "Model {id} is not available: its compile job has not succeeded"
        )));
    }
    let blob_id = m
        .blob
        .as_ref()
        .ok_or_else(|| not_found(format!("Model {id} has no uploaded file")))?;
    let blob = store
        .blobs
        .get(blob_id)
        .ok_or_else(|| not_found(format!("Model {id} has no uploaded file")))?;
    let url = blobs::blob_url(&s, blob_id, &blob.filename);
    Ok(download_answer(
        url,
        blob.filename.clone(),
        q.flag("supports_s3_credentials"),
    ))
}

// ---------------------------------------------------------------- datasets

fn dataset_msg(d: &DatasetRec) -> proto::Dataset {
    proto::Dataset {
        dataset_id: Some(d.id.clone()),
        name: Some(d.name.clone()),
        creation_time: ts(d.created),
        expiration_time: d.expires.and_then(ts),
        file_upload_complete: Some(d.complete),
        read_only: Some(false),
        permanent: Some(d.permanent),
        ..proto::Dataset::default()
    }
}

async fn create_dataset(State(s): State<Arc<SimState>>, body: Bytes) -> ApiResult {
    let req: proto::Dataset = decode(&body, "Dataset")?;
    let created = s.now_unix();
    let permanent = req.permanent.unwrap_or(false);
    let expires = (!permanent).then_some(created + DATASET_LIFETIME_S);
    let id = {
        let mut store = s.store();
        let id = store.new_id('d');
        store.datasets.insert(
            id.clone(),
            DatasetRec {
                id: id.clone(),
                name: req
                    .name
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "dataset".into()),
                created,
                expires,
                permanent,
                blob: None,
                complete: false,
            },
        );
        id
    };
    Counters::bump(&s.counters.datasets_created);
    Ok(urm(&id, Some(created), expires))
}

async fn list_datasets(State(s): State<Arc<SimState>>, RawQuery(q): RawQuery) -> ApiResult {
    let page = Query::parse(q).page()?;
    let store = s.store();
    let mut all: Vec<&DatasetRec> = store.datasets.values().collect();
    all.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
    let total = all.len() as u64;
    Ok(pb(&proto::DatasetList {
        datasets: paginate(all, page).into_iter().map(dataset_msg).collect(),
        total_query_count: total,
    }))
}

async fn get_dataset(State(s): State<Arc<SimState>>, Path(id): Path<String>) -> ApiResult {
    let store = s.store();
    let d = store
        .datasets
        .get(&id)
        .ok_or_else(|| not_found(format!("Dataset {id} not found.")))?;
    Ok(pb(&dataset_msg(d)))
}

async fn patch_dataset(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: proto::Dataset = decode(&body, "Dataset")?;
    let mut store = s.store();
    let d = store
        .datasets
        .get_mut(&id)
        .ok_or_else(|| not_found(format!("Dataset {id} not found.")))?;
    if req.file_upload_complete == Some(true) {
        if d.blob.is_none() {
            return Err(bad(format!("no file was uploaded for dataset {id}")));
        }
        d.complete = true;
    }
    if let Some(name) = req.name.filter(|n| !n.is_empty()) {
        d.name = name;
    }
    Ok(urm(&id, None, None))
}

async fn dataset_upload_url(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let q = Query::parse(q);
    if !s.store().datasets.contains_key(&id) {
        return Err(not_found(format!("Dataset {id} not found.")));
    }
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("key".to_owned(), format!("datasets/{id}/dataset.h5"));
    fields.insert("policy".to_owned(), "edgegate-hub-sim".to_owned());
    let msg = proto::FileUploadUrl {
        url: format!("{}/blobs/forms/{id}", s.base_url),
        file_field_name: "file".into(),
        fields,
    };
    Ok(if q.flag("supports_s3_credentials") {
        pb(&proto::FileUploadResponse {
            method: Some(file_upload_response::Method::Url(msg)),
        })
    } else {
        pb(&msg)
    })
}

async fn download_dataset(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let q = Query::parse(q);
    let store = s.store();
    let d = store
        .datasets
        .get(&id)
        .ok_or_else(|| not_found(format!("Dataset {id} not found.")))?;
    let blob_id = d
        .blob
        .as_ref()
        .filter(|_| d.complete)
        .ok_or_else(|| not_found(format!("Dataset {id} has no data yet")))?;
    let filename = format!("{}.h5", d.name.trim_end_matches(".h5"));
    let url = blobs::blob_url(&s, blob_id, &filename);
    Ok(download_answer(
        url,
        filename,
        q.flag("supports_s3_credentials"),
    ))
}

// ---------------------------------------------------------------- jobs

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

fn proto_dtype(d: DType) -> TensorDtype {
    match d {
        DType::F16 => TensorDtype::Float16,
        DType::F32 => TensorDtype::Float32,
        DType::I8 => TensorDtype::Int8,
        DType::I16 => TensorDtype::Int16,
        DType::I32 => TensorDtype::Int32,
        DType::I64 => TensorDtype::Int64,
        DType::U8 => TensorDtype::Uint8,
        DType::U16 => TensorDtype::Uint16,
        DType::Bool => TensorDtype::Bool,
    }
}

fn named_type(name: &str, shape: &[usize], dtype: TensorDtype) -> proto::NamedTensorType {
    proto::NamedTensorType {
        name: name.to_owned(),
        tensor_type: Some(proto::TensorType {
            shape: shape.iter().map(|&d| d as i64).collect(),
            dtype: dtype as i32,
            scale: None,
            zero_point: None,
        }),
        graph_name: None,
    }
}

/// The output spec the echo rule implies for an input spec.
fn echo_spec(inputs: &proto::NamedTensorTypeList) -> proto::NamedTensorTypeList {
    proto::NamedTensorTypeList {
        types: inputs
            .types
            .iter()
            .enumerate()
            .map(|(i, t)| proto::NamedTensorType {
                name: format!("output_{i}"),
                tensor_type: t.tensor_type.clone().map(|mut tt| {
                    tt.dtype = TensorDtype::Float32 as i32;
                    tt
                }),
                graph_name: None,
            })
            .collect(),
    }
}

/// Applies the echo rule: `output_<i>` = input `i` as float32.
fn echo_outputs(inputs: &[NamedSamples]) -> Result<Vec<NamedSamples>, crate::tensor::TensorError> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let samples = input
                .samples
                .iter()
                .map(|t| {
                    let values: Vec<f32> = t.to_f64_vec().into_iter().map(|v| v as f32).collect();
                    Tensor::from_f32(t.shape().to_vec(), &values)
                })
                .collect::<Result<_, _>>()?;
            Ok(NamedSamples {
                name: format!("output_{i}"),
                samples,
            })
        })
        .collect()
}

struct Outputs {
    dataset_id: Option<String>,
    input_types: Option<proto::NamedTensorTypeList>,
    failure: Option<(String, i32)>,
}

async fn run_dataset(
    s: &Arc<SimState>,
    dataset_id: &str,
    job_name: &str,
    source: Option<(String, std::path::PathBuf)>,
) -> Outputs {
    let path = {
        let store = s.store();
        store
            .datasets
            .get(dataset_id)
            .and_then(|d| d.blob.as_ref())
            .and_then(|b| store.blobs.get(b))
            .map(|b| b.path.clone())
    };
    let invalid = |msg: String| Outputs {
        dataset_id: None,
        input_types: None,
        failure: Some((msg, JobFailureType::InvalidInputs as i32)),
    };
    let Some(path) = path else {
        return invalid(format!("dataset {dataset_id} has no data"));
    };
    let out_path = blobs::file_path(s, &format!("outputs-{}.h5", s.store().new_id('o')));
    let out_path2 = out_path.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Vec<NamedSamples>, String> {
        let unusable = |e: String| format!("the input dataset is not usable: {e}");
        let inputs = dataset::read(&path).map_err(|e| unusable(e.to_string()))?;
        let outputs = match source.and_then(|(sha, p)| super::infer::model(&sha, &p)) {
            Some(model) => super::infer::outputs(&model, &inputs)
                .map_err(|e| format!("the model cannot run on these inputs: {e}"))?,
            None => echo_outputs(&inputs).map_err(|e| unusable(e.to_string()))?,
        };
        dataset::write(&out_path2, &outputs).map_err(|e| unusable(e.to_string()))?;
        Ok(inputs)
    })
    .await;
    let inputs = match work {
        Ok(Ok(inputs)) => inputs,
        Ok(Err(e)) => return invalid(e),
        Err(e) => return invalid(format!("reading the input dataset failed: {e}")),
    };
    let input_types = proto::NamedTensorTypeList {
        types: inputs
            .iter()
            .filter_map(|n| {
                n.samples
                    .first()
                    .map(|t| named_type(&n.name, t.shape(), proto_dtype(t.dtype())))
            })
            .collect(),
    };
    let name = format!("{job_name}-outputs");
    let (blob, _) = blobs::register(s, out_path, &format!("{name}.h5"));
    let created = s.now_unix();
    let mut store = s.store();
    let id = store.new_id('d');
    store.datasets.insert(
        id.clone(),
        DatasetRec {
            id: id.clone(),
            name,
            created,
            expires: Some(created + DATASET_LIFETIME_S),
            permanent: false,
            blob: Some(blob),
            complete: true,
        },
    );
    Outputs {
        dataset_id: Some(id),
        input_types: Some(input_types),
        failure: None,
    }
}

async fn create_job(
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

fn model_ref_id(m: Option<&proto::Model>) -> Result<String, ApiError> {
    m.and_then(|m| m.model_id.clone())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad("the job names no model"))
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
        let m = store
            .models
            .get(&model_id)
            .ok_or_else(|| bad(format!("model {model_id} does not exist")))?;
        let sha = m
            .source_sha256
            .clone()
            .ok_or_else(|| bad(format!("model {model_id} has no uploaded file")))?;
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
        let m = store
            .models
            .get(&model_id)
            .ok_or_else(|| bad(format!("model {model_id} does not exist")))?;
        let sha = m
            .source_sha256
            .clone()
            .ok_or_else(|| bad(format!("model {model_id} has no uploaded file")))?;
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
    let measurement =
        profiling.then(|| measure::measure(&model_sha, &device.name, has_npu, &profile));
    let created = s.now_unix();
    let mut store = s.store();
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

fn job_msg(s: &SimState, store: &super::store::Store, j: &JobRec, st: &Status) -> proto::Job {
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

fn peak_range(m: &Measurement) -> proto::Range {
    proto::Range {
        lower: m.peak_memory_bytes / 8,
        upper: m.peak_memory_bytes,
    }
}

async fn get_job(State(s): State<Arc<SimState>>, Path(id): Path<String>) -> ApiResult {
    let store = s.store();
    let j = store
        .jobs
        .get(&id)
        .ok_or_else(|| not_found(format!("Job {id} not found.")))?;
    let st = store.status(j, Instant::now());
    Ok(pb(&job_msg(&s, &store, j, &st)))
}

async fn list_jobs(State(s): State<Arc<SimState>>, RawQuery(q): RawQuery) -> ApiResult {
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

async fn patch_job(
    State(s): State<Arc<SimState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: proto::JobPublicUpdate = decode(&body, "JobPublicUpdate")?;
    let mut store = s.store();
    let j = store
        .jobs
        .get_mut(&id)
        .ok_or_else(|| not_found(format!("Job {id} not found.")))?;
    if let Some(name) = req.name {
        j.name = name;
    }
    Ok(urm(&id, None, None))
}

fn profile_detail(j: &JobRec, m: &Measurement, source_sha: &str) -> proto::ProfileDetail {
    let peak = m.peak_memory_bytes;
    let range = |lo: u64, hi: u64| {
        Some(proto::Range {
            lower: lo,
            upper: hi,
        })
    };
    let usage = |p: u64| {
        Some(proto::MemoryUsage {
            increase: range(0, p / 2),
            peak: range(p / 8, p),
        })
    };
    let total = (m.layers.npu + m.layers.gpu + m.layers.cpu).max(1);
    let per_layer = m.inference_us / u64::from(total);
    const KINDS: [&str; 5] = [
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "ADD",
        "RELU",
        "FULLY_CONNECTED",
    ];
    let units = std::iter::repeat_n(ComputeUnit::Npu, m.layers.npu as usize)
        .chain(std::iter::repeat_n(ComputeUnit::Gpu, m.layers.gpu as usize))
        .chain(std::iter::repeat_n(ComputeUnit::Cpu, m.layers.cpu as usize));
    let layer_details = units
        .enumerate()
        .map(|(i, cu)| proto::LayerDetail {
            name: format!("layer_{i}"),
            compute_unit: cu as i32,
            layer_type_name: KINDS[i % KINDS.len()].to_owned(),
            id: i.to_string(),
            delegate_name: if cu == ComputeUnit::Cpu { "" } else { "QNN" }.to_owned(),
            delegate_extra_info: String::new(),
            execution_time: Some(per_layer),
            segment_id: Some("0".into()),
            delegate_reported_ops: vec![],
            execution_cycles: None,
        })
        .collect();
    let main_unit = if m.layers.npu > 0 {
        ComputeUnit::Npu
    } else if m.layers.gpu > 0 {
        ComputeUnit::Gpu
    } else {
        ComputeUnit::Cpu
    };
    proto::ProfileDetail {
        execution_time: m.inference_us,
        peak_memory_usage: peak,
        load_time: Some(m.cold_load_us),
        layer_details,
        major_version: 1,
        minor_version: 8,
        after_cold_load_peak_memory: peak / 2,
        after_compile_peak_memory: peak / 3,
        after_execution_peak_memory: peak,
        after_warm_load_peak_memory: peak / 2,
        cold_load_time: m.cold_load_us,
        compile_time: m.compile_us,
        warm_load_time: m.warm_load_us,
        compile_memory: usage(peak / 3),
        cold_load_memory: usage(peak / 2),
        warm_load_memory: usage(peak / 2),
        execution_memory: usage(peak),
        all_compile_times: vec![m.compile_us],
        all_cold_load_times: vec![m.cold_load_us],
        all_warm_load_times: vec![m.warm_load_us],
        all_execution_times: measure::iteration_times(
            source_sha,
            &j.device.name,
            m.inference_us,
            j.iterations,
        ),
        segment_details: vec![proto::SegmentDetail {
            id: "0".into(),
            compute_unit: main_unit as i32,
            delegate_name: "QNN".into(),
            delegate_extra_info: String::new(),
            execution_time: Some(m.inference_us),
        }],
        tool_versions: vec![proto::ToolVersion {
            name: "QAIRT".into(),
            version: QAIRT.into(),
        }],
        ..proto::ProfileDetail::default()
    }
}

async fn job_result_handler(State(s): State<Arc<SimState>>, Path(id): Path<String>) -> ApiResult {
    let store = s.store();
    let j = store
        .jobs
        .get(&id)
        .ok_or_else(|| not_found(format!("Job {id} not found.")))?;
    let st = store.status(j, Instant::now());
    if st.state != JobState::Done {
        return Err(not_found(format!(
            "Job {id} has no result (state {:?}).",
            st.state
        )));
    }
    let result = match j.kind {
        JobKind::Compile => job_result::Result::CompileJobResult(proto::CompileJobResult {
            compile_job_id: j.id.clone(),
            compile_detail: Some(proto::CompileDetail {
                tool_versions: vec![proto::ToolVersion {
                    name: "QAIRT".into(),
                    version: QAIRT.into(),
                }],
            }),
        }),
        JobKind::Profile | JobKind::Inference => {
            let sha = store
                .models
                .get(&j.model_id)
                .and_then(|m| m.source_sha256.clone())
                .unwrap_or_default();
            job_result::Result::InferenceJobResult(proto::InferenceJobResult {
                inference_job_id: j.id.clone(),
                output_dataset_id: j.output_dataset_id.clone().unwrap_or_default(),
                detail: j.measurement.as_ref().map(|m| profile_detail(j, m, &sha)),
            })
        }
    };
    Ok(pb(&proto::JobResult {
        result: Some(result),
    }))
}

async fn artifact_list(
    State(s): State<Arc<SimState>>,
    Path((id, attempt, kind)): Path<(String, String, String)>,
) -> ApiResult {
    let text = {
        let store = s.store();
        let j = store
            .jobs
            .get(&id)
            .ok_or_else(|| not_found(format!("Job {id} not found.")))?;
        if attempt != "latest" && attempt != "0" {
            return Err(not_found(format!("Job {id} has no attempt {attempt}.")));
        }
        let st = store.status(j, Instant::now());
        let kind: i32 = kind
            .parse()
            .map_err(|_| bad("the artifact type must be an integer"))?;
        let wanted = kind == JobArtifactType::HubLog as i32
            || (kind == JobArtifactType::DeviceLog as i32 && j.kind != JobKind::Compile);
        (st.state.is_terminal() && wanted).then(|| {
            (
                kind,
                format!(
                    "edgegate hub-sim {} job {} on {}: {:?}{}\n",
                    j.kind.name(),
                    j.id,
                    j.device.name,
                    st.state,
                    st.failure
                        .as_ref()
                        .map(|f| format!(" ({})", f.0))
                        .unwrap_or_default()
                ),
            )
        })
    };
    let mut artifacts = vec![];
    if let Some((kind, text)) = text {
        let which = if kind == JobArtifactType::HubLog as i32 {
            "hub"
        } else {
            "device"
        };
        let filename = format!("{id}_{which}.log");
        let key = format!("log-{id}-{which}-{}", s.store().new_id('l'));
        let (_, url) = blobs::store_bytes(&s, &key, &filename, text.as_bytes())
            .await
            .map_err(|e| bad(format!("storing the log failed: {e}")))?;
        artifacts.push(proto::NamedArtifactDownloadUrl {
            url,
            filename,
            name: Some(format!("{which} log")),
            credentials: None,
        });
    }
    Ok(pb(&proto::NamedArtifactDownloadUrlList { artifacts }))
}

async fn job_summaries(State(s): State<Arc<SimState>>, RawQuery(q): RawQuery) -> ApiResult {
    let q = Query::parse(q);
    let page = q.page()?;
    let states: Option<Vec<i32>> = match q.get("state").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.split(',')
                .map(|p| p.trim().parse::<i32>())
                .collect::<Result<_, _>>()
                .map_err(|_| bad("`state` must be comma-separated integers"))?,
        ),
    };
    let kinds: Option<Vec<JobKind>> = match q.get("type").filter(|v| !v.is_empty()) {
        None => None,
        Some("compile") => Some(vec![JobKind::Compile]),
        Some("profile") | Some("inference") => Some(vec![JobKind::Profile, JobKind::Inference]),
        Some("quantize") | Some("link") => Some(vec![]),
        Some(other) => return Err(bad(format!("unknown job type {other:?}"))),
    };
    let store = s.store();
    let now = Instant::now();
    let summaries: Vec<proto::JobSummary> = store
        .job_order
        .iter()
        .rev()
        .filter_map(|id| store.jobs.get(id))
        .filter(|j| kinds.as_ref().is_none_or(|k| k.contains(&j.kind)))
        .map(|j| (j, store.status(j, now)))
        .filter(|(_, st)| {
            states
                .as_ref()
                .is_none_or(|v| v.contains(&(st.state as i32)))
        })
        .map(|(j, st)| summary(&s, &store, j, &st))
        .collect();
    let total = summaries.len() as u64;
    Ok(pb(&proto::JobSummaryList {
        job_summaries: paginate(summaries, page),
        total_query_count: total,
    }))
}

fn summary(
    s: &SimState,
    store: &super::store::Store,
    j: &JobRec,
    st: &Status,
) -> proto::JobSummary {
    let started = st.started.map(|t| s.unix(t)).and_then(ts);
    let finished = st.finished.map(|t| s.unix(t)).and_then(ts);
    let last = st
        .finished
        .or(st.started)
        .map(|t| s.unix(t))
        .unwrap_or(j.created);
    let done = st.state == JobState::Done;
    let inner = match j.kind {
        JobKind::Compile => job_summary::Job::CompileJobSummary(proto::CompileJobSummary {
            job_id: j.id.clone(),
            name: j.name.clone(),
            job_state: st.state as i32,
            device_name: j.device.name.clone(),
            device_os_version: j.device.os.clone(),
            creation_time: ts(j.created),
            start_time: started,
            completion_time: finished,
            last_updated_time: ts(last),
            queued_time: ts(j.created),
            target_model_type: j
                .target_model_id
                .as_ref()
                .and_then(|id| store.models.get(id))
                .map(|m| m.model_type),
            ..proto::CompileJobSummary::default()
        }),
        JobKind::Profile | JobKind::Inference => {
            let m = j.measurement.as_ref().filter(|_| done);
            job_summary::Job::InferenceJobSummary(proto::InferenceJobSummary {
                job_id: j.id.clone(),
                name: j.name.clone(),
                job_state: st.state as i32,
                device_name: j.device.name.clone(),
                device_os_version: j.device.os.clone(),
                creation_time: ts(j.created),
                start_time: started,
                completion_time: finished,
                last_updated_time: ts(last),
                queued_time: ts(j.created),
                target_model_type: store.models.get(&j.model_id).map(|m| m.model_type),
                execution_time: m.map(|m| m.inference_us),
                execution_peak_memory: m.map(peak_range),
                is_profiling_on: Some(j.kind == JobKind::Profile),
                ..proto::InferenceJobSummary::default()
            })
        }
    };
    proto::JobSummary {
        job: Some(inner),
        actor_authorization: None,
    }
}
