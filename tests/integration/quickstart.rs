//! The quickstart end to end on the local `host` device: the real binary runs the real digits
//! model on this CPU; the good model passes on accuracy computed from its outputs, the regressed
//! one fails, and files the CPU engine cannot use are reported with what to do.

use std::path::Path;

use serde_json::Value;

use crate::support::{Run, Sandbox, repo};

/// Exit code of a run stopped only by a model or input the local device cannot use: the user's
/// files are invalid (2), not the device (3).
const UNUSABLE_FILES_EXIT: i32 = 2;

/// Copies the quickstart into a sandbox so each test can change it.
pub(crate) fn quickstart() -> Sandbox {
    let sb = Sandbox::new();
    let src = repo().join("examples/quickstart");
    for entry in walk(&src) {
        let rel = entry.strip_prefix(&src).expect("inside the example");
        sb.write(
            rel.to_str().expect("utf-8 path"),
            std::fs::read(&entry).expect("read example file"),
        );
    }
    sb
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

/// `edgegate run CONFIG --json results.json EXTRA...` in the sandbox, as CI would run it.
pub(crate) fn run(sb: &Sandbox, config: &str, extra: &[&str]) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_edgegate"))
        .args(["run", config, "--json", "results.json"])
        .args(extra)
        .current_dir(sb.path())
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .env("HOME", sb.path())
        .env_remove("QAIHUB_API_TOKEN")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .env_remove("GITHUB_EVENT_PATH")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITLAB_TOKEN")
        .output()
        .expect("edgegate runs");
    Run::from(out)
}

pub(crate) fn results(sb: &Sandbox) -> Value {
    let text = std::fs::read_to_string(sb.path().join("results.json")).expect("results written");
    serde_json::from_str(&text).expect("results are json")
}

fn host(r: &Value) -> &Value {
    r["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["name"] == "host"))
        .unwrap_or_else(|| panic!("device host in {r:#}"))
}

fn metric(d: &Value, name: &str) -> f64 {
    d["metrics"][name]["value"]
        .as_f64()
        .unwrap_or_else(|| panic!("metric {name} in {d:#}"))
}

fn gate<'a>(d: &'a Value, metric: &str) -> &'a Value {
    d["gates"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["metric"] == metric))
        .unwrap_or_else(|| panic!("gate on {metric} in {d:#}"))
}

#[test]
fn the_good_model_passes_on_real_outputs() {
    let sb = quickstart();
    let out = run(&sb, "edgegate.yaml", &[]);
    out.code(0);
    let r = results(&sb);
    assert_eq!(r["verdict"], "passed");
    let h = host(&r);
    assert_eq!(h["verdict"], "passed");
    let acc = metric(h, "accuracy");
    assert!((0.9..=1.0).contains(&acc), "{acc}");
    let cases = h["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 24);
    let passed = cases.iter().filter(|c| c["status"] == "passed").count();
    assert!(
        (acc - passed as f64 / 24.0).abs() < 1e-9,
        "accuracy {acc} vs {passed} cases passed"
    );
    assert_eq!(
        h["metrics"]["inference_time_ms"]["samples"]
            .as_array()
            .map(Vec::len),
        Some(24 * 10),
        "10 timed repeats of each of 24 cases"
    );
    let size = metric(h, "model_size_mb");
    assert!(size > 0.0 && size < 0.01, "{size}");
    assert!(metric(h, "peak_memory_mb") > 1.0);
}

#[test]
fn the_regressed_model_fails_accuracy_size_and_the_relative_latency_gate() {
    let sb = quickstart();
    run(&sb, "edgegate.yaml", &[]).code(0);
    std::fs::rename(
        sb.path().join("results.json"),
        sb.path().join("baseline.json"),
    )
    .expect("keep the good run as the baseline");
    run(
        &sb,
        "edgegate-regressed.yaml",
        &["--baseline", "baseline.json"],
    )
    .code(1);
    let r = results(&sb);
    assert_eq!(r["verdict"], "failed");
    let h = host(&r);
    let acc = gate(h, "accuracy");
    assert_eq!(acc["status"], "failed", "{acc}");
    assert!(acc["actual"].as_f64().is_some_and(|a| a < 0.9), "{acc}");
    assert_eq!(gate(h, "model_size_mb")["status"], "failed");
    let relative = h["gates"]
        .as_array()
        .and_then(|g| {
            g.iter()
                .find(|g| g["metric"] == "inference_time_ms" && g["max_regression_pct"].is_number())
        })
        .unwrap_or_else(|| panic!("relative latency gate in {h:#}"));
    assert_eq!(relative["status"], "failed", "{relative}");
    assert!(
        relative["actual"].as_f64() > relative["baseline"].as_f64().map(|b| b * 1.5),
        "{relative}"
    );
}

#[test]
fn an_input_that_does_not_fit_the_model_names_case_and_shapes() {
    let sb = quickstart();
    let t = edgegate::tensor::Tensor::zeros(edgegate::tensor::DType::F32, vec![1, 8, 8])
        .expect("tensor");
    let mut bytes = Vec::new();
    t.write_npy(&mut bytes).expect("npy");
    sb.write("inputs/case_003.npy", bytes);
    let out = run(&sb, "edgegate.yaml", &[]);
    out.code(UNUSABLE_FILES_EXIT);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("digit_003"), "{text}");
    assert!(text.contains("expects float32 [1, 64]"), "{text}");
    assert!(text.contains("[1, 8, 8]"), "{text}");
}

#[test]
fn an_operator_tract_cannot_run_is_named() {
    let sb = quickstart();
    let bytes = std::fs::read(sb.path().join("model.onnx")).expect("model");
    let at = bytes
        .windows(7)
        .position(|w| w == b"Softmax")
        .expect("the quickstart model has a Softmax node");
    let mut patched = bytes.clone();
    patched[at..at + 7].copy_from_slice(b"FancyOp");
    sb.write("model.onnx", patched);
    let out = run(&sb, "edgegate.yaml", &[]);
    out.code(UNUSABLE_FILES_EXIT);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("`FancyOp`"), "{text}");
    assert!(text.contains("AI Hub"), "{text}");
}

#[test]
fn a_file_that_is_not_onnx_says_what_to_do() {
    let sb = quickstart();
    sb.write("model.onnx", b"PK\x03\x04 a zip, not an onnx model");
    let out = run(&sb, "edgegate.yaml", &[]);
    out.code(UNUSABLE_FILES_EXIT);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("is not an ONNX model"), "{text}");
}

#[test]
fn input_specs_that_do_not_fit_the_inputs_stop_the_run_before_any_device_time() {
    let sb = quickstart();
    let config = std::fs::read_to_string(sb.path().join("edgegate.yaml")).expect("config");
    let config = config.replacen(
        "  path: model.onnx",
        "  input_specs:\n    image: { shape: [1, 8, 8], dtype: float32 }\n  path: model.onnx",
        1,
    );
    sb.write("edgegate.yaml", config);
    let out = run(&sb, "edgegate.yaml", &[]);
    out.code(2);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("case `digit_000`, input `image`"), "{text}");
    assert!(text.contains("expects float32 [1, 8, 8]"), "{text}");
    assert!(text.contains("gives float32 [1, 64]"), "{text}");
}

#[test]
fn run_writes_junit_and_markdown_through_the_report_code() {
    let sb = quickstart();
    let out = run(
        &sb,
        "edgegate.yaml",
        &[
            "--junit",
            "junit.xml",
            "--markdown",
            "summary.md",
            "--comment",
            "off",
        ],
    );
    out.code(0);
    let junit = std::fs::read_to_string(sb.path().join("junit.xml")).expect("junit written");
    let report = quick_junit::Report::deserialize_from_str(&junit).expect("junit parses back");
    assert_eq!(report.test_suites.len(), 1);
    assert!(junit.contains("classname=\"edgegate."), "{junit}");
    let md = std::fs::read_to_string(sb.path().join("summary.md")).expect("markdown written");
    assert!(md.contains("Quickstart - digits on host"), "{md}");
    assert!(md.contains("`accuracy`"), "{md}");
}

#[test]
fn model_flag_replaces_the_configured_model() {
    let sb = quickstart();
    let out = run(
        &sb,
        "edgegate.yaml",
        &["--model", "model_regressed.onnx", "--comment", "off"],
    );
    out.code(1);
    let r = results(&sb);
    assert_eq!(r["model"]["path"], "model_regressed.onnx");
    assert_eq!(gate(host(&r), "accuracy")["status"], "failed");
    run(&sb, "edgegate.yaml", &["--model", "missing.onnx"]).code(2);
}

#[test]
fn a_fork_pull_request_with_a_write_token_is_refused() {
    let sb = quickstart();
    let event = sb.write(
        "event.json",
        r#"{"pull_request": {"number": 7, "head": {"repo": {"full_name": "mallory/vision"}}, "base": {"repo": {"full_name": "acme/vision"}}}}"#,
    );
    let cmd = |extra: &[&str]| {
        Run::from(
            std::process::Command::new(env!("CARGO_BIN_EXE_edgegate"))
                .args([
                    "run",
                    "edgegate.yaml",
                    "--json",
                    "results.json",
                    "--comment",
                    "off",
                ])
                .args(extra)
                .current_dir(sb.path())
                .env("CI", "true")
                .env("GITHUB_EVENT_PATH", &event)
                .env("GITHUB_TOKEN", "ghs_secret")
                .env_remove("QAIHUB_API_TOKEN")
                .output()
                .expect("edgegate runs"),
        )
    };
    let refused = cmd(&[]);
    refused.code(2);
    assert!(
        refused
            .stderr
            .contains("refusing to run a pull request from a fork"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("ghs_secret"));
    cmd(&["--allow-fork-token"]).code(0);
}
