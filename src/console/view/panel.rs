//! The side panel (see [`console::panel`](crate::console::panel)): its narration, its provider's
//! lines and log, and its keys.

use super::util::*;
use crate::console::panel::SidePanel;
use crate::console::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// The narration as paragraphs: single line breaks join into one line (the panel wraps them to
/// its width); blank lines separate paragraphs.
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n").map(|p| p.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|p| !p.is_empty()).collect()
}

/// The panel's keys as one line of "key label" pairs (keys as bound right now).
pub fn key_spans(s: &State, p: &SidePanel) -> Vec<Span<'static>> {
    let t = &s.theme;
    let mut spans = Vec::new();
    for k in &p.keys {
        spans.push(Span::styled(s.keymap.panel_label(&k.action, k.key), t.bold(t.accent)));
        spans.push(Span::styled(format!(" {}  ", k.label), t.style(t.muted)));
    }
    spans
}

pub fn panel(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let Some(p) = &s.panel else { return };
    let b = block(s, p.title.clone());
    let inner = b.inner(area);
    f.render_widget(b, area);
    let wide = inner.width >= 110;
    let [left, right] = if wide {
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).spacing(2).areas(inner)
    } else {
        Layout::horizontal([Constraint::Percentage(100), Constraint::Length(0)]).areas(inner)
    };
    let mut lines: Vec<Line> =
        paragraphs(&p.narration).into_iter().map(|l| Line::from(Span::styled(l, t.style(t.text)))).collect();
    if !wide {
        lines.push(Line::from(""));
        lines.extend(p.lines.iter().map(|l| Line::from(Span::styled(l.clone(), t.style(t.accent)))));
        lines.push(Line::from(key_spans(s, p)));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), left);
    if wide {
        let mut lines: Vec<Line> =
            p.lines.iter().map(|l| Line::from(Span::styled(l.clone(), t.style(t.accent)))).collect();
        lines.push(Line::from(""));
        lines.extend(p.log.iter().map(|l| Line::from(Span::styled(l.clone(), t.style(t.muted)))));
        lines.push(Line::from(""));
        lines.push(Line::from(key_spans(s, p)));
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), right);
    }
}
