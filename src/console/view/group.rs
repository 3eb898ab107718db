//! The Groups list (lag, trend, redeliveries, health) and one group's partitions and members.

use super::util::*;
use crate::console::health::Verdict;
use crate::console::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn verdict_color(s: &State, v: Verdict) -> Color {
    match v {
        Verdict::Ok => s.theme.ok,
        Verdict::Warn | Verdict::Rewind => s.theme.warn,
        Verdict::Stop | Verdict::Stall => s.theme.error,
        Verdict::Err => s.theme.danger,
    }
}

fn verdict_text(group: Verdict, worst: Verdict) -> String {
    if group == worst || worst == Verdict::Ok { group.label().to_string() } else { format!("{} {}", group.label(), worst.label()) }
}

pub fn groups(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let list = s.visible_groups();
    let b = block(s, format!("Consumer groups ({})", list.len()));
    if s.groups.is_empty() {
        let inner = b.inner(area);
        f.render_widget(b, area);
        let lines = if !s.loaded_groups {
            vec![Line::from("loading…")]
        } else {
            vec![
                Line::from("No consumer groups yet."),
                Line::from(""),
                Line::from("A group appears when something consumes as it, e.g.:"),
                Line::from("  depot pull orders --group billing"),
                Line::from("or press l on a topic to pull by hand."),
            ]
        };
        centered(f, inner, lines, t.style(t.muted));
        return;
    }
    let (skip, sel) = window(s, area);
    let rows = list
        .iter()
        .skip(skip)
        .take(area.height as usize)
        .map(|g| {
            let (gv, worst) = s.group_verdict(g);
            let trend = s.group_lag.get(&g.name).map(|q| spark(q.iter().copied(), 12)).unwrap_or_default();
            vec![
                cell(s, g.name.clone(), t.text),
                cell(s, g.state.clone(), if g.state == "stable" { t.text } else { t.muted }),
                num(g.members.len().to_string()),
                num(g.total_lag().to_string()),
                num(duration_ms(g.max_lag_ms())),
                cell(s, trend, t.accent),
                num(g.redeliveries().to_string()),
                num(rate(g.consume_rate)),
                cell(s, verdict_text(gv, worst), verdict_color(s, gv)),
            ]
        })
        .collect();
    let widths = [
        Constraint::Fill(2),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(12),
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(12),
    ];
    let tab = table(s, &["GROUP", "STATE", "MEMBERS", "      LAG", " LAG-TIME", "LAG TREND", "REDELIVERED", "  RATE", "HEALTH"], &widths, rows, sel, 0);
    f.render_widget(tab.block(b), area);
}

pub fn group(f: &mut Frame, area: Rect, s: &State, name: &str) {
    let t = &s.theme;
    let Some(g) = s.group(name) else {
        let b = block(s, format!("group {name}"));
        let inner = b.inner(area);
        f.render_widget(b, area);
        centered(f, inner, vec![Line::from(format!("group {name} is gone — esc goes back"))], t.style(t.muted));
        return;
    };
    let (gv, worst) = s.group_verdict(g);
    let members_h = (g.members.len() as u16 + 3).min(area.height / 3).max(3);
    let [summary, parts, members] = Layout::vertical([Constraint::Length(1), Constraint::Min(4), Constraint::Length(members_h)]).areas(area);
    let clear = match s.time_to_clear_ms(g) {
        Some(0) => "caught up".to_string(),
        Some(ms) => format!("clears in ~{}", duration_ms(ms)),
        None if g.members.is_empty() => "nobody is consuming".to_string(),
        None => "not clearing at the current rates".to_string(),
    };
    let line = Line::from(vec![
        Span::styled(format!(" {} ", verdict_text(gv, worst)), t.bold(verdict_color(s, gv)).add_modifier(ratatui::style::Modifier::REVERSED)),
        Span::styled(
            format!(
                "  {} · generation {} · {} member(s) · {} · lag {} ({}) · consuming {} · {clear}",
                g.state,
                g.generation,
                g.members.len(),
                g.assignor,
                g.total_lag(),
                duration_ms(g.max_lag_ms()),
                rate(g.consume_rate)
            ),
            t.style(t.text),
        ),
    ]);
    f.render_widget(Paragraph::new(line), summary);
    let rows = g
        .partitions
        .iter()
        .map(|p| {
            let v = s.partition_verdict(g, p);
            let trend = s
                .partition_lag
                .get(&(g.name.clone(), p.topic.clone(), p.partition))
                .map(|q| spark(q.iter().copied(), 10))
                .unwrap_or_default();
            vec![
                cell(s, p.topic.clone(), t.text),
                num(p.partition.to_string()),
                cell(s, p.owner.clone().unwrap_or_else(|| "-".into()), if p.owner.is_some() { t.text } else { t.muted }),
                num(opt(p.committed)),
                num(p.end_offset.to_string()),
                num(p.lag.to_string()),
                num(duration_ms(p.lag_ms)),
                cell(s, trend, t.accent),
                num(p.redeliveries.to_string()),
                cell(s, v.label(), verdict_color(s, v)),
            ]
        })
        .collect();
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(4),
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(10),
        Constraint::Length(6),
        Constraint::Length(6),
    ];
    let tab = table(s, &["TOPIC", "PART", "OWNER", " COMMITTED", "       END", "     LAG", " LAG-TIME", "TREND", "REDELV", "HEALTH"], &widths, rows, Some(s.screen().selected), s.screen().scroll);
    f.render_widget(tab.block(block(s, format!("group {name} · partitions"))), parts);
    let b = block(s, "members".into());
    if g.members.is_empty() {
        let inner = b.inner(members);
        f.render_widget(b, members);
        f.render_widget(Paragraph::new(" no live members: resets can run without --force").style(t.style(t.muted)), inner);
        return;
    }
    let rows = g
        .members
        .iter()
        .map(|m| {
            let a: Vec<String> = m.assignment.iter().map(|(t, p)| format!("{t}/{p}")).collect();
            vec![cell(s, m.member_id.clone(), t.text), cell(s, m.client_id.clone(), t.muted), cell(s, clip(&a.join(" "), 60), t.text), num(duration_ms(m.last_seen_ms))]
        })
        .collect();
    let widths = [Constraint::Fill(1), Constraint::Length(14), Constraint::Fill(2), Constraint::Length(9)];
    f.render_widget(table(s, &["MEMBER", "CLIENT", "PARTITIONS", "LAST SEEN"], &widths, rows, None, 0).block(b), members);
}
