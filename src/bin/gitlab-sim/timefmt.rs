//! Timestamps: GitLab's ISO 8601 with milliseconds (`2026-11-26T03:30:09.123Z`), HTTP dates
//! (RFC 7231 IMF-fixdate) and the lenient parsing needed for seeds and `If-Unmodified-Since`.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-11-26T03:30:09.123Z` (what GitLab's API renders for timestamps, in UTC).
pub fn iso_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Tue, 05 Jan 2021 11:00:00 GMT`.
pub fn http_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let wd = WEEKDAYS[days.rem_euclid(7) as usize];
    let mon = MONTHS[(m - 1) as usize];
    format!(
        "{wd}, {d:02} {mon} {y:04} {:02}:{:02}:{:02} GMT",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn hms(s: &str) -> Option<i64> {
    let mut it = s.split(':');
    let h: i64 = num(it.next()?)?;
    let mi: i64 = num(it.next()?)?;
    let se: i64 = num(it.next()?)?;
    if it.next().is_some() || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(h * 3600 + mi * 60 + se)
}

fn valid_date(y: i64, m: u32, d: u32) -> bool {
    (1..=12).contains(&m)
        && (1..=31).contains(&d)
        && civil_from_days(days_from_civil(y, m, d)) == (y, m, d)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` (also with a space instead of `T`) to epoch ms.
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() < 19 || !s.is_ascii() {
        return None;
    }
    let (date, rest) = s.split_at(10);
    let sep = &rest[..1];
    if sep != "T" && sep != " " {
        return None;
    }
    let mut dp = date.split('-');
    let y: i64 = num(dp.next()?)?;
    let m: u32 = num(dp.next()?)?;
    let d: u32 = num(dp.next()?)?;
    if !valid_date(y, m, d) {
        return None;
    }
    let time = &rest[1..9];
    let secs = hms(time)?;
    let mut tail = &rest[9..];
    let mut millis = 0i64;
    if let Some(frac) = tail.strip_prefix('.') {
        let digits: String = frac.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return None;
        }
        let mut ms3 = digits.chars().take(3).collect::<String>();
        while ms3.len() < 3 {
            ms3.push('0');
        }
        millis = num(&ms3)?;
        tail = &frac[digits.len()..];
    }
    let offset = match tail.trim() {
        "" | "Z" | "z" | "UTC" => 0,
        t => {
            let sign = match t.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let body = t[1..].replace(':', "");
            if body.len() != 4 {
                return None;
            }
            let hh: i64 = num(&body[..2])?;
            let mm: i64 = num(&body[2..])?;
            sign * (hh * 3600 + mm * 60)
        }
    };
    Some((days_from_civil(y, m, d) * 86_400 + secs - offset) * 1000 + millis)
}

/// Parses an HTTP date (`Tue, 05 Jan 2021 11:00:00 GMT`) or, leniently, an ISO 8601 time to
/// epoch seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(ms) = parse_iso(s) {
        return Some(ms.div_euclid(1000));
    }
    let rest = match s.split_once(',') {
        Some((_, r)) => r.trim(),
        None => s,
    };
    let parts: Vec<&str> = rest.split_whitespace().collect();
    if parts.len() < 4 {
        return None;
    }
    let d: u32 = num(parts[0])?;
    let m = MONTHS
        .iter()
        .position(|x| x.eq_ignore_ascii_case(parts[1]))? as u32
        + 1;
    let y: i64 = num(parts[2])?;
    if !valid_date(y, m, d) {
        return None;
    }
    let secs = hms(parts[3])?;
    if let Some(zone) = parts.get(4)
        && !matches!(*zone, "GMT" | "UTC" | "+0000" | "Z")
    {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + secs)
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
