//! How `peek` and `pull` print records: one JSON object per line (`--json`, values whole), or a
//! table whose KEY, VALUE and HEADERS cells are previews cut to the terminal's width, so one huge
//! record costs one short row instead of padding every row to its size.

use crate::core::format::{preview, preview_sized};
use crate::core::table::Table;
use crate::core::time::fmt_ms;
use crate::core::{Message, Payload, TOMBSTONE};
use anyhow::Result;
use std::io::{IsTerminal, Write};

/// The width tables are cut to when stdout is no terminal and `COLUMNS` is not set.
pub const DEFAULT_WIDTH: usize = 120;
/// The narrowest width a table is cut to, whatever the terminal says.
const MIN_WIDTH: usize = 40;

/// The width to cut tables to: `COLUMNS` when set, else the terminal's, else [`DEFAULT_WIDTH`].
pub fn width() -> usize {
    let from_env = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|&c| c > 0);
    let from_tty =
        || std::io::stdout().is_terminal().then(|| crossterm::terminal::size().ok()).flatten().map(|(w, _)| w as usize);
    from_env.or_else(from_tty).unwrap_or(DEFAULT_WIDTH).max(MIN_WIDTH)
}

/// Prints `msgs` to stdout: JSON lines, or a table [`table`] cut to [`width`].
pub fn print_messages(msgs: &[Message], json: bool) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        for m in msgs {
            writeln!(out, "{}", serde_json::to_string(m)?)?;
        }
    } else {
        writeln!(out, "{}", table(msgs, width()))?;
    }
    out.flush()?;
    Ok(())
}

/// A payload's preview of at most `max` characters: text as is, other bytes as `base64:…` of
/// their first bytes; the whole size when cut.
fn payload(p: &Payload, max: usize) -> String {
    match p.as_text() {
        Some(t) => preview(t, max),
        None => {
            let head = Payload(p.0.slice(..p.0.len().min(max)));
            preview_sized(&head.display(), p.0.len() as u64, max)
        }
    }
}

/// The records as a table whose lines stay within about `width` characters: the short columns
/// whole, KEY and HEADERS cut to a share of the rest, VALUE to what is left.
pub fn table(msgs: &[Message], width: usize) -> String {
    const HEADERS: [&str; 6] = [">PARTITION", ">OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"];
    let fixed: Vec<[String; 3]> =
        msgs.iter().map(|m| [m.partition.to_string(), m.offset.to_string(), fmt_ms(m.timestamp)]).collect();
    let col = |cells: &mut dyn Iterator<Item = usize>, name: &str| cells.max().unwrap_or(0).max(name.len());
    let fixed_w: usize = (0..3).map(|i| col(&mut fixed.iter().map(|f| f[i].chars().count()), HEADERS[i])).sum();
    // Five gaps of two spaces between six columns.
    let rest = width.saturating_sub(fixed_w + 10).max(3 * 8);
    let keys: Vec<String> =
        msgs.iter().map(|m| m.key.as_ref().map(|k| payload(k, rest / 5)).unwrap_or_default()).collect();
    let headers: Vec<String> = msgs
        .iter()
        .map(|m| {
            let all: Vec<String> = m
                .headers
                .iter()
                .map(|h| {
                    format!(
                        "{}={}",
                        h.name,
                        h.value.as_ref().map_or_else(|| "null".to_string(), |v| payload(v, rest / 4))
                    )
                })
                .collect();
            preview(&all.join(" "), rest / 4)
        })
        .collect();
    let key_w = col(&mut keys.iter().map(|k| k.chars().count()), "KEY");
    let headers_w = col(&mut headers.iter().map(|h| h.chars().count()), "HEADERS");
    let value_max = rest.saturating_sub(key_w + headers_w).max(8);
    let mut t = Table::new(&HEADERS);
    for ((m, [p, o, ts]), (k, h)) in msgs.iter().zip(fixed).zip(keys.into_iter().zip(headers)) {
        let value = m.value.as_ref().map_or_else(|| TOMBSTONE.to_string(), |v| payload(v, value_max));
        t.row(vec![p, o, ts, k, value, h]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Header;

    fn msg(offset: u64, value: &str, headers: &[(&str, &str)]) -> Message {
        Message {
            topic: "t".into(),
            partition: 0,
            offset,
            timestamp: 1_700_000_000_000,
            key: Some(Payload::text("k")),
            value: Some(Payload::text(value)),
            headers: headers.iter().map(|(n, v)| Header::text(n, v)).collect(),
        }
    }

    #[test]
    fn one_huge_value_costs_one_short_row() {
        let big = "x".repeat(4 << 20);
        let mut msgs = vec![msg(0, &big, &[("src", "shell")])];
        msgs.extend((1..1000).map(|o| msg(o, "small", &[("src", "shell")])));
        let out = table(&msgs, 120);
        assert_eq!(out.lines().count(), 1001);
        for line in out.lines() {
            assert!(line.chars().count() <= 120, "{} chars: {line:.200}", line.chars().count());
        }
        let first = out.lines().nth(1).unwrap_or_default();
        assert!(first.contains("\u{2026} (4.0 MiB)") && first.contains("src=shell"), "{first}");
        assert!(out.lines().nth(2).unwrap_or_default().contains("small"));
    }

    #[test]
    fn a_tombstone_reads_as_one_never_as_an_empty_value() {
        let tombstone = Message { value: None, ..msg(0, "", &[]) };
        let out = table(&[tombstone, msg(1, "", &[])], 80);
        let rows: Vec<&str> = out.lines().collect();
        assert!(rows[1].contains(TOMBSTONE), "{out}");
        assert!(!rows[2].contains(TOMBSTONE), "an empty value is not a tombstone: {out}");
        let json = serde_json::to_string(&Message { value: None, ..msg(0, "", &[]) }).unwrap();
        assert!(json.contains(r#""value":null"#), "{json}");
    }

    #[test]
    fn binary_values_and_newlines_stay_on_one_line() {
        let mut m = msg(0, "a\nb", &[]);
        let binary = Message { value: Some(Payload(bytes::Bytes::from(vec![0xff; 10_000]))), ..msg(1, "", &[]) };
        m.key = None;
        let out = table(&[m, binary], 80);
        assert_eq!(out.lines().count(), 3, "{out}");
        assert!(out.contains("a\\nb"), "{out}");
        let row = out.lines().nth(2).unwrap_or_default();
        assert!(row.contains("base64:") && row.contains("(9.8 KiB)"), "{row}");
        assert!(row.chars().count() <= 80, "{row}");
    }
}
