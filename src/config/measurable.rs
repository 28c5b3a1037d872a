//! What validation says about a gate whose metric a device cannot measure for this model:
//! `ttft_ms` and `tps` need a generative model (`model.tokenizer`); `prefill_ms` and `decode_ms`
//! are the two graphs of a generative model on AI Hub (`model.graphs`); a generative model on
//! AI Hub has no single `inference_time_ms`.

use super::types::{Metric, Provider};

/// The help of a refused gate on `metric`.
pub fn help(metric: Metric) -> &'static str {
    match metric {
        Metric::TtftMs | Metric::Tps => {
            "give the model a `tokenizer:` (a causal decoder in ONNX with its tokenizer.json; on AI Hub also `graphs:`), or remove the gate"
        }
        Metric::PrefillMs | Metric::DecodeMs => {
            "scope the gate with `devices:` to AI Hub devices of a generative model (`model.tokenizer` and `model.graphs`), or gate `ttft_ms`/`tps` on the host"
        }
        Metric::InferenceTimeMs => {
            "gate `prefill_ms` and `decode_ms` (measured) or `ttft_ms` and `tps` (estimated) on AI Hub devices, or scope the gate with `devices:` to the host"
        }
        _ => "remove the gate, or scope it with `devices:` to AI Hub devices",
    }
}

/// Why `metric` cannot be gated on device `device` of `provider` for this model.
pub fn unmeasurable(metric: Metric, device: &str, provider: Provider, generative: bool) -> String {
    let name = metric.as_str();
    match metric {
        Metric::TtftMs | Metric::Tps => format!(
            "`{name}` is measured for generative models only, and this model has no `tokenizer`"
        ),
        Metric::PrefillMs | Metric::DecodeMs if !generative => format!(
            "`{name}` is the time of one graph of a generative model on AI Hub, and this model has no `tokenizer`"
        ),
        Metric::PrefillMs | Metric::DecodeMs => format!(
            "device `{device}` runs on the local CPU, which generates with the whole decoder (`model.path`); `{name}` is measured on AI Hub, which profiles the two graphs of `model.graphs`"
        ),
        Metric::InferenceTimeMs => format!(
            "device `{device}` runs the generative model on AI Hub as two graphs, each timed on its own (`prefill_ms`, `decode_ms`); there is no single `{name}`"
        ),
        _ if provider == Provider::Local => format!(
            "device `{device}` runs on the local CPU, which has no NPU/GPU layer placement to measure `{name}`"
        ),
        _ => format!("device `{device}` cannot measure `{name}`"),
    }
}
