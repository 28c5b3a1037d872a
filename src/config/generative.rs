//! The checks of a generative model's config (`model.tokenizer`, `model.generation`): the
//! tokenizer file is inside the project and exists, generation settings belong with a tokenizer,
//! the model is ONNX, and stop settings are usable. Reading and running the tokenizer is
//! `crate::generate`; this file only checks what the config says.

use std::path::Path;

use super::check::{Checker, Site};
use super::types::{Config, ModelKind};

/// Most stop strings and stop token ids, each.
pub const MAX_STOPS: usize = 64;

impl Checker {
    /// Checks `model.tokenizer` and `model.generation`; `kind` is the model's format when known.
    pub(super) fn check_generative(
        &mut self,
        config: &Config,
        site: &Site,
        kind: Option<ModelKind>,
    ) {
        let model = &config.model;
        self.generative = model.tokenizer.is_some();
        let Some(tokenizer) = &model.tokenizer else {
            if model.generation.is_some() {
                self.diags.push(
                    site.error_at_key("/model/generation", "`generation` needs `model.tokenizer`")
                        .with_help("add `tokenizer: tokenizer.json` (the model's Hugging Face tokenizer file) beside `path:`, or remove `generation`"),
                );
            }
            return;
        };
        if let Some(kind) = kind
            && kind != ModelKind::Onnx
        {
            self.diags.push(
                site.error("/model/tokenizer", format!("a generative model runs on the local device, which runs ONNX only, but the model is {}", kind.as_str()))
                    .with_help("export the decoder to ONNX (`input_ids` → `logits`), or remove `tokenizer`"),
            );
        }
        let base_dir = site.file.parent().unwrap_or(Path::new(""));
        if let Some(path) = self.resolve(
            site,
            "/model/tokenizer",
            base_dir,
            tokenizer,
            "tokenizer file",
        ) && !path.is_file()
        {
            self.diags.push(
                site.error("/model/tokenizer", format!("tokenizer file `{tokenizer}` does not exist"))
                    .with_help(format!(
                        "the path is relative to the config file's folder (looked for `{}`); it is the model's Hugging Face `tokenizer.json`",
                        path.display()
                    )),
            );
        }
        if let Some(g) = &model.generation {
            if g.stop.len() > MAX_STOPS || g.stop_token_ids.len() > MAX_STOPS {
                self.diags.push(
                    site.error_at_key(
                        "/model/generation",
                        format!("at most {MAX_STOPS} stop strings and {MAX_STOPS} stop token ids"),
                    )
                    .with_help("keep the stops that end an answer"),
                );
            }
            if let Some(i) = g.stop.iter().position(String::is_empty) {
                self.diags.push(
                    site.error(
                        &format!("/model/generation/stop/{i}"),
                        "an empty stop string would stop before the first token",
                    )
                    .with_help("remove it, or give the text that ends an answer, e.g. \"\\n\""),
                );
            }
        }
    }
}
