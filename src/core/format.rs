//! Short numbers for tables and status lines: sizes, rates, ages, optional offsets. One copy,
//! used by the CLI's tables and the console's views alike.

/// 1536 → "1.5 KiB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

/// Milliseconds as a short duration or age: "0s", "4.2s", "42s", "3m12s", "2h05m", "3d04h".
pub fn duration_ms(ms: u64) -> String {
    let s = ms / 1000;
    if ms < 10_000 {
        if ms.is_multiple_of(1000) { format!("{s}s") } else { format!("{:.1}s", ms as f64 / 1000.0) }
    } else if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    }
}

/// A rate per second, short.
pub fn rate(r: f64) -> String {
    if r < 0.05 {
        "0".into()
    } else if r < 10.0 {
        format!("{r:.1}/s")
    } else if r < 10_000.0 {
        format!("{r:.0}/s")
    } else {
        format!("{:.1}k/s", r / 1000.0)
    }
}

/// `s` as one line of at most `max` characters: control characters escaped (`\n`, `\t`, …) and,
/// when it is longer, cut with an ellipsis and its whole size ("abc… (4.0 MiB)"). Reads only the
/// first `max` characters or so of `s`, so a huge value costs no more than a short one.
pub fn preview(s: &str, max: usize) -> String {
    preview_sized(s, s.len() as u64, max)
}

/// [`preview`] of the start of a value whose whole size is `size` bytes (a binary value shown
/// as base64 of its first bytes).
pub fn preview_sized(s: &str, size: u64, max: usize) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in s.chars() {
        let esc: String = if c.is_control() { c.escape_default().collect() } else { c.into() };
        let w = esc.chars().count();
        if width + w > max {
            return cut(&out, size, max);
        }
        out.push_str(&esc);
        width += w;
    }
    out
}

/// The first characters of `shown` and an ellipsis, with the whole size when there is room.
fn cut(shown: &str, size: u64, max: usize) -> String {
    let tail = format!("\u{2026} ({})", bytes(size));
    let tail_w = tail.chars().count();
    if max >= tail_w + 8 {
        shown.chars().take(max - tail_w).collect::<String>() + &tail
    } else if max > 0 {
        shown.chars().take(max - 1).collect::<String>() + "\u{2026}"
    } else {
        String::new()
    }
}

/// An optional count or offset: the number, or "-".
pub fn opt(o: Option<u64>) -> String {
    o.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_fit_their_width_and_say_the_whole_size() {
        assert_eq!(preview("short", 10), "short");
        assert_eq!(preview("a\nb\tc", 10), "a\\nb\\tc");
        let big = "x".repeat(4 << 20);
        let p = preview(&big, 40);
        assert_eq!(p.chars().count(), 40, "{p}");
        assert!(p.starts_with("xxxx") && p.ends_with("\u{2026} (4.0 MiB)"), "{p}");
        assert_eq!(preview(&big, 3), "xx\u{2026}");
        assert_eq!(preview("abc", 0), "");
        // Multi-byte characters are cut on character boundaries.
        let p = preview(&"\u{e9}".repeat(100), 20);
        assert_eq!(p.chars().count(), 20, "{p}");
        assert!(p.starts_with('\u{e9}'), "{p}");
    }

    #[test]
    fn formatters_read_well() {
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(12), "12 B");
        assert_eq!(duration_ms(4200), "4.2s");
        assert_eq!(duration_ms(192_000), "3m12s");
        assert_eq!(duration_ms(7_500_000), "2h05m");
        assert_eq!(rate(0.0), "0");
        assert_eq!(rate(12_345.0), "12.3k/s");
        assert_eq!(opt(None), "-");
        assert_eq!(opt(Some(7)), "7");
    }

    #[test]
    fn extremes_do_not_panic() {
        assert_eq!(bytes(u64::MAX), "16777216.0 TiB");
        assert!(duration_ms(u64::MAX).ends_with('h'));
        for r in [f64::NAN, f64::INFINITY, -1.0, f64::MAX] {
            let _ = rate(r);
        }
    }
}
