//! Input that used to be silently ignored is refused before anything runs (exit 2), at the place
//! it is wrong: a second YAML document, `null` where a value belongs, and a baseline whose values
//! are not measurements.

use serde_json::Value;

use crate::quickstart::{quickstart, results, run};
use crate::support::{Run, Sandbox};

/// Exit code of invalid input: nothing ran.
const INVALID: i32 = 2;

fn read(sb: &Sandbox, rel: &str) -> String {
    std::fs::read_to_string(sb.path().join(rel)).expect("read sandbox file")
}

/// 1-based line and column of byte `at` of `text`.
fn pos_at(text: &str, at: usize) -> (usize, usize) {
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// 1-based line and column of the first occurrence of `needle` in `text`.
fn line_col(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} in {text}"));
    pos_at(text, at)
}

fn text(out: &Run) -> String {
    format!("{}{}", out.stdout, out.stderr)
}

#[test]
fn a_second_document_in_the_config_is_an_error_at_its_start() {
    let sb = quickstart();
    let mut config = read(&sb, "edgegate.yaml");
    config.push_str("---\ngates:\n  - metric: acuracy\n    operator: lte\n    threshold: -1\n");
    sb.write("edgegate.yaml", &config);
    let (line, _) = line_col(&config, "---\n");
    let out = sb.run(&["validate", "edgegate.yaml"]);
    out.code(INVALID);
    let t = text(&out);
    assert!(
        t.contains(&format!("edgegate.yaml:{line}:1")),
        "expected the `---` at line {line}:\n{t}"
    );
    assert!(t.contains("a second YAML document starts here"), "{t}");
    assert!(t.contains("remove the `---` line"), "{t}");
    let out = run(&sb, "edgegate.yaml", &[]);
    out.code(INVALID);
    assert!(
        !sb.path().join("results.json").exists(),
        "nothing may run: {}",
        text(&out)
    );
}

#[test]
fn a_second_document_in_the_promptpack_is_an_error_at_its_start() {
    let sb = quickstart();
    let mut pack = read(&sb, "promptpack.yaml");
    pack.push_str("...\n# the real cases\ncases: []\n");
    sb.write("promptpack.yaml", &pack);
    let (line, col) = line_col(&pack, "cases: []");
    let out = sb.run(&["validate", "edgegate.yaml"]);
    out.code(INVALID);
    let t = text(&out);
    assert!(
        t.contains(&format!("promptpack.yaml:{line}:{col}")),
        "expected the second document at {line}:{col}:\n{t}"
    );
    assert!(t.contains("a second YAML document starts here"), "{t}");
}

#[test]
fn null_where_a_value_belongs_is_an_error_at_validate_positioned_on_the_null() {
    let table: &[(&str, &str, &str, &str)] = &[
        // (file, from, to, the text the caret must point at)
        ("edgegate.yaml", "threshold: 0.9", "threshold: null", "null"),
        ("edgegate.yaml", "operator: gte", "operator: ~", "~"),
        (
            "edgegate.yaml",
            "    threshold: 5\n",
            "    threshold: 5\n    devices: null\n",
            "null",
        ),
        (
            "edgegate.yaml",
            "  path: promptpack.yaml",
            "  path: null",
            "null",
        ),
        (
            "promptpack.yaml",
            "labels: labels.txt",
            "labels: null",
            "null",
        ),
    ];
    for (file, from, to, caret) in table {
        let sb = quickstart();
        let original = read(&sb, file);
        assert!(original.contains(from), "{file} has {from:?}");
        let changed = original.replacen(from, to, 1);
        sb.write(file, &changed);
        let value_at = changed.find(to).expect("replaced") + to.find(caret).expect("caret in to");
        let (line, col) = pos_at(&changed, value_at);
        let out = sb.run(&["validate", "edgegate.yaml"]);
        out.code(INVALID);
        let t = text(&out);
        assert!(
            t.contains(&format!("{file}:{line}:{col}")),
            "{to:?}: expected {file}:{line}:{col}\n{t}"
        );
        assert!(t.contains("found nothing (null)"), "{to:?}: {t}");
        let out = run(&sb, "edgegate.yaml", &[]);
        assert_eq!(
            out.code,
            INVALID,
            "{to:?}: run must refuse it too\n{}",
            text(&out)
        );
    }
}

/// The quickstart with a relative latency gate, and the results of a real run of it as baseline,
/// with `edit` applied to the host's `inference_time_ms`.
fn relative_gate_against(edit: f64) -> (Sandbox, Run) {
    let sb = quickstart();
    let config = read(&sb, "edgegate.yaml").replacen(
        "gates:\n",
        "gates:\n  - metric: inference_time_ms\n    max_regression_pct: 10\n",
        1,
    );
    sb.write("edgegate.yaml", &config);
    run(&sb, "edgegate.yaml", &[]).code(3);
    let mut base: Value = results(&sb);
    let host = base["devices"]
        .as_array_mut()
        .and_then(|d| d.iter_mut().find(|d| d["name"] == "host"))
        .expect("host in results");
    assert!(
        host["metrics"]["inference_time_ms"]["value"]
            .as_f64()
            .is_some_and(|v| v > 0.0),
        "a real run measures a positive latency: {host:#}"
    );
    host["metrics"]["inference_time_ms"]["value"] = serde_json::json!(edit);
    sb.write("baseline.json", base.to_string());
    std::fs::remove_file(sb.path().join("results.json")).expect("remove results");
    let out = run(&sb, "edgegate.yaml", &["--baseline", "baseline.json"]);
    (sb, out)
}

#[test]
fn a_negative_baseline_is_invalid_input_naming_file_device_and_metric() {
    let (sb, out) = relative_gate_against(-5974.0);
    out.code(INVALID);
    let t = text(&out);
    assert!(
        t.contains(
            "baseline file `baseline.json`: device `host` has `inference_time_ms` = -5974, which is not a measurement"
        ),
        "{t}"
    );
    assert!(
        !sb.path().join("results.json").exists(),
        "nothing may run: {t}"
    );
}

#[test]
fn a_zero_baseline_under_a_relative_gate_is_invalid_input() {
    let (sb, out) = relative_gate_against(0.0);
    out.code(INVALID);
    let t = text(&out);
    assert!(
        t.contains(
            "baseline file `baseline.json`: device `host` has `inference_time_ms` = 0, which the relative gate `gates[0]` would divide by"
        ),
        "{t}"
    );
    assert!(!sb.path().join("results.json").exists(), "{t}");
}
