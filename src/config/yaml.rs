//! Parses a YAML (or JSON) document into a JSON value plus the source position of every value and
//! every mapping key, addressed by JSON pointer, so that any later check can point at the line.

use std::collections::HashMap;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A parsed document: the value, and where each part of it came from.
#[derive(Debug, Clone, Default)]
pub struct SpannedDoc {
    /// The document as plain JSON.
    pub value: Value,
    /// JSON pointer of a value → where the value starts.
    pub values: HashMap<String, Pos>,
    /// JSON pointer of a mapping entry → where its key starts.
    pub keys: HashMap<String, Pos>,
    /// Keys that appear twice in one mapping: (pointer of the entry, position of the repeat).
    pub duplicate_keys: Vec<(String, Pos)>,
}

impl SpannedDoc {
    /// The best position for a pointer: the value, or failing that the closest enclosing value.
    pub fn pos_of_value(&self, pointer: &str) -> Pos {
        let mut p = pointer.to_string();
        loop {
            if let Some(pos) = self.values.get(&p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return Pos { line: 1, col: 1 },
            }
        }
    }

    /// The position of a mapping key, or of its value when the key is unknown.
    pub fn pos_of_key(&self, pointer: &str) -> Pos {
        self.keys
            .get(pointer)
            .copied()
            .unwrap_or_else(|| self.pos_of_value(pointer))
    }
}

/// Why a document could not be parsed at all.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Parses YAML or JSON text.
pub fn parse(text: &str) -> Result<SpannedDoc, SyntaxError> {
    if text.trim().is_empty() {
        return Ok(SpannedDoc {
            value: Value::Null,
            ..Default::default()
        });
    }
    let root: Spanned<Node> = serde_saphyr::from_str(text).map_err(|e| {
        let pos = e
            .location()
            .map(|l| Pos {
                line: l.line().max(1) as u32,
                col: l.column().max(1) as u32,
            })
            .unwrap_or(Pos { line: 1, col: 1 });
        SyntaxError {
            pos,
            message: first_line(&e.to_string()),
        }
    })?;
    let mut doc = SpannedDoc::default();
    doc.value = flatten(root, String::new(), &mut doc);
    Ok(doc)
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("invalid YAML").trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    line.to_string()
}

fn to_pos(s: &Spanned<impl Sized>) -> Pos {
    Pos {
        line: s.referenced.line() as u32,
        col: s.referenced.column() as u32,
    }
}

fn flatten(node: Spanned<Node>, pointer: String, doc: &mut SpannedDoc) -> Value {
    doc.values.insert(pointer.clone(), to_pos(&node));
    match node.value {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Int(i) => Value::Number(i.into()),
        Node::UInt(u) => Value::Number(u.into()),
        Node::Float(f) => Number::from_f64(f).map(Value::Number).unwrap_or_else(|| {
            // JSON has no NaN or infinity: keep the YAML spelling so checks can say what it was.
            Value::String(if f.is_nan() {
                ".nan".into()
            } else if f > 0.0 {
                ".inf".into()
            } else {
                "-.inf".into()
            })
        }),
        Node::Str(s) => Value::String(s),
        Node::Seq(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| flatten(item, format!("{pointer}/{i}"), doc))
                .collect(),
        ),
        Node::Map(entries) => {
            let mut map = Map::new();
            for (key, val) in entries {
                let child = format!("{pointer}/{}", escape_segment(&key.value));
                if map.contains_key(&key.value) {
                    doc.duplicate_keys.push((child.clone(), to_pos(&key)));
                }
                doc.keys.entry(child.clone()).or_insert(to_pos(&key));
                let v = flatten(val, child, doc);
                map.insert(key.value, v);
            }
            Value::Object(map)
        }
    }
}

/// One YAML node with span-carrying children.
#[derive(Debug)]
enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// Map keys must be text; a number or boolean key is kept as its text.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::UInt(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Float(v as f64))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Float(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
        Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((
                Spanned {
                    value: key.value.0,
                    referenced: key.referenced,
                    defined: key.defined,
                },
                value,
            ));
        }
        Ok(Node::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_values_and_keys() {
        let doc = parse("name: x\ngates:\n  - metric: a\n    threshold: 1.5\n").unwrap();
        assert_eq!(doc.value["gates"][0]["threshold"], 1.5);
        assert_eq!(doc.values["/name"], Pos { line: 1, col: 7 });
        assert_eq!(doc.keys["/gates"], Pos { line: 2, col: 1 });
        assert_eq!(doc.values["/gates/0/threshold"], Pos { line: 4, col: 16 });
        assert_eq!(doc.keys["/gates/0/threshold"], Pos { line: 4, col: 5 });
    }

    #[test]
    fn json_parses_too() {
        let doc = parse("{\"a\": [1, 2, {\"b\": null}]}").unwrap();
        assert_eq!(doc.value["a"][2]["b"], Value::Null);
        assert_eq!(doc.values["/a/1"].line, 1);
    }

    #[test]
    fn duplicate_keys_are_recorded() {
        let doc = parse("a: 1\nb: 2\na: 3\n");
        match doc {
            Ok(doc) => assert_eq!(
                doc.duplicate_keys,
                vec![("/a".to_string(), Pos { line: 3, col: 1 })]
            ),
            Err(e) => assert_eq!(e.pos.line, 3, "{e:?}"),
        }
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.line >= 1, "{e:?}");
        assert!(!e.message.is_empty());
    }
}
