//! The checks of a parsed config and promptpack that a schema cannot express: unique ids and
//! names, references between sections (gates → devices, labels), files on disk, regexes and
//! JSON schemas that must compile, and what each device provider can measure. Each problem
//! becomes a diagnostic at its position. Reads no YAML itself: `load.rs` parses and calls here,
//! and this file never imports it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::catalog::{self, Resolution};
use super::diagnostic::Diagnostic;
use super::matrix::MatrixDevice;
use super::paths::{JOB_CACHE_FILE, PathError, PathPolicy};
use super::promptpack::{Case, Expected, Promptpack};
use super::schema_errors::{backticked, suggest};
use super::types::{Config, ModelKind, Operator, Provider};
use super::yaml::{SpannedDoc, escape_segment};

/// Where a document sits: its file, its parsed positions, and the pointer prefix of the part checked.
pub(super) struct Site<'a> {
    pub(super) file: &'a Path,
    pub(super) doc: &'a SpannedDoc,
    pub(super) prefix: String,
}

impl Site<'_> {
    /// The JSON pointer of `rel` inside this part.
    fn at(&self, rel: &str) -> String {
        format!("{}{rel}", self.prefix)
    }

    /// An error at the value of `rel`.
    pub(super) fn error(&self, rel: &str, message: impl Into<String>) -> Diagnostic {
        let p = self.at(rel);
        Diagnostic::error(self.file, Some(self.doc.pos_of_value(&p)), &p, message)
    }

    /// An error at the key of `rel` (for a section whose value is the problem as a whole).
    pub(super) fn error_at_key(&self, rel: &str, message: impl Into<String>) -> Diagnostic {
        let p = self.at(rel);
        Diagnostic::error(self.file, Some(self.doc.pos_of_key(&p)), &p, message)
    }

    /// A warning at the value of `rel`.
    pub(super) fn warning(&self, rel: &str, message: impl Into<String>) -> Diagnostic {
        let p = self.at(rel);
        Diagnostic::warning(self.file, Some(self.doc.pos_of_value(&p)), &p, message)
    }
}

/// The semantic checks of one load, with the diagnostics they found.
pub(super) struct Checker {
    /// Every problem found so far, parsing included (the loader adds its own).
    pub(super) diags: Vec<Diagnostic>,
    /// The rule every path named in the config or promptpack goes through.
    pub(super) paths: PathPolicy,
    /// Whether the config's model is generative (`model.tokenizer`): its cases run on prompts.
    pub(super) generative: bool,
    /// The regexes checked that do not compile, with their error (a valid one is not kept:
    /// thousands of cases may each have their own).
    pattern_errors: HashMap<String, String>,
    /// Paths already resolved, by folder and name: cases often name the same input files, and
    /// each resolution walks the file system.
    resolved: HashMap<PathBuf, HashMap<String, Result<PathBuf, PathError>>>,
}

impl Checker {
    /// A checker with no findings yet.
    pub(super) fn new(paths: PathPolicy) -> Self {
        Self {
            diags: Vec::new(),
            paths,
            generative: false,
            pattern_errors: HashMap::new(),
            resolved: HashMap::new(),
        }
    }

    /// `named` resolved against `dir` under the project's path policy; a refusal becomes an
    /// error at `rel` of `site`.
    pub(super) fn resolve(
        &mut self,
        site: &Site,
        rel: impl Pointer,
        dir: &Path,
        named: &str,
        what: &str,
    ) -> Option<PathBuf> {
        let in_dir = match self.resolved.get_mut(dir) {
            Some(names) => names,
            None => self.resolved.entry(dir.to_path_buf()).or_default(),
        };
        let resolved = match in_dir.get(named) {
            Some(known) => known.clone(),
            None => {
                let fresh = self.paths.resolve(dir, named);
                in_dir.insert(named.to_string(), fresh.clone());
                fresh
            }
        };
        match resolved {
            Ok(p) => Some(p),
            Err(e) => {
                self.diags.push(
                    site.error(&rel.pointer(), format!("{what} {e}"))
                        .with_help(self.paths.help()),
                );
                None
            }
        }
    }

    /// The `report:` outputs must be written inside the project.
    pub(super) fn check_report(&mut self, config: &Config, site: &Site, base_dir: &Path) {
        let outputs = [
            ("json", &config.report.json),
            ("junit", &config.report.junit),
            ("markdown", &config.report.markdown),
        ];
        for (key, named) in outputs {
            if let Some(named) = named
                && let Err(e) = self.paths.resolve(base_dir, named)
            {
                self.diags.push(
                    site.error(&format!("/report/{key}"), format!("report file {e}"))
                        .with_help(self.paths.output_help(&format!("--{key}"))),
                );
            }
        }
    }

    /// The job cache beside the config must stay inside the project (a `.edgegate` symlink
    /// pointing elsewhere would have runs write there).
    pub(super) fn check_cache(&mut self, config_path: &Path, base_dir: &Path) -> Option<PathBuf> {
        match self.paths.resolve(base_dir, JOB_CACHE_FILE) {
            Ok(p) => Some(p),
            Err(e) => {
                self.diags.push(
                    Diagnostic::error(config_path, None, "", format!("the job cache {e}"))
                        .with_help(self.paths.advice(
                            "make `.edgegate/` beside the config a folder inside the project",
                        )),
                );
                None
            }
        }
    }

    pub(super) fn check_model(
        &mut self,
        config: &Config,
        site: &Site,
        model_path: &Path,
    ) -> Option<ModelKind> {
        if !model_path.is_file() {
            let msg = if model_path.is_dir() {
                format!(
                    "model `{}` is a folder, not a model file",
                    config.model.path
                )
            } else {
                format!("model file `{}` does not exist", config.model.path)
            };
            self.diags
                .push(site.error("/model/path", msg).with_help(format!(
                    "the path is relative to the config file's folder (looked for `{}`)",
                    model_path.display()
                )));
        }
        let kind = config
            .model
            .kind
            .or_else(|| ModelKind::from_path(&config.model.path));
        let Some(kind) = kind else {
            self.check_generative(config, site, None);
            self.diags.push(
                site.error(
                    "/model/path",
                    format!(
                        "cannot tell the format of `{}` from its extension",
                        config.model.path
                    ),
                )
                .with_help("add `kind:` (onnx, tflite, torchscript, qnn_dlc, qnn_context_binary)"),
            );
            return None;
        };
        self.check_generative(config, site, Some(kind));
        if kind == ModelKind::Torchscript && config.model.input_specs.is_empty() {
            self.diags.push(
                site.error("/model", "a TorchScript model needs `input_specs`")
                    .with_help("TorchScript files do not carry input shapes; add `input_specs: { <name>: { shape: [...], dtype: float32 } }`"),
            );
        }
        Some(kind)
    }

    /// Unique names, fields that fit the provider, AI Hub names from the catalogue; returns the
    /// matrix with every default applied.
    pub(super) fn check_devices(&mut self, config: &Config, site: &Site) -> Vec<MatrixDevice> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut resolved = Vec::with_capacity(config.device_matrix.len());
        for (i, d) in config.device_matrix.iter().enumerate() {
            let at = format!("/device_matrix/{i}");
            if let Some(first) = seen.insert(d.name.as_str(), i) {
                self.diags.push(
                    site.error(&format!("{at}/name"), format!("duplicate device name `{}`", d.name))
                        .with_help(format!("`device_matrix[{first}]` already uses it; names must be unique (use `hub_device:` to run one AI Hub device twice)")),
                );
            }
            match d.provider {
                Provider::Local => {
                    resolved.push(MatrixDevice::resolve(d, &d.name));
                    for (field, present) in [
                        ("hub_device", d.hub_device.is_some()),
                        ("runtime", d.runtime.is_some()),
                        ("compile_options", d.compile_options.is_some()),
                        ("profile_options", d.profile_options.is_some()),
                    ] {
                        if present {
                            self.diags.push(
                                site.error(
                                    &format!("{at}/{field}"),
                                    format!("`{field}` applies to AI Hub devices only"),
                                )
                                .with_help("remove it, or set `provider: aihub`"),
                            );
                        }
                    }
                    if let Some(kind) = config
                        .model
                        .kind
                        .or_else(|| ModelKind::from_path(&config.model.path))
                        && kind != ModelKind::Onnx
                        && d.enabled
                    {
                        self.diags.push(
                            site.error(
                                &format!("{at}/provider"),
                                format!(
                                    "the local device runs ONNX models only, and the model is {}",
                                    kind.as_str()
                                ),
                            )
                            .with_help(
                                "export the model to ONNX, or run this model on an AI Hub device",
                            ),
                        );
                    }
                }
                Provider::Aihub => {
                    let (name, field) = match &d.hub_device {
                        Some(h) => (h.as_str(), "hub_device"),
                        None => (d.name.as_str(), "name"),
                    };
                    match catalog::resolve_device_name(name) {
                        Resolution::Exact(dev) | Resolution::Alias(dev) => {
                            resolved.push(MatrixDevice::resolve(d, dev.name));
                        }
                        Resolution::Unknown { suggestions } => {
                            resolved.push(MatrixDevice::resolve(d, name));
                            let help = if name.eq_ignore_ascii_case(catalog::HOST_DEVICE) {
                                "to run on this machine's CPU, add `provider: local`".to_string()
                            } else if suggestions.is_empty() {
                                "run `edgegate devices` to list AI Hub device names".to_string()
                            } else {
                                format!(
                                    "did you mean {}? (`edgegate devices` lists them all)",
                                    suggestions
                                        .iter()
                                        .map(|s| format!("`{s}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )
                            };
                            self.diags.push(
                                site.warning(&format!("{at}/{field}"), format!("`{name}` is not a known AI Hub device name or alias; AI Hub will be asked as is"))
                                    .with_help(help),
                            );
                        }
                    }
                }
            }
        }
        if !config.device_matrix.iter().any(|d| d.enabled) {
            self.diags.push(
                site.error_at_key(
                    "/device_matrix",
                    "no device is enabled, so nothing would run",
                )
                .with_help("set `enabled: true` on at least one device"),
            );
        }
        resolved
    }

    pub(super) fn check_gates(&mut self, config: &Config, site: &Site, pack: Option<&Promptpack>) {
        self.check_hub_skips(config, site, pack);
        let names: Vec<String> = config
            .device_matrix
            .iter()
            .map(|d| d.name.clone())
            .collect();
        for (i, g) in config.gates.iter().enumerate() {
            let at = format!("/gates/{i}");
            let metric = g.metric.as_str();
            if let Some(t) = g.threshold {
                let (lo, hi) = g.metric.threshold_range();
                if !t.is_finite() || t < lo || t > hi {
                    self.diags.push(
                        site.error(&format!("{at}/threshold"), format!("threshold {t} is out of range for `{metric}` ({lo} to {hi})"))
                            .with_help("`accuracy` is a fraction from 0 to 1; `*_percent` metrics are 0 to 100"),
                    );
                }
            }
            if g.max_regression_pct.is_some() && g.metric.better().is_none() {
                self.diags.push(
                    site.error(
                        &format!("{at}/max_regression_pct"),
                        format!(
                            "`{metric}` has no better direction, so it cannot have a relative gate"
                        ),
                    )
                    .with_help(format!(
                        "use an absolute gate: `operator` and `threshold` on `{metric}`"
                    )),
                );
            }
            if let Some(h) = &g.history {
                if g.max_regression_pct.is_none() {
                    self.diags.push(
                        site.error(
                            &format!("{at}/history"),
                            "`history` is a threshold of relative gates, and this gate has no `max_regression_pct`",
                        )
                        .with_help("add `max_regression_pct`, or remove `history`"),
                    );
                }
                if h.min_sample_size > h.max_sample_size {
                    self.diags.push(
                        site.error(
                            &format!("{at}/history/min_sample_size"),
                            format!(
                                "min_sample_size {} is larger than max_sample_size {}, so the threshold could never apply",
                                h.min_sample_size, h.max_sample_size
                            ),
                        )
                        .with_help("lower `min_sample_size` or raise `max_sample_size`"),
                    );
                }
            }
            if g.operator == Some(Operator::Eq)
                && !matches!(g.metric, super::types::Metric::Accuracy)
            {
                self.diags.push(
                    site.warning(
                        &format!("{at}/operator"),
                        format!("`eq` on a measured `{metric}` almost never holds exactly"),
                    )
                    .with_help("use `lte` or `gte`"),
                );
            }
            let mut scoped: Vec<&super::types::Device> = Vec::new();
            match &g.devices {
                Some(list) => {
                    for (j, name) in list.iter().enumerate() {
                        match config.device_matrix.iter().find(|d| &d.name == name) {
                            Some(d) => {
                                if !d.enabled {
                                    self.diags.push(site.warning(&format!("{at}/devices/{j}"), format!("device `{name}` is disabled, so this gate does not run on it")));
                                }
                                scoped.push(d);
                            }
                            None => {
                                let help = match suggest(name, &names) {
                                    Some(s) => format!(
                                        "did you mean `{s}`? (devices: {})",
                                        backticked(&names)
                                    ),
                                    None => format!(
                                        "devices in `device_matrix`: {}",
                                        backticked(&names)
                                    ),
                                };
                                self.diags.push(
                                    site.error(&format!("{at}/devices/{j}"), format!("gate names device `{name}`, which is not in `device_matrix`"))
                                        .with_help(help),
                                );
                            }
                        }
                    }
                }
                None => scoped.extend(config.device_matrix.iter().filter(|d| d.enabled)),
            }
            for d in scoped.iter().filter(|d| d.enabled) {
                if !g
                    .metric
                    .measurable_by_model(d.provider, config.model.tokenizer.is_some())
                {
                    let generative = config.model.tokenizer.is_some();
                    let why =
                        super::measurable::unmeasurable(g.metric, &d.name, d.provider, generative);
                    let help = super::measurable::help(g.metric);
                    self.diags
                        .push(site.error(&format!("{at}/metric"), why).with_help(help));
                    break;
                }
            }
            if g.metric == super::types::Metric::Accuracy
                && let Some(pack) = pack
                && pack
                    .cases
                    .iter()
                    .all(|c| matches!(c.expected, Expected::None {}))
            {
                self.diags.push(
                    site.error(&format!("{at}/metric"), "`accuracy` needs cases with an expectation, but every case has `type: none`")
                        .with_help("give the cases an `expected` check, or remove the accuracy gate"),
                );
            } else if g.metric == super::types::Metric::Accuracy
                && let Some(pack) = pack
                && pack.cases.iter().all(|c| {
                    matches!(c.expected, Expected::None {})
                        || c.skip_reason_for(config.model.tokenizer.is_some())
                            .is_some()
                })
            {
                self.diags.push(
                    site.warning(&format!("{at}/metric"), "`accuracy` will not be measured: every case with an expectation will be skipped (no `inputs:`), so this gate is an error, never a pass")
                        .with_help(super::promptpack::SKIPPED_CASE_HELP),
                );
            }
        }
    }

    /// The semantic checks of a promptpack. `patterns` says whether its regexes were checked
    /// already (the loader checks a large file's while its schema is checked).
    pub(super) fn check_pack(
        &mut self,
        pack: &Promptpack,
        site: &Site,
        dir: &Path,
        patterns: Patterns,
    ) {
        if semver::Version::parse(&pack.version).is_err() {
            self.diags.push(
                site.error(
                    "/version",
                    format!("`{}` is not a semantic version", pack.version),
                )
                .with_help("write MAJOR.MINOR.PATCH, e.g. `1.0.0`"),
            );
        }
        let labels = pack.labels.as_ref().and_then(|l| {
            let p = self.resolve(site, "/labels", dir, l, "labels file")?;
            match crate::files::read_to_string(&p, "labels file", crate::files::LABELS_LIMIT) {
                Ok(text) => Some(
                    text.lines()
                        .map(|s| s.trim().to_string())
                        .collect::<Vec<_>>(),
                ),
                Err(crate::files::FileError::NotFound { .. }) => {
                    self.diags.push(
                        site.error("/labels", format!("labels file `{l}` does not exist"))
                            .with_help(format!(
                                "the path is relative to the promptpack's folder (looked for `{}`)",
                                p.display()
                            )),
                    );
                    None
                }
                Err(e) => {
                    self.diags.push(site.error("/labels", e.to_string()));
                    None
                }
            }
        });
        if patterns == Patterns::Unchecked {
            self.check_patterns(pack);
        }
        let mut ids: HashMap<&str, usize> = HashMap::new();
        let mut checked_files = FilesSeen::default();
        for (i, case) in pack.cases.iter().enumerate() {
            let at = Lazy(move || format!("/cases/{i}"));
            if let Some(first) = ids.insert(case.case_id.as_str(), i) {
                self.diags.push(
                    site.error(
                        &format!("{}/case_id", at.pointer()),
                        format!("duplicate case_id `{}`", case.case_id),
                    )
                    .with_help(format!(
                        "`cases[{first}]` already uses it; case ids must be unique"
                    )),
                );
            }
            self.check_case_inputs(case, site, &at, dir, &mut checked_files);
            self.check_expected(
                case,
                site,
                &at,
                dir,
                pack.labels.is_some(),
                labels.as_deref(),
                &mut checked_files,
            );
        }
    }

    /// Checks every distinct regex of the pack at once, on all cores (see
    /// [`super::pattern::regex_errors`]). The errors wait in `pattern_errors` for the
    /// case-by-case checks, which report them.
    fn check_patterns(&mut self, pack: &Promptpack) {
        let mut todo: Vec<&str> = pack
            .cases
            .iter()
            .filter_map(|c| match &c.expected {
                Expected::Regex { pattern } => Some(pattern.as_str()),
                _ => None,
            })
            .collect();
        todo.sort_unstable();
        todo.dedup();
        let errors = super::pattern::regex_errors(&todo);
        self.add_pattern_errors(todo.into_iter().zip(errors));
    }

    /// Records checked regexes (each with its error, if any) for the case-by-case checks.
    pub(super) fn add_pattern_errors<'a>(
        &mut self,
        checked: impl IntoIterator<Item = (&'a str, Option<String>)>,
    ) {
        for (pattern, error) in checked {
            if let Some(error) = error {
                self.pattern_errors.insert(pattern.to_owned(), error);
            }
        }
    }

    fn check_file<'p>(
        &mut self,
        site: &Site,
        rel: impl Pointer,
        dir: &Path,
        name: &'p str,
        what: &str,
        seen: &mut FilesSeen<'p>,
    ) {
        // Thousands of cases name the same few files: a name found once is not looked at again
        // (a name refused is, so that every case naming it is reported).
        if seen.names.contains(name) {
            return;
        }
        let Some(p) = self.resolve(site, &rel, dir, name, what) else {
            return;
        };
        seen.names.insert(name);
        if !seen.paths.insert(p.clone()) {
            return;
        }
        if !p.is_file() {
            self.diags.push(
                site.error(&rel.pointer(), format!("{what} `{name}` does not exist"))
                    .with_help(format!(
                        "the path is relative to the promptpack's folder (looked for `{}`)",
                        p.display()
                    )),
            );
        }
    }

    fn check_case_inputs<'p>(
        &mut self,
        case: &'p Case,
        site: &Site,
        at: &impl Pointer,
        dir: &Path,
        seen: &mut FilesSeen<'p>,
    ) {
        for (name, input) in &case.inputs {
            let iat = Lazy(|| format!("{}/inputs/{}", at.pointer(), escape_segment(name)));
            if let Some(npy) = &input.npy {
                if !npy.to_ascii_lowercase().ends_with(".npy") {
                    self.diags.push(site.warning(
                        &format!("{}/npy", iat.pointer()),
                        format!("`{npy}` does not end in `.npy`"),
                    ));
                }
                self.check_file(
                    site,
                    Lazy(|| format!("{}/npy", iat.pointer())),
                    dir,
                    npy,
                    "input file",
                    seen,
                );
            }
            if let Some(image) = &input.image {
                self.check_file(
                    site,
                    Lazy(|| format!("{}/image", iat.pointer())),
                    dir,
                    image,
                    "image file",
                    seen,
                );
            }
            if let (Some(mean), Some(std)) = (&input.mean, &input.std)
                && mean.len() != std.len()
            {
                self.diags.push(
                    site.error(
                        &format!("{}/std", iat.pointer()),
                        format!(
                            "`std` has {} values but `mean` has {}",
                            std.len(),
                            mean.len()
                        ),
                    )
                    .with_help("give one value per channel in both"),
                );
            }
            if let Some(std) = &input.std
                && let Some(j) = std.iter().position(|v| *v == 0.0)
            {
                self.diags.push(site.error(
                    &format!("{}/std/{j}", iat.pointer()),
                    "`std` of 0 would divide by zero",
                ));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_expected<'p>(
        &mut self,
        case: &'p Case,
        site: &Site,
        at: &impl Pointer,
        dir: &Path,
        has_labels_file: bool,
        labels: Option<&[String]>,
        seen: &mut FilesSeen<'p>,
    ) {
        let eat = Lazy(|| format!("{}/expected", at.pointer()));
        match &case.expected {
            Expected::Regex { pattern } => {
                // Every pattern of the pack was checked before its cases (`Patterns`).
                let error = self.pattern_errors.get(pattern.as_str()).cloned();
                if let Some(last) = error {
                    self.diags.push(
                        site.error(
                            &format!("{}/pattern", eat.pointer()),
                            format!("the regex does not compile: {last}"),
                        )
                        .with_help("regex syntax: https://docs.rs/regex/latest/regex/#syntax"),
                    );
                }
            }
            Expected::JsonSchema { schema } => {
                let v = serde_json::Value::Object(schema.clone());
                if let Err(e) = jsonschema::options()
                    .should_validate_formats(false)
                    .build(&v)
                {
                    self.diags.push(site.error(
                        &format!("{}/schema{}", eat.pointer(), e.instance_path().as_str()),
                        format!("the JSON schema is not valid: {e}"),
                    ));
                }
            }
            Expected::Label { label, .. } | Expected::TopK { label, .. } => {
                if let Some(labels) = labels {
                    if !labels.iter().any(|l| l == label)
                        && label.parse::<usize>().map_or(true, |i| i >= labels.len())
                    {
                        self.diags.push(
                            site.error(
                                &format!("{}/label", eat.pointer()),
                                format!("label `{label}` is not in the labels file"),
                            )
                            .with_help("use a line of the labels file, or a class index (lines of the labels file are never quoted here)"),
                        );
                    }
                } else if !has_labels_file && label.parse::<usize>().is_err() {
                    self.diags.push(
                        site.error(&format!("{}/label", eat.pointer()), format!("label `{label}` is not a class index, and the promptpack has no `labels` file"))
                            .with_help("add `labels: labels.txt` (one label per line) to the promptpack, or use the class index"),
                    );
                }
                if let Expected::TopK { k, .. } = &case.expected
                    && let Some(labels) = labels
                    && *k as usize > labels.len()
                {
                    self.diags.push(site.error(
                        &format!("{}/k", eat.pointer()),
                        format!(
                            "k = {k} but the labels file has only {} labels",
                            labels.len()
                        ),
                    ));
                }
            }
            Expected::Tensor {
                reference,
                min_cosine,
                ..
            } => {
                self.check_file(
                    site,
                    Lazy(|| format!("{}/reference", eat.pointer())),
                    dir,
                    reference,
                    "reference tensor",
                    seen,
                );
                if min_cosine.is_some_and(|c| !(-1.0..=1.0).contains(&c)) {
                    self.diags.push(site.error(
                        &format!("{}/min_cosine", eat.pointer()),
                        "`min_cosine` must be between -1 and 1",
                    ));
                }
            }
            Expected::Exact { .. } | Expected::Contains { .. } | Expected::None {} => {}
        }
        if let Some(why) = case.skip_reason_for(self.generative) {
            self.diags.push(
                site.warning(
                    &at.pointer(),
                    format!("case `{}` will be skipped by `run`: {why}", case.case_id),
                )
                .with_help(super::promptpack::SKIPPED_CASE_HELP),
            );
        }
    }
}

/// A JSON pointer for a diagnostic, built only when one is reported: checking thousands of
/// cases would otherwise format several pointers per case that no message ever shows.
pub(super) trait Pointer {
    fn pointer(&self) -> String;
}

impl Pointer for &str {
    fn pointer(&self) -> String {
        (*self).to_owned()
    }
}

impl<P: Pointer + ?Sized> Pointer for &P {
    fn pointer(&self) -> String {
        (**self).pointer()
    }
}

/// A pointer made by a closure when needed.
pub(super) struct Lazy<F>(pub F);

/// Whether a promptpack's regexes were checked before [`Checker::check_pack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Patterns {
    /// Every one of them, with its error recorded by [`Checker::add_pattern_errors`].
    Checked,
    /// Not yet: `check_pack` checks them.
    Unchecked,
}

/// The files a promptpack's cases name that were checked already: by name as written, and by
/// the path it resolves to.
#[derive(Default)]
struct FilesSeen<'p> {
    names: HashSet<&'p str>,
    paths: HashSet<PathBuf>,
}

impl<F: Fn() -> String> Pointer for Lazy<F> {
    fn pointer(&self) -> String {
        (self.0)()
    }
}
