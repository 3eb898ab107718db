//! The Topics list and one topic's partitions with each group's offsets and lag.

use super::util::*;
use crate::console::layout;
use crate::console::state::State;
use crate::core::format::{bytes, duration_ms, opt, rate};
use ratatui::Frame;
use ratatui::layout::Constraint::{Fill, Length};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;

pub fn topics(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let list = s.visible_topics();
    let title = if s.nav.screen().filter.is_empty() {
        format!("Topics ({})", list.len())
    } else {
        format!("Topics ({} of {})", list.len(), s.data.topics.len())
    };
    let b = block(s, title);
    if s.data.topics.is_empty() {
        let lines = if !s.data.loaded_topics {
            vec![Line::from("loading…")]
        } else {
            vec![
                Line::from("No topics yet."),
                Line::from(""),
                Line::from(format!(
                    "Press {} to create one here,",
                    s.keymap.label(crate::console::keymap::Action::CreateTopic)
                )),
                // Same width, so the two commands line up when centered.
                Line::from("or from a shell:  depot topic create orders --partitions 3"),
                Line::from("then publish:     echo hello | depot publish orders       "),
                Line::from(""),
                Line::from("For a guided tour with simulated producers and consumers: depot demo"),
            ]
        };
        return empty(f, area, s, b, lines);
    }
    // Under 100 columns the trend goes and the numbers get narrower; under 70 size and out-rate
    // go too, so names and lag still show.
    let (wide, narrow) = (area.width >= 100, area.width < NARROW);
    let widths: Vec<Constraint> = if wide {
        [Fill(2), Length(5), Length(9), Length(10), Length(8), Length(8), Length(12), Fill(2)].to_vec()
    } else if narrow {
        [Fill(1), Length(5), Length(8), Length(7), Fill(1)].to_vec()
    } else {
        [Fill(1), Length(5), Length(8), Length(9), Length(7), Length(7), Fill(1)].to_vec()
    };
    let name_w = fill_width(area.width, &widths, if wide { 2 } else { 1 });
    let (shown, sel) = on_screen(s, area, &list);
    let rows = shown
        .map(|x| {
            let (lag, lag_color) = match s.trends.worst_lag(&x.name) {
                Some((g, l, ms)) => (
                    format!("{l} ({}) {g}", duration_ms(ms)),
                    if l == 0 {
                        t.ok
                    } else if ms > 60_000 {
                        t.warn
                    } else {
                        t.text
                    },
                ),
                None => ("-".into(), t.muted),
            };
            let mut row = vec![
                cell(s, clip(&x.name, name_w), t.text),
                num(x.partitions.len().to_string()),
                num(x.backlog().to_string()),
            ];
            if narrow {
                row.extend([num(rate(x.rate_in())), cell(s, clip(&lag, name_w), lag_color)]);
                return row;
            }
            row.extend([num(bytes(x.size_bytes())), num(rate(x.rate_in())), num(rate(x.rate_out()))]);
            if wide {
                row.push(cell(s, trend(s.trends.topic_rates.get(&x.name), 12), t.accent));
            }
            row.push(cell(s, clip(&lag, name_w), lag_color));
            row
        })
        .collect();
    let headers: &[&str] = if wide {
        &["TOPIC", "PARTS", " BACKLOG", " SIZE", " IN/s", " OUT/s", "IN TREND", "WORST LAG"]
    } else if narrow {
        &["TOPIC", "PARTS", " BACKLOG", " IN/s", "WORST LAG"]
    } else {
        &["TOPIC", "PARTS", " BACKLOG", " SIZE", " IN/s", " OUT/s", "WORST LAG"]
    };
    let table = table(s, headers, &widths, rows, sel, 0);
    f.render_widget(table.block(b), area);
}

pub fn topic(f: &mut Frame, area: Rect, s: &State, name: &str) {
    let t = &s.theme;
    let Some(info) = s.data.topic(name) else {
        let gone = vec![Line::from(format!("topic {name} is gone (deleted?) — esc goes back"))];
        return empty(f, area, s, block(s, format!("topic {name}")), gone);
    };
    let groups: Vec<_> = s.data.groups.iter().filter(|g| g.partitions.iter().any(|p| p.topic == name)).collect();
    let n = info.partitions.len();
    let [top, bottom] = layout::topic(area, s, name);
    let retention = match (info.config.retention_ms, info.config.retention_bytes) {
        (None, None) => "keeps everything".to_string(),
        (ms, b) => format!(
            "retention {}",
            [ms.map(duration_ms), b.map(bytes)].into_iter().flatten().collect::<Vec<_>>().join(" / ")
        ),
    };
    // Under 70 columns the segment count goes and the numbers get narrower.
    let narrow = top.width < NARROW;
    let (shown, sel) = on_screen(s, top, &info.partitions);
    let rows = shown
        .map(|p| {
            let mut row = vec![
                num(p.partition.to_string()),
                num(p.log_start.to_string()),
                num(p.end_offset.to_string()),
                num((p.end_offset - p.log_start).to_string()),
                num(bytes(p.size_bytes)),
            ];
            if !narrow {
                row.push(num(p.segments.to_string()));
            }
            row.extend([num(rate(p.rate_in)), num(rate(p.rate_out))]);
            row
        })
        .collect();
    let (widths, headers): (Vec<Constraint>, &[&str]) = if narrow {
        (
            [Length(4), Length(9), Length(8), Length(8), Length(9), Length(7), Length(7)].to_vec(),
            &[" PART", " LOG-START", " END", " RECORDS", " SIZE", " IN/s", " OUT/s"],
        )
    } else {
        (
            [Length(4), Length(10), Length(10), Length(10), Length(10), Length(8), Length(8), Length(8)].to_vec(),
            &[" PART", " LOG-START", " END", " RECORDS", " SIZE", " SEGMENTS", " IN/s", " OUT/s"],
        )
    };
    let tab = table(s, headers, &widths, rows, sel, 0);
    f.render_widget(tab.block(block(s, format!("topic {name} · {} partition(s) · {retention}", n))), top);
    let b = block(s, "consumer groups".into());
    if groups.is_empty() {
        return note(f, bottom, s, b, " no group consumes this topic yet");
    }
    let (widths, group_share) = if bottom.width < NARROW {
        ([Fill(2), Length(4), Length(9), Length(6), Length(8), Length(6), Fill(1)], 2)
    } else {
        ([Fill(1), Length(4), Length(10), Length(8), Length(9), Length(6), Fill(1)], 1)
    };
    let (group_w, owner_w) = (fill_width(bottom.width, &widths, group_share), fill_width(bottom.width, &widths, 1));
    let mut rows = Vec::new();
    for g in &groups {
        for p in g.partitions.iter().filter(|p| p.topic == name) {
            let v = s.trends.partition_verdict(g, p);
            rows.push(vec![
                cell(s, clip(&g.name, group_w), t.text),
                num(p.partition.to_string()),
                num(opt(p.committed)),
                num(p.lag.to_string()),
                num(duration_ms(p.lag_ms)),
                cell(s, v.label(), super::group::verdict_color(s, v)),
                cell(s, clip(p.owner.as_deref().unwrap_or("-"), owner_w), t.muted),
            ]);
        }
    }
    let tab =
        table(s, &["GROUP", " PART", " COMMITTED", " LAG", " LAG-TIME", "HEALTH", "OWNER"], &widths, rows, None, 0);
    f.render_widget(tab.block(b), bottom);
}
