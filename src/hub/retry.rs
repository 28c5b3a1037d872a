//! Bounded retries: exponential backoff with jitter for 5xx and dropped connections, and the
//! server's `Retry-After` for 429/503, so a flaky service costs time, never an endless loop.
//! Also how patiently job status is polled. Plain policies: this file imports nothing of the hub.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How often and how patiently a request is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 means no retry).
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles on each retry.
    pub base_delay: Duration,
    /// Upper bound of one backoff delay.
    pub max_delay: Duration,
    /// Upper bound of a server-requested `Retry-After` wait.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 7,
            base_delay: Duration::from_millis(750),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The backoff ceiling before retry number `retry` (0-based): `base * 2^retry`, capped.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(30)).unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// A jittered delay in `[ceiling/2, ceiling]`, so retrying clients spread out but never
    /// hammer the server with zero waits.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_millis()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            rand::random_range(0..=spread)
        };
        half + Duration::from_millis(jitter)
    }

    /// The wait before retry number `retry`: the server's `Retry-After` when given (capped),
    /// otherwise the jittered backoff.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) => d.min(self.max_retry_after),
            None => self.backoff(retry),
        }
    }
}

/// How job status is polled: start quickly, slow down geometrically, give up after `timeout`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// Wait before the second poll (the first is immediate).
    pub initial: Duration,
    /// Growth of the wait after each poll.
    pub factor: f64,
    /// Longest wait between polls (the official client polls every 10 s).
    pub max: Duration,
    /// Client-side limit on the whole wait; `None` waits for the server's own job timeout.
    pub timeout: Option<Duration>,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(250),
            factor: 1.5,
            max: Duration::from_secs(10),
            timeout: None,
        }
    }
}

impl PollPolicy {
    /// The wait after poll number `n` (0-based).
    pub fn interval(&self, n: u32) -> Duration {
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        let secs = self.initial.as_secs_f64() * factor.powi(n.min(64) as i32);
        Duration::from_secs_f64(secs.min(self.max.as_secs_f64()))
    }
}

/// Whether an HTTP status is worth retrying: rate limiting and the transient gateway errors.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// Reads a `Retry-After` header given in seconds (fractions allowed); HTTP dates are ignored
/// and fall back to backoff.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = raw.parse().ok()?;
    if secs.is_finite() && secs >= 0.0 {
        Some(Duration::from_secs_f64(secs.min(86_400.0)))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn backoff_grows_and_stays_within_bounds() {
        let p = RetryPolicy::default();
        assert_eq!(p.ceiling(0), Duration::from_millis(750));
        assert_eq!(p.ceiling(1), Duration::from_millis(1500));
        assert_eq!(p.ceiling(3), Duration::from_secs(6));
        assert_eq!(p.ceiling(4), Duration::from_secs(10));
        assert_eq!(p.ceiling(200), Duration::from_secs(10));
        for retry in 0..40 {
            for _ in 0..20 {
                let d = p.backoff(retry);
                let c = p.ceiling(retry);
                assert!(
                    d >= c / 2 && d <= c,
                    "retry {retry}: {d:?} outside [{:?}, {c:?}]",
                    c / 2
                );
            }
        }
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy {
            max_retry_after: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(500))),
            Duration::from_secs(5)
        );
        assert!(p.delay(0, None) <= Duration::from_millis(750));
    }

    #[test]
    fn retry_after_parses_seconds_only() {
        let mut h = HeaderMap::new();
        assert_eq!(parse_retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("0.25"));
        assert_eq!(parse_retry_after(&h), Some(Duration::from_millis(250)));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(parse_retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("-1"));
        assert_eq!(parse_retry_after(&h), None);
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 409, 426, 501, 505] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn polling_starts_fast_and_is_capped() {
        let p = PollPolicy::default();
        assert_eq!(p.interval(0), Duration::from_millis(250));
        assert_eq!(p.interval(1), Duration::from_millis(375));
        assert_eq!(p.interval(2), Duration::from_micros(562_500));
        assert_eq!(p.interval(20), Duration::from_secs(10));
        assert_eq!(p.interval(u32::MAX), Duration::from_secs(10));
        let odd = PollPolicy {
            factor: f64::NAN,
            ..p
        };
        assert_eq!(odd.interval(5), Duration::from_millis(250));
    }
}
