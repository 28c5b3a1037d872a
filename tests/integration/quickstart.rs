//! The quickstart end to end on the local `host` device: the real binary runs the real digits
//! model on this CPU; the good model passes on accuracy computed from its outputs, the regressed
//! one fails, and files the CPU engine cannot use are reported as invalid (exit 2).

use std::path::Path;

use serde_json::Value;

use crate::support::{Run, Sandbox, repo};

/// Copies the quickstart into a sandbox so each test can change it.
fn quickstart() -> Sandbox {
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

fn run(sb: &Sandbox, config: &str) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_edgegate"))
        .args(["run", config, "--json", "results.json"])
        .current_dir(sb.path())
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .env("HOME", sb.path())
        .env_remove("QAIHUB_API_TOKEN")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .output()
        .expect("edgegate runs");
    Run::from(out)
}

fn results(sb: &Sandbox) -> Value {
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
    let out = run(&sb, "edgegate.yaml");
    out.code(0);
    let r = results(&sb);
    assert_eq!(r["verdict"], "passed");
    let h = host(&r);
    assert_eq!(h["verdict"], "passed");
    let acc = metric(h, "accuracy");
    assert!((0.9..=1.0).contains(&acc), "{acc}");
    let cases = h["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 24);
    let passed = cases.iter().filter(|c| c["passed"] == true).count();
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
fn the_regressed_model_fails_the_accuracy_gate() {
    let sb = quickstart();
    let out = run(&sb, "edgegate-regressed.yaml");
    out.code(1);
    let r = results(&sb);
    assert_eq!(r["verdict"], "failed");
    let h = host(&r);
    let acc = gate(h, "accuracy");
    assert_eq!(acc["status"], "failed", "{acc}");
    assert!(acc["actual"].as_f64().is_some_and(|a| a < 0.9), "{acc}");
    assert_eq!(gate(h, "model_size_mb")["status"], "failed");
}

#[test]
fn an_input_that_does_not_fit_the_model_is_invalid() {
    let sb = quickstart();
    let t = edgegate::tensor::Tensor::zeros(edgegate::tensor::DType::F32, vec![1, 8, 8])
        .expect("tensor");
    let mut bytes = Vec::new();
    t.write_npy(&mut bytes).expect("npy");
    sb.write("inputs/case_003.npy", bytes);
    let out = run(&sb, "edgegate.yaml");
    out.code(2);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("digit_003"), "{text}");
    assert!(text.contains("expects float32 [1, 64]"), "{text}");
    assert!(text.contains("[1, 8, 8]"), "{text}");
}

#[test]
fn a_model_with_an_operator_tract_cannot_run_is_invalid() {
    let sb = quickstart();
    let bytes = std::fs::read(sb.path().join("model.onnx")).expect("model");
    let at = bytes
        .windows(7)
        .position(|w| w == b"Softmax")
        .expect("the quickstart model has a Softmax node");
    let mut patched = bytes.clone();
    patched[at..at + 7].copy_from_slice(b"FancyOp");
    sb.write("model.onnx", patched);
    let out = run(&sb, "edgegate.yaml");
    out.code(2);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("`FancyOp`"), "{text}");
    assert!(text.contains("AI Hub"), "{text}");
}

#[test]
fn a_file_that_is_not_onnx_is_invalid() {
    let sb = quickstart();
    sb.write("model.onnx", b"PK\x03\x04 a zip, not an onnx model");
    let out = run(&sb, "edgegate.yaml");
    out.code(2);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("is not an ONNX model"), "{text}");
}
