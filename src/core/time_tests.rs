//! Tests of [`super`]: the formatter at the extremes, round trips, and parsing what people type.

use super::*;

const LAST_4_DIGIT_MS: i64 = 253_402_300_799_999;

#[test]
fn every_i64_formats_and_the_extremes_read_right() {
    assert_eq!(fmt_ms(i64::MIN), "-292275055-05-16T16:47:04.192Z");
    assert_eq!(fmt_ms(i64::MAX), "+292278994-08-17T07:12:55.807Z");
    assert_eq!(fmt_ms(-1), "1969-12-31T23:59:59.999Z");
    assert_eq!(fmt_ms(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(fmt_ms(LAST_4_DIGIT_MS), "9999-12-31T23:59:59.999Z");
    assert_eq!(fmt_ms(LAST_4_DIGIT_MS + 1), "+10000-01-01T00:00:00.000Z");
    assert_eq!(fmt_ms(-62_167_219_200_000), "0000-01-01T00:00:00.000Z");
    assert_eq!(fmt_ms(-62_167_219_200_001), "-0001-12-31T23:59:59.999Z");
    for ms in [i64::MIN + 1, i64::MAX - 1, -MS_PER_DAY, 1, i64::MIN / 2, i64::MAX / 3] {
        assert!(fmt_ms(ms).ends_with('Z'), "{ms}");
    }
}

#[test]
fn formatting_agrees_with_humantime_and_parses_back_for_1970_to_9999() {
    // A stride that is prime and not a whole number of seconds visits every part of the clock.
    let mut ms = 0i64;
    while ms <= LAST_4_DIGIT_MS {
        let t = UNIX_EPOCH + Duration::from_millis(ms as u64);
        let s = fmt_ms(ms);
        assert_eq!(s, humantime::format_rfc3339_millis(t).to_string(), "{ms}");
        assert_eq!(parse_time(&s, 0).unwrap(), ms, "{s}");
        ms += 2_147_483_647 * 3;
    }
    for y in 1970..=9999 {
        let jan1 = parse_time(&format!("{y:04}-01-01T00:00:00Z"), 0).unwrap();
        assert_eq!(fmt_ms(jan1), format!("{y:04}-01-01T00:00:00.000Z"));
        if y > 1970 {
            assert_eq!(parse_time(&fmt_ms(jan1 - 1), 0).unwrap(), jan1 - 1);
        }
        let st = humantime::parse_rfc3339(&format!("{y:04}-12-31T23:59:59.999Z")).unwrap();
        let dec31 = st.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
        assert_eq!(parse_instant(&fmt_ms(dec31)).unwrap(), dec31);
        if is_leap(y) {
            assert_eq!(parse_instant(&format!("{y:04}-02-29T12:00:00Z")).unwrap(), jan1 + 59 * MS_PER_DAY + 43_200_000);
        }
    }
    assert_eq!(parse_instant(&fmt_ms(i64::MAX)).unwrap(), i64::MAX, "expanded years read back too");
    assert_eq!(parse_instant("+10000-01-01T00:00:00Z").unwrap(), LAST_4_DIGIT_MS + 1);
}

#[test]
fn times_and_durations_parse() {
    let now = 1_795_626_000_000;
    assert_eq!(parse_time("2026-11-25T17:00:00Z", now).unwrap(), 1_795_626_000_000);
    assert_eq!(parse_time("1234", now).unwrap(), 1234);
    assert_eq!(parse_time("-15m", now).unwrap(), now - 900_000);
    assert_eq!(parse_time("-1h", now).unwrap(), now - 3_600_000);
    let ago = parse_time_now("-1h").unwrap();
    assert!((now_ms() - ago - 3_600_000).abs() < 5_000);
    assert!(parse_time("yesterday", now).is_err());
    assert_eq!(parse_duration_ms("1h30m").unwrap(), 5_400_000);
    assert!(parse_duration_ms("soon").is_err());
}

#[test]
fn rfc3339_forms_people_type() {
    let base = 1_795_626_000_000;
    for (t, ms) in [
        ("2026-11-25T17:00:00Z", base),
        ("2026-11-25 17:00:00", base),
        ("2026-11-25t17:00:00z", base),
        ("2026-11-25T17:00:00+00:00", base),
        ("2026-11-25T18:30:00+01:30", base),
        ("2026-11-25T12:00:00-05:00", base),
        ("2026-11-25T17:00:00.1239Z", base + 123),
        ("2026-11-25T17:00:00.5", base + 500),
        ("2026-11-25T16:59:60Z", base - 1000),
        ("2026-11-25T17:00:00.999999999999999999999Z", base + 999),
    ] {
        assert_eq!(parse_instant(t).unwrap(), ms, "{t}");
    }
    assert_eq!(parse_instant("-1500").unwrap(), -1500, "negative ms are a time, for the HTTP API");
}

#[test]
fn bad_times_are_refused_with_a_reason_never_a_panic() {
    for t in [
        "",
        "-",
        "+",
        "2026-",
        "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-11-25T24:00:00Z",
        "2026-11-25T17:00:00Zjunk",
        "2026-11-25T17:00:00+25:00",
        "2026-11-25",
        "20261-01-01T00:00:00Z",
        "+999999999999-12-31T23:59:59.999Z",
        "+9999999999999-01-01T00:00:00Z",
        "２０２６-11-25T17:00:00Z",
        "99999999999999999999999",
        "-99999999999999999999999y",
        "-1x",
    ] {
        let e = parse_time(t, i64::MIN).expect_err(t);
        assert!(!e.0.is_empty(), "{t}");
    }
    assert!(parse_instant("1969-12-31T23:59:59Z").unwrap_err().0.contains("before 1970"));
    assert!(parse_instant("1970-01-01T00:30:00+01:00").unwrap_err().0.contains("before 1970"));
    assert!(parse_instant("+999999999999-12-31T23:59:59Z").unwrap_err().0.contains("later than the last time"));
    let e = parse_instant("soon").unwrap_err().0;
    assert!(e.contains("is not a time: use RFC 3339"), "{e}");
    let e = parse_time("soon", 0).unwrap_err().0;
    assert!(e.contains("-DURATION"), "{e}");
    assert_eq!(parse_time("-10000000000000000y", 0).ok(), None);
    assert_eq!(parse_time("-500000000y", -5).unwrap(), i64::MIN, "longer ago than an i64 reaches saturates");
}

#[test]
fn durations_up_to_u64_ms_and_a_clear_error_beyond() {
    assert_eq!(parse_duration_ms("100000000000d").unwrap(), 8_640_000_000_000_000_000);
    let e = parse_duration_ms("300000000000d").unwrap_err().0;
    assert!(e.contains("too long"), "{e}");
    assert!(parse_duration_ms("1000000000000000000000000d").is_err());
    assert!(parse_duration_ms("").is_err());
    assert_eq!(fmt_duration_ms(5_400_000), "1h 30m");
    assert!(!fmt_duration_ms(u64::MAX).is_empty());
}
