//! The AI Hub client against servers on 127.0.0.1: a scripted fake (this file) for exact fault
//! injection and request inspection, and the simulator for whole flows.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use edgegate::hub::client::{ClientOptions, HubClient};
use edgegate::hub::config::{ApiToken, HubConfig};
use edgegate::hub::devices::DeviceQuery;
use edgegate::hub::error::HubError;
use edgegate::hub::jobs::{CompileRequest, InferenceRequest};
use edgegate::hub::proto::{
    self, CompileJob, CreateUpdateResponse, Device, DeviceList, FileMultipartUploadComplete,
    FileMultipartUploadUrl, FileUploadResponse, Job, JobResult, JobState, Model,
    file_upload_response, job, job_result,
};
use edgegate::hub::retry::{PollPolicy, RetryPolicy};
use prost::Message;
use sha2::Digest;

const TOKEN: &str = "fake-token";

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    auth: Option<String>,
    content_type: Option<String>,
    user_agent: Option<String>,
    client_version: Option<String>,
    body_len: usize,
}

#[derive(Default)]
struct Fake {
    seen: Vec<Seen>,
    faults: VecDeque<(u16, Option<&'static str>)>,
    fault_path: String,
    wrong_content_type: bool,
    max_part_size: u64,
    /// Hand out at most this many part URLs (the last part takes the rest).
    part_urls: Option<u64>,
    /// Answer the File*Response wrappers even without `supports_s3_credentials=true`.
    always_wrap: bool,
    /// Answer every transfer route with S3 credentials (in the wrapper).
    s3_credentials: bool,
    parts: BTreeMap<usize, Vec<u8>>,
    etags: Vec<String>,
    completed_etags: Vec<String>,
    jobs: BTreeMap<String, (Job, u32)>,
    next_id: u32,
    form_parts: Vec<(String, Option<String>, Option<String>)>,
    dataset_bytes: Vec<u8>,
    dataset_confirm: Vec<u8>,
}

type Shared = Arc<Mutex<Fake>>;

fn pb<M: Message>(m: &M) -> Response {
    (
        [("content-type", "application/x-protobuf")],
        m.encode_to_vec(),
    )
        .into_response()
}

fn detail(status: u16, msg: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        format!(r#"{{"detail":"{msg}"}}"#),
    )
        .into_response()
}

fn urm(id: &str) -> Response {
    pb(&CreateUpdateResponse {
        id: id.into(),
        creation_time: Some(proto::Timestamp::from_seconds(1_700_000_000)),
        ..CreateUpdateResponse::default()
    })
}

fn s24() -> Device {
    Device {
        name: "Samsung Galaxy S24".into(),
        os: "14".into(),
        attributes: vec![
            "chipset:qualcomm-snapdragon-8gen3".into(),
            "framework:tflite".into(),
            "os:android".into(),
        ],
        soc_description: String::new(),
    }
}

fn rb5() -> Device {
    Device {
        name: "RB5 (Proxy)".into(),
        os: "12".into(),
        attributes: vec!["chipset:qualcomm-qrb5165".into(), "framework:tflite".into()],
        soc_description: String::new(),
    }
}

fn s3_credentials() -> proto::S3Credentials {
    proto::S3Credentials {
        access_key_id: "AKIAFAKE".into(),
        secret_access_key: "fake-secret".into(),
        session_token: "fake-session".into(),
        bucket: "qai-hub-fake-bucket".into(),
        key: "uploads/mfake0001/tiny.onnx".into(),
        region: "us-west-2".into(),
        ..proto::S3Credentials::default()
    }
}

/// A transfer answer as the real service is believed to choose it (protocol notes §2.1): the
/// wrapper to clients sending `supports_s3_credentials=true`, the legacy message to the rest.
fn transfer_answer<L: Message, W: Message>(
    s: &Fake,
    query: &str,
    legacy: L,
    wrap: impl FnOnce(L) -> W,
) -> Response {
    if s.always_wrap || query_values(query, "supports_s3_credentials") == ["true"] {
        pb(&wrap(legacy))
    } else {
        pb(&legacy)
    }
}

fn query_values(query: &str, key: &str) -> Vec<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .collect()
}

fn profile_detail() -> proto::ProfileDetail {
    proto::ProfileDetail {
        execution_time: 3652,
        major_version: 1,
        minor_version: 8,
        after_execution_peak_memory: 166_711_296,
        cold_load_time: 120_000,
        all_execution_times: vec![3600, 3652, 3700],
        execution_memory: Some(proto::MemoryUsage {
            increase: None,
            peak: Some(proto::Range {
                lower: 2_654_208,
                upper: 39_406_752,
            }),
        }),
        layer_details: [3, 3, 1]
            .into_iter()
            .enumerate()
            .map(|(i, unit)| proto::LayerDetail {
                name: format!("layer{i}"),
                compute_unit: unit,
                layer_type_name: "CONV_2D".into(),
                ..proto::LayerDetail::default()
            })
            .collect(),
        ..proto::ProfileDetail::default()
    }
}

type FormParts = Vec<(String, Option<String>, Option<String>)>;

async fn read_form(headers: &HeaderMap, body: Bytes) -> Option<(FormParts, Vec<u8>)> {
    use axum::extract::FromRequest;
    let ctype = headers.get("content-type")?.clone();
    let req = axum::extract::Request::builder()
        .header("content-type", ctype)
        .body(axum::body::Body::from(body))
        .ok()?;
    let mut mp = axum::extract::Multipart::from_request(req, &())
        .await
        .ok()?;
    let mut parts = Vec::new();
    let mut file = Vec::new();
    while let Ok(Some(field)) = mp.next_field().await {
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        let ctype = field.content_type().map(str::to_string);
        let data = field.bytes().await.ok()?;
        if filename.is_some() {
            file = data.to_vec();
        }
        parts.push((name, filename, ctype));
    }
    Some((parts, file))
}

async fn handle(
    State(state): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let form = if path == "/blob/form" {
        Some(read_form(&headers, body.clone()).await)
    } else {
        None
    };
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    s.seen.push(Seen {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        auth: h("authorization"),
        content_type: h("content-type"),
        user_agent: h("user-agent"),
        client_version: h("client-version"),
        body_len: body.len(),
    });
    if let Some(rest) = path.strip_prefix("/blob/part/") {
        let i: usize = rest.parse().unwrap_or(0);
        let etag = format!("\"{}\"", &hex::encode(sha2::Sha256::digest(&body))[..32]);
        s.parts.insert(i, body.to_vec());
        s.etags.push(etag.clone());
        return ([("etag", etag)], "").into_response();
    }
    if let Some(form) = form {
        let Some((parts, file)) = form else {
            return detail(400, "not a multipart form");
        };
        s.form_parts = parts;
        s.dataset_bytes = file;
        return StatusCode::NO_CONTENT.into_response();
    }
    if path.starts_with("/blob/dl/") {
        return s.dataset_bytes.clone().into_response();
    }
    if !s.fault_path.is_empty()
        && path.starts_with(&s.fault_path.clone())
        && let Some((status, retry_after)) = s.faults.pop_front()
    {
        let mut r = detail(status, "injected fault");
        if let Some(ra) = retry_after {
            r.headers_mut()
                .insert("retry-after", ra.parse().expect("static header"));
        }
        return r;
    }
    if h("authorization").as_deref() != Some(&format!("token {TOKEN}")) {
        return detail(401, "Invalid token.");
    }
    let parts: Vec<&str> = path
        .trim_start_matches("/api/v1/")
        .trim_end_matches('/')
        .split('/')
        .collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["devices"]) => {
            if s.wrong_content_type {
                return (
                    [("content-type", "application/x-protobuf; charset=utf-8")],
                    DeviceList::default().encode_to_vec(),
                )
                    .into_response();
            }
            let names = query_values(&query, "name");
            let attrs = query_values(&query, "attributes");
            let select = query_values(&query, "select") == ["True"];
            let mut devices: Vec<Device> = [s24(), rb5()]
                .into_iter()
                .filter(|d| names.iter().all(|n| &d.name == n))
                .filter(|d| attrs.iter().all(|a| d.attributes.contains(a)))
                .collect();
            if select {
                devices.truncate(1);
            }
            pb(&DeviceList {
                total_query_count: devices.len() as u64,
                devices,
            })
        }
        ("POST", ["models"]) => urm("mfake0001"),
        ("GET", ["models", id, "multipart_upload"]) => {
            if s.s3_credentials {
                return pb(&FileUploadResponse {
                    method: Some(file_upload_response::Method::Credentials(s3_credentials())),
                });
            }
            let size: u64 = query_values(&query, "file_size")
                .first()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let n = size
                .div_ceil(s.max_part_size)
                .min(s.part_urls.unwrap_or(u64::MAX))
                .max(1);
            let host = h("host").unwrap_or_default();
            let legacy = FileMultipartUploadUrl {
                urls: (0..n)
                    .map(|i| format!("http://{host}/blob/part/{i}"))
                    .collect(),
                upload_id: format!("up-{id}"),
                max_part_size: s.max_part_size,
            };
            transfer_answer(&s, &query, legacy, |m| FileUploadResponse {
                method: Some(file_upload_response::Method::MultipartUrl(m)),
            })
        }
        ("POST", ["models", id, "multipart_upload"]) => {
            let Ok(c) = FileMultipartUploadComplete::decode(body) else {
                return detail(400, "bad body");
            };
            if c.upload_id != format!("up-{id}") {
                return detail(400, "wrong upload id");
            }
            s.completed_etags = c.etags;
            urm(id)
        }
        ("POST", ["datasets"]) => {
            let Ok(d) = proto::Dataset::decode(body) else {
                return detail(400, "bad dataset");
            };
            if d.name.is_none() || d.permanent != Some(false) {
                return detail(400, "dataset needs a name and permanent=false");
            }
            urm("dfake0001")
        }
        ("GET", ["datasets", id, "upload_url"]) => {
            let host = h("host").unwrap_or_default();
            let legacy = proto::FileUploadUrl {
                url: format!("http://{host}/blob/form"),
                file_field_name: "file".into(),
                fields: [
                    ("key".to_string(), format!("datasets/{id}/inputs.h5")),
                    ("policy".to_string(), "p0".to_string()),
                ]
                .into(),
            };
            transfer_answer(&s, &query, legacy, |f| FileUploadResponse {
                method: Some(file_upload_response::Method::Url(f)),
            })
        }
        ("PATCH", ["datasets", id]) => {
            s.dataset_confirm = body.to_vec();
            urm(id)
        }
        ("GET", ["datasets", id, "download_data"]) => {
            if s.s3_credentials {
                return pb(&proto::FileDownloadResponse {
                    method: Some(proto::file_download_response::Method::Credentials(
                        s3_credentials(),
                    )),
                });
            }
            let host = h("host").unwrap_or_default();
            let legacy = proto::FileDownloadUrl {
                url: format!("http://{host}/blob/dl/{id}"),
                filename: "outputs.h5".into(),
            };
            transfer_answer(&s, &query, legacy, |u| proto::FileDownloadResponse {
                method: Some(proto::file_download_response::Method::Url(u)),
            })
        }
        ("POST", ["jobs"]) => {
            let Ok(mut j) = Job::decode(body) else {
                return detail(400, "bad job");
            };
            s.next_id += 1;
            let id = format!("jfake{:04}", s.next_id);
            match &mut j.job {
                Some(job::Job::CompileJob(c)) => {
                    c.compile_job_id = id.clone();
                    c.job_state = JobState::Created as i32;
                    if query == "seed_target_model=true" {
                        c.target_model = Some(Model {
                            model_id: Some(format!("mtgt{:04}", s.next_id)),
                            model_type: Some(proto::ModelType::Tflite as i32),
                            producer_id: Some(id.clone()),
                            ..Model::default()
                        });
                    }
                }
                Some(job::Job::InferenceJob(i)) => {
                    i.inference_job_id = id.clone();
                    i.job_state = JobState::Created as i32;
                }
                _ => return detail(400, "unsupported job"),
            }
            s.jobs.insert(id.clone(), (j, 0));
            urm(&id)
        }
        ("GET", ["jobs", id]) => {
            let Some((j, polls)) = s.jobs.get_mut(*id) else {
                return detail(404, "Not found.");
            };
            *polls += 1;
            let polls = *polls;
            let mut j = j.clone();
            let done = polls >= 3;
            match &mut j.job {
                Some(job::Job::CompileJob(c)) if polls > 1 => {
                    c.job_state = if done {
                        JobState::Done
                    } else {
                        JobState::OptimizingModel
                    } as i32;
                }
                Some(job::Job::InferenceJob(i)) if polls > 1 => {
                    if done && i.name == "doomed" {
                        i.job_state = JobState::Failed as i32;
                        i.failure_reason = Some("model exceeds device memory".into());
                        j.failure_type = proto::JobFailureType::RuntimeDeviceOom as i32;
                    } else {
                        i.job_state = if done {
                            JobState::Done
                        } else {
                            JobState::MeasuringPerformance
                        } as i32;
                    }
                }
                _ => {}
            }
            pb(&j)
        }
        ("GET", ["jobs", id, "result"]) => match s.jobs.get(*id) {
            Some((
                Job {
                    job: Some(job::Job::InferenceJob(i)),
                    ..
                },
                _,
            )) => pb(&JobResult {
                result: Some(job_result::Result::InferenceJobResult(
                    proto::InferenceJobResult {
                        inference_job_id: id.to_string(),
                        output_dataset_id: if i.dataset.is_some() {
                            "dout0001".into()
                        } else {
                            String::new()
                        },
                        detail: (i.is_profiling_on == Some(true)).then(profile_detail),
                    },
                )),
            }),
            _ => detail(404, "Not found."),
        },
        _ => detail(404, "Not found."),
    }
}

struct Server {
    addr: SocketAddr,
    state: Shared,
}

impl Server {
    async fn start() -> Self {
        let state: Shared = Arc::new(Mutex::new(Fake {
            max_part_size: 10,
            ..Fake::default()
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("bound address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state }
    }

    fn fake(&self) -> std::sync::MutexGuard<'_, Fake> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn client_with(&self, token: &str, retry: RetryPolicy) -> HubClient {
        let base = url::Url::parse(&format!("http://{}", self.addr)).expect("url");
        HubClient::new(
            HubConfig {
                api_token: ApiToken::new(token),
                api_url: base.clone(),
                web_url: base,
            },
            ClientOptions {
                retry,
                poll: PollPolicy {
                    initial: Duration::from_millis(5),
                    factor: 1.5,
                    max: Duration::from_millis(20),
                    timeout: Some(Duration::from_secs(10)),
                },
                ..ClientOptions::default()
            },
        )
        .expect("client builds")
    }

    fn client(&self) -> HubClient {
        self.client_with(TOKEN, fast_retry(4))
    }

    fn inject(&self, path: &str, faults: &[(u16, Option<&'static str>)]) {
        let mut f = self.fake();
        f.fault_path = path.into();
        f.faults = faults.iter().copied().collect();
    }

    fn count(&self, path: &str) -> usize {
        self.fake().seen.iter().filter(|s| s.path == path).count()
    }
}

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn fake_devices_list_and_select_send_documented_query_and_headers() {
    let srv = Server::start().await;
    let c = srv.client();
    let all = c.list_devices(&DeviceQuery::default()).await.expect("list");
    assert_eq!(all.len(), 2);
    let one = c
        .select_device(&DeviceQuery {
            name: Some("RB5".into()),
            ..DeviceQuery::default()
        })
        .await
        .expect("select");
    assert_eq!(one.name, "RB5 (Proxy)");
    let filtered = c
        .list_devices(&DeviceQuery {
            attributes: vec!["chipset:qualcomm-snapdragon-8gen3".into()],
            ..DeviceQuery::default()
        })
        .await
        .expect("list by attribute");
    assert_eq!(filtered, vec![s24()]);
    let none = c
        .select_device(&DeviceQuery {
            name: Some("Nothing".into()),
            ..DeviceQuery::default()
        })
        .await;
    assert!(
        matches!(none, Err(HubError::DeviceNotAvailable(_))),
        "{none:?}"
    );

    let f = srv.fake();
    assert_eq!(f.seen[0].path, "/api/v1/devices/");
    assert_eq!(f.seen[0].query, "select=False");
    assert_eq!(f.seen[1].query, "name=RB5+%28Proxy%29&select=True");
    assert_eq!(f.seen[0].auth.as_deref(), Some("token fake-token"));
    assert_eq!(
        f.seen[0].content_type.as_deref(),
        Some("application/x-protobuf")
    );
    assert_eq!(f.seen[0].client_version.as_deref(), Some("0.56.0"));
    assert!(
        f.seen[0]
            .user_agent
            .as_deref()
            .is_some_and(|u| u.starts_with("edgegate/"))
    );
}

#[tokio::test]
async fn fake_bad_token_is_reported_as_token_rejected() {
    let srv = Server::start().await;
    let err = srv
        .client_with("wrong", fast_retry(4))
        .list_devices(&DeviceQuery::default())
        .await
        .expect_err("401");
    assert!(matches!(err, HubError::Unauthorized));
    assert!(err.to_string().contains("token rejected"));
    assert!(err.to_string().contains("QAIHUB_API_TOKEN"));
    assert_eq!(srv.count("/api/v1/devices/"), 1, "401 is not retried");
}

#[tokio::test]
async fn fake_unknown_job_is_not_found_with_server_detail() {
    let srv = Server::start().await;
    let err = srv.client().get_job("jmissing1").await.expect_err("404");
    match err {
        HubError::NotFound { what, detail } => {
            assert_eq!(what, "job jmissing1");
            assert_eq!(detail, "Not found.");
        }
        other => panic!("expected not found, got {other:?}"),
    }
}

#[tokio::test]
async fn fake_rate_limit_honours_retry_after() {
    let srv = Server::start().await;
    srv.inject("/api/v1/devices/", &[(429, Some("1"))]);
    let started = Instant::now();
    let devices = srv
        .client()
        .list_devices(&DeviceQuery::default())
        .await
        .expect("succeeds after the wait");
    let waited = started.elapsed();
    assert_eq!(devices.len(), 2);
    assert_eq!(srv.count("/api/v1/devices/"), 2);
    assert!(
        waited >= Duration::from_millis(950),
        "retry-after of 1 s was not honoured: {waited:?}"
    );
}

#[tokio::test]
async fn fake_service_unavailable_is_retried_then_succeeds() {
    let srv = Server::start().await;
    srv.inject("/api/v1/devices/", &[(503, None), (502, None), (500, None)]);
    let devices = srv
        .client()
        .list_devices(&DeviceQuery::default())
        .await
        .expect("fourth attempt succeeds");
    assert_eq!(devices.len(), 2);
    assert_eq!(srv.count("/api/v1/devices/"), 4);
}

#[tokio::test]
async fn fake_retries_are_bounded_when_the_fault_persists() {
    let srv = Server::start().await;
    srv.inject("/api/v1/devices/", &[(503, None); 20]);
    let err = srv
        .client_with(TOKEN, fast_retry(3))
        .list_devices(&DeviceQuery::default())
        .await
        .expect_err("gives up");
    assert!(
        matches!(
            err,
            HubError::Server {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(srv.count("/api/v1/devices/"), 3);

    srv.inject("/api/v1/devices/", &[(429, Some("0")); 20]);
    let err = srv
        .client_with(TOKEN, fast_retry(2))
        .list_devices(&DeviceQuery::default())
        .await
        .expect_err("gives up");
    assert!(
        matches!(err, HubError::RateLimited { attempts: 2, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn fake_dropped_connections_are_retried_and_bounded() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(Mutex::new(0u32));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            *counter.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            drop(sock);
        }
    });
    let base = url::Url::parse(&format!("http://{addr}")).expect("url");
    let c = HubClient::new(
        HubConfig {
            api_token: ApiToken::new(TOKEN),
            api_url: base.clone(),
            web_url: base,
        },
        ClientOptions {
            retry: fast_retry(3),
            ..ClientOptions::default()
        },
    )
    .expect("client");
    let err = c
        .list_devices(&DeviceQuery::default())
        .await
        .expect_err("server drops every connection");
    assert!(
        matches!(err, HubError::Transport { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(*accepted.lock().unwrap_or_else(|e| e.into_inner()), 3);
}

#[tokio::test]
async fn fake_content_type_must_be_exactly_protobuf() {
    let srv = Server::start().await;
    srv.fake().wrong_content_type = true;
    let err = srv
        .client()
        .list_devices(&DeviceQuery::default())
        .await
        .expect_err("charset suffix is rejected");
    assert!(matches!(err, HubError::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn fake_multipart_model_upload_streams_parts_with_etags_and_no_token() {
    let srv = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tiny.onnx");
    let content: Vec<u8> = (0..25u8).collect();
    std::fs::write(&path, &content).expect("write model");
    let up = srv
        .client()
        .upload_model(&path, None)
        .await
        .expect("upload");
    assert_eq!(up.model_id, "mfake0001");
    assert_eq!(up.parts, 3);
    assert_eq!(up.size, 25);
    let f = srv.fake();
    let joined: Vec<u8> = f.parts.values().flatten().copied().collect();
    assert_eq!(joined, content);
    assert_eq!(f.parts[&2].len(), 5);
    assert_eq!(f.completed_etags, f.etags, "etags sent verbatim, in order");
    let blob: Vec<&Seen> = f
        .seen
        .iter()
        .filter(|s| s.path.starts_with("/blob/"))
        .collect();
    assert_eq!(blob.len(), 3);
    for s in &blob {
        assert_eq!(s.method, "PUT");
        assert_eq!(s.auth, None, "the token must never reach blob urls");
        assert_eq!(s.content_type, None, "part PUTs carry no content type");
    }
    let create = f
        .seen
        .iter()
        .find(|s| s.path == "/api/v1/models/" && s.method == "POST")
        .expect("model created");
    assert_eq!(
        create.body_len, 15,
        "Model{{name, model_type, is_directory}}"
    );
    let how = f
        .seen
        .iter()
        .find(|s| s.path == "/api/v1/models/mfake0001/multipart_upload/" && s.method == "GET")
        .expect("asked for part urls");
    assert!(
        !how.query.contains("supports_s3_credentials"),
        "edgegate cannot use S3 credentials, so it never advertises them: {}",
        how.query
    );
    assert!(how.query.contains("file_size=25"));
}

#[tokio::test]
async fn fake_fewer_part_urls_than_the_default_split_leave_the_rest_to_the_last_part() {
    let srv = Server::start().await;
    srv.fake().part_urls = Some(2);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tiny.onnx");
    let content: Vec<u8> = (0..25u8).collect();
    std::fs::write(&path, &content).expect("write model");
    let up = srv
        .client()
        .upload_model(&path, None)
        .await
        .expect("two urls for three parts' worth of bytes");
    assert_eq!(up.parts, 2);
    let f = srv.fake();
    let sizes: Vec<usize> = f.parts.values().map(Vec::len).collect();
    assert_eq!(
        sizes,
        [10, 15],
        "part 0 is max_part_size, the last the rest"
    );
    let joined: Vec<u8> = f.parts.values().flatten().copied().collect();
    assert_eq!(joined, content);
    assert_eq!(f.completed_etags, f.etags);
}

#[tokio::test]
async fn fake_wrapped_answers_without_the_flag_are_understood() {
    use edgegate::hub::dataset::NamedSamples;
    use edgegate::tensor::Tensor;

    let srv = Server::start().await;
    srv.fake().always_wrap = true;
    let c = srv.client();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tiny.onnx");
    std::fs::write(&path, [7u8; 25]).expect("write model");
    let up = c
        .upload_model(&path, None)
        .await
        .expect("wrapped part urls");
    assert_eq!(up.parts, 3);
    let inputs = vec![NamedSamples {
        name: "x".into(),
        samples: vec![Tensor::from_f32(vec![1, 2], &[1.0, 2.0]).expect("tensor")],
    }];
    let id = c
        .upload_inputs(inputs.clone(), "h5-dataset")
        .await
        .expect("wrapped form url");
    let outputs = c.download_outputs(&id).await.expect("wrapped download url");
    assert_eq!(outputs, inputs);
}

#[tokio::test]
async fn fake_s3_credentials_are_a_clear_error_naming_what_the_server_asked_for() {
    let srv = Server::start().await;
    srv.fake().s3_credentials = true;
    let c = srv.client();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tiny.onnx");
    std::fs::write(&path, [7u8; 25]).expect("write model");
    let err = c
        .upload_model(&path, None)
        .await
        .expect_err("credentials cannot be followed");
    let HubError::S3Credentials {
        route,
        transfer,
        bucket,
        region,
        ..
    } = &err
    else {
        panic!("expected S3Credentials, got {err:?}");
    };
    assert_eq!(route, "GET /api/v1/models/mfake0001/multipart_upload/");
    assert_eq!(*transfer, "upload");
    assert_eq!(bucket, "qai-hub-fake-bucket");
    assert_eq!(region, "us-west-2");
    let text = err.to_string();
    assert!(
        !text.contains("fake-secret") && !text.contains("AKIAFAKE"),
        "{text}"
    );
    assert!(srv.fake().parts.is_empty(), "nothing was sent anywhere");
    let err = c
        .download_outputs("dfake0001")
        .await
        .expect_err("download credentials");
    assert!(
        matches!(
            &err,
            HubError::S3Credentials {
                transfer: "download",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn fake_compile_then_profile_decodes_measurements() {
    let srv = Server::start().await;
    let c = srv.client();
    let device = c
        .select_device(&DeviceQuery {
            name: Some("Samsung Galaxy S24".into()),
            ..DeviceQuery::default()
        })
        .await
        .expect("device");
    let compile = c
        .submit_compile(&CompileRequest {
            model_id: "mfake0001".into(),
            device: device.clone(),
            name: "tiny".into(),
            options: " --target_runtime tflite ".into(),
            input_specs: Vec::new(),
            calibration_dataset_id: None,
        })
        .await
        .expect("compile submitted");
    assert_eq!(compile.target_model_id, "mtgt0001");
    assert_eq!(
        compile.job.url,
        format!("http://{}/jobs/{}/", srv.addr, compile.job.job_id)
    );
    let done = c.wait_job(&compile.job.job_id).await.expect("compiled");
    let Some(job::Job::CompileJob(CompileJob { options, .. })) = done.job else {
        panic!("compile job expected");
    };
    assert_eq!(options, "--target_runtime tflite");

    let profile = c
        .submit_inference(&InferenceRequest {
            model_id: compile.target_model_id.clone(),
            device,
            name: "tiny".into(),
            options: String::new(),
            dataset_id: None,
            profile: true,
        })
        .await
        .expect("profile submitted");
    c.wait_job(&profile.job_id).await.expect("profiled");
    let outcome = c.inference_outcome(&profile.job_id).await.expect("result");
    assert_eq!(outcome.output_dataset_id, None);
    let m = outcome.profile.expect("profile detail present");
    assert_eq!(m.inference_time_ms, 3.652);
    assert_eq!(m.all_inference_times_ms, vec![3.6, 3.652, 3.7]);
    assert_eq!(m.first_load_time_ms, Some(120.0));
    assert_eq!(m.layer_placement.npu, 2);
    assert_eq!(m.layer_placement.cpu, 1);
    assert_eq!(
        m.inference_memory_peak_range.map(|r| (r.lower, r.upper)),
        Some((2_654_208, 39_406_752))
    );
    let f = srv.fake();
    let submit = f
        .seen
        .iter()
        .filter(|s| s.path == "/api/v1/jobs/" && s.method == "POST")
        .map(|s| s.query.clone())
        .collect::<Vec<_>>();
    assert_eq!(
        submit,
        vec!["seed_target_model=true".to_string(), String::new()]
    );
}

#[tokio::test]
async fn fake_failed_job_surfaces_its_failure_reason() {
    let srv = Server::start().await;
    let c = srv.client();
    let job = c
        .submit_inference(&InferenceRequest {
            model_id: "mtgt0001".into(),
            device: s24(),
            name: "doomed".into(),
            options: String::new(),
            dataset_id: None,
            profile: true,
        })
        .await
        .expect("submitted");
    let err = c.wait_job(&job.job_id).await.expect_err("job fails");
    match &err {
        HubError::JobFailed {
            job_id,
            reason,
            failure_type,
            url,
        } => {
            assert_eq!(job_id, &job.job_id);
            assert_eq!(reason, "model exceeds device memory");
            assert_eq!(*failure_type, proto::JobFailureType::RuntimeDeviceOom);
            assert!(url.ends_with(&format!("/jobs/{job_id}/")));
        }
        other => panic!("expected a failed job, got {other:?}"),
    }
    assert!(err.to_string().contains("model exceeds device memory"));
}

#[tokio::test]
async fn fake_dataset_form_upload_then_download_decodes_tensors() {
    use edgegate::hub::dataset::NamedSamples;
    use edgegate::tensor::Tensor;

    let srv = Server::start().await;
    let c = srv.client();
    let inputs = vec![NamedSamples {
        name: "x".into(),
        samples: vec![
            Tensor::from_f32(vec![1, 4], &[1.0, 2.0, 3.0, 4.0]).expect("tensor"),
            Tensor::from_f32(vec![1, 4], &[5.0, 6.0, 7.0, 8.0]).expect("tensor"),
        ],
    }];
    let id = c
        .upload_inputs(inputs.clone(), "h5-dataset")
        .await
        .expect("dataset uploaded");
    assert_eq!(id, "dfake0001");
    {
        let f = srv.fake();
        let names: Vec<&str> = f.form_parts.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(
            names,
            ["key", "policy", "file"],
            "server fields first, file last"
        );
        let file = &f.form_parts[2];
        assert_eq!(file.1.as_deref(), Some("model"));
        assert_eq!(file.2.as_deref(), Some("application/x-hdf5"));
        assert_eq!(f.dataset_confirm, vec![0x30, 0x01]);
        let form = f
            .seen
            .iter()
            .find(|s| s.path == "/blob/form")
            .expect("form posted");
        assert_eq!(form.auth, None, "the token must never reach blob urls");
    }
    let outputs = c.download_outputs(&id).await.expect("downloaded");
    assert_eq!(outputs, inputs);
    let f = srv.fake();
    let transfers: Vec<&Seen> = f
        .seen
        .iter()
        .filter(|s| s.path.ends_with("/upload_url/") || s.path.ends_with("/download_data/"))
        .collect();
    assert_eq!(transfers.len(), 2);
    for s in transfers {
        assert!(!s.query.contains("supports_s3_credentials"), "{}", s.query);
    }
}

const SIM_TOKEN: &str = "sim-test-token";

fn client_for(url: &str, token: &str, retry: RetryPolicy) -> HubClient {
    let base = url::Url::parse(url).expect("sim url");
    HubClient::new(
        HubConfig {
            api_token: ApiToken::new(token),
            api_url: base.clone(),
            web_url: base,
        },
        ClientOptions {
            retry,
            poll: PollPolicy {
                initial: Duration::from_millis(10),
                factor: 1.5,
                max: Duration::from_millis(50),
                timeout: Some(Duration::from_secs(20)),
            },
            ..ClientOptions::default()
        },
    )
    .expect("client builds")
}

async fn sim(yaml: &str) -> (edgegate::sim::SimHandle, HubClient) {
    let scenario = edgegate::sim::Scenario::from_yaml(yaml, "test scenario").expect("scenario");
    let handle = edgegate::sim::start(edgegate::sim::SimConfig {
        token: SIM_TOKEN.into(),
        scenario,
        ..edgegate::sim::SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let client = client_for(&handle.url(), SIM_TOKEN, fast_retry(4));
    (handle, client)
}

fn model_file(dir: &std::path::Path, name: &str, len: usize) -> std::path::PathBuf {
    let path = dir.join(name);
    let bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&path, bytes).expect("write model");
    path
}

#[tokio::test]
async fn sim_devices_listing_filtering_and_selection() {
    let (_sim, c) = sim("").await;
    let all = c.list_devices(&DeviceQuery::default()).await.expect("list");
    assert!(all.len() > 5, "the catalogue is served: {}", all.len());
    assert!(
        all.iter()
            .all(|d| d.attributes.iter().all(|a| a.matches(':').count() == 1))
    );
    let picked = c
        .select_device(&DeviceQuery {
            name: Some("RB5".into()),
            ..DeviceQuery::default()
        })
        .await
        .expect("alias selects one device");
    assert_eq!(picked.name, "RB5 (Proxy)");
    let gen3 = c
        .list_devices(&DeviceQuery {
            attributes: vec!["chipset:qualcomm-snapdragon-8gen3".into()],
            ..DeviceQuery::default()
        })
        .await
        .expect("by attribute");
    assert!(!gen3.is_empty());
    assert!(gen3.iter().any(|d| d.name == "Samsung Galaxy S24"));
    let one = c
        .select_device(&DeviceQuery {
            attributes: vec!["chipset:qualcomm-snapdragon-8gen3".into()],
            ..DeviceQuery::default()
        })
        .await
        .expect("select by attribute returns one");
    assert!(gen3.contains(&one));
}

#[tokio::test]
async fn sim_multipart_model_upload_stores_the_exact_bytes() {
    let (sim, c) = sim("upload: { max_part_size: 1000 }").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = model_file(dir.path(), "tiny.onnx", 2500);
    let up = c.upload_model(&path, None).await.expect("upload");
    assert_eq!(up.parts, 3);
    assert_eq!(up.size, 2500);
    let want = hex::encode(sha2::Sha256::digest(std::fs::read(&path).expect("read")));
    assert_eq!(sim.model_sha256(&up.model_id), Some(want));
}

#[tokio::test]
async fn sim_fewer_part_urls_and_wrapped_answers_still_store_the_exact_bytes() {
    for yaml in [
        "upload: { max_part_size: 1000, part_urls: 2 }",
        "upload: { max_part_size: 1000, part_urls: 1 }\ntransfers: { wrapped: always }",
    ] {
        let (sim, c) = sim(yaml).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = model_file(dir.path(), "tiny.onnx", 3500);
        let up = c.upload_model(&path, None).await.expect("upload");
        assert_eq!(up.parts, if yaml.contains("part_urls: 2") { 2 } else { 1 });
        let want = hex::encode(sha2::Sha256::digest(std::fs::read(&path).expect("read")));
        assert_eq!(sim.model_sha256(&up.model_id), Some(want), "{yaml}");
    }
}

#[tokio::test]
async fn sim_download_credentials_are_a_clear_error_after_the_uploads_worked() {
    use edgegate::hub::dataset::NamedSamples;
    use edgegate::tensor::Tensor;

    let (_sim, c) = sim("transfers: { s3_credentials: [model_download, dataset_download] }").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = model_file(dir.path(), "tiny.onnx", 300);
    let up = c.upload_model(&path, None).await.expect("upload");
    let err = c
        .download_model(&up.model_id, dir.path())
        .await
        .expect_err("model download credentials");
    let text = err.to_string();
    assert!(
        matches!(
            &err,
            HubError::S3Credentials {
                transfer: "download",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(text.contains("edgegate-hub-sim"), "{text}");
    assert!(
        text.contains(&format!("models/{}/tiny.onnx", up.model_id)),
        "{text}"
    );
    assert!(!text.contains("fake-secret"), "{text}");
    let inputs = vec![NamedSamples {
        name: "x".into(),
        samples: vec![Tensor::from_f32(vec![1, 2], &[1.0, 2.0]).expect("tensor")],
    }];
    let id = c.upload_inputs(inputs, "h5-dataset").await.expect("inputs");
    let err = c
        .download_outputs(&id)
        .await
        .expect_err("dataset credentials");
    assert!(
        err.to_string()
            .contains(&format!("/api/v1/datasets/{id}/download_data/")),
        "{err}"
    );
}

#[tokio::test]
async fn sim_dropped_blob_connection_is_retried() {
    let (sim, c) = sim(
        "upload: { max_part_size: 1000 }\nhttp_faults:\n  - { path: /blobs/, drop: true, limit: 1 }\n",
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = model_file(dir.path(), "tiny.onnx", 1500);
    let up = c
        .upload_model(&path, None)
        .await
        .expect("upload survives a drop");
    let want = hex::encode(sha2::Sha256::digest(std::fs::read(&path).expect("read")));
    assert_eq!(sim.model_sha256(&up.model_id), Some(want));
    assert_eq!(sim.stats().faults_injected, 1);
}

#[tokio::test]
async fn sim_compile_profile_inference_outputs_decoded() {
    use edgegate::hub::dataset::NamedSamples;
    use edgegate::hub::proto::{NamedTensorType, TensorDtype, TensorType};
    use edgegate::tensor::Tensor;

    let (sim, c) = sim(r#"
durations: { compile_s: 0.05, provision_s: 0.05, run_s: 0.05 }
devices:
  "Samsung Galaxy S24":
    latency_ms: 4.2
    peak_memory_mb: 55
    load_time_ms: 80
    compute_units: { npu: 30, gpu: 0, cpu: 2 }
"#)
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = model_file(dir.path(), "tiny.onnx", 300);
    let model = c.upload_model(&path, None).await.expect("upload");
    let device = c
        .select_device(&DeviceQuery {
            name: Some("s24".into()),
            ..DeviceQuery::default()
        })
        .await
        .expect("device");
    assert_eq!(device.name, "Samsung Galaxy S24");

    let compile = c
        .submit_compile(&CompileRequest {
            model_id: model.model_id.clone(),
            device: device.clone(),
            name: "tiny".into(),
            options: "--target_runtime tflite".into(),
            input_specs: vec![NamedTensorType {
                name: "x".into(),
                tensor_type: Some(TensorType {
                    shape: vec![1, 4],
                    dtype: TensorDtype::Float32 as i32,
                    ..TensorType::default()
                }),
                graph_name: None,
            }],
            calibration_dataset_id: None,
        })
        .await
        .expect("compile submitted");
    assert_eq!(
        compile.job.url,
        format!("{}/jobs/{}/", sim.url(), compile.job.job_id)
    );
    c.wait_job(&compile.job.job_id).await.expect("compiled");
    let target_path = c
        .download_model(&compile.target_model_id, dir.path())
        .await
        .expect("target model downloads");
    assert_eq!(
        target_path.extension().and_then(|e| e.to_str()),
        Some("tflite")
    );
    let target = std::fs::read_to_string(&target_path).expect("target model text");
    assert!(target.contains(&model.model_id), "{target}");

    let profile = c
        .submit_inference(&InferenceRequest {
            model_id: compile.target_model_id.clone(),
            device: device.clone(),
            name: "tiny".into(),
            options: "--max_profiler_iterations 10".into(),
            dataset_id: None,
            profile: true,
        })
        .await
        .expect("profile submitted");
    c.wait_job(&profile.job_id).await.expect("profiled");
    let outcome = c.inference_outcome(&profile.job_id).await.expect("result");
    assert_eq!(outcome.output_dataset_id, None);
    let m = outcome.profile.expect("profile detail");
    assert!(
        (m.inference_time_ms - 4.2).abs() < 1e-9,
        "{}",
        m.inference_time_ms
    );
    assert_eq!(m.all_inference_times_ms.len(), 10);
    assert!(
        m.all_inference_times_ms
            .iter()
            .all(|t| (t - 4.2).abs() <= 4.2 * 0.05 + 1e-9)
    );
    assert_eq!(m.first_load_time_ms, Some(80.0));
    assert_eq!(m.layer_placement.npu, 30);
    assert_eq!(m.layer_placement.cpu, 2);
    assert_eq!(m.layer_placement.gpu, 0);
    let mb = m.peak_memory_mb().expect("peak memory");
    assert!((mb - 55.0).abs() < 0.01, "{mb}");

    let inputs = vec![NamedSamples {
        name: "x".into(),
        samples: vec![Tensor::from_f32(vec![1, 4], &[1.0, 2.0, 3.0, 4.0]).expect("tensor")],
    }];
    let dataset_id = c
        .upload_inputs(inputs.clone(), "h5-dataset")
        .await
        .expect("inputs uploaded");
    let run = c
        .submit_inference(&InferenceRequest {
            model_id: compile.target_model_id.clone(),
            device,
            name: "tiny".into(),
            options: String::new(),
            dataset_id: Some(dataset_id),
            profile: false,
        })
        .await
        .expect("inference submitted");
    c.wait_job(&run.job_id).await.expect("inference done");
    let outcome = c.inference_outcome(&run.job_id).await.expect("result");
    let out_id = outcome.output_dataset_id.expect("output dataset");
    let outputs = c.download_outputs(&out_id).await.expect("outputs decode");
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0].name, "output_0");
    assert_eq!(outputs[0].samples, inputs[0].samples);
    let stats = sim.stats();
    assert_eq!(
        (stats.compile_jobs, stats.profile_jobs, stats.inference_jobs),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn sim_failed_job_surfaces_its_failure_reason() {
    let (_sim, c) = sim(r#"
failures:
  - { device: "RB5 (Proxy)", job_type: compile, reason: "device lost", failure_type: 2001 }
"#)
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = model_file(dir.path(), "tiny.onnx", 100);
    let model = c.upload_model(&path, None).await.expect("upload");
    let device = c
        .select_device(&DeviceQuery {
            name: Some("RB5".into()),
            ..DeviceQuery::default()
        })
        .await
        .expect("device");
    let compile = c
        .submit_compile(&CompileRequest {
            model_id: model.model_id,
            device,
            name: "tiny".into(),
            options: "--target_runtime tflite".into(),
            input_specs: Vec::new(),
            calibration_dataset_id: None,
        })
        .await
        .expect("submitted");
    let err = c
        .wait_job(&compile.job.job_id)
        .await
        .expect_err("job fails");
    match err {
        HubError::JobFailed {
            reason,
            failure_type,
            ..
        } => {
            assert_eq!(reason, "device lost");
            assert_eq!(failure_type, proto::JobFailureType::RuntimeCrash);
        }
        other => panic!("expected a failed job, got {other:?}"),
    }
}

#[tokio::test]
async fn sim_wrong_token_is_rejected() {
    let (sim, _) = sim("").await;
    let c = client_for(&sim.url(), "not-the-token", fast_retry(4));
    let err = c
        .list_devices(&DeviceQuery::default())
        .await
        .expect_err("401");
    assert!(matches!(err, HubError::Unauthorized), "{err:?}");
    assert_eq!(sim.stats().requests, 1, "401 is not retried");
}

#[tokio::test]
async fn sim_unknown_job_is_not_found() {
    let (_sim, c) = sim("").await;
    let err = c.get_job("jnotthere").await.expect_err("404");
    assert!(
        matches!(&err, HubError::NotFound { what, .. } if what == "job jnotthere"),
        "{err:?}"
    );
}

#[tokio::test]
async fn sim_rate_limit_honours_retry_after() {
    let (sim, c) = sim(
        "http_faults:\n  - { path: /api/v1/devices/, status: 429, retry_after_s: 1, limit: 1 }\n",
    )
    .await;
    let started = Instant::now();
    c.list_devices(&DeviceQuery::default())
        .await
        .expect("succeeds after waiting");
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(sim.stats().faults_injected, 1);
}

#[tokio::test]
async fn sim_503_is_retried_then_succeeds() {
    let (sim, c) =
        sim("http_faults:\n  - { path: /api/v1/devices/, status: 503, limit: 2 }\n").await;
    let devices = c
        .list_devices(&DeviceQuery::default())
        .await
        .expect("third attempt succeeds");
    assert!(!devices.is_empty());
    assert_eq!(sim.stats().faults_injected, 2);
}

#[tokio::test]
async fn sim_retries_are_bounded_when_the_fault_persists() {
    let (sim, _) = sim("http_faults:\n  - { path: /api/v1/devices/, status: 503 }\n").await;
    let c = client_for(&sim.url(), SIM_TOKEN, fast_retry(3));
    let err = c
        .list_devices(&DeviceQuery::default())
        .await
        .expect_err("gives up");
    assert!(
        matches!(
            err,
            HubError::Server {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(sim.stats().faults_injected, 3);
}

#[tokio::test]
async fn sim_old_client_version_gets_upgrade_message() {
    let (_sim, c) = sim("min_client_version: \"9.0.0\"\n").await;
    let err = c
        .list_devices(&DeviceQuery::default())
        .await
        .expect_err("426");
    assert!(matches!(err, HubError::UpgradeRequired { .. }), "{err:?}");
    assert!(err.to_string().contains("upgrade"));
}

#[tokio::test]
async fn sim_devices_command_lists_through_the_config_chain() {
    let (sim, _) = sim("").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ini = dir.path().join("client.ini");
    std::fs::write(
        &ini,
        format!(
            "[api]\napi_token = {SIM_TOKEN}\napi_url = {}\nweb_url = {}\n",
            sim.url(),
            sim.url()
        ),
    )
    .expect("write ini");
    let env = edgegate::hub::config::HubEnv {
        client_ini: Some(ini),
        ..Default::default()
    };
    let opts = edgegate::commands::DevicesRequest {
        name: Some("RB5".into()),
        ..Default::default()
    };
    let devices = edgegate::commands::list_devices(&opts, &env)
        .await
        .expect("listed");
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].name, "RB5 (Proxy)");
}

#[tokio::test]
async fn sim_slow_part_upload_is_abandoned_and_retried() {
    let (sim, _) = sim(
        "upload: { max_part_size: 1000 }\nhttp_faults:\n  - { path: /blobs/, method: PUT, delay_ms: 5000, limit: 1 }\n",
    )
    .await;
    let base = url::Url::parse(&sim.url()).expect("url");
    let c = HubClient::new(
        HubConfig {
            api_token: ApiToken::new(SIM_TOKEN),
            api_url: base.clone(),
            web_url: base,
        },
        ClientOptions {
            retry: fast_retry(3),
            blob_read_timeout: Duration::from_millis(300),
            min_upload_rate: 1024 * 1024 * 1024,
            ..ClientOptions::default()
        },
    )
    .expect("client");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = model_file(dir.path(), "tiny.onnx", 1500);
    let started = Instant::now();
    let up = c
        .upload_model(&path, None)
        .await
        .expect("upload succeeds on retry");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(4),
        "the slow part was neither awaited in full nor skipped: {took:?}"
    );
    let want = hex::encode(sha2::Sha256::digest(std::fs::read(&path).expect("read")));
    assert_eq!(sim.model_sha256(&up.model_id), Some(want));
}

fn run_devices_cli(url: &str, token: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_edgegate"))
        .arg("devices")
        .arg("--hub-url")
        .arg(url)
        .args(args)
        .env("QAIHUB_API_TOKEN", token)
        .env("QAIHUB_CLIENT_INI", "/dev/null")
        .env_remove("QAIHUB_API_URL")
        .output()
        .expect("edgegate runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_devices_cli_prints_json_and_exit_codes() {
    let (sim, _) = sim("").await;
    let url = sim.url();
    let ok = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            run_devices_cli(&url, SIM_TOKEN, &["--name", "RB5", "--format", "json"])
        })
        .await
        .expect("joined")
    };
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("json on stdout");
    assert_eq!(v[0]["name"], "RB5 (Proxy)");
    assert_eq!(v.as_array().map(Vec::len), Some(1));

    let table = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            run_devices_cli(
                &url,
                SIM_TOKEN,
                &["--attribute", "chipset:qualcomm-snapdragon-8gen3"],
            )
        })
        .await
        .expect("joined")
    };
    let text = String::from_utf8_lossy(&table.stdout);
    assert_eq!(table.status.code(), Some(0));
    assert!(text.starts_with("DEVICE"), "{text}");
    assert!(text.contains("Samsung Galaxy S24"), "{text}");

    let denied = tokio::task::spawn_blocking(move || run_devices_cli(&url, "wrong", &[]))
        .await
        .expect("joined");
    let err = String::from_utf8_lossy(&denied.stderr);
    assert_eq!(denied.status.code(), Some(3));
    assert!(err.contains("token rejected"), "{err}");
    assert!(!err.contains("wrong"), "the token is never printed: {err}");
}
