//! The dispatcher: missing outputs, `none`, and the context that reads the labels file. Tests
//! go through the public API of `expect` only.

use serde_json::json;

use super::support::{case, check, ctx, scores_out, text_out};
use crate::config::{PathPolicy, Promptpack};
use crate::device::CaseOutput;
use crate::eval::expect::{EvalContext, check_case};
use crate::results::CaseStatus;

#[test]
fn missing_output_is_an_error_and_none_is_skipped() {
    let r = check_case(&case(json!({"type": "exact", "text": "x"})), None, &ctx());
    assert_eq!(r.status, CaseStatus::Error);
    assert_eq!(
        r.reason.as_deref(),
        Some("the device produced no output for this case")
    );
    assert_eq!(r.actual, "");

    let r = check(
        json!({"type": "none"}),
        &scores_out(vec![2], &[0.25, 0.75]),
        &ctx(),
    );
    assert_eq!(r.status, CaseStatus::Skipped);
    assert_eq!(r.actual, "float32[2] argmax=1 max=0.75");
    assert_eq!(r.expected, "nothing (run and measured only)");
    assert_eq!(r.reason, None);
    let r = check(json!({"type": "none"}), &text_out("hi there"), &ctx());
    assert_eq!(r.status, CaseStatus::Skipped);
    assert_eq!(r.actual, "hi there");
}

#[test]
fn no_outputs_at_all_is_an_error() {
    let out = CaseOutput {
        case_id: "c1".into(),
        outputs: vec![],
        latency_ms: None,
    };
    let r = check(json!({"type": "exact", "text": "x"}), &out, &ctx());
    assert_eq!(r.status, CaseStatus::Error);
    assert_eq!(
        r.reason.as_deref(),
        Some("no text output: the model produced no outputs")
    );
    let r = check(json!({"type": "label", "label": "0"}), &out, &ctx());
    assert_eq!(r.reason.as_deref(), Some("the model produced no outputs"));
}

#[test]
fn context_reads_the_labels_file_relative_to_the_pack() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("labels.txt"), "cat\n dog \nbird\n\n").unwrap();
    let policy = PathPolicy::confined(dir.path());
    let mut pack: Promptpack = serde_json::from_value(json!({
        "promptpack_id": "p", "version": "1.0.0", "name": "P",
        "labels": "labels.txt",
        "cases": [{"case_id": "a", "expected": {"type": "none"}}]
    }))
    .unwrap();
    let ctx = EvalContext::for_pack(&pack, dir.path().to_path_buf(), policy.clone()).unwrap();
    assert_eq!(
        ctx.labels,
        Some(vec![
            "cat".to_string(),
            "dog".to_string(),
            "bird".to_string()
        ])
    );
    pack.labels = Some("missing.txt".into());
    let e = EvalContext::for_pack(&pack, dir.path().to_path_buf(), policy.clone())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cannot read labels file `"), "{e}");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("env"), "QAIHUB_API_TOKEN=fake\n").unwrap();
    pack.labels = Some(outside.path().join("env").display().to_string());
    let e = EvalContext::for_pack(&pack, dir.path().to_path_buf(), policy.clone())
        .unwrap_err()
        .to_string();
    assert!(e.contains("is outside the project"), "{e}");
    assert!(!e.contains("QAIHUB_API_TOKEN"), "{e}");
    pack.labels = None;
    let ctx = EvalContext::for_pack(&pack, dir.path().to_path_buf(), policy.clone()).unwrap();
    assert_eq!(ctx.labels, None);
}
