//! Turns JSON-schema validation errors into diagnostics a person can act on: the position of the
//! offending key or value, a sentence on what is wrong, and a suggestion ("did you mean …?").

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::Path;

use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::diagnostic::Diagnostic;
use super::schema::Compiled;
use super::yaml::{SpannedDoc, escape_segment};

/// Every schema violation of `doc`, as diagnostics.
pub fn schema_diagnostics(compiled: &Compiled, doc: &SpannedDoc, file: &Path) -> Vec<Diagnostic> {
    // Most documents are valid: telling so is cheaper than looking for errors (no error
    // locations are tracked), and the errors are looked for only when there are some.
    if compiled.validator.is_valid(&doc.value) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let ctx = Ctx {
        schema: &compiled.schema,
        doc,
        file,
        suggested: RefCell::new(HashSet::new()),
    };
    for err in compiled.validator.iter_errors(&doc.value) {
        ctx.map(&err, &mut out);
    }
    let suggested = ctx.suggested.into_inner();
    out.retain(|d| {
        !suggested.iter().any(|(ptr, key)| {
            d.pointer == *ptr
                && (d
                    .message
                    .starts_with(&format!("missing required key `{key}`"))
                    || (d.message.starts_with("needs either")
                        && d.message.contains(&format!("`{key}`"))))
        })
    });
    dedup(&mut out);
    out
}

fn dedup(out: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    out.retain(|d| seen.insert((d.pointer.clone(), d.message.clone())));
}

struct Ctx<'a> {
    schema: &'a Value,
    doc: &'a SpannedDoc,
    file: &'a Path,
    /// (object pointer, key) pairs an unknown key was taken to be a typo of.
    suggested: RefCell<HashSet<(String, String)>>,
}

impl Ctx<'_> {
    fn value_at(&self, pointer: &str) -> Option<&Value> {
        self.doc.value.pointer(pointer)
    }

    fn err_value(&self, pointer: &str, message: String) -> Diagnostic {
        Diagnostic::error(
            self.file,
            Some(self.doc.pos_of_value(pointer)),
            pointer,
            message,
        )
    }

    fn err_key(&self, pointer: &str, message: String) -> Diagnostic {
        Diagnostic::error(
            self.file,
            Some(self.doc.pos_of_key(pointer)),
            pointer,
            message,
        )
    }

    /// The schema object that holds the failing keyword (the parent of the keyword's location).
    fn schema_holding(&self, err: &ValidationError) -> Option<&Value> {
        let path = err.schema_path().as_str();
        let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        self.schema.pointer(parent).map(|s| self.deref(s))
    }

    fn deref<'s>(&'s self, s: &'s Value) -> &'s Value {
        match s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(p) => self.schema.pointer(p).unwrap_or(s),
            None => s,
        }
    }

    fn property_names(&self, schema: Option<&Value>) -> Vec<String> {
        schema
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn map(&self, err: &ValidationError, out: &mut Vec<Diagnostic>) {
        let ptr = err.instance_path().as_str().to_string();
        let here = self.value_at(&ptr);
        match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let allowed = self.property_names(self.schema_holding(err));
                for key in unexpected {
                    let child = format!("{ptr}/{}", escape_segment(key));
                    let mut d =
                        self.err_key(&child, format!("unknown key `{key}`{}", where_(&ptr)));
                    d = d.with_help(match suggest(key, &allowed) {
                        Some(s) => {
                            self.suggested.borrow_mut().insert((ptr.clone(), s.clone()));
                            format!("did you mean `{s}`?")
                        }
                        None => format!("allowed keys here: {}", backticked(&allowed)),
                    });
                    out.push(d);
                }
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                let holder = self.schema_holding(err);
                let mut d = self.err_value(
                    &ptr,
                    format!("missing required key `{name}`{}", where_(&ptr)),
                );
                if let Some(desc) = holder
                    .and_then(|s| s.pointer(&format!("/properties/{}", escape_segment(name))))
                    .map(|p| self.deref(p))
                    .and_then(|p| p.get("description"))
                    .and_then(Value::as_str)
                {
                    d = d.with_help(format!("add `{name}`: {}", first_sentence(desc)));
                }
                out.push(d);
            }
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(t) => article(&t.to_string()),
                    TypeKind::Multiple(ts) => ts
                        .iter()
                        .map(|t| t.to_string())
                        .filter(|t| t != "null")
                        .map(|t| article(&t))
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                let found = here.map(describe).unwrap_or_else(|| "nothing".into());
                let mut d = self.err_value(&ptr, format!("expected {expected}, found {found}"));
                if matches!(here, Some(Value::String(s)) if matches!(s.as_str(), ".nan" | ".inf" | "-.inf"))
                {
                    d = d.with_help("use a finite number");
                } else if here.is_some_and(Value::is_null) {
                    d = d.with_help(format!(
                        "`null` (or an empty value) is not {expected}: give a value, or leave the key out where it is optional"
                    ));
                } else if expected.contains("array") && here.is_some_and(|v| !v.is_array()) {
                    d = d.with_help("write a list: `- item` on its own lines, or `[a, b]`");
                }
                out.push(d);
            }
            ValidationErrorKind::Enum { options } => {
                let opts: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let shown = here.map(short).unwrap_or_default();
                let mut d = self.err_value(&ptr, format!("unknown value {shown}{}", where_(&ptr)));
                d = d.with_help(
                    match here.and_then(Value::as_str).and_then(|s| suggest(s, &opts)) {
                        Some(s) => format!("did you mean `{s}`? (one of {})", backticked(&opts)),
                        None => format!("expected one of {}", backticked(&opts)),
                    },
                );
                out.push(d);
            }
            ValidationErrorKind::Constant { expected_value } => {
                out.push(self.err_value(
                    &ptr,
                    format!(
                        "expected {}, found {}",
                        short(expected_value),
                        here.map(short).unwrap_or_default()
                    ),
                ));
            }
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit }
            | ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => {
                let relation = match err.kind() {
                    ValidationErrorKind::Minimum { .. } => "below the minimum",
                    ValidationErrorKind::ExclusiveMinimum { .. } => "not above",
                    ValidationErrorKind::Maximum { .. } => "above the maximum",
                    _ => "not below",
                };
                let shown = here.map(short).unwrap_or_default();
                out.push(
                    self.err_value(&ptr, format!("{shown} is {relation} {limit}"))
                        .with_help(range_help(&ptr)),
                );
            }
            ValidationErrorKind::MinItems { limit } | ValidationErrorKind::MinLength { limit } => {
                let unit = if matches!(err.kind(), ValidationErrorKind::MinItems { .. }) {
                    "items"
                } else {
                    "characters"
                };
                let msg = if *limit <= 1 {
                    format!("{} must not be empty", field_name(&ptr))
                } else {
                    format!("{} needs at least {limit} {unit}", field_name(&ptr))
                };
                out.push(self.err_value(&ptr, msg));
            }
            ValidationErrorKind::MaxItems { limit } | ValidationErrorKind::MaxLength { limit } => {
                let unit = if matches!(err.kind(), ValidationErrorKind::MaxItems { .. }) {
                    "items"
                } else {
                    "characters"
                };
                out.push(self.err_value(
                    &ptr,
                    format!("{} has more than {limit} {unit}", field_name(&ptr)),
                ));
            }
            ValidationErrorKind::Pattern { .. } => {
                let shown = here.map(short).unwrap_or_default();
                let (msg, help) = match last_segment(&ptr) {
                    "version" => (
                        format!("{shown} is not a semantic version"),
                        "write MAJOR.MINOR.PATCH, e.g. `1.0.0`".to_string(),
                    ),
                    seg => (
                        format!("{shown} is not a valid {seg}"),
                        "use letters, digits, `.`, `_` and `-`, starting with a letter or digit"
                            .to_string(),
                    ),
                };
                out.push(self.err_value(&ptr, msg).with_help(help));
            }
            ValidationErrorKind::MinProperties { .. }
            | ValidationErrorKind::MaxProperties { .. } => {
                let names = self.property_names(self.schema_holding(err));
                let msg = if matches!(err.kind(), ValidationErrorKind::MinProperties { .. }) {
                    format!("{} is empty", field_name(&ptr))
                } else {
                    format!("{} has more than one source", field_name(&ptr))
                };
                out.push(
                    self.err_value(&ptr, msg)
                        .with_help(format!("give exactly one of {}", backticked(&names))),
                );
            }
            ValidationErrorKind::OneOfNotValid { context } => {
                self.map_one_of(err, &ptr, context, out)
            }
            ValidationErrorKind::AnyOf { context } => {
                let non_null: Vec<&Vec<ValidationError<'static>>> =
                    context.iter().filter(|b| !is_null_type_error(b)).collect();
                match non_null.as_slice() {
                    [branch] => branch.iter().for_each(|e| self.map(e, out)),
                    _ => out.push(self.err_value(&ptr, err.to_string())),
                }
            }
            ValidationErrorKind::OneOfMultipleValid { .. } => {
                let (msg, help) = union_text(self.schema_holding(err), true);
                out.push(self.err_value(&ptr, msg).with_help(help));
            }
            ValidationErrorKind::Not { .. } => {
                let present: Vec<String> = here
                    .and_then(Value::as_object)
                    .map(|m| {
                        ["resize", "mean", "std", "layout", "grayscale"]
                            .iter()
                            .filter(|k| m.contains_key(**k))
                            .map(|k| k.to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(
                    self.err_value(
                        &ptr,
                        format!(
                            "{} appl{} to `image` inputs only",
                            backticked(&present),
                            if present.len() == 1 { "ies" } else { "y" }
                        ),
                    )
                    .with_help("remove them, or use `image:` instead of `npy:`"),
                );
            }
            _ => out.push(self.err_value(&ptr, err.to_string())),
        }
    }

    fn map_one_of(
        &self,
        err: &ValidationError,
        ptr: &str,
        context: &[Vec<ValidationError<'static>>],
        out: &mut Vec<Diagnostic>,
    ) {
        let here = self.value_at(ptr);
        let consts: Option<Vec<String>> = context
            .iter()
            .map(|branch| match branch.as_slice() {
                [e] if e.instance_path().as_str() == ptr => match e.kind() {
                    ValidationErrorKind::Constant { expected_value } => {
                        expected_value.as_str().map(str::to_string)
                    }
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if let Some(options) = consts {
            let shown = here.map(short).unwrap_or_default();
            let help = match here
                .and_then(Value::as_str)
                .and_then(|s| suggest(s, &options))
            {
                Some(s) => format!("did you mean `{s}`? (one of {})", backticked(&options)),
                None => format!("expected one of {}", backticked(&options)),
            };
            out.push(
                self.err_value(ptr, format!("unknown value {shown}{}", where_(ptr)))
                    .with_help(help),
            );
            return;
        }
        let tag_ptr = format!("{ptr}/type");
        let is_tagged = context.iter().any(|branch| {
            branch.iter().any(|e| {
                e.instance_path().as_str() == tag_ptr
                    && matches!(e.kind(), ValidationErrorKind::Constant { .. })
            })
        });
        if !is_tagged {
            let matched: Vec<&Vec<ValidationError<'static>>> = context
                .iter()
                .filter(|b| {
                    !b.iter()
                        .any(|e| matches!(e.kind(), ValidationErrorKind::Required { .. }))
                })
                .collect();
            if let [branch] = matched.as_slice() {
                branch.iter().for_each(|e| self.map(e, out));
                return;
            }
            let only_structure = context.iter().all(|branch| {
                branch.iter().all(|e| {
                    e.instance_path().as_str() == ptr
                        && matches!(
                            e.kind(),
                            ValidationErrorKind::Required { .. } | ValidationErrorKind::Not { .. }
                        )
                })
            });
            if only_structure {
                let (msg, help) = union_text(self.schema_holding(err), false);
                out.push(self.err_value(ptr, msg).with_help(help));
                return;
            }
            let best = context.iter().filter(|b| !b.is_empty()).min_by_key(|b| {
                b.iter()
                    .filter(|e| matches!(e.kind(), ValidationErrorKind::Required { .. }))
                    .count()
            });
            match best {
                Some(branch) => branch.iter().for_each(|e| self.map(e, out)),
                None => out.push(self.err_value(ptr, err.to_string())),
            }
            return;
        }
        let types: Vec<String> = self
            .schema_holding(err)
            .and_then(|s| s.get("oneOf"))
            .and_then(Value::as_array)
            .map(|branches| {
                branches
                    .iter()
                    .filter_map(|b| {
                        self.deref(b)
                            .pointer("/properties/type/const")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let tag = here.and_then(|v| v.get("type"));
        match tag {
            None => {
                let d = if here.is_some_and(Value::is_object) {
                    self.err_value(ptr, format!("missing required key `type`{}", where_(ptr)))
                } else {
                    self.err_value(
                        ptr,
                        format!(
                            "expected a mapping with a `type`, found {}",
                            here.map(describe).unwrap_or_default()
                        ),
                    )
                };
                out.push(d.with_help(format!("add `type:` with one of {}", backticked(&types))));
            }
            Some(Value::String(t)) if !types.contains(t) => {
                let help = match suggest(t, &types) {
                    Some(s) => format!("did you mean `{s}`? (one of {})", backticked(&types)),
                    None => format!("expected one of {}", backticked(&types)),
                };
                out.push(
                    self.err_value(&tag_ptr, format!("unknown type `{t}`"))
                        .with_help(help),
                );
            }
            Some(Value::String(_)) => {
                let branch = context.iter().find(|b| {
                    !b.iter().any(|e| {
                        e.instance_path().as_str() == tag_ptr
                            && matches!(e.kind(), ValidationErrorKind::Constant { .. })
                    })
                });
                if let Some(branch) = branch {
                    branch.iter().for_each(|e| self.map(e, out));
                }
            }
            Some(other) => out.push(
                self.err_value(
                    &tag_ptr,
                    format!("expected a string, found {}", describe(other)),
                )
                .with_help(format!("one of {}", backticked(&types))),
            ),
        }
    }
}

fn is_null_type_error(branch: &[ValidationError<'static>]) -> bool {
    matches!(branch, [e] if matches!(e.kind(), ValidationErrorKind::Type { kind: TypeKind::Single(t) } if t.to_string() == "null"))
}

/// What to say when an "either this or that" object matches no alternative (or several).
fn union_text(schema: Option<&Value>, several: bool) -> (String, String) {
    let alternatives: Vec<Vec<String>> = schema
        .and_then(|s| s.get("oneOf"))
        .and_then(Value::as_array)
        .map(|branches| {
            branches
                .iter()
                .map(|b| {
                    b.get("required")
                        .and_then(Value::as_array)
                        .map(|r| {
                            r.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
    let described: Vec<String> = alternatives
        .iter()
        .map(|keys| {
            keys.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .collect();
    let either = described.join(" or ");
    if several {
        (
            format!("give either {either}, not both"),
            "remove one of them".to_string(),
        )
    } else {
        (format!("needs either {either}"), format!("add {either}"))
    }
}

/// The closest allowed name, when it is close enough to be a likely typo.
pub fn suggest(given: &str, allowed: &[String]) -> Option<String> {
    let g = given.to_lowercase();
    allowed
        .iter()
        .map(|a| (strsim::jaro_winkler(&g, &a.to_lowercase()), a))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, a)| a.clone())
}

/// A list of names as `a`, `b`, `c`.
pub fn backticked(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn where_(ptr: &str) -> String {
    if ptr.is_empty() {
        " at the top level".to_string()
    } else {
        format!(" in `{}`", display_path(ptr))
    }
}

/// `/gates/1/threshold` as `gates[1].threshold`.
pub fn display_path(ptr: &str) -> String {
    let mut out = String::new();
    for seg in ptr.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.parse::<usize>().is_ok() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

fn field_name(ptr: &str) -> String {
    if ptr.is_empty() {
        "the document".into()
    } else {
        format!("`{}`", display_path(ptr))
    }
}

fn last_segment(ptr: &str) -> &str {
    ptr.rsplit('/').next().unwrap_or("")
}

fn range_help(ptr: &str) -> String {
    if ptr.ends_with("/threshold") {
        "`accuracy` is a fraction from 0 to 1, `*_percent` metrics are 0 to 100, other metrics are non-negative".into()
    } else {
        "see `edgegate schema` for the allowed range".into()
    }
}

fn article(t: &str) -> String {
    match t {
        "object" => "a mapping".into(),
        "array" => "a list".into(),
        "integer" => "an integer".into(),
        "null" => "null".into(),
        other => format!("a {other}"),
    }
}

/// A value's kind, in YAML words, with the value when it is short.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("a boolean `{b}`"),
        Value::Number(n) => format!("a number `{n}`"),
        Value::String(s) if matches!(s.as_str(), ".nan" | ".inf" | "-.inf") => {
            format!("`{s}` (not a finite number)")
        }
        Value::String(s) if s.chars().count() <= 40 => format!("a string `{s}`"),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn short(v: &Value) -> String {
    match v {
        Value::String(s) if s.chars().count() <= 60 => format!("`{s}`"),
        Value::String(_) => "the string".into(),
        Value::Number(n) => format!("`{n}`"),
        other => describe(other),
    }
}

fn first_sentence(s: &str) -> String {
    let end = s.find(". ").map(|i| i + 1).unwrap_or(s.len());
    let mut out = s[..end].to_string();
    if let Some(first) = out.get(0..1) {
        out.replace_range(0..1, &first.to_lowercase());
    }
    out
}
