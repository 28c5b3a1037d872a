//! How a command's final error reaches the user: `error: <message>` and one indented
//! `Caused by:` line per source, on stderr, as cargo and nextest print them. Each command passes
//! its own exit-code mapping to [`finish`]; the only code picked here is that of a command line
//! refused by a check clap cannot express.

use std::error::Error;

use crate::exit;

/// Prints `error: <message>` and the error's causes to stderr.
pub fn print_error(error: &(dyn Error + 'static)) {
    eprintln!("error: {}", with_causes(error));
}

/// Prints `warning: <context>: <message>` and the error's causes to stderr, for a failure that
/// does not change the exit code.
pub fn print_warning(context: &str, error: &(dyn Error + 'static)) {
    eprintln!("warning: {context}: {}", with_causes(error));
}

/// A command's exit code: its own when it ran, else the one `code` picks for its error, which is
/// printed first.
pub fn finish<E: Error + 'static>(outcome: Result<i32, E>, code: fn(&E) -> i32) -> i32 {
    match outcome {
        Ok(exit) => exit,
        Err(e) => {
            print_error(&e);
            code(&e)
        }
    }
}

/// Prints why the command line was refused and returns its code: invalid input, as clap's own.
pub fn invalid_arguments(error: &(dyn Error + 'static)) -> i32 {
    print_error(error);
    exit::INVALID_INPUT
}

/// The message, then `  Caused by: <source>` for each source in the chain. A source is shown in
/// its alternate form (a template error then shows the template's lines); one that the message
/// before it already quotes is not repeated.
pub fn with_causes(error: &(dyn Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut quoted = out.clone();
    let mut source = error.source();
    while let Some(cause) = source {
        let plain = cause.to_string();
        if !quoted.contains(&plain) {
            out.push_str("\n  Caused by: ");
            out.push_str(&format!("{cause:#}").replace('\n', "\n    "));
        }
        quoted = plain;
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("failed to list ai hub devices")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("could not reach host: {0}")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn each_cause_gets_its_own_line_unless_its_parent_quotes_it() {
        let e = Outer(Middle(std::io::Error::other("connection refused")));
        assert_eq!(
            with_causes(&e),
            "failed to list ai hub devices\n  Caused by: could not reach host: connection refused"
        );
    }

    #[test]
    fn an_error_without_sources_is_its_message() {
        let e = std::io::Error::other("disk full");
        assert_eq!(with_causes(&e), "disk full");
    }

    #[test]
    fn a_multi_line_cause_stays_indented() {
        let e = Middle(std::io::Error::other("line one\nline two"));
        let m = Outer(e);
        assert!(with_causes(&m).ends_with("line one\n    line two"));
    }
}
