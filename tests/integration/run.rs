//! `edgegate run` end to end: the real binary against an in-process `hub-sim` on 127.0.0.1,
//! staged by the scenario files in `tests/scenarios/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use edgegate::sim::{self, Scenario, SimConfig, SimHandle};
use serde_json::Value;

use crate::support::{Run, Sandbox, repo};

/// A simulator on its own runtime, so the test thread can block on the child process.
pub(crate) struct Sim {
    handle: SimHandle,
    _rt: tokio::runtime::Runtime,
}

impl Sim {
    pub(crate) fn start(scenario: &str) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let scenario = Scenario::from_file(&repo().join("tests/scenarios").join(scenario))
            .expect("scenario parses");
        let handle = rt
            .block_on(sim::start(SimConfig {
                scenario,
                ..SimConfig::default()
            }))
            .expect("sim starts");
        Self { handle, _rt: rt }
    }

    pub(crate) fn url(&self) -> String {
        self.handle.url()
    }

    /// The simulator itself, for what it recorded.
    pub(crate) fn handle(&self) -> &SimHandle {
        &self.handle
    }

    pub(crate) fn stats(&self) -> edgegate::sim::SimStats {
        self.handle.stats()
    }

    pub(crate) fn jobs(&self) -> (u64, u64, u64) {
        let s = self.handle.stats();
        (s.compile_jobs, s.profile_jobs, s.inference_jobs)
    }
}

pub(crate) const TWO_DEVICES: &str = r#"
  - name: s24
    runtime: tflite
  - name: RB5
    runtime: tflite
"#;

pub(crate) const GATES: &str = r#"
  - { metric: inference_time_ms, operator: lte, threshold: 10 }
  - { metric: accuracy, operator: gte, threshold: 0.9 }
  - { metric: peak_memory_mb, operator: lte, threshold: 100 }
"#;

/// Writes a project: a model, a labels file and `cases` one-hot cases whose echoed output has
/// the expected label as its argmax.
pub(crate) fn project(sb: &Sandbox, devices: &str, gates: &str, cases: usize) -> PathBuf {
    sb.write("model.onnx", b"edgegate test model v1");
    let labels: Vec<String> = (0..10).map(|i| format!("digit {i}")).collect();
    sb.write("labels.txt", labels.join("\n") + "\n");
    let mut pack = String::from(
        "promptpack_id: onehot\nversion: 1.0.0\nname: One-hot\nlabels: labels.txt\ncases:\n",
    );
    for i in 0..cases {
        let mut v = [0f32; 10];
        v[i % 10] = 1.0;
        let t = edgegate::tensor::Tensor::from_f32(vec![1, 10], &v).expect("tensor");
        let mut bytes = Vec::new();
        t.write_npy(&mut bytes).expect("npy");
        sb.write(&format!("inputs/c{i}.npy"), bytes);
        pack.push_str(&format!(
            "  - case_id: c{i}\n    inputs: {{ x: {{ npy: inputs/c{i}.npy }} }}\n    expected: {{ type: label, label: \"digit {}\" }}\n",
            i % 10
        ));
    }
    sb.write("promptpack.yaml", pack);
    sb.write(
        "edgegate.yaml",
        format!(
            "version: 1\nname: Run test\nmodel:\n  path: model.onnx\npromptpack:\n  path: promptpack.yaml\ndevice_matrix:{devices}gates:{gates}run_policy: {{ warmup_runs: 1, measurement_repeats: 4, timeout_minutes: 5, max_concurrency: 4 }}\n"
        ),
    )
}

fn command(dir: &Path, sim_url: &str, args: &[&str]) -> Command {
    command_for(dir, sim_url, "edgegate.yaml", args)
}

/// `edgegate run CONFIG` against the simulator, with no credentials or CI settings of the
/// machine leaking in.
pub(crate) fn command_for(dir: &Path, sim_url: &str, config: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_edgegate"));
    c.arg("run")
        .arg(config)
        .arg("--hub-url")
        .arg(sim_url)
        .args(args)
        .current_dir(dir)
        .env("QAIHUB_API_TOKEN", edgegate::sim::DEFAULT_TOKEN)
        .env("HOME", dir)
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .env_remove("QAIHUB_API_URL")
        .env_remove("QAIHUB_CLIENT_INI")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI");
    c
}

pub(crate) fn run(dir: &Path, sim: &Sim, args: &[&str]) -> Run {
    Run::from(
        command(dir, &sim.url(), args)
            .output()
            .expect("edgegate runs"),
    )
}

fn results(dir: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(name)).expect("results written");
    serde_json::from_str(&text).expect("results are json")
}

pub(crate) fn device<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["name"] == name))
        .unwrap_or_else(|| panic!("device {name} in {r:#}"))
}

fn metric(d: &Value, name: &str) -> f64 {
    d["metrics"][name]["value"]
        .as_f64()
        .unwrap_or_else(|| panic!("metric {name} in {d:#}"))
}

#[test]
fn a_passing_run_exits_0_and_writes_complete_results() {
    let sim = Sim::start("pass.yaml");
    let sb = Sandbox::new();
    project(&sb, TWO_DEVICES, GATES, 12);
    let out = run(sb.path(), &sim, &[]);
    out.code(0);
    assert!(out.stdout.contains("PASSED"), "{}", out.stdout);
    let r = results(sb.path(), "edgegate-results.json");
    assert_eq!(r["verdict"], "passed");
    assert_eq!(r["results_version"], 1);
    assert_eq!(r["tool"]["name"], "edgegate");
    assert_eq!(r["config_digest"].as_str().map(str::len), Some(64));
    assert_eq!(r["model"]["sha256"].as_str().map(str::len), Some(64));
    assert!(r["started_at"].as_str().is_some_and(|s| s.ends_with('Z')));
    assert_eq!(r["interrupted"], false);
    assert_eq!(r["summary"]["gates_passed"], 6);
    assert_eq!(r["summary"]["cases_passed"], 24);
    let s24 = device(&r, "s24");
    assert_eq!(s24["hub_device"], "Samsung Galaxy S24");
    assert_eq!(s24["runtime"], "tflite");
    assert_eq!(s24["verdict"], "passed");
    let kinds: Vec<&str> = s24["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    for k in ["compile", "profile", "inference"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
    assert!(
        s24["jobs"][0]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&sim.url()) && u.contains("/jobs/j"))
    );
    let t = metric(s24, "inference_time_ms");
    assert!((4.75..=5.25).contains(&t), "{t}");
    assert_eq!(
        s24["metrics"]["inference_time_ms"]["samples"]
            .as_array()
            .map(Vec::len),
        Some(4),
        "1 warm-up + 4 timed iterations: the warm-up is not a sample"
    );
    assert!((metric(s24, "peak_memory_mb") - 40.0).abs() < 1e-6);
    assert_eq!(metric(s24, "accuracy"), 1.0);
    assert_eq!(s24["layers"]["npu"], 30);
    assert!(
        s24["cases"][3]["actual"]
            .as_str()
            .is_some_and(|a| a.starts_with("\"digit 3\"")),
        "{}",
        s24["cases"][3]
    );
    assert!((metric(device(&r, "RB5"), "inference_time_ms") - 8.0).abs() < 0.5);
    assert_eq!(sim.jobs(), (2, 2, 2));
    assert_eq!(
        sim.handle.stats().models_created,
        1,
        "one model upload for both devices"
    );
    assert_eq!(
        sim.handle.stats().datasets_created,
        1,
        "one input dataset for both devices"
    );
}

#[test]
fn a_slower_model_fails_the_latency_gate_and_names_device_actual_threshold() {
    let sim = Sim::start("slower.yaml");
    let sb = Sandbox::new();
    project(&sb, TWO_DEVICES, GATES, 4);
    let out = run(sb.path(), &sim, &["--json", "out/results.json"]);
    out.code(1);
    assert!(out.stdout.contains("FAILED"), "{}", out.stdout);
    assert!(out.stdout.contains("s24 gate 0"), "{}", out.stdout);
    let r = results(sb.path(), "out/results.json");
    assert_eq!(r["verdict"], "failed");
    let s24 = device(&r, "s24");
    assert_eq!(s24["verdict"], "failed");
    let g = &s24["gates"][0];
    assert_eq!(g["status"], "failed");
    assert_eq!(g["metric"], "inference_time_ms");
    assert_eq!(g["threshold"], 10.0);
    assert!(g["actual"].as_f64().is_some_and(|a| a > 11.0), "{g}");
    assert_eq!(device(&r, "RB5")["verdict"], "passed");
}

#[test]
fn a_relative_gate_fails_on_20_percent_and_holds_on_2_percent() {
    let devices = "\n  - name: s24\n";
    let gates = "\n  - { metric: inference_time_ms, max_regression_pct: 10 }\n";
    let sb = Sandbox::new();
    project(&sb, devices, gates, 2);
    let base = Sim::start("baseline_10ms.yaml");
    let first = run(sb.path(), &base, &["--json", "baseline.json"]);
    first.code(3);
    let r = results(sb.path(), "baseline.json");
    let g = &device(&r, "s24")["gates"][0];
    assert_eq!(g["status"], "error");
    assert!(
        g["message"]
            .as_str()
            .is_some_and(|m| m.contains("--baseline")),
        "{g}"
    );
    for (scenario, code, verdict) in [
        ("slower_20pct.yaml", 1, "failed"),
        ("slower_2pct.yaml", 0, "passed"),
    ] {
        let sim = Sim::start(scenario);
        let out = run(
            sb.path(),
            &sim,
            &["--baseline", "baseline.json", "--json", "now.json"],
        );
        out.code(code);
        let r = results(sb.path(), "now.json");
        let g = &device(&r, "s24")["gates"][0];
        assert_eq!(g["status"], verdict, "{scenario}: {g}");
        let base_v = g["baseline"].as_f64().expect("baseline value");
        assert!((9.5..=10.5).contains(&base_v), "{g}");
        let pct = g["delta_pct"].as_f64().expect("delta pct");
        let want = if code == 1 { 20.0 } else { 2.0 };
        assert!((pct - want).abs() < 1.0, "{scenario}: {pct}");
        assert_eq!(r["baseline"]["path"], "baseline.json");
    }
}

#[test]
fn a_failed_compile_is_an_error_for_that_device_only() {
    let sim = Sim::start("compile_fail.yaml");
    let sb = Sandbox::new();
    project(&sb, TWO_DEVICES, GATES, 4);
    let out = run(sb.path(), &sim, &[]);
    out.code(3);
    let r = results(sb.path(), "edgegate-results.json");
    assert_eq!(r["verdict"], "error");
    let rb5 = device(&r, "RB5");
    assert_eq!(rb5["verdict"], "error");
    let err = rb5["error"].as_str().expect("error text");
    assert!(err.contains("Compile job"), "{err}");
    assert!(err.contains("unsupported operator GridSample"), "{err}");
    assert!(
        rb5["gates"]
            .as_array()
            .expect("gates")
            .iter()
            .all(|g| g["status"] == "error")
    );
    let s24 = device(&r, "s24");
    assert_eq!(s24["verdict"], "passed");
    assert!(s24.get("error").is_none());
    assert_eq!(metric(s24, "accuracy"), 1.0);
    assert!(
        out.stdout.contains("unsupported operator GridSample"),
        "{}",
        out.stdout
    );
    let rb5_jobs: Vec<(&str, &str)> = rb5["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| {
            (
                j["kind"].as_str().unwrap_or(""),
                j["id"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(rb5_jobs.len(), 1, "only the compile: {rb5_jobs:?}");
    assert_eq!(rb5_jobs[0].0, "compile");
    assert!(
        err.contains(rb5_jobs[0].1),
        "the error names the job: {err}"
    );
    assert_eq!(
        sim.jobs(),
        (2, 1, 1),
        "a failed compile submits no profile or inference job; s24 still runs both"
    );
}

#[test]
fn a_failed_compile_on_every_device_uploads_no_inputs_and_submits_nothing_more() {
    let sim = Sim::start("compile_fail.yaml");
    let sb = Sandbox::new();
    project(&sb, "\n  - name: RB5\n    runtime: tflite\n", GATES, 4);
    let out = run(sb.path(), &sim, &[]);
    out.code(3);
    let r = results(sb.path(), "edgegate-results.json");
    let err = device(&r, "RB5")["error"].as_str().expect("error text");
    assert!(err.contains("Compile job"), "{err}");
    assert_eq!(sim.jobs(), (1, 0, 0));
    let stats = sim.handle.stats();
    assert_eq!(stats.datasets_created, 0, "no inputs uploaded: {stats:?}");
    assert_eq!(stats.models_created, 1);
}

#[test]
fn http_faults_give_the_same_verdict_and_metrics() {
    let clean = Sim::start("pass.yaml");
    let faulty = Sim::start("faults.yaml");
    let a = Sandbox::new();
    let b = Sandbox::new();
    project(&a, TWO_DEVICES, GATES, 6);
    project(&b, TWO_DEVICES, GATES, 6);
    run(a.path(), &clean, &[]).code(0);
    run(b.path(), &faulty, &[]).code(0);
    assert!(
        faulty.handle.stats().faults_injected >= 2,
        "{:?}",
        faulty.handle.stats()
    );
    let ra = results(a.path(), "edgegate-results.json");
    let rb = results(b.path(), "edgegate-results.json");
    for name in ["s24", "RB5"] {
        let (da, db) = (device(&ra, name), device(&rb, name));
        assert_eq!(da["metrics"], db["metrics"], "{name}");
        assert_eq!(da["cases"], db["cases"], "{name}");
        assert_eq!(da["gates"], db["gates"], "{name}");
    }
    assert_eq!(ra["summary"], rb["summary"]);
    assert_eq!(faulty.jobs(), (2, 2, 2), "retries never submit a job twice");
}

#[test]
fn an_interrupted_run_writes_partial_results_and_exits_3() {
    interrupted_by("-INT");
}

#[test]
fn sigterm_stops_a_run_like_ctrl_c() {
    interrupted_by("-TERM");
}

fn interrupted_by(signal: &str) {
    let sim = Sim::start("long_jobs.yaml");
    let sb = Sandbox::new();
    project(&sb, TWO_DEVICES, GATES, 2);
    let child = command(sb.path(), &sim.url(), &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.jobs().1 < 2 || sim.jobs().2 < 2 {
        assert!(
            Instant::now() < deadline,
            "jobs never submitted: {:?}",
            sim.jobs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args([signal, &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let started = Instant::now();
    let out = Run::from(child.wait_with_output().expect("wait"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped promptly"
    );
    out.code(3);
    assert!(out.stderr.contains("stopping"), "{}", out.stderr);
    let r = results(sb.path(), "edgegate-results.json");
    assert_eq!(r["interrupted"], true);
    assert_eq!(r["verdict"], "error");
    for name in ["s24", "RB5"] {
        let d = device(&r, name);
        assert_eq!(d["verdict"], "error");
        let err = d["error"].as_str().expect("error");
        assert!(err.contains("interrupted"), "{err}");
        assert!(err.contains("keep running"), "{err}");
        assert!(d["jobs"].as_array().is_some_and(|j| !j.is_empty()));
    }
}

#[test]
fn a_second_identical_run_reuses_cached_jobs() {
    let sim = Sim::start("pass.yaml");
    let sb = Sandbox::new();
    project(&sb, TWO_DEVICES, GATES, 4);
    run(sb.path(), &sim, &[]).code(0);
    let first = results(sb.path(), "edgegate-results.json");
    let after_first = sim.handle.stats();
    assert_eq!(sim.jobs(), (2, 2, 2));
    assert!(sb.path().join(".edgegate/cache/jobs.json").is_file());

    let dry = run(sb.path(), &sim, &["--dry-run"]);
    dry.code(0);
    assert!(dry.stdout.contains("reused from cache"), "{}", dry.stdout);

    run(sb.path(), &sim, &[]).code(0);
    let second = results(sb.path(), "edgegate-results.json");
    let after_second = sim.handle.stats();
    assert_eq!(sim.jobs(), (2, 2, 2), "no job submitted again");
    assert_eq!(after_second.models_created, after_first.models_created);
    assert_eq!(after_second.datasets_created, after_first.datasets_created);
    for name in ["s24", "RB5"] {
        let d = device(&second, name);
        assert!(
            d["jobs"]
                .as_array()
                .expect("jobs")
                .iter()
                .all(|j| j["reused"] == true),
            "{d:#}"
        );
        assert_eq!(d["metrics"], device(&first, name)["metrics"]);
        assert_eq!(d["cases"], device(&first, name)["cases"]);
    }

    run(sb.path(), &sim, &["--no-cache"]).code(0);
    assert_eq!(sim.jobs(), (4, 4, 4), "--no-cache submits afresh");
}

#[test]
fn a_missing_token_is_an_environment_error_that_says_how_to_set_it() {
    let sim = Sim::start("pass.yaml");
    let sb = Sandbox::new();
    project(&sb, TWO_DEVICES, GATES, 1);
    let out = Run::from(
        command(sb.path(), &sim.url(), &[])
            .env_remove("QAIHUB_API_TOKEN")
            .output()
            .expect("runs"),
    );
    out.code(3);
    assert!(out.stderr.contains("QAIHUB_API_TOKEN"), "{}", out.stderr);
    assert_eq!(sim.handle.stats().requests, 0);
}

#[test]
fn an_invalid_config_or_baseline_exits_2() {
    let sim = Sim::start("pass.yaml");
    let sb = Sandbox::new();
    project(&sb, TWO_DEVICES, GATES, 1);
    sb.write("bad.json", "{}");
    let out = run(sb.path(), &sim, &["--baseline", "bad.json"]);
    out.code(2);
    sb.write("edgegate.yaml", "version: 1\nname: x\n");
    run(sb.path(), &sim, &[]).code(2);
    assert_eq!(sim.jobs(), (0, 0, 0));
}

#[test]
fn a_job_past_its_time_limit_is_an_error_and_verbose_lines_name_the_jobs() {
    let sim = Sim::start("long_jobs.yaml");
    let sb = Sandbox::new();
    project(&sb, "\n  - name: s24\n", GATES, 1);
    let started = Instant::now();
    let out = run(sb.path(), &sim, &["--job-timeout", "0.02", "-v"]);
    assert!(started.elapsed() < Duration::from_secs(30));
    out.code(3);
    assert!(
        out.stderr.contains("s24: submitted compile job j"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("({}", sim.url())),
        "{}",
        out.stderr
    );
    let r = results(sb.path(), "edgegate-results.json");
    let d = device(&r, "s24");
    let err = d["error"].as_str().expect("error");
    assert!(err.contains("profile job j"), "{err}");
    assert!(
        err.contains("did not finish within the job time limit of 1.2 s (--job-timeout)"),
        "{err}"
    );
    assert!(!err.contains("compile job"), "{err}");
    assert_eq!(r["interrupted"], false);
    assert!(
        d["gates"]
            .as_array()
            .expect("gates")
            .iter()
            .all(|g| g["status"] == "error")
    );
}

/// The quickstart project (a real ONNX digit classifier, 24 cases) with `devices`.
fn quickstart_project(sb: &Sandbox, devices: &str) {
    let qs = repo().join("examples/quickstart");
    for f in ["model.onnx", "labels.txt", "promptpack.yaml"] {
        std::fs::copy(qs.join(f), sb.path().join(f)).expect("copy");
    }
    std::fs::create_dir(sb.path().join("inputs")).expect("mkdir");
    for e in std::fs::read_dir(qs.join("inputs")).expect("inputs") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), sb.path().join("inputs").join(e.file_name())).expect("copy");
    }
    sb.write(
        "edgegate.yaml",
        format!("version: 1\nname: Quickstart everywhere\nmodel: {{ path: model.onnx }}\npromptpack: {{ path: promptpack.yaml }}\ndevice_matrix:{devices}gates:\n  - {{ metric: accuracy, operator: gte, threshold: 0.9 }}\n  - {{ metric: model_size_mb, operator: lte, threshold: 1 }}\n"),
    );
}

#[test]
fn the_quickstart_model_answers_the_same_on_ai_hub_and_on_the_host() {
    let sim = Sim::start("pass.yaml");
    let sb = Sandbox::new();
    quickstart_project(
        &sb,
        "\n  - { name: host, provider: local }\n  - { name: s24, runtime: onnx }\n  - { name: RB5, runtime: tflite }\n",
    );
    let out = run(sb.path(), &sim, &[]);
    out.code(0);
    let r = results(sb.path(), "edgegate-results.json");
    let answers = |d: &Value| -> Vec<(String, String)> {
        d["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| (c["actual"].to_string(), c["status"].to_string()))
            .collect()
    };
    let host = answers(device(&r, "host"));
    assert_eq!(host.len(), 24);
    for name in ["s24", "RB5"] {
        let d = device(&r, name);
        assert_eq!(metric(d, "accuracy"), 1.0, "{name}");
        assert!(metric(d, "model_size_mb") > 0.0, "{name}");
        assert!(answers(d) == host, "{name}: answers differ from the host");
    }
}

#[test]
fn fewer_part_urls_than_the_default_split_upload_the_model_intact() {
    let sim = Sim::start("fewer_part_urls.yaml");
    let sb = Sandbox::new();
    quickstart_project(
        &sb,
        "\n  - { name: s24, runtime: onnx }\n  - { name: RB5, runtime: tflite }\n",
    );
    let size = std::fs::metadata(sb.path().join("model.onnx"))
        .expect("model")
        .len();
    assert!(size > 2000, "the default split would be 3 parts: {size}");
    let out = run(sb.path(), &sim, &[]);
    out.code(0);
    assert_eq!(sim.handle.stats().upload_parts, 2, "2 urls, 2 parts");
    let r = results(sb.path(), "edgegate-results.json");
    for name in ["s24", "RB5"] {
        let d = device(&r, name);
        assert_eq!(
            metric(d, "accuracy"),
            1.0,
            "{name}: the simulator ran the model assembled from 2 parts"
        );
    }
}

#[test]
fn an_s3_credentials_answer_is_an_error_naming_what_the_server_asked_for() {
    let sim = Sim::start("s3_credentials.yaml");
    let sb = Sandbox::new();
    project(&sb, TWO_DEVICES, GATES, 2);
    let out = run(sb.path(), &sim, &[]);
    out.code(3);
    let r = results(sb.path(), "edgegate-results.json");
    for name in ["s24", "RB5"] {
        let err = device(&r, name)["error"].as_str().expect("error text");
        for part in [
            "failed to upload the model",
            "multipart_upload",
            "temporary S3 credentials",
            "bucket edgegate-hub-sim",
            "region us-west-2",
            "supports_s3_credentials",
        ] {
            assert!(err.contains(part), "{name}: {part:?} in {err}");
        }
        assert!(!err.contains("undecodable"), "{err}");
        assert!(!err.contains("fake-secret"), "{err}");
    }
    assert_eq!(sim.jobs(), (0, 0, 0), "nothing to compile without a model");
}
