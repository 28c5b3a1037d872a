//! `exact`, `contains`, `regex`, `json_schema` and the text-of-outputs rule, through the public
//! API of `expect` only.

use serde_json::json;

use super::support::{check, ctx, labels_ctx, scores_out, text_out};
use crate::device::CaseOutput;
use crate::results::CaseStatus;
use crate::tensor::{DType, Tensor};

#[test]
fn exact_trims_collapses_whitespace_and_ignores_case_by_default() {
    let r = check(
        json!({"type": "exact", "text": "hello world"}),
        &text_out("  Hello \n\t World  "),
        &ctx(),
    );
    assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
    assert_eq!(r.actual, "  Hello \n\t World  ");
    assert_eq!(
        r.expected,
        "exactly \"hello world\" (ignoring case, whitespace normalised)"
    );
    assert_eq!(r.expected_type, "exact");
    assert_eq!(r.name, "c1");
    assert_eq!(r.latency_ms, Some(4.5));
    assert_eq!(r.reason, None);
}

#[test]
fn exact_with_normalisation_turned_off_is_strict() {
    let strict_case = json!({"type": "exact", "text": "Hello", "ignore_case": false});
    let r = check(strict_case.clone(), &text_out("hello"), &ctx());
    assert_eq!(r.status, CaseStatus::Failed);
    assert_eq!(
        r.reason.as_deref(),
        Some("output \"hello\" does not equal \"Hello\" after normalisation")
    );
    assert_eq!(
        check(strict_case, &text_out(" Hello "), &ctx()).status,
        CaseStatus::Passed
    );

    let ws = json!({"type": "exact", "text": "a b", "normalize_whitespace": false});
    assert_eq!(
        check(ws.clone(), &text_out("a  b"), &ctx()).status,
        CaseStatus::Failed
    );
    assert_eq!(
        check(ws, &text_out("A b"), &ctx()).status,
        CaseStatus::Passed
    );

    let raw = json!({"type": "exact", "text": "A b", "normalize_whitespace": false, "ignore_case": false});
    let r = check(raw.clone(), &text_out("a b"), &ctx());
    assert_eq!(r.status, CaseStatus::Failed);
    assert_eq!(
        r.reason.as_deref(),
        Some("output \"a b\" does not equal \"A b\"")
    );
    assert_eq!(r.expected, "exactly \"A b\"");
    assert_eq!(
        check(raw, &text_out("A b"), &ctx()).status,
        CaseStatus::Passed
    );
}

#[test]
fn text_drops_trailing_nul_padding_and_rejects_invalid_utf8() {
    let padded = CaseOutput {
        case_id: "c1".into(),
        outputs: vec![(
            "text".into(),
            Tensor::new(DType::U8, vec![6], b"yes\0\0\0".to_vec()).unwrap(),
        )],
        latency_ms: None,
    };
    let r = check(
        json!({"type": "exact", "text": "yes", "normalize_whitespace": false}),
        &padded,
        &ctx(),
    );
    assert_eq!(r.status, CaseStatus::Passed);
    assert_eq!(r.actual, "yes");

    let bad = CaseOutput {
        case_id: "c1".into(),
        outputs: vec![(
            "text".into(),
            Tensor::new(DType::U8, vec![2], vec![0xff, 0xfe]).unwrap(),
        )],
        latency_ms: None,
    };
    let r = check(json!({"type": "contains", "text": "x"}), &bad, &ctx());
    assert_eq!(r.status, CaseStatus::Error);
    assert!(
        r.reason
            .as_deref()
            .unwrap()
            .starts_with("output `text` (uint8) is not valid UTF-8 text"),
        "{r:?}"
    );
}

#[test]
fn text_comes_from_the_first_byte_output_even_after_float_outputs() {
    let out = CaseOutput {
        case_id: "c1".into(),
        outputs: vec![
            (
                "scores".into(),
                Tensor::from_f32(vec![2], &[0.1, 0.9]).unwrap(),
            ),
            (
                "answer".into(),
                Tensor::new(DType::I8, vec![5], b"Paris".to_vec()).unwrap(),
            ),
        ],
        latency_ms: None,
    };
    let r = check(
        json!({"type": "exact", "text": "paris"}),
        &out,
        &labels_ctx(),
    );
    assert_eq!(r.status, CaseStatus::Passed);
    assert_eq!(r.actual, "Paris");
}

#[test]
fn classifier_scores_with_labels_file_give_the_argmax_label_as_text() {
    let out = scores_out(vec![1, 3], &[0.1, 0.7, 0.2]);
    let r = check(json!({"type": "exact", "text": "DOG"}), &out, &labels_ctx());
    assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
    assert_eq!(r.actual, "dog");
}

#[test]
fn float_output_without_labels_file_is_no_text_output() {
    let out = scores_out(vec![1, 3], &[0.1, 0.7, 0.2]);
    let r = check(json!({"type": "contains", "text": "dog"}), &out, &ctx());
    assert_eq!(r.status, CaseStatus::Error);
    assert_eq!(r.actual, "float32[1,3] argmax=1 max=0.7");
    let reason = r.reason.unwrap();
    assert!(
        reason.starts_with("no text output: the outputs are `logits` float32[1,3];"),
        "{reason}"
    );
}

#[test]
fn contains_ignores_case_by_default_and_can_be_strict() {
    let out = text_out("The capital is Paris.");
    let r = check(json!({"type": "contains", "text": "paris"}), &out, &ctx());
    assert_eq!(r.status, CaseStatus::Passed);
    assert_eq!(r.expected, "contains \"paris\" (ignoring case)");
    let r = check(
        json!({"type": "contains", "text": "paris", "ignore_case": false}),
        &out,
        &ctx(),
    );
    assert_eq!(r.status, CaseStatus::Failed);
    assert_eq!(
        r.reason.as_deref(),
        Some("output does not contain \"paris\"")
    );
    let r = check(json!({"type": "contains", "text": "Lyon"}), &out, &ctx());
    assert_eq!(r.status, CaseStatus::Failed);
}

#[test]
fn regex_is_unanchored_unless_the_pattern_anchors_it() {
    let out = text_out("a cat sat");
    let status = |p: &str| check(json!({"type": "regex", "pattern": p}), &out, &ctx()).status;
    assert_eq!(status("cat"), CaseStatus::Passed);
    assert_eq!(status("^cat"), CaseStatus::Failed);
    assert_eq!(status("^cat$"), CaseStatus::Failed);
    assert_eq!(status("^a cat"), CaseStatus::Passed);
    assert_eq!(status("sat$"), CaseStatus::Passed);
    assert_eq!(status(r"^a \w+ sat$"), CaseStatus::Passed);
    let r = check(json!({"type": "regex", "pattern": "dog"}), &out, &ctx());
    assert_eq!(r.reason.as_deref(), Some("output does not match regex dog"));
    assert_eq!(r.expected, "matches regex dog");
}

#[test]
fn regex_that_does_not_compile_is_an_error() {
    let r = check(
        json!({"type": "regex", "pattern": "(unclosed"}),
        &text_out("x"),
        &ctx(),
    );
    assert_eq!(r.status, CaseStatus::Error);
    assert!(r.reason.unwrap().starts_with("the regex does not compile"));
}

fn person_schema() -> serde_json::Value {
    json!({"type": "json_schema", "schema": {
        "type": "object",
        "required": ["age"],
        "properties": {"age": {"type": "integer"}}
    }})
}

#[test]
fn json_schema_passes_valid_json() {
    let r = check(person_schema(), &text_out(" {\"age\": 31} \n"), &ctx());
    assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
    assert!(
        r.expected.starts_with("JSON valid against {"),
        "{}",
        r.expected
    );
}

#[test]
fn json_schema_fails_invalid_json_naming_the_path() {
    let r = check(person_schema(), &text_out("{\"age\": \"old\"}"), &ctx());
    assert_eq!(r.status, CaseStatus::Failed);
    let reason = r.reason.unwrap();
    assert!(
        reason.starts_with("output JSON does not match the schema: at `/age`:"),
        "{reason}"
    );
    assert!(reason.contains("integer"), "{reason}");

    let r = check(person_schema(), &text_out("{}"), &ctx());
    assert_eq!(r.status, CaseStatus::Failed);
    assert!(r.reason.unwrap().contains("age"));
}

#[test]
fn json_schema_checks_formats() {
    let schema = json!({"type": "json_schema", "schema": {
        "type": "object",
        "properties": {"when": {"type": "string", "format": "date"}}
    }});
    let r = check(
        schema.clone(),
        &text_out("{\"when\": \"2026-11-25\"}"),
        &ctx(),
    );
    assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
    let r = check(schema, &text_out("{\"when\": \"yesterday\"}"), &ctx());
    assert_eq!(r.status, CaseStatus::Failed, "{r:?}");
}

#[test]
fn json_schema_fails_text_that_is_not_json() {
    let r = check(person_schema(), &text_out("sure! here you go"), &ctx());
    assert_eq!(r.status, CaseStatus::Failed);
    assert!(r.reason.unwrap().starts_with("output is not JSON: "));
    assert_eq!(r.actual, "sure! here you go");
}
