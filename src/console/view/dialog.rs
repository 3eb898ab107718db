//! Dialogs: forms (publish, create topic, reset, replay, pull, jump), confirmations, the reset
//! and replay previews, and the records of a pull by hand.

use super::util::*;
use crate::console::form::{FieldKind, Form};
use crate::console::state::{Dialog, State};
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
            let r = popup(area, 70, 8);
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
            let h = (plan.rows.len() as u16 + 9).min(area.height);
            let r = popup(area, 90, h);
            f.render_widget(Clear, r);
            let b = block(s, title);
            let inner = b.inner(r);
            f.render_widget(b, r);
            let [tab_area, foot] = Layout::vertical([Constraint::Min(2), Constraint::Length(3)]).areas(inner);
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
                        cell(s, format!("{:>10}", row.after), t.accent),
                        num(mv),
                        num(format!("{}..{}", row.log_start, row.end_offset)),
                        cell(s, row.note.clone().unwrap_or_default(), t.warn),
                    ]
                })
                .collect();
            let widths = [Constraint::Length(9), Constraint::Length(10), Constraint::Length(10), Constraint::Length(8), Constraint::Length(14), Constraint::Fill(1)];
            f.render_widget(table(s, &["PARTITION", "    BEFORE", "     AFTER", "    MOVE", "         RANGE", "NOTE"], &widths, rows, None, 0), tab_area);
            let mut lines = Vec::new();
            if !plan.live_members.is_empty() {
                let state = if *force { "FORCED: members will be moved" } else { "refused unless forced — f forces" };
                lines.push(Line::from(Span::styled(
                    format!("the group has {} live member(s): {state}", plan.live_members.len()),
                    t.bold(if *force { t.danger } else { t.warn }),
                )));
            } else {
                lines.push(Line::from(Span::styled("nothing has changed yet: this is the plan", t.style(t.muted))));
            }
            lines.push(Line::from(vec![
                Span::styled(" enter ", t.bold(t.danger)),
                Span::styled("execute (journaled; u undoes)   ", t.style(t.text)),
                Span::styled(" esc ", t.bold(t.muted)),
                Span::styled("cancel", t.style(t.text)),
            ]));
            f.render_widget(Paragraph::new(lines), foot);
        }
        Dialog::ReplayPreview(plan) => {
            let t = &s.theme;
            let h = (plan.rows.len() as u16 + 9).min(area.height);
            let r = popup(area, 70, h);
            f.render_widget(Clear, r);
            let b = block(s, format!("replay {} → {}: {} record(s)", plan.source, plan.target, plan.total));
            let inner = b.inner(r);
            f.render_widget(b, r);
            let [tab_area, foot] = Layout::vertical([Constraint::Min(2), Constraint::Length(2)]).areas(inner);
            let rows = plan
                .rows
                .iter()
                .map(|row| vec![num(row.partition.to_string()), num(row.from.to_string()), num(row.to.to_string()), num(row.count.to_string())])
                .collect();
            let widths = [Constraint::Length(9), Constraint::Length(10), Constraint::Length(10), Constraint::Length(10)];
            f.render_widget(table(s, &["PARTITION", "      FROM", "  TO (excl)", "   RECORDS"], &widths, rows, None, 0), tab_area);
            let line = if plan.total == 0 {
                Line::from(Span::styled("nothing in that range — esc", t.style(t.warn)))
            } else {
                Line::from(vec![
                    Span::styled(" enter ", t.bold(t.accent)),
                    Span::styled(format!("copy {} record(s) with depot.origin.* headers   ", plan.total), t.style(t.text)),
                    Span::styled(" esc ", t.bold(t.muted)),
                    Span::styled("cancel", t.style(t.text)),
                ])
            };
            f.render_widget(Paragraph::new(line), foot);
        }
        Dialog::Pulled(p) => {
            let t = &s.theme;
            let h = (p.messages.len() as u16 + 8).min(area.height);
            let r = popup(area, 100, h);
            f.render_widget(Clear, r);
            let b = block(s, format!("pulled {} record(s) as group {}", p.messages.len(), p.group));
            let inner = b.inner(r);
            f.render_widget(b, r);
            let [tab_area, foot] = Layout::vertical([Constraint::Min(2), Constraint::Length(2)]).areas(inner);
            let rows = p
                .messages
                .iter()
                .map(|m| {
                    vec![
                        num(m.partition.to_string()),
                        num(m.offset.to_string()),
                        cell(s, m.key.as_ref().map(|k| clip(&k.display(), 12)).unwrap_or_default(), t.accent),
                        cell(s, clip(&m.value.display(), 60), t.text),
                    ]
                })
                .collect();
            let widths = [Constraint::Length(4), Constraint::Length(8), Constraint::Length(12), Constraint::Fill(1)];
            f.render_widget(table(s, &["PART", "  OFFSET", "KEY", "VALUE"], &widths, rows, None, 0), tab_area);
            let to: Vec<String> = p.offsets.iter().map(|o| format!("{}/{}→{}", o.topic, o.partition, o.offset)).collect();
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
    let mut lines = Vec::new();
    for (i, field) in form.fields.iter().enumerate() {
        let focused = form.focus == i;
        let label_style = if focused { t.bold(t.accent) } else { t.style(t.muted) };
        let value = match &field.kind {
            FieldKind::Choice(opts) => opts
                .iter()
                .enumerate()
                .map(|(k, o)| if k == field.choice { format!("[{o}]") } else { o.clone() })
                .collect::<Vec<_>>()
                .join(" "),
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
            lines.push(Line::from(vec![
                Span::styled(label, label_style),
                Span::styled(format!("{v}{c}"), vstyle),
            ]));
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
        Span::styled("  tab: next field · enter on the button · esc: cancel", t.style(t.muted)),
    ]));
    if let Some(e) = &form.error {
        lines.push(Line::from(Span::styled(format!(" ✗ {e}"), t.bold(t.error))));
    }
    let r = popup(area, 84, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(block(s, form.title.clone())), r);
}
