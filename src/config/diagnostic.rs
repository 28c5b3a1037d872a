//! Problems found in a user's file, and how they are printed: compiler-style text with the
//! offending line and a caret, JSON, or GitHub Actions annotations.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::yaml::Pos;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one file, with where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file, as the user named it.
    pub file: PathBuf,
    /// Line and column of the offending token (absent when the file could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pos: Option<Pos>,
    /// JSON pointer of the offending value, e.g. `/gates/1/threshold`.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at a position.
    pub fn error(file: &Path, pos: Option<Pos>, pointer: &str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            file: file.to_path_buf(),
            pos,
            pointer: pointer.to_string(),
            message: message.into(),
            help: None,
        }
    }

    /// A warning at a position.
    pub fn warning(
        file: &Path,
        pos: Option<Pos>,
        pointer: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(file, pos, pointer, message)
        }
    }

    /// Adds what to do.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Renders like a compiler error, quoting the line from `source` when it is available.
    pub fn render_text(&self, source: Option<&str>) -> String {
        let mut out = String::new();
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{label}: {}", self.message);
        match self.pos {
            Some(pos) => {
                let _ = writeln!(
                    out,
                    "  --> {}:{}:{}",
                    self.file.display(),
                    pos.line,
                    pos.col
                );
                if let Some(line) = source
                    .and_then(|s| super::yaml::lines(s).nth(pos.line.saturating_sub(1) as usize))
                {
                    let num = pos.line.to_string();
                    let pad = " ".repeat(num.len());
                    let (line, col) = window(&line.replace('\t', " "), pos.col.max(1) as usize);
                    let width = token_width(&line, col).min(80);
                    let _ = writeln!(out, "{pad} |");
                    let _ = writeln!(out, "{num} | {line}");
                    let _ = writeln!(out, "{pad} | {}{}", " ".repeat(col - 1), "^".repeat(width));
                }
            }
            None => {
                let _ = writeln!(out, "  --> {}", self.file.display());
            }
        }
        if !self.pointer.is_empty() {
            let _ = writeln!(out, "   = at: {}", self.pointer);
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "   = help: {help}");
        }
        out
    }

    /// Renders as a GitHub Actions workflow command, which GitHub shows on the file in the PR.
    pub fn render_github(&self) -> String {
        let cmd = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut props = format!("file={}", escape_property(&self.file.display().to_string()));
        if let Some(pos) = self.pos {
            let _ = write!(props, ",line={},col={}", pos.line, pos.col);
        }
        let mut msg = self.message.clone();
        if let Some(help) = &self.help {
            let _ = write!(msg, " (help: {help})");
        }
        if !self.pointer.is_empty() {
            let _ = write!(msg, " [at {}]", self.pointer);
        }
        format!("::{cmd} {props}::{}", escape_data(&msg))
    }
}

/// Cuts a long line to about 100 characters around the column; returns the text and the new column.
fn window(line: &str, col: usize) -> (String, usize) {
    const HALF: usize = 50;
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= 2 * HALF {
        return (line.to_string(), col.min(chars.len() + 1));
    }
    let col = col.min(chars.len() + 1);
    let start = col.saturating_sub(HALF).max(1) - 1;
    let end = (start + 2 * HALF).min(chars.len());
    let mut text: String = chars[start..end].iter().collect();
    let mut new_col = col - start;
    if start > 0 {
        text.insert(0, '…');
        new_col += 1;
    }
    if end < chars.len() {
        text.push('…');
    }
    (text, new_col)
}

/// How many characters of the line, from the 1-based column, belong to the offending token.
fn token_width(line: &str, col: usize) -> usize {
    let rest: Vec<char> = line.chars().skip(col - 1).collect();
    let Some(&first) = rest.first() else { return 1 };
    if first == '"' || first == '\'' {
        let end = rest.iter().skip(1).position(|&c| c == first).map(|i| i + 2);
        return end.unwrap_or(rest.len()).max(1);
    }
    if first == '[' || first == '{' {
        return 1;
    }
    let end = rest
        .iter()
        .position(|&c| matches!(c, ',' | ']' | '}' | '#') || c == ':')
        .unwrap_or(rest.len());
    let token: String = rest[..end].iter().collect();
    token.trim_end().chars().count().max(1)
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rendering_points_at_the_token() {
        let d = Diagnostic::error(
            Path::new("edgegate.yaml"),
            Some(Pos { line: 2, col: 1 }),
            "/devce_matrix",
            "unknown key `devce_matrix`",
        )
        .with_help("did you mean `device_matrix`?");
        let text = d.render_text(Some("version: 1\ndevce_matrix:\n  - name: x\n"));
        assert_eq!(
            text,
            "error: unknown key `devce_matrix`\n  --> edgegate.yaml:2:1\n  |\n2 | devce_matrix:\n  | ^^^^^^^^^^^^\n   = at: /devce_matrix\n   = help: did you mean `device_matrix`?\n"
        );
    }

    #[test]
    fn the_quoted_line_is_the_parsers_line_after_a_lone_carriage_return() {
        let text = "version: 1\rdevce_matrix:\r  - name: x\r";
        let d = Diagnostic::error(
            Path::new("edgegate.yaml"),
            Some(Pos { line: 2, col: 1 }),
            "/devce_matrix",
            "unknown key `devce_matrix`",
        );
        assert!(
            d.render_text(Some(text)).contains("2 | devce_matrix:\n"),
            "{}",
            d.render_text(Some(text))
        );
    }

    #[test]
    fn quoted_tokens_are_underlined_whole() {
        assert_eq!(token_width(r#"  name: "a b", x"#, 9), 5);
        assert_eq!(token_width("  threshold: 150.5  # ms", 14), 5);
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = format!("{}X{}", "a".repeat(300), "b".repeat(300));
        let (text, col) = window(&line, 301);
        assert!(text.chars().count() <= 102, "{}", text.len());
        assert_eq!(text.chars().nth(col - 1), Some('X'));
        assert_eq!(window("short", 3), ("short".to_string(), 3));
    }

    #[test]
    fn github_annotations_escape() {
        let d = Diagnostic::error(
            Path::new("a,b.yaml"),
            Some(Pos { line: 3, col: 4 }),
            "/x",
            "bad\nvalue 100%",
        );
        assert_eq!(
            d.render_github(),
            "::error file=a%2Cb.yaml,line=3,col=4::bad%0Avalue 100%25 [at /x]"
        );
    }
}
