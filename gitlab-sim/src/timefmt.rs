//! Timestamps: GitLab's ISO 8601 with milliseconds (`2026-11-26T03:30:09.123Z`), HTTP dates
//! (RFC 7231 IMF-fixdate) and the lenient parsing needed for seeds and `If-Unmodified-Since`,
//! on the `time` and `httpdate` crates.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// `2026-11-26T03:30:09.123Z` (what GitLab's API renders for timestamps, in UTC).
pub fn iso_ms(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// `Tue, 05 Jan 2021 11:00:00 GMT`.
pub fn http_date(secs: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    httpdate::fmt_http_date(t)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` (also with a space instead of `T`, and
/// without a zone meaning UTC) to epoch ms.
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 19 || !s.is_ascii() {
        return None;
    }
    let mut text = s.to_string();
    if text.as_bytes()[10] == b' ' {
        text.replace_range(10..11, "T");
    }
    let tail = &text[19..];
    let zoned = tail.ends_with(['Z', 'z']) || tail.contains(['+', '-']);
    if tail.ends_with(" UTC") {
        text.truncate(text.len() - 4);
        text.push('Z');
    } else if !zoned {
        text.push('Z');
    }
    let t = OffsetDateTime::parse(&text, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Parses an HTTP date (`Tue, 05 Jan 2021 11:00:00 GMT`) or, leniently, an ISO 8601 time to
/// epoch seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(ms) = parse_iso(s) {
        return Some(ms.div_euclid(1000));
    }
    let t: SystemTime = httpdate::parse_http_date(s).ok()?;
    i64::try_from(t.duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(1_609_844_400_123), "2021-01-05T11:00:00.123Z");
        assert_eq!(http_date(1_609_844_400), "Tue, 05 Jan 2021 11:00:00 GMT");
        assert_eq!(
            parse_iso("2021-01-05T11:00:00.123Z"),
            Some(1_609_844_400_123)
        );
        assert_eq!(
            parse_iso("2021-01-05T12:00:00+01:00"),
            Some(1_609_844_400_000)
        );
        assert_eq!(
            parse_http_date("Tue, 05 Jan 2021 11:00:00 GMT"),
            Some(1_609_844_400)
        );
        assert_eq!(parse_http_date("garbage"), None);
        assert_eq!(parse_iso("2021-02-30T00:00:00Z"), None);
        assert_eq!(parse_iso("2021-01-05T11:00:00+1\u{e9}1"), None);
        assert_eq!(parse_http_date("Tue, 05 Jan 2021 11:00:00 GMT\u{e9}"), None);
    }
}
