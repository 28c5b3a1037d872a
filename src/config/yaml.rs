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
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PosNode {
    pub pos: Pos,
    pub key: Option<Pos>,
    children: PosChildren,
    /// For a key repeated in its mapping, the value of its first occurrence, which this node's
    /// positions describe (the document's value is the last occurrence's).
    first: Option<Box<Value>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
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
    /// Positions, shaped like `value`; for a large document, only its top two levels (see
    /// [`Positions::Lean`]), the rest being found in `reparse` when first asked for.
    positions: PosNode,
    /// Keys that appear twice in one mapping: (pointer of the entry, position of the repeat).
    pub duplicate_keys: Vec<(String, Pos)>,
    /// The text of a document parsed with lean positions, and its full positions once needed.
    reparse: Option<std::sync::Arc<Reparse>>,
}

/// What a document parsed with lean positions keeps to find the others.
#[derive(Debug, Default)]
struct Reparse {
    text: Box<str>,
    positions: std::sync::OnceLock<PosNode>,
}

/// Two documents are equal when their values, repeated keys and (full) positions are.
impl PartialEq for SpannedDoc {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
            && self.duplicate_keys == other.duplicate_keys
            && self.full_positions() == other.full_positions()
    }
}

/// Which positions a parse keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Positions {
    /// Every value's and key's.
    Full,
    /// Only those of the values on the document's top two levels (the top-level mapping and its
    /// entries), enough to join the parts of a large text (see [`parse_in_parts`]). The others
    /// are found by parsing the text again when a diagnostic first needs one: a valid promptpack
    /// of thousands of cases never needs them, and building them was a third of its memory.
    Lean,
}

impl SpannedDoc {
    /// A document with no positions (one built in memory, not read from a file).
    pub fn unplaced(value: Value) -> Self {
        Self {
            value,
            ..Self::default()
        }
    }

    /// The positions of every value, parsing the text again the first time for a document
    /// parsed with lean positions.
    fn full_positions(&self) -> &PosNode {
        match &self.reparse {
            None => &self.positions,
            Some(r) => r.positions.get_or_init(|| {
                parse_text(&r.text, Positions::Full)
                    .map(|doc| doc.positions)
                    // The text parsed once already: it parses again.
                    .unwrap_or_default()
            }),
        }
    }

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
        let mut node = self.full_positions();
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
/// the stream's end or the first syntax error. `lines_before` is added to every line: the
/// number of lines before `text` when it is a part of a larger text (see [`parse_in_parts`]).
fn events(text: &str, lines_before: u32) -> impl Iterator<Item = Item> + '_ {
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
                    line: mark.line().max(1) as u32 + lines_before,
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
/// A large text whose top level ends with a long block sequence (a promptpack's `cases:`) is
/// parsed in parts, one per core (see [`parse_in_parts`]), keeping the positions of its top two
/// levels only: the others are found by parsing the text again when first asked for (see
/// [`Positions::Lean`]). Any other large text is parsed on two threads: one reads the events, the
/// other builds the value from them, in batches.
pub fn parse(text: &str) -> Result<SpannedDoc, SyntaxError> {
    parse_text(text, Positions::Lean)
}

/// [`parse`], keeping lean positions for a text parsed in parts when `positions` is lean.
fn parse_text(text: &str, positions: Positions) -> Result<SpannedDoc, SyntaxError> {
    if let Some((at, c)) = first_unprintable(text) {
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
        return build(events(text, 0), 0, Positions::Full).map(|(doc, _)| doc);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = cores.min(text.len() / PIPELINE_BYTES).min(MAX_PARTS);
    if let Some(mut doc) = parse_in_parts(text, parts, positions) {
        if positions == Positions::Lean {
            doc.reparse = Some(std::sync::Arc::new(Reparse {
                text: text.into(),
                positions: std::sync::OnceLock::new(),
            }));
        }
        return Ok(doc);
    }
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Item>>(BATCHES_IN_FLIGHT);
        let reader = std::thread::Builder::new()
            .name("yaml".into())
            .spawn_scoped(s, move || {
                let mut batch = Vec::with_capacity(BATCH);
                for item in events(text, 0) {
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
            Ok(_) => build(rx.into_iter().flatten(), 0, Positions::Full),
            // No thread to be had: parse on this one.
            Err(_) => build(events(text, 0), 0, Positions::Full),
        }
    })
    .map(|(doc, _)| doc)
}

/// The first character YAML does not allow in a stream, with its byte offset. Printable ASCII
/// is passed over a block at a time: this runs on every byte of every file read.
fn first_unprintable(text: &str) -> Option<(usize, char)> {
    const BLOCK: usize = 32;
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let end = (at + BLOCK).min(bytes.len());
        let plain = bytes[at..end].iter().fold(true, |all, &b| {
            all & matches!(b, b' '..=b'~' | b'\t' | b'\n' | b'\r')
        });
        if plain {
            at = end;
            continue;
        }
        // `at` is at a character boundary: every block passed over was ASCII.
        let mut next = bytes.len();
        for (i, c) in text[at..].char_indices() {
            let i = at + i;
            if i >= end {
                next = i;
                break;
            }
            if !printable(c) {
                return Some((i, c));
            }
        }
        at = next;
    }
    None
}

/// At most this many parts (threads) for [`parse_in_parts`].
const MAX_PARTS: usize = 8;
/// How far past the place a part should start its first line is looked for.
const PART_SEARCH_BYTES: usize = 16 * 1024;

/// Parses a large text in `parts` parts on as many threads, when the text's top level is a
/// mapping whose last entry is a block sequence holding most of the text (`cases:`). The text
/// is cut at lines starting an entry of that sequence (`  - `, at the sequence's indentation):
/// the first part is the text up to the first cut, each other part is a run of entries parsed
/// on its own as a sequence, and their entries are appended to the first part's sequence.
///
/// Returns `None` (the caller parses the whole text instead) unless every part parses and the
/// cuts provably fall between entries of that one sequence: the first part's last entry is a
/// block sequence (its `-` at the cut lines' indentation) left open by the end of the part, and
/// each other part is one block sequence starting at its first line. A cut line can then only
/// be where the whole text's parser, in the same state, starts the sequence's next entry:
/// scalars spanning lines, flow collections and quotes left open by a cut make a part fail,
/// and a plain or block scalar ends before a line indented no deeper than its sequence. An
/// alias to an anchor in another part is unknown in its part, and fails it. Errors are never
/// reported from here: a text that fails is parsed whole, and the error is that parse's.
fn parse_in_parts(text: &str, parts: usize, positions: Positions) -> Option<SpannedDoc> {
    // Directives (`%TAG`) apply to the whole stream: not to the parts parsed alone.
    if parts < 2 || text.starts_with('%') || text.contains("\n%") || text.contains("\r%") {
        return None;
    }
    let (indent, cuts) = cut_points(text, parts)?;
    // A document ended (`...`) before the last part: the parts after it are not its entries.
    let last_cut = cuts[cuts.len() - 1];
    if text.starts_with("...") || text[..last_cut].contains("\n...") {
        return None;
    }
    let ends = cuts.iter().skip(1).copied().chain([text.len()]);
    let ranges: Vec<(usize, usize)> = cuts.iter().copied().zip(ends).collect();
    let parse_part = |(start, end): (usize, usize)| {
        let lines_before = line_breaks(&text[..start]);
        // The part's sequence is nested one level deeper in the whole text (in its mapping).
        build(events(&text[start..end], lines_before), 1, positions).ok()
    };
    let (first, others) = std::thread::scope(|s| {
        let handles: Vec<_> = ranges
            .iter()
            .map(|&range| {
                std::thread::Builder::new()
                    .name("yaml".into())
                    .spawn_scoped(s, move || parse_part(range))
            })
            .collect();
        let first = build(events(&text[..cuts[0]], 0), 0, positions).ok();
        let others: Vec<_> = handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                // No thread to be had: the text is parsed whole.
                Err(_) => None,
            })
            .collect();
        (first, others)
    });
    let (mut doc, mut nodes) = first?;
    let (Value::Object(map), PosChildren::Map(entries)) =
        (&mut doc.value, &mut doc.positions.children)
    else {
        return None;
    };
    let key = map.keys().next_back()?.clone();
    let pointer = format!("/{}", escape_segment(&key));
    let (Some(Value::Array(items)), Some(node)) = (map.get_mut(&key), entries.last_mut()) else {
        return None;
    };
    let PosChildren::Seq(item_nodes) = &mut node.children else {
        return None;
    };
    let starts_block_sequence = node.pos.col as usize == indent + 1
        && lines(text)
            .nth((node.pos.line as usize).checked_sub(1)?)
            .and_then(|line| line.chars().nth(indent))
            == Some('-');
    if !starts_block_sequence
        || node.first.is_some()
        // A repeated key is where it first was in the mapping: its last entry may be later.
        || doc.duplicate_keys.iter().any(|(p, _)| p.rfind('/') == Some(0))
        || (positions == Positions::Full && items.len() != item_nodes.len())
    {
        return None;
    }
    for (part, (start, _)) in others.into_iter().zip(ranges) {
        let (part, part_nodes) = part?;
        let at = Pos {
            line: line_breaks(&text[..start]) + 1,
            col: indent as u32 + 1,
        };
        let (Value::Array(more), PosChildren::Seq(more_nodes)) =
            (part.value, part.positions.children)
        else {
            return None;
        };
        if part.positions.pos != at
            || (positions == Positions::Full && more.len() != more_nodes.len())
        {
            return None;
        }
        // The part's own sequence counted once more than the whole text counts it.
        nodes += part_nodes - 1;
        if nodes > MAX_NODES {
            return None;
        }
        for (ptr, pos) in part.duplicate_keys {
            let (i, rest) = ptr.strip_prefix('/')?.split_once('/')?;
            let i = i.parse::<usize>().ok()? + items.len();
            doc.duplicate_keys
                .push((format!("{pointer}/{i}/{rest}"), pos));
        }
        items.extend(more);
        item_nodes.extend(more_nodes);
    }
    Some(doc)
}

/// Where to cut `text` into `parts` parts for [`parse_in_parts`]: the indentation of the lines
/// cut at and the byte offsets of the lines starting the second part onwards. Each cut is at
/// the first line, from an even share of the text on, that starts a block sequence entry
/// (`- ` after spaces) indented the least among the entries in the next few kilobytes.
fn cut_points(text: &str, parts: usize) -> Option<(usize, Vec<usize>)> {
    let mut cuts = Vec::with_capacity(parts - 1);
    let mut indent = None;
    for i in 1..parts {
        let from = (text.len() * i / parts).max(cuts.last().map_or(0, |c| c + 1));
        let window = &text.as_bytes()[from..(from + PART_SEARCH_BYTES).min(text.len())];
        let mut best: Option<(usize, usize)> = None;
        for nl in memchr::memchr_iter(b'\n', window) {
            let start = from + nl + 1;
            let line = &text.as_bytes()[start..];
            let spaces = line.iter().take_while(|&&b| b == b' ').count();
            let entry = line.get(spaces) == Some(&b'-')
                && matches!(line.get(spaces + 1), Some(b' ' | b'\n' | b'\r'));
            if entry && best.is_none_or(|(_, s)| spaces < s) && ends_no_block_scalar(&text[..start])
            {
                best = Some((start, spaces));
            }
        }
        let (cut, spaces) = best?;
        if *indent.get_or_insert(spaces) != spaces {
            return None;
        }
        cuts.push(cut);
    }
    Some((indent?, cuts))
}

/// Whether the last line of `text` that is not blank (the last before a cut) is neither a
/// comment nor a block scalar's header (`|`, `>-`, `|2+`...). yaml-rust2 reads a block scalar
/// with no content differently at the end of the text than before a less indented line, so a
/// part must not end with one; a line of content, or any other line, ends it.
fn ends_no_block_scalar(text: &str) -> bool {
    let last = text
        .trim_end_matches([' ', '\t', '\r', '\n'])
        .rsplit(['\n', '\r'])
        .next()
        .unwrap_or_default();
    !last.is_empty()
        && !last.contains('#')
        && !last.ends_with([
            '|', '>', '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
        ])
}

/// How many line breaks `text` holds, counted as the parser counts them (see [`lines`]).
fn line_breaks(text: &str) -> u32 {
    if text.contains('\r') {
        end_of(text).line - 1
    } else {
        memchr::memchr_iter(b'\n', text.as_bytes()).count() as u32
    }
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

/// Builds the document from its event stream, with how many values it holds (aliases
/// expanded). `depth` is how deep the document sits in a larger one (see [`parse_in_parts`]).
fn build(
    items: impl Iterator<Item = Item>,
    depth: usize,
    positions: Positions,
) -> Result<(SpannedDoc, usize), SyntaxError> {
    let mut b = Builder {
        depth,
        lean: positions == Positions::Lean,
        ..Builder::default()
    };
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
    let doc = SpannedDoc {
        value,
        positions,
        duplicate_keys: b.duplicate_keys,
        reparse: None,
    };
    Ok((doc, b.nodes))
}

/// A container being filled. Its entries are gathered in vectors reused from one container to
/// the next and moved into vectors and maps of exactly their size when it ends: a promptpack is
/// thousands of mappings of a few keys each, and growing each map, its index and its positions
/// one entry at a time was a fifth of building it.
enum Frame {
    Seq {
        items: Vec<Value>,
        pos: Vec<PosNode>,
        at: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<(String, Value)>,
        pos: Vec<PosNode>,
        /// Each key's entry, once the mapping has too many keys to search them one by one.
        index: Option<HashMap<String, usize>>,
        /// The key whose value comes next, where it is, and the entry it repeats, if any.
        key: Option<(String, Pos, Option<usize>)>,
        at: Pos,
        anchor: usize,
    },
}

/// Keys of a mapping searched one by one for a repeat; a larger mapping gets an index.
const KEYS_SEARCHED: usize = 16;

/// Emptied vectors, kept for the next container (at most one of each per level of nesting).
#[derive(Default)]
struct Spare {
    items: Vec<Vec<Value>>,
    entries: Vec<Vec<(String, Value)>>,
    pos: Vec<Vec<PosNode>>,
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<(Value, PosNode)>,
    anchors: HashMap<usize, (Value, usize)>,
    duplicate_keys: Vec<(String, Pos)>,
    nodes: usize,
    started: bool,
    /// Containers around the document in a larger one, counted towards [`MAX_DEPTH`].
    depth: usize,
    /// Keep positions only on the top two levels of the whole document ([`Positions::Lean`]).
    lean: bool,
    spare: Spare,
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
                    resolve_plain(text)
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
                if self.stack.len() + self.depth >= MAX_DEPTH {
                    return Err(err(format!("nesting deeper than {MAX_DEPTH} levels")));
                }
                self.count(1, pos)?;
                let pos_of_entries = self.spare.pos.pop().unwrap_or_default();
                let frame = if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: self.spare.items.pop().unwrap_or_default(),
                        pos: pos_of_entries,
                        at: pos,
                        anchor,
                    }
                } else {
                    Frame::Map {
                        entries: self.spare.entries.pop().unwrap_or_default(),
                        pos: pos_of_entries,
                        index: None,
                        key: None,
                        at: pos,
                        anchor,
                    }
                };
                self.stack.push(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, children, at, anchor) = match self.stack.pop() {
                    Some(Frame::Seq {
                        mut items,
                        pos,
                        at,
                        anchor,
                    }) => {
                        let value = Value::Array(exactly(&mut items));
                        self.spare.items.push(items);
                        (value, PosChildren::Seq(self.exact(pos)), at, anchor)
                    }
                    Some(Frame::Map {
                        mut entries,
                        pos,
                        at,
                        anchor,
                        ..
                    }) => {
                        let mut map = Map::with_capacity(entries.len());
                        // The keys differ (a repeat replaced its first entry's value).
                        map.extend(entries.drain(..));
                        self.spare.entries.push(entries);
                        (
                            Value::Object(map),
                            PosChildren::Map(self.exact(pos)),
                            at,
                            anchor,
                        )
                    }
                    None => return Err(err("unbalanced document".into())),
                };
                let node = PosNode {
                    pos: at,
                    key: None,
                    children,
                    first: None,
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

    /// The positions of a container's entries in a vector of their number; `gathered` is kept
    /// for the next container.
    fn exact(&mut self, mut gathered: Vec<PosNode>) -> Vec<PosNode> {
        let exact = exactly(&mut gathered);
        self.spare.pos.push(gathered);
        exact
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
        let repeats = match self.stack.last() {
            Some(Frame::Map {
                index: Some(index), ..
            }) => index.get(&key).copied(),
            Some(Frame::Map { entries, .. }) => entries.iter().position(|(k, _)| *k == key),
            _ => None,
        };
        if repeats.is_some() {
            let ptr = format!("{}/{}", self.container_ptr(), escape_segment(&key));
            self.duplicate_keys.push((ptr, at));
        }
        if let Some(Frame::Map {
            key: slot,
            at: start,
            entries,
            ..
        }) = self.stack.last_mut()
        {
            // A block mapping's start is marked after its first key: the key is where it starts.
            if entries.is_empty() && at < *start {
                *start = at;
            }
            *slot = Some((key, at, repeats));
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
        // The value's level in the whole document: the top-level mapping's entries are on 1.
        let placed = !self.lean || self.depth + self.stack.len() <= 1;
        match self.stack.last_mut() {
            None => self.root = Some((value, node)),
            Some(Frame::Seq { items, pos, .. }) => {
                items.push(value);
                if placed {
                    pos.push(node);
                }
            }
            Some(Frame::Map {
                entries,
                pos,
                index,
                key,
                ..
            }) => {
                let Some((k, key_at, repeats)) = key.take() else {
                    return;
                };
                node.key = Some(key_at);
                match repeats {
                    // A repeated key keeps the place and positions of its first occurrence,
                    // and the value of its last.
                    Some(i) => {
                        if let Some((_, slot)) = entries.get_mut(i) {
                            let old = std::mem::replace(slot, value);
                            if let Some(first) = pos.get_mut(i)
                                && first.first.is_none()
                            {
                                first.first = Some(Box::new(old));
                            }
                        }
                    }
                    None => {
                        if let Some(index) = index {
                            index.insert(k.clone(), entries.len());
                        }
                        entries.push((k, value));
                        if placed {
                            pos.push(node);
                        }
                        if index.is_none() && entries.len() >= KEYS_SEARCHED {
                            *index = Some(
                                entries
                                    .iter()
                                    .enumerate()
                                    .map(|(i, (k, _))| (k.clone(), i))
                                    .collect(),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// `gathered`'s items in a vector of their number, leaving `gathered` empty (with its room).
fn exactly<T>(gathered: &mut Vec<T>) -> Vec<T> {
    let mut exact = Vec::with_capacity(gathered.len());
    exact.append(gathered);
    exact
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
fn resolve_plain(text: String) -> Value {
    let s = text.as_str();
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
    Value::String(text)
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

    /// The whole text parsed on this thread, in one part.
    fn whole(text: &str) -> Result<SpannedDoc, SyntaxError> {
        build(events(text, 0), 0, Positions::Full).map(|(doc, _)| doc)
    }

    fn promptpack(cases: usize) -> String {
        let mut text = String::from("# a pack\npromptpack_id: p\nversion: 1.0.0\ncases:\n");
        for i in 0..cases {
            text.push_str(&format!(
                "  - case_id: c{i}\n    prompt: \"say\n      {i}\"\n    inputs: {{ x: {{ npy: a.npy }} }}\n    expected:\n      type: regex\n      pattern: '^a|b$'\n"
            ));
        }
        text
    }

    #[test]
    fn a_long_sequence_is_parsed_in_parts_as_it_is_whole() {
        let mut text = promptpack(3000);
        text.push_str("  - case_id: dup\n    name: a\n    name: b\n# the end\n...\n");
        let want = whole(&text).unwrap();
        for parts in 2..=5 {
            let got = parse_in_parts(&text, parts, Positions::Full).expect("cut between the cases");
            assert_eq!(got, want, "{parts} parts");
        }
        assert_eq!(
            want.duplicate_keys,
            vec![(
                "/cases/3000/name".to_string(),
                Pos {
                    line: 5 + 7 * 3000 + 2,
                    col: 5
                }
            )]
        );
        assert_eq!(
            want.pos_of_value("/cases/2999/expected/pattern"),
            Pos {
                line: 5 + 7 * 2999 + 6,
                col: 16
            }
        );
        // Parsed in parts (given two cores), the document keeps lean positions and finds the
        // others when first asked for one.
        let lean = parse(&text).unwrap();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(lean.reparse.is_some(), cores > 1);
        assert!(
            lean.reparse
                .as_ref()
                .is_none_or(|r| r.positions.get().is_none())
        );
        assert_eq!(
            lean.pos_of_key("/cases/2999/expected/pattern"),
            want.pos_of_key("/cases/2999/expected/pattern")
        );
        assert_eq!(lean.positions.pos, want.positions.pos);
        assert_eq!(lean, want);
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(
            parse_in_parts(&crlf, 2, Positions::Full).unwrap(),
            whole(&crlf).unwrap()
        );
    }

    #[test]
    fn texts_not_cut_between_entries_are_parsed_whole() {
        let pack = promptpack(400);
        for (text, why) in [
            (pack.replace("cases:\n", "cases: [\n"), "a flow sequence"),
            (
                pack.replace("  - case_id", "- case_id"),
                "entries not indented",
            ),
            (
                pack.replacen("cases:\n", "cases:\n  - &a x\n", 1) + "  - *a\n",
                "an alias",
            ),
            (format!("%YAML 1.2\n---\n{pack}"), "a directive"),
            (pack.clone() + "more: 1\n", "an entry after the sequence"),
            (
                pack.replacen("version", "cases: 1\nversion", 1),
                "a repeated key",
            ),
        ] {
            assert!(parse_in_parts(&text, 2, Positions::Full).is_none(), "{why}");
            assert_eq!(parse(&text), whole(&text), "{why}");
        }
    }

    /// Texts where a part once parsed differently than in the whole text (a document ended
    /// before a cut, an empty block scalar before one, a repeated key after the sequence).
    #[test]
    fn parts_that_once_differed_from_the_whole() {
        for (text, parts) in [
            (
                "a: 1\ncases:\nmore:\n  - x\n...\n  - plain\n    continued\n  - |\n    block\n",
                3,
            ),
            ("cases:\n  - |\n    block\n  - |\n\n  - x\n  - &a x\n", 4),
            (
                "cases:\n  - x\n  - y\nmore:\n  - x\n  - c\ncases: 2\n  - x\n  - x\n  - y\n  - z\n",
                2,
            ),
        ] {
            let want = whole(text);
            if let Some(got) = parse_in_parts(text, parts, Positions::Full) {
                assert_eq!(Ok(got), want, "{text:?}");
            }
            assert_eq!(parse(text), want, "{text:?}");
        }
    }

    proptest::proptest! {
        // About one document in ten is cut (the others are refused, or not YAML): enough cases
        // for a few hundred of them.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Whatever the entries hold (scalars and collections spanning lines, anchors, comments,
        /// documents ending), the parts make the document the whole text makes, or none at all.
        #[test]
        fn parts_parse_as_the_whole_text(
            head in proptest::sample::select(vec![
                "cases:\n", "a: 1\ncases:\n", "cases: &c\n", "---\ncases: !!seq\n",
                "list:\n  - x\ncases:\n", "cases:\n- x\n", "c: \"a\n  - b\"\ncases:\n",
            ]),
            lines in proptest::collection::vec(
                proptest::prop_oneof![
                    // Entries that keep the document valid...
                    30 => proptest::sample::select(vec![
                        "  - case_id: c\n    name: x\n", "  - {a: 1,\n    b: 2}\n",
                        "  - |\n    block\n", "  - |+\n    keep\n\n\n", "  - >-\n    folded\n",
                        "  - plain\n    continued\n", "  - [&a x, *a]\n", "# comment\n", "\n",
                        "  # note\n", "  - - nested\n    - seq\n", "  -\n    key: v\n",
                        "  - a: 1\n    a: 2\n", "  - ? complex\n    : value\n", "  - !!str 5\n",
                        "  - x # c\n", "  - x\r\n", "  - a:\n    - b\n    - c\n", "  - \"ok\"\n",
                        "  - 'it''s'\n", "  -  spaced\n", "  - \"two\n    lines\"\n", "  - k: 3\n",
                        "  - k: |2-\n     x\n", "  - k: >\n\n    y\n\n", "  - x\n\n\n",
                        "  - \"a # b\"\n", "  - k: v\n    # in\n",
                    ]),
                    // ...and anything else.
                    2 => proptest::sample::select(vec![
                        "  - \"multi\n", "  - 'quoted\n\n", "  - &a x\n", "  - *a\n", "  - [1,\n",
                        "  - 2]\n", "---\n", "...\n", "  - \tx\n", "cases: 2\n", "more:\n  - x\n",
                        "    - deeper\n", "- less\n", "  - key: \"open\n", "  - x\n  y\n",
                        "   - odd\n", "  - |\n\n", "  - |\n", "  - >+\n  \n", "%TAG ! x\n",
                    ]),
                ],
                0..40,
            ),
            parts in 2usize..5,
        ) {
            let text = format!("{head}{}", lines.concat());
            let want = whole(&text);
            if let Some(got) = parse_in_parts(&text, parts, Positions::Full) {
                proptest::prop_assert_eq!(Ok(got), want.clone(), "{:?}", text);
            }
            proptest::prop_assert_eq!(parse(&text), want, "{:?}", text);
        }
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.line >= 1, "{e:?}");
        assert!(!e.message.is_empty());
    }
}
