//! Relative gates without a baseline: the first run on a new default branch, or a pull request
//! before the default branch kept any results. Those gates are "not measured" (exit 3), never a
//! pass, and the report says so plainly; with a baseline the same config is compared and passes.

use serde_json::Value;

use crate::quickstart::{quickstart, results, run};
use crate::support::Sandbox;

/// Exit code of a gate that could not be measured or compared.
const NOT_MEASURED: i32 = 3;

const NOTE: &str = "**No baseline: relative gates not measured** — the default branch has no \
                    results yet, or no `--baseline` was passed.";

/// The quickstart with a relative latency gate in front of its absolute gates.
fn with_relative_gate() -> Sandbox {
    let sb = quickstart();
    let config = std::fs::read_to_string(sb.path().join("edgegate.yaml")).expect("config");
    assert!(config.contains("gates:\n"), "{config}");
    sb.write(
        "edgegate.yaml",
        config.replacen(
            "gates:\n",
            "gates:\n  - metric: inference_time_ms\n    max_regression_pct: 10\n",
            1,
        ),
    );
    sb
}

fn read(sb: &Sandbox, rel: &str) -> String {
    std::fs::read_to_string(sb.path().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn relative_gate(r: &Value) -> &Value {
    let host = r["devices"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["name"] == "host"))
        .unwrap_or_else(|| panic!("device host in {r:#}"));
    host["gates"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["max_regression_pct"].is_number()))
        .unwrap_or_else(|| panic!("a relative gate in {host:#}"))
}

#[test]
fn relative_gates_without_a_baseline_are_not_measured_and_the_report_says_so() {
    let sb = with_relative_gate();
    let out = run(&sb, "edgegate.yaml", &["--markdown", "report.md"]);
    out.code(NOT_MEASURED);
    let r = results(&sb);
    assert_eq!(r["verdict"], "error", "never a pass");
    assert!(r.get("baseline").is_none_or(Value::is_null), "{r:#}");
    let g = relative_gate(&r);
    assert_eq!(g["status"], "error", "{g}");
    let msg = g["message"].as_str().expect("message");
    assert!(msg.starts_with("no baseline: "), "{msg}");
    assert!(msg.contains("is not measured"), "{msg}");
    assert!(msg.contains("--baseline"), "{msg}");

    let md = read(&sb, "report.md");
    assert!(md.contains(NOTE), "{md}");
    assert!(
        md.contains("The relative gate check counts as not measured (exit 3), never as passed."),
        "{md}"
    );
    assert!(
        md.contains("(no baseline)"),
        "the gate's cell says why: {md}"
    );
    assert!(md.contains("**Could not complete**"), "{md}");
    assert!(!md.contains("**Passed**"), "{md}");

    // `edgegate report` renders the same note from the results file, with the same exit code.
    let again = sb.run(&[
        "report",
        "--results",
        "results.json",
        "--markdown",
        "again.md",
        "--comment",
        "off",
    ]);
    again.code(NOT_MEASURED);
    assert!(read(&sb, "again.md").contains(NOTE));
}

#[test]
fn with_a_baseline_the_note_is_gone_and_the_relative_gate_is_compared() {
    let sb = with_relative_gate();
    run(&sb, "edgegate.yaml", &[]).code(NOT_MEASURED);
    let mut base = results(&sb);
    // A baseline far slower than any real run, so the comparison holds on any machine.
    for d in base["devices"].as_array_mut().expect("devices") {
        d["metrics"]["inference_time_ms"]["value"] = serde_json::json!(1.0e6);
    }
    sb.write("baseline.json", base.to_string());
    let out = run(
        &sb,
        "edgegate.yaml",
        &["--baseline", "baseline.json", "--markdown", "report.md"],
    );
    out.code(0);
    let r = results(&sb);
    assert_eq!(relative_gate(&r)["status"], "passed");
    let md = read(&sb, "report.md");
    assert!(!md.contains("No baseline"), "{md}");
    assert!(!md.contains("(no baseline)"), "{md}");
}
