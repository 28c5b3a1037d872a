//! Issue 11 item 3: a promptpack-only change reuses every compile and profile job from the job
//! cache, on several AI Hub devices, while two runs of two configs in one folder write the same
//! `.edgegate/cache/jobs.json` at once. Only the inference jobs (and the dataset upload) are new.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::run::{Sim, project};
use crate::support::{Run, Sandbox};

const THREE_DEVICES: &str = r#"
  - name: s24
    runtime: tflite
  - name: RB5
    runtime: tflite
  - name: s23
    runtime: tflite
"#;

const ACCURACY: &str = "\n  - { metric: accuracy, operator: gte, threshold: 0.9 }\n";

/// The two configs of the folder: the same devices and promptpack, two different models.
const CONFIGS: [&str; 2] = ["edgegate.yaml", "edgegate-b.yaml"];

fn edgegate(dir: &Path, sim: &Sim, config: &str, args: &[&str]) -> Command {
    crate::run::command_for(dir, &sim.url(), config, args)
}

/// Runs both configs at the same time, so both write the job cache at once; both must pass.
fn run_both(dir: &Path, sim: &Sim) {
    let children: Vec<_> = CONFIGS
        .iter()
        .enumerate()
        .map(|(i, config)| {
            edgegate(
                dir,
                sim,
                config,
                &["-q", "--json", &format!("results-{i}.json")],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("edgegate starts")
        })
        .collect();
    for child in children {
        Run::from(child.wait_with_output().expect("edgegate ends")).code(0);
    }
}

/// Per AI Hub device, the jobs of `run --dry-run --format json` that the cache does not hold.
fn new_jobs(dir: &Path, sim: &Sim, config: &str) -> (Vec<(String, Vec<String>)>, u64) {
    let out = Run::from(
        edgegate(dir, sim, config, &["--dry-run", "--format", "json"])
            .output()
            .expect("dry run"),
    );
    out.code(0);
    let plan: Value = serde_json::from_str(&out.stdout).expect("plan is json");
    let devices = plan["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| {
            let reused: Vec<&str> = d["reused"]
                .as_array()
                .map(|r| r.iter().filter_map(|j| j["kind"].as_str()).collect())
                .unwrap_or_default();
            let fresh = d["jobs"]
                .as_array()
                .expect("jobs")
                .iter()
                .filter_map(|j| j["kind"].as_str())
                .filter(|k| !reused.contains(k))
                .map(str::to_string)
                .collect();
            (d["name"].as_str().unwrap_or_default().to_string(), fresh)
        })
        .collect();
    (devices, plan["total_hub_jobs"].as_u64().unwrap_or(u64::MAX))
}

/// Drops the promptpack's last case; nothing else in the folder changes.
fn drop_last_case(dir: &Path) {
    let path = dir.join("promptpack.yaml");
    let text = std::fs::read_to_string(&path).expect("promptpack");
    let cut = text.rfind("  - case_id:").expect("a case to drop");
    std::fs::write(&path, &text[..cut]).expect("promptpack written");
}

#[test]
fn a_promptpack_change_reuses_compile_and_profile_on_every_device() {
    let sim = Sim::start("pass.yaml");
    let sb = Sandbox::new();
    project(&sb, THREE_DEVICES, ACCURACY, 8);
    sb.write("model-b.onnx", b"edgegate test model b");
    let config = std::fs::read_to_string(sb.path().join("edgegate.yaml")).expect("config");
    sb.write(
        "edgegate-b.yaml",
        config.replace("path: model.onnx", "path: model-b.onnx"),
    );

    run_both(sb.path(), &sim);
    run_both(sb.path(), &sim);
    assert_eq!(sim.jobs(), (6, 6, 6), "the second run reuses every job");
    let uploads = sim.stats().models_created;

    for cycle in 1..=4u64 {
        drop_last_case(sb.path());
        for config in CONFIGS {
            let (devices, total) = new_jobs(sb.path(), &sim, config);
            let expected = vec![
                (
                    "s24".to_string(),
                    vec!["upload_dataset".to_string(), "inference".to_string()],
                ),
                ("RB5".to_string(), vec!["inference".to_string()]),
                ("s23".to_string(), vec!["inference".to_string()]),
            ];
            assert_eq!(devices, expected, "cycle {cycle}, {config}");
            assert_eq!(total, 3, "cycle {cycle}, {config}: inference jobs only");
        }
        let datasets = sim.stats().datasets_created;
        run_both(sb.path(), &sim);
        assert_eq!(
            sim.jobs(),
            (6, 6, 6 + 6 * cycle),
            "cycle {cycle}: no compile or profile job submitted again"
        );
        assert_eq!(sim.stats().models_created, uploads, "cycle {cycle}");
        assert_eq!(sim.stats().datasets_created, datasets + 2, "cycle {cycle}");
    }
}
