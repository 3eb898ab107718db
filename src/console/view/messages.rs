//! A partition's records: browse pages, live tail, or a group's backlog; a detail pane with key,
//! headers, timestamp, size and the value (pretty JSON, text, or hex for binary). Records the
//! side panel's provider points at (the demo's dropped window) carry its label.

use super::util::*;
use crate::console::layout;
use crate::console::state::{MsgMode, State};
use crate::core::format::bytes;
use crate::core::time::fmt_ms;
use crate::core::{Message, Payload, TOMBSTONE};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Wrap};

/// How a value reads: pretty JSON, plain text, or a hex dump.
pub fn render_value(p: &Payload) -> (String, &'static str) {
    if let Some(text) = p.as_text() {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text)
            && (v.is_object() || v.is_array())
            && let Ok(pretty) = serde_json::to_string_pretty(&v)
        {
            return (pretty, "json");
        }
        if text.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') {
            return (text.to_string(), "text");
        }
        return (text.escape_debug().to_string(), "text (escaped)");
    }
    let mut out = String::new();
    for (i, chunk) in p.0.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk.iter().map(|&b| if (0x20..0x7f).contains(&b) { b as char } else { '.' }).collect();
        out.push_str(&format!("{:04x}  {:<47}  {ascii}\n", i * 16, hex.join(" ")));
    }
    (out, "binary, hex")
}

fn short(p: &Payload) -> String {
    match p.as_text() {
        Some(t) => t.to_string(),
        None => format!("<{} bytes binary>", p.0.len()),
    }
}

pub fn messages(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let Some(m) = &s.data.messages else { return };
    let list = s.visible_messages();
    let mode = match &m.mode {
        MsgMode::Browse { .. } => "browse".to_string(),
        MsgMode::Tail => "live tail".to_string(),
        MsgMode::Backlog { group } => format!("backlog of {group}"),
    };
    let merged = m.merged.is_some();
    let span = match (list.first(), list.last()) {
        (Some(_), Some(_)) if merged => {
            let n = m.merged.as_ref().map_or(0, |g| g.ranges.len());
            format!("{} records of {n} partitions by time", list.len())
        }
        (Some(a), Some(b)) => format!("offsets {}..={}", a.offset, b.offset),
        _ => "no records".into(),
    };
    let marks = match m.marks {
        (Some(a), Some(b)) => format!(" · marked {}..={}", a.min(b), a.max(b)),
        (Some(a), None) => format!(" · marked from {a}"),
        (None, Some(b)) => format!(" · marked to {b}"),
        (None, None) => String::new(),
    };
    let title = format!("{} · {mode} · {span}{marks}{}", m.scope(), if m.loading { " · loading…" } else { "" });
    let (table_area, detail_area) = layout::messages(area, s);
    let b = block(s, title);
    if list.is_empty() {
        let text = match (&m.mode, m.loading) {
            (_, true) => "loading…".to_string(),
            (MsgMode::Backlog { group }, false) => format!("group {group} has consumed everything here: no backlog"),
            _ if !s.nav.screen().filter.is_empty() => "no record matches the filter (esc clears it)".into(),
            _ => "no records here yet — p publishes one".into(),
        };
        empty(f, table_area, s, b, vec![Line::from(text)]);
    } else {
        // Under 70 columns the time drops its date (the detail pane has it), so values still show.
        let narrow = table_area.width < NARROW;
        let time_w = if narrow { 12 } else { 23 };
        // Merged, each record names its partition.
        let mut widths =
            vec![Constraint::Length(8), Constraint::Length(time_w), Constraint::Length(12), Constraint::Fill(1)];
        if merged {
            widths.insert(0, Constraint::Length(4));
        }
        let value_w = fill_width(table_area.width, &widths, 1);
        let (shown, sel) = on_screen(s, table_area, &list);
        let rows = shown
            .map(|r| {
                // Marks: `[` the start, `]` the end, `|` between them.
                let mark = match m.marks {
                    (Some(a), _) if a == r.offset => "[",
                    (_, Some(b)) if b == r.offset => "]",
                    (Some(a), Some(b)) if (a.min(b)..=a.max(b)).contains(&r.offset) => "|",
                    _ => "",
                };
                let time = fmt_ms(r.timestamp).replace('T', " ").trim_end_matches('Z').to_string();
                let time = if narrow { time.rsplit(' ').next().unwrap_or_default().to_string() } else { time };
                // A record the side panel points at (the demo's dropped window) says so first.
                // A tombstone reads as one, dim, never as an empty value.
                let (text, fg) = match &r.value {
                    Some(v) => (short(v), t.text),
                    None => (TOMBSTONE.to_string(), t.muted),
                };
                let value = match s.panel.as_ref().and_then(|p| p.mark(&m.topic, r.partition, r.offset)) {
                    Some(mark) => Cell::from(Line::from(vec![
                        Span::styled(format!("{} ", mark.label), t.bold(t.warn)),
                        Span::styled(clip(&text, value_w.saturating_sub(mark.label.chars().count() + 1)), t.style(fg)),
                    ])),
                    None => cell(s, clip(&text, value_w), fg),
                };
                let mut cells = vec![
                    num(format!("{mark}{}", r.offset)),
                    cell(s, time, t.muted),
                    cell(s, clip(&r.key.as_ref().map(short).unwrap_or_default(), 12), t.accent),
                    value,
                ];
                if merged {
                    cells.insert(0, num(r.partition.to_string()));
                }
                cells
            })
            .collect();
        let mut headers = vec![" OFFSET", "TIME (UTC)", "KEY", "VALUE"];
        if merged {
            headers.insert(0, " PART");
        }
        let tab = table(s, &headers, &widths, rows, sel, 0);
        f.render_widget(tab.block(b), table_area);
    }
    if let Some(d) = detail_area {
        detail(f, d, s, list.get(s.nav.screen().selected).copied());
    }
}

fn detail(f: &mut Frame, area: Rect, s: &State, r: Option<&Message>) {
    let t = &s.theme;
    let b = block(s, "record".into());
    let Some(r) = r else {
        f.render_widget(b, area);
        return;
    };
    let (value, kind) = match &r.value {
        Some(v) => render_value(v),
        None => (String::new(), "null"),
    };
    let mut lines = Vec::new();
    if s.data.messages.as_ref().is_some_and(|m| m.merged.is_some()) {
        lines.push(Line::from(vec![Span::styled("partition  ", t.style(t.muted)), Span::raw(r.partition.to_string())]));
    }
    lines.extend([
        Line::from(vec![Span::styled("offset     ", t.style(t.muted)), Span::raw(r.offset.to_string())]),
        Line::from(vec![
            Span::styled("timestamp  ", t.style(t.muted)),
            Span::raw(format!("{} ({})", fmt_ms(r.timestamp), r.timestamp)),
        ]),
        Line::from(vec![
            Span::styled("key        ", t.style(t.muted)),
            Span::raw(r.key.as_ref().map(Payload::display).unwrap_or_else(|| "(none)".into())),
        ]),
        Line::from(vec![Span::styled("size       ", t.style(t.muted)), Span::raw(bytes(r.size() as u64))]),
    ]);
    if r.headers.is_empty() {
        lines.push(Line::from(vec![Span::styled("headers    ", t.style(t.muted)), Span::raw("(none)")]));
    }
    for h in &r.headers {
        lines.push(Line::from(vec![
            Span::styled(format!("header     {} = ", h.name), t.style(t.muted)),
            Span::raw(h.display()),
        ]));
    }
    lines.push(Line::from(Span::styled(format!("value ({kind})"), t.style(t.muted))));
    if r.value.is_none() {
        lines.push(Line::from(Span::styled(format!("{TOMBSTONE} (the value is null)"), t.style(t.muted))));
    }
    lines.extend(value.lines().map(|l| Line::from(l.to_string())));
    f.render_widget(Paragraph::new(lines).block(b).wrap(Wrap { trim: false }).style(t.style(t.text)), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_render_as_json_text_or_hex() {
        let (v, k) = render_value(&Payload::text(r#"{"a":1}"#));
        assert_eq!((v.as_str(), k), ("{\n  \"a\": 1\n}", "json"));
        assert_eq!(render_value(&Payload::text("plain")).1, "text");
        assert_eq!(render_value(&Payload::text("bell\u{7}")).0, "bell\\u{7}");
        let (hex, k) = render_value(&Payload(bytes::Bytes::from_static(&[0xff, 0x41])));
        assert_eq!(k, "binary, hex");
        assert!(hex.starts_with("0000  ff 41"), "{hex}");
        assert!(hex.trim_end().ends_with(".A"), "{hex}");
    }

    #[test]
    fn json_keeps_the_record_s_key_order() {
        let (v, _) = render_value(&Payload::text(r#"{"zeta":1,"alpha":{"y":2,"b":3},"mid":[{"q":1,"a":2}]}"#));
        let keys: Vec<&str> = v.lines().filter_map(|l| l.trim().split('"').nth(1)).collect();
        assert_eq!(keys, ["zeta", "alpha", "y", "b", "mid", "q", "a"], "{v}");
    }
}
