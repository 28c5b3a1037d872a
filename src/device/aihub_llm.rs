//! A generative model on Qualcomm AI Hub, as the two graphs an on-device LLM runtime runs
//! (`model.graphs`): the prompt processor (prefill, N tokens at once) and the token generator
//! (decode, one token with the KV cache). Composes two [`AihubDevice`]s on the same device.
//!
//! - `prepare`: compiles both graphs (two compile jobs, cached like any other).
//! - `profile`: profiles both; `prefill_ms` and `decode_ms` are what AI Hub measured, and the
//!   prompts' token counts let the metrics derive the ESTIMATES of time to first token
//!   (⌈prompt tokens / N⌉ × prefill) and tokens/s (1000 / decode), labelled as such.
//! - `infer`: one inference job of the prefill graph, teacher-forced: each case's prompt followed
//!   by its `exact` answer, padded on the right to N tokens. Greedy decoding produces the answer
//!   exactly when every next-token argmax along it is the answer's next token, and the token
//!   after it stops generation (a stop token, a stop string, or `max_new_tokens`); the host's
//!   stop rules are replayed on the argmaxes, so the text reported is what greedy decoding on
//!   the device would produce up to the first token it cannot know. The answer is tokenized as
//!   written and with one leading space (how a prompt's continuation usually starts); the
//!   better-matching one is reported.
//!
//! A case that cannot be teacher-forced (no `exact` answer, or prompt and answer longer than N)
//! is not sent, and its note says why: the engine reports it as skipped.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokenizers::Tokenizer;
use tokio::sync::OnceCell;

use super::aihub::{AihubDevice, HubContext};
use super::{
    CaseInputs, CaseOutput, Device, DeviceError, GraphTimes, InferResult, ModelArtifact, Prepared,
    ProfileResult, RunSettings,
};
use crate::config::HubTarget;
use crate::config::types::{GenerationSpec, ModelKind};
use crate::generate::graph_inputs::{self, INT32, INT64};
use crate::generate::{GenerativeSpec, MAX_NEW_TOKENS};
use crate::results::LayerCounts;
use crate::tensor::{DType, Tensor, Values};

/// The two graph files of a generative model, hashed once per run.
#[derive(Debug, Clone)]
pub struct GraphFiles {
    pub prefill: ModelArtifact,
    pub decode: ModelArtifact,
}

/// What the prefill graph takes: N tokens of this integer type, and the inputs besides
/// `input_ids` (which the teacher-forced check cannot feed).
#[derive(Debug, Clone)]
struct PrefillShape {
    tokens: usize,
    dtype: DType,
    other_inputs: Vec<String>,
}

/// Why no case is teacher-forced on a prefill graph with inputs besides `input_ids`, or `None`.
pub fn unforceable(path: &Path) -> Option<String> {
    let shape = prefill_shape(path).ok()?;
    forcing_blocked(&shape)
}

fn forcing_blocked(shape: &PrefillShape) -> Option<String> {
    (!shape.other_inputs.is_empty()).then(|| {
        format!(
            "not run on AI Hub: the prefill graph also takes {}, which the teacher-forced check cannot feed (it feeds `input_ids` only, right-padded); the graphs are still profiled, and the host checks this case",
            shape
                .other_inputs
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// The most tokens a prefill graph may take at once.
const MAX_PREFILL_TOKENS: i64 = 1 << 16;

/// One AI Hub device of the matrix running a generative model as two graphs.
pub struct AihubLlmDevice {
    name: String,
    prefill: AihubDevice,
    decode: AihubDevice,
    files: Arc<GraphFiles>,
    spec: GenerativeSpec,
    /// The `exact` answer of each case that has one, by case id.
    answers: Arc<HashMap<String, String>>,
    ready: OnceCell<Result<(PrefillShape, Arc<Tokenizer>), DeviceError>>,
    prepared: Mutex<Option<(Prepared, Prepared)>>,
}

impl AihubLlmDevice {
    /// The device `name` of the matrix on `target`; `answers` maps case ids to `exact` answers.
    pub fn new(
        ctx: Arc<HubContext>,
        name: &str,
        target: &HubTarget,
        files: Arc<GraphFiles>,
        spec: GenerativeSpec,
        answers: Arc<HashMap<String, String>>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            prefill: AihubDevice::new(Arc::clone(&ctx), name, target, ModelKind::Onnx),
            decode: AihubDevice::new(ctx, name, target, ModelKind::Onnx),
            files,
            spec,
            answers,
            ready: OnceCell::new(),
            prepared: Mutex::new(None),
        }
    }

    /// The prefill graph's token count and the tokenizer, read once; a graph that does not
    /// take `input_ids` [1, N] is refused before any job.
    async fn ready(&self) -> Result<(PrefillShape, Arc<Tokenizer>), DeviceError> {
        self.ready
            .get_or_init(|| async {
                let path = self.files.prefill.path.clone();
                let tokenizer = self.spec.tokenizer.clone();
                tokio::task::spawn_blocking(move || {
                    let shape = prefill_shape(&path)?;
                    let tok = tokenizer.map_err(DeviceError::InvalidModel)?;
                    let tok = crate::generate::load_tokenizer(&tok)
                        .map_err(|e| DeviceError::InvalidModel(e.to_string()))?;
                    Ok((shape, Arc::new(tok)))
                })
                .await
                .map_err(|e| {
                    DeviceError::Other(format!("reading the prefill graph crashed: {e}"))
                })?
            })
            .await
            .clone()
    }

    fn inner(&self) -> Result<(Prepared, Prepared), DeviceError> {
        self.prepared
            .lock()
            .ok()
            .and_then(|g| g.clone())
            .ok_or_else(|| {
                DeviceError::Other(format!(
                    "device `{}` has not prepared the graphs; call prepare first",
                    self.name
                ))
            })
    }
}

/// `input_ids` [1, N] of an integer type, and nothing else the runtime would not feed.
fn prefill_shape(path: &Path) -> Result<PrefillShape, DeviceError> {
    let inputs = graph_inputs::read(path).map_err(DeviceError::InvalidModel)?;
    let shown = path.display();
    let Some(ids) = inputs.iter().find(|i| i.name == "input_ids") else {
        return Err(DeviceError::InvalidModel(format!(
            "{shown}: the prefill graph has no input `input_ids` (inputs: {}); it takes the prompt's token ids as `input_ids` [1, N]",
            inputs
                .iter()
                .map(|i| format!("`{}`", i.name))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let dtype = match ids.elem_type {
        INT64 => DType::I64,
        INT32 => DType::I32,
        _ => {
            return Err(DeviceError::InvalidModel(format!(
                "{shown}: `input_ids` of the prefill graph is not int64 or int32"
            )));
        }
    };
    let tokens = match ids.dims.as_slice() {
        [Some(1), Some(n)] if (1..=MAX_PREFILL_TOKENS).contains(n) => *n as usize,
        _ => {
            return Err(DeviceError::InvalidModel(format!(
                "{shown}: `input_ids` of the prefill graph must have the fixed shape [1, N] (N tokens processed at once), but it is [{}]; export it with a fixed sequence length (see examples/llm/make_graphs.py)",
                ids.dims
                    .iter()
                    .map(|d| d.map_or("?".to_string(), |d| d.to_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    };
    Ok(PrefillShape {
        tokens,
        dtype,
        other_inputs: inputs
            .iter()
            .filter(|i| i.name != "input_ids")
            .map(|i| i.name.clone())
            .collect(),
    })
}

#[async_trait]
impl Device for AihubLlmDevice {
    fn name(&self) -> &str {
        &self.name
    }

    async fn prepare(&self, _model: &ModelArtifact) -> Result<Prepared, DeviceError> {
        self.ready().await?;
        let (p, d) = tokio::join!(
            self.prefill.prepare(&self.files.prefill),
            self.decode.prepare(&self.files.decode)
        );
        let (p, d) = (p?, d?);
        let combined = Prepared {
            target_id: format!("{}+{}", p.target_id, d.target_id),
            jobs: p.jobs.iter().chain(&d.jobs).cloned().collect(),
            model_size_bytes: p
                .model_size_bytes
                .zip(d.model_size_bytes)
                .map(|(a, b)| a + b),
        };
        if let Ok(mut g) = self.prepared.lock() {
            *g = Some((p, d));
        }
        Ok(combined)
    }

    async fn profile(
        &self,
        _prepared: &Prepared,
        cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<ProfileResult, DeviceError> {
        let (shape, tokenizer) = self.ready().await?;
        let (pp, dp) = self.inner()?;
        let (p, d) = tokio::join!(
            self.prefill.profile(&pp, &[], settings),
            self.decode.profile(&dp, &[], settings)
        );
        let (p, d) = (p?, d?);
        let prompt_tokens = cases
            .iter()
            .filter_map(|c| c.prompt.as_deref())
            .filter_map(|prompt| tokenizer.encode(prompt, true).ok())
            .map(|e| e.get_ids().len())
            .collect();
        let layers = match (p.layers, d.layers) {
            (Some(a), Some(b)) => Some(LayerCounts {
                npu: a.npu + b.npu,
                gpu: a.gpu + b.gpu,
                cpu: a.cpu + b.cpu,
            }),
            (a, b) => a.or(b),
        };
        Ok(ProfileResult {
            inference_ms: Vec::new(),
            load_time_ms: p.load_time_ms.zip(d.load_time_ms).map(|(a, b)| a + b),
            peak_memory_bytes: p.peak_memory_bytes.max(d.peak_memory_bytes),
            layers,
            model_size_bytes: p
                .model_size_bytes
                .zip(d.model_size_bytes)
                .map(|(a, b)| a + b),
            jobs: p.jobs.into_iter().chain(d.jobs).collect(),
            generation: None,
            graphs: Some(GraphTimes {
                prefill_ms: p.inference_ms,
                decode_ms: d.inference_ms,
                prefill_tokens: shape.tokens,
                prompt_tokens,
            }),
        })
    }

    async fn infer(
        &self,
        _prepared: &Prepared,
        cases: &[CaseInputs],
        settings: &RunSettings,
    ) -> Result<InferResult, DeviceError> {
        let (shape, tokenizer) = self.ready().await?;
        let (pp, _) = self.inner()?;
        let forced = teacher_forced(cases, &self.answers, &tokenizer, shape)?;
        if forced.samples.is_empty() {
            return Ok(InferResult {
                notes: forced.notes,
                ..InferResult::default()
            });
        }
        let r = self.prefill.infer(&pp, &forced.samples, settings).await?;
        let mut notes = forced.notes;
        let mut outputs = Vec::new();
        for plan in &forced.cases {
            let mut best: Option<Followed> = None;
            for (k, candidate) in plan.candidates.iter().enumerate() {
                let id = sample_id(&plan.case_id, k);
                let Some(out) = r.outputs.iter().find(|o| o.case_id == id) else {
                    return Err(DeviceError::Other(format!(
                        "the inference job returned no output for case {}",
                        plan.case_id
                    )));
                };
                let preds = next_tokens(out, plan.prompt_len, candidate.len())?;
                let f = follow(&preds, candidate, &self.spec.settings, &tokenizer);
                if best.as_ref().is_none_or(|b| f.agreed > b.agreed) {
                    best = Some(f);
                }
            }
            let Some(f) = best else { continue };
            if let Some(note) = &f.note {
                notes.push((plan.case_id.clone(), note.clone()));
            }
            outputs.push(text_output(&plan.case_id, &f)?);
        }
        Ok(InferResult {
            outputs,
            jobs: r.jobs,
            notes,
        })
    }
}

/// The digest of the teacher-forced inputs a run would upload for `cases` (the inference job's
/// cache key), or `None` when they cannot be built (the plan then leaves the job as new).
pub fn forced_inputs_digest(
    files: &GraphFiles,
    spec: &GenerativeSpec,
    answers: &HashMap<String, String>,
    cases: &[CaseInputs],
) -> Option<String> {
    let shape = prefill_shape(&files.prefill.path).ok()?;
    let tokenizer = crate::generate::load_tokenizer(spec.tokenizer.as_ref().ok()?).ok()?;
    let forced = teacher_forced(cases, answers, &tokenizer, shape).ok()?;
    Some(super::aihub::digest_inputs(&forced.samples))
}

/// The cases to teacher-force, their samples (one per answer candidate) and the notes of the
/// cases left out.
struct Forced {
    cases: Vec<ForcedCase>,
    samples: Vec<CaseInputs>,
    notes: Vec<(String, String)>,
}

struct ForcedCase {
    case_id: String,
    prompt_len: usize,
    /// The answer's token ids, as written and with a leading space.
    candidates: Vec<Vec<u32>>,
}

fn sample_id(case: &str, k: usize) -> String {
    format!("{case}#{k}")
}

fn teacher_forced(
    cases: &[CaseInputs],
    answers: &HashMap<String, String>,
    tokenizer: &Tokenizer,
    shape: PrefillShape,
) -> Result<Forced, DeviceError> {
    let mut forced = Forced {
        cases: Vec::new(),
        samples: Vec::new(),
        notes: Vec::new(),
    };
    let n = shape.tokens;
    let blocked = forcing_blocked(&shape);
    for c in cases {
        let Some(prompt) = c.prompt.as_deref() else {
            continue;
        };
        if let Some(why) = &blocked {
            forced.notes.push((c.case_id.clone(), why.clone()));
            continue;
        }
        let Some(answer) = answers.get(&c.case_id) else {
            forced
                .notes
                .push((c.case_id.clone(), NEEDS_EXACT.to_string()));
            continue;
        };
        let encode = |text: &str, special: bool| -> Result<Vec<u32>, DeviceError> {
            tokenizer
                .encode(text, special)
                .map(|e| e.get_ids().to_vec())
                .map_err(|e| {
                    DeviceError::InvalidInput(format!(
                        "case {}: cannot be tokenized: {e}",
                        c.case_id
                    ))
                })
        };
        let prompt_ids = encode(prompt, true)?;
        let mut texts = vec![answer.clone()];
        if !answer.starts_with(char::is_whitespace) {
            texts.push(format!(" {answer}"));
        }
        let mut candidates = Vec::new();
        for t in &texts {
            let ids = encode(t, false)?;
            if !candidates.contains(&ids) {
                candidates.push(ids);
            }
        }
        let longest = candidates.iter().map(Vec::len).max().unwrap_or(0);
        if prompt_ids.is_empty() || candidates.iter().any(Vec::is_empty) {
            forced.notes.push((
                c.case_id.clone(),
                "not run on AI Hub: the prompt or the answer tokenizes to no tokens".to_string(),
            ));
            continue;
        }
        if prompt_ids.len() + longest > n {
            forced.notes.push((
                c.case_id.clone(),
                format!(
                    "not run on AI Hub: the prompt ({} tokens) and its answer ({longest} tokens) are longer than the {n} tokens the prefill graph takes, so one inference cannot check it; shorten them or export the prefill graph with more tokens",
                    prompt_ids.len()
                ),
            ));
            continue;
        }
        for (k, cand) in candidates.iter().enumerate() {
            let mut ids: Vec<i64> = prompt_ids
                .iter()
                .chain(cand)
                .map(|&t| i64::from(t))
                .collect();
            ids.resize(n, 0);
            let values = match shape.dtype {
                DType::I32 => Values::I32(ids.iter().map(|&x| x as i32).collect()),
                _ => Values::I64(ids),
            };
            let t = Tensor::from_values(vec![1, n], values)
                .map_err(|e| DeviceError::InvalidInput(e.to_string()))?;
            forced.samples.push(CaseInputs {
                case_id: sample_id(&c.case_id, k),
                prompt: None,
                tensors: vec![("input_ids".to_string(), t)],
            });
        }
        forced.cases.push(ForcedCase {
            case_id: c.case_id.clone(),
            prompt_len: prompt_ids.len(),
            candidates,
        });
    }
    Ok(forced)
}

/// The skip reason of a case without an `exact` answer on an AI Hub generative device.
pub const NEEDS_EXACT: &str = "not run on AI Hub: a generative model is checked there by teacher forcing (the prompt followed by its answer, every next-token argmax compared), which needs an `exact` answer; this case's check runs on the host device";

/// The argmax of the logits at each position from the prompt's last token to the answer's last:
/// the token greedy decoding would choose next at each step.
fn next_tokens(
    out: &CaseOutput,
    prompt_len: usize,
    answer_len: usize,
) -> Result<Vec<u32>, DeviceError> {
    // `logits`; a compiler may rename it (`logits_0`, `output_logits`), so else the first
    // output of rank 3 ([1, N, vocab]), never a KV-cache output (rank 4).
    let (name, logits) = out
        .outputs
        .iter()
        .find(|(n, _)| n == "logits")
        .or_else(|| out.outputs.iter().find(|(n, _)| n.contains("logits")))
        .or_else(|| out.outputs.iter().find(|(_, t)| t.shape().len() == 3))
        .ok_or_else(|| DeviceError::Other("the prefill graph returned no `logits`".into()))?;
    let shape = logits.shape();
    let vocab = shape.last().copied().unwrap_or(0);
    let positions = logits.len().checked_div(vocab).unwrap_or(0);
    let last = prompt_len + answer_len;
    if vocab == 0 || !matches!(logits.dtype(), DType::F32 | DType::F16) || positions < last {
        return Err(DeviceError::InvalidModel(format!(
            "the prefill graph's output `{name}` is {} {shape:?}; teacher forcing needs `logits` [1, N, vocab] with a score for every position",
            logits.dtype()
        )));
    }
    let scores = logits.to_f64_vec();
    Ok((prompt_len - 1..last)
        .map(|p| crate::generate::argmax(&scores[p * vocab..(p + 1) * vocab]) as u32)
        .collect())
}

/// What greedy decoding would produce, replayed on teacher-forced argmaxes.
#[derive(Debug, Clone, PartialEq)]
struct Followed {
    /// The generated tokens greedy decoding is known to produce (stop token excluded).
    tokens: Vec<u32>,
    text: String,
    /// Answer tokens predicted in a row, plus one when generation then stops.
    agreed: usize,
    /// Why the output differs from the answer, when it does.
    note: Option<String>,
}

/// Replays the host's greedy loop (`crate::generate`) with `preds[k]` as the token chosen at
/// step k, as long as the steps before followed the answer: stop token ids, stop strings and
/// `max_new_tokens` end it as they would on the host.
fn follow(preds: &[u32], answer: &[u32], settings: &GenerationSpec, tok: &Tokenizer) -> Followed {
    let max_new = settings.max_new_tokens.clamp(1, MAX_NEW_TOKENS) as usize;
    let decode = |ids: &[u32]| tok.decode(ids, true).unwrap_or_default();
    let piece = |id: u32| format!("`{}` (id {id})", decode(&[id]).escape_debug());
    let mut tokens = Vec::new();
    let mut text = String::new();
    for (step, &next) in preds.iter().enumerate() {
        let done = |tokens: Vec<u32>, text: String, note: Option<String>| Followed {
            agreed: step + usize::from(step == answer.len()),
            tokens,
            text,
            note,
        };
        if step >= max_new {
            return done(tokens, text, None);
        }
        if settings.stop_token_ids.contains(&next) {
            let note = (step < answer.len()).then(|| {
                format!(
                    "teacher forcing on AI Hub: after {step} of the answer's {} tokens the model chose stop token {next} instead of {}",
                    answer.len(),
                    piece(answer[step])
                )
            });
            return done(tokens, text, note);
        }
        tokens.push(next);
        text = decode(&tokens);
        if let Some(at) = settings
            .stop
            .iter()
            .filter_map(|s| text.find(s.as_str()))
            .min()
        {
            text.truncate(at);
            return done(tokens, text, None);
        }
        if step < answer.len() && next != answer[step] {
            return Followed {
                agreed: step,
                note: Some(format!(
                    "teacher forcing on AI Hub: answer token {} of {} is {}, but the model's most likely next token there is {}",
                    step + 1,
                    answer.len(),
                    piece(answer[step]),
                    piece(next)
                )),
                tokens,
                text,
            };
        }
    }
    Followed {
        agreed: answer.len(),
        note: Some(format!(
            "teacher forcing on AI Hub: the answer was followed by {} instead of a stop, so greedy decoding goes on past it",
            preds.last().map_or_else(String::new, |&t| piece(t))
        )),
        tokens,
        text,
    }
}

/// A case's output as the host device gives it: `text` (UTF-8 bytes) and `tokens`.
fn text_output(case_id: &str, f: &Followed) -> Result<CaseOutput, DeviceError> {
    Ok(CaseOutput {
        case_id: case_id.to_string(),
        outputs: super::generative::generation_outputs(&f.text, &f.tokens)?,
        latency_ms: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokenizer() -> Tokenizer {
        crate::generate::load_tokenizer(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/llm/tokenizer.json"),
        )
        .expect("tokenizer")
    }

    fn settings(stop: &[&str], stop_ids: &[u32], max: u32) -> GenerationSpec {
        GenerationSpec {
            max_new_tokens: max,
            stop: stop.iter().map(|s| s.to_string()).collect(),
            stop_token_ids: stop_ids.to_vec(),
        }
    }

    fn ids(tok: &Tokenizer, text: &str) -> Vec<u32> {
        tok.encode(text, false).expect("encode").get_ids().to_vec()
    }

    #[test]
    fn an_answer_followed_by_a_stop_string_is_what_greedy_decoding_produces() {
        let tok = tokenizer();
        let answer = ids(&tok, " paris.");
        let mut preds = answer.clone();
        preds.extend(ids(&tok, "\n"));
        let f = follow(&preds, &answer, &settings(&["\n"], &[], 24), &tok);
        assert_eq!(f.text, " paris.");
        assert_eq!(
            f.tokens.len(),
            answer.len() + 1,
            "the stop string's token is generated"
        );
        assert_eq!(f.agreed, answer.len() + 1);
        assert_eq!(f.note, None);
    }

    #[test]
    fn a_stop_token_or_max_new_tokens_also_ends_the_answer() {
        let tok = tokenizer();
        let answer = ids(&tok, " paris.");
        let mut preds = answer.clone();
        preds.push(0);
        let f = follow(&preds, &answer, &settings(&[], &[0], 24), &tok);
        assert_eq!((f.text.as_str(), f.note.as_ref()), (" paris.", None));
        let n = answer.len() as u32;
        let f = follow(&preds, &answer, &settings(&[], &[], n), &tok);
        assert_eq!((f.text.as_str(), f.note.as_ref()), (" paris.", None));
    }

    #[test]
    fn the_first_wrong_token_ends_what_is_known_and_is_named() {
        let tok = tokenizer();
        let answer = ids(&tok, " parts.");
        let preds = ids(&tok, " paris.\n");
        let f = follow(&preds, &answer, &settings(&["\n"], &[], 24), &tok);
        assert_eq!(f.text, " pari");
        assert_eq!(f.agreed, 3);
        let note = f.note.expect("note");
        assert!(note.contains("answer token 4 of 6 is `t`"), "{note}");
    }

    #[test]
    fn an_answer_the_model_runs_past_is_not_a_pass() {
        let tok = tokenizer();
        let answer = ids(&tok, " paris");
        let preds = ids(&tok, " paris.");
        let f = follow(&preds, &answer, &settings(&["\n"], &[], 24), &tok);
        assert_eq!(f.text, " paris.", "greedy goes on past the answer");
        assert!(f.note.expect("note").contains("instead of a stop"));
        let early = ids(&tok, " pa");
        let mut preds = early.clone();
        preds.push(0);
        let f = follow(&preds, &answer, &settings(&[], &[0], 24), &tok);
        assert_eq!(f.text, " pa");
        assert!(f.note.expect("note").contains("chose stop token 0"));
    }

    #[test]
    fn prompts_and_answers_longer_than_the_prefill_graph_are_noted_not_sent() {
        let tok = tokenizer();
        let cases = vec![
            CaseInputs {
                case_id: "fits".into(),
                prompt: Some("the capital of france is".into()),
                tensors: Vec::new(),
            },
            CaseInputs {
                case_id: "long".into(),
                prompt: Some("the capital of france is ".repeat(8)),
                tensors: Vec::new(),
            },
            CaseInputs {
                case_id: "regex".into(),
                prompt: Some("water boils at".into()),
                tensors: Vec::new(),
            },
        ];
        let answers: HashMap<String, String> = [("fits", "paris."), ("long", "paris.")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let shape = PrefillShape {
            tokens: 32,
            dtype: DType::I64,
            other_inputs: Vec::new(),
        };
        let f = teacher_forced(&cases, &answers, &tok, shape.clone()).expect("forced");
        assert_eq!(f.cases.len(), 1);
        assert_eq!(
            f.cases[0].candidates.len(),
            2,
            "as written and with a leading space"
        );
        assert_eq!(f.samples.len(), 2);
        assert_eq!(f.samples[0].tensors[0].1.shape(), &[1, 32]);
        assert_eq!(f.notes.len(), 2);
        assert!(
            f.notes[0].1.contains("longer than the 32 tokens"),
            "{:?}",
            f.notes
        );
        assert_eq!(f.notes[1].1, NEEDS_EXACT);
    }
}
