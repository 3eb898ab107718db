//! `depot bench console`: how long the console takes to draw a frame with a big engine (1,000
//! topics × 8 partitions, 200 groups), and the process's memory while holding that state.

use super::keymap::Keymap;
use super::msg::{Loaded, Msg};
use super::state::{Screen, Settings, State, View};
use super::theme::Theme;
use super::{update, view};
use crate::core::*;
use anyhow::Result;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::io::Write;
use std::time::Instant;

/// The size of the fixture and of the terminal, and how many frames to draw per view.
#[derive(Debug, Clone)]
pub struct Options {
    pub topics: usize,
    pub partitions: u32,
    pub groups: usize,
    pub frames: usize,
    pub width: u16,
    pub height: u16,
}

fn fixture(a: &Options) -> (Vec<TopicInfo>, Vec<GroupInfo>) {
    let topics: Vec<TopicInfo> = (0..a.topics)
        .map(|i| TopicInfo {
            name: format!("topic-{i:04}"),
            config: TopicConfig::with_partitions(a.partitions),
            partitions: (0..a.partitions)
                .map(|p| PartitionInfo {
                    partition: p,
                    log_start: 0,
                    end_offset: (i as u64 + 1) * 1000 + u64::from(p),
                    size_bytes: (i as u64 + 1) * 100_000,
                    segments: 1,
                    rate_in: (i % 17) as f64,
                    rate_out: (i % 13) as f64,
                })
                .collect(),
        })
        .collect();
    let groups = (0..a.groups)
        .map(|g| {
            let t = &topics[g * 5 % topics.len().max(1)];
            GroupInfo {
                name: format!("group-{g:03}"),
                state: "stable".into(),
                generation: 3,
                assignor: "range".into(),
                members: (0..4)
                    .map(|m| MemberInfo {
                        member_id: format!("member-{g}-{m}"),
                        client_id: "bench".into(),
                        client_host: String::new(),
                        topics: vec![t.name.clone()],
                        assignment: (0..a.partitions).filter(|p| p % 4 == m).map(|p| (t.name.clone(), p)).collect(),
                        last_seen_ms: 300,
                        session_timeout_ms: 10_000,
                    })
                    .collect(),
                partitions: t
                    .partitions
                    .iter()
                    .map(|p| PartitionLag {
                        topic: t.name.clone(),
                        partition: p.partition,
                        committed: Some(p.end_offset / 2),
                        log_start: 0,
                        end_offset: p.end_offset,
                        lag: p.end_offset - p.end_offset / 2,
                        lag_ms: 4_000,
                        owner: Some(format!("member-{g}-{}", p.partition % 4)),
                        redeliveries: 2,
                    })
                    .collect(),
                consume_rate: 120.0,
            }
        })
        .collect();
    (topics, groups)
}

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub fn run(a: &Options) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let (topics, groups) = fixture(a);
    let settings = Settings {
        target: "bench".into(),
        context: None,
        read_only: false,
        note: None,
        refresh_ms: 2000,
        contexts: Vec::new(),
    };
    let mut s = State::new(settings, Keymap::default(), Theme::dark(), 0);
    s.ui.size = (a.width, a.height);
    // Thirty refreshes, so every sparkline and health window is full.
    for i in 0..30 {
        update::update(&mut s, Msg::Tick(i * 2000));
        update::update(&mut s, Msg::Loaded(Loaded::Topics(Ok(topics.clone()))));
        update::update(&mut s, Msg::Loaded(Loaded::Groups(Ok(groups.clone()))));
    }
    let mut terminal = Terminal::new(TestBackend::new(a.width, a.height))?;
    let views = [
        ("topics", View::Topics),
        ("groups", View::Groups),
        ("topic", View::Topic("topic-0500".into())),
        ("group", View::Group("group-100".into())),
    ];
    writeln!(
        out,
        "depot console render benchmark: {} topics × {} partitions, {} groups, {}×{}",
        a.topics, a.partitions, a.groups, a.width, a.height
    )?;
    for (name, v) in views {
        s.nav.stack = vec![Screen::new(v)];
        // At least one frame, so there is a median to show.
        let mut times = Vec::with_capacity(a.frames.max(1));
        for i in 0..a.frames.max(1) {
            s.nav.screen_mut().selected = i % 50;
            let t = Instant::now();
            terminal.draw(|f| view::render(f, &s))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|x, y| x.total_cmp(y));
        let p50 = times[times.len() / 2];
        let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
        writeln!(out, "  {name:<7} frame: p50 {p50:.2} ms, p99 {p99:.2} ms")?;
    }
    if let Some(kib) = rss_kib() {
        writeln!(out, "  resident memory with this state: {:.1} MiB", kib as f64 / 1024.0)?;
    }
    Ok(())
}
