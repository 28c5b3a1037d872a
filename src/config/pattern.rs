//! Syntax checks of `regex` expectations for `validate`: a pattern is parsed with `regex-syntax`
//! (the parser `regex` itself uses, with the same defaults) and never compiled, so checking
//! thousands of patterns costs milliseconds. Compiling happens in `eval` when a case is checked;
//! a pattern whose compiled program exceeds `regex`'s size limit is reported there.
//!
//! Parsing gives the syntax tree; translating it to `regex`'s intermediate form (costly for
//! Unicode classes under `(?i)`) can only fail on a Unicode property class (`\p{..}`) or where
//! the `u` flag is changed (bytes that are not UTF-8), so only such patterns are translated too.

use regex_syntax::ast::{self, Ast, ClassSetItem, Flag, Flags, FlagsItemKind, GroupKind, Span};
use regex_syntax::hir::translate::Translator;

/// Why `pattern` is not a valid regex, with where in the pattern, or `None` when it parses.
pub fn regex_error(pattern: &str) -> Option<String> {
    let tree = match ast::parse::Parser::new().parse(pattern) {
        Ok(tree) => tree,
        Err(e) => return Some(describe(&e.kind().to_string(), e.span(), pattern)),
    };
    if !ast::visit(&tree, MayFailTranslation(false)).unwrap_or(true) {
        return None;
    }
    Translator::new()
        .translate(pattern, &tree)
        .err()
        .map(|e| describe(&e.kind().to_string(), e.span(), pattern))
}

/// [`regex_error`] of every pattern, in order, split across the machine's cores: parsing
/// thousands of patterns is the slowest check of a large promptpack.
pub fn regex_errors(patterns: &[&str]) -> Vec<Option<String>> {
    /// Below this many patterns per thread, another thread costs more than it saves.
    const PER_THREAD: usize = 256;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(patterns.len() / PER_THREAD).max(1);
    let chunk = patterns.len().div_ceil(threads).max(1);
    let check = |part: &[&str]| part.iter().map(|p| regex_error(p)).collect::<Vec<_>>();
    std::thread::scope(|s| {
        let mut parts = patterns.chunks(chunk);
        let first = parts.next().unwrap_or_default();
        let others: Vec<_> = parts.map(|part| s.spawn(move || check(part))).collect();
        let mut all = check(first);
        for handle in others {
            match handle.join() {
                Ok(part) => all.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    })
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

/// Finds what translation can refuse: a Unicode property class or a change of the `u` flag.
struct MayFailTranslation(bool);

impl MayFailTranslation {
    fn flags(&mut self, flags: &Flags) {
        if flags
            .items
            .iter()
            .any(|i| i.kind == FlagsItemKind::Flag(Flag::Unicode))
        {
            self.0 = true;
        }
    }
}

impl ast::Visitor for MayFailTranslation {
    type Output = bool;
    type Err = std::convert::Infallible;

    fn finish(self) -> Result<bool, Self::Err> {
        Ok(self.0)
    }

    fn visit_pre(&mut self, tree: &Ast) -> Result<(), Self::Err> {
        match tree {
            Ast::ClassUnicode(_) => self.0 = true,
            Ast::Flags(set) => self.flags(&set.flags),
            Ast::Group(group) => {
                if let GroupKind::NonCapturing(flags) = &group.kind {
                    self.flags(flags);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), Self::Err> {
        if let ClassSetItem::Unicode(_) = item {
            self.0 = true;
        }
        Ok(())
    }
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

    proptest::proptest! {
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
