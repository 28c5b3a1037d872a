//! `edgegate generate`: what a generative model says to each prompt on this machine's CPU, one
//! JSON line per case (token ids, text, timings). The same decoder `run` uses on the host
//! device, so its tokens are the ones `run` checks; for looking at answers before writing
//! expectations, and for benchmark scripts.

use std::path::PathBuf;

use crate::config::{LoadFailure, OutsideProject, load_project_with};
use crate::exit;
use crate::generate::{Decoder, GenerativeSpec};
use crate::onnx::OnnxError;

use super::project::{DiagnosticFormat, print_diagnostics};

/// What `edgegate generate` was asked to do.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    /// The config file.
    pub config: PathBuf,
    /// Prompts to use instead of the promptpack's cases.
    pub prompts: Vec<String>,
    /// Untimed generations of each prompt first.
    pub warmup: u32,
    /// Timed generations of each prompt; each prints a line.
    pub repeats: u32,
    /// Whether paths in the config may leave the project.
    pub outside: OutsideProject,
}

/// Prints one JSON line per generation; exit 0, 2 when the config or model is unusable, 3 when
/// a generation fails.
pub fn generate(req: &GenerateRequest) -> i32 {
    let project = match load_project_with(&req.config, req.outside) {
        Ok(p) => p,
        Err(LoadFailure {
            diagnostics,
            sources,
        }) => {
            print_diagnostics(
                &diagnostics,
                &sources,
                DiagnosticFormat::Text,
                &req.config,
                None,
            );
            return exit::INVALID_INPUT;
        }
    };
    let Some(spec) = GenerativeSpec::for_project(&project) else {
        eprintln!(
            "error: {} does not describe a generative model\nhelp: add `model.tokenizer` (the model's tokenizer.json); see the README, \"Generative models on the host\"",
            req.config.display()
        );
        return exit::INVALID_INPUT;
    };
    let decoder = match Decoder::load(&project.model_path, &spec) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let cases: Vec<(String, String)> = if req.prompts.is_empty() {
        project
            .promptpack
            .iter()
            .flat_map(|p| &p.cases)
            .filter_map(|c| c.prompt.clone().map(|p| (c.case_id.clone(), p)))
            .collect()
    } else {
        req.prompts
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("prompt_{}", i + 1), p.clone()))
            .collect()
    };
    let mut session = match decoder.session() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::COULD_NOT_COMPLETE;
        }
    };
    for (case, prompt) in &cases {
        for _ in 0..req.warmup {
            if let Err(e) = decoder.generate(&mut session, case, prompt) {
                return failed(&e);
            }
        }
        for _ in 0..req.repeats.max(1) {
            let g = match decoder.generate(&mut session, case, prompt) {
                Ok(g) => g,
                Err(e) => return failed(&e),
            };
            let line = serde_json::json!({
                "case_id": case,
                "prompt": prompt,
                "prompt_tokens": g.prompt_tokens,
                "tokens": g.tokens,
                "text": g.text,
                "ttft_ms": g.ttft_ms,
                "tps": g.tps(),
                "prefill_tps": g.prefill_tps(),
                "kv_cache": decoder.has_kv_cache(),
            });
            println!("{line}");
        }
    }
    exit::PASSED
}

fn failed(e: &OnnxError) -> i32 {
    eprintln!("error: {e}");
    match e {
        OnnxError::InvalidModel(_) | OnnxError::InvalidInput(_) => exit::INVALID_INPUT,
        OnnxError::Run(_) => exit::COULD_NOT_COMPLETE,
    }
}
