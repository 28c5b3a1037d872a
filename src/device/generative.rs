//! The local `host` device for a generative model: the same `Device` as `device::local`, but a
//! case is its `prompt`, decoded greedily by [`Decoder`], and its output is the generated text.
//!
//! - `infer`: one generation per case; outputs `text` (uint8, the UTF-8 bytes the text
//!   expectations read) and `tokens` (int64, the generated ids); a case without a `prompt` gets
//!   no output (an error in its row).
//! - `profile`: for each case with a prompt, `warmup_runs` untimed generations then
//!   `measurement_repeats` timed ones; `inference_ms` holds each timed generation's wall clock,
//!   and [`GenerationTimes`] its time to first token, tokens/s and prompt tokens/s.
//!
//! Blocking work runs on a blocking thread, cancelled between steps when the run stops.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;

use super::local::peak_rss_bytes;
use super::{
    CaseInputs, CaseOutput, Device, DeviceError, InferResult, ModelArtifact, Prepared,
    ProfileResult, RunSettings, blocking,
};
use crate::config::ModelKind;
use crate::generate::{Decoder, GenerationTimes, GenerativeSpec};
use crate::results::JobLink;
use crate::tensor::{Tensor, Values};

/// A `provider: local` device running a generative model.
pub struct GenerativeDevice {
    name: String,
    spec: GenerativeSpec,
    /// The last decoder loaded, keyed by its target id.
    loaded: Mutex<Option<(String, Arc<Decoder>)>>,
    run_lock: tokio::sync::Mutex<()>,
    runs: AtomicU64,
}

impl std::fmt::Debug for GenerativeDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenerativeDevice")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl GenerativeDevice {
    /// A local device called `name` generating with `spec`'s tokenizer and settings.
    pub fn new(name: &str, spec: GenerativeSpec) -> Self {
        Self {
            name: name.to_owned(),
            spec,
            loaded: Mutex::new(None),
            run_lock: tokio::sync::Mutex::new(()),
            runs: AtomicU64::new(0),
        }
    }

    fn job(&self, start: bool) -> JobLink {
        super::local::local_job(&self.name, &self.runs, start)
    }

    fn loaded_for(&self, prepared: &Prepared) -> Result<Arc<Decoder>, DeviceError> {
        super::blocking::prepared(&self.loaded, &self.name, &prepared.target_id)
    }
}

/// The prompts of the cases that have one, with their case ids.
fn prompts(cases: &[CaseInputs]) -> Vec<(String, String)> {
    cases
        .iter()
        .filter_map(|c| c.prompt.clone().map(|p| (c.case_id.clone(), p)))
        .collect()
}

#[async_trait]
impl Device for GenerativeDevice {
    fn name(&self) -> &str {
        &self.name
    }

    async fn prepare(&self, model: &ModelArtifact) -> Result<Prepared, DeviceError> {
        if model.kind != ModelKind::Onnx {
            return Err(DeviceError::InvalidModel(format!(
                "{} is a {} model, but generative models run on the local device as ONNX only",
                model.path.display(),
                model.kind.as_str()
            )));
        }
        let target_id = format!("local-gen-{}", model.sha256);
        let path = model.path.clone();
        let spec = self.spec.clone();
        let loaded = super::blocking::load_cached(
            &self.loaded,
            &target_id,
            "loading the generative model",
            move || Ok(Decoder::load(&path, &spec)?),
        )
        .await?;
        Ok(Prepared {
            target_id,
            jobs: vec![self.job(true)],
            model_size_bytes: Some(loaded.size_bytes()),
        })
    }

    async fn profile(
        &self,
        prepared: &Prepared,
        cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<ProfileResult, DeviceError> {
        let loaded = self.loaded_for(prepared)?;
        let prompts = prompts(cases);
        if prompts.is_empty() {
            return Err(DeviceError::InvalidInput(
                "a generative model is measured on the cases' prompts, and no case has a `prompt`; give the cases prompts".into(),
            ));
        }
        let (warmup, repeats) = (settings.warmup_runs, settings.measurement_repeats.max(1));
        let _guard = self.run_lock.lock().await;
        let l = loaded.clone();
        let (total, times, peak) = blocking::run(
            "the generation run on the local CPU",
            settings.job_timeout,
            move |cancel| {
                let decoder = &*l;
                let mut session = decoder.session()?;
                let mut total = Vec::new();
                let mut times = GenerationTimes {
                    kv_cache: decoder.has_kv_cache(),
                    ..GenerationTimes::default()
                };
                for (case, prompt) in &prompts {
                    for _ in 0..warmup {
                        cancel.check()?;
                        decoder.generate(&mut session, case, prompt)?;
                    }
                    for _ in 0..repeats {
                        cancel.check()?;
                        let t = Instant::now();
                        let g = decoder.generate(&mut session, case, prompt)?;
                        total.push(t.elapsed().as_secs_f64() * 1e3);
                        times.ttft_ms.push(g.ttft_ms);
                        times.tps.extend(g.tps());
                        times.prefill_tps.extend(g.prefill_tps());
                    }
                }
                Ok::<_, DeviceError>((total, times, peak_rss_bytes()))
            },
        )
        .await?;
        Ok(ProfileResult {
            inference_ms: total,
            load_time_ms: Some(loaded.load_time_ms()),
            peak_memory_bytes: peak,
            layers: None,
            model_size_bytes: Some(loaded.size_bytes()),
            jobs: vec![self.job(false)],
            generation: Some(times),
            graphs: None,
        })
    }

    async fn infer(
        &self,
        prepared: &Prepared,
        cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<InferResult, DeviceError> {
        let loaded = self.loaded_for(prepared)?;
        let prompts = prompts(cases);
        let _guard = self.run_lock.lock().await;
        let l = loaded.clone();
        let outputs = blocking::run(
            "the generation run on the local CPU",
            settings.job_timeout,
            move |cancel| {
                let decoder = &*l;
                let mut session = decoder.session()?;
                let mut outputs = Vec::with_capacity(prompts.len());
                for (case, prompt) in prompts {
                    cancel.check()?;
                    let t = Instant::now();
                    let g = decoder.generate(&mut session, &case, &prompt)?;
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    outputs.push(CaseOutput {
                        case_id: case,
                        outputs: generation_outputs(&g.text, &g.tokens)?,
                        latency_ms: Some(ms),
                    });
                }
                Ok::<_, DeviceError>(outputs)
            },
        )
        .await?;
        Ok(InferResult {
            outputs,
            jobs: vec![self.job(false)],
            notes: Vec::new(),
        })
    }
}

/// A generation as named outputs: `text` (uint8 UTF-8 bytes) and `tokens` (int64 ids).
pub fn generation_outputs(
    text: &str,
    tokens: &[u32],
) -> Result<Vec<(String, Tensor)>, DeviceError> {
    let bytes = text.as_bytes().to_vec();
    let text_t = Tensor::from_values(vec![bytes.len()], Values::U8(bytes))
        .map_err(|e| DeviceError::Other(e.to_string()))?;
    let ids: Vec<i64> = tokens.iter().map(|&t| i64::from(t)).collect();
    let tokens_t = Tensor::from_values(vec![ids.len()], Values::I64(ids))
        .map_err(|e| DeviceError::Other(e.to_string()))?;
    Ok(vec![("text".into(), text_t), ("tokens".into(), tokens_t)])
}
