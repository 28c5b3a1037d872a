//! `run --shard i/n` and `edgegate merge`: every enabled device in exactly one shard, and the
//! shards of a run against `hub-sim` merged back into the verdict and devices of the unsharded
//! run; shards that do not belong together refused with exit 2.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::run::{Sim, command_for, project};
use crate::support::{Run, Sandbox};

const SIX_DEVICES: &str = r#"
  - { name: alpha, provider: local }
  - { name: beta, provider: local }
  - { name: off, provider: local, enabled: false }
  - { name: gamma, provider: local }
  - { name: delta, provider: local }
  - { name: epsilon, provider: local }
  - { name: zeta, provider: local }
"#;

const THREE_DEVICES: &str = r#"
  - name: s24
    runtime: tflite
  - name: RB5
    runtime: tflite
  - name: s23
    runtime: tflite
"#;

/// Accuracy holds everywhere; the latency gate fails on RB5 only (the second device: shard 2 of 3).
const GATES: &str = "\n  - { metric: accuracy, operator: gte, threshold: 0.9 }\n  - { metric: inference_time_ms, operator: lte, threshold: 0.001, devices: [RB5] }\n";

fn plan_devices(sb: &Sandbox, shard: &str) -> Vec<String> {
    let r = sb.run(&["run", "--dry-run", "--format", "json", "--shard", shard]);
    r.code(0);
    let plan: Value = serde_json::from_str(&r.stdout).expect("plan json");
    assert_eq!(
        plan["shard"]["index"].as_u64().map(|i| i.to_string()),
        shard.split('/').next().map(String::from),
        "{}",
        r.stdout
    );
    plan["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| d["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn every_enabled_device_is_in_exactly_one_shard() {
    let sb = Sandbox::new();
    project(
        &sb,
        SIX_DEVICES,
        "\n  - { metric: accuracy, operator: gte, threshold: 0.9 }\n",
        2,
    );
    let enabled = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
    for n in 1..=5u32 {
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        let mut sizes = Vec::new();
        for i in 1..=n {
            let shard = format!("{i}/{n}");
            let devices = plan_devices(&sb, &shard);
            assert_eq!(devices, plan_devices(&sb, &shard), "stable across runs");
            sizes.push(devices.len());
            for d in devices {
                assert!(
                    seen.insert(d.clone(), i).is_none(),
                    "{d} in two shards of {n}"
                );
            }
        }
        let names: Vec<&str> = enabled.to_vec();
        let mut covered: Vec<&str> = seen.keys().map(String::as_str).collect();
        covered.sort_by_key(|d| names.iter().position(|n| n == d));
        assert_eq!(covered, names, "n = {n}: every enabled device once");
        assert!(
            sizes.iter().max().unwrap_or(&0) - sizes.iter().min().unwrap_or(&0) <= 1,
            "balanced: {sizes:?}"
        );
        // Round-robin in config order.
        for (p, d) in enabled.iter().enumerate() {
            assert_eq!(seen[*d], p as u32 % n + 1, "{d} in {n} shards");
        }
    }
    let text = sb.run(&["run", "--dry-run", "--shard", "2/4"]);
    text.code(0);
    assert!(
        text.stdout
            .contains("shard:      2/4: 2 of the 6 enabled devices"),
        "{}",
        text.stdout
    );
    for bad in ["0/3", "4/3", "1/0", "x", "1/", "-1/3", "1/3/2"] {
        let r = sb.run(&["run", "--dry-run", &format!("--shard={bad}")]);
        r.code(2);
        assert!(
            r.stderr.contains("expected I/N with 1 ≤ I ≤ N"),
            "{bad}: {}",
            r.stderr
        );
    }
}

fn edgegate_run(dir: &Path, sim: &Sim, args: &[&str]) -> Run {
    Run::from(
        command_for(dir, &sim.url(), "edgegate.yaml", args)
            .arg("--no-cache")
            .arg("-q")
            .output()
            .expect("edgegate runs"),
    )
}

fn merge(dir: &Path, args: &[&str]) -> Run {
    Run::from(
        std::process::Command::new(env!("CARGO_BIN_EXE_edgegate"))
            .arg("merge")
            .args(args)
            .args(["--comment", "off", "--no-step-summary"])
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITLAB_CI")
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .expect("edgegate merge runs"),
    )
}

fn read(dir: &Path, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).expect("results written"))
        .expect("results json")
}

fn device_names(r: &Value) -> Vec<String> {
    r["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| d["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn shards_merge_into_the_unsharded_verdict_and_mismatches_are_refused() {
    let sim = Sim::start("pass.yaml");
    let sb = Sandbox::new();
    project(&sb, THREE_DEVICES, GATES, 4);
    let dir = sb.path();

    edgegate_run(dir, &sim, &["--json", "whole.json"]).code(1);
    let whole = read(dir, "whole.json");
    assert!(whole.get("shard").is_none());

    let codes: Vec<i32> = (1..=3)
        .map(|i| {
            edgegate_run(
                dir,
                &sim,
                &[
                    "--shard",
                    &format!("{i}/3"),
                    "--json",
                    &format!("shard-{i}.json"),
                ],
            )
            .code
        })
        .collect();
    assert_eq!(codes, [0, 1, 0], "only RB5's shard fails");
    let s2 = read(dir, "shard-2.json");
    assert_eq!(s2["shard"]["index"], 2);
    assert_eq!(s2["shard"]["count"], 3);
    assert_eq!(device_names(&s2), ["RB5"]);

    let m = merge(
        dir,
        &[
            "shard-3.json",
            "shard-1.json",
            "shard-2.json",
            "-o",
            "merged.json",
            "--junit",
            "junit.xml",
        ],
    );
    m.code(1);
    let merged = read(dir, "merged.json");
    assert_eq!(merged["verdict"], whole["verdict"]);
    assert_eq!(device_names(&merged), device_names(&whole));
    assert_eq!(merged["summary"], whole["summary"]);
    assert!(merged.get("shard").is_none());
    for (a, b) in merged["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .zip(whole["devices"].as_array().expect("devices"))
    {
        assert_eq!(a["verdict"], b["verdict"], "{}", a["name"]);
    }
    let junit = std::fs::read_to_string(dir.join("junit.xml")).expect("junit");
    assert_eq!(junit.matches("<testsuite ").count(), 3, "{junit}");
    assert!(junit.contains("<failure"), "{junit}");

    // A shard count larger than the matrix: the empty shard passes, and the merge still works.
    let codes: Vec<i32> = (1..=4)
        .map(|i| {
            edgegate_run(
                dir,
                &sim,
                &[
                    "--shard",
                    &format!("{i}/4"),
                    "--json",
                    &format!("four-{i}.json"),
                ],
            )
            .code
        })
        .collect();
    assert_eq!(codes, [0, 1, 0, 0]);
    assert_eq!(
        device_names(&read(dir, "four-4.json")),
        Vec::<String>::new()
    );
    assert_eq!(read(dir, "four-4.json")["verdict"], "passed");
    merge(
        dir,
        &[
            "four-1.json",
            "four-2.json",
            "four-3.json",
            "four-4.json",
            "-o",
            "m4.json",
        ],
    )
    .code(1);
    assert_eq!(device_names(&read(dir, "m4.json")), device_names(&whole));

    // Refused with exit 2: a shard twice, a shard missing, different shard counts, a different
    // model, a different config, and a results file that is not a shard.
    let refused = |args: &[&str], what: &str| {
        let r = merge(dir, &[args, &["-o", "refused.json"]].concat());
        r.code(2);
        assert!(r.stderr.contains(what), "{args:?}: {}", r.stderr);
    };
    refused(
        &[
            "shard-1.json",
            "shard-1.json",
            "shard-2.json",
            "shard-3.json",
        ],
        "are both shard 1/3",
    );
    refused(&["shard-1.json", "shard-2.json"], "shard 3 of 3 missing");
    refused(
        &["shard-1.json", "shard-2.json", "four-3.json"],
        "split the matrix differently",
    );
    refused(&["whole.json"], "is not the results of a shard");
    sb.write("other.onnx", b"edgegate test model v2");
    edgegate_run(
        dir,
        &sim,
        &[
            "--shard",
            "3/3",
            "--model",
            "other.onnx",
            "--json",
            "model-3.json",
        ],
    )
    .code(0);
    refused(
        &["shard-1.json", "shard-2.json", "model-3.json"],
        "different models",
    );
    let config = std::fs::read_to_string(dir.join("edgegate.yaml")).expect("config");
    sb.write(
        "edgegate.yaml",
        config.replace("threshold: 0.9", "threshold: 0.8"),
    );
    edgegate_run(dir, &sim, &["--shard", "3/3", "--json", "config-3.json"]).code(0);
    refused(
        &["shard-1.json", "shard-2.json", "config-3.json"],
        "different configs",
    );
    assert!(
        !dir.join("refused.json").exists(),
        "nothing written when refused"
    );
}
