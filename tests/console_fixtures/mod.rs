//! Fixed console fixtures shared by the console tests (update, records, dialogs, status, health,
//! snapshots): topics, groups, records and plans with fixed numbers, a fixed clock, and helpers to
//! feed keys to `update` and read the status line and the open dialog.
#![allow(dead_code)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use depot::console::dialogs::Dialog;
use depot::console::effect::Effect;
use depot::console::keymap::Keymap;
use depot::console::msg::{Loaded, Msg};
use depot::console::state::{Level, Overlay, Settings, State};
use depot::console::theme::Theme;
use depot::console::update::{start, update};
use depot::core::*;

/// The fixed clock: 2025-06-15T15:06:40Z.
pub const NOW: i64 = 1_750_000_000_000;
/// Refresh interval of the fixture state.
pub const REFRESH: i64 = 1_000;

pub fn settings(read_only: bool) -> Settings {
    Settings {
        target: "embedded /var/lib/depot".into(),
        context: None,
        read_only,
        note: Some("HTTP API on 127.0.0.1:7878".into()),
        refresh_ms: REFRESH,
        contexts: Vec::new(),
    }
}

/// A state that has started (its first loads are in flight) but heard nothing back.
pub fn fresh() -> State {
    fresh_with(settings(false), Theme::dark())
}

pub fn fresh_with(settings: Settings, theme: Theme) -> State {
    fresh_at(settings, theme, NOW)
}

/// Like [`fresh_with`], with the clock at `now`.
pub fn fresh_at(settings: Settings, theme: Theme, now: i64) -> State {
    let mut s = State::new(settings, Keymap::default(), theme, now);
    let fx = start(&mut s);
    assert_eq!(fx, vec![Effect::LoadCaps, Effect::LoadTopics, Effect::LoadGroups]);
    s
}

/// A started state that has the fixture topics and groups.
pub fn loaded() -> State {
    loaded_with(settings(false), Theme::dark())
}

pub fn loaded_with(settings: Settings, theme: Theme) -> State {
    let mut s = fresh_with(settings, theme);
    feed(&mut s, Loaded::Topics(Ok(topics())));
    feed(&mut s, Loaded::Groups(Ok(groups())));
    s
}

/// Refreshes in [`watched`]: a full health window, so every verdict can be given.
pub const WATCHED: u64 = depot::console::health::WINDOW as u64;

/// Like [`loaded`] after a full health window of refreshes, one [`REFRESH`] apart and the last at
/// [`NOW`], so trends and health verdicts have a window: billing falls behind on orders/1 (WARN),
/// analytics has stopped (ERR STOP), archiver is caught up. The last samples are exactly
/// [`topics`] and [`groups`].
pub fn watched() -> State {
    let first = NOW - (WATCHED as i64 - 1) * REFRESH;
    let mut s = fresh_at(settings(false), Theme::dark(), first);
    for i in 0..WATCHED {
        if i > 0 {
            tick(&mut s, first + i as i64 * REFRESH);
        }
        feed(&mut s, Loaded::Topics(Ok(topics_at(i))));
        feed(&mut s, Loaded::Groups(Ok(groups_at(i))));
    }
    s
}

/// The topics as sampled `WATCHED - 1 - i` refreshes ago (rates ramping up).
pub fn topics_at(i: u64) -> Vec<TopicInfo> {
    let mut ts = topics();
    for t in &mut ts {
        for p in &mut t.partitions {
            p.rate_in = p.rate_in * (i + 1) as f64 / WATCHED as f64;
        }
    }
    ts
}

/// The groups as sampled `WATCHED - 1 - i` refreshes ago.
pub fn groups_at(i: u64) -> Vec<GroupInfo> {
    let mut gs = groups();
    let billing = &mut gs[0].partitions;
    let back = WATCHED - 1 - i;
    // orders/0 and /2 drain; orders/1 moves but its lag stays.
    billing[0].committed = Some(1150 - 10 * back);
    billing[0].lag = 50 + 10 * back;
    billing[1].committed = Some(1170 - 10 * back);
    billing[1].end_offset = 1180 - 10 * back;
    billing[2].committed = Some(1200 - 10 * back);
    billing[2].lag = 50 + 10 * back;
    gs
}

/// A started state whose backend has no topics and no groups.
pub fn empty() -> State {
    let mut s = fresh();
    feed(&mut s, Loaded::Topics(Ok(Vec::new())));
    feed(&mut s, Loaded::Groups(Ok(Vec::new())));
    s
}

pub fn feed(s: &mut State, l: Loaded) -> Vec<Effect> {
    update(s, Msg::Loaded(l))
}

pub fn ev(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// Presses one key.
pub fn press(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(s, Msg::Key(ev(code)))
}

pub fn press_ev(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    update(s, Msg::Key(k))
}

/// Types each character as a key press; returns every effect.
pub fn typ(s: &mut State, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| update(s, Msg::Key(ev(KeyCode::Char(c))))).collect()
}

pub fn tick(s: &mut State, at: i64) -> Vec<Effect> {
    update(s, Msg::Tick(at))
}

pub fn click(s: &mut State, column: u16, row: u16) -> Vec<Effect> {
    let m = MouseEvent { kind: MouseEventKind::Down(MouseButton::Left), column, row, modifiers: KeyModifiers::NONE };
    update(s, Msg::Mouse(m))
}

pub fn wheel(s: &mut State, down: bool) -> Vec<Effect> {
    let kind = if down { MouseEventKind::ScrollDown } else { MouseEventKind::ScrollUp };
    update(s, Msg::Mouse(MouseEvent { kind, column: 10, row: 5, modifiers: KeyModifiers::NONE }))
}

pub fn part(
    partition: u32,
    log_start: u64,
    end_offset: u64,
    size_bytes: u64,
    rate_in: f64,
    rate_out: f64,
) -> PartitionInfo {
    PartitionInfo {
        partition,
        log_start,
        end_offset,
        size_bytes,
        segments: 1 + (size_bytes / 8_388_608) as usize,
        rate_in,
        rate_out,
    }
}

/// Topics: `orders` (3 partitions, busy, 7 d retention), `payments` (1 partition), `audit.log`
/// (2 partitions of big records, 1 GiB retention). Sorted differently by every sort key.
pub fn topics() -> Vec<TopicInfo> {
    vec![
        TopicInfo {
            name: "orders".into(),
            config: TopicConfig {
                partitions: 3,
                retention_ms: Some(7 * 86_400_000),
                retention_bytes: None,
                segment_bytes: None,
            },
            partitions: vec![
                part(0, 0, 1200, 245_760, 12.0, 10.0),
                part(1, 0, 1180, 240_000, 11.5, 11.0),
                part(2, 100, 1250, 250_000, 12.5, 9.0),
            ],
        },
        TopicInfo {
            name: "payments".into(),
            config: TopicConfig::with_partitions(1),
            partitions: vec![part(0, 0, 42, 8_400, 0.5, 0.0)],
        },
        TopicInfo {
            name: "audit.log".into(),
            config: TopicConfig {
                partitions: 2,
                retention_ms: None,
                retention_bytes: Some(1 << 30),
                segment_bytes: None,
            },
            partitions: vec![part(0, 5000, 5300, 10_485_760, 0.0, 0.0), part(1, 5000, 5300, 10_485_760, 0.0, 0.0)],
        },
    ]
}

pub fn lag(
    topic: &str,
    partition: u32,
    committed: Option<u64>,
    end: u64,
    lag_ms: u64,
    owner: Option<&str>,
) -> PartitionLag {
    let lag = end - committed.unwrap_or(0);
    PartitionLag {
        topic: topic.into(),
        partition,
        committed,
        log_start: 0,
        end_offset: end,
        lag,
        lag_ms,
        owner: owner.map(String::from),
        redeliveries: 0,
    }
}

pub fn member(id: &str, client: &str, assignment: &[(&str, u32)]) -> MemberInfo {
    MemberInfo {
        member_id: id.into(),
        client_id: client.into(),
        client_host: String::new(),
        topics: vec!["orders".into()],
        assignment: assignment.iter().map(|(t, p)| (t.to_string(), *p)).collect(),
        last_seen_ms: 1_200,
        session_timeout_ms: 30_000,
    }
}

/// Groups: `billing` (two members on orders, a little lag), `analytics` (no members, far behind on
/// orders and payments), `archiver` (caught up on audit.log).
pub fn groups() -> Vec<GroupInfo> {
    let mut billing_p1 = lag("orders", 1, Some(1170), 1180, 900, Some("billing-2"));
    billing_p1.redeliveries = 2;
    vec![
        GroupInfo {
            name: "billing".into(),
            state: "stable".into(),
            generation: 7,
            assignor: "range".into(),
            members: vec![
                member("billing-1", "billing-svc", &[("orders", 0), ("orders", 1)]),
                member("billing-2", "billing-svc", &[("orders", 2)]),
            ],
            partitions: vec![
                lag("orders", 0, Some(1150), 1200, 4_200, Some("billing-1")),
                billing_p1,
                lag("orders", 2, Some(1200), 1250, 61_000, Some("billing-2")),
            ],
            consume_rate: 30.0,
        },
        GroupInfo {
            name: "analytics".into(),
            state: "empty".into(),
            generation: 3,
            assignor: "range".into(),
            members: Vec::new(),
            partitions: vec![
                lag("orders", 0, Some(800), 1200, 3_600_000, None),
                lag("payments", 0, None, 42, 120_000, None),
            ],
            consume_rate: 0.0,
        },
        GroupInfo {
            name: "archiver".into(),
            state: "stable".into(),
            generation: 1,
            assignor: "range".into(),
            members: vec![member("archiver-1", "archiver", &[("audit.log", 0), ("audit.log", 1)])],
            partitions: vec![
                lag("audit.log", 0, Some(5300), 5300, 0, Some("archiver-1")),
                lag("audit.log", 1, Some(5300), 5300, 0, Some("archiver-1")),
            ],
            consume_rate: 0.0,
        },
    ]
}

pub fn header(name: &str, value: &str) -> Header {
    Header::text(name, value)
}

pub fn record(offset: u64, key: Option<&str>, value: Payload, headers: Vec<Header>) -> Message {
    Message {
        topic: "orders".into(),
        partition: 0,
        offset,
        timestamp: NOW - 60_000 + (offset as i64 - 1150) * 1_000,
        key: key.map(Payload::text),
        value: Some(value),
        headers,
    }
}

/// Records of orders/0 from offset 1150: JSON with headers, plain text, binary, long JSON.
pub fn records() -> Vec<Message> {
    vec![
        record(
            1150,
            Some("order-1150"),
            Payload::text(r#"{"id":1150,"customer":"c-17","total":42.5,"items":[{"sku":"A-1","qty":2}]}"#),
            vec![header("trace-id", "7f3a9c"), header("source", "web")],
        ),
        record(1151, None, Payload::text("plain text note: call the customer back"), Vec::new()),
        record(
            1152,
            Some("bin"),
            Payload(bytes::Bytes::from_static(&[
                0x00, 0x01, 0x02, 0xff, 0xfe, 0x41, 0x42, 0x43, 0x10, 0x20, 0x7f, 0x80, 0x0a, 0x0d, 0x44, 0x45, 0x46,
                0x47,
            ])),
            Vec::new(),
        ),
        record(
            1153,
            Some("order-1153"),
            Payload::text(
                r#"{"id":1153,"customer":"c-42","total":1999.99,"note":"a long value that does not fit on one line of an 80 column terminal"}"#,
            ),
            vec![header("trace-id", "aa01")],
        ),
    ]
}

/// A reset plan of billing on orders with two live members.
pub fn reset_plan(live: bool) -> ResetPlan {
    ResetPlan {
        group: "billing".into(),
        topic: "orders".into(),
        spec: ResetSpec::ShiftBy(-100),
        rows: vec![
            ResetRow { partition: 0, before: Some(1150), after: 1050, log_start: 0, end_offset: 1200, note: None },
            ResetRow { partition: 1, before: Some(1170), after: 1070, log_start: 0, end_offset: 1180, note: None },
            ResetRow {
                partition: 2,
                before: None,
                after: 100,
                log_start: 100,
                end_offset: 1250,
                note: Some("0 is before the log start; clamped to 100".into()),
            },
        ],
        live_members: if live { vec!["billing-1".into(), "billing-2".into()] } else { Vec::new() },
        undo_of: None,
    }
}

pub fn replay_plan(total: u64) -> ReplayPlan {
    ReplayPlan {
        source: "orders".into(),
        target: "orders-replay".into(),
        range: ReplayRange::Offsets { from: 1100, to: 1150 },
        rows: if total == 0 {
            Vec::new()
        } else {
            vec![ReplayRow { partition: 0, from: 1100, to: 1150, count: total }]
        },
        total,
    }
}

pub fn pulled() -> PullResult {
    PullResult {
        group: "billing".into(),
        messages: records()[..2].to_vec(),
        offsets: vec![CommitOffset { topic: "orders".into(), partition: 0, offset: 1152 }],
        committed: false,
    }
}

/// The status line's level and text (there must be one).
pub fn status(s: &State) -> (Level, String) {
    let st = s.ui.status.as_ref().expect("a status line");
    (st.level, st.text.clone())
}

/// The open dialog (there must be one).
pub fn dialog(s: &State) -> &Dialog {
    match &s.overlay {
        Some(Overlay::Dialog(d)) => d,
        other => panic!("expected a dialog, got {other:?}"),
    }
}
