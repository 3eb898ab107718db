//! Plain-text tables and the small formatters the verbs share.

/// A table printed with aligned columns; columns whose header starts with '>' are right-aligned.
pub struct Table {
    headers: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.trim_start_matches('>').to_string()).collect(),
            right: headers.iter().map(|h| h.starts_with('>')).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, no trailing spaces.
    pub fn render(&self) -> String {
        let mut width: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < width.len() {
                    width[i] = width[i].max(c.chars().count());
                }
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let w = width.get(i).copied().unwrap_or(0);
                let pad = w.saturating_sub(c.chars().count());
                if i > 0 {
                    s.push_str("  ");
                }
                if self.right.get(i).copied().unwrap_or(false) {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&" ".repeat(pad));
                }
            }
            s.trim_end().to_string()
        };
        let mut out = line(&self.headers);
        for r in &self.rows {
            out.push('\n');
            out.push_str(&line(r));
        }
        out
    }
}

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

/// Milliseconds as a short duration: "0s", "4.2s", "42s", "3m12s", "2h05m", "3d04h".
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

pub fn opt(o: Option<u64>) -> String {
    o.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_formatters_read_well() {
        let mut t = Table::new(&["NAME", ">COUNT"]);
        t.row(vec!["orders".into(), "7".into()]);
        t.row(vec!["a".into(), "1234".into()]);
        assert_eq!(t.render(), "NAME    COUNT\norders      7\na        1234");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(12), "12 B");
        assert_eq!(duration_ms(4200), "4.2s");
        assert_eq!(duration_ms(192_000), "3m12s");
        assert_eq!(duration_ms(7_500_000), "2h05m");
        assert_eq!(rate(0.0), "0");
        assert_eq!(rate(12_345.0), "12.3k/s");
    }
}
