//! What validation says about `ttft_ms` and `tps` gates that a device cannot measure (only a
//! generative model, `model.tokenizer`, on the local device measures them).

use super::types::Provider;

/// The help of a refused `ttft_ms`/`tps` gate.
pub const UNMEASURABLE_HELP: &str = "give the model a `tokenizer:` (a causal decoder in ONNX with its tokenizer.json) and run it on a `provider: local` device, or scope the gate with `devices:` to local devices";

/// Why `metric` (`ttft_ms` or `tps`) cannot be gated on device `device`.
pub fn unmeasurable(metric: &str, device: &str, provider: Provider) -> String {
    match provider {
        Provider::Local => format!(
            "`{metric}` is measured for generative models only, and this model has no `tokenizer`"
        ),
        Provider::Aihub => format!(
            "device `{device}` runs on AI Hub, whose jobs do not measure `{metric}` (a generation loop needs a runtime on the device); the host device measures it"
        ),
    }
}
