//! The server's run executor (`edgegate::server::execute`): pipeline and promptpack bodies of the
//! consumer guide are checked with JSON pointers into the body, and a run goes through the same
//! loader, engine and reports as `edgegate run`, against `hub-sim` on 127.0.0.1, with the AI Hub
//! token taken from the job only and written nowhere.

use std::path::{Path, PathBuf};

use edgegate::results::{CaseStatus, GateStatus, Verdict};
use edgegate::server::execute::{
    ExecuteError, Issue, RunJob, RunOutcome, check_pipeline, check_promptpack, execute_run,
};
use edgegate::sim::{self, Scenario, SimConfig, SimHandle};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::repo;

const TOKEN: &str = "ws-token-7f3a9c1e5b2d4f6a8c0e";

fn guide_promptpack() -> Value {
    json!({
        "promptpack_id": "vision-qa",
        "version": "1.0.0",
        "name": "Vision QA Suite",
        "cases": [
            {
                "case_id": "detect_object",
                "name": "Detect Robot",
                "prompt": "What is in this image?",
                "expected": {"type": "exact", "text": "robot"}
            }
        ]
    })
}

fn guide_pipeline() -> Value {
    json!({
        "name": "Production Gate - RB5",
        "promptpack_ref": {"promptpack_id": "vision-qa", "version": "1.0.0"},
        "device_matrix": [{"name": "RB5", "enabled": true}],
        "gates": [
            {"metric": "inference_time_ms", "operator": "lte", "threshold": 150.0}
        ]
    })
}

async fn hub_sim() -> SimHandle {
    let scenario =
        Scenario::from_file(&repo().join("tests/scenarios/pass.yaml")).expect("scenario");
    sim::start(SimConfig {
        token: TOKEN.into(),
        scenario,
        ..SimConfig::default()
    })
    .await
    .expect("hub-sim starts")
}

struct Dirs {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Dirs {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().to_path_buf();
        Self { _tmp: tmp, root }
    }

    fn job(&self, run: &str, pipeline: Value, hub: Option<&SimHandle>) -> RunJob {
        let store = self.root.join("store");
        std::fs::create_dir_all(&store).expect("store");
        let artifact = store.join("ab12cd");
        if !artifact.exists() {
            std::fs::copy(repo().join("examples/aihub/model.onnx"), &artifact).expect("artifact");
        }
        RunJob {
            pipeline,
            promptpack: guide_promptpack(),
            model_path: artifact,
            model_kind: "onnx".into(),
            hub_url: hub.map(SimHandle::url),
            hub_token: hub.map(|_| TOKEN.to_string()),
            baseline: None,
            work_dir: self.root.join("runs").join(run),
            cache_path: self.root.join("cache/jobs.json"),
        }
    }
}

/// Every file under `dir`, recursively.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn assert_no_token(root: &Path, outcome: &RunOutcome) {
    let mut all = Vec::new();
    files(root, &mut all);
    assert!(all.len() > 2, "{all:?}");
    for f in all {
        let bytes = std::fs::read(&f).expect("read");
        assert!(
            !String::from_utf8_lossy(&bytes).contains(TOKEN),
            "the token is in {}",
            f.display()
        );
    }
    for s in [&outcome.results_json, &outcome.junit_xml, &outcome.markdown] {
        assert!(!s.contains(TOKEN));
    }
}

fn pointers(issues: &[Issue]) -> Vec<&str> {
    issues.iter().map(|i| i.pointer.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_pipeline_passes_against_hub_sim_with_the_prompt_only_case_skipped() {
    let pack = check_promptpack(&guide_promptpack()).expect("the guide's promptpack is valid");
    assert_eq!(pack.case_count, 1);
    assert_eq!(pack.sha256.len(), 64);
    assert!(
        pack.warnings
            .iter()
            .any(|w| w.pointer == "/cases/0" && w.message.contains("will be skipped")),
        "{:?}",
        pack.warnings
    );
    let pack_ref = check_pipeline(&guide_pipeline()).expect("the guide's pipeline is valid");
    assert_eq!(
        (pack_ref.promptpack_id.as_str(), pack_ref.version.as_str()),
        ("vision-qa", "1.0.0")
    );

    let sim = hub_sim().await;
    let dirs = Dirs::new();
    let out = execute_run(
        dirs.job("r1", guide_pipeline(), Some(&sim)),
        CancellationToken::new(),
    )
    .await
    .expect("the run completes");
    let r = &out.results;
    assert_eq!(r.verdict, Verdict::Passed, "{}", out.results_json);
    assert_eq!(r.pipeline, "Production Gate - RB5");
    assert_eq!(r.config_path, "edgegate.yaml");
    assert!(r.ci.is_none());
    let rb5 = &r.devices[0];
    assert_eq!(rb5.name, "RB5");
    assert_eq!(rb5.hub_device.as_deref(), Some("RB5 (Proxy)"));
    let gate = &rb5.gates[0];
    assert_eq!(gate.status, GateStatus::Passed);
    assert!(gate.actual.is_some_and(|ms| ms > 0.0 && ms <= 150.0));
    assert_eq!(rb5.cases[0].case_id, "detect_object");
    assert_eq!(rb5.cases[0].status, CaseStatus::Skipped);
    assert!(!rb5.jobs.is_empty());

    let parsed: edgegate::results::Results =
        serde_json::from_str(&out.results_json).expect("results.json parses");
    assert_eq!(&parsed, r);
    assert!(
        out.junit_xml.contains("<skipped") && out.junit_xml.contains("failures=\"0\""),
        "{}",
        out.junit_xml
    );
    assert!(
        out.markdown.contains("Production Gate - RB5") && out.markdown.contains("1 case skipped"),
        "{}",
        out.markdown
    );
    assert!(
        dirs.root.join("cache/jobs.json").is_file(),
        "the job cache is kept"
    );
    assert_no_token(&dirs.root, &out);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relative_gate_compares_with_the_baseline_given_as_results() {
    let sim = hub_sim().await;
    let dirs = Dirs::new();
    let mut pipeline = guide_pipeline();
    pipeline["gates"] = json!([{"metric": "inference_time_ms", "max_regression_pct": 10}]);
    check_pipeline(&pipeline).expect("valid");

    let first = execute_run(
        dirs.job("r1", guide_pipeline(), Some(&sim)),
        CancellationToken::new(),
    )
    .await
    .expect("first run");
    let same = {
        let mut job = dirs.job("r2", pipeline.clone(), Some(&sim));
        job.baseline = Some(first.results.clone());
        execute_run(job, CancellationToken::new())
            .await
            .expect("second run")
    };
    assert_eq!(
        same.results.verdict,
        Verdict::Passed,
        "{}",
        same.results_json
    );
    let g = &same.results.devices[0].gates[0];
    assert_eq!((g.status, g.delta_pct), (GateStatus::Passed, Some(0.0)));
    assert_eq!(
        same.results.baseline.as_ref().map(|b| b.path.as_str()),
        Some("baseline")
    );

    let mut faster = first.results.clone();
    for m in faster.devices[0].metrics.values_mut() {
        m.value /= 2.0;
    }
    let mut job = dirs.job("r3", pipeline, Some(&sim));
    job.baseline = Some(faster);
    let slower = execute_run(job, CancellationToken::new())
        .await
        .expect("third run");
    assert_eq!(
        slower.results.verdict,
        Verdict::Failed,
        "{}",
        slower.results_json
    );
    assert_eq!(
        slower.results.devices[0].gates[0].status,
        GateStatus::Failed
    );
    assert_no_token(&dirs.root, &slower);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_device_runs_on_this_cpu_without_any_token() {
    let dirs = Dirs::new();
    let pipeline = json!({
        "name": "host gate",
        "promptpack_ref": {"promptpack_id": "vision-qa", "version": "1.0.0"},
        "device_matrix": [{"name": "host", "provider": "local"}],
        "gates": [{"metric": "inference_time_ms", "operator": "lte", "threshold": 60000}],
        "run_policy": {"warmup_runs": 0, "measurement_repeats": 1}
    });
    check_pipeline(&pipeline).expect("valid");
    let out = execute_run(
        dirs.job("h1", pipeline.clone(), None),
        CancellationToken::new(),
    )
    .await
    .expect("the run completes");
    assert_eq!(out.results.devices[0].name, "host");
    assert_eq!(out.results.verdict, Verdict::Passed, "{}", out.results_json);

    let mut job = dirs.job("h2", pipeline, None);
    job.model_kind = "tflite".into();
    match execute_run(job, CancellationToken::new()).await {
        Err(ExecuteError::Invalid(issues)) => {
            assert_eq!(
                pointers(&issues),
                ["/device_matrix/0/provider"],
                "{issues:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_pipelines_get_issues_at_json_pointers_into_the_body() {
    let mut body = guide_pipeline();
    body["extra"] = json!(1);
    body["device_matrix"][0]["colour"] = json!("red");
    body["gates"] = json!([
        {"metric": "inference_time_ms", "operator": "lessthan", "threshold": 150},
        {"metric": "latency", "operator": "lte", "threshold": 1},
        {"metric": "gpu_compute_percent", "max_regression_pct": 5}
    ]);
    let issues = check_pipeline(&body).expect_err("invalid");
    let got = pointers(&issues);
    for want in [
        "/extra",
        "/device_matrix/0/colour",
        "/gates/0/operator",
        "/gates/1/metric",
    ] {
        assert!(got.contains(&want), "{want} in {issues:#?}");
    }
    let extra = issues
        .iter()
        .find(|i| i.pointer == "/extra")
        .expect("extra");
    assert_eq!(extra.message, "unknown field `extra`");

    let mut semantic = guide_pipeline();
    semantic["gates"] = json!([{"metric": "gpu_compute_percent", "max_regression_pct": 5}]);
    semantic["device_matrix"] = json!([{"name": "RB5", "enabled": false}]);
    semantic["promptpack_ref"]["version"] = json!("one");
    let issues = check_pipeline(&semantic).expect_err("invalid");
    assert_eq!(
        pointers(&issues),
        [
            "/device_matrix",
            "/gates/0/max_regression_pct",
            "/promptpack_ref/version"
        ],
        "{issues:#?}"
    );

    let mut no_ref = guide_pipeline();
    no_ref
        .as_object_mut()
        .expect("object")
        .remove("promptpack_ref");
    no_ref["version"] = json!(1);
    no_ref["model"] = json!({"path": "x.onnx"});
    let issues = check_pipeline(&no_ref).expect_err("invalid");
    assert_eq!(pointers(&issues), ["/version", "/model", ""], "{issues:#?}");
    assert!(issues[2].message.contains("promptpack_ref"));

    let issues = check_pipeline(&json!([1])).expect_err("not an object");
    assert_eq!(pointers(&issues), [""]);
    assert!(check_pipeline(&json!({})).is_err());
}

#[test]
fn bad_promptpacks_get_issues_and_files_are_refused() {
    let pack = json!({
        "promptpack_id": "vision-qa",
        "version": "1.0",
        "name": "Vision QA Suite",
        "labels": "labels.txt",
        "cases": [
            {"case_id": "a", "inputs": {"image": {"image": "robot.png"}},
             "expected": {"type": "exact", "text": "robot"}},
            {"case_id": "a", "expected": {"type": "regex", "pattern": "("}},
            {"case_id": "t", "expected": {"type": "tensor", "reference": "/etc/passwd"}},
            {"case_id": "u", "expected": {"type": "exact", "text": "x"}, "colour": 1}
        ]
    });
    let issues = check_promptpack(&pack).expect_err("invalid");
    let got = pointers(&issues);
    for want in [
        "/version",
        "/labels",
        "/cases/0/inputs",
        "/cases/2/expected",
        "/cases/3/colour",
    ] {
        assert!(got.contains(&want), "{want} in {issues:#?}");
    }
    assert!(
        issues
            .iter()
            .all(|i| !i.message.contains("outside the project")),
        "{issues:#?}"
    );
    // without schema problems and files, the semantic checks speak
    let pack = json!({
        "promptpack_id": "vision-qa",
        "version": "1.0.0",
        "name": "Vision QA Suite",
        "cases": [
            {"case_id": "a", "expected": {"type": "exact", "text": "robot"}},
            {"case_id": "a", "expected": {"type": "regex", "pattern": "("}}
        ]
    });
    let issues = check_promptpack(&pack).expect_err("invalid");
    assert_eq!(
        pointers(&issues),
        ["/cases/1/case_id", "/cases/1/expected/pattern"],
        "{issues:#?}"
    );
    assert!(check_promptpack(&json!("x")).is_err());
}

#[test]
fn the_promptpack_digest_is_of_the_canonical_json() {
    let a = check_promptpack(&guide_promptpack()).expect("valid");
    let reordered: Value = serde_json::from_str(
        r#"{"cases":[{"expected":{"text":"robot","type":"exact"},"prompt":"What is in this image?","name":"Detect Robot","case_id":"detect_object"}],
            "name":"Vision QA Suite","version":"1.0.0","promptpack_id":"vision-qa"}"#,
    )
    .expect("json");
    let b = check_promptpack(&reordered).expect("valid");
    assert_eq!(a.sha256, b.sha256);
    let mut changed = guide_promptpack();
    changed["name"] = json!("Vision QA Suite 2");
    assert_ne!(check_promptpack(&changed).expect("valid").sha256, a.sha256);
}
