//! `tensor` expectations against reference `.npy` files, and the one-line tensor summary,
//! through the public API of `expect` only.

use serde_json::json;

use super::support::{check, scores_out};
use crate::config::PathPolicy;
use crate::device::CaseOutput;
use crate::eval::expect::{EvalContext, tensor_summary};
use crate::results::CaseStatus;
use crate::tensor::{DType, Tensor};

struct Pack {
    dir: tempfile::TempDir,
}

impl Pack {
    fn new(reference: &[f32], shape: Vec<usize>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let t = Tensor::from_f32(shape, reference).unwrap();
        let f = std::fs::File::create(dir.path().join("ref.npy")).unwrap();
        t.write_npy(f).unwrap();
        Self { dir }
    }

    fn ctx(&self) -> EvalContext {
        EvalContext {
            labels: None,
            pack_dir: self.dir.path().to_path_buf(),
            paths: PathPolicy::confined(self.dir.path()),
        }
    }
}

fn tensor_case(extra: serde_json::Value) -> serde_json::Value {
    let mut v = json!({"type": "tensor", "reference": "ref.npy"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

#[test]
fn tensor_default_tolerance_is_atol_1e5_rtol_1e3() {
    let pack = Pack::new(&[1.0, 2.0], vec![2]);
    let r = check(
        tensor_case(json!({})),
        &scores_out(vec![2], &[1.0005, 2.0]),
        &pack.ctx(),
    );
    assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
    assert_eq!(r.expected, "close to `ref.npy` (atol 1.000e-5, rtol 0.001)");

    let r = check(
        tensor_case(json!({})),
        &scores_out(vec![2], &[1.0, 2.004]),
        &pack.ctx(),
    );
    assert_eq!(r.status, CaseStatus::Failed);
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "1 of 2 elements differ by more than atol 1.000e-5 + rtol 0.001·|ref| (first at [1]: 2.004 vs reference 2)"
        )
    );
    assert!(
        r.actual
            .starts_with("float32[2] argmax=1 max=2.004; max|diff|=0.00399995 cosine=0.99999"),
        "{}",
        r.actual
    );
}

#[test]
fn tensor_atol_alone_means_rtol_zero_and_the_boundary_passes() {
    let pack = Pack::new(&[1.0, 2.0], vec![2]);
    let out = scores_out(vec![2], &[1.25, 2.0]);
    let r = check(tensor_case(json!({"atol": 0.25})), &out, &pack.ctx());
    assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
    assert_eq!(r.expected, "close to `ref.npy` (atol 0.25, rtol 0)");
    let r = check(tensor_case(json!({"atol": 0.125})), &out, &pack.ctx());
    assert_eq!(r.status, CaseStatus::Failed);
    let r = check(tensor_case(json!({"rtol": 0.25})), &out, &pack.ctx());
    assert_eq!(r.status, CaseStatus::Passed);
    let r = check(tensor_case(json!({"rtol": 0.125})), &out, &pack.ctx());
    assert_eq!(r.status, CaseStatus::Failed);
}

#[test]
fn tensor_cosine_against_hand_computed_value() {
    let pack = Pack::new(&[1.0, 0.0], vec![2]);
    let out = scores_out(vec![2], &[1.0, 1.0]);
    let r = check(tensor_case(json!({"min_cosine": 0.7})), &out, &pack.ctx());
    assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
    assert!(r.actual.contains("cosine=0.707106781"), "{}", r.actual);
    let r = check(tensor_case(json!({"min_cosine": 0.71})), &out, &pack.ctx());
    assert_eq!(r.status, CaseStatus::Failed);
    assert_eq!(
        r.reason.as_deref(),
        Some("cosine similarity 0.707106781 is below 0.71")
    );
}

#[test]
fn tensor_cosine_alone_ignores_scale() {
    let pack = Pack::new(&[1.0, 2.0], vec![2]);
    let r = check(
        tensor_case(json!({"min_cosine": 0.999})),
        &scores_out(vec![2], &[2.0, 4.0]),
        &pack.ctx(),
    );
    assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
}

#[test]
fn tensor_psnr_against_hand_computed_value() {
    let pack = Pack::new(&[1.0, 0.0, 0.0, 0.0], vec![4]);
    let out = scores_out(vec![4], &[0.75, 0.0, 0.0, 0.0]);
    let r = check(tensor_case(json!({"min_psnr_db": 18.0})), &out, &pack.ctx());
    assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
    assert!(r.actual.ends_with("PSNR=18.0618 dB"), "{}", r.actual);
    let r = check(tensor_case(json!({"min_psnr_db": 18.1})), &out, &pack.ctx());
    assert_eq!(r.status, CaseStatus::Failed);
    assert_eq!(
        r.reason.as_deref(),
        Some("PSNR 18.0618 dB is below 18.1 dB")
    );
    let r = check(
        tensor_case(json!({"min_psnr_db": 18.1, "min_cosine": 0.9})),
        &out,
        &pack.ctx(),
    );
    assert_eq!(
        r.reason.as_deref(),
        Some("PSNR 18.0618 dB is below 18.1 dB")
    );
}

#[test]
fn tensor_float16_output_compares_with_a_float32_reference() {
    let pack = Pack::new(&[1.0, -2.0], vec![2]);
    let bytes: Vec<u8> = [1.0f32, -2.0]
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
        .collect();
    let out = CaseOutput {
        case_id: "c1".into(),
        outputs: vec![("y".into(), Tensor::new(DType::F16, vec![2], bytes).unwrap())],
        latency_ms: None,
    };
    let r = check(tensor_case(json!({})), &out, &pack.ctx());
    assert_eq!(r.status, CaseStatus::Passed, "{r:?}");
    assert!(
        r.actual.starts_with("float16[2] argmax=0 max=1;"),
        "{}",
        r.actual
    );
}

#[test]
fn tensor_shape_mismatch_fails_with_both_shapes() {
    let pack = Pack::new(&[1.0, 2.0], vec![2]);
    let r = check(
        tensor_case(json!({})),
        &scores_out(vec![1, 2], &[1.0, 2.0]),
        &pack.ctx(),
    );
    assert_eq!(r.status, CaseStatus::Failed);
    assert_eq!(
        r.reason.as_deref(),
        Some("shape float32[1,2] does not match the reference's float32[2]")
    );
}

#[test]
fn tensor_missing_reference_is_an_error() {
    let pack = Pack::new(&[1.0], vec![1]);
    let r = check(
        json!({"type": "tensor", "reference": "missing.npy"}),
        &scores_out(vec![1], &[1.0]),
        &pack.ctx(),
    );
    assert_eq!(r.status, CaseStatus::Error);
    assert!(r.reason.unwrap().starts_with("cannot read reference `"));
}

#[test]
fn tensor_reference_outside_the_project_is_refused_unread() {
    let pack = Pack::new(&[1.0], vec![1]);
    let outside = Pack::new(&[1.0], vec![1]);
    let named = outside.dir.path().join("ref.npy").display().to_string();
    let r = check(
        json!({"type": "tensor", "reference": named}),
        &scores_out(vec![1], &[1.0]),
        &pack.ctx(),
    );
    assert_eq!(r.status, CaseStatus::Error);
    let reason = r.reason.unwrap_or_default();
    assert!(
        reason.starts_with(&format!(
            "reference tensor `{named}` is outside the project"
        )),
        "{reason}"
    );
}

#[test]
fn tensor_violation_position_is_a_multi_index() {
    let pack = Pack::new(&[0.0; 6], vec![2, 3]);
    let out = scores_out(vec![2, 3], &[0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    let r = check(tensor_case(json!({"atol": 0.5})), &out, &pack.ctx());
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "1 of 6 elements differ by more than atol 0.5 + rtol 0·|ref| (first at [1,1]: 1 vs reference 0)"
        )
    );
}

#[test]
fn tensor_summary_names_dtype_shape_argmax_and_max() {
    let t = Tensor::from_f32(
        vec![1, 10],
        &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.93, 0.0, 0.07],
    )
    .unwrap();
    assert_eq!(tensor_summary(&t), "float32[1,10] argmax=7 max=0.93");
    let e = Tensor::from_f32(vec![0], &[]).unwrap();
    assert_eq!(tensor_summary(&e), "float32[0] (empty)");
}
