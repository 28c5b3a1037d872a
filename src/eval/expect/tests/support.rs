//! Cases, outputs and contexts the expectation tests share; imports no test file.

use indexmap::IndexMap;

use crate::config::Case;
use crate::device::CaseOutput;
use crate::eval::expect::{EvalContext, check_case};
use crate::results::CaseResult;
use crate::tensor::{DType, Tensor};

pub(super) fn case(expected: serde_json::Value) -> Case {
    Case {
        case_id: "c1".to_string(),
        name: None,
        prompt: None,
        inputs: IndexMap::new(),
        expected: serde_json::from_value(expected).unwrap(),
    }
}

pub(super) fn text_out(text: &str) -> CaseOutput {
    let t = Tensor::new(DType::U8, vec![text.len()], text.as_bytes().to_vec()).unwrap();
    CaseOutput {
        case_id: "c1".to_string(),
        outputs: vec![("text".to_string(), t)],
        latency_ms: Some(4.5),
    }
}

pub(super) fn scores_out(shape: Vec<usize>, scores: &[f32]) -> CaseOutput {
    CaseOutput {
        case_id: "c1".to_string(),
        outputs: vec![(
            "logits".to_string(),
            Tensor::from_f32(shape, scores).unwrap(),
        )],
        latency_ms: None,
    }
}

pub(super) fn ctx() -> EvalContext {
    EvalContext::default()
}

pub(super) fn labels_ctx() -> EvalContext {
    EvalContext {
        labels: Some(vec!["cat".into(), "dog".into(), "bird".into()]),
        ..EvalContext::default()
    }
}

pub(super) fn check(
    expected: serde_json::Value,
    out: &CaseOutput,
    ctx: &EvalContext,
) -> CaseResult {
    check_case(&case(expected), Some(out), ctx)
}
