//! The Topics list and one topic's partitions with each group's offsets and lag.

use super::util::*;
use crate::console::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;

pub fn topics(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let list = s.visible_topics();
    let title = if s.screen().filter.is_empty() { format!("Topics ({})", list.len()) } else { format!("Topics ({} of {})", list.len(), s.topics.len()) };
    let b = block(s, title);
    if s.topics.is_empty() {
        let inner = b.inner(area);
        f.render_widget(b, area);
        let lines = if !s.loaded_topics {
            vec![Line::from("loading…")]
        } else {
            vec![
                Line::from("No topics yet."),
                Line::from(""),
                Line::from(format!("Press {} to create one here,", s.keymap.label(crate::console::keymap::Action::CreateTopic))),
                Line::from("or from a shell:  depot topic create orders --partitions 3"),
                Line::from("then publish:     echo hello | depot publish orders"),
                Line::from(""),
                Line::from("For a guided tour with simulated producers and consumers: depot demo"),
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
        .map(|x| {
            let trend = s.topic_rates.get(&x.name).map(|q| spark(q.iter().copied(), 12)).unwrap_or_default();
            let (lag, lag_color) = match s.worst_lag(&x.name) {
                Some((g, l, ms)) => (format!("{l} ({}) {g}", duration_ms(ms)), if l == 0 { t.ok } else if ms > 60_000 { t.warn } else { t.text }),
                None => ("-".into(), t.muted),
            };
            vec![
                cell(s, x.name.clone(), t.text),
                num(x.partitions.len().to_string()),
                num(x.backlog().to_string()),
                num(bytes(x.size_bytes())),
                num(rate(x.rate_in())),
                num(rate(x.rate_out())),
                cell(s, trend, t.accent),
                cell(s, lag, lag_color),
            ]
        })
        .collect();
    let widths = [
        Constraint::Fill(2),
        Constraint::Length(5),
        Constraint::Length(9),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Fill(2),
    ];
    let table = table(s, &["TOPIC", "PARTS", "  BACKLOG", "      SIZE", "    IN/s", "   OUT/s", "IN TREND", "WORST LAG"], &widths, rows, sel, 0);
    f.render_widget(table.block(b), area);
}

pub fn topic(f: &mut Frame, area: Rect, s: &State, name: &str) {
    let t = &s.theme;
    let Some(info) = s.topic(name) else {
        let b = block(s, format!("topic {name}"));
        let inner = b.inner(area);
        f.render_widget(b, area);
        centered(f, inner, vec![Line::from(format!("topic {name} is gone (deleted?) — esc goes back"))], t.style(t.muted));
        return;
    };
    let groups: Vec<_> = s.groups.iter().filter(|g| g.partitions.iter().any(|p| p.topic == name)).collect();
    let n = info.partitions.len() as u16;
    let lower = if groups.is_empty() { 3 } else { (groups.len() as u16 * n + 3).min(area.height / 2) };
    let [top, bottom] = Layout::vertical([Constraint::Min(4), Constraint::Length(lower)]).areas(area);
    let retention = match (info.config.retention_ms, info.config.retention_bytes) {
        (None, None) => "keeps everything".to_string(),
        (ms, b) => format!(
            "retention {}",
            [ms.map(duration_ms), b.map(bytes)].into_iter().flatten().collect::<Vec<_>>().join(" / ")
        ),
    };
    let rows = info
        .partitions
        .iter()
        .map(|p| {
            vec![
                num(p.partition.to_string()),
                num(p.log_start.to_string()),
                num(p.end_offset.to_string()),
                num((p.end_offset - p.log_start).to_string()),
                num(bytes(p.size_bytes)),
                num(p.segments.to_string()),
                num(rate(p.rate_in)),
                num(rate(p.rate_out)),
            ]
        })
        .collect();
    let widths = [
        Constraint::Length(9),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
    ];
    let tab = table(s, &["PARTITION", " LOG-START", "       END", "   RECORDS", "      SIZE", "SEGMENTS", "    IN/s", "   OUT/s"], &widths, rows, Some(s.screen().selected), s.screen().scroll);
    f.render_widget(tab.block(block(s, format!("topic {name} · {} partition(s) · {retention}", n))), top);
    let b = block(s, "consumer groups".into());
    if groups.is_empty() {
        let inner = b.inner(bottom);
        f.render_widget(b, bottom);
        f.render_widget(ratatui::widgets::Paragraph::new(" no group consumes this topic yet").style(t.style(t.muted)), inner);
        return;
    }
    let mut rows = Vec::new();
    for g in &groups {
        for p in g.partitions.iter().filter(|p| p.topic == name) {
            let v = s.partition_verdict(g, p);
            rows.push(vec![
                cell(s, g.name.clone(), t.text),
                num(p.partition.to_string()),
                num(opt(p.committed)),
                num(p.lag.to_string()),
                num(duration_ms(p.lag_ms)),
                cell(s, v.label(), super::group::verdict_color(s, v)),
                cell(s, p.owner.clone().unwrap_or_else(|| "-".into()), t.muted),
            ]);
        }
    }
    let widths = [Constraint::Fill(1), Constraint::Length(9), Constraint::Length(10), Constraint::Length(8), Constraint::Length(9), Constraint::Length(6), Constraint::Fill(1)];
    let tab = table(s, &["GROUP", "PARTITION", " COMMITTED", "     LAG", " LAG-TIME", "HEALTH", "OWNER"], &widths, rows, None, 0);
    f.render_widget(tab.block(b), bottom);
}
