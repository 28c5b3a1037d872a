//! `run` submits exactly the jobs `run --dry-run --format json` listed: per device the same job
//! kinds with the same counts, and the same shared uploads. What a host device ran is read from
//! results.json's job links; what AI Hub devices ran, from the simulator's record of the jobs it
//! was asked to run (and its upload counters), so a job the run skipped or added shows up.
//!
//! `examples/aihub` is left out: its only case has a prompt but no input tensors, so on
//! `hub-sim` the device refuses to upload the inputs and never submits the planned inference
//! job (exit 2). That is a known, separate issue of the example, not a plan/run disagreement
//! this refactor introduces; the three-device plan below covers AI Hub instead.

use std::collections::BTreeMap;
use std::path::Path;

use edgegate::sim::SimJob;
use edgegate::sim::scenario::JobKind;
use serde_json::Value;

use crate::quickstart::{quickstart, results as quickstart_results, run as run_quickstart};
use crate::run::{GATES, Sim, project, run};
use crate::support::{Sandbox, run_in};

/// Job kind → count, per device name.
type Jobs = BTreeMap<String, BTreeMap<String, usize>>;

/// What a plan or a run uploads once for every AI Hub device.
#[derive(Debug, Default, PartialEq)]
struct Uploads {
    models: u64,
    datasets: u64,
}

fn dry_run(dir: &Path, config: &str) -> Value {
    let out = run_in(dir, &["run", config, "--dry-run", "--format", "json"]);
    out.code(0);
    serde_json::from_str(&out.stdout).expect("the plan is JSON")
}

fn devices(plan: &Value) -> &Vec<Value> {
    plan["devices"].as_array().expect("planned devices")
}

/// The jobs a plan lists, in the words results.json and the simulator use (a `local_run` is
/// the `local` job of results.json), and its uploads.
fn planned(plan: &Value) -> (Jobs, Uploads) {
    let mut jobs = Jobs::new();
    let mut uploads = Uploads::default();
    for d in devices(plan) {
        let name = d["name"].as_str().expect("device name").to_string();
        let kinds = jobs.entry(name).or_default();
        for j in d["jobs"].as_array().expect("planned jobs") {
            match j["kind"].as_str().expect("job kind") {
                "upload_model" => uploads.models += 1,
                "upload_dataset" => uploads.datasets += 1,
                "local_run" => *kinds.entry("local".into()).or_default() += 1,
                other => *kinds.entry(other.into()).or_default() += 1,
            }
        }
    }
    (jobs, uploads)
}

/// The jobs results.json links per device.
fn linked(results: &Value) -> Jobs {
    let mut jobs = Jobs::new();
    for d in results["devices"].as_array().expect("devices in results") {
        let name = d["name"].as_str().expect("device name").to_string();
        let kinds = jobs.entry(name).or_default();
        for j in d["jobs"].as_array().expect("job links") {
            assert_eq!(j["reused"], false, "a fresh run reuses nothing: {j}");
            let kind = j["kind"].as_str().expect("job kind").to_string();
            *kinds.entry(kind).or_default() += 1;
        }
    }
    jobs
}

/// The jobs the simulator was asked to run, per device name of the plan (matched by the AI Hub
/// device each planned device resolved to).
fn submitted(plan: &Value, sim_jobs: &[SimJob]) -> Jobs {
    let mut jobs = Jobs::new();
    let mut by_hub_name = BTreeMap::new();
    for d in devices(plan) {
        let name = d["name"].as_str().expect("device name").to_string();
        jobs.entry(name.clone()).or_default();
        if let Some(hub) = d["hub_device"].as_str() {
            assert!(
                by_hub_name.insert(hub.to_string(), name).is_none(),
                "one planned device per AI Hub device, so jobs map back: {hub}"
            );
        }
    }
    for j in sim_jobs {
        let name = by_hub_name
            .get(&j.device)
            .unwrap_or_else(|| panic!("a job on `{}`, which the plan does not list", j.device));
        let kind = match j.kind {
            JobKind::Compile => "compile",
            JobKind::Profile => "profile",
            JobKind::Inference => "inference",
        };
        *jobs
            .get_mut(name)
            .expect("planned device")
            .entry(kind.into())
            .or_default() += 1;
    }
    jobs
}

#[test]
fn the_quickstart_runs_on_host_exactly_the_planned_local_run() {
    let sb = quickstart();
    let plan = dry_run(sb.path(), "edgegate.yaml");
    let (jobs, uploads) = planned(&plan);
    assert_eq!(
        uploads,
        Uploads::default(),
        "a local device uploads nothing"
    );
    assert_eq!(
        jobs,
        Jobs::from([("host".into(), BTreeMap::from([("local".into(), 1)]))])
    );
    let out = run_quickstart(&sb, "edgegate.yaml", &[]);
    assert_eq!(linked(&quickstart_results(&sb)), jobs, "{}", out.stderr);
    assert!(
        matches!(out.code, 0 | 1),
        "every gate measured (a slow debug build may fail the latency gate): {}",
        out.stderr
    );
}

const THREE_DEVICES: &str = r#"
  - name: s24
    runtime: tflite
  - name: RB5
  - name: x-elite
    runtime: qnn_dlc
    compile_options: --truncate_64bit_io
"#;

#[test]
fn three_ai_hub_devices_run_exactly_the_planned_jobs() {
    let sim = Sim::start("pass.yaml");
    let sb = Sandbox::new();
    project(&sb, THREE_DEVICES, GATES, 6);
    let plan = dry_run(sb.path(), "edgegate.yaml");
    let (jobs, uploads) = planned(&plan);
    let per_device = BTreeMap::from([
        ("compile".to_string(), 1),
        ("profile".to_string(), 1),
        ("inference".to_string(), 1),
    ]);
    assert_eq!(
        jobs,
        Jobs::from([
            ("s24".into(), per_device.clone()),
            ("RB5".into(), per_device.clone()),
            ("x-elite".into(), per_device),
        ]),
        "the plan itself: {plan:#}"
    );
    assert_eq!(
        uploads,
        Uploads {
            models: 1,
            datasets: 1
        }
    );

    let out = run(sb.path(), &sim, &["--no-cache"]);
    let sim_jobs = sim.handle().jobs();
    assert_eq!(submitted(&plan, &sim_jobs), jobs, "{}", out.stderr);
    let stats = sim.handle().stats();
    assert_eq!(
        Uploads {
            models: stats.models_created,
            datasets: stats.datasets_created
        },
        uploads
    );
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(sb.path().join("edgegate-results.json")).expect("results"),
    )
    .expect("results are JSON");
    assert_eq!(
        linked(&results),
        jobs,
        "results.json links every job it ran"
    );
    let mut linked_ids: Vec<&str> = results["devices"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|d| d["jobs"].as_array().into_iter().flatten())
        .filter_map(|j| j["id"].as_str())
        .collect();
    let mut sim_ids: Vec<&str> = sim_jobs.iter().map(|j| j.id.as_str()).collect();
    linked_ids.sort_unstable();
    sim_ids.sort_unstable();
    assert_eq!(linked_ids, sim_ids, "the links are the jobs AI Hub ran");
    out.code(0);
}
