//! Real inference outputs for ONNX source models: the uploaded model is run on this CPU with tract
//! (`crate::onnx`, the same engine as the local device), so AI Hub runs against the simulator
//! check real answers.
//!
//! The echo rule (see `outputs.rs`) stays the fallback for anything tract cannot load: other formats,
//! ONNX directories, placeholder bytes in tests. A model tract loads but whose inputs do not fit
//! fails the job with `FAILURE_TYPE_INVALID_INPUTS`, as AI Hub does.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use crate::hub::dataset::NamedSamples;
use crate::onnx::OnnxModel;

/// Loaded models kept per process, keyed by source sha256 (`None`: tract could not load it).
type Cache = Mutex<HashMap<String, Option<Arc<OnnxModel>>>>;

/// Distinct models kept before the cache starts over.
const CACHE_LIMIT: usize = 16;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

/// The ONNX model at `path` (content `sha256`), loaded once; `None` when tract cannot load it.
pub(crate) fn model(sha256: &str, path: &Path) -> Option<Arc<OnnxModel>> {
    if let Some(hit) = cache().lock().ok()?.get(sha256) {
        return hit.clone();
    }
    let loaded = match OnnxModel::load(path, &[]) {
        Ok(m) => Some(Arc::new(m)),
        Err(e) => {
            tracing::debug!("hub-sim: echo rule for {sha256}: {e}");
            None
        }
    };
    let mut c = cache().lock().ok()?;
    if c.len() >= CACHE_LIMIT {
        c.clear();
    }
    c.insert(sha256.to_owned(), loaded.clone());
    loaded
}

/// Runs the model once per sample; outputs are named as in the model, in its order.
pub(crate) fn outputs(
    model: &OnnxModel,
    inputs: &[NamedSamples],
) -> Result<Vec<NamedSamples>, String> {
    let n = inputs.first().map_or(0, |i| i.samples.len());
    if let Some(odd) = inputs.iter().find(|i| i.samples.len() != n) {
        return Err(format!(
            "input `{}` has {} samples but `{}` has {n}; every input needs the same number",
            odd.name,
            odd.samples.len(),
            inputs[0].name
        ));
    }
    let mut out: Vec<NamedSamples> = model
        .output_names()
        .iter()
        .map(|name| NamedSamples {
            name: name.clone(),
            samples: Vec::with_capacity(n),
        })
        .collect();
    for k in 0..n {
        let tensors: Vec<_> = inputs
            .iter()
            .map(|i| (i.name.clone(), i.samples[k].clone()))
            .collect();
        let results = model
            .run(&format!("sample {k}"), &tensors)
            .map_err(|e| e.to_string())?;
        for (slot, (_, t)) in out.iter_mut().zip(results) {
            slot.samples.push(t);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    fn quickstart() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/model.onnx")
    }

    #[test]
    fn runs_every_sample_and_names_outputs_like_the_model() {
        let m = model("test-quickstart", &quickstart()).unwrap();
        let zeros = Tensor::zeros(crate::tensor::DType::F32, vec![1, 64]).unwrap();
        let inputs = [NamedSamples {
            name: "image".into(),
            samples: vec![zeros.clone(), zeros],
        }];
        let out = outputs(&m, &inputs).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].name, "probabilities");
        assert_eq!(out[0].samples.len(), 2);
        assert_eq!(out[0].samples[0].shape(), &[1, 10]);
        let sum: f64 = out[0].samples[0].to_f64_vec().iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
    }

    #[test]
    fn placeholder_bytes_fall_back_to_the_echo_rule() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.onnx");
        std::fs::write(&path, b"pretend onnx bytes").unwrap();
        assert!(model("test-placeholder", &path).is_none());
    }

    #[test]
    fn inputs_that_do_not_fit_are_an_error() {
        let m = model("test-quickstart", &quickstart()).unwrap();
        let inputs = [NamedSamples {
            name: "image".into(),
            samples: vec![Tensor::zeros(crate::tensor::DType::F32, vec![1, 4]).unwrap()],
        }];
        let err = outputs(&m, &inputs).unwrap_err();
        assert!(err.contains("expects float32 [1, 64]"), "{err}");
    }
}
