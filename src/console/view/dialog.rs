//! Dialogs: forms (publish, create topic, reset, replay, pull, jump), confirmations, the reset
//! and replay previews, and the records of a pull by hand.

use super::util::*;
use crate::console::form::{FieldKind, Form};
use crate::console::state::{Dialog, State};
use crate::core::format::opt;
use crate::core::replay::ORIGIN_PREFIX;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub fn dialog(f: &mut Frame, area: Rect, s: &State, d: &Dialog) {
    match d {
        Dialog::Publish { form, .. }
        | Dialog::CreateTopic(form)
        | Dialog::Reset { form, .. }
        | Dialog::Replay { form, .. }
        | Dialog::PullAsk { form, .. }
        | Dialog::Jump(form) => form_view(f, area, s, form),
        Dialog::Confirm { title, text, danger, .. } => {
            let t = &s.theme;
            let color = if *danger { t.danger } else { t.accent };
            let lines = vec![
                Line::from(""),
                Line::from(Span::styled(text.clone(), t.style(t.text))),
                Line::from(""),
                Line::from(vec![
                    Span::styled(" enter/y ", t.bold(color)),
                    Span::styled("yes   ", t.style(t.text)),
                    Span::styled(" esc/n ", t.bold(t.muted)),
                    Span::styled("no", t.style(t.text)),
                ]),
            ];
            // Border, blank, the question (wrapped), blank, the keys, border.
            let inner_w = popup(area, 70, 1).width.saturating_sub(2).max(1) as usize;
            let r = popup(area, 70, (text.chars().count().div_ceil(inner_w) + 5) as u16);
            f.render_widget(Clear, r);
            let b = block(s, title.clone()).border_style(t.style(color));
            f.render_widget(Paragraph::new(lines).block(b).wrap(Wrap { trim: false }).centered(), r);
        }
        Dialog::Working(text) => {
            let r = popup(area, 50, 3);
            f.render_widget(Clear, r);
            f.render_widget(Paragraph::new(text.clone()).block(block(s, "working".into())).centered(), r);
        }
        Dialog::ResetPreview { plan, force } => {
            let t = &s.theme;
            let title = match plan.undo_of {
                Some(id) => format!("undo reset #{id} of {} on {}", plan.group, plan.topic),
                None => format!("reset {} on {}: {}", plan.group, plan.topic, plan.spec),
            };
            let widths = [
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(6),
                Constraint::Length(13),
                Constraint::Fill(1),
            ];
            let note_w = fill_width(popup(area, 100, 1).width, &widths, 1);
            // Notes too long for their column are also written out in full below the table.
            let long_notes: Vec<Line> = plan
                .rows
                .iter()
                .filter_map(|row| Some((row.partition, row.note.as_deref()?)))
                .filter(|(_, note)| note.chars().count() > note_w)
                .map(|(p, note)| Line::from(Span::styled(format!("partition {p}: {note}"), t.style(t.warn))))
                .collect();
            // Border, header, rows, blank, long notes, two lines, border.
            let r = popup(area, 100, (plan.rows.len() + long_notes.len() + 6) as u16);
            f.render_widget(Clear, r);
            let b = block(s, title);
            let inner = b.inner(r);
            f.render_widget(b, r);
            let [tab_area, _, foot] = Layout::vertical([
                Constraint::Min(2),
                Constraint::Length(1),
                Constraint::Length(long_notes.len() as u16 + 2),
            ])
            .areas(inner);
            let rows = plan
                .rows
                .iter()
                .map(|row| {
                    let mv = match row.before {
                        Some(b) => format!("{:+}", row.after as i128 - b as i128),
                        None => "-".into(),
                    };
                    vec![
                        num(row.partition.to_string()),
                        num(opt(row.before)),
                        num_in(s, row.after.to_string(), t.accent),
                        num(mv),
                        num(format!("{}..{}", row.log_start, row.end_offset)),
                        cell(s, clip(row.note.as_deref().unwrap_or_default(), note_w), t.warn),
                    ]
                })
                .collect();
            let headers = [" PARTITION", " BEFORE", " AFTER", " MOVE", " RANGE", "NOTE"];
            f.render_widget(table(s, &headers, &widths, rows, None, 0), tab_area);
            let mut lines = long_notes;
            if !plan.live_members.is_empty() {
                let state =
                    if *force { "FORCED: offsets move under the running members" } else { "refused unless forced" };
                lines.push(Line::from(Span::styled(
                    format!("the group has {} live member(s): {state}", plan.live_members.len()),
                    t.bold(if *force { t.danger } else { t.warn }),
                )));
            } else {
                lines.push(Line::from(Span::styled("nothing has changed yet: this is the plan", t.style(t.muted))));
            }
            // While it would be refused, enter is not offered: f is what moves it on.
            let mut keys = if plan.live_members.is_empty() || *force {
                vec![
                    Span::styled(" enter ", t.bold(t.danger)),
                    Span::styled("execute (journaled; u undoes)   ", t.style(t.text)),
                ]
            } else {
                Vec::new()
            };
            if !plan.live_members.is_empty() {
                let what = if *force { "don't force   " } else { "force   " };
                keys.extend([Span::styled(" f ", t.bold(t.warn)), Span::styled(what, t.style(t.text))]);
            }
            keys.extend([Span::styled(" esc ", t.bold(t.muted)), Span::styled("cancel", t.style(t.text))]);
            lines.push(Line::from(keys));
            f.render_widget(Paragraph::new(lines), foot);
        }
        Dialog::ReplayPreview(plan) => {
            let t = &s.theme;
            // Border, header, rows, blank, keys, border.
            let r = popup(area, 70, (plan.rows.len() + 5) as u16);
            f.render_widget(Clear, r);
            let b = block(s, format!("replay {} → {}: {} record(s)", plan.source, plan.target, plan.total));
            let inner = b.inner(r);
            f.render_widget(b, r);
            let [tab_area, _, foot] =
                Layout::vertical([Constraint::Min(1), Constraint::Length(1), Constraint::Length(1)]).areas(inner);
            let rows = plan
                .rows
                .iter()
                .map(|row| {
                    vec![
                        num(row.partition.to_string()),
                        num(row.from.to_string()),
                        num(row.to.to_string()),
                        num(row.count.to_string()),
                    ]
                })
                .collect();
            let widths =
                [Constraint::Length(4), Constraint::Length(10), Constraint::Length(10), Constraint::Length(10)];
            f.render_widget(table(s, &[" PART", " FROM", " TO (excl)", " RECORDS"], &widths, rows, None, 0), tab_area);
            let line = if plan.total == 0 {
                Line::from(Span::styled("nothing in that range — esc", t.style(t.warn)))
            } else {
                Line::from(vec![
                    Span::styled(" enter ", t.bold(t.accent)),
                    Span::styled(
                        format!("copy {} record(s) with {ORIGIN_PREFIX}* headers   ", plan.total),
                        t.style(t.text),
                    ),
                    Span::styled(" esc ", t.bold(t.muted)),
                    Span::styled("cancel", t.style(t.text)),
                ])
            };
            f.render_widget(Paragraph::new(line), foot);
        }
        Dialog::Pulled(p) => {
            let t = &s.theme;
            // Border, header, records, blank, keys, border.
            let r = popup(area, 100, (p.messages.len() + 5) as u16);
            f.render_widget(Clear, r);
            let b = block(s, format!("pulled {} record(s) as group {}", p.messages.len(), p.group));
            let inner = b.inner(r);
            f.render_widget(b, r);
            let [tab_area, _, foot] =
                Layout::vertical([Constraint::Min(1), Constraint::Length(1), Constraint::Length(1)]).areas(inner);
            let widths = [Constraint::Length(4), Constraint::Length(8), Constraint::Length(12), Constraint::Fill(1)];
            let value_w = fill_width(r.width, &widths, 1);
            let rows = p
                .messages
                .iter()
                .map(|m| {
                    vec![
                        num(m.partition.to_string()),
                        num(m.offset.to_string()),
                        cell(s, m.key.as_ref().map(|k| clip(&k.display(), 12)).unwrap_or_default(), t.accent),
                        cell(s, clip(&m.value.display(), value_w), t.text),
                    ]
                })
                .collect();
            f.render_widget(table(s, &[" PART", " OFFSET", "KEY", "VALUE"], &widths, rows, None, 0), tab_area);
            let to: Vec<String> =
                p.offsets.iter().map(|o| format!("{}/{}→{}", o.topic, o.partition, o.offset)).collect();
            let line = Line::from(vec![
                Span::styled(" c ", t.bold(t.accent)),
                Span::styled(format!("commit ({})   ", to.join(" ")), t.style(t.text)),
                Span::styled(" esc ", t.bold(t.muted)),
                Span::styled("don't commit: the group gets them again", t.style(t.text)),
            ]);
            f.render_widget(Paragraph::new(line), foot);
        }
    }
}

fn form_view(f: &mut Frame, area: Rect, s: &State, form: &Form) {
    let t = &s.theme;
    // Room for a value right of the labels, inside the border.
    let room = (popup(area, 84, 1).width as usize).saturating_sub(2 + 13).max(8);
    let mut lines = Vec::new();
    for (i, field) in form.fields.iter().enumerate() {
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
            let label = if k == 0 { format!("{:>12} ", field.label) } else { " ".repeat(13) };
            let c = if k + 1 == n { cursor } else { "" };
            let vstyle = t.style(t.text);
            lines.push(Line::from(vec![Span::styled(label, label_style), Span::styled(format!("{v}{c}"), vstyle)]));
        }
        if focused && !field.hint.is_empty() {
            lines.push(Line::from(Span::styled(format!("{}{}", " ".repeat(13), field.hint), t.style(t.muted))));
        }
    }
    lines.push(Line::from(""));
    let submit_style = if form.focus == form.fields.len() { t.selection() } else { t.bold(t.accent) };
    lines.push(Line::from(vec![
        Span::raw(" ".repeat(13)),
        Span::styled(format!("[ {} ]", form.submit), submit_style),
        Span::styled("  tab: next field · ctrl-s: submit · esc: cancel", t.style(t.muted)),
    ]));
    if let Some(e) = &form.error {
        lines.push(Line::from(Span::styled(format!(" ✗ {e}"), t.bold(t.error))));
    }
    let r = popup(area, 84, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(block(s, form.title.clone())), r);
}
