//! Target `console_keys`: a sequence of key presses, mouse events, resizes, ticks and answers to
//! the effects the console asked for, fed to its pure `update` over a fixed state (three topics,
//! two groups), with the screen drawn at random sizes between steps. Never a panic.

use super::Bytes;
use crate::backend::BackendError;
use crate::console::effect::Effect;
use crate::console::keymap::Keymap;
use crate::console::msg::{Loaded, Msg};
use crate::console::render_to_string;
use crate::console::state::{Settings, State};
use crate::console::theme::Theme;
use crate::console::update::{start, update};
use crate::core::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use std::collections::VecDeque;

/// The fixture's clock: 2025-06-15T15:06:40Z.
const NOW: i64 = 1_750_000_000_000;

fn part(partition: u32, log_start: u64, end_offset: u64) -> PartitionInfo {
    PartitionInfo {
        partition,
        log_start,
        end_offset,
        size_bytes: end_offset * 200,
        segments: 1,
        rate_in: 3.0,
        rate_out: 2.5,
    }
}

fn topics() -> Vec<TopicInfo> {
    let t = |name: &str, parts: Vec<PartitionInfo>| TopicInfo {
        name: name.into(),
        config: TopicConfig::with_partitions(parts.len() as u32),
        partitions: parts,
    };
    vec![
        t("orders", vec![part(0, 0, 1200), part(1, 0, 1180), part(2, 100, 1250)]),
        t("payments", vec![part(0, 0, 42)]),
        t("empty", vec![part(0, 0, 0)]),
    ]
}

fn lag(topic: &str, partition: u32, committed: Option<u64>, end: u64, owner: Option<&str>) -> PartitionLag {
    PartitionLag {
        topic: topic.into(),
        partition,
        committed,
        log_start: 0,
        end_offset: end,
        lag: end - committed.unwrap_or(0),
        lag_ms: 4_000,
        owner: owner.map(String::from),
        redeliveries: 1,
    }
}

fn groups() -> Vec<GroupInfo> {
    let member = MemberInfo {
        member_id: "billing-1".into(),
        client_id: "svc".into(),
        client_host: String::new(),
        topics: vec!["orders".into()],
        assignment: vec![("orders".into(), 0), ("orders".into(), 1), ("orders".into(), 2)],
        last_seen_ms: 1_000,
        session_timeout_ms: 30_000,
    };
    vec![
        GroupInfo {
            name: "billing".into(),
            state: "stable".into(),
            generation: 3,
            assignor: "range".into(),
            members: vec![member],
            partitions: (0..3).map(|p| lag("orders", p, Some(1000 + u64::from(p)), 1180, Some("billing-1"))).collect(),
            consume_rate: 10.0,
        },
        GroupInfo {
            name: "analytics".into(),
            state: "empty".into(),
            generation: 1,
            assignor: "range".into(),
            members: Vec::new(),
            partitions: vec![lag("payments", 0, None, 42, None)],
            consume_rate: 0.0,
        },
    ]
}

fn records(topic: &str, req: &PeekRequest) -> Vec<Message> {
    let from = match req.from {
        PeekFrom::Offset(o) => o,
        _ => 1150,
    };
    (0..req.max.min(6) as u64)
        .map(|i| Message {
            topic: topic.into(),
            partition: req.partition.unwrap_or(0),
            offset: from.saturating_add(i),
            timestamp: NOW - 60_000 + i as i64 * 1000,
            key: (i % 2 == 0).then(|| Payload::text("k")),
            value: match i % 4 {
                0 => Some(Payload::text(r#"{"id":1,"items":[{"sku":"A","qty":2}],"note":"a long line of text"}"#)),
                1 => Some(Payload(bytes::Bytes::from_static(&[0, 0xff, 0x41, 0x0a, 0x7f]))),
                2 => Some(Payload::text("line one\nline two\ttabbed")),
                _ => None,
            },
            headers: vec![Header::text("trace", "7f3a")],
        })
        .collect()
}

fn failed<T>() -> BResultOf<T> {
    Err(BackendError::Unavailable("the fuzzer's backend said no".into()))
}

type BResultOf<T> = crate::backend::BResult<T>;

/// The answer the driver would feed back for `fx`: a plausible success, or (when `ok` is false)
/// an error.
fn answer(fx: Effect, ok: bool) -> Option<Loaded> {
    Some(match fx {
        Effect::LoadCaps => Loaded::Caps(if ok { Ok(Capabilities::depot()) } else { failed() }),
        Effect::LoadTopics => Loaded::Topics(if ok { Ok(topics()) } else { failed() }),
        Effect::LoadGroups => Loaded::Groups(if ok { Ok(groups()) } else { failed() }),
        Effect::LoadMessages { seq, topic, req } => {
            Loaded::Messages { seq, result: if ok { Ok(records(&topic, &req)) } else { failed() } }
        }
        Effect::LoadMerged { seq, topic, reads, keep, max } => Loaded::Merged {
            seq,
            result: if ok {
                let read = reads
                    .into_iter()
                    .map(|r| {
                        let req = PeekRequest { partition: Some(r.partition), from: r.from, max };
                        let items = records(&topic, &req);
                        (r, items)
                    })
                    .collect();
                Ok(crate::core::merge::merge_page(read, max, keep))
            } else {
                failed()
            },
        },
        Effect::Publish { topic, req } => Loaded::Published(if ok {
            Ok((0..req.records.len() as u64)
                .map(|i| Ack { topic: topic.clone(), partition: 0, offset: 1200 + i, duplicate: false })
                .collect())
        } else {
            failed()
        }),
        Effect::Pull { group, req } => Loaded::Pulled(if ok {
            let messages = records(&req.topic, &PeekRequest { partition: None, from: PeekFrom::Earliest, max: 3 });
            Ok(PullResult { group, offsets: Vec::new(), committed: req.commit, messages })
        } else {
            failed()
        }),
        Effect::Commit { .. } => Loaded::Committed(if ok { Ok(()) } else { failed() }),
        Effect::PlanReset { group, req } => Loaded::ResetPlanned(if ok {
            Ok(ResetPlan {
                group,
                topic: req.topic,
                spec: req.spec,
                rows: vec![ResetRow {
                    partition: 0,
                    before: Some(1000),
                    after: 900,
                    log_start: 0,
                    end_offset: 1200,
                    note: None,
                }],
                live_members: vec!["billing-1".into()],
                undo_of: None,
            })
        } else {
            failed()
        }),
        Effect::PlanUndo { .. } => Loaded::ResetPlanned(failed()),
        Effect::ExecuteReset { plan, force } => Loaded::ResetDone(if ok {
            Ok(ResetRecord {
                id: 1,
                at_ms: NOW,
                group: plan.group,
                topic: plan.topic,
                spec: plan.spec,
                rows: plan.rows.iter().map(|r| (r.partition, r.before, r.after)).collect(),
                forced: force,
                undo_of: plan.undo_of,
            })
        } else {
            failed()
        }),
        Effect::PlanReplay(req) => Loaded::ReplayPlanned(if ok {
            let target = req.target.clone().unwrap_or_else(|| format!("{}-replay", req.source));
            Ok(ReplayPlan {
                source: req.source,
                target,
                range: req.range,
                rows: vec![ReplayRow { partition: 0, from: 10, to: 20, count: 10 }],
                total: 10,
            })
        } else {
            failed()
        }),
        Effect::ExecuteReplay(plan) => Loaded::ReplayDone(if ok {
            Ok(ReplayResult { target: plan.target, appended: plan.total })
        } else {
            failed()
        }),
        Effect::CreateTopic { name, config } => Loaded::TopicCreated(if ok {
            Ok(TopicInfo { name, partitions: (0..config.partitions.min(8)).map(|p| part(p, 0, 0)).collect(), config })
        } else {
            failed()
        }),
        Effect::DeleteTopic(name) => Loaded::TopicDeleted(name, if ok { Ok(()) } else { failed() }),
        Effect::Search { seq, topic, req } => Loaded::Searched {
            seq,
            result: if ok {
                let peek = PeekRequest { partition: req.partition, from: PeekFrom::Earliest, max: 3 };
                let matches = records(&topic, &peek);
                Ok(SearchResult {
                    scanned: matches.len() as u64,
                    scanned_bytes: 300,
                    matches,
                    next: Vec::new(),
                    stopped: None,
                    gone: Vec::new(),
                })
            } else {
                failed()
            },
        },
        Effect::Copy(text) => Loaded::Copied(if ok { Ok(text.len()) } else { Err("the terminal said no".into()) }),
        Effect::SaveFile { path, bytes } => {
            Loaded::Saved(if ok { Ok((path, bytes.len())) } else { Err("the disk said no".into()) })
        }
        Effect::PublishFile { .. } | Effect::Panel(_) | Effect::SwitchContext(_) | Effect::Quit => return None,
    })
}

const KEYS: &[KeyCode] = &[
    KeyCode::Enter,
    KeyCode::Esc,
    KeyCode::Tab,
    KeyCode::BackTab,
    KeyCode::Backspace,
    KeyCode::Delete,
    KeyCode::Up,
    KeyCode::Down,
    KeyCode::Left,
    KeyCode::Right,
    KeyCode::Home,
    KeyCode::End,
    KeyCode::PageUp,
    KeyCode::PageDown,
    KeyCode::F(1),
];

fn key(b: &mut Bytes) -> KeyEvent {
    let k = b.u8();
    let code = if k < 200 {
        // Printable ASCII mostly (the keymap's letters, ':' '/' '?'), sometimes beyond.
        let c = if k < 190 { (b' ' + k % 95) as char } else { char::from_u32(0xe9 + u32::from(k)).unwrap_or('x') };
        KeyCode::Char(c)
    } else {
        KEYS[(k - 200) as usize % KEYS.len()]
    };
    let mods = match b.u8() % 8 {
        0 => KeyModifiers::CONTROL,
        1 => KeyModifiers::SHIFT,
        2 => KeyModifiers::ALT,
        _ => KeyModifiers::NONE,
    };
    KeyEvent::new(code, mods)
}

pub fn console_keys(data: &[u8]) {
    let settings = Settings {
        target: "embedded /fuzz".into(),
        context: None,
        read_only: false,
        note: None,
        refresh_ms: 1000,
        contexts: vec!["prod".into()],
    };
    let mut s = State::new(settings, Keymap::default(), Theme::dark(), NOW);
    let mut pending: VecDeque<Effect> = start(&mut s).into();
    let mut now = NOW;
    let mut b = Bytes::new(data);
    for _ in 0..2000 {
        if b.is_empty() {
            break;
        }
        let op = b.u8();
        let msg = match op % 16 {
            0..=8 => Msg::Key(key(&mut b)),
            9 => {
                let kind = match b.u8() % 4 {
                    0 => MouseEventKind::ScrollDown,
                    1 => MouseEventKind::ScrollUp,
                    _ => MouseEventKind::Down(MouseButton::Left),
                };
                Msg::Mouse(MouseEvent {
                    kind,
                    column: u16::from(b.u8()),
                    row: u16::from(b.u8() % 64),
                    modifiers: KeyModifiers::NONE,
                })
            }
            10 => Msg::Resize(u16::from(b.u8()), u16::from(b.u8() % 80)),
            11 => {
                now += i64::from(b.u16()) * 10;
                Msg::Tick(now)
            }
            12 => {
                let (w, h) = (u16::from(b.u8()) + 1, u16::from(b.u8() % 70) + 1);
                let _ = render_to_string(&s, w, h);
                continue;
            }
            _ => {
                let ok = !b.u8().is_multiple_of(4);
                let Some(l) = pending.pop_front().and_then(|fx| answer(fx, ok)) else { continue };
                Msg::Loaded(l)
            }
        };
        pending.extend(update(&mut s, msg));
        pending.truncate(64);
    }
    let _ = render_to_string(&s, 100, 30);
}
