//! The checks of a generative model's config (`model.tokenizer`, `model.generation`): the
//! tokenizer file is inside the project and exists, generation settings belong with a tokenizer,
//! the model is ONNX, and stop settings are usable. Reading and running the tokenizer is
//! `crate::generate`; this file only checks what the config says.

use std::path::Path;

use super::check::{Checker, Site};
use super::promptpack::{Expected, Promptpack};
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
            for (key, what) in [
                ("/model/generation", "generation"),
                ("/model/graphs", "graphs"),
            ] {
                let given = match what {
                    "generation" => model.generation.is_some(),
                    _ => model.graphs.is_some(),
                };
                if given {
                    self.diags.push(
                        site.error_at_key(key, format!("`{what}` needs `model.tokenizer`"))
                            .with_help(format!("add `tokenizer: tokenizer.json` (the model's Hugging Face tokenizer file) beside `path:`, or remove `{what}`")),
                    );
                }
            }
            return;
        };
        self.check_graphs(config, site);
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

impl Checker {
    /// `model.graphs`: both files ONNX, inside the project and present; required when an AI Hub
    /// device runs a generative model (AI Hub runs the two graphs, not the whole decoder).
    fn check_graphs(&mut self, config: &Config, site: &Site) {
        let model = &config.model;
        let Some(graphs) = &model.graphs else {
            if let Some(d) = config
                .device_matrix
                .iter()
                .find(|d| d.enabled && d.provider == super::types::Provider::Aihub)
            {
                self.diags.push(
                    site.error("/model/tokenizer", format!("device `{}` runs on AI Hub, which runs a generative model as two graphs, and `model.graphs` is missing", d.name))
                        .with_help("add `graphs: { prefill: prefill.onnx, decode: decode.onnx }` (the prompt processor with N tokens and the token generator with 1 token and the KV cache; see examples/llm/make_graphs.py), or disable the AI Hub devices"),
                );
            }
            return;
        };
        let base_dir = site.file.parent().unwrap_or(Path::new(""));
        for (key, file) in [
            ("/model/graphs/prefill", &graphs.prefill),
            ("/model/graphs/decode", &graphs.decode),
        ] {
            if ModelKind::from_path(file) != Some(ModelKind::Onnx) {
                self.diags.push(
                    site.error(key, format!("`{file}` is not an `.onnx` file"))
                        .with_help("export each graph to ONNX with fixed shapes (see examples/llm/make_graphs.py)"),
                );
                continue;
            }
            if let Some(path) = self.resolve(site, key, base_dir, file, "graph file")
                && !path.is_file()
            {
                self.diags.push(
                    site.error(key, format!("graph file `{file}` does not exist"))
                        .with_help(format!(
                            "the path is relative to the config file's folder (looked for `{}`)",
                            path.display()
                        )),
                );
            }
        }
    }
}

impl Checker {
    /// A generative model on AI Hub is checked by teacher forcing, which needs `exact` answers:
    /// one warning naming the cases those devices skip (the host still checks them).
    pub(super) fn check_hub_skips(
        &mut self,
        config: &Config,
        site: &Site,
        pack: Option<&Promptpack>,
    ) {
        let (Some(_), Some(_), Some(pack)) = (&config.model.tokenizer, &config.model.graphs, pack)
        else {
            return;
        };
        let hub: Vec<&str> = config
            .device_matrix
            .iter()
            .filter(|d| d.enabled && d.provider == super::types::Provider::Aihub)
            .map(|d| d.name.as_str())
            .collect();
        let skipped: Vec<&str> = pack
            .cases
            .iter()
            .filter(|c| c.prompt.is_some() && !matches!(c.expected, Expected::Exact { .. }))
            .map(|c| c.case_id.as_str())
            .collect();
        if hub.is_empty() || skipped.is_empty() {
            return;
        }
        let shown: Vec<&str> = skipped.iter().take(8).copied().collect();
        self.diags.push(
            site.warning(
                "/model/graphs",
                format!(
                    "{} of {} cases will be skipped on AI Hub ({}): a generative model is checked there by teacher forcing, which needs an `exact` answer ({}{})",
                    skipped.len(),
                    pack.cases.len(),
                    hub.join(", "),
                    shown.join(", "),
                    if skipped.len() > shown.len() { ", …" } else { "" }
                ),
            )
            .with_help("the host device checks them; give a case `expected: { type: exact, text: … }` to check it on AI Hub too"),
        );
    }
}
