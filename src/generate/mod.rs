//! Generative models on the host: a causal decoder in ONNX plus its `tokenizer.json`, decoded
//! greedily, with the timings the LLM benchmarks agree on.
//!
//! The model convention: input `input_ids` (int64 or int32, `[1, seq]`) and output `logits`
//! (`[1, seq, vocab]`; only the last position is read). Optional inputs `attention_mask` (ones
//! over every token so far) and `position_ids` (the new tokens' positions). A KV cache is used
//! when inputs are named `past_*` and each has an output of the same name with `present`
//! instead of `past` (`past_key_0` → `present_key_0`, `past_key_values.0.key` → `present.0.key`);
//! the cache's symbolic dimension is the past length, empty on the first step, and each step
//! feeds only the new token. Without a cache every step feeds the whole sequence again.
//!
//! Decoding is greedy: the token with the highest logit (the lowest id on a tie, NaN never),
//! no sampling, so a run is reproducible. Generation stops at `max_new_tokens`, at a stop token
//! id (not part of the text), or once the text contains a stop string (the text ends before it).
//!
//! Timings of one generation (wall clock, model load excluded):
//! - `ttft_ms`: from the start of tokenization to the first generated token id;
//! - tokens/s: the tokens after the first over the time from the first token to the last;
//! - prompt tokens/s: prompt tokens over `ttft_ms` (the prompt-processing rate).

pub mod graph_inputs;

use std::path::{Path, PathBuf};
use std::time::Instant;

use tokenizers::Tokenizer;

use crate::config::Project;
use crate::config::types::GenerationSpec;
use crate::onnx::{OnnxError, OnnxModel, Session};
use crate::tensor::{DType, Tensor, Values};

/// The longest prompt, in tokens, a case may have.
pub const MAX_PROMPT_TOKENS: usize = 16_384;
/// The most tokens one case may generate, whatever the config says.
pub const MAX_NEW_TOKENS: u32 = 4096;

/// What makes a model generative: its tokenizer file (resolved inside the project) and settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerativeSpec {
    /// The tokenizer file, or why the path policy refuses it (the device then refuses the model).
    pub tokenizer: Result<PathBuf, String>,
    pub settings: GenerationSpec,
}

impl GenerativeSpec {
    /// The project's generative settings; `None` when the model has no `tokenizer`.
    pub fn for_project(project: &Project) -> Option<Self> {
        let model = &project.config.model;
        let tokenizer = model.tokenizer.as_ref()?;
        Some(Self {
            tokenizer: project
                .config_file(tokenizer)
                .map_err(|e| format!("tokenizer file {e}; {}", project.paths.help())),
            settings: model.generation.clone().unwrap_or_default(),
        })
    }

    /// Settings for a tokenizer file named directly (tests, tools).
    pub fn new(tokenizer: PathBuf, settings: GenerationSpec) -> Self {
        Self {
            tokenizer: Ok(tokenizer),
            settings,
        }
    }
}

/// One generation and its timings.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Tokens of the prompt after tokenization.
    pub prompt_tokens: usize,
    /// Generated token ids, stop token excluded.
    pub tokens: Vec<u32>,
    /// The generated text, ending before a stop string.
    pub text: String,
    /// Tokenization start to the first generated token, ms.
    pub ttft_ms: f64,
    /// Token ids computed (the stop token included).
    pub steps: usize,
    /// First generated token to the last, ms.
    pub decode_ms: f64,
}

impl Generation {
    /// Tokens after the first per second; `None` with fewer than two tokens.
    pub fn tps(&self) -> Option<f64> {
        (self.steps >= 2 && self.decode_ms > 0.0)
            .then(|| (self.steps - 1) as f64 / (self.decode_ms / 1e3))
    }

    /// Prompt tokens per second of time to first token.
    pub fn prefill_tps(&self) -> Option<f64> {
        (self.ttft_ms > 0.0).then(|| self.prompt_tokens as f64 / (self.ttft_ms / 1e3))
    }
}

/// What the timed generations of a profile measured, one sample per generation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerationTimes {
    /// Time to first token, ms (tokenization included, model load excluded).
    pub ttft_ms: Vec<f64>,
    /// Tokens after the first per second (generations of two tokens or more).
    pub tps: Vec<f64>,
    /// Prompt tokens per second of time to first token.
    pub prefill_tps: Vec<f64>,
    /// Whether the model reuses a KV cache (otherwise each step recomputes the whole sequence,
    /// and tokens/s is not what a cached runtime would reach).
    pub kv_cache: bool,
}

/// A KV-cache input and the output that feeds it on the next step.
#[derive(Debug)]
struct Cache {
    past: String,
    present_ix: usize,
    empty: Tensor,
}

/// Extra inputs a decoder may take.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Extra {
    AttentionMask(DType),
    PositionIds(DType),
}

/// A causal decoder loaded with its tokenizer, checked to follow the convention.
pub struct Decoder {
    model: OnnxModel,
    tokenizer: Tokenizer,
    settings: GenerationSpec,
    ids_dtype: DType,
    logits_ix: usize,
    cache: Vec<Cache>,
    extras: Vec<(String, Extra)>,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("model", &self.model.path())
            .field("kv_cache", &!self.cache.is_empty())
            .finish_non_exhaustive()
    }
}

/// Reads a `tokenizer.json` (bounded, offline).
pub fn load_tokenizer(path: &Path) -> Result<Tokenizer, OnnxError> {
    let bytes = crate::files::read(path, "tokenizer", crate::files::TOKENIZER_LIMIT)
        .map_err(|e| OnnxError::InvalidModel(format!("{e}; check `model.tokenizer`")))?;
    Tokenizer::from_bytes(&bytes).map_err(|e| {
        OnnxError::InvalidModel(format!(
            "{} is not a Hugging Face tokenizer.json this version can read: {e}; `model.tokenizer` must name the `tokenizer.json` saved with the model (`tokenizer.save(...)`)",
            path.display()
        ))
    })
}

impl Decoder {
    /// Loads the model and tokenizer, checks the model's inputs and outputs, and runs one step
    /// on one token, so a graph the engine cannot run is refused before any case; blocking.
    pub fn load(model_path: &Path, spec: &GenerativeSpec) -> Result<Self, OnnxError> {
        let tokenizer_path = spec.tokenizer.clone().map_err(OnnxError::InvalidModel)?;
        let tokenizer = load_tokenizer(&tokenizer_path)?;
        let model = OnnxModel::load(model_path, &[]).map_err(range_hint)?;
        let shown = model_path.display();
        let sigs = model.input_sigs();
        let names: Vec<String> = sigs.iter().map(|s| format!("`{}`", s.0)).collect();
        let Some((_, ids_dtype, _)) = sigs.iter().find(|s| s.0 == "input_ids") else {
            return Err(OnnxError::InvalidModel(format!(
                "{shown} is not a causal decoder EdgeGate can drive: it has no input `input_ids` (inputs: {}); a generative model takes token ids as `input_ids` and gives `logits`",
                names.join(", ")
            )));
        };
        let ids_dtype = match ids_dtype {
            Some(d @ (DType::I64 | DType::I32)) => *d,
            other => {
                return Err(OnnxError::InvalidModel(format!(
                    "{shown}: input `input_ids` is {}, not int64 or int32",
                    other.map_or("of an unsupported type", DType::name)
                )));
            }
        };
        let outputs = model.output_names().to_vec();
        let Some(logits_ix) = outputs.iter().position(|o| o == "logits") else {
            return Err(OnnxError::InvalidModel(format!(
                "{shown} has no output `logits` (outputs: {}); a generative model gives the next-token scores as `logits` [1, seq, vocab]",
                outputs
                    .iter()
                    .map(|o| format!("`{o}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let mut cache = Vec::new();
        let mut extras = Vec::new();
        for (name, dtype, dims) in &sigs {
            match name.as_str() {
                "input_ids" => {}
                "attention_mask" | "position_ids" => {
                    let dtype = match dtype {
                        Some(d @ (DType::I64 | DType::I32)) => *d,
                        _ => {
                            return Err(OnnxError::InvalidModel(format!(
                                "{shown}: input `{name}` must be int64 or int32"
                            )));
                        }
                    };
                    extras.push((
                        name.clone(),
                        if name == "attention_mask" {
                            Extra::AttentionMask(dtype)
                        } else {
                            Extra::PositionIds(dtype)
                        },
                    ));
                }
                n if n.starts_with("past") => {
                    let present = present_name(n);
                    let Some(present_ix) = outputs.iter().position(|o| *o == present) else {
                        return Err(OnnxError::InvalidModel(format!(
                            "{shown}: KV-cache input `{n}` has no matching output `{present}`; a cache input `past_*` needs the output `present_*` that feeds it on the next step"
                        )));
                    };
                    let Some(dtype) = dtype.filter(|d| matches!(d, DType::F32 | DType::F16)) else {
                        return Err(OnnxError::InvalidModel(format!(
                            "{shown}: KV-cache input `{n}` must be float32 or float16"
                        )));
                    };
                    if dims.iter().skip(1).all(Option::is_some) {
                        return Err(OnnxError::InvalidModel(format!(
                            "{shown}: KV-cache input `{n}` has a fixed shape; the host device runs decoders whose cache grows (a symbolic past-length dimension, as `optimum` exports them); static-cache graphs such as AI Hub's prompt-processor/token-generator pairs are run on AI Hub"
                        )));
                    }
                    let shape: Vec<usize> = dims
                        .iter()
                        .enumerate()
                        .map(|(i, d)| d.unwrap_or(usize::from(i == 0)))
                        .collect();
                    let empty = Tensor::zeros(dtype, shape)
                        .map_err(|e| OnnxError::InvalidModel(format!("{shown}: `{n}`: {e}")))?;
                    cache.push(Cache {
                        past: n.to_owned(),
                        present_ix,
                        empty,
                    });
                }
                other => {
                    return Err(OnnxError::InvalidModel(format!(
                        "{shown}: input `{other}` is none of `input_ids`, `attention_mask`, `position_ids` or a `past_*` KV-cache input, so EdgeGate cannot feed it while generating"
                    )));
                }
            }
        }
        let decoder = Self {
            model,
            tokenizer,
            settings: spec.settings.clone(),
            ids_dtype,
            logits_ix,
            cache,
            extras,
        };
        let mut session = decoder.model.session()?;
        decoder
            .step(&mut session, "pre-flight", &[0], 0, None)
            .map_err(|e| {
                OnnxError::InvalidModel(format!(
                    "{shown}: the engine (tract) could not run one decoding step on this graph: {e}; re-export the decoder (see the README, \"Generative models on the host\"), or run it on AI Hub"
                ))
            })?;
        Ok(decoder)
    }

    /// The model file's size.
    pub fn size_bytes(&self) -> u64 {
        self.model.size_bytes()
    }

    /// Time to read, optimise and plan the model, ms.
    pub fn load_time_ms(&self) -> f64 {
        self.model.load_time_ms()
    }

    /// Whether the model has a KV cache (otherwise each step recomputes the whole sequence).
    pub fn has_kv_cache(&self) -> bool {
        !self.cache.is_empty()
    }

    /// A runner for repeated generations on this thread.
    pub fn session(&self) -> Result<Session<'_>, OnnxError> {
        self.model.session()
    }

    /// One forward pass: `new` tokens after `past_len` earlier ones; the next token id and the
    /// cache for the next step.
    fn step(
        &self,
        session: &mut Session<'_>,
        case: &str,
        new: &[u32],
        past_len: usize,
        past: Option<&[Tensor]>,
    ) -> Result<(u32, Vec<Tensor>), OnnxError> {
        let ids_tensor = |dtype: DType, shape: Vec<usize>, v: Vec<i64>| {
            let values = match dtype {
                DType::I32 => Values::I32(v.iter().map(|&x| x as i32).collect()),
                _ => Values::I64(v),
            };
            Tensor::from_values(shape, values).map_err(|e| OnnxError::Run(e.to_string()))
        };
        let mut tensors = Vec::with_capacity(1 + self.extras.len() + self.cache.len());
        tensors.push((
            "input_ids".to_owned(),
            ids_tensor(
                self.ids_dtype,
                vec![1, new.len()],
                new.iter().map(|&t| i64::from(t)).collect(),
            )?,
        ));
        for (name, extra) in &self.extras {
            let t = match *extra {
                Extra::AttentionMask(d) => {
                    let n = past_len + new.len();
                    ids_tensor(d, vec![1, n], vec![1; n])?
                }
                Extra::PositionIds(d) => ids_tensor(
                    d,
                    vec![1, new.len()],
                    (past_len..past_len + new.len()).map(|p| p as i64).collect(),
                )?,
            };
            tensors.push((name.clone(), t));
        }
        for (i, c) in self.cache.iter().enumerate() {
            let t = past.and_then(|p| p.get(i)).unwrap_or(&c.empty).clone();
            tensors.push((c.past.clone(), t));
        }
        let inputs = self.model.feed(case, &tensors)?.into_inputs();
        let out = session.run(&inputs)?;
        let mut named = self.model.read_outputs(case, out)?;
        let logits = &named
            .get(self.logits_ix)
            .ok_or_else(|| OnnxError::Run(format!("case `{case}`: no `logits` output")))?
            .1;
        let vocab = logits.shape().last().copied().unwrap_or(0);
        if vocab == 0 || !matches!(logits.dtype(), DType::F32 | DType::F16) {
            return Err(OnnxError::Run(format!(
                "case `{case}`: output `logits` is {} {:?}, not float scores [1, seq, vocab]",
                logits.dtype(),
                logits.shape()
            )));
        }
        let scores = logits.to_f64_vec();
        let last = &scores[scores.len() - vocab..];
        let next = argmax(last);
        let next = u32::try_from(next)
            .map_err(|_| OnnxError::Run(format!("case `{case}`: vocabulary too large")))?;
        let present = self
            .cache
            .iter()
            .map(|c| {
                named
                    .get_mut(c.present_ix)
                    .map(|(_, t)| std::mem::replace(t, c.empty.clone()))
                    .ok_or_else(|| OnnxError::Run(format!("case `{case}`: no `present` output")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((next, present))
    }

    /// Tokenizes `prompt` and decodes greedily; `case` names the case in errors.
    pub fn generate(
        &self,
        session: &mut Session<'_>,
        case: &str,
        prompt: &str,
    ) -> Result<Generation, OnnxError> {
        let started = Instant::now();
        let encoding = self.tokenizer.encode(prompt, true).map_err(|e| {
            OnnxError::InvalidInput(format!(
                "case `{case}`: the prompt cannot be tokenized: {e}"
            ))
        })?;
        let prompt_ids = encoding.get_ids().to_vec();
        if prompt_ids.is_empty() {
            return Err(OnnxError::InvalidInput(format!(
                "case `{case}`: the prompt tokenizes to no tokens; give the case a non-empty `prompt`"
            )));
        }
        if prompt_ids.len() > MAX_PROMPT_TOKENS {
            return Err(OnnxError::InvalidInput(format!(
                "case `{case}`: the prompt is {} tokens, more than {MAX_PROMPT_TOKENS}; shorten it",
                prompt_ids.len()
            )));
        }
        let max_new = self.settings.max_new_tokens.clamp(1, MAX_NEW_TOKENS) as usize;
        let mut all = prompt_ids.clone();
        let mut tokens: Vec<u32> = Vec::new();
        let mut past: Option<Vec<Tensor>> = None;
        let mut first_at: Option<Instant> = None;
        let mut last_at = started;
        let mut ttft_ms = 0.0;
        let mut steps = 0;
        let mut text = String::new();
        while steps < max_new {
            let (new, past_len) = if self.cache.is_empty() || past.is_none() {
                (&all[..], 0)
            } else {
                (&all[all.len() - 1..], all.len() - 1)
            };
            let (next, present) = self
                .step(session, case, new, past_len, past.as_deref())
                .map_err(|e| match e {
                    OnnxError::Run(m) => OnnxError::Run(format!(
                        "{m} (at {} tokens: {} of prompt, {} generated; a sequence longer than the model's context fails like this: shorten the prompt or lower `max_new_tokens`)",
                        all.len(),
                        prompt_ids.len(),
                        tokens.len()
                    )),
                    other => other,
                })?;
            steps += 1;
            let now = Instant::now();
            if first_at.is_none() {
                first_at = Some(now);
                ttft_ms = (now - started).as_secs_f64() * 1e3;
            }
            last_at = now;
            if !self.cache.is_empty() {
                past = Some(present);
            }
            if self.settings.stop_token_ids.contains(&next) {
                break;
            }
            tokens.push(next);
            all.push(next);
            text = self.decode(case, &tokens)?;
            if let Some(at) = self
                .settings
                .stop
                .iter()
                .filter_map(|s| text.find(s.as_str()))
                .min()
            {
                text.truncate(at);
                break;
            }
        }
        let decode_ms = first_at.map_or(0.0, |f| (last_at - f).as_secs_f64() * 1e3);
        Ok(Generation {
            prompt_tokens: prompt_ids.len(),
            tokens,
            text,
            ttft_ms,
            steps,
            decode_ms,
        })
    }

    fn decode(&self, case: &str, tokens: &[u32]) -> Result<String, OnnxError> {
        self.tokenizer.decode(tokens, true).map_err(|e| {
            OnnxError::Run(format!(
                "case `{case}`: the generated tokens cannot be decoded: {e}"
            ))
        })
    }
}

/// `past_key_0` → `present_key_0`; `past_key_values.0.key` → `present.0.key`.
fn present_name(past: &str) -> String {
    if let Some(rest) = past.strip_prefix("past_key_values") {
        format!("present{rest}")
    } else {
        format!("present{}", &past["past".len()..])
    }
}

/// The index of the highest score; the lowest index on a tie, NaN never (unless all are NaN).
pub(crate) fn argmax(scores: &[f64]) -> usize {
    let mut best = 0;
    let mut best_v = f64::NEG_INFINITY;
    for (i, &v) in scores.iter().enumerate() {
        if v > best_v {
            best = i;
            best_v = v;
        }
    }
    best
}

/// Adds the known cause to tract's failure on shapes built with `Range` over a tensor's shape.
fn range_hint(e: OnnxError) -> OnnxError {
    match e {
        OnnxError::InvalidModel(m) if m.contains("Range") => OnnxError::InvalidModel(format!(
            "{m}. This is a known limit of the engine: positions or a causal mask built with `Range` over a tensor's shape (common in torch/optimum exports); re-export with position ids and the mask sliced from constant buffers, or feed `position_ids` as an input"
        )),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_names_follow_both_conventions() {
        assert_eq!(present_name("past_key_0"), "present_key_0");
        assert_eq!(present_name("past_value_3"), "present_value_3");
        assert_eq!(present_name("past_key_values.0.key"), "present.0.key");
        assert_eq!(present_name("past"), "present");
    }

    #[test]
    fn argmax_takes_the_lowest_index_on_ties_and_skips_nan() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
        assert_eq!(argmax(&[f64::NAN, 0.5, f64::NAN]), 1);
        assert_eq!(argmax(&[]), 0);
    }

    #[test]
    fn rates_need_two_tokens_and_time() {
        let g = Generation {
            prompt_tokens: 10,
            tokens: vec![1, 2, 3],
            text: String::new(),
            ttft_ms: 20.0,
            steps: 3,
            decode_ms: 40.0,
        };
        assert_eq!(g.tps(), Some(50.0));
        assert_eq!(g.prefill_tps(), Some(500.0));
        let one = Generation { steps: 1, ..g };
        assert_eq!(one.tps(), None);
    }

    fn example(settings: GenerationSpec) -> Decoder {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/llm");
        let spec = GenerativeSpec::new(dir.join("tokenizer.json"), settings);
        Decoder::load(&dir.join("model.onnx"), &spec).unwrap()
    }

    #[test]
    fn stops_by_string_by_token_id_and_by_count() {
        let prompt = "the capital of france is";
        let by_string = example(GenerationSpec {
            stop: vec!["\n".into()],
            ..GenerationSpec::default()
        });
        let mut s = by_string.session().unwrap();
        let g = by_string.generate(&mut s, "c", prompt).unwrap();
        assert_eq!(g.text, " paris.");
        assert_eq!(g.tokens, [288, 64, 81, 72, 82, 13, 198]);
        assert_eq!(g.steps, 7);
        assert_eq!(g.prompt_tokens, 8);
        assert!(by_string.has_kv_cache());

        let by_id = example(GenerationSpec {
            stop_token_ids: vec![198],
            ..GenerationSpec::default()
        });
        let mut s = by_id.session().unwrap();
        let g = by_id.generate(&mut s, "c", prompt).unwrap();
        assert_eq!(g.text, " paris.");
        assert_eq!(
            g.tokens,
            [288, 64, 81, 72, 82, 13],
            "the stop id is not kept"
        );
        assert_eq!(g.steps, 7, "the stop token was computed");

        let capped = example(GenerationSpec {
            max_new_tokens: 2,
            ..GenerationSpec::default()
        });
        let mut s = capped.session().unwrap();
        let g = capped.generate(&mut s, "c", prompt).unwrap();
        assert_eq!(g.tokens, [288, 64]);
        let e = capped.generate(&mut s, "c", "").unwrap_err().to_string();
        assert!(e.contains("no tokens"), "{e}");
        let long = "the sky is ".repeat(30);
        let e = capped.generate(&mut s, "c", &long).unwrap_err().to_string();
        assert!(e.contains("longer than the model's context"), "{e}");
    }

    #[test]
    fn a_malformed_tokenizer_is_an_error_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tokenizer.json");
        for text in ["{", "{\"model\": 3}", "[]", ""] {
            std::fs::write(&p, text).unwrap();
            let e = load_tokenizer(&p).unwrap_err().to_string();
            assert!(e.contains("model.tokenizer"), "{e}");
        }
        let e = load_tokenizer(&dir.path().join("missing.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("model.tokenizer"), "{e}");
    }
}
