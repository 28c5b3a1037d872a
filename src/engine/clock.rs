//! Wall-clock formatting for results and progress lines: RFC 3339 UTC through `chrono`, no
//! time-zone database. Knows nothing of runs or devices.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat, Utc};

/// The instant in UTC; times before 1970 (a clock set wrong) read as the epoch.
fn utc(t: SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(t.max(UNIX_EPOCH))
}

/// `2026-11-25T22:45:03.120Z` for a point in time (UTC, milliseconds).
pub fn rfc3339(t: SystemTime) -> String {
    utc(t).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `22:45:03` for a point in time (UTC), for progress lines.
pub fn hms(t: SystemTime) -> String {
    utc(t).format("%H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789);
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56.789Z");
        assert_eq!(hms(t), "12:34:56");
        let t = UNIX_EPOCH + Duration::from_secs(4_102_444_799);
        assert_eq!(rfc3339(t), "2099-12-31T23:59:59.000Z");
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(rfc3339(before), "1970-01-01T00:00:00.000Z");
    }
}
