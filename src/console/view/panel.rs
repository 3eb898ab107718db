//! The side panel (see [`console::panel`](crate::console::panel)): its narration, its provider's
//! lines and log, and its keys, laid out so that what a room watches stays on screen however
//! small the terminal. Every part is wrapped here (not by the widget), so its height is known:
//! the provider's lines come first, then the two newest log entries, then the narration (cut with
//! `…` only when even that does not fit), then the keys (wrapped between keys, never inside one),
//! then older log entries. Drawn in reading order: narration, lines, log, keys; on a wide terminal
//! the narration is the left column and the rest the right one.

use super::util::*;
use crate::console::panel::SidePanel;
use crate::console::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Inner width from which the narration gets a column of its own.
const WIDE: u16 = 110;
/// Log entries the panel asks room for (more are shown when there is room anyway).
const LOG_WANTED: usize = 3;
/// Log entries kept on screen before the narration and the keys get room.
const LOG_KEPT: usize = 2;

fn width_of(text: &str) -> usize {
    Span::raw(text).width()
}

/// Word-wraps `text` to `width` columns; a word longer than a line is cut across lines.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    // A line that fits keeps its spacing (a log entry's aligned time).
    if !text.contains('\n') && width_of(text.trim_end()) <= width && !text.trim().is_empty() {
        return vec![text.trim_end().to_string()];
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let (lw, ww) = (width_of(&line), width_of(&word));
            let sep = usize::from(!line.is_empty());
            if lw + sep + ww <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word wider than the line: as much as fits, the rest on the next line.
            let cut: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(cut);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The narration's lines at `width`: paragraphs are separated by blank lines in the text; single
/// line breaks join.
fn narration(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for p in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        out.extend(wrap(p, width));
    }
    out
}

/// The panel's keys as "key label" items, keys as bound right now.
fn key_items(s: &State, p: &SidePanel) -> Vec<(String, String)> {
    p.keys.iter().map(|k| (s.keymap.panel_label(&k.action, k.key), k.label.clone())).collect()
}

/// The panel's keys packed into lines of at most `width` columns, two spaces between keys; a
/// line breaks between keys, never inside one.
pub fn key_lines(s: &State, p: &SidePanel, width: usize) -> Vec<Line<'static>> {
    let t = &s.theme;
    let mut lines = Vec::new();
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (key, label) in key_items(s, p) {
        let w = width_of(&key) + 1 + width_of(&label);
        if used > 0 && used + 2 + w > width {
            lines.push(Line::from(std::mem::take(&mut spans)));
            used = 0;
        }
        if used > 0 {
            spans.push(Span::raw("  "));
            used += 2;
        }
        spans.push(Span::styled(key, t.bold(t.accent)));
        spans.push(Span::styled(format!(" {label}"), t.style(t.muted)));
        used += w;
    }
    if !spans.is_empty() {
        lines.push(Line::from(spans));
    }
    lines
}

/// The parts of a column, each already wrapped to the column's width.
struct Parts {
    narration: Vec<String>,
    lines: Vec<String>,
    log: Vec<Vec<String>>,
    keys: Vec<Line<'static>>,
}

impl Parts {
    fn new(s: &State, p: &SidePanel, width: usize, with_narration: bool) -> Parts {
        Parts {
            narration: if with_narration { narration(&p.narration, width) } else { Vec::new() },
            lines: p.lines.iter().flat_map(|l| wrap(l, width)).collect(),
            log: p.log.iter().map(|l| wrap(l, width)).collect(),
            keys: key_lines(s, p, width),
        }
    }

    /// Rows it would like: everything but the older log entries.
    fn wanted(&self) -> usize {
        let log: usize = self.log.iter().take(LOG_WANTED).map(Vec::len).sum();
        self.narration.len() + self.lines.len() + log + self.keys.len()
    }

    /// What fits in `rows` rows, by priority, in reading order.
    fn fit(self, s: &State, rows: usize, width: usize) -> Vec<Line<'static>> {
        let t = &s.theme;
        let mut left = rows;
        let lines: Vec<String> = self.lines.into_iter().take(left).collect();
        left -= lines.len();
        // Whole log entries, newest first: the first two now, older ones after the keys.
        let mut log_n = 0;
        for entry in self.log.iter().take(LOG_KEPT) {
            if entry.len() > left {
                break;
            }
            left -= entry.len();
            log_n += 1;
        }
        let mut narration = self.narration;
        if narration.len() > left {
            narration.truncate(left);
            if let Some(last) = narration.last_mut() {
                let mut cut: String = last.chars().take(width.saturating_sub(1)).collect();
                cut.push('…');
                *last = cut;
            }
        }
        left -= narration.len();
        let keys = if self.keys.len() <= left { self.keys } else { Vec::new() };
        left -= keys.len();
        for entry in self.log.iter().skip(log_n) {
            if log_n < LOG_KEPT || entry.len() > left {
                break;
            }
            left -= entry.len();
            log_n += 1;
        }
        let styled = |text: String, style: Style| Line::from(Span::styled(text, style));
        let mut out: Vec<Line<'static>> = narration.into_iter().map(|l| styled(l, t.style(t.text))).collect();
        out.extend(lines.into_iter().map(|l| styled(l, t.style(t.accent))));
        out.extend(self.log.into_iter().take(log_n).flatten().map(|l| styled(l, t.style(t.muted))));
        out.extend(keys);
        out
    }
}

/// The inner area's columns: (narration, the rest) when wide, else one column for everything.
fn columns(inner: Rect) -> Option<[Rect; 2]> {
    (inner.width >= WIDE)
        .then(|| Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).spacing(2).areas(inner))
}

/// Rows the panel would like at a terminal `width` wide, borders included.
pub fn wanted_height(s: &State, p: &SidePanel, width: u16) -> u16 {
    let inner = Rect::new(0, 0, width.saturating_sub(2), 1);
    let rows = match columns(inner) {
        Some([left, right]) => narration(&p.narration, left.width as usize)
            .len()
            .max(Parts::new(s, p, right.width as usize, false).wanted()),
        None => Parts::new(s, p, inner.width as usize, true).wanted(),
    };
    (rows as u16).saturating_add(2)
}

pub fn panel(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let Some(p) = &s.panel else { return };
    let b = block(s, p.title.clone());
    let inner = b.inner(area);
    f.render_widget(b, area);
    let rows = inner.height as usize;
    match columns(inner) {
        Some([left, right]) => {
            let w = left.width as usize;
            let mut text = narration(&p.narration, w);
            if text.len() > rows {
                text.truncate(rows);
                if let Some(last) = text.last_mut() {
                    *last = format!("{}…", last.chars().take(w.saturating_sub(1)).collect::<String>());
                }
            }
            let text: Vec<Line> = text.into_iter().map(|l| Line::from(Span::styled(l, t.style(t.text)))).collect();
            f.render_widget(Paragraph::new(text), left);
            let w = right.width as usize;
            f.render_widget(Paragraph::new(Parts::new(s, p, w, false).fit(s, rows, w)), right);
        }
        None => {
            let w = inner.width as usize;
            f.render_widget(Paragraph::new(Parts::new(s, p, w, true).fit(s, rows, w)), inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_between_words_and_cuts_only_words_wider_than_a_line() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("  kept   as is  ", 20), ["  kept   as is"], "a line that fits keeps its spacing");
        assert_eq!(wrap("  spaced   out  ", 8), ["spaced", "out"]);
        assert_eq!(wrap("abcdefgh ij", 3), ["abc", "def", "gh", "ij"]);
        assert!(wrap("", 10).is_empty());
        assert_eq!(narration("one\ntwo\n\nthree", 20), ["one two", "three"]);
    }
}
