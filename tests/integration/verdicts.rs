//! Verdicts people can trust: relative gates on a noisy simulated device (`hub-sim` with a fixed
//! noise seed), in paired mode (`--baseline-model`) and against stored baselines. Every number is
//! seeded, so each test sees the same runs every time; nothing here is timed.

use std::path::Path;

use edgegate::sim::{self, Scenario, SimConfig, SimHandle};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::run::command_for;
use crate::support::{Run, Sandbox};

/// A simulator started from scenario text, on its own runtime.
struct NoisySim {
    handle: SimHandle,
    _rt: tokio::runtime::Runtime,
}

impl NoisySim {
    fn start(yaml: &str) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let scenario = Scenario::from_yaml(yaml, "test scenario").expect("scenario parses");
        let handle = rt
            .block_on(sim::start(SimConfig {
                scenario,
                ..SimConfig::default()
            }))
            .expect("sim starts");
        Self { handle, _rt: rt }
    }
}

const CANDIDATE: &[u8] = b"candidate model bytes";
const BASE: &[u8] = b"baseline model bytes";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A noisy S24 (5 % run-to-run CV, drift, per-sample jitter) on which the candidate model is
/// `factor` times slower than the baseline model.
fn scenario(seed: u64, factor: f64, extra: &str) -> String {
    format!(
        "devices:\n  \"Samsung Galaxy S24\": {{ latency_ms: 5.0 }}\nnoise: {{ seed: {seed}, latency_cv: 0.05, sample_cv: 0.02, drift_pct: 2{extra} }}\nmodels:\n  \"{}\": {{ latency_factor: {factor} }}\n",
        sha(CANDIDATE)
    )
}

/// A project on s24 with one relative latency gate and an absolute one.
fn project(sb: &Sandbox, policy: &str) {
    sb.write("cand.onnx", CANDIDATE);
    sb.write("base.onnx", BASE);
    sb.write(
        "edgegate.yaml",
        format!(
            "version: 1\nname: Verdicts\nmodel: {{ path: cand.onnx }}\npromptpack:\n  content: {{ promptpack_id: v, version: 1.0.0, name: v, cases: [ {{ case_id: c, prompt: x, expected: {{ type: none }} }} ] }}\ndevice_matrix:\n  - {{ name: s24, runtime: tflite }}\ngates:\n  - {{ metric: inference_time_ms, max_regression_pct: 10 }}\n  - {{ metric: inference_time_ms, operator: lte, threshold: 100 }}\nrun_policy: {{ warmup_runs: 1, measurement_repeats: 5{policy} }}\n"
        ),
    );
}

fn run(dir: &Path, sim: &NoisySim, args: &[&str]) -> Run {
    Run::from(
        command_for(dir, &sim.handle.url(), "edgegate.yaml", args)
            .output()
            .expect("edgegate runs"),
    )
}

fn results(dir: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(name)).expect("results written");
    serde_json::from_str(&text).expect("results are json")
}

fn gate(r: &Value, relative: bool) -> Value {
    r["devices"][0]["gates"]
        .as_array()
        .and_then(|g| {
            g.iter()
                .find(|g| g["max_regression_pct"].is_number() == relative)
        })
        .cloned()
        .unwrap_or_else(|| panic!("gate in {r:#}"))
}

fn runs_of(r: &Value, key: &str) -> usize {
    r["devices"][0][key]["inference_time_ms"]["runs"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn paired_runs_fail_a_clear_regression_and_pass_an_unchanged_model() {
    // +40 %: the whole interval lies above the 10 % threshold.
    let sim = NoisySim::start(&scenario(11, 1.4, ""));
    let sb = Sandbox::new();
    project(&sb, ", runs: 4, max_extra_runs: 0");
    let out = run(
        sb.path(),
        &sim,
        &["--baseline-model", "base.onnx", "--json", "r.json"],
    );
    out.code(1);
    let r = results(sb.path(), "r.json");
    let g = gate(&r, true);
    assert_eq!(g["status"], "failed", "{g:#}");
    let i = &g["interval"];
    assert_eq!(i["method"], "paired", "{g:#}");
    assert_eq!(i["runs"], 4);
    assert!(i["low_pct"].as_f64().is_some_and(|l| l > 10.0), "{g:#}");
    assert!(i["spread_pct"].as_f64().is_some(), "{g:#}");
    let msg = g["message"].as_str().unwrap_or_default();
    assert!(msg.contains("4 paired runs"), "{msg}");
    assert!(msg.contains("above the allowed 10%"), "{msg}");
    assert_eq!(runs_of(&r, "metrics"), 4, "each run is kept");
    assert_eq!(runs_of(&r, "baseline_metrics"), 4);
    assert_eq!(
        r["devices"][0]["metrics"]["inference_time_ms"]["runs"][0]["samples"]
            .as_array()
            .map(Vec::len),
        Some(5),
        "the samples of each run are kept"
    );
    assert_eq!(r["environment"]["runs"], 4);
    assert_eq!(r["environment"]["paired"], true);
    assert_eq!(r["baseline_model"]["sha256"], sha(BASE));

    // The same noise with an unchanged model (A/A): the interval lies below the threshold.
    let sim = NoisySim::start(&scenario(11, 1.0, ""));
    let sb = Sandbox::new();
    project(&sb, ", runs: 5, max_extra_runs: 0");
    let out = run(
        sb.path(),
        &sim,
        &["--baseline-model", "base.onnx", "--json", "r.json"],
    );
    out.code(0);
    let g = gate(&results(sb.path(), "r.json"), true);
    assert_eq!(g["status"], "passed", "{g:#}");
    assert!(
        g["interval"]["high_pct"]
            .as_f64()
            .is_some_and(|h| h <= 10.0)
    );
}

#[test]
fn a_borderline_regression_is_re_measured_then_not_measured_unless_told_otherwise() {
    // A true +10 % regression at a 10 % gate: neither side of the threshold can be shown.
    for (on, code, status) in [
        ("", 3, "error"),
        (", on_inconclusive: fail", 1, "failed"),
        (", on_inconclusive: pass", 0, "passed"),
    ] {
        let sim = NoisySim::start(&scenario(5, 1.1, ""));
        let sb = Sandbox::new();
        project(&sb, &format!(", runs: 2, max_extra_runs: 2{on}"));
        let out = run(
            sb.path(),
            &sim,
            &["--baseline-model", "base.onnx", "--json", "r.json", "-v"],
        );
        out.code(code);
        let r = results(sb.path(), "r.json");
        let g = gate(&r, true);
        assert_eq!(g["inconclusive"], true, "{on}: {g:#}");
        assert_eq!(g["status"], status, "{on}: {g:#}");
        assert_eq!(
            runs_of(&r, "metrics"),
            4,
            "{on}: re-measured with the 2 extra runs"
        );
        let msg = g["message"].as_str().unwrap_or_default();
        assert!(msg.contains("inconclusive"), "{msg}");
        assert!(
            out.stderr.contains("measuring 2 more") || out.stdout.contains("measuring 2 more"),
            "progress names the re-measurement\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
}

#[test]
fn warm_up_iterations_are_not_samples_on_ai_hub() {
    // The first iteration of every profile is cold and ten times slower.
    let sim = NoisySim::start(&scenario(2, 1.0, ", cold_iterations: 1, cold_factor: 10"));
    let sb = Sandbox::new();
    project(&sb, "");
    run(sb.path(), &sim, &["--json", "r.json"]);
    let r = results(sb.path(), "r.json");
    let m = &r["devices"][0]["metrics"]["inference_time_ms"];
    let samples: Vec<f64> = m["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(samples.len(), 5, "1 warm-up + 5 timed iterations: {m:#}");
    assert!(samples.iter().all(|&s| s < 10.0), "no cold sample: {m:#}");
}

#[test]
fn absolute_gates_show_the_baseline_and_stored_runs_give_an_interval() {
    let sim = NoisySim::start(&scenario(3, 1.0, ""));
    let sb = Sandbox::new();
    project(&sb, ", runs: 3, max_extra_runs: 0");
    run(sb.path(), &sim, &["--json", "base.json"]).code(3);
    let out = run(
        sb.path(),
        &sim,
        &[
            "--baseline",
            "base.json",
            "--json",
            "r.json",
            "--markdown",
            "r.md",
            "--junit",
            "r.xml",
        ],
    );
    let r = results(sb.path(), "r.json");
    let abs = gate(&r, false);
    assert!(abs["baseline"].as_f64().is_some(), "{abs:#}");
    assert!(abs["delta_pct"].as_f64().is_some(), "{abs:#}");
    let rel = gate(&r, true);
    assert_eq!(rel["interval"]["method"], "unpaired", "{rel:#}");
    assert_eq!(rel["interval"]["baseline_runs"], 3, "{rel:#}");
    assert!(
        ["passed", "error"].contains(&rel["status"].as_str().unwrap_or_default()),
        "an unchanged model never fails: {rel:#}\n{}",
        out.stdout
    );
    let md = std::fs::read_to_string(sb.path().join("r.md")).expect("markdown");
    assert!(
        md.matches("(Δ ").count() >= 2,
        "both gates show Δ against the baseline: {md}"
    );
    assert!(!md.contains("(no baseline)"), "{md}");
    let xml = std::fs::read_to_string(sb.path().join("r.xml")).expect("junit");
    assert!(!xml.contains("no baseline"), "{xml}");
}

#[test]
fn a_baseline_of_another_format_or_device_is_refused_and_other_differences_warned() {
    let sim = NoisySim::start(&scenario(4, 1.0, ""));
    let sb = Sandbox::new();
    project(&sb, "");
    run(sb.path(), &sim, &["--json", "base.json"]);
    let good = results(sb.path(), "base.json");

    let mut other_format = good.clone();
    other_format["model"]["kind"] = "tflite".into();
    sb.write("fmt.json", other_format.to_string());
    let out = run(sb.path(), &sim, &["--baseline", "fmt.json"]);
    out.code(2);
    assert!(
        out.stderr
            .contains("is not comparable: model format: the baseline has a tflite model, this run a onnx model"),
        "{}",
        out.stderr
    );

    let mut other_device = good.clone();
    other_device["devices"][0]["hub_device"] = "Samsung Galaxy S23".into();
    sb.write("dev.json", other_device.to_string());
    let out = run(sb.path(), &sim, &["--baseline", "dev.json"]);
    out.code(2);
    assert!(
        out.stderr.contains("device `s24`") && out.stderr.contains("Samsung Galaxy S23"),
        "{}",
        out.stderr
    );

    let mut older = good.clone();
    older.as_object_mut().expect("object").remove("environment");
    sb.write("old.json", older.to_string());
    let out = run(
        sb.path(),
        &sim,
        &["--baseline", "old.json", "--json", "r.json"],
    );
    assert!(
        out.stderr.contains("records no run policy"),
        "an older baseline still loads, with a warning: {}",
        out.stderr
    );
    let r = results(sb.path(), "r.json");
    assert!(r["warnings"][0].as_str().is_some(), "{r:#}");

    let mut debug = good;
    debug["environment"]["build_profile"] = "elsewhere".into();
    debug["environment"]["runs"] = 7.into();
    sb.write("env.json", debug.to_string());
    let out = run(sb.path(), &sim, &["--baseline", "env.json"]);
    assert!(
        out.stderr
            .contains("differs in build profile: baseline `elsewhere`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("differs in run_policy"),
        "{}",
        out.stderr
    );

    sb.write("base.tflite", b"x");
    let out = run(sb.path(), &sim, &["--baseline-model", "base.tflite"]);
    out.code(2);
    assert!(
        out.stderr
            .contains("is a tflite model but the model under test is onnx"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_folder_of_baselines_is_a_history_for_statistical_thresholds() {
    let sim = NoisySim::start(&scenario(6, 1.0, ""));
    let sb = Sandbox::new();
    project(&sb, "");
    for i in 0..4 {
        run(
            sb.path(),
            &sim,
            &["--json", &format!("history/r{i}.json"), "--no-cache"],
        );
    }
    let config = std::fs::read_to_string(sb.path().join("edgegate.yaml")).expect("config");
    sb.write(
        "edgegate.yaml",
        config.replace(
            "max_regression_pct: 10 }",
            "max_regression_pct: 10, history: { method: t, min_sample_size: 3 } }",
        ),
    );
    let out = run(
        sb.path(),
        &sim,
        &["--baseline", "history", "--json", "r.json", "--no-cache"],
    );
    out.code(0);
    let r = results(sb.path(), "r.json");
    assert_eq!(r["baseline"]["files"], 4, "{r:#}");
    let g = gate(&r, true);
    assert_eq!(g["interval"]["method"], "history-t", "{g:#}");
    assert_eq!(g["interval"]["baseline_runs"], 4, "{g:#}");
    assert!(
        g["message"]
            .as_str()
            .is_some_and(|m| m.contains("upper t boundary of the last 4 stored results")),
        "{g:#}"
    );

    // The same folder, candidate 40 % slower: beyond the boundary and above 10 %.
    let sim2 = NoisySim::start(&scenario(6, 1.4, ""));
    let out = run(
        sb.path(),
        &sim2,
        &["--baseline", "history", "--json", "r2.json", "--no-cache"],
    );
    out.code(1);
    let out = run(sb.path(), &sim2, &["--baseline", "nothing-here"]);
    out.code(2);
}

#[test]
fn dry_run_shows_the_runs_and_the_device_minutes_of_paired_mode() {
    let sb = Sandbox::new();
    project(&sb, "");
    let out = Run::from(
        std::process::Command::new(env!("CARGO_BIN_EXE_edgegate"))
            .args(["run", "--dry-run", "--baseline-model", "base.onnx"])
            .current_dir(sb.path())
            .output()
            .expect("runs"),
    );
    out.code(0);
    assert!(
        out.stdout.contains(
            "profile (6 iterations) × 5 runs of each model, interleaved: 10 profile jobs"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("about 10.0 device minutes"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "re-measure up to 10 more runs per device (at most about 20.0 more device minutes)"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn validate_refuses_a_history_threshold_on_an_absolute_gate() {
    let sb = Sandbox::new();
    project(&sb, ", runs: 3, on_inconclusive: fail");
    let config = std::fs::read_to_string(sb.path().join("edgegate.yaml")).expect("config");
    sb.write(
        "edgegate.yaml",
        config.replace(
            "threshold: 100 }",
            "threshold: 100, history: { method: iqr, min_sample_size: 40 } }",
        ),
    );
    let out = sb.run(&["validate", "edgegate.yaml"]);
    out.code(2);
    assert!(
        out.stderr
            .contains("`history` is a threshold of relative gates")
            || out
                .stdout
                .contains("`history` is a threshold of relative gates"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        format!("{}{}", out.stdout, out.stderr)
            .contains("min_sample_size 40 is larger than max_sample_size 30"),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn after_a_paired_run_dry_run_counts_both_compile_jobs_as_reused() {
    let sim = NoisySim::start(&scenario(5, 1.0, ""));
    let sb = Sandbox::new();
    project(&sb, ", runs: 2, max_extra_runs: 0");
    run(
        sb.path(),
        &sim,
        &["--baseline-model", "base.onnx", "--json", "r.json"],
    );
    let out = Run::from(
        command_for(
            sb.path(),
            &sim.handle.url(),
            "edgegate.yaml",
            &[
                "--dry-run",
                "--format",
                "json",
                "--baseline-model",
                "base.onnx",
            ],
        )
        .output()
        .expect("plan"),
    );
    out.code(0);
    let plan: Value = serde_json::from_str(&out.stdout).expect("plan is json");
    let s24 = &plan["devices"][0];
    let compile = s24["reused"]
        .as_array()
        .and_then(|r| r.iter().find(|j| j["kind"] == "compile"))
        .unwrap_or_else(|| panic!("compile reused in {s24:#}"));
    assert!(
        compile["id"]
            .as_str()
            .is_some_and(|id| id.contains(", baseline ")),
        "both models' compile jobs: {compile:#}"
    );
    assert_eq!(
        s24["hub_jobs"], 4,
        "2 runs × 2 profile jobs (the prompt-only case runs no inference), no compile: {s24:#}"
    );
}

#[test]
fn a_history_threshold_in_paired_mode_is_named_as_unused() {
    let sim = NoisySim::start(&scenario(7, 1.0, ""));
    let sb = Sandbox::new();
    project(&sb, ", runs: 2, max_extra_runs: 0");
    let config = std::fs::read_to_string(sb.path().join("edgegate.yaml")).expect("config");
    sb.write(
        "edgegate.yaml",
        config.replace(
            "max_regression_pct: 10 }",
            "max_regression_pct: 10, history: { method: t } }",
        ),
    );
    run(
        sb.path(),
        &sim,
        &["--baseline-model", "base.onnx", "--json", "r.json"],
    );
    let r = results(sb.path(), "r.json");
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("its `history:` threshold is not used in paired mode"),
        "{r:#}"
    );
}
