//! Times and durations: parsing what people type and formatting what they read. Nothing here
//! panics, for any input: every `i64` of milliseconds formats, every string parses or is refused
//! with a message, and `now − duration` saturates.
//!
//! Times are written as RFC 3339 in UTC with milliseconds: `2026-11-25T17:00:00.000Z`. RFC 3339
//! has four-digit years only, so years outside 0000..=9999 use ISO 8601's expanded years: a `+`
//! and five or more digits after 9999 (`+10000-01-01T00:00:00.000Z`), a `-` and four or more
//! digits before year 0 (`-0001-12-31T23:59:59.999Z`). [`parse_time`] reads the `+` form back.

use super::Invalid;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MS_PER_DAY: i64 = 86_400_000;
const TIME_HINT: &str = "use RFC 3339 (2026-11-25T17:00:00Z) or ms since the epoch";

/// Wall-clock milliseconds since the Unix epoch (0 for a clock before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).unwrap_or(0)
}

/// Milliseconds since the epoch from a plain number of ms or an RFC 3339 time (in UTC without a
/// zone, `Z`, or `±HH:MM`; `T` or a space between date and time; any digits of a second).
/// Times before 1970 are refused.
pub fn parse_instant(t: &str) -> Result<i64, Invalid> {
    if let Ok(ms) = t.parse::<i64>() {
        return Ok(ms);
    }
    match rfc3339_ms(t) {
        Ok(ms) if ms < 0 => Err(Invalid(format!("{t:?} is before 1970"))),
        Ok(ms) => Ok(ms),
        Err(Bad::Syntax(why)) => Err(Invalid(format!("{t:?} is not a time: {TIME_HINT} ({why})"))),
        Err(Bad::TooLate) => {
            Err(Invalid(format!("{t:?} is later than the last time depot can hold ({})", fmt_ms(i64::MAX))))
        }
    }
}

/// Like [`parse_instant`], and also `-DURATION` for that long before `now_ms` (`-15m`, `-2h30m`).
pub fn parse_time(t: &str, now_ms: i64) -> Result<i64, Invalid> {
    if let Some(ago) = t.strip_prefix('-') {
        let d = humantime::parse_duration(ago)
            .map_err(|e| Invalid(format!("{t:?}: -DURATION needs a duration like -15m ({e})")))?;
        return Ok(now_ms.saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)));
    }
    parse_instant(t).map_err(|e| Invalid(format!("{e}; or -DURATION for that long ago, e.g. -15m")))
}

/// [`parse_time`] against the wall clock.
pub fn parse_time_now(t: &str) -> Result<i64, Invalid> {
    parse_time(t, now_ms())
}

/// A duration such as `15m`, `2h30m`, `1d` in milliseconds (at most `u64::MAX` ms, about 584
/// million years).
pub fn parse_duration_ms(d: &str) -> Result<u64, Invalid> {
    match humantime::parse_duration(d) {
        Ok(v) => u64::try_from(v.as_millis())
            .map_err(|_| Invalid(format!("{d:?} is too long: a duration can be at most {} ms", u64::MAX))),
        Err(e) => Err(Invalid(format!("{d:?} is not a duration ({e}); use e.g. 15m, 2h30m or 1d"))),
    }
}

/// Milliseconds since the epoch as RFC 3339 in UTC with milliseconds, for every `i64` (expanded
/// years outside 0000..=9999, see the module's doc).
pub fn fmt_ms(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(MS_PER_DAY));
    let t = ms.rem_euclid(MS_PER_DAY);
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else if y > 9999 {
        format!("+{y}")
    } else {
        format!("-{:04}", y.unsigned_abs())
    };
    let (h, min, s, milli) = (t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000);
    format!("{year}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// A duration in ms in humantime's words: `15m`, `2h 30m`, `1year 2months`.
pub fn fmt_duration_ms(ms: u64) -> String {
    humantime::format_duration(Duration::from_millis(ms)).to_string()
}

/// Why a string is not an RFC 3339 time.
enum Bad {
    Syntax(&'static str),
    TooLate,
}

/// Reads bytes of a time left to right.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += usize::from(c.is_some());
        c
    }
    fn eat(&mut self, c: u8, why: &'static str) -> Result<(), Bad> {
        if self.next() == Some(c) { Ok(()) } else { Err(Bad::Syntax(why)) }
    }
    fn two(&mut self, why: &'static str) -> Result<i64, Bad> {
        match (self.next(), self.next()) {
            (Some(a @ b'0'..=b'9'), Some(b @ b'0'..=b'9')) => Ok(i64::from(a - b'0') * 10 + i64::from(b - b'0')),
            _ => Err(Bad::Syntax(why)),
        }
    }
}

/// An RFC 3339 time (or an expanded `+YYYYY` year) as ms since the epoch, which may be negative.
fn rfc3339_ms(t: &str) -> Result<i64, Bad> {
    let mut c = Cursor { b: t.as_bytes(), i: 0 };
    let expanded = c.peek() == Some(b'+');
    c.i += usize::from(expanded);
    let first = c.i;
    while c.peek().is_some_and(|b| b.is_ascii_digit()) {
        c.i += 1;
    }
    let digits = &c.b[first..c.i];
    if digits.len() < 4 || (!expanded && digits.len() != 4) || digits.len() > 12 {
        return Err(Bad::Syntax("the year needs four digits, or a + and more digits after 9999"));
    }
    let year = digits.iter().fold(0i64, |y, d| y * 10 + i64::from(d - b'0'));
    c.eat(b'-', "expected - after the year")?;
    let month = c.two("the month needs two digits")?;
    c.eat(b'-', "expected - after the month")?;
    let day = c.two("the day needs two digits")?;
    if !matches!(c.next(), Some(b'T' | b't' | b' ')) {
        return Err(Bad::Syntax("expected T between the date and the time"));
    }
    let hour = c.two("the hour needs two digits")?;
    c.eat(b':', "expected : after the hour")?;
    let minute = c.two("the minutes need two digits")?;
    c.eat(b':', "expected : after the minutes")?;
    let second = c.two("the seconds need two digits")?;
    let mut milli = 0;
    if c.peek() == Some(b'.') {
        c.i += 1;
        let mut scale = 100;
        while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
            milli += i64::from(d - b'0') * scale;
            scale /= 10;
            c.i += 1;
        }
    }
    let offset_min = match c.next() {
        None | Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let h = c.two("the zone offset needs two digits of hours")?;
            c.eat(b':', "expected : in the zone offset")?;
            let m = c.two("the zone offset needs two digits of minutes")?;
            if h > 23 || m > 59 {
                return Err(Bad::Syntax("the zone offset is out of range"));
            }
            if sign == b'+' { h * 60 + m } else { -(h * 60 + m) }
        }
        Some(_) => return Err(Bad::Syntax("expected Z or a zone offset such as +01:00 after the seconds")),
    };
    if c.i != c.b.len() {
        return Err(Bad::Syntax("unexpected characters after the zone"));
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(Bad::Syntax("no such day"));
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(Bad::Syntax("the time of day is out of range"));
    }
    // A leap second counts as the last second of its minute.
    let secs_of_day = hour * 3600 + minute * 60 + second.min(59) - offset_min * 60;
    days_from_civil(year, month, day)
        .checked_mul(86_400)
        .and_then(|s| s.checked_add(secs_of_day))
        .and_then(|s| s.checked_mul(1000))
        .and_then(|ms| ms.checked_add(milli))
        .ok_or(Bad::TooLate)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`); exact for |year| < 10^12.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day since 1970-01-01 (Hinnant's `civil_from_days`); exact for every
/// day an `i64` of milliseconds reaches.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
