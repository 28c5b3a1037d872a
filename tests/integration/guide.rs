//! The consumer guide's own scenario (`examples/aihub`) runs green: a prompt-only case is known
//! to be unrunnable before anything runs (validate warns, dry-run skips it), and `run` against
//! `hub-sim` reports it skipped while the latency gate and the real image case are evaluated.

use serde_json::Value;

use crate::run::{Sim, run};
use crate::support::{Sandbox, repo};

const SKIP_REASON: &str = "not run: it has a text `prompt` but no `inputs:`, and the model takes input tensors; add `inputs:` (npy or image) to run it";

/// A copy of `examples/aihub` exactly as committed, so runs write nothing into the repository.
fn aihub_example() -> Sandbox {
    let sb = Sandbox::new();
    for f in [
        "edgegate.yaml",
        "promptpack.yaml",
        "model.onnx",
        "labels.txt",
        "robot.png",
    ] {
        let bytes = std::fs::read(repo().join("examples/aihub").join(f)).expect("example file");
        sb.write(f, bytes);
    }
    sb
}

pub(crate) fn case<'a>(device: &'a Value, id: &str) -> &'a Value {
    device["cases"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["case_id"] == id))
        .unwrap_or_else(|| panic!("case {id} in {device:#}"))
}

#[test]
fn validate_warns_at_the_prompt_only_case_and_dry_run_plans_only_the_runnable_one() {
    let sb = aihub_example();
    let v = sb.run(&["validate", "edgegate.yaml"]);
    v.code(0);
    assert!(
        v.stderr.contains("warning: case `detect_object` will be skipped by `run`: it has a text `prompt` but no `inputs:`")
            && v.stderr.contains("--> promptpack.yaml:21:5")
            && v.stderr.contains("help: add `inputs:` (npy or image) to run it"),
        "{}",
        v.stderr
    );
    assert!(!v.stderr.contains("robot_image"), "{}", v.stderr);

    let text = sb.run(&["run", "edgegate.yaml", "--dry-run"]);
    text.code(0);
    assert!(
        text.stdout
            .contains("2 cases (2 checked): 1 to run, 1 skipped")
            && text
                .stdout
                .contains(&format!("skipped case detect_object: {SKIP_REASON}"))
            && text
                .stdout
                .contains("upload inputs of 1 case as one dataset")
            && text.stdout.contains("inference over 1 case\n"),
        "{}",
        text.stdout
    );
    let json = sb.run(&["run", "edgegate.yaml", "--dry-run", "--format", "json"]);
    json.code(0);
    let plan: Value = serde_json::from_str(&json.stdout).expect("plan is json");
    assert_eq!(plan["promptpack"]["runnable_cases"], 1);
    assert_eq!(
        plan["promptpack"]["skipped_cases"],
        serde_json::json!([{ "case_id": "detect_object", "reason": SKIP_REASON }])
    );
}

#[test]
fn the_guide_scenario_runs_green_against_hub_sim_with_the_prompt_only_case_skipped() {
    let sim = Sim::start("pass.yaml");
    let sb = aihub_example();
    let out = run(
        sb.path(),
        &sim,
        &[
            "--json",
            "r.json",
            "--junit",
            "junit.xml",
            "--markdown",
            "report.md",
            "--comment",
            "off",
            "--no-cache",
        ],
    );
    out.code(0);
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path().join("r.json")).expect("results"))
            .expect("json");
    assert_eq!(r["verdict"], "passed");
    let rb5 = &r["devices"][0];
    assert_eq!(rb5["name"], "RB5");
    let gate = &rb5["gates"][0];
    assert_eq!(
        (&gate["metric"], &gate["status"]),
        (&Value::from("inference_time_ms"), &Value::from("passed"))
    );
    assert!(
        gate["actual"]
            .as_f64()
            .is_some_and(|ms| ms > 0.0 && ms <= 150.0)
    );
    let image = case(rb5, "robot_image");
    assert_eq!(
        (&image["status"], &image["actual"]),
        (&Value::from("passed"), &Value::from("robot"))
    );
    let prompt = case(rb5, "detect_object");
    assert_eq!(
        (&prompt["status"], &prompt["reason"]),
        (&Value::from("skipped"), &Value::from(SKIP_REASON))
    );
    assert_eq!(r["summary"]["cases_passed"], 1);

    let junit = std::fs::read_to_string(sb.path().join("junit.xml")).expect("junit");
    assert!(
        junit.contains(&format!("<skipped message=\"{SKIP_REASON}\"/>"))
            && junit.contains("skipped=\"1\"")
            && junit.contains("failures=\"0\" errors=\"0\""),
        "{junit}"
    );
    let md = std::fs::read_to_string(sb.path().join("report.md")).expect("markdown");
    assert!(
        md.contains("RB5: 1 case skipped (not run, not counted as passed)")
            && md.contains(&format!("| ⏭️ detect_object | exactly \"robot\" (ignoring case, whitespace normalised) | {SKIP_REASON} |"))
            && md.contains("1/2 cases passed"),
        "{md}"
    );
}

#[test]
fn an_accuracy_gate_over_prompt_only_cases_is_not_measured_and_exits_3() {
    let sim = Sim::start("pass.yaml");
    let sb = aihub_example();
    sb.write(
        "promptpack.yaml",
        "promptpack_id: vision-qa\nversion: 1.0.0\nname: Vision QA Suite\ncases:\n  - case_id: detect_object\n    prompt: What is in this image?\n    expected: { type: exact, text: robot }\n",
    );
    sb.write(
        "edgegate.yaml",
        "version: 1\nname: Prompt only\nmodel: { path: model.onnx }\npromptpack: { path: promptpack.yaml }\ndevice_matrix:\n  - { name: RB5, runtime: tflite }\ngates:\n  - { metric: inference_time_ms, operator: lte, threshold: 150 }\n  - { metric: accuracy, operator: gte, threshold: 0.9 }\n",
    );
    let v = sb.run(&["validate", "edgegate.yaml"]);
    v.code(0);
    assert!(
        v.stderr.contains("`accuracy` will not be measured"),
        "{}",
        v.stderr
    );
    let dry = sb.run(&["run", "edgegate.yaml", "--dry-run"]);
    dry.code(0);
    assert!(
        !dry.stdout.contains("dataset") && !dry.stdout.contains("inference over"),
        "{}",
        dry.stdout
    );

    let out = run(sb.path(), &sim, &["--json", "r.json", "--no-cache"]);
    out.code(3);
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path().join("r.json")).expect("results"))
            .expect("json");
    let rb5 = &r["devices"][0];
    assert_eq!(rb5["gates"][0]["status"], "passed");
    let acc = &rb5["gates"][1];
    assert_eq!(acc["status"], "error");
    assert!(acc.get("actual").is_none(), "{acc:#}");
    assert!(
        acc["message"]
            .as_str()
            .is_some_and(|m| m.contains("`accuracy` was not measured")),
        "{acc:#}"
    );
    assert_eq!(case(rb5, "detect_object")["status"], "skipped");
    assert_eq!(r["summary"]["cases_passed"], 0);
    assert!(
        rb5["jobs"]
            .as_array()
            .is_some_and(|j| j.iter().all(|j| j["kind"] != "inference")),
        "{rb5:#}"
    );
}
