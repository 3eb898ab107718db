//! A form dialog: each field's label (from the form's field enum) and value, the focused field's
//! hint, the submit button, and the last error.

use super::util::*;
use crate::console::form::{FieldKind, Form, FormField};
use crate::console::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub fn draw<F: FormField>(f: &mut Frame, area: Rect, s: &State, form: &Form<F>) {
    let t = &s.theme;
    // Room for a value right of the labels, inside the border.
    let room = (popup(area, 84, 1).width as usize).saturating_sub(2 + 13).max(8);
    let mut lines = Vec::new();
    for (i, (id, field)) in form.fields().enumerate() {
        let focused = form.focus == i;
        let label_style = if focused { t.bold(t.accent) } else { t.style(t.muted) };
        let value = match &field.kind {
            FieldKind::Choice(opts) => {
                // The options, on as many lines as they need.
                let mut text = String::new();
                let mut line_len = 0;
                for (k, o) in opts.iter().enumerate() {
                    let o = if k == field.choice { format!("[{o}]") } else { o.clone() };
                    let n = o.chars().count();
                    if line_len > 0 && line_len + 1 + n > room {
                        text.push('\n');
                        line_len = 0;
                    } else if line_len > 0 {
                        text.push(' ');
                        line_len += 1;
                    }
                    text.push_str(&o);
                    line_len += n;
                }
                text
            }
            _ => field.value.clone(),
        };
        let cursor = if focused && !matches!(field.kind, FieldKind::Choice(_)) { "█" } else { "" };
        let mut value_lines = value.split('\n').collect::<Vec<_>>();
        if value_lines.is_empty() {
            value_lines.push("");
        }
        let n = value_lines.len();
        for (k, v) in value_lines.into_iter().enumerate() {
            let label = if k == 0 { format!("{:>12} ", id.label()) } else { " ".repeat(13) };
            let c = if k + 1 == n { cursor } else { "" };
            let vstyle = t.style(t.text);
            lines.push(Line::from(vec![Span::styled(label, label_style), Span::styled(format!("{v}{c}"), vstyle)]));
        }
        if focused && !field.hint.is_empty() {
            lines.push(Line::from(Span::styled(format!("{}{}", " ".repeat(13), field.hint), t.style(t.muted))));
        }
    }
    lines.push(Line::from(""));
    let submit_style = if form.on_submit() { t.selection() } else { t.bold(t.accent) };
    let button = format!("[ {} ]", form.submit);
    let keys = "tab: next field · ctrl-s: submit · esc: cancel";
    // On a narrow terminal the keys go on a line of their own rather than off the edge.
    if 13 + button.chars().count() + 2 + keys.chars().count() <= room + 13 {
        lines.push(Line::from(vec![
            Span::raw(" ".repeat(13)),
            Span::styled(button, submit_style),
            Span::styled(format!("  {keys}"), t.style(t.muted)),
        ]));
    } else {
        lines.push(Line::from(vec![Span::raw(" ".repeat(13)), Span::styled(button, submit_style)]));
        lines.push(Line::from(Span::styled(format!(" {keys}"), t.style(t.muted))));
    }
    if let Some(e) = &form.error {
        // Wrapped inside the border after " ✗ ", never cut off at the dialog's edge.
        let width = (popup(area, 84, 1).width as usize).saturating_sub(2 + 3);
        for (k, l) in crate::console::layout::wrap(e, width).into_iter().enumerate() {
            let lead = if k == 0 { " ✗ " } else { "   " };
            lines.push(Line::from(Span::styled(format!("{lead}{l}"), t.bold(t.error))));
        }
    }
    let r = popup(area, 84, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(block(s, form.title.clone())), r);
}
