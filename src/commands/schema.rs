//! `edgegate schema`: print the JSON schema of edgegate.yaml, of promptpacks or of results.json.
//! Must not reach into clap; the schemas come from `config` and `results`.

use crate::config::schema::{DocKind, schema_text};
use crate::exit;

/// Which JSON schema to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    Config,
    Promptpack,
    Results,
}

/// `edgegate schema`: prints a JSON schema.
pub fn schema(kind: SchemaKind) -> i32 {
    let text = match kind {
        SchemaKind::Config => schema_text(DocKind::Config),
        SchemaKind::Promptpack => schema_text(DocKind::Promptpack),
        SchemaKind::Results => {
            let mut s = serde_json::to_string_pretty(&crate::results::Results::schema())
                .unwrap_or_default();
            s.push('\n');
            s
        }
    };
    print!("{text}");
    exit::PASSED
}
