//! The local `host` device through its public API on the quickstart files, and the simulator's
//! real ONNX outputs: both must give the same answers, from the same real model.

use std::path::{Path, PathBuf};
use std::time::Duration;

use edgegate::config::{Expected, Project, load_project};
use edgegate::device::inputs::load_case_inputs;
use edgegate::device::local::LocalDevice;
use edgegate::device::{CaseInputs, Device, DeviceError, ModelArtifact, RunSettings};
use edgegate::hub::client::{ClientOptions, HubClient};
use edgegate::hub::config::{ApiToken, HubConfig};
use edgegate::hub::dataset::NamedSamples;
use edgegate::hub::devices::DeviceQuery;
use edgegate::hub::jobs::{CompileRequest, InferenceRequest};
use edgegate::hub::retry::PollPolicy;
use edgegate::tensor::Tensor;
use sha2::Digest;

fn quickstart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart")
}

fn load(config: &str) -> (Project, ModelArtifact, Vec<CaseInputs>) {
    let project = load_project(&quickstart_dir().join(config)).expect("quickstart config loads");
    let bytes = std::fs::read(&project.model_path).expect("model file");
    let model = ModelArtifact {
        path: project.model_path.clone(),
        kind: project.model_kind,
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        size_bytes: bytes.len() as u64,
        input_specs: project.config.model.input_specs.clone(),
    };
    let cases = load_case_inputs(&project, &model).expect("case inputs load");
    (project, model, cases)
}

fn settings() -> RunSettings {
    RunSettings {
        warmup_runs: 2,
        measurement_repeats: 5,
        job_timeout: Duration::from_secs(120),
        round: 0,
        reuse_profiles: true,
    }
}

fn argmax(t: &Tensor) -> usize {
    let v = t.to_f64_vec();
    (0..v.len())
        .max_by(|&a, &b| v[a].total_cmp(&v[b]))
        .expect("non-empty output")
}

fn expected_labels(project: &Project) -> Vec<String> {
    let pack = project.promptpack.as_ref().expect("promptpack");
    pack.cases
        .iter()
        .map(|c| match &c.expected {
            Expected::Label { label, .. } => label.clone(),
            other => panic!("quickstart expects labels, got {}", other.type_name()),
        })
        .collect()
}

fn accuracy(predicted: &[usize], labels: &[String]) -> f64 {
    let right = predicted
        .iter()
        .zip(labels)
        .filter(|(p, l)| p.to_string() == **l)
        .count();
    right as f64 / labels.len() as f64
}

async fn local_predictions(config: &str) -> (Vec<usize>, Vec<String>, Vec<Tensor>) {
    let (project, model, cases) = load(config);
    let dev = LocalDevice::new("host");
    assert_eq!(dev.name(), "host");
    let prepared = dev.prepare(&model).await.expect("prepared");
    let result = dev
        .infer(&prepared, &cases, &settings())
        .await
        .expect("inferred");
    let probs: Vec<Tensor> = result
        .outputs
        .iter()
        .map(|o| {
            assert_eq!(o.outputs[0].0, "probabilities");
            o.outputs[0].1.clone()
        })
        .collect();
    let predicted = probs.iter().map(argmax).collect();
    (predicted, expected_labels(&project), probs)
}

#[tokio::test]
async fn local_device_gates_the_quickstart_models_on_real_answers() {
    let (good, labels, _) = local_predictions("edgegate.yaml").await;
    let (bad, _, _) = local_predictions("edgegate-regressed.yaml").await;
    let good_acc = accuracy(&good, &labels);
    let bad_acc = accuracy(&bad, &labels);
    assert!(good_acc >= 0.9, "good model: {good_acc}");
    assert!(bad_acc < 0.9, "regressed model: {bad_acc}");
}

#[tokio::test]
async fn local_device_profiles_the_quickstart_model() {
    let (_, model, cases) = load("edgegate.yaml");
    let dev = LocalDevice::new("host");
    let prepared = dev.prepare(&model).await.expect("prepared");
    let p = dev
        .profile(&prepared, &cases, &settings())
        .await
        .expect("profiled");
    assert_eq!(p.inference_ms.len(), cases.len() * 5);
    assert!(p.inference_ms.iter().all(|ms| ms.is_finite() && *ms > 0.0));
    assert_eq!(p.model_size_bytes, Some(model.size_bytes));
    assert!(p.load_time_ms.is_some());
    assert!(p.layers.is_none(), "a CPU has no NPU/GPU placement");
}

#[tokio::test]
async fn local_device_refuses_files_it_cannot_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("model.onnx");
    std::fs::write(&path, b"TFL3 not really onnx").expect("write");
    let (_, mut model, _) = load("edgegate.yaml");
    model.path = path;
    model.sha256 = "other".into();
    let err = LocalDevice::new("host")
        .prepare(&model)
        .await
        .expect_err("not onnx");
    assert!(
        matches!(&err, DeviceError::InvalidModel(m) if m.contains("is not an ONNX model")),
        "{err:?}"
    );
}

fn client_for(url: &str) -> HubClient {
    let base = url::Url::parse(url).expect("sim url");
    HubClient::new(
        HubConfig {
            api_token: ApiToken::new(edgegate::sim::DEFAULT_TOKEN),
            api_url: base.clone(),
            web_url: base,
        },
        ClientOptions {
            poll: PollPolicy {
                initial: Duration::from_millis(10),
                factor: 1.5,
                max: Duration::from_millis(50),
                timeout: Some(Duration::from_secs(30)),
            },
            ..ClientOptions::default()
        },
    )
    .expect("client builds")
}

#[tokio::test]
async fn simulator_runs_uploaded_onnx_models_for_real() {
    let scenario = edgegate::sim::Scenario::from_yaml(
        "durations: { queue_s: 0, compile_s: 0, provision_s: 0, run_s: 0 }\n",
        "test",
    )
    .expect("scenario");
    let sim = edgegate::sim::start(edgegate::sim::SimConfig {
        token: edgegate::sim::DEFAULT_TOKEN.into(),
        scenario,
        ..edgegate::sim::SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let c = client_for(&sim.url());
    let (project, _, cases) = load("edgegate.yaml");
    let uploaded = c
        .upload_model(&project.model_path, None)
        .await
        .expect("upload");
    let device = c
        .select_device(&DeviceQuery {
            name: Some("s24".into()),
            ..DeviceQuery::default()
        })
        .await
        .expect("device");
    let compile = c
        .submit_compile(&CompileRequest {
            model_id: uploaded.model_id.clone(),
            device: device.clone(),
            name: "digits".into(),
            options: "--target_runtime tflite".into(),
            input_specs: vec![],
            calibration_dataset_id: None,
        })
        .await
        .expect("compile submitted");
    c.wait_job(&compile.job.job_id).await.expect("compiled");
    let inputs = vec![NamedSamples {
        name: "image".into(),
        samples: cases.iter().map(|c| c.tensors[0].1.clone()).collect(),
    }];
    let dataset_id = c
        .upload_inputs(inputs, "digits")
        .await
        .expect("inputs uploaded");
    let run = c
        .submit_inference(&InferenceRequest {
            model_id: compile.target_model_id.clone(),
            device,
            name: "digits".into(),
            options: String::new(),
            dataset_id: Some(dataset_id),
            profile: false,
        })
        .await
        .expect("inference submitted");
    c.wait_job(&run.job_id).await.expect("inference done");
    let outcome = c.inference_outcome(&run.job_id).await.expect("result");
    let outputs = c
        .download_outputs(&outcome.output_dataset_id.expect("output dataset"))
        .await
        .expect("outputs decode");
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0].name, "probabilities");
    assert_eq!(outputs[0].samples.len(), cases.len());
    let (local, labels, local_probs) = local_predictions("edgegate.yaml").await;
    let hub: Vec<usize> = outputs[0].samples.iter().map(argmax).collect();
    assert_eq!(hub, local, "the simulator and the local device disagree");
    assert!(accuracy(&hub, &labels) >= 0.9);
    for (h, l) in outputs[0].samples.iter().zip(&local_probs) {
        for (a, b) in h.to_f64_vec().iter().zip(l.to_f64_vec()) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
