//! Loads `edgegate.yaml` and its promptpack: read (size limit, UTF-8), parse with positions,
//! check against the schema, deserialise into types, then hand the typed documents to
//! `check.rs` for what a schema cannot check. Every problem across both files is collected,
//! sorted by position, before anything is reported. Holds [`Project`], what a loaded config
//! resolves to; knows nothing of devices, AI Hub or runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::check::{Checker, Patterns, Site};
use super::diagnostic::{Diagnostic, Severity};
use super::matrix::MatrixDevice;
use super::paths::{OutsideProject, PathError, PathPolicy};
use super::promptpack::Promptpack;
use super::schema::{DocKind, compiled};
use super::schema_errors::schema_diagnostics;
use super::types::{Config, ModelKind, PromptpackRef};
use super::yaml::{self, SpannedDoc};

/// From this many distinct `regex` expectations on, they are checked while the schema is.
const EARLY_PATTERNS: usize = 64;

/// The distinct patterns of the `regex` expectations in a promptpack not yet checked against
/// its schema (what is not shaped as one is left to the schema check).
fn raw_patterns(pack: &serde_json::Value) -> Vec<&str> {
    // A case's mappings hold a few keys each: comparing them costs less than hashing the key.
    fn field<'v>(v: &'v serde_json::Value, key: &str) -> Option<&'v serde_json::Value> {
        v.as_object()?
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
    let mut patterns: Vec<&str> = pack
        .get("cases")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|case| {
            let expected = field(case, "expected")?;
            (field(expected, "type")?.as_str()? == "regex").then_some(())?;
            field(expected, "pattern")?.as_str()
        })
        .collect();
    patterns.sort_unstable();
    patterns.dedup();
    patterns
}

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
    /// `device_matrix` in config order, every default applied (AI Hub name, runtime).
    pub devices: Vec<MatrixDevice>,
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
    /// The devices a run uses, in config order.
    pub fn enabled_devices(&self) -> impl Iterator<Item = &MatrixDevice> {
        self.devices.iter().filter(|d| d.enabled)
    }

    /// A path named in the config, resolved against the config's folder inside the project.
    pub fn config_file(&self, named: &str) -> Result<PathBuf, PathError> {
        self.paths.resolve(&self.base_dir, named)
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
    let has_errors = l.checks.diags.iter().any(|d| d.severity == Severity::Error);
    match result {
        Some(project) if !has_errors => Ok(Project {
            warnings: l.checks.diags,
            sources: l.sources,
            ..project
        }),
        _ => Err(LoadFailure {
            diagnostics: l.checks.diags,
            sources: l.sources,
        }),
    }
}

/// Loads and checks a config and its promptpack with every path confined to `root`, whatever
/// git repository may enclose it (a server running a config it wrote into a folder of its own).
pub fn load_project_confined(config_path: &Path, root: &Path) -> Result<Project, LoadFailure> {
    let mut l = Loader::new(PathPolicy::confined(root));
    let result = l.load(config_path);
    l.sort();
    let has_errors = l.checks.diags.iter().any(|d| d.severity == Severity::Error);
    match result {
        Some(project) if !has_errors => Ok(Project {
            warnings: l.checks.diags,
            sources: l.sources,
            ..project
        }),
        _ => Err(LoadFailure {
            diagnostics: l.checks.diags,
            sources: l.sources,
        }),
    }
}

/// The file name diagnostics of a document held in memory carry.
pub const IN_MEMORY: &str = "<request body>";

/// Checks a config held in memory rather than read from a file (a server's pipeline body turned
/// into a config): the schema, then what needs no file: devices and gates. The model file,
/// report outputs and the job cache are not looked at. Returns the config and its warnings, or
/// every diagnostic (errors and warnings) when any is an error.
pub fn check_config_value(
    value: serde_json::Value,
) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
    let file = Path::new(IN_MEMORY);
    let doc = SpannedDoc::unplaced(value);
    let mut l = Loader::new(PathPolicy::default());
    let config = l.typed::<Config>(file, &doc, DocKind::Config);
    if let Some(config) = &config {
        let site = Site {
            file,
            doc: &doc,
            prefix: String::new(),
        };
        l.checks.check_devices(config, &site);
        l.checks.check_gates(config, &site, None);
    }
    finish_in_memory(l, config)
}

/// Checks a promptpack held in memory: the schema and the semantic checks. No project encloses
/// it, so every file it names (`labels`, inputs, reference tensors) is refused.
pub fn check_promptpack_value(
    value: serde_json::Value,
) -> Result<(Promptpack, Vec<Diagnostic>), Vec<Diagnostic>> {
    let file = Path::new(IN_MEMORY);
    let doc = SpannedDoc::unplaced(value);
    let mut l = Loader::new(PathPolicy::default());
    let pack = l.typed::<Promptpack>(file, &doc, DocKind::Promptpack);
    if let Some(pack) = &pack {
        let site = Site {
            file,
            doc: &doc,
            prefix: String::new(),
        };
        l.checks
            .check_pack(pack, &site, Path::new(""), Patterns::Unchecked);
    }
    finish_in_memory(l, pack)
}

fn finish_in_memory<T>(
    l: Loader,
    value: Option<T>,
) -> Result<(T, Vec<Diagnostic>), Vec<Diagnostic>> {
    let has_errors = l.checks.diags.iter().any(|d| d.severity == Severity::Error);
    match value {
        Some(v) if !has_errors => Ok((v, l.checks.diags)),
        _ => Err(l.checks.diags),
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
    let has_errors = l.checks.diags.iter().any(|d| d.severity == Severity::Error);
    match pack {
        Some(p) if !has_errors => Ok((p, l.checks.diags, l.sources)),
        _ => Err(LoadFailure {
            diagnostics: l.checks.diags,
            sources: l.sources,
        }),
    }
}

struct Loader {
    /// The checks, holding every diagnostic of this load (parse errors included).
    checks: Checker,
    /// Only the YAML files being diagnosed (the config, a promptpack): never any other file.
    sources: Sources,
}

/// Keys of which a promptpack file holds at least one; a file without them is not quoted.
const PROMPTPACK_MARKERS: [&str; 2] = ["promptpack_id", "cases"];
impl Loader {
    fn new(paths: PathPolicy) -> Self {
        Self {
            checks: Checker::new(paths),
            sources: Sources::default(),
        }
    }

    fn sort(&mut self) {
        self.checks
            .diags
            .sort_by_key(|d| (d.file.clone(), d.pos.map(|p| (p.line, p.col))));
    }

    fn read(&mut self, path: &Path, what: &str, help: &str) -> Option<String> {
        let bytes = match crate::files::read(path, what, MAX_FILE_BYTES) {
            Ok(bytes) => bytes,
            Err(e) => {
                let d = Diagnostic::error(path, None, "", e.to_string());
                self.checks.diags.push(match e {
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
                let pos =
                    std::str::from_utf8(upto).map_or(yaml::Pos { line: 1, col: 1 }, yaml::end_of);
                self.checks.diags.push(
                    Diagnostic::error(path, Some(pos), "", format!("{what} is not UTF-8 text"))
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
                self.checks.diags.push(
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
            self.checks.diags.push(
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
            self.checks.diags.push(
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
        // A large document is checked against the schema on another thread while this one
        // builds the types; the types count only when the schema check finds nothing.
        let (errors, typed) = if doc.is_large() {
            std::thread::scope(|s| {
                let schema = s.spawn(|| schema_diagnostics(compiled(kind), doc, path));
                let typed = T::deserialize(&doc.value);
                let errors = schema
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                (errors, Some(typed))
            })
        } else {
            (schema_diagnostics(compiled(kind), doc, path), None)
        };
        if !errors.is_empty() {
            self.checks.diags.extend(errors);
            return None;
        }
        match typed.unwrap_or_else(|| T::deserialize(&doc.value)) {
            Ok(v) => Some(v),
            Err(e) => {
                self.checks.diags.push(Diagnostic::error(
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
        super::schema::compile_in_background();
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
                && let Some(pack_path) = self.checks.resolve(
                    &site,
                    "/promptpack/path",
                    &base_dir,
                    rel,
                    "promptpack file",
                )
            {
                self.load_pack_file(&pack_path);
            }
            return None;
        };

        let model_path = self.checks.resolve(
            &site,
            "/model/path",
            &base_dir,
            &config.model.path,
            "model file",
        );
        let model_kind = match &model_path {
            Some(p) => self.checks.check_model(&config, &site, p),
            None => None,
        };
        let devices = self.checks.check_devices(&config, &site);
        self.checks.check_report(&config, &site, &base_dir);
        let cache_path = self.checks.check_cache(config_path, &base_dir);

        let (promptpack, origin, pack_dir) = match (
            &config.promptpack.path,
            &config.promptpack.content,
            &config.promptpack.promptpack_ref,
        ) {
            (Some(p), _, _) => {
                let pack_path = base_dir.join(p);
                let pack = match self.checks.resolve(
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
                self.checks
                    .check_pack(&pack, &inline, &base_dir, Patterns::Unchecked);
                (Some(pack), PromptpackOrigin::Inline, base_dir.clone())
            }
            (None, None, Some(r)) => {
                self.checks.diags.push(
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
        self.checks.check_gates(&config, &site, promptpack.as_ref());
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
            paths: self.checks.paths.clone(),
            devices,
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
        // The regexes are checked on other threads while this one checks the schema and the
        // types: for a pack of thousands of `regex` cases, that hides most of their cost.
        let patterns = raw_patterns(&doc.value);
        let (pack, checked) = std::thread::scope(|s| {
            let early = (patterns.len() >= EARLY_PATTERNS)
                .then(|| s.spawn(|| super::pattern::regex_errors(&patterns)));
            let pack = self.typed::<Promptpack>(path, &doc, DocKind::Promptpack);
            let checked = early.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            (pack, checked)
        });
        let checked = match checked {
            Some(errors) => {
                self.checks
                    .add_pattern_errors(patterns.iter().copied().zip(errors));
                Patterns::Checked
            }
            None => Patterns::Unchecked,
        };
        let pack = pack?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let site = Site {
            file: path,
            doc: &doc,
            prefix: String::new(),
        };
        self.checks.check_pack(&pack, &site, &dir, checked);
        drop(site);
        doc.drop_in_background();
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
        self.checks.diags.push(
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
}

/// Renders every diagnostic as compiler-style text.
pub fn render_all(diags: &[Diagnostic], sources: &Sources) -> String {
    diags
        .iter()
        .map(|d| d.render_text(sources.get(&d.file)))
        .collect::<Vec<_>>()
        .join("\n")
}
