//! Parses a YAML (or JSON) document into a JSON value plus the source position of every value and
//! every mapping key, addressed by JSON pointer, so that any later check can point at the line.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// A 1-based line and column in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// Where one value (and, inside a mapping, its key) came from, with its children's positions.
#[derive(Debug, Clone, Default)]
pub struct PosNode {
    pub pos: Pos,
    pub key: Option<Pos>,
    children: PosChildren,
    /// For a key repeated in its mapping, the value of its first occurrence, which this node's
    /// positions describe (the document's value is the last occurrence's).
    first: Option<Box<Value>>,
}

#[derive(Debug, Clone, Default)]
enum PosChildren {
    #[default]
    Leaf,
    Seq(Vec<PosNode>),
    /// One node per entry of the mapping, in the mapping's (document) order: the key names are
    /// the value's, so they are not stored twice.
    Map(Vec<PosNode>),
}

impl PosNode {
    /// The child at `segment`, with the part of the value it describes.
    fn child<'v>(&'v self, value: &'v Value, segment: &str) -> Option<(&'v PosNode, &'v Value)> {
        let value = self.first.as_deref().unwrap_or(value);
        match (&self.children, value) {
            (PosChildren::Seq(items), Value::Array(values)) => {
                let i = segment.parse::<usize>().ok()?;
                Some((items.get(i)?, values.get(i)?))
            }
            (PosChildren::Map(entries), Value::Object(map)) => {
                let key = unescape_segment(segment);
                let i = map.keys().position(|k| *k == key)?;
                Some((entries.get(i)?, map.get(&key)?))
            }
            _ => None,
        }
    }
}

/// A parsed document: the value, and where each part of it came from.
#[derive(Debug, Clone, Default)]
pub struct SpannedDoc {
    /// The document as plain JSON.
    pub value: Value,
    /// Positions, shaped like `value`.
    pub positions: PosNode,
    /// Keys that appear twice in one mapping: (pointer of the entry, position of the repeat).
    pub duplicate_keys: Vec<(String, Pos)>,
}

impl SpannedDoc {
    /// Frees a large document on another thread: freeing tens of thousands of small maps takes
    /// as long as checking them, and nothing waits for it.
    pub fn drop_in_background(self) {
        if !self.is_large() {
            return;
        }
        let freeing = std::thread::Builder::new()
            .name("free".into())
            .spawn(move || drop(self));
        // No thread to be had: the document was freed here, when the error dropped it.
        drop(freeing);
    }

    /// Whether the document is large enough (a thousand cases, roughly) for work on it to be
    /// worth sharing with another thread.
    pub fn is_large(&self) -> bool {
        self.top_level_len() >= LARGE_DOC_VALUES
    }

    /// How many values the document's top level holds, a cheap measure of its size.
    fn top_level_len(&self) -> usize {
        match &self.value {
            Value::Object(map) => map.values().map(|v| v.as_array().map_or(1, Vec::len)).sum(),
            Value::Array(items) => items.len(),
            _ => 1,
        }
    }

    /// The deepest node on the pointer's path that exists.
    fn deepest(&self, pointer: &str) -> (&PosNode, bool) {
        let mut node = &self.positions;
        let mut value = &self.value;
        for seg in pointer.split('/').skip(1) {
            match node.child(value, seg) {
                Some((n, v)) => (node, value) = (n, v),
                None => return (node, false),
            }
        }
        (node, true)
    }

    /// The best position for a pointer: the value, or failing that the closest enclosing value.
    pub fn pos_of_value(&self, pointer: &str) -> Pos {
        let pos = self.deepest(pointer).0.pos;
        if pos.line == 0 {
            Pos { line: 1, col: 1 }
        } else {
            pos
        }
    }

    /// The position of a mapping key, or of its value when the key is unknown.
    pub fn pos_of_key(&self, pointer: &str) -> Pos {
        match self.deepest(pointer) {
            (node, true) => node.key.unwrap_or(node.pos),
            _ => self.pos_of_value(pointer),
        }
    }
}

/// Why a document could not be parsed at all.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
    /// What to do, when it is more specific than "check the syntax here".
    pub help: Option<&'static str>,
}

/// The lines of a source text as the parser numbers them: YAML 1.2 breaks lines at `\r\n`, `\n`
/// and a lone `\r`, so line N of a [`Pos`] is item N - 1 here. Like [`str::lines`], a final
/// line break ends the last line rather than starting an empty one.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest.filter(|t| !t.is_empty())?;
        match t.find(['\r', '\n']) {
            Some(i) => {
                let skip = if t[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&t[i + skip..]);
                Some(&t[..i])
            }
            None => {
                rest = None;
                Some(t)
            }
        }
    })
}

/// The position just after `text`, counted as [`lines`] and the parser count: for a file whose
/// first bytes are `text`, where the next character starts.
pub fn end_of(text: &str) -> Pos {
    let last = text.rfind(['\r', '\n']);
    let breaks = text.matches(['\r', '\n']).count() - text.matches("\r\n").count();
    let tail = last.map_or(text, |i| &text[i + 1..]);
    Pos {
        line: breaks as u32 + 1,
        col: tail.chars().count() as u32 + 1,
    }
}

/// Escapes one JSON pointer segment (RFC 6901).
pub fn escape_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn unescape_segment(s: &str) -> String {
    s.replace("~1", "/").replace("~0", "~")
}

/// Nodes (including alias expansions) above which a document is refused as too large.
pub const MAX_NODES: usize = 2_000_000;
/// Nesting depth above which a document is refused.
pub const MAX_DEPTH: usize = 128;

/// One parser event with the position where it starts, or the syntax error that ends the text.
type Item = Result<(Event, Pos), SyntaxError>;

/// The YAML event stream of `text` (yaml-rust2's parser), with 1-based positions, ending after
/// the stream's end or the first syntax error.
fn events(text: &str) -> impl Iterator<Item = Item> + '_ {
    let mut parser = Parser::new_from_str(text);
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let item = match parser.next_token() {
            Ok((event, mark)) => {
                done = event == Event::StreamEnd;
                let pos = Pos {
                    line: mark.line().max(1) as u32,
                    col: mark.col() as u32 + 1,
                };
                Ok((event, pos))
            }
            Err(e) => {
                done = true;
                // Something left open at the end of the text (a `[`, a quote) is reported
                // where the text's last line ends, not on the empty line after it.
                let pos = match text.char_indices().nth(e.marker().index()) {
                    Some((at, _)) if !text[at..].trim().is_empty() => end_of(&text[..at]),
                    _ => end_of(text.trim_end()),
                };
                Err(SyntaxError {
                    pos,
                    message: e.info().to_owned(),
                    help: None,
                })
            }
        };
        Some(item)
    })
}

/// Parses YAML or JSON text holding exactly one document.
///
/// Built directly on the YAML event stream (the parser serde-saphyr uses), so that every value
/// and key keeps its position in one pass. Mappings keep no copy of their keys' names and no
/// container its JSON pointer: positions are looked up (rarely, for a diagnostic) by walking
/// the value and the positions together.
/// A second document (after `---` or `...`) is an error at its start, never silently ignored.
///
/// A large text is parsed on two threads: one reads the events, the other builds the value
/// from them, in batches. The two halves cost about the same, so a promptpack of thousands of
/// cases is ready in little more than the time the parser alone takes.
pub fn parse(text: &str) -> Result<SpannedDoc, SyntaxError> {
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| !printable(c)) {
        return Err(SyntaxError {
            pos: end_of(&text[..at]),
            message: format!(
                "the text holds a control character (U+{:04X}), which YAML does not allow",
                u32::from(c)
            ),
            help: Some("remove it: a YAML file is printable text (tabs and line breaks are fine)"),
        });
    }
    if text.len() < PIPELINE_BYTES {
        return build(events(text));
    }
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(BATCHES_IN_FLIGHT);
        let reader = std::thread::Builder::new()
            .name("yaml".into())
            .spawn_scoped(s, move || {
                let mut batch = Vec::with_capacity(BATCH);
                for item in events(text) {
                    let failed = item.is_err();
                    batch.push(item);
                    if batch.len() == BATCH || failed {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        // The builder stopped (an error, or it has what it needs): so do we.
                        if tx.send(full).is_err() || failed {
                            return;
                        }
                    }
                }
                let _ = tx.send(batch);
            });
        match reader {
            Ok(_) => build(rx.into_iter().flatten()),
            // No thread to be had: parse on this one.
            Err(_) => build(events(text)),
        }
    })
}

/// Documents with at least this many top-level values (cases, roughly) are large: checked and
/// freed on more than one thread.
const LARGE_DOC_VALUES: usize = 1000;

/// Whether YAML 1.2 allows `c` in a stream (its `c-printable`, with a byte order mark).
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Texts this long or longer are parsed on two threads (see [`parse`]).
const PIPELINE_BYTES: usize = 64 * 1024;
/// Events handed from the reading thread to the building one at a time.
const BATCH: usize = 1024;
/// Batches the reading thread may be ahead by.
const BATCHES_IN_FLIGHT: usize = 8;

/// Builds the document from its event stream.
fn build(items: impl Iterator<Item = Item>) -> Result<SpannedDoc, SyntaxError> {
    let mut b = Builder::default();
    let mut first_done = false;
    let mut items = items.into_iter();
    while let Some(item) = items.next() {
        let (event, pos) = item?;
        if first_done {
            if matches!(event, Event::DocumentStart) {
                // An implicit start is marked after the document's first character: its first
                // nodes say where it really starts.
                let pos = items
                    .by_ref()
                    .take(3)
                    .map_while(Result::ok)
                    .fold(pos, |at, (_, next)| at.min(next));
                return Err(SyntaxError {
                    pos,
                    message: "a second YAML document starts here; the file must hold exactly one"
                        .into(),
                    help: Some(
                        "remove the `---` line and everything after it, or merge the documents into one",
                    ),
                });
            }
            continue;
        }
        first_done = b.event(event, pos)?;
    }
    let (value, positions) = b.root.unwrap_or_default();
    Ok(SpannedDoc {
        value,
        positions,
        duplicate_keys: b.duplicate_keys,
    })
}

/// A container being filled.
enum Frame {
    Seq {
        items: Vec<Value>,
        pos: Vec<PosNode>,
        at: Pos,
        anchor: usize,
    },
    Map {
        map: Map<String, Value>,
        pos: Vec<PosNode>,
        /// The key whose value comes next, where it is, and whether the mapping already has it.
        key: Option<(String, Pos, bool)>,
        at: Pos,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<(Value, PosNode)>,
    anchors: HashMap<usize, (Value, usize)>,
    duplicate_keys: Vec<(String, Pos)>,
    nodes: usize,
    started: bool,
}

impl Builder {
    /// Handles one event; returns true when the first document is complete.
    fn event(&mut self, event: Event, pos: Pos) -> Result<bool, SyntaxError> {
        let err = |message: String| SyntaxError {
            pos,
            message,
            help: None,
        };
        match event {
            Event::DocumentStart => self.started = true,
            Event::DocumentEnd | Event::StreamEnd => return Ok(self.started || self.root.is_some()),
            Event::Scalar(text, style, anchor, tag) => {
                if self.expecting_key() {
                    self.set_key(text, pos);
                    return Ok(false);
                }
                let forced_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if style == TScalarStyle::Plain && !forced_str {
                    resolve_plain(&text)
                } else {
                    Value::String(text)
                };
                self.count(1, pos)?;
                if anchor != 0 {
                    self.anchors.insert(anchor, (value.clone(), 1));
                }
                self.push(value, leaf(pos));
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.expecting_key() {
                    return Err(err(
                        "a mapping key must be a plain value, not a list or mapping".into(),
                    ));
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Err(err(format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                self.count(1, pos)?;
                let frame = if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        pos: Vec::new(),
                        at: pos,
                        anchor,
                    }
                } else {
                    Frame::Map {
                        map: Map::new(),
                        pos: Vec::new(),
                        key: None,
                        at: pos,
                        anchor,
                    }
                };
                self.stack.push(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        items,
                        pos,
                        at,
                        anchor,
                    }) => (
                        Value::Array(items),
                        PosNode {
                            pos: at,
                            key: None,
                            children: PosChildren::Seq(pos),
                            first: None,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        map,
                        pos,
                        at,
                        anchor,
                        ..
                    }) => (
                        Value::Object(map),
                        PosNode {
                            pos: at,
                            key: None,
                            children: PosChildren::Map(pos),
                            first: None,
                        },
                        anchor,
                    ),
                    None => return Err(err("unbalanced document".into())),
                };
                if anchor != 0 {
                    let size = count_nodes(&value);
                    self.anchors.insert(anchor, (value.clone(), size));
                }
                self.push(value, node);
            }
            Event::Alias(id) => {
                let Some((value, size)) = self.anchors.get(&id).cloned() else {
                    return Err(err("alias to an unknown anchor".into()));
                };
                if self.expecting_key() {
                    match value {
                        Value::String(s) => self.set_key(s, pos),
                        _ => return Err(err("a mapping key must be a plain value".into())),
                    }
                    return Ok(false);
                }
                self.count(size, pos)?;
                self.push(value, leaf(pos));
            }
            _ => {}
        }
        Ok(false)
    }

    fn count(&mut self, n: usize, pos: Pos) -> Result<(), SyntaxError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(SyntaxError {
                pos,
                message: format!("the document expands to more than {MAX_NODES} values (aliases?)"),
                help: None,
            });
        }
        Ok(())
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn set_key(&mut self, key: String, at: Pos) {
        let repeated =
            matches!(self.stack.last(), Some(Frame::Map { map, .. }) if map.contains_key(&key));
        if repeated {
            let ptr = format!("{}/{}", self.container_ptr(), escape_segment(&key));
            self.duplicate_keys.push((ptr, at));
        }
        if let Some(Frame::Map {
            key: slot,
            at: start,
            map,
            ..
        }) = self.stack.last_mut()
        {
            // A block mapping's start is marked after its first key: the key is where it starts.
            if map.is_empty() && at < *start {
                *start = at;
            }
            *slot = Some((key, at, repeated));
        }
    }

    /// The pointer of the innermost open container, built from the stack (only a duplicate key
    /// needs it, so no container carries its own).
    fn container_ptr(&self) -> String {
        let mut ptr = String::new();
        let n = self.stack.len();
        for frame in self.stack.iter().take(n.saturating_sub(1)) {
            ptr.push('/');
            match frame {
                Frame::Seq { items, .. } => ptr.push_str(&items.len().to_string()),
                Frame::Map { key, .. } => {
                    ptr.push_str(&escape_segment(key.as_ref().map_or("", |k| k.0.as_str())));
                }
            }
        }
        ptr
    }

    fn push(&mut self, value: Value, mut node: PosNode) {
        match self.stack.last_mut() {
            None => self.root = Some((value, node)),
            Some(Frame::Seq { items, pos, .. }) => {
                items.push(value);
                pos.push(node);
            }
            Some(Frame::Map { map, pos, key, .. }) => {
                if let Some((k, key_at, repeated)) = key.take() {
                    node.key = Some(key_at);
                    // A repeated key keeps the place and positions of its first occurrence.
                    if !repeated {
                        pos.push(node);
                        map.insert(k, value);
                    } else if let Some(i) = map.keys().position(|key| *key == k)
                        && let Some(old) = map.insert(k, value)
                        && let Some(first) = pos.get_mut(i)
                        && first.first.is_none()
                    {
                        first.first = Some(Box::new(old));
                    }
                }
            }
        }
    }
}

fn leaf(pos: Pos) -> PosNode {
    PosNode {
        pos,
        key: None,
        children: PosChildren::Leaf,
        first: None,
    }
}

fn count_nodes(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(count_nodes).sum::<usize>(),
        Value::Object(m) => 1 + m.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

/// Resolves a plain scalar with the YAML 1.2 core schema.
fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return Value::String(".nan".into()),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::String(".inf".into());
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::String("-.inf".into()),
        _ => {}
    }
    let bytes = s.as_bytes();
    let digits = |b: &[u8]| !b.is_empty() && b.iter().all(u8::is_ascii_digit);
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits(unsigned.as_bytes()) {
        if let Ok(i) = s.parse::<i64>() {
            return Value::Number(i.into());
        }
        if let Ok(u) = s.trim_start_matches('+').parse::<u64>() {
            return Value::Number(u.into());
        }
    }
    if let Some(hex) = s.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Number(i.into());
    }
    if let Some(oct) = s.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Value::Number(i.into());
    }
    let looks_float = bytes
        .first()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.'))
        && bytes.iter().any(u8::is_ascii_digit)
        && bytes
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'));
    if looks_float && let Ok(f) = s.parse::<f64>() {
        return match Number::from_f64(f) {
            Some(n) => Value::Number(n),
            None => Value::String(if f > 0.0 {
                ".inf".into()
            } else {
                "-.inf".into()
            }),
        };
    }
    Value::String(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_where_the_parser_counts_lines() {
        let text = "a: 1\r\nb: 2\rc: 3\n\nd: [\n";
        assert_eq!(
            lines(text).collect::<Vec<_>>(),
            vec!["a: 1", "b: 2", "c: 3", "", "d: ["]
        );
        let e = parse("a: 1\rb: [\r\0").expect_err("a NUL is not YAML");
        assert_eq!((e.pos.line, e.pos.col), (3, 1));
        assert_eq!(lines("a: 1\rb: [\r\0").nth(2), Some("\0"));
        assert_eq!(lines("").count(), 0);
        assert_eq!(lines("x\n").collect::<Vec<_>>(), vec!["x"]);
        assert_eq!(end_of(""), Pos { line: 1, col: 1 });
        assert_eq!(end_of("ab"), Pos { line: 1, col: 3 });
        assert_eq!(end_of("a\r\nb\rcé"), Pos { line: 3, col: 3 });
        assert_eq!(end_of("a\n"), Pos { line: 2, col: 1 });
    }

    /// Every YAML file the project ships parses to the value serde-saphyr (the parser the rest
    /// of the crate deserializes YAML with) reads from it.
    #[test]
    fn shipped_yaml_parses_as_serde_saphyr_reads_it() {
        fn visit(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    visit(&path, found);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    found.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["examples", "tests", ".github", "templates"] {
            visit(&root.join(dir), &mut files);
        }
        assert!(files.len() > 5, "{files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let ours = parse(&text);
            let theirs = serde_saphyr::from_str::<Value>(&text);
            match (ours, theirs) {
                (Ok(ours), Ok(theirs)) => assert_eq!(ours.value, theirs, "{}", file.display()),
                (Err(_), Err(_)) => {}
                (ours, theirs) => panic!(
                    "{}: ours {:?}, serde-saphyr {:?}",
                    file.display(),
                    ours.map(|d| d.value),
                    theirs
                ),
            }
        }
    }

    #[test]
    fn control_characters_are_refused_where_they_are() {
        let e = parse("a: 1\nb: x\0y\n").unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (2, 5));
        assert!(e.message.contains("U+0000"), "{e:?}");
        let e = parse("{\u{7}").unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (1, 2));
        assert!(parse("a: \"\u{85}é\u{FEFF}\"\n").is_ok());
    }

    #[test]
    fn positions_of_values_and_keys() {
        let doc = parse("name: x\ngates:\n  - metric: a\n    threshold: 1.5\n").unwrap();
        assert_eq!(doc.value["gates"][0]["threshold"], 1.5);
        assert_eq!(doc.pos_of_value("/name"), Pos { line: 1, col: 7 });
        assert_eq!(doc.pos_of_key("/gates"), Pos { line: 2, col: 1 });
        assert_eq!(
            doc.pos_of_value("/gates/0/threshold"),
            Pos { line: 4, col: 16 }
        );
        assert_eq!(
            doc.pos_of_key("/gates/0/threshold"),
            Pos { line: 4, col: 5 }
        );
        assert_eq!(
            doc.pos_of_value("/gates/0/missing"),
            Pos { line: 3, col: 5 }
        );
    }

    #[test]
    fn json_parses_too() {
        let doc = parse("{\"a\": [1, 2, {\"b\": null}]}").unwrap();
        assert_eq!(doc.value["a"][2]["b"], Value::Null);
        assert_eq!(doc.pos_of_value("/a/1"), Pos { line: 1, col: 11 });
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
    fn nested_duplicates_name_their_pointer_and_keep_the_first_position() {
        let doc = parse("a:\n  - x: 0\n  - b: 1\n    c/d: [1]\n    b: 2\n    c/d: 3\n").unwrap();
        assert_eq!(
            doc.duplicate_keys,
            vec![
                ("/a/1/b".to_string(), Pos { line: 5, col: 5 }),
                ("/a/1/c~1d".to_string(), Pos { line: 6, col: 5 }),
            ]
        );
        assert_eq!(doc.value["a"][1]["b"], 2);
        assert_eq!(doc.pos_of_value("/a/1/b"), Pos { line: 3, col: 8 });
        assert_eq!(doc.pos_of_key("/a/1/c~1d"), Pos { line: 4, col: 5 });
        assert_eq!(doc.pos_of_value("/a/1/c~1d/0"), Pos { line: 4, col: 11 });
        assert_eq!(doc.pos_of_value("/a/7"), Pos { line: 2, col: 3 });
    }

    #[test]
    fn scalars_resolve_with_the_core_schema() {
        let doc = parse("a: [1, -2, 0x10, 1.5, 1e3, .inf, .nan, true, ~, '1', !!str 2, x1, 99999999999999999999]").unwrap();
        assert_eq!(
            doc.value["a"],
            serde_json::json!([
                1, -2, 16, 1.5, 1000.0, ".inf", ".nan", true, null, "1", "2", "x1", 1e20
            ])
        );
    }

    #[test]
    fn aliases_expand_and_bombs_are_refused() {
        let doc = parse("a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(doc.value["b"], serde_json::json!([1, 2]));
        let mut bomb = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            bomb.push_str(&format!(
                "l{i}: &l{i} [{}]\n",
                vec![format!("*l{}", i - 1); 10].join(", ")
            ));
        }
        assert!(
            parse(&bomb)
                .unwrap_err()
                .message
                .contains("expands to more than")
        );
    }

    #[test]
    fn exactly_one_document_is_read_and_a_second_is_an_error_at_its_start() {
        for ok in [
            "a: 1\n",
            "--- \na: 1\n",
            "a: 1\n...\n",
            "# only\n",
            "---\na: 1\n...\n# end\n",
        ] {
            assert!(parse(ok).is_ok(), "{ok:?}");
        }
        for (text, line, col) in [
            ("a: 1\n---\nb: 2\n", 2, 1),
            ("a: 1\n---\n", 2, 1),
            ("---\na: 1\n--- !tag\n[", 3, 1),
            ("a: 1\n...\n\n  b: 2\n", 4, 3),
            ("{\"a\": 1}\n---\n{\"a\": 2}\n", 2, 1),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!((e.pos.line, e.pos.col), (line, col), "{text:?}: {e:?}");
            assert_eq!(
                e.message,
                "a second YAML document starts here; the file must hold exactly one"
            );
            assert!(e.help.is_some_and(|h| h.contains("`---`")));
        }
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.line >= 1, "{e:?}");
        assert!(!e.message.is_empty());
    }
}
