//! The JSON schemas generated from the config types (the contract editors and other tools read),
//! and their compiled validators, which the loader runs first so that the schema and the loader
//! can never disagree about what a valid file is.

use std::sync::OnceLock;

use serde_json::Value;

use super::promptpack::Promptpack;
use super::types::Config;

/// Which document a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Config,
    Promptpack,
}

impl DocKind {
    /// The committed file under `schemas/`.
    pub fn file_name(self) -> &'static str {
        match self {
            DocKind::Config => "edgegate.schema.json",
            DocKind::Promptpack => "promptpack.schema.json",
        }
    }
}

/// The schema of `edgegate.yaml`.
pub fn config_schema() -> Value {
    let mut v = to_value(schemars::schema_for!(Config));
    forbid_null(&mut v);
    v
}

/// The schema of promptpack files.
pub fn promptpack_schema() -> Value {
    let mut v = to_value(schemars::schema_for!(Promptpack));
    forbid_null(&mut v);
    v
}

/// Drops `null` from every type the generator allowed it in (optional fields): in a file, an
/// optional key is left out, and `threshold: null` must be an error at the `null`, not a gate
/// that silently has no threshold.
fn forbid_null(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type")
                && types.iter().all(Value::is_string)
            {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    let only = only.clone();
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(branches)) = map.get_mut("anyOf") {
                branches.retain(|b| b.get("type").and_then(Value::as_str) != Some("null"));
                if let [only] = branches.as_slice()
                    && let Value::Object(inner) = only.clone()
                {
                    map.remove("anyOf");
                    for (k, val) in inner {
                        map.entry(k).or_insert(val);
                    }
                }
            }
            map.values_mut().for_each(forbid_null);
        }
        Value::Array(items) => items.iter_mut().for_each(forbid_null),
        _ => {}
    }
}

/// The schema of a document kind.
pub fn schema_of(kind: DocKind) -> Value {
    match kind {
        DocKind::Config => config_schema(),
        DocKind::Promptpack => promptpack_schema(),
    }
}

/// The schema as the committed file holds it: pretty JSON with a final newline.
pub fn schema_text(kind: DocKind) -> String {
    let mut s = serde_json::to_string_pretty(&schema_of(kind)).unwrap_or_default();
    s.push('\n');
    s
}

fn to_value(schema: schemars::Schema) -> Value {
    schema.to_value()
}

/// A schema with its compiled validator, built once per process.
pub struct Compiled {
    pub schema: Value,
    pub validator: jsonschema::Validator,
}

/// Starts compiling the promptpack's schema on another thread, once per process, so that it is
/// ready when a large promptpack has been parsed (compiling takes about as long as parsing a
/// thousand cases). [`compiled`] waits for it, or compiles itself if it gets there first.
pub fn compile_in_background() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new().name("schema".into()).spawn(|| {
            compiled(DocKind::Promptpack);
        });
        // No thread (resource limits): the schema is compiled when first needed instead.
        drop(spawned);
    });
}

/// The compiled schema of a document kind.
pub fn compiled(kind: DocKind) -> &'static Compiled {
    static CONFIG: OnceLock<Compiled> = OnceLock::new();
    static PACK: OnceLock<Compiled> = OnceLock::new();
    let cell = match kind {
        DocKind::Config => &CONFIG,
        DocKind::Promptpack => &PACK,
    };
    cell.get_or_init(|| {
        let schema = schema_of(kind);
        let validator = jsonschema::options()
            .should_validate_formats(false)
            .build(&schema)
            .unwrap_or_else(|e| panic!("the generated {kind:?} schema does not compile: {e}"));
        Compiled { schema, validator }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_compile_and_describe_every_field() {
        for kind in [DocKind::Config, DocKind::Promptpack] {
            let c = compiled(kind);
            assert_eq!(
                c.schema["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
            let mut missing = Vec::new();
            collect_undescribed(&c.schema, "", &mut missing);
            assert!(
                missing.is_empty(),
                "{kind:?}: properties without description: {missing:?}"
            );
        }
    }

    fn collect_undescribed(v: &Value, at: &str, out: &mut Vec<String>) {
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            for (name, p) in props {
                if name != "type" && p.get("description").is_none() {
                    out.push(format!("{at}/{name}"));
                }
            }
        }
        match v {
            Value::Object(m) => m
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "allOf" | "if" | "then" | "not"))
                .for_each(|(k, c)| collect_undescribed(c, &format!("{at}/{k}"), out)),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, c)| collect_undescribed(c, &format!("{at}/{i}"), out)),
            _ => {}
        }
    }
}
