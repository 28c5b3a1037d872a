//! The typed model of a promptpack: a versioned set of test cases, each an input with an expected
//! output check. Field names match the `/v1` promptpack API (`promptpack_id`, `version`, `name`,
//! `cases` with `case_id`, `name`, `prompt`, `expected`).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A versioned, immutable-once-published set of test cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "EdgeGate promptpack")]
pub struct Promptpack {
    /// Stable id: letters, digits, `.`, `_` and `-`. Example: `vision-qa`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"), length(max = 128))]
    pub promptpack_id: String,
    /// Semantic version of this set of cases. Example: `1.0.0`.
    #[schemars(regex(
        pattern = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
    ))]
    pub version: String,
    /// Human-readable name. Example: `Vision QA Suite`.
    #[schemars(length(min = 1))]
    pub name: String,
    /// What these cases cover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Path to a labels file (one label per line, line N = class index N), relative to the promptpack and inside the project; used by `label` and `top_k`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub labels: Option<String>,
    /// Generation settings applied to every case (generative models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<GenerationDefaults>,
    /// The test cases. `case_id`s are unique.
    #[schemars(length(min = 1))]
    pub cases: Vec<Case>,
}

/// Generation settings for generative models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerationDefaults {
    /// Upper bound on generated tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_new_tokens: Option<u32>,
    /// Sampling temperature, 0 (greedy) to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 2))]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1))]
    pub top_p: Option<f64>,
    /// Random seed, for reproducible sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// One test case: an input and the check its output must pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique id within the promptpack: letters, digits, `.`, `_` and `-`. Example: `detect_object`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"), length(max = 128))]
    pub case_id: String,
    /// Human-readable name (defaults to `case_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Text input, for models that take text. Example: `What is in this image?`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Named input tensors, from `.npy` files or images, in the model's input order.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub inputs: IndexMap<String, CaseInput>,
    /// What the output must satisfy.
    pub expected: Expected,
}

/// What to add to a case that `skip_reason` names, so that it runs.
pub const SKIPPED_CASE_HELP: &str = "add `inputs:` (npy or image) to run it";

impl Case {
    /// Why this case cannot be given to the model, so it is skipped rather than sent to a device:
    /// every model kind today takes tensors, and a case without `inputs:` has none to give.
    pub fn skip_reason(&self) -> Option<&'static str> {
        self.skip_reason_for(false)
    }

    /// `skip_reason` for a model that is `generative` (`model.tokenizer`): such a model takes
    /// the `prompt`, so a case with a prompt runs without `inputs:`.
    pub fn skip_reason_for(&self, generative: bool) -> Option<&'static str> {
        if !self.inputs.is_empty() || (generative && self.prompt.is_some()) {
            return None;
        }
        Some(match self.prompt {
            Some(_) => "it has a text `prompt` but no `inputs:`, and the model takes input tensors",
            None => "it has no `inputs:`, and the model takes input tensors",
        })
    }

    /// The reason a skipped case carries in results.json and every report.
    pub fn skip_text(&self) -> Option<String> {
        self.skip_text_for(false)
    }

    /// `skip_text` for a model that is `generative` or not (see `skip_reason_for`).
    pub fn skip_text_for(&self, generative: bool) -> Option<String> {
        self.skip_reason_for(generative)
            .map(|r| format!("not run: {r}; {SKIPPED_CASE_HELP}"))
    }
}

/// One input tensor: give either `npy` or `image`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["npy"], "not": {"anyOf": [
        {"required": ["resize"]}, {"required": ["mean"]}, {"required": ["std"]},
        {"required": ["layout"]}, {"required": ["grayscale"]}
    ]}},
    {"required": ["image"]}
]))]
pub struct CaseInput {
    /// A NumPy `.npy` file holding the tensor, relative to the promptpack and inside the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub npy: Option<String>,
    /// A PNG or JPEG image, relative to the promptpack and inside the project; decoded, resized and normalised into a float tensor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub image: Option<String>,
    /// Resize the image to `[height, width]` pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(inner(range(min = 1, max = 16384)))]
    pub resize: Option<[u32; 2]>,
    /// Per-channel mean subtracted after scaling pixels to 0..1. Example: `[0.485, 0.456, 0.406]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4))]
    pub mean: Option<Vec<f64>>,
    /// Per-channel standard deviation divided by after subtracting `mean`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4))]
    pub std: Option<Vec<f64>>,
    /// Tensor layout: `nchw` (default) or `nhwc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<Layout>,
    /// Convert the image to one channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grayscale: Option<bool>,
}

/// Tensor layout of an image input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    Nchw,
    Nhwc,
}

/// What a case's output must satisfy, chosen by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expected {
    /// The output text equals `text`, after trimming and collapsing whitespace and ignoring case unless turned off.
    Exact {
        /// The expected text.
        text: String,
        /// Compare without regard to letter case (default true).
        #[serde(default = "yes")]
        ignore_case: bool,
        /// Trim the ends and collapse runs of whitespace before comparing (default true).
        #[serde(default = "yes")]
        normalize_whitespace: bool,
    },
    /// The output text contains `text`.
    Contains {
        /// The text that must appear.
        #[schemars(length(min = 1))]
        text: String,
        /// Compare without regard to letter case (default true).
        #[serde(default = "yes")]
        ignore_case: bool,
    },
    /// The output text matches a regular expression (Rust `regex` syntax).
    Regex {
        /// The pattern; unanchored unless it uses `^`/`$`.
        #[schemars(length(min = 1))]
        pattern: String,
    },
    /// The output text is JSON that validates against a JSON schema.
    JsonSchema {
        /// The JSON schema (an object).
        schema: serde_json::Map<String, serde_json::Value>,
    },
    /// The top-1 class of a classifier output is `label`.
    Label {
        /// The expected label (a line of the promptpack's labels file, or a class index).
        #[schemars(length(min = 1))]
        label: String,
        /// Which model output holds the scores (default: the first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// `label` is among the `k` highest-scoring classes.
    TopK {
        /// The expected label.
        #[schemars(length(min = 1))]
        label: String,
        /// How many top classes count.
        #[schemars(range(min = 1, max = 1000))]
        k: u32,
        /// Which model output holds the scores (default: the first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// An output tensor is close to a reference `.npy` tensor.
    Tensor {
        /// The reference `.npy` file, relative to the promptpack and inside the project.
        #[schemars(length(min = 1))]
        reference: String,
        /// Which model output to compare (default: the first).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
        /// Absolute tolerance per element: |a - r| <= atol + rtol * |r|. Defaults to 1e-5 when no criterion is given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(range(min = 0))]
        atol: Option<f64>,
        /// Relative tolerance per element. Defaults to 1e-3 when no criterion is given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(range(min = 0))]
        rtol: Option<f64>,
        /// Minimum cosine similarity, -1 to 1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(range(min = -1, max = 1))]
        min_cosine: Option<f64>,
        /// Minimum peak signal-to-noise ratio, dB.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(range(min = 0))]
        min_psnr_db: Option<f64>,
    },
    /// No check: the case is run and measured only.
    None {},
}

fn yes() -> bool {
    true
}

impl Expected {
    /// The `type` name used in files.
    pub fn type_name(&self) -> &'static str {
        match self {
            Expected::Exact { .. } => "exact",
            Expected::Contains { .. } => "contains",
            Expected::Regex { .. } => "regex",
            Expected::JsonSchema { .. } => "json_schema",
            Expected::Label { .. } => "label",
            Expected::TopK { .. } => "top_k",
            Expected::Tensor { .. } => "tensor",
            Expected::None {} => "none",
        }
    }
}
