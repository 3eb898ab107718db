//! Times and durations given on the command line.

use anyhow::{Context, Result, bail};

/// Milliseconds since the epoch from RFC 3339, a plain number of ms, or `-DURATION` (that long ago).
pub fn parse_time(t: &str) -> Result<i64> {
    if let Some(ago) = t.strip_prefix('-') {
        let d =
            humantime::parse_duration(ago).with_context(|| format!("{t:?}: -DURATION needs a duration like -15m"))?;
        return Ok(crate::engine::log::now_ms() - d.as_millis() as i64);
    }
    // The server's parser knows RFC 3339 and ms; the command line also takes -DURATION.
    crate::server::parse_time(t).map_err(|e| anyhow::anyhow!("{e}; or -DURATION for that long ago, e.g. -15m"))
}

/// A duration such as `15m`, `2h30m`, `1d` in milliseconds.
pub fn parse_duration_ms(d: &str) -> Result<u64> {
    match humantime::parse_duration(d) {
        Ok(v) => Ok(v.as_millis() as u64),
        Err(e) => bail!("{d:?} is not a duration ({e}); use e.g. 15m, 2h30m or 1d"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_parse() {
        assert_eq!(parse_time("2026-11-25T17:00:00Z").unwrap(), 1_795_626_000_000);
        assert_eq!(parse_time("1234").unwrap(), 1234);
        let ago = parse_time("-1h").unwrap();
        assert!((crate::engine::log::now_ms() - ago - 3_600_000).abs() < 5_000);
        assert!(parse_time("yesterday").is_err());
        assert_eq!(parse_duration_ms("1h30m").unwrap(), 5_400_000);
        assert!(parse_duration_ms("soon").is_err());
    }
}
