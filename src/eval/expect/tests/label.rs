//! `label` and `top_k`, and the class ranking they share, through the public API of `expect` only.

use serde_json::json;

use super::support::{check, ctx, labels_ctx, scores_out};
use crate::device::CaseOutput;
use crate::eval::expect::rank;
use crate::results::CaseStatus;
use crate::tensor::Tensor;

#[test]
fn label_matches_a_labels_file_line() {
    let out = scores_out(vec![1, 3], &[0.1, 0.7, 0.2]);
    let r = check(
        json!({"type": "label", "label": "dog"}),
        &out,
        &labels_ctx(),
    );
    assert_eq!(r.status, CaseStatus::Passed);
    assert_eq!(r.actual, "\"dog\" (class 1, score 0.7)");
    assert_eq!(r.expected, "label \"dog\" (class 1)");

    let r = check(
        json!({"type": "label", "label": "cat"}),
        &out,
        &labels_ctx(),
    );
    assert_eq!(r.status, CaseStatus::Failed);
    assert_eq!(
        r.reason.as_deref(),
        Some("top-1 is not \"cat\" (class 0, score 0.1); it ranks #3")
    );
}

#[test]
fn label_matches_a_class_index() {
    let out = scores_out(vec![3], &[0.1, 0.2, 0.7]);
    let r = check(json!({"type": "label", "label": "2"}), &out, &ctx());
    assert_eq!(r.status, CaseStatus::Passed);
    assert_eq!(r.actual, "class 2 (score 0.7)");
    assert_eq!(r.expected, "label class 2");
    let r = check(json!({"type": "label", "label": "2"}), &out, &labels_ctx());
    assert_eq!(r.status, CaseStatus::Passed);
    assert_eq!(r.actual, "\"bird\" (class 2, score 0.7)");
    assert_eq!(
        check(json!({"type": "label", "label": "0"}), &out, &ctx()).status,
        CaseStatus::Failed
    );
}

#[test]
fn label_unknown_or_out_of_range_is_an_error() {
    let out = scores_out(vec![3], &[0.1, 0.2, 0.7]);
    let r = check(
        json!({"type": "label", "label": "fish"}),
        &out,
        &labels_ctx(),
    );
    assert_eq!(r.status, CaseStatus::Error);
    assert_eq!(
        r.reason.as_deref(),
        Some("label \"fish\" is not a line of the labels file nor a class index")
    );
    let r = check(json!({"type": "label", "label": "fish"}), &out, &ctx());
    assert_eq!(
        r.reason.as_deref(),
        Some("label \"fish\" is not a class index, and the promptpack has no labels file")
    );
    let r = check(json!({"type": "label", "label": "7"}), &out, &ctx());
    assert_eq!(r.status, CaseStatus::Error);
    assert_eq!(
        r.reason.as_deref(),
        Some("expected class 7 but output `logits` has only 3 scores")
    );
}

#[test]
fn label_reads_the_named_output_and_errors_on_a_missing_one() {
    let out = CaseOutput {
        case_id: "c1".into(),
        outputs: vec![
            (
                "boxes".into(),
                Tensor::from_f32(vec![3], &[9.0, 0.0, 0.0]).unwrap(),
            ),
            (
                "probs".into(),
                Tensor::from_f32(vec![3], &[0.0, 0.0, 1.0]).unwrap(),
            ),
        ],
        latency_ms: None,
    };
    let r = check(
        json!({"type": "label", "label": "bird", "output": "probs"}),
        &out,
        &labels_ctx(),
    );
    assert_eq!(r.status, CaseStatus::Passed);
    let r = check(
        json!({"type": "label", "label": "bird"}),
        &out,
        &labels_ctx(),
    );
    assert_eq!(r.status, CaseStatus::Failed);
    let r = check(
        json!({"type": "label", "label": "bird", "output": "nope"}),
        &out,
        &labels_ctx(),
    );
    assert_eq!(r.status, CaseStatus::Error);
    assert_eq!(
        r.reason.as_deref(),
        Some("the model has no output `nope` (outputs: `boxes`, `probs`)")
    );
}

#[test]
fn label_needs_a_single_score_vector() {
    let out = scores_out(vec![2, 3], &[0.1, 0.2, 0.7, 0.1, 0.2, 0.7]);
    let r = check(json!({"type": "label", "label": "2"}), &out, &ctx());
    assert_eq!(r.status, CaseStatus::Error);
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "output `logits` float32[2,3] is not one score vector (every dimension but the last must be 1)"
        )
    );
}

#[test]
fn top_k_ties_rank_the_lower_class_index_first() {
    let out = scores_out(vec![4], &[0.5, 0.9, 0.5, 0.5]);
    let status = |label: &str, k: u32| {
        check(
            json!({"type": "top_k", "label": label, "k": k}),
            &out,
            &ctx(),
        )
        .status
    };
    assert_eq!(status("1", 1), CaseStatus::Passed);
    assert_eq!(status("0", 2), CaseStatus::Passed);
    assert_eq!(status("2", 2), CaseStatus::Failed);
    assert_eq!(status("2", 3), CaseStatus::Passed);
    assert_eq!(status("3", 3), CaseStatus::Failed);
    let r = check(json!({"type": "top_k", "label": "3", "k": 2}), &out, &ctx());
    assert_eq!(r.actual, "top 2: class 1 (score 0.9), class 0 (score 0.5)");
    assert_eq!(
        r.reason.as_deref(),
        Some("class 3 (score 0.5) ranks #4, outside the top 2")
    );
    assert_eq!(r.expected, "class 3 in the top 2");

    let tie = scores_out(vec![2], &[0.5, 0.5]);
    let r = check(json!({"type": "label", "label": "0"}), &tie, &ctx());
    assert_eq!(r.status, CaseStatus::Passed);
    let r = check(json!({"type": "label", "label": "1"}), &tie, &ctx());
    assert_eq!(r.status, CaseStatus::Failed);
}

#[test]
fn top_k_with_labels_file() {
    let out = scores_out(vec![1, 3], &[0.1, 0.7, 0.2]);
    let r = check(
        json!({"type": "top_k", "label": "bird", "k": 2}),
        &out,
        &labels_ctx(),
    );
    assert_eq!(r.status, CaseStatus::Passed);
    assert_eq!(
        r.actual,
        "top 2: \"dog\" (class 1, score 0.7), \"bird\" (class 2, score 0.2)"
    );
    assert_eq!(r.expected, "\"bird\" (class 2) in the top 2");
    let r = check(
        json!({"type": "top_k", "label": "cat", "k": 2}),
        &out,
        &labels_ctx(),
    );
    assert_eq!(r.status, CaseStatus::Failed);
}

#[test]
fn rank_puts_nan_last_and_keeps_index_order_on_ties() {
    assert_eq!(rank(&[f64::NAN, 1.0, 3.0, 1.0]), vec![2, 1, 3, 0]);
    assert_eq!(
        rank(&[f64::NEG_INFINITY, f64::NAN, f64::NEG_INFINITY]),
        vec![0, 2, 1]
    );
    assert_eq!(rank(&[]), Vec::<usize>::new());
}
