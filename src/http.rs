//! Bounds on what EdgeGate takes from HTTP servers: response bodies read to a limit (an announced
//! `Content-Length` over it is refused before anything is read, a stream is stopped past it), a
//! whole-command [`Deadline`] that no wait or retry goes past, and server-provided text shortened
//! to a readable length before it reaches a message.

use std::fmt;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::files::size_text;

/// Largest API answer read (device lists, jobs, results with per-layer profiles).
pub const API_BODY_LIMIT: u64 = 16 * 1024 * 1024;
/// Largest part of an error answer read: only its explanation is wanted.
pub const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// Largest download of a compiled model, streamed to disk.
pub const MODEL_DOWNLOAD_LIMIT: u64 = crate::files::MODEL_LIMIT;
/// Characters of server-provided text kept in a message.
pub const SERVER_TEXT_CHARS: usize = 300;
/// Default total time of a network command (`--timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a response body was not taken.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The server announced more than the limit; nothing was read.
    #[error(
        "it announced {length} bytes (Content-Length), more than the {} limit",
        size_text(*limit)
    )]
    Announced { length: u64, limit: u64 },
    /// The body went on past the limit; reading stopped there.
    #[error("it went on past the {} limit", size_text(*limit))]
    TooLong { limit: u64 },
    /// The connection failed while reading.
    #[error("the answer was cut off")]
    Transport(#[source] reqwest::Error),
}

/// Reads a whole body of at most `limit` bytes.
pub async fn read_body(mut resp: reqwest::Response, limit: u64) -> Result<Bytes, BodyError> {
    if let Some(length) = resp.content_length()
        && length > limit
    {
        return Err(BodyError::Announced { length, limit });
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLong { limit });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The start of a body, at most `limit` bytes, and whether more followed (error answers: the
/// explanation is in the first bytes; a broken connection keeps what arrived).
pub async fn read_prefix(mut resp: reqwest::Response, limit: u64) -> (Bytes, bool) {
    let announced_more = resp.content_length().is_some_and(|n| n > limit);
    let mut buf = BytesMut::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = usize::try_from(limit)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(buf.len());
                if chunk.len() > room {
                    buf.extend_from_slice(&chunk[..room]);
                    return (buf.freeze(), true);
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return (buf.freeze(), announced_more),
            Err(_) => return (buf.freeze(), true),
        }
    }
}

/// Server-provided text made fit for a message: one line, at most [`SERVER_TEXT_CHARS`]
/// characters, with the full size when it was shortened (`cut`: the text is only the start of
/// what the server sent).
pub fn server_text(text: &str, cut: bool) -> String {
    let one_line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let bytes = text.trim().len();
    if !cut && one_line.chars().count() <= SERVER_TEXT_CHARS {
        return one_line;
    }
    let mut short: String = one_line.chars().take(SERVER_TEXT_CHARS).collect();
    let short_len = short.trim_end().len();
    short.truncate(short_len);
    if cut {
        short.push_str(&format!("… (more than {bytes} bytes)"));
    } else {
        short.push_str(&format!("… ({bytes} bytes)"));
    }
    short
}

/// The time by which a whole command must end, and what set it (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
    limit: Duration,
    set_by: &'static str,
}

impl Deadline {
    /// A deadline `limit` from now; `set_by` names the flag or rule (`--timeout`).
    pub fn after(limit: Duration, set_by: &'static str) -> Self {
        let now = Instant::now();
        Self {
            at: now
                .checked_add(limit)
                .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
                .unwrap_or(now),
            limit,
            set_by,
        }
    }

    /// The instant it passes.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// The total time it allowed.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Time left (zero once passed).
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Whether waiting `wait` from now still ends before the deadline.
    pub fn allows(&self, wait: Duration) -> bool {
        wait <= self.remaining()
    }
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} deadline ({})", seconds_text(self.limit), self.set_by)
    }
}

/// A duration as `2 s`, `1.5 s` or `10 min`.
pub fn seconds_text(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if d.as_secs() >= 120 && d.as_secs().is_multiple_of(60) && d.subsec_nanos() == 0 {
        format!("{} min", d.as_secs() / 60)
    } else if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else {
        let s = format!("{secs:.1}");
        format!("{} s", s.trim_end_matches(".0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_server_text_is_cut_with_its_size() {
        let long = "x".repeat(1_000_000);
        let short = server_text(&long, false);
        assert_eq!(
            short,
            format!("{}… (1000000 bytes)", "x".repeat(SERVER_TEXT_CHARS))
        );
        assert_eq!(server_text("  not found\n", false), "not found");
        assert_eq!(
            server_text("line one\nline two\u{1b}[31m", false),
            "line one line two [31m"
        );
        assert_eq!(server_text("abc", true), "abc… (more than 3 bytes)");
    }

    #[test]
    fn deadlines_say_what_set_them_and_refuse_long_waits() {
        let d = Deadline::after(Duration::from_secs(2), "--timeout");
        assert_eq!(d.to_string(), "2 s deadline (--timeout)");
        assert!(d.allows(Duration::from_millis(10)));
        assert!(!d.allows(Duration::from_secs(120)));
        assert!(d.remaining() <= Duration::from_secs(2));
        let huge = Deadline::after(Duration::MAX, "--timeout");
        assert!(huge.remaining() > Duration::from_secs(365 * 86_400));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(seconds_text(Duration::from_secs(60)), "60 s");
        assert_eq!(seconds_text(Duration::from_secs(600)), "10 min");
        assert_eq!(seconds_text(Duration::from_millis(1200)), "1.2 s");
        assert_eq!(seconds_text(Duration::from_millis(2000)), "2 s");
    }
}
