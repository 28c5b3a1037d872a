//! Loads `edgegate.yaml` and its promptpack: parse with positions, check against the schema,
//! deserialise into types, then check what a schema cannot (unique ids, references between
//! sections, files on disk, regexes, what each provider can measure). Every problem across both
//! files is collected before anything is reported.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::catalog::{self, Resolution};
use super::diagnostic::{Diagnostic, Severity};
use super::paths::{JOB_CACHE_FILE, OutsideProject, PathError, PathPolicy};
use super::promptpack::{Case, Expected, Promptpack};
use super::schema::{DocKind, compiled};
use super::schema_errors::{backticked, display_path, schema_diagnostics, suggest};
use super::types::{Config, ModelKind, Operator, PromptpackRef, Provider};
use super::yaml::{self, SpannedDoc, escape_segment};

/// Files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = crate::files::CONFIG_LIMIT;

/// A config that passed every check, with everything resolved that later stages need.
#[derive(Debug, Clone)]
pub struct Project {
    /// The config file as the user named it.
    pub config_path: PathBuf,
    /// The folder relative paths in the config resolve against.
    pub base_dir: PathBuf,
    pub config: Config,
    /// The cases; `None` only for a `promptpack_ref`, which a server resolves.
    pub promptpack: Option<Promptpack>,
    /// Where the promptpack came from.
    pub promptpack_origin: PromptpackOrigin,
    /// The folder relative paths in the promptpack resolve against.
    pub pack_dir: PathBuf,
    /// The model file, resolved against `base_dir` inside the project.
    pub model_path: PathBuf,
    /// The job cache file (`.edgegate/cache/jobs.json` beside the config), inside the project.
    pub cache_path: PathBuf,
    /// The rule every path named in the config or promptpack goes through.
    pub paths: PathPolicy,
    /// The model format, given or inferred.
    pub model_kind: ModelKind,
    /// AI Hub device names resolved from `device_matrix` (by device name; absent for local devices).
    pub hub_devices: HashMap<String, String>,
    /// Problems that do not stop a run.
    pub warnings: Vec<Diagnostic>,
    /// Source texts by file, for rendering diagnostics.
    pub sources: Sources,
}

/// Where a promptpack came from.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptpackOrigin {
    File(PathBuf),
    Inline,
    Ref(PromptpackRef),
}

/// Why a config could not be loaded: every diagnostic (errors and warnings) and the sources.
#[derive(Debug, Clone, Default)]
pub struct LoadFailure {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Sources,
}

/// File texts kept for quoting lines in diagnostics.
#[derive(Debug, Clone, Default)]
pub struct Sources(HashMap<PathBuf, String>);

impl Sources {
    /// The text of a file that was read.
    pub fn get(&self, path: &Path) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }
}

impl Project {
    /// A path named in the config, resolved against the config's folder inside the project.
    pub fn config_file(&self, named: &str) -> Result<PathBuf, PathError> {
        self.paths.resolve(&self.base_dir, named)
    }

    /// A path named in the promptpack, resolved against the promptpack's folder inside the project.
    pub fn pack_file(&self, named: &str) -> Result<PathBuf, PathError> {
        self.paths.resolve(&self.pack_dir, named)
    }
}

/// Loads and checks a config and its promptpack; paths outside the project are refused.
pub fn load_project(config_path: &Path) -> Result<Project, LoadFailure> {
    load_project_with(config_path, OutsideProject::Refused)
}

/// Loads and checks a config and its promptpack, with paths outside the project refused or
/// allowed as `outside` says (`--allow-outside-project`).
pub fn load_project_with(
    config_path: &Path,
    outside: OutsideProject,
) -> Result<Project, LoadFailure> {
    let mut l = Loader::new(PathPolicy::for_config(config_path, outside));
    let result = l.load(config_path);
    l.sort();
    let has_errors = l.diags.iter().any(|d| d.severity == Severity::Error);
    match result {
        Some(project) if !has_errors => Ok(Project {
            warnings: l.diags,
            sources: l.sources,
            ..project
        }),
        _ => Err(LoadFailure {
            diagnostics: l.diags,
            sources: l.sources,
        }),
    }
}

/// Loads and checks a promptpack file on its own; its project is found as for a config.
pub fn load_promptpack(
    path: &Path,
    outside: OutsideProject,
) -> Result<(Promptpack, Vec<Diagnostic>, Sources), LoadFailure> {
    let mut l = Loader::new(PathPolicy::for_config(path, outside));
    let pack = l.load_pack_file(path);
    l.sort();
    let has_errors = l.diags.iter().any(|d| d.severity == Severity::Error);
    match pack {
        Some(p) if !has_errors => Ok((p, l.diags, l.sources)),
        _ => Err(LoadFailure {
            diagnostics: l.diags,
            sources: l.sources,
        }),
    }
}

struct Loader {
    diags: Vec<Diagnostic>,
    /// Only the YAML files being diagnosed (the config, a promptpack): never any other file.
    sources: Sources,
    /// Regexes and JSON schemas already checked, with their error (cases often repeat them).
    checked_patterns: HashMap<String, Option<String>>,
    paths: PathPolicy,
}

/// Where a document sits: its file, its parsed positions, and the pointer prefix of the part checked.
struct Site<'a> {
    file: &'a Path,
    doc: &'a SpannedDoc,
    prefix: String,
}

impl Site<'_> {
    fn at(&self, rel: &str) -> String {
        format!("{}{rel}", self.prefix)
    }

    fn error(&self, rel: &str, message: impl Into<String>) -> Diagnostic {
        let p = self.at(rel);
        Diagnostic::error(self.file, Some(self.doc.pos_of_value(&p)), &p, message)
    }

    fn error_at_key(&self, rel: &str, message: impl Into<String>) -> Diagnostic {
        let p = self.at(rel);
        Diagnostic::error(self.file, Some(self.doc.pos_of_key(&p)), &p, message)
    }

    fn warning(&self, rel: &str, message: impl Into<String>) -> Diagnostic {
        let p = self.at(rel);
        Diagnostic::warning(self.file, Some(self.doc.pos_of_value(&p)), &p, message)
    }
}

/// Keys of which a promptpack file holds at least one; a file without them is not quoted.
const PROMPTPACK_MARKERS: [&str; 2] = ["promptpack_id", "cases"];

impl Loader {
    fn new(paths: PathPolicy) -> Self {
        Self {
            diags: Vec::new(),
            sources: Sources::default(),
            checked_patterns: HashMap::new(),
            paths,
        }
    }

    /// `named` resolved against `dir` under the project's path policy; a refusal becomes an
    /// error at `rel` of `site`.
    fn resolve(
        &mut self,
        site: &Site,
        rel: &str,
        dir: &Path,
        named: &str,
        what: &str,
    ) -> Option<PathBuf> {
        match self.paths.resolve(dir, named) {
            Ok(p) => Some(p),
            Err(e) => {
                self.diags.push(
                    site.error(rel, format!("{what} {e}"))
                        .with_help(self.paths.help()),
                );
                None
            }
        }
    }

    fn sort(&mut self) {
        self.diags
            .sort_by_key(|d| (d.file.clone(), d.pos.map(|p| (p.line, p.col))));
    }

    fn read(&mut self, path: &Path, what: &str, help: &str) -> Option<String> {
        let bytes = match crate::files::read(path, what, MAX_FILE_BYTES) {
            Ok(bytes) => bytes,
            Err(e) => {
                let d = Diagnostic::error(path, None, "", e.to_string());
                self.diags.push(match e {
                    crate::files::FileError::TooLarge { .. } => d,
                    _ => d.with_help(help.to_string()),
                });
                return None;
            }
        };
        match String::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) => {
                let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = upto.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
                let col = upto.iter().rev().take_while(|&&b| b != b'\n').count() as u32 + 1;
                self.diags.push(
                    Diagnostic::error(
                        path,
                        Some(yaml::Pos { line, col }),
                        "",
                        format!("{what} is not UTF-8 text"),
                    )
                    .with_help("save the file as UTF-8"),
                );
                None
            }
        }
    }

    /// Parses a YAML file; the message of a syntax error never holds the file's text.
    fn parse(&mut self, path: &Path, text: &str) -> Option<SpannedDoc> {
        match yaml::parse(text) {
            Ok(doc) => Some(doc),
            Err(e) => {
                self.diags.push(
                    Diagnostic::error(
                        path,
                        Some(e.pos),
                        "",
                        format!("invalid YAML: {}", e.message),
                    )
                    .with_help(
                        e.help.unwrap_or(
                            "check indentation, quotes and brackets around this position",
                        ),
                    ),
                );
                None
            }
        }
    }

    /// Reports the keys a YAML file being diagnosed repeats.
    fn duplicates(&mut self, path: &Path, doc: &SpannedDoc) {
        for (ptr, pos) in &doc.duplicate_keys {
            let key = ptr.rsplit('/').next().unwrap_or_default();
            self.diags.push(
                Diagnostic::error(path, Some(*pos), ptr, format!("duplicate key `{key}`"))
                    .with_help(
                        "each key may appear once in a mapping; remove or merge the repeats",
                    ),
            );
        }
    }

    /// Schema check then deserialisation of a whole document.
    fn typed<T: DeserializeOwned>(
        &mut self,
        path: &Path,
        doc: &SpannedDoc,
        kind: DocKind,
    ) -> Option<T> {
        if doc.value.is_null() {
            let what = match kind {
                DocKind::Config => "config",
                DocKind::Promptpack => "promptpack",
            };
            self.diags.push(
                Diagnostic::error(
                    path,
                    Some(yaml::Pos { line: 1, col: 1 }),
                    "",
                    format!("the {what} file is empty"),
                )
                .with_help("run `edgegate init` for a commented starter"),
            );
            return None;
        }
        let errors = schema_diagnostics(compiled(kind), doc, path);
        if !errors.is_empty() {
            self.diags.extend(errors);
            return None;
        }
        match T::deserialize(&doc.value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.diags.push(Diagnostic::error(
                    path,
                    Some(yaml::Pos { line: 1, col: 1 }),
                    "",
                    e.to_string(),
                ));
                None
            }
        }
    }

    fn load(&mut self, config_path: &Path) -> Option<Project> {
        let text = self.read(
            config_path,
            "config file",
            "pass the config path (`edgegate validate path/to/edgegate.yaml`) or run `edgegate init`",
        )?;
        let doc = self.parse(config_path, &text);
        self.sources.0.insert(config_path.to_path_buf(), text);
        let doc = doc?;
        self.duplicates(config_path, &doc);
        let base_dir = config_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let site = Site {
            file: config_path,
            doc: &doc,
            prefix: String::new(),
        };
        let Some(config) = self.typed::<Config>(config_path, &doc, DocKind::Config) else {
            if let Some(rel) = doc
                .value
                .pointer("/promptpack/path")
                .and_then(|v| v.as_str())
                && let Some(pack_path) =
                    self.resolve(&site, "/promptpack/path", &base_dir, rel, "promptpack file")
            {
                self.load_pack_file(&pack_path);
            }
            return None;
        };

        let model_path = self.resolve(
            &site,
            "/model/path",
            &base_dir,
            &config.model.path,
            "model file",
        );
        let model_kind = match &model_path {
            Some(p) => self.check_model(&config, &site, p),
            None => None,
        };
        let hub_devices = self.check_devices(&config, &site);
        self.check_report(&config, &site, &base_dir);
        let cache_path = self.check_cache(config_path, &base_dir);

        let (promptpack, origin, pack_dir) = match (
            &config.promptpack.path,
            &config.promptpack.content,
            &config.promptpack.promptpack_ref,
        ) {
            (Some(p), _, _) => {
                let pack_path = base_dir.join(p);
                let pack = match self.resolve(
                    &site,
                    "/promptpack/path",
                    &base_dir,
                    p,
                    "promptpack file",
                ) {
                    Some(path) => self.load_pack_file(&path),
                    None => None,
                };
                let dir = pack_path
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                (pack, PromptpackOrigin::File(pack_path), dir)
            }
            (None, Some(content), _) => {
                let pack = (**content).clone();
                let inline = Site {
                    file: config_path,
                    doc: &doc,
                    prefix: "/promptpack/content".into(),
                };
                self.check_pack(&pack, &inline, &base_dir);
                (Some(pack), PromptpackOrigin::Inline, base_dir.clone())
            }
            (None, None, Some(r)) => {
                self.diags.push(
                    site.warning(
                        "/promptpack/promptpack_ref",
                        format!("promptpack `{}` {} is resolved by an EdgeGate server; its cases are not checked here", r.promptpack_id, r.version),
                    )
                    .with_help("for local runs, point `promptpack.path` at the promptpack file"),
                );
                (None, PromptpackOrigin::Ref(r.clone()), base_dir.clone())
            }
            (None, None, None) => return None,
        };
        self.check_gates(&config, &site, promptpack.as_ref());
        if origin != PromptpackOrigin::Inline
            && promptpack.is_none()
            && !matches!(origin, PromptpackOrigin::Ref(_))
        {
            return None;
        }
        Some(Project {
            config_path: config_path.to_path_buf(),
            base_dir,
            config,
            promptpack,
            promptpack_origin: origin,
            pack_dir,
            model_path: model_path?,
            model_kind: model_kind?,
            cache_path: cache_path?,
            paths: self.paths.clone(),
            hub_devices,
            warnings: Vec::new(),
            sources: Sources::default(),
        })
    }

    fn load_pack_file(&mut self, path: &Path) -> Option<Promptpack> {
        let text = self.read(
            path,
            "promptpack file",
            "check `promptpack.path` in the config; it is relative to the config file",
        )?;
        let doc = self.parse(path, &text)?;
        if !self.looks_like_promptpack(path, &doc) {
            return None;
        }
        self.sources.0.insert(path.to_path_buf(), text);
        self.duplicates(path, &doc);
        let pack: Promptpack = self.typed(path, &doc, DocKind::Promptpack)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let site = Site {
            file: path,
            doc: &doc,
            prefix: String::new(),
        };
        self.check_pack(&pack, &site, &dir);
        Some(pack)
    }

    /// Whether a parsed promptpack file is a promptpack at all: a mapping holding
    /// `promptpack_id` or `cases`. Anything else (an env file, someone's YAML credentials) gets
    /// one diagnostic that quotes nothing of it.
    fn looks_like_promptpack(&mut self, path: &Path, doc: &SpannedDoc) -> bool {
        let shape = match &doc.value {
            serde_json::Value::Object(map)
                if PROMPTPACK_MARKERS.iter().any(|k| map.contains_key(*k)) =>
            {
                return true;
            }
            serde_json::Value::Null => return true,
            serde_json::Value::Object(_) => "has neither `promptpack_id` nor `cases`",
            serde_json::Value::Array(_) => "holds a list, not a mapping of keys",
            _ => "holds a single value, not a mapping of keys",
        };
        self.diags.push(
            Diagnostic::error(
                path,
                Some(yaml::Pos { line: 1, col: 1 }),
                "",
                format!("the promptpack file is not a promptpack: it {shape}"),
            )
            .with_help("point `promptpack.path` at a promptpack YAML file (`edgegate schema promptpack` describes one)"),
        );
        false
    }

    /// The `report:` outputs must be written inside the project.
    fn check_report(&mut self, config: &Config, site: &Site, base_dir: &Path) {
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
    fn check_cache(&mut self, config_path: &Path, base_dir: &Path) -> Option<PathBuf> {
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

    fn check_model(
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
        if kind == ModelKind::Torchscript && config.model.input_specs.is_empty() {
            self.diags.push(
                site.error("/model", "a TorchScript model needs `input_specs`")
                    .with_help("TorchScript files do not carry input shapes; add `input_specs: { <name>: { shape: [...], dtype: float32 } }`"),
            );
        }
        Some(kind)
    }

    fn check_devices(&mut self, config: &Config, site: &Site) -> HashMap<String, String> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut hub = HashMap::new();
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
                            hub.insert(d.name.clone(), dev.name.to_string());
                        }
                        Resolution::Unknown { suggestions } => {
                            hub.insert(d.name.clone(), name.to_string());
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
        hub
    }

    fn check_gates(&mut self, config: &Config, site: &Site, pack: Option<&Promptpack>) {
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
                if !g.metric.measurable_by(d.provider) {
                    let why = match g.metric {
                        super::types::Metric::TtftMs | super::types::Metric::Tps => {
                            format!(
                                "`{metric}` needs a generative (token-streaming) run, which no device provider measures yet"
                            )
                        }
                        _ => format!(
                            "device `{}` runs on the local CPU, which has no NPU/GPU layer placement to measure `{metric}`",
                            d.name
                        ),
                    };
                    self.diags
                        .push(site.error(&format!("{at}/metric"), why).with_help(
                            "remove the gate, or scope it with `devices:` to AI Hub devices",
                        ));
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
            }
        }
    }

    fn check_pack(&mut self, pack: &Promptpack, site: &Site, dir: &Path) {
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
        let mut ids: HashMap<&str, usize> = HashMap::new();
        let mut checked_files: HashSet<PathBuf> = HashSet::new();
        for (i, case) in pack.cases.iter().enumerate() {
            let at = format!("/cases/{i}");
            if let Some(first) = ids.insert(case.case_id.as_str(), i) {
                self.diags.push(
                    site.error(
                        &format!("{at}/case_id"),
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

    fn check_file(
        &mut self,
        site: &Site,
        rel: &str,
        dir: &Path,
        name: &str,
        what: &str,
        seen: &mut HashSet<PathBuf>,
    ) {
        let Some(p) = self.resolve(site, rel, dir, name, what) else {
            return;
        };
        if !seen.insert(p.clone()) {
            return;
        }
        if !p.is_file() {
            self.diags.push(
                site.error(rel, format!("{what} `{name}` does not exist"))
                    .with_help(format!(
                        "the path is relative to the promptpack's folder (looked for `{}`)",
                        p.display()
                    )),
            );
        }
    }

    fn check_case_inputs(
        &mut self,
        case: &Case,
        site: &Site,
        at: &str,
        dir: &Path,
        seen: &mut HashSet<PathBuf>,
    ) {
        for (name, input) in &case.inputs {
            let iat = format!("{at}/inputs/{}", escape_segment(name));
            if let Some(npy) = &input.npy {
                if !npy.to_ascii_lowercase().ends_with(".npy") {
                    self.diags.push(site.warning(
                        &format!("{iat}/npy"),
                        format!("`{npy}` does not end in `.npy`"),
                    ));
                }
                self.check_file(site, &format!("{iat}/npy"), dir, npy, "input file", seen);
            }
            if let Some(image) = &input.image {
                self.check_file(
                    site,
                    &format!("{iat}/image"),
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
                        &format!("{iat}/std"),
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
                self.diags
                    .push(site.error(&format!("{iat}/std/{j}"), "`std` of 0 would divide by zero"));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_expected(
        &mut self,
        case: &Case,
        site: &Site,
        at: &str,
        dir: &Path,
        has_labels_file: bool,
        labels: Option<&[String]>,
        seen: &mut HashSet<PathBuf>,
    ) {
        let eat = format!("{at}/expected");
        match &case.expected {
            Expected::Regex { pattern } => {
                let error = self
                    .checked_patterns
                    .entry(pattern.clone())
                    .or_insert_with(|| super::pattern::regex_error(pattern))
                    .clone();
                if let Some(last) = error {
                    self.diags.push(
                        site.error(
                            &format!("{eat}/pattern"),
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
                        &format!("{eat}/schema{}", e.instance_path().as_str()),
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
                                &format!("{eat}/label"),
                                format!("label `{label}` is not in the labels file"),
                            )
                            .with_help("use a line of the labels file, or a class index (lines of the labels file are never quoted here)"),
                        );
                    }
                } else if !has_labels_file && label.parse::<usize>().is_err() {
                    self.diags.push(
                        site.error(&format!("{eat}/label"), format!("label `{label}` is not a class index, and the promptpack has no `labels` file"))
                            .with_help("add `labels: labels.txt` (one label per line) to the promptpack, or use the class index"),
                    );
                }
                if let Expected::TopK { k, .. } = &case.expected
                    && let Some(labels) = labels
                    && *k as usize > labels.len()
                {
                    self.diags.push(site.error(
                        &format!("{eat}/k"),
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
                    &format!("{eat}/reference"),
                    dir,
                    reference,
                    "reference tensor",
                    seen,
                );
                if min_cosine.is_some_and(|c| !(-1.0..=1.0).contains(&c)) {
                    self.diags.push(site.error(
                        &format!("{eat}/min_cosine"),
                        "`min_cosine` must be between -1 and 1",
                    ));
                }
            }
            Expected::Exact { .. } | Expected::Contains { .. } | Expected::None {} => {}
        }
        if case.inputs.is_empty()
            && case.prompt.is_none()
            && !matches!(case.expected, Expected::None {})
        {
            self.diags.push(
                site.warning(at, format!("case `{}` has neither `prompt` nor `inputs`; the model will get random data", case.case_id))
                    .with_help("add `inputs:` (npy or image) or a `prompt`"),
            );
        }
    }
}

/// Renders every diagnostic as compiler-style text.
pub fn render_all(diags: &[Diagnostic], sources: &Sources) -> String {
    diags
        .iter()
        .map(|d| d.render_text(sources.get(&d.file)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `/gates/1/threshold` as `gates[1].threshold` (re-exported for reports).
pub fn pointer_display(ptr: &str) -> String {
    display_path(ptr)
}
