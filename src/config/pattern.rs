//! Syntax checks of `regex` expectations for `validate`: a pattern is parsed with `regex-syntax`
//! (the parser `regex` itself uses, with the same defaults) and never compiled, so checking
//! thousands of patterns costs milliseconds. Compiling happens in `eval` when a case is checked;
//! a pattern whose compiled program exceeds `regex`'s size limit is reported there.
//!
//! Parsing gives the syntax tree; translating it to `regex`'s intermediate form (costly for
//! Unicode classes under `(?i)`) can only fail on a Unicode property class (`\p{..}`) or where
//! the `u` flag is changed (bytes that are not UTF-8), so only such patterns are translated too.
//! A pattern of only the plainest syntax (see `plainly_valid`) is not even parsed: a quick
//! look tells it valid, and anything that look is unsure of goes to `regex-syntax`.

use regex_syntax::ast::{
    self, Ast, ClassSet, ClassSetItem, Flag, Flags, FlagsItemKind, GroupKind, Span,
};
use regex_syntax::hir::translate::Translator;

/// Why `pattern` is not a valid regex, with where in the pattern, or `None` when it parses.
pub fn regex_error(pattern: &str) -> Option<String> {
    check(pattern).0
}

/// [`regex_error`], with the syntax tree when the pattern parses (for the caller to free).
fn check(pattern: &str) -> (Option<String>, Option<Ast>) {
    if plainly_valid(pattern) {
        return (None, None);
    }
    let tree = match ast::parse::Parser::new().parse(pattern) {
        Ok(tree) => tree,
        Err(e) => {
            return (
                Some(describe(&e.kind().to_string(), e.span(), pattern)),
                None,
            );
        }
    };
    if !may_fail_translation(&tree) {
        return (None, Some(tree));
    }
    let error = Translator::new()
        .translate(pattern, &tree)
        .err()
        .map(|e| describe(&e.kind().to_string(), e.span(), pattern));
    (error, Some(tree))
}

/// [`regex_error`] of every pattern, in order, split across the machine's cores: parsing
/// thousands of patterns is the slowest check of a large promptpack. Their syntax trees are
/// freed on another thread (regex-syntax frees a tree node by node, which costs a third as
/// much as parsing it), after the errors are returned.
pub fn regex_errors(patterns: &[&str]) -> Vec<Option<String>> {
    /// Below this many patterns per thread, another thread costs more than it saves.
    const PER_THREAD: usize = 256;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(patterns.len() / PER_THREAD).max(1);
    let chunk = patterns.len().div_ceil(threads).max(1);
    let check = |part: &[&str]| -> (Vec<Option<String>>, Vec<Ast>) {
        let mut trees = Vec::with_capacity(part.len());
        let errors = part
            .iter()
            .map(|p| {
                let (error, tree) = check(p);
                trees.extend(tree);
                error
            })
            .collect();
        (errors, trees)
    };
    let (all, trees) = std::thread::scope(|s| {
        let mut parts = patterns.chunks(chunk);
        let first = parts.next().unwrap_or_default();
        let others: Vec<_> = parts.map(|part| s.spawn(move || check(part))).collect();
        let (mut all, mut trees) = check(first);
        for handle in others {
            match handle.join() {
                Ok((part, part_trees)) => {
                    all.extend(part);
                    trees.extend(part_trees);
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        (all, trees)
    });
    if trees.len() >= PER_THREAD {
        // No thread to be had: the trees are freed here, as the spawn error drops them.
        drop(
            std::thread::Builder::new()
                .name("free".into())
                .spawn(move || drop(trees)),
        );
    }
    all
}

/// Whether `pattern` is certainly a valid regex, from a quick look that knows only the plain
/// syntax most expectations use: literals, `.`, `^`, `$`, `|`, Perl classes and escaped
/// metacharacters, bracketed classes of literals, ranges and Perl classes, groups (capturing,
/// `(?:`, flags among `imsRU`), and one repetition (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`,
/// lazy or not) after what can be repeated. `false` means "not sure": regex-syntax decides,
/// and reports where the error is. A hundred times cheaper than parsing the pattern.
fn plainly_valid(pattern: &str) -> bool {
    /// Groups nested deeper than this are left to regex-syntax (and its nesting limit).
    const MAX_DEPTH: usize = 32;
    let mut chars = pattern.chars().peekable();
    let mut depth = 0usize;
    // Whether the last thing read can take a repetition.
    let mut repeatable = false;
    while let Some(c) = chars.next() {
        repeatable = match c {
            '\\' => match chars.next() {
                Some('d' | 'D' | 's' | 'S' | 'w' | 'W' | 'n' | 't' | 'r') => true,
                // `\b{start}` and friends are left to regex-syntax.
                Some('b' | 'B') if chars.peek() != Some(&'{') => false,
                Some('A' | 'z') => false,
                Some(c) if regex_syntax::is_meta_character(c) => true,
                _ => return false,
            },
            '[' => {
                if !plain_class(&mut chars) {
                    return false;
                }
                true
            }
            '(' => {
                if chars.next_if_eq(&'?').is_some() {
                    match plain_flags(&mut chars) {
                        Some(':') => depth += 1,
                        Some(_) => {}
                        None => return false,
                    }
                } else {
                    depth += 1;
                }
                if depth > MAX_DEPTH {
                    return false;
                }
                false
            }
            ')' => {
                let Some(outer) = depth.checked_sub(1) else {
                    return false;
                };
                depth = outer;
                true
            }
            '*' | '+' | '?' | '{' => {
                if !repeatable || (c == '{' && !plain_count(&mut chars)) {
                    return false;
                }
                chars.next_if_eq(&'?');
                false
            }
            '^' | '$' | '|' => false,
            '.' => true,
            ']' | '}' => return false,
            _ => true,
        };
    }
    depth == 0
}

/// After `[`: a class of literals, ranges of literals (`a-z`), Perl classes and escaped
/// metacharacters, maybe negated, up to its `]`.
fn plain_class(chars: &mut std::iter::Peekable<std::str::Chars>) -> bool {
    chars.next_if_eq(&'^');
    let mut items = 0;
    loop {
        let Some(c) = chars.next() else {
            return false;
        };
        match c {
            ']' if items > 0 => return true,
            '\\' => match chars.next() {
                Some('d' | 'D' | 's' | 'S' | 'w' | 'W' | 'n' | 't' | 'r') => {}
                Some(c) if regex_syntax::is_meta_character(c) => {}
                _ => return false,
            },
            '[' | ']' | '-' | '&' | '~' => return false,
            start => {
                if chars.next_if_eq(&'-').is_some() {
                    match chars.next() {
                        Some(end) if !matches!(end, '[' | ']' | '-' | '&' | '~' | '\\') => {
                            if start > end {
                                return false;
                            }
                        }
                        _ => return false,
                    }
                }
            }
        }
        items += 1;
    }
}

/// After `(?`: flags among `imsRU`, each once, maybe some after one `-`, up to and returning
/// the `:` or `)` that ends them (`(?:` holds none).
fn plain_flags(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<char> {
    let mut seen = String::new();
    let mut negated = false;
    let mut since_negation = 0;
    loop {
        match chars.next()? {
            // `(?:` has no flags; `(?)` and a `-` with no flag after it are errors.
            c @ (':' | ')')
                if (c == ':' || !seen.is_empty()) && (!negated || since_negation > 0) =>
            {
                return Some(c);
            }
            '-' if !negated => negated = true,
            c @ ('i' | 'm' | 's' | 'R' | 'U') if !seen.contains(c) => {
                seen.push(c);
                since_negation += usize::from(negated);
            }
            _ => return None,
        }
    }
}

/// After `{`: `n}`, `n,}` or `n,m}` with n <= m, at most 1000.
fn plain_count(chars: &mut std::iter::Peekable<std::str::Chars>) -> bool {
    let Some(min) = plain_number(chars) else {
        return false;
    };
    match chars.next() {
        Some('}') => true,
        Some(',') => {
            if chars.next_if_eq(&'}').is_some() {
                return true;
            }
            plain_number(chars).is_some_and(|max| min <= max) && chars.next() == Some('}')
        }
        _ => false,
    }
}

/// Decimal digits, as a number of at most 1000.
fn plain_number(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<u32> {
    let mut n = None;
    while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
        chars.next();
        let more = n.unwrap_or(0) * 10 + d;
        if more > 1000 {
            return None;
        }
        n = Some(more);
    }
    n
}

/// `what` at the 1-based place of `span` in the pattern.
fn describe(what: &str, span: &Span, pattern: &str) -> String {
    let at = span.start;
    let place = if pattern.contains('\n') {
        format!("line {}, column {}", at.line, at.column)
    } else {
        format!("character {}", at.column)
    };
    format!("{what} at {place} of the pattern")
}

/// Whether translating the tree can fail: it holds a Unicode property class (`\p{..}`) or
/// changes the `u` flag. A plain walk over the tree: regex-syntax's visitor keeps its own
/// stack on the heap, and cost as much as a tenth of parsing.
fn may_fail_translation(tree: &Ast) -> bool {
    match tree {
        Ast::ClassUnicode(_) => true,
        Ast::Flags(set) => changes_unicode(&set.flags),
        Ast::Group(group) => {
            matches!(&group.kind, GroupKind::NonCapturing(flags) if changes_unicode(flags))
                || may_fail_translation(&group.ast)
        }
        Ast::Repetition(rep) => may_fail_translation(&rep.ast),
        Ast::Alternation(alt) => alt.asts.iter().any(may_fail_translation),
        Ast::Concat(concat) => concat.asts.iter().any(may_fail_translation),
        Ast::ClassBracketed(class) => set_may_fail(&class.kind),
        _ => false,
    }
}

fn set_may_fail(set: &ClassSet) -> bool {
    match set {
        ClassSet::Item(item) => item_may_fail(item),
        ClassSet::BinaryOp(op) => set_may_fail(&op.lhs) || set_may_fail(&op.rhs),
    }
}

fn item_may_fail(item: &ClassSetItem) -> bool {
    match item {
        ClassSetItem::Unicode(_) => true,
        ClassSetItem::Bracketed(class) => set_may_fail(&class.kind),
        ClassSetItem::Union(union) => union.items.iter().any(item_may_fail),
        _ => false,
    }
}

fn changes_unicode(flags: &Flags) -> bool {
    flags
        .items
        .iter()
        .any(|i| i.kind == FlagsItemKind::Flag(Flag::Unicode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_patterns_pass_and_errors_say_what_and_where() {
        assert_eq!(regex_error(r"^digit [0-9]+$"), None);
        assert_eq!(regex_error(r"\p{Greek}+\w{2,5}(?i)caf\x{e9}"), None);
        assert_eq!(
            regex_error("(hi").as_deref(),
            Some("unclosed group at character 1 of the pattern")
        );
        assert_eq!(
            regex_error("ab[z-a]").as_deref(),
            Some(
                "invalid character class range, the start must be <= the end at character 4 of the pattern"
            )
        );
        assert_eq!(
            regex_error(r"x\p{NotAClass}").as_deref(),
            Some("Unicode property not found at character 2 of the pattern")
        );
        assert_eq!(
            regex_error("ok\n  a{2,1}").as_deref(),
            Some(
                "invalid repetition count range, the start must be <= the end at line 2, column 4 of the pattern"
            )
        );
    }

    #[test]
    fn what_regex_rejects_the_check_rejects() {
        for p in [
            "(hi",
            "*a",
            "[",
            r"\",
            "(?P<n>a)(?P<n>b)",
            r"\p{Foo}",
            "a{5,2}",
            "(?z)",
        ] {
            assert!(regex::Regex::new(p).is_err(), "{p}");
            assert!(regex_error(p).is_some(), "{p}");
        }
        for p in ["a+", r"(?i)\bé\b", r"[\p{L}&&[^a]]", "x{0,1000}", r"(?m)^$"] {
            assert!(regex::Regex::new(p).is_ok(), "{p}");
            assert_eq!(regex_error(p), None, "{p}");
        }
    }

    #[test]
    fn plain_patterns_are_seen_valid_at_a_glance() {
        for p in [
            "",
            r"^digit [0-9]+$",
            r"(?i)^(?:digit|number)\s*42\b[\w ]*$",
            r"(?-i:a)(?ms)x.*?y+?z??",
            r"a{2}b{2,}c{2,3}?\.\-\#",
            r"[^a-z\d\]]|()|(a|)",
            "é[é-ü] #",
        ] {
            assert!(plainly_valid(p), "{p}");
            assert!(regex::Regex::new(p).is_ok(), "{p}");
        }
        for p in [
            "(",
            ")",
            "a**",
            "*",
            "(?i)*",
            "^*",
            "[]",
            "[a-]",
            "[z-a]",
            "a{2,1}",
            "a{1001}",
            "(?ii)",
            "(?)",
            "(?-)",
            "(?i-)",
            "(?x)",
            "(?u)",
            r"\p{L}",
            r"\b{start}",
            "a]",
            "}",
            r"\1",
            r"\x41",
            "(?P<n>a)",
            "[[:alpha:]]",
            "[a&&b]",
        ] {
            assert!(!plainly_valid(p), "{p}");
        }
    }

    proptest::proptest! {
        /// What the quick look calls valid, `regex` compiles.
        #[test]
        fn plainly_valid_patterns_compile(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "é", " ", "#", "(", ")", "(?:", "(?i)", "(?i:", "(?-i)", "(?i-s:", "(?R)",
                    "(?U)", "(?ii)", "(?)", "(?-)", "(?m-)", "[", "]", "[^", "-", "a-z", "z-a",
                    "^", "$", "|", "*", "+", "?", "*?", "{2}", "{2,}", "{2,3}", "{3,2}", "{", "}",
                    ",", "{0}", r"\d", r"\s", r"\w", r"\W", r"\S", r"\D", r"\b", r"\B", r"\A",
                    r"\z", r"\.", r"\-", r"\&", r"\~", r"\#", r"\n", r"\x", r"\b{", "&", "~", ".",
                    r"\]", r"\[", r"\^", "[a", "]]", "()", "a-", "-]", "&&", "~~", "--",
                ]),
                0..12,
            )
        ) {
            let p = parts.concat();
            if plainly_valid(&p) {
                let theirs = regex::Regex::new(&p);
                proptest::prop_assert!(
                    theirs.is_ok() || matches!(theirs, Err(regex::Error::CompiledTooBig(_))),
                    "{} {:?}", p, theirs
                );
            }
        }

        #[test]
        fn agrees_with_regex_on_generated_patterns(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "é", "(", ")", "[", "]", "^", "-", "|", "*", "+", "?", "{2,1}", "{3}",
                    r"\w", r"\b", r"\pL", r"\pQ", r"\p{Greek}", r"\p{Nope}", r"\PN", r"\xFF",
                    r"\", "(?i)", "(?-u)", "(?u)", "(?-u:", "(?P<n>", "[[:alpha:]]", "&&", "~~",
                ]),
                0..8,
            )
        ) {
            let p = parts.concat();
            let theirs = regex::Regex::new(&p);
            if !matches!(theirs, Err(regex::Error::CompiledTooBig(_))) {
                proptest::prop_assert_eq!(theirs.is_err(), regex_error(&p).is_some(), "{}", p);
            }
        }
    }
}
