//! What an inference job outputs, as a new dataset. Inference outputs of an ONNX source model that
//! tract can load are real: the model runs on every sample (see `infer.rs`). For anything else one
//! documented rule applies (the echo): for every input `i` (in dataset order) the output dataset
//! holds `output_<i>`, the input's samples converted to float32 with the same shapes.
//!
//! No HTTP here: the job routes call it and turn its failure into the job's.

use std::sync::Arc;

use crate::hub::dataset::{self, NamedSamples};
use crate::hub::proto::{self, JobFailureType, TensorDtype};
use crate::tensor::Tensor;

use super::blobs;
use super::infer;
use super::state::SimState;

fn named_type(name: &str, shape: &[usize], dtype: TensorDtype) -> proto::NamedTensorType {
    proto::NamedTensorType {
        name: name.to_owned(),
        tensor_type: Some(proto::TensorType {
            shape: shape.iter().map(|&d| d as i64).collect(),
            dtype: dtype as i32,
            scale: None,
            zero_point: None,
        }),
        graph_name: None,
    }
}

/// The output spec the echo rule implies for an input spec.
pub(crate) fn echo_spec(inputs: &proto::NamedTensorTypeList) -> proto::NamedTensorTypeList {
    proto::NamedTensorTypeList {
        types: inputs
            .types
            .iter()
            .enumerate()
            .map(|(i, t)| proto::NamedTensorType {
                name: format!("output_{i}"),
                tensor_type: t.tensor_type.clone().map(|mut tt| {
                    tt.dtype = TensorDtype::Float32 as i32;
                    tt
                }),
                graph_name: None,
            })
            .collect(),
    }
}

/// Applies the echo rule: `output_<i>` = input `i` as float32.
pub(crate) fn echo_outputs(
    inputs: &[NamedSamples],
) -> Result<Vec<NamedSamples>, crate::tensor::TensorError> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let samples = input
                .samples
                .iter()
                .map(|t| {
                    let values: Vec<f32> = t.to_f64_vec().into_iter().map(|v| v as f32).collect();
                    Tensor::from_f32(t.shape().to_vec(), &values)
                })
                .collect::<Result<_, _>>()?;
            Ok(NamedSamples {
                name: format!("output_{i}"),
                samples,
            })
        })
        .collect()
}

pub(crate) struct Outputs {
    /// The output dataset, unless the job failed.
    pub dataset_id: Option<String>,
    /// Names, shapes and dtypes of the inputs as read.
    pub input_types: Option<proto::NamedTensorTypeList>,
    /// Why the job fails: reason and failure type.
    pub failure: Option<(String, i32)>,
}

pub(crate) async fn run_dataset(
    s: &Arc<SimState>,
    dataset_id: &str,
    job_name: &str,
    source: Option<(String, std::path::PathBuf)>,
) -> Outputs {
    let path = {
        let store = s.store();
        store
            .datasets
            .get(dataset_id)
            .and_then(|d| d.blob.as_ref())
            .and_then(|b| store.blobs.get(b))
            .map(|b| b.path.clone())
    };
    let invalid = |msg: String| Outputs {
        dataset_id: None,
        input_types: None,
        failure: Some((msg, JobFailureType::InvalidInputs as i32)),
    };
    let Some(path) = path else {
        return invalid(format!("dataset {dataset_id} has no data"));
    };
    let out_path = blobs::file_path(s, &format!("outputs-{}.h5", s.store().new_id('o')));
    let out_path2 = out_path.clone();
    let work = tokio::task::spawn_blocking(move || -> Result<Vec<NamedSamples>, String> {
        let unusable = |e: String| format!("the input dataset is not usable: {e}");
        let inputs = crate::hub::dataset_child::read(&path).map_err(|e| unusable(e.to_string()))?;
        let outputs = match source.and_then(|(sha, p)| infer::model(&sha, &p)) {
            Some(model) => infer::outputs(&model, &inputs)
                .map_err(|e| format!("the model cannot run on these inputs: {e}"))?,
            None => echo_outputs(&inputs).map_err(|e| unusable(e.to_string()))?,
        };
        dataset::write(&out_path2, &outputs).map_err(|e| unusable(e.to_string()))?;
        Ok(inputs)
    })
    .await;
    let inputs = match work {
        Ok(Ok(inputs)) => inputs,
        Ok(Err(e)) => return invalid(e),
        Err(e) => return invalid(format!("reading the input dataset failed: {e}")),
    };
    let input_types = proto::NamedTensorTypeList {
        types: inputs
            .iter()
            .filter_map(|n| {
                n.samples
                    .first()
                    .map(|t| named_type(&n.name, t.shape(), TensorDtype::from(t.dtype())))
            })
            .collect(),
    };
    let name = format!("{job_name}-outputs");
    let (blob, _) = blobs::register(s, out_path, &format!("{name}.h5"));
    let created = s.now_unix();
    let id = s
        .store()
        .add_dataset(name, created, false, Some(blob))
        .id
        .clone();
    Outputs {
        dataset_id: Some(id),
        input_types: Some(input_types),
        failure: None,
    }
}
