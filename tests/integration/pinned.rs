//! Snapshots that pin what users read, so refactors cannot change it silently: the devices ×
//! gates table of `run`, the dry-run plan (text and JSON), a compiler-style diagnostic and the
//! `devices` listing.

use std::process::Command;

use crate::run::{GATES, Sim, TWO_DEVICES, project, run};
use crate::support::{Run, Sandbox, repo, run_in};

/// Replaces what changes between machines and runs (temp paths, durations) with stable tokens.
fn redact(text: &str, sb: &Sandbox) -> String {
    let dir = sb.path().display().to_string();
    let text = text.replace(&dir, "[DIR]");
    let secs = regex::Regex::new(r"\b\d+(\.\d+)?\s?(ms|s)\b").expect("regex");
    secs.replace_all(&text, "[DURATION]").into_owned()
}

#[test]
fn run_table_on_two_simulated_devices() {
    let sim = Sim::start("pass.yaml");
    let sb = Sandbox::new();
    project(&sb, TWO_DEVICES, GATES, 10);
    let r = run(sb.path(), &sim, &[]);
    r.code(0);
    insta::assert_snapshot!("run_table_pass", redact(&r.stdout, &sb));
}

#[test]
fn dry_run_plan_of_every_example() {
    for example in ["aihub", "quickstart"] {
        let dir = repo().join("examples").join(example);
        let text = run_in(&dir, &["run", "--dry-run"]);
        text.code(0);
        insta::assert_snapshot!(format!("dry_run_text_{example}"), text.stdout);
        let json = run_in(&dir, &["run", "--dry-run", "--format", "json"]);
        json.code(0);
        insta::assert_snapshot!(format!("dry_run_json_{example}"), json.stdout);
    }
}

#[test]
fn diagnostic_for_a_misspelt_key() {
    let sb = Sandbox::new();
    let text = std::fs::read_to_string(repo().join("examples/aihub/edgegate.yaml"))
        .expect("example config")
        .replace("device_matrix:", "devce_matrix:");
    sb.write("edgegate.yaml", text);
    let pack = std::fs::read(repo().join("examples/aihub/promptpack.yaml")).expect("promptpack");
    sb.write("promptpack.yaml", pack);
    sb.write("model.onnx", b"model");
    for f in ["labels.txt", "robot.png"] {
        let bytes = std::fs::read(repo().join("examples/aihub").join(f)).expect("example file");
        sb.write(f, bytes);
    }
    let r = sb.run(&["validate"]);
    r.code(2);
    insta::assert_snapshot!("diagnostic_unknown_key", redact(&r.stderr, &sb));
}

#[test]
fn devices_listing_text_and_json() {
    let sim = Sim::start("pass.yaml");
    let devices = |args: &[&str]| {
        Run::from(
            Command::new(env!("CARGO_BIN_EXE_edgegate"))
                .arg("devices")
                .arg("--hub-url")
                .arg(sim.url())
                .args(args)
                .env("QAIHUB_API_TOKEN", edgegate::sim::DEFAULT_TOKEN)
                .env("NO_COLOR", "1")
                .env_remove("QAIHUB_API_URL")
                .env_remove("QAIHUB_CLIENT_INI")
                .output()
                .expect("edgegate runs"),
        )
    };
    let all = devices(&[]);
    all.code(0);
    insta::assert_snapshot!("devices_all", all.stdout);
    let one = devices(&["--name", "RB5", "--format", "json"]);
    one.code(0);
    insta::assert_snapshot!("devices_rb5_json", one.stdout);
}
