//! The AI Hub simulator driven over real HTTP with plain reqwest and the protocol messages:
//! devices, uploads, jobs, results, datasets, auth, errors and fault injection.

use std::time::{Duration, Instant};

use edgegate::hub::dataset::{self, NamedSamples};
use edgegate::hub::proto::{self, JobState, file_download_response, file_upload_response, job};
use edgegate::sim::{self, Scenario, SimConfig, SimHandle, measure};
use edgegate::tensor::{DType, Tensor};
use prost::Message;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

const S24: &str = "Samsung Galaxy S24";

async fn start_with(yaml: &str) -> SimHandle {
    let scenario = Scenario::from_yaml(yaml, "test").expect("scenario");
    sim::start(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await
    .expect("sim starts")
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: bytes::Bytes,
}

impl Answer {
    fn pb<M: Message + Default>(&self) -> M {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/x-protobuf")
        );
        M::decode(self.body.clone()).expect("decodes")
    }

    fn detail(&self) -> String {
        let v: serde_json::Value = serde_json::from_slice(&self.body).expect("json detail");
        v["detail"].as_str().unwrap_or_default().to_owned()
    }
}

impl Api {
    fn new(sim: &SimHandle) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: sim.url(),
            token: sim.token().to_owned(),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Vec<u8>>) -> Answer {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}/api/v1/{path}", self.base)
        };
        let mut req = self
            .http
            .request(method, url)
            .header("Authorization", format!("token {}", self.token))
            .header("Content-Type", "application/x-protobuf")
            .header("Client-Version", "0.56.0");
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.expect("request");
        Answer {
            status: resp.status(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.expect("body"),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post<M: Message>(&self, path: &str, m: &M) -> Answer {
        self.send(reqwest::Method::POST, path, Some(m.encode_to_vec()))
            .await
    }

    async fn patch<M: Message>(&self, path: &str, m: &M) -> Answer {
        self.send(reqwest::Method::PATCH, path, Some(m.encode_to_vec()))
            .await
    }

    /// Creates a model and uploads `bytes` through the multipart flow; returns the model id.
    async fn upload_model(&self, name: &str, bytes: &[u8]) -> String {
        let created: proto::CreateUpdateResponse = self
            .post(
                "models/",
                &proto::Model {
                    name: Some(name.into()),
                    model_type: Some(proto::ModelType::Onnx as i32),
                    is_directory: Some(false),
                    ..Default::default()
                },
            )
            .await
            .pb();
        let id = created.id;
        let resp: proto::FileUploadResponse = self
            .get(&format!(
                "models/{id}/multipart_upload/?use_acceleration=true&supports_s3_credentials=true&file_size={}",
                bytes.len()
            ))
            .await
            .pb();
        let Some(file_upload_response::Method::MultipartUrl(mp)) = resp.method else {
            panic!("expected multipart urls");
        };
        let part = mp.max_part_size as usize;
        let mut etags = vec![];
        for (i, url) in mp.urls.iter().enumerate() {
            let chunk = bytes[i * part..((i + 1) * part).min(bytes.len())].to_vec();
            let r = self.http.put(url).body(chunk).send().await.expect("put");
            assert_eq!(r.status(), StatusCode::OK);
            let etag = r.headers()["etag"].to_str().expect("ascii").to_owned();
            assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
            etags.push(etag);
        }
        let done: proto::CreateUpdateResponse = self
            .post(
                &format!("models/{id}/multipart_upload/"),
                &proto::FileMultipartUploadComplete {
                    upload_id: mp.upload_id,
                    etags,
                },
            )
            .await
            .pb();
        assert_eq!(done.id, id);
        assert!(done.status.is_empty());
        id
    }

    async fn device(&self, name: &str) -> proto::Device {
        let list: proto::DeviceList = self
            .get(&format!(
                "devices/?name={}&select=True",
                name.replace(' ', "+")
            ))
            .await
            .pb();
        list.devices.into_iter().next().expect("device exists")
    }

    async fn submit(&self, j: job::Job, seed: bool) -> String {
        let path = if seed {
            "jobs/?seed_target_model=true"
        } else {
            "jobs/"
        };
        let r: proto::CreateUpdateResponse = self
            .post(
                path,
                &proto::Job {
                    job: Some(j),
                    ..Default::default()
                },
            )
            .await
            .pb();
        r.id
    }

    async fn job(&self, id: &str) -> proto::Job {
        self.get(&format!("jobs/{id}/")).await.pb()
    }

    async fn wait(&self, id: &str) -> (proto::Job, Vec<JobState>) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = vec![];
        loop {
            let j = self.job(id).await;
            let state = job_state(&j);
            if seen.last() != Some(&state) {
                seen.push(state);
            }
            if state.is_terminal() {
                return (j, seen);
            }
            assert!(
                Instant::now() < deadline,
                "job {id} never finished: {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn job_state(j: &proto::Job) -> JobState {
    let raw = match &j.job {
        Some(job::Job::CompileJob(c)) => c.job_state,
        Some(job::Job::InferenceJob(i)) => i.job_state,
        other => panic!("unexpected job kind {other:?}"),
    };
    JobState::try_from(raw).expect("known state")
}

fn compile_job(model_id: &str, device: proto::Device) -> job::Job {
    job::Job::CompileJob(proto::CompileJob {
        model: Some(proto::Model::reference(model_id)),
        devices: Some(proto::DeviceList {
            devices: vec![device],
            total_query_count: 1,
        }),
        tensor_type_list: Some(proto::NamedTensorTypeList {
            types: vec![proto::NamedTensorType {
                name: "x".into(),
                tensor_type: Some(proto::TensorType {
                    shape: vec![1, 4],
                    dtype: proto::TensorDtype::Float32 as i32,
                    ..Default::default()
                }),
                graph_name: None,
            }],
        }),
        name: "tiny".into(),
        options: "--target_runtime tflite".into(),
        ..Default::default()
    })
}

fn inference_job(
    model_id: &str,
    device: proto::Device,
    profile: bool,
    dataset: Option<&str>,
) -> job::Job {
    job::Job::InferenceJob(proto::InferenceJob {
        model: Some(proto::Model::reference(model_id)),
        device: Some(device),
        name: "tiny".into(),
        dataset: dataset.map(|d| proto::Dataset {
            dataset_id: Some(d.into()),
            ..Default::default()
        }),
        is_profiling_on: Some(profile),
        ..Default::default()
    })
}

fn target_model_id(j: &proto::Job) -> String {
    match &j.job {
        Some(job::Job::CompileJob(c)) => c
            .target_model
            .as_ref()
            .and_then(|m| m.model_id.clone())
            .expect("target model"),
        _ => panic!("not a compile job"),
    }
}

#[tokio::test]
async fn devices_filter_by_name_os_attributes_and_select() {
    let sim = start_with("").await;
    let api = Api::new(&sim);
    let all: proto::DeviceList = api.get("devices/").await.pb();
    assert!(all.devices.len() >= 10);
    assert_eq!(all.total_query_count, all.devices.len() as u64);
    let s24: proto::DeviceList = api.get("devices/?name=Samsung+Galaxy+S24").await.pb();
    assert_eq!(s24.devices.len(), 1);
    assert_eq!(s24.devices[0].os, "14");
    assert!(
        s24.devices[0]
            .attributes
            .contains(&"framework:qnn".to_owned())
    );
    let qnn_android: proto::DeviceList = api
        .get("devices/?attributes=os%3Aandroid&attributes=framework%3Aqnn&os=%5B14%2C16%29&select=False")
        .await
        .pb();
    assert!(qnn_android.devices.len() > 1);
    for d in &qnn_android.devices {
        assert!(d.os == "14" || d.os == "15", "{d:?}");
        assert!(d.attributes.contains(&"os:android".to_owned()));
    }
    let selected: proto::DeviceList = api
        .get("devices/?attributes=framework%3Aqnn&select=True")
        .await
        .pb();
    assert_eq!(selected.devices.len(), 1);
    let bad = api.get("devices/?os=%5B14").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let fw: proto::FrameworkList = api.get("frameworks/").await.pb();
    assert_eq!(fw.frameworks[0].name, "QAIRT");
}

#[tokio::test]
async fn wrong_token_is_401_unknown_ids_404_old_clients_426() {
    let sim = start_with("").await;
    let mut api = Api::new(&sim);
    for path in [
        "jobs/jnope0000/",
        "models/mnope0000/",
        "datasets/dnope0000/",
    ] {
        let r = api.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.detail().contains("not found"), "{}", r.detail());
    }
    let r = api.get("jobs/jnope0000/result/").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let old = api
        .http
        .get(format!("{}/api/v1/devices/", api.base))
        .header("Authorization", format!("token {}", api.token))
        .header("Client-Version", "0.10.0")
        .send()
        .await
        .expect("request");
    assert_eq!(old.status(), StatusCode::UPGRADE_REQUIRED);
    api.token = "wrong".into();
    let r = api.get("devices/").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let none = api
        .http
        .get(format!("{}/api/v1/devices/", api.base))
        .send()
        .await
        .expect("request");
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn hostile_bodies_get_400_not_500() {
    let sim = start_with("").await;
    let api = Api::new(&sim);
    let garbage = vec![0xff, 0xff, 0xff, 0x0f, 0x01];
    for path in ["jobs/", "models/", "datasets/"] {
        let r = api
            .send(reqwest::Method::POST, path, Some(garbage.clone()))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
    }
    let empty_job = api.post("jobs/", &proto::Job::default()).await;
    assert_eq!(empty_job.status, StatusCode::BAD_REQUEST);
    let huge = api
        .get("models/mnope0000/multipart_upload/?file_size=18446744073709551615")
        .await;
    assert_eq!(huge.status, StatusCode::BAD_REQUEST);
    let r = api
        .get("jobs/jnope0000/device_runs/latest/artifact_list/notanumber/")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn multipart_upload_compile_with_seeded_target_and_state_walk() {
    let sim =
        start_with("upload: { max_part_size: 10 }\ndurations: { queue_s: 0.1, compile_s: 0.3 }\n")
            .await;
    let api = Api::new(&sim);
    let bytes: Vec<u8> = (0..25u8).collect();

    let created: proto::CreateUpdateResponse = api
        .post(
            "models/",
            &proto::Model {
                name: Some("m.onnx".into()),
                ..Default::default()
            },
        )
        .await
        .pb();
    let legacy: proto::FileMultipartUploadUrl = api
        .get(&format!(
            "models/{}/multipart_upload/?file_size=25",
            created.id
        ))
        .await
        .pb();
    assert_eq!(legacy.urls.len(), 3, "legacy answer is the bare message");
    let wrong = api
        .post(
            &format!("models/{}/multipart_upload/", created.id),
            &proto::FileMultipartUploadComplete {
                upload_id: legacy.upload_id.clone(),
                etags: vec!["\"x\"".into(); 3],
            },
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);

    let model_id = api.upload_model("tiny.onnx", &bytes).await;
    let model: proto::Model = api.get(&format!("models/{model_id}/")).await.pb();
    assert_eq!(model.file_upload_complete, Some(true));
    let sha = hex::encode(Sha256::digest(&bytes));
    assert_eq!(sim.model_sha256(&model_id), Some(sha.clone()));

    let device = api.device(S24).await;
    let job_id = api.submit(compile_job(&model_id, device), true).await;
    let first = api.job(&job_id).await;
    let target = target_model_id(&first);
    match &first.job {
        Some(job::Job::CompileJob(c)) => {
            let t = c.target_model.as_ref().expect("seeded");
            assert_eq!(t.producer_id.as_deref(), Some(job_id.as_str()));
            assert_eq!(t.model_type, Some(proto::ModelType::Tflite as i32));
        }
        _ => panic!("compile job expected"),
    }
    let early = api
        .get(&format!(
            "models/{target}/download/?supports_s3_credentials=true"
        ))
        .await;
    assert_eq!(
        early.status,
        StatusCode::NOT_FOUND,
        "not downloadable before DONE"
    );

    let (done, seen) = api.wait(&job_id).await;
    assert_eq!(seen.last(), Some(&JobState::Done));
    assert!(seen.contains(&JobState::OptimizingModel), "{seen:?}");
    let order = [JobState::Created, JobState::OptimizingModel, JobState::Done];
    let mut idx = 0;
    for s in &seen {
        idx += order[idx..]
            .iter()
            .position(|o| o == s)
            .expect("states in order");
    }
    assert!(
        done.available_artifacts
            .contains(&(proto::JobArtifactType::HubLog as i32))
    );
    if let Some(job::Job::CompileJob(c)) = &done.job {
        assert_eq!(
            c.target_tensor_type_list.as_ref().map(|l| l.types.len()),
            Some(1)
        );
    }

    let dl: proto::FileDownloadResponse = api
        .get(&format!(
            "models/{target}/download/?use_acceleration=true&supports_s3_credentials=true"
        ))
        .await
        .pb();
    let Some(file_download_response::Method::Url(url)) = dl.method else {
        panic!("expected url");
    };
    assert!(url.filename.ends_with(".tflite"), "{}", url.filename);
    let blob = reqwest::get(&url.url)
        .await
        .expect("blob")
        .text()
        .await
        .expect("text");
    assert!(blob.contains(&sha));
    assert_eq!(sim.stats().compile_jobs, 1);
    assert_eq!(sim.stats().models_created, 2);
}

async fn create_model(api: &Api, name: &str) -> String {
    let created: proto::CreateUpdateResponse = api
        .post(
            "models/",
            &proto::Model {
                name: Some(name.into()),
                model_type: Some(proto::ModelType::Onnx as i32),
                is_directory: Some(false),
                ..Default::default()
            },
        )
        .await
        .pb();
    created.id
}

#[tokio::test]
async fn fewer_part_urls_leave_the_rest_to_the_last_part_and_the_split_is_checked() {
    let sim = start_with("upload: { max_part_size: 10, part_urls: 2 }").await;
    let api = Api::new(&sim);
    let bytes: Vec<u8> = (0..25u8).collect();
    let cases = [
        (
            25,
            15,
            "part 0 has 15 bytes; every part but the last must have max_part_size (10)",
        ),
        (30, 10, "the parts add up to 25 bytes, but file_size was 30"),
        (25, 10, ""),
    ];
    for (announced, split, problem) in cases {
        let id = create_model(&api, "m.onnx").await;
        let legacy: proto::FileMultipartUploadUrl = api
            .get(&format!(
                "models/{id}/multipart_upload/?file_size={announced}"
            ))
            .await
            .pb();
        assert_eq!(legacy.urls.len(), 2, "2 urls, not the default 3");
        assert_eq!(legacy.max_part_size, 10);
        let mut etags = vec![];
        for (url, chunk) in legacy.urls.iter().zip([&bytes[..split], &bytes[split..]]) {
            let r = api
                .http
                .put(url)
                .body(chunk.to_vec())
                .send()
                .await
                .expect("put");
            assert_eq!(r.status(), StatusCode::OK);
            etags.push(r.headers()["etag"].to_str().expect("ascii").to_owned());
        }
        let done = api
            .post(
                &format!("models/{id}/multipart_upload/"),
                &proto::FileMultipartUploadComplete {
                    upload_id: legacy.upload_id,
                    etags,
                },
            )
            .await;
        if problem.is_empty() {
            let urm: proto::CreateUpdateResponse = done.pb();
            assert_eq!(urm.id, id);
            assert_eq!(
                sim.model_sha256(&id),
                Some(hex::encode(Sha256::digest(&bytes)))
            );
        } else {
            assert_eq!(done.status, StatusCode::BAD_REQUEST);
            assert!(done.detail().contains(problem), "{}", done.detail());
            assert_eq!(sim.model_sha256(&id), None);
        }
    }
}

#[tokio::test]
async fn transfer_answers_can_be_wrapped_always_or_be_s3_credentials() {
    let sim = start_with("transfers: { wrapped: always }").await;
    let api = Api::new(&sim);
    let id = create_model(&api, "m.onnx").await;
    let wrapped: proto::FileUploadResponse = api
        .get(&format!("models/{id}/multipart_upload/?file_size=3"))
        .await
        .pb();
    assert!(
        matches!(
            wrapped.method,
            Some(file_upload_response::Method::MultipartUrl(_))
        ),
        "wrapped without the flag"
    );

    let sim = start_with("transfers: { s3_credentials: [model_upload, dataset_upload] }").await;
    let api = Api::new(&sim);
    let id = create_model(&api, "m.onnx").await;
    for query in ["?file_size=3", "?supports_s3_credentials=true&file_size=3"] {
        let answer: proto::FileUploadResponse = api
            .get(&format!("models/{id}/multipart_upload/{query}"))
            .await
            .pb();
        let Some(file_upload_response::Method::Credentials(c)) = answer.method else {
            panic!("expected credentials for {query}");
        };
        assert_eq!(c.bucket, "edgegate-hub-sim");
        assert_eq!(c.key, format!("models/{id}/m.onnx"));
        assert_eq!(c.region, "us-west-2");
        assert!(c.expiration.is_some());
    }
    let complete = api
        .send(
            reqwest::Method::POST,
            &format!("models/{id}/upload_complete/"),
            Some(vec![]),
        )
        .await;
    assert_eq!(complete.status, StatusCode::BAD_REQUEST);
    assert!(complete.detail().contains("nothing was uploaded"));
    let dataset: proto::CreateUpdateResponse = api
        .post(
            "datasets/",
            &proto::Dataset {
                name: Some("d".into()),
                ..Default::default()
            },
        )
        .await
        .pb();
    let answer: proto::FileUploadResponse = api
        .get(&format!("datasets/{}/upload_url/?file_size=3", dataset.id))
        .await
        .pb();
    assert!(matches!(
        answer.method,
        Some(file_upload_response::Method::Credentials(_))
    ));
}

#[tokio::test]
async fn profile_result_has_predicted_measurements_and_layer_units() {
    let sim = start_with("").await;
    let api = Api::new(&sim);
    let bytes = b"pretend onnx bytes".to_vec();
    let model_id = api.upload_model("p.onnx", &bytes).await;
    let device = api.device(S24).await;
    let compile = api
        .submit(compile_job(&model_id, device.clone()), true)
        .await;
    let target = target_model_id(&api.job(&compile).await);
    let profile = api
        .submit(inference_job(&target, device, true, None), false)
        .await;
    let (j, _) = api.wait(&profile).await;
    let Some(job::Job::InferenceJob(ij)) = &j.job else {
        panic!("profiles come back as inference jobs");
    };
    assert_eq!(ij.is_profiling_on, Some(true));
    assert!(
        ij.tensor_type_list.is_some(),
        "tensor_type_list set when done"
    );

    let sha = hex::encode(Sha256::digest(&bytes));
    let want = measure::measure(&sha, S24, true, &Default::default());
    assert_eq!(ij.execution_time, Some(want.inference_us));

    let result: proto::JobResult = api.get(&format!("jobs/{profile}/result/")).await.pb();
    let Some(proto::job_result::Result::InferenceJobResult(r)) = result.result else {
        panic!("inference result expected");
    };
    assert!(
        r.output_dataset_id.is_empty(),
        "profiling without inputs has no outputs"
    );
    let d = r.detail.expect("profile detail");
    assert_eq!(d.major_version, 1);
    assert!(d.minor_version >= 2);
    assert_eq!(d.execution_time, want.inference_us);
    assert_eq!(d.after_execution_peak_memory, want.peak_memory_bytes);
    assert_eq!(d.all_execution_times.len(), 100);
    assert_eq!(
        d.execution_memory.and_then(|m| m.peak).map(|p| p.upper),
        Some(want.peak_memory_bytes)
    );
    assert_eq!(d.layer_details.len() as u32, want.layers.npu);
    assert!(
        d.layer_details
            .iter()
            .all(|l| l.compute_unit == proto::ComputeUnit::Npu as i32)
    );
    let logs: proto::NamedArtifactDownloadUrlList = api
        .get(&format!(
            "jobs/{profile}/device_runs/latest/artifact_list/1/?supports_s3_credentials=true"
        ))
        .await
        .pb();
    assert_eq!(logs.artifacts.len(), 1);
    let summaries: proto::JobSummaryList =
        api.get("job_summaries/?type=profile&state=10").await.pb();
    assert_eq!(summaries.total_query_count, 1);
    assert_eq!(sim.stats().profile_jobs, 1);
}

#[tokio::test]
async fn dataset_roundtrip_through_hdf5_and_inference_outputs() {
    let sim = start_with("durations: { provision_s: 0.05, run_s: 0.05 }").await;
    let api = Api::new(&sim);
    let model_id = api.upload_model("tiny.tflite", b"TFL3 model").await;
    let inputs = vec![NamedSamples {
        name: "x".into(),
        samples: vec![
            Tensor::from_f32(vec![1, 4], &[1.0, 2.0, 3.0, 4.0]).expect("tensor"),
            Tensor::new(
                DType::I32,
                vec![1, 4],
                [5i32, 6, 7, 8]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
            )
            .expect("tensor"),
        ],
    }];
    let h5 = dataset::to_bytes(&inputs).expect("hdf5");

    let created: proto::CreateUpdateResponse = api
        .post(
            "datasets/",
            &proto::Dataset {
                name: Some("h5-dataset".into()),
                permanent: Some(false),
                ..Default::default()
            },
        )
        .await
        .pb();
    assert!(created.expiration_time.is_some());
    let did = created.id;
    let up: proto::FileUploadResponse = api
        .get(&format!("datasets/{did}/upload_url/?use_acceleration=true&supports_s3_credentials=true&file_size={}", h5.len()))
        .await
        .pb();
    let Some(file_upload_response::Method::Url(form)) = up.method else {
        panic!("expected a form url");
    };
    let early = api
        .patch(
            &format!("datasets/{did}/"),
            &proto::Dataset {
                file_upload_complete: Some(true),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST, "no file yet");
    let mut multipart = reqwest::multipart::Form::new();
    for (k, v) in &form.fields {
        multipart = multipart.text(k.clone(), v.clone());
    }
    multipart = multipart.part(
        form.file_field_name.clone(),
        reqwest::multipart::Part::bytes(h5.clone()).file_name("model"),
    );
    let posted = reqwest::Client::new()
        .post(&form.url)
        .multipart(multipart)
        .send()
        .await
        .expect("form post");
    assert!(posted.status().is_success());
    let ok: proto::CreateUpdateResponse = api
        .patch(
            &format!("datasets/{did}/"),
            &proto::Dataset {
                file_upload_complete: Some(true),
                ..Default::default()
            },
        )
        .await
        .pb();
    assert_eq!(ok.id, did);

    let legacy: proto::FileDownloadUrl = api
        .get(&format!(
            "datasets/{did}/download_data/?use_acceleration=false"
        ))
        .await
        .pb();
    let back = reqwest::get(&legacy.url)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(dataset::from_bytes(&back).expect("decode"), inputs);

    let device = api.device(S24).await;
    let jid = api
        .submit(inference_job(&model_id, device, false, Some(&did)), false)
        .await;
    let (j, seen) = api.wait(&jid).await;
    assert_eq!(seen.last(), Some(&JobState::Done));
    assert!(
        seen.iter().all(|s| [
            JobState::Created,
            JobState::ProvisioningDevice,
            JobState::RunningInference,
            JobState::Done
        ]
        .contains(s)),
        "{seen:?}"
    );
    let Some(job::Job::InferenceJob(ij)) = &j.job else {
        panic!("inference job expected");
    };
    let types = ij.tensor_type_list.as_ref().expect("input types");
    assert_eq!(types.types[0].name, "x");

    let result: proto::JobResult = api.get(&format!("jobs/{jid}/result/")).await.pb();
    let Some(proto::job_result::Result::InferenceJobResult(r)) = result.result else {
        panic!("inference result expected");
    };
    assert!(r.detail.is_none());
    let out: proto::FileDownloadResponse = api
        .get(&format!(
            "datasets/{}/download_data/?supports_s3_credentials=true",
            r.output_dataset_id
        ))
        .await
        .pb();
    let Some(file_download_response::Method::Url(url)) = out.method else {
        panic!("expected url");
    };
    assert!(url.filename.ends_with(".h5"));
    let bytes = reqwest::get(&url.url)
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    let outputs = dataset::from_bytes(&bytes).expect("valid hdf5");
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0].name, "output_0");
    assert_eq!(outputs[0].samples[0], inputs[0].samples[0]);
    assert_eq!(
        outputs[0].samples[1],
        Tensor::from_f32(vec![1, 4], &[5.0, 6.0, 7.0, 8.0]).expect("tensor")
    );
    assert_eq!(sim.stats().inference_jobs, 1);
    assert_eq!(sim.stats().datasets_created, 1);
}

#[tokio::test]
async fn scenario_failures_and_failed_dependencies() {
    let sim = start_with(
        "durations: { compile_s: 0.1 }\nfailures:\n  - { device: \"Samsung Galaxy S24\", job_type: compile, reason: \"no ops\", failure_type: 13003 }\n",
    )
    .await;
    let api = Api::new(&sim);
    let model_id = api.upload_model("f.onnx", b"abc").await;
    let device = api.device(S24).await;
    let compile = api
        .submit(compile_job(&model_id, device.clone()), true)
        .await;
    let target = target_model_id(&api.job(&compile).await);
    let profile = api
        .submit(inference_job(&target, device, true, None), false)
        .await;
    let (c, _) = api.wait(&compile).await;
    assert_eq!(job_state(&c), JobState::Failed);
    assert_eq!(c.failure_type, 13003);
    if let Some(job::Job::CompileJob(cj)) = &c.job {
        assert_eq!(cj.failure_reason.as_deref(), Some("no ops"));
    }
    let (p, _) = api.wait(&profile).await;
    assert_eq!(job_state(&p), JobState::Failed);
    assert_eq!(
        p.failure_type,
        proto::JobFailureType::RuntimeFailedDependency as i32
    );
    assert_eq!(
        api.get(&format!("jobs/{profile}/result/")).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn statuses(yaml: &str, n: usize) -> Vec<u16> {
    let sim = start_with(yaml).await;
    let api = Api::new(&sim);
    let mut out = vec![];
    for _ in 0..n {
        out.push(api.get("devices/").await.status.as_u16());
    }
    out
}

#[tokio::test]
async fn fault_injection_is_seeded_limited_and_can_drop_connections() {
    let yaml = "seed: 11\nhttp_faults:\n  - { path: /api/v1/devices/, status: 503, rate: 0.5 }\n";
    let a = statuses(yaml, 24).await;
    assert_eq!(a, statuses(yaml, 24).await, "same seed, same faults");
    assert!(a.contains(&503) && a.contains(&200), "{a:?}");
    assert_ne!(
        a,
        statuses(
            "seed: 12\nhttp_faults:\n  - { path: /api/v1/devices/, status: 503, rate: 0.5 }\n",
            24
        )
        .await
    );

    let sim = start_with(
        "http_faults:\n  - { path: /api/v1/jobs/, method: GET, status: 429, retry_after_s: 2, limit: 2 }\n  - { path: /api/v1/frameworks/, drop: true, limit: 1 }\n  - { path: /api/v1/devices/, delay_ms: 300, limit: 1 }\n",
    )
    .await;
    let api = Api::new(&sim);
    for _ in 0..2 {
        let r = api.get("jobs/jnope0000/").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers["retry-after"], "2");
    }
    assert_eq!(
        api.get("jobs/jnope0000/").await.status,
        StatusCode::NOT_FOUND,
        "limit reached"
    );

    let dropped = reqwest::Client::new()
        .get(format!("{}/api/v1/frameworks/", sim.url()))
        .header("Authorization", format!("token {}", sim.token()))
        .send()
        .await;
    assert!(dropped.is_err(), "connection should be dropped");
    assert_eq!(api.get("frameworks/").await.status, StatusCode::OK);

    let t0 = Instant::now();
    assert_eq!(api.get("devices/").await.status, StatusCode::OK);
    assert!(t0.elapsed() >= Duration::from_millis(300), "slow answer");
    assert_eq!(sim.stats().faults_injected, 3);
}

#[tokio::test]
async fn hub_sim_command_announces_its_url_first_and_serves() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_edgegate"))
        .args(["hub-sim", "--bind", "127.0.0.1:0", "--token", "cli-token"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn edgegate hub-sim");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .map(|_| line)
    })
    .await
    .expect("join")
    .expect("first line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("announces its url")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let ok = reqwest::Client::new()
        .get(format!("{url}/api/v1/devices/?name=Samsung+Galaxy+S24"))
        .header("Authorization", "token cli-token")
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), StatusCode::OK);
    let _ = child.kill();
    let _ = child.wait();

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "durations: { compile: 1 }\n").expect("write");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_edgegate"))
        .args(["hub-sim", "--scenario"])
        .arg(&bad)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run");
    assert_eq!(status.code(), Some(edgegate::exit::INVALID_INPUT));
}
