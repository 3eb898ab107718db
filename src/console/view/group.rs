//! The Groups list (lag, trend, redeliveries, health) and one group's partitions and members.

use super::util::*;
use crate::console::health::Verdict;
use crate::console::layout;
use crate::console::state::State;
use crate::core::format::{duration_ms, opt, rate};
use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn verdict_color(s: &State, v: Verdict) -> Color {
    match v {
        Verdict::Ok => s.theme.ok,
        Verdict::Pending | Verdict::New => s.theme.muted,
        Verdict::Warn | Verdict::Rewind | Verdict::Paused => s.theme.warn,
        Verdict::Stop | Verdict::Stall => s.theme.error,
        Verdict::Err => s.theme.danger,
    }
}

fn verdict_text(group: Verdict, worst: Verdict) -> String {
    if group == worst || worst == Verdict::Ok {
        group.label().to_string()
    } else {
        format!("{} {}", group.label(), worst.label())
    }
}

pub fn groups(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let list = s.visible_groups();
    let b = block(s, format!("Consumer groups ({})", list.len()));
    if s.data.groups.is_empty() {
        let lines = if !s.data.loaded_groups {
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
        return empty(f, area, s, b, lines);
    }
    // Under 100 columns the trend goes and the numbers get narrower; under 70 state, redeliveries
    // and rate go too, so the names still show.
    let (wide, narrow) = (area.width >= 100, area.width < NARROW);
    let widths: Vec<Constraint> = if wide {
        [Fill(2), Length(6), Length(7), Length(9), Length(9), Length(12), Length(11), Length(8), Length(12)].to_vec()
    } else if narrow {
        [Fill(1), Length(7), Length(7), Length(8), Length(10)].to_vec()
    } else {
        [Fill(1), Length(6), Length(7), Length(8), Length(8), Length(6), Length(6), Length(11)].to_vec()
    };
    let name_w = fill_width(area.width, &widths, if wide { 2 } else { 1 });
    let (shown, sel) = on_screen(s, area, &list);
    let rows = shown
        .map(|g| {
            let (gv, worst) = s.trends.group_verdict(g);
            let health = cell(s, verdict_text(gv, worst), verdict_color(s, gv));
            let (members, lag, age) =
                (num(g.members.len().to_string()), num(g.total_lag().to_string()), num(duration_ms(g.max_lag_ms())));
            if narrow {
                return vec![cell(s, clip(&g.name, name_w), t.text), members, lag, age, health];
            }
            let mut row = vec![
                cell(s, clip(&g.name, name_w), t.text),
                cell(s, g.state.clone(), if g.state == "stable" { t.text } else { t.muted }),
                members,
                lag,
                age,
            ];
            if wide {
                row.push(cell(s, trend(s.trends.group_lag.get(&g.name), 12), t.accent));
            }
            row.extend([num(g.redeliveries().to_string()), num(rate(g.consume_rate)), health]);
            row
        })
        .collect();
    let headers: &[&str] = if wide {
        &["GROUP", "STATE", " MEMBERS", " LAG", " LAG-TIME", "LAG TREND", " REDELIVERED", " RATE", "HEALTH"]
    } else if narrow {
        &["GROUP", " MEMBERS", " LAG", " LAG-TIME", "HEALTH"]
    } else {
        &["GROUP", "STATE", " MEMBERS", " LAG", " LAG-TIME", " REDELV", " RATE", "HEALTH"]
    };
    let tab = table(s, headers, &widths, rows, sel, 0);
    f.render_widget(tab.block(b), area);
}

pub fn group(f: &mut Frame, area: Rect, s: &State, name: &str) {
    let t = &s.theme;
    let Some(g) = s.data.group(name) else {
        let gone = vec![Line::from(format!("group {name} is gone — esc goes back"))];
        return empty(f, area, s, block(s, format!("group {name}")), gone);
    };
    let (gv, worst) = s.trends.group_verdict(g);
    let [summary, reason, parts, members] = layout::group(area, s, name);
    let clear = clearing(s, g, gv);
    // Most telling first; on a narrow terminal whole items go from the end, not half words.
    let badge = format!(" {} ", verdict_text(gv, worst));
    let items = [
        Some(format!("lag {} ({})", g.total_lag(), duration_ms(g.max_lag_ms()))),
        // "consuming 0/s · nobody is consuming" would say it twice.
        (!(g.consume_rate == 0.0 && clear.as_deref() == Some(NOBODY)))
            .then(|| format!("consuming {}", rate(g.consume_rate))),
        clear,
        Some(g.state.clone()),
        Some(format!("{} member(s)", g.members.len())),
        Some(format!("generation {}", g.generation)),
        Some(g.assignor.clone()),
    ];
    let mut text = String::new();
    let room = (summary.width as usize).saturating_sub(badge.chars().count() + 2);
    for item in items.into_iter().flatten() {
        let sep = if text.is_empty() { "" } else { " · " };
        if text.chars().count() + sep.chars().count() + item.chars().count() > room && !text.is_empty() {
            break;
        }
        text.push_str(sep);
        text.push_str(&item);
    }
    let line = Line::from(vec![
        Span::styled(badge, t.bold(verdict_color(s, gv)).add_modifier(ratatui::style::Modifier::REVERSED)),
        Span::styled(format!("  {text}"), t.style(t.text)),
    ]);
    f.render_widget(Paragraph::new(line), summary);
    reason_line(f, reason, s, g);
    // Under 100 columns the trend goes and the numbers get narrower; under 70 the end offset and
    // redeliveries go too, so topic and owner still show.
    let (wide, narrow) = (parts.width >= 100, parts.width < NARROW);
    let widths: Vec<Constraint> = if wide {
        [Fill(1), Length(4), Fill(1), Length(10), Length(10), Length(8), Length(9), Length(10), Length(6), Length(6)]
            .to_vec()
    } else if narrow {
        [Fill(1), Length(4), Fill(1), Length(9), Length(6), Length(8), Length(6)].to_vec()
    } else {
        [Fill(1), Length(4), Fill(1), Length(9), Length(9), Length(7), Length(8), Length(6), Length(6)].to_vec()
    };
    let name_w = fill_width(parts.width, &widths, 1);
    let (shown, sel) = on_screen(s, parts, &g.partitions);
    let rows = shown
        .map(|p| {
            let v = s.trends.partition_verdict(g, p);
            let owner = p.owner.as_deref().map(|o| clip(o, name_w)).unwrap_or_else(|| "-".into());
            let mut row = vec![
                cell(s, clip(&p.topic, name_w), t.text),
                num(p.partition.to_string()),
                cell(s, owner, if p.owner.is_some() { t.text } else { t.muted }),
                num(opt(p.committed)),
            ];
            if !narrow {
                row.push(num(p.end_offset.to_string()));
            }
            row.extend([num(p.lag.to_string()), num(duration_ms(p.lag_ms))]);
            if narrow {
                row.push(cell(s, v.label(), verdict_color(s, v)));
                return row;
            }
            if wide {
                let key = (g.name.clone(), p.topic.clone(), p.partition);
                row.push(cell(s, trend(s.trends.partition_lag.get(&key), 10), t.accent));
            }
            row.extend([num(p.redeliveries.to_string()), cell(s, v.label(), verdict_color(s, v))]);
            row
        })
        .collect();
    let headers: &[&str] = if wide {
        &["TOPIC", " PART", "OWNER", " COMMITTED", " END", " LAG", " LAG-TIME", "TREND", " REDELV", "HEALTH"]
    } else if narrow {
        &["TOPIC", " PART", "OWNER", " COMMITTED", " LAG", " LAG-TIME", "HEALTH"]
    } else {
        &["TOPIC", " PART", "OWNER", " COMMITTED", " END", " LAG", " LAG-TIME", " REDELV", "HEALTH"]
    };
    let tab = table(s, headers, &widths, rows, sel, 0);
    f.render_widget(tab.block(block(s, format!("group {name} · partitions"))), parts);
    let b = block(s, "members".into());
    if g.members.is_empty() {
        return note(f, members, s, b, " no live members: resets run without forcing");
    }
    // Under 70 columns the client id goes, so the member and its partitions still show. Kafka
    // consumers' hosts show beside their client ids (depot's own members have none).
    let narrow = members.width < NARROW;
    let hosts = !narrow && g.members.iter().any(|m| !m.client_host.is_empty());
    let widths: Vec<Constraint> = if narrow {
        [Fill(1), Fill(2), Length(9)].to_vec()
    } else if hosts {
        [Fill(1), Length(14), Length(16), Fill(2), Length(9)].to_vec()
    } else {
        [Fill(1), Length(14), Fill(2), Length(9)].to_vec()
    };
    let (member_w, assigned_w) = (fill_width(members.width, &widths, 1), fill_width(members.width, &widths, 2));
    let rows = g
        .members
        .iter()
        .map(|m| {
            let a: Vec<String> = m.assignment.iter().map(|(t, p)| format!("{t}/{p}")).collect();
            let mut row = vec![cell(s, clip(&m.member_id, member_w), t.text)];
            if !narrow {
                row.push(cell(s, m.client_id.clone(), t.muted));
            }
            if hosts {
                row.push(cell(s, m.client_host.clone(), t.muted));
            }
            row.extend([cell(s, clip(&a.join(" "), assigned_w), t.text), num(duration_ms(m.last_seen_ms))]);
            row
        })
        .collect();
    let headers: &[&str] = if narrow {
        &["MEMBER", "PARTITIONS", " LAST SEEN"]
    } else if hosts {
        &["MEMBER", "CLIENT", "HOST", "PARTITIONS", " LAST SEEN"]
    } else {
        &["MEMBER", "CLIENT", "PARTITIONS", " LAST SEEN"]
    };
    f.render_widget(table(s, headers, &widths, rows, None, 0).block(b), members);
}

/// How the group's lag is going, for the summary: caught up, an estimate of when it clears (only
/// beside a verdict it does not contradict, and only while every partition with lag commits), or
/// who is (not) consuming. Nothing beside STALL or STOP: the reason line says what is wrong.
fn clearing(s: &State, g: &crate::core::GroupInfo, gv: Verdict) -> Option<String> {
    let moved = s.trends.group_moved(g);
    let all_move = s.trends.lagging_partitions_move(g);
    match s.data.time_to_clear_ms(g) {
        Some(0) => Some("caught up".into()),
        _ if gv == Verdict::Err => None,
        Some(ms) if all_move && matches!(gv, Verdict::Ok | Verdict::Rewind | Verdict::Pending) => {
            Some(format!("clears in ~{}", duration_ms(ms)))
        }
        // The first refreshes cannot tell a stopped group from one that commits now and then.
        _ if gv == Verdict::Pending && !moved => None,
        _ if g.members.is_empty() && moved => Some("committing with no live members (one-shot pulls)".into()),
        _ if g.members.is_empty() => Some(NOBODY.into()),
        _ => Some("not clearing at the current rates".into()),
    }
}

const NOBODY: &str = "nobody is consuming";

/// The selected partition's verdict and why, wrapped over the rows the layout gave it.
fn reason_line(f: &mut Frame, area: Rect, s: &State, g: &crate::core::GroupInfo) {
    let t = &s.theme;
    let (Some(text), Some(p)) = (layout::group_reason(s, g), g.partitions.get(s.nav.screen().selected)) else {
        return;
    };
    let color = verdict_color(s, s.trends.partition_verdict(g, p));
    // The partition's name in the text colour, the verdict and its reason in the verdict's.
    let name_len = format!("{}/{}", p.topic, p.partition).chars().count();
    let mut lines = Vec::new();
    for (i, l) in layout::wrap(&text, layout::reason_width(area)).into_iter().take(area.height as usize).enumerate() {
        let mut spans = vec![Span::raw(" ")];
        if i == 0 && l.chars().count() >= name_len {
            let (name, rest): (String, String) =
                (l.chars().take(name_len).collect(), l.chars().skip(name_len).collect());
            spans.push(Span::styled(name, t.bold(t.text)));
            spans.push(Span::styled(rest, t.style(color)));
        } else {
            spans.push(Span::styled(l, t.style(color)));
        }
        lines.push(Line::from(spans));
    }
    f.render_widget(Paragraph::new(lines), area);
}
