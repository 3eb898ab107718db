//! `M` in the messages view (or on a topic): every partition of the topic merged by time, and
//! back to one partition. Browsing, the live tail and a group's backlog read the same way, one
//! read per partition merged by the driver; a page keeps each partition's offset range, so paging
//! on or back reads from where each partition's part of the page ends and skips nothing.

use super::messages::{PAGE, open};
use crate::backend::BResult;
use crate::console::effect::{Effect, Kind};
use crate::console::state::{Level, Merged, MsgMode, State, View};
use crate::core::PeekFrom;
use crate::core::merge::{Keep, MergedPage, MergedRead};

/// `M`: merge every partition of the topic in view (or under the cursor), or go back to the
/// selected record's partition.
pub fn toggle(s: &mut State) -> Vec<Effect> {
    let selected = s.visible_messages().get(s.nav.screen().selected).map(|r| (r.partition, r.offset, r.timestamp));
    let in_messages = *s.nav.view() == View::Messages;
    if in_messages && let Some(m) = s.data.messages.as_ref().filter(|m| m.merged.is_some()) {
        // Back to one partition: the selected record's, with the cursor on it.
        let (topic, mode) = (m.topic.clone(), m.mode.clone());
        let (partition, offset) = selected.map_or((m.partition, None), |(p, o, _)| (p, Some(o)));
        let mode = match (mode, offset) {
            (MsgMode::Browse { .. }, Some(o)) => MsgMode::Browse { from: o.saturating_sub(3) },
            (MsgMode::Browse { .. }, None) => MsgMode::Browse { from: 0 },
            (other, _) => other,
        };
        s.ui.say(Level::Info, format!("partition {partition} of {topic} alone"));
        let fx = open(s, topic, partition, mode);
        if let Some(m) = s.data.messages.as_mut() {
            m.focus = offset;
        }
        return fx;
    }
    let Some((topic, partition)) = s.selected_topic_partition() else { return Vec::new() };
    let n = s.data.topic(&topic).map_or(1, |t| t.partitions.len());
    if n < 2 {
        s.ui.say(Level::Info, format!("{topic} has one partition: nothing to merge"));
        return Vec::new();
    }
    // From a record: browse from its time; from a topic row: from every partition's start.
    let (mode, since) = match s.data.messages.as_ref().filter(|_| in_messages) {
        Some(m) => match &m.mode {
            MsgMode::Browse { .. } => (MsgMode::Browse { from: 0 }, selected.map(|(_, _, ts)| ts)),
            other => (other.clone(), None),
        },
        None => (MsgMode::Browse { from: 0 }, None),
    };
    s.data.search = None;
    let _ = open(s, topic.clone(), partition, mode);
    if let Some(m) = s.data.messages.as_mut() {
        m.merged = Some(Merged { ranges: Default::default(), since });
    }
    s.ui.say(Level::Info, format!("all {n} partitions of {topic}, merged by time · M shows one partition"));
    load(s)
}

/// The reads of the view's current page (or its first, before one has loaded).
pub fn load(s: &mut State) -> Vec<Effect> {
    let Some(m) = s.data.messages.as_ref() else { return Vec::new() };
    let Some(merged) = m.merged.as_ref() else { return Vec::new() };
    let parts = partitions(s, &m.topic);
    let (reads, keep) = match &m.mode {
        MsgMode::Tail => {
            (parts.iter().map(|&(p, _, end)| read(p, PeekFrom::Latest(PAGE as u64), None, end)).collect(), Keep::Latest)
        }
        // The page on screen again (new records fill it if it was short).
        _ if !merged.ranges.is_empty() => (
            parts
                .iter()
                .map(|&(p, start, _)| {
                    let lo = merged.ranges.get(&p).map_or(start, |r| r.0).max(start);
                    read(p, PeekFrom::Offset(lo), None, lo)
                })
                .collect(),
            Keep::Earliest,
        ),
        MsgMode::Browse { .. } => (
            parts
                .iter()
                .map(|&(p, start, end)| match merged.since {
                    Some(ts) => read(p, PeekFrom::Time(ts), None, end),
                    None => read(p, PeekFrom::Offset(start), None, start),
                })
                .collect(),
            Keep::Earliest,
        ),
        MsgMode::Backlog { group } => (
            parts
                .iter()
                .map(|&(p, start, _)| {
                    let from = s.data.committed(group, &m.topic, p).unwrap_or(start).max(start);
                    read(p, PeekFrom::Offset(from), None, from)
                })
                .collect(),
            Keep::Earliest,
        ),
    };
    send(s, reads, keep)
}

/// Page on (`dir` > 0) or back from the page on screen; at either end it says so and stays.
pub fn page(s: &mut State, dir: isize) -> Vec<Effect> {
    let Some(m) = s.data.messages.as_ref() else { return Vec::new() };
    let Some(merged) = m.merged.as_ref() else { return Vec::new() };
    if merged.ranges.is_empty() {
        return Vec::new();
    }
    let parts = partitions(s, &m.topic);
    let (reads, keep): (Vec<MergedRead>, Keep) = if dir > 0 {
        if parts.iter().all(|&(p, _, end)| merged.ranges.get(&p).is_some_and(|r| r.1 >= end)) {
            let key = s.keymap.label(crate::console::keymap::Action::Tail);
            s.ui.say(Level::Info, format!("the newest records of every partition are on screen ({key} tails them)"));
            return Vec::new();
        }
        let reads = parts
            .iter()
            .map(|&(p, start, _)| {
                let hi = merged.ranges.get(&p).map_or(start, |r| r.1).max(start);
                read(p, PeekFrom::Offset(hi), None, hi)
            })
            .collect();
        (reads, Keep::Earliest)
    } else {
        let edges: Vec<(u32, u64, u64)> =
            parts.iter().map(|&(p, start, _)| (p, start, merged.ranges.get(&p).map_or(start, |r| r.0))).collect();
        if edges.iter().all(|&(_, start, lo)| lo <= start) {
            s.ui.say(Level::Info, "the first records of every partition are on screen");
            return Vec::new();
        }
        let reads = edges
            .iter()
            .map(|&(p, start, lo)| read(p, PeekFrom::Offset(lo.saturating_sub(PAGE as u64).max(start)), Some(lo), lo))
            .collect();
        (reads, Keep::Latest)
    };
    if let Some(m) = s.data.messages.as_mut() {
        m.mode = MsgMode::Browse { from: 0 };
    }
    let scr = s.nav.screen_mut();
    scr.selected = if dir > 0 { 0 } else { PAGE - 1 };
    scr.scroll = 0;
    send(s, reads, keep)
}

/// `J` to a time in the merged view: every partition from its first record at or after `ts`.
pub fn jump(s: &mut State, ts: i64) -> Vec<Effect> {
    let Some(m) = s.data.messages.as_mut() else { return Vec::new() };
    m.mode = MsgMode::Browse { from: 0 };
    if let Some(merged) = m.merged.as_mut() {
        *merged = Merged { ranges: Default::default(), since: Some(ts) };
    }
    s.nav.to_first_row();
    load(s)
}

/// A merged page arrived (an older request's is dropped).
pub fn loaded(s: &mut State, seq: u64, result: BResult<MergedPage>) -> Vec<Effect> {
    let Some(m) = s.data.messages.as_mut() else {
        s.refresh.inflight.remove(&Kind::Messages);
        return Vec::new();
    };
    if seq != m.seq {
        return Vec::new();
    }
    s.refresh.inflight.remove(&Kind::Messages);
    m.loading = false;
    match result {
        Ok(page) => {
            if let Some(merged) = m.merged.as_mut() {
                merged.ranges = page.ranges;
            }
            if m.items != page.items {
                m.items = page.items;
                s.ui.dirty = true;
            }
            if m.mode == MsgMode::Tail {
                let n = s.row_count();
                s.nav.screen_mut().selected = n.saturating_sub(1);
            }
            super::clamp_cursor(s);
            s.ui.clear_about(Kind::Messages);
        }
        Err(e) => s.ui.say_about(Kind::Messages, Level::Error, e.to_string()),
    }
    Vec::new()
}

/// Each partition of `topic`: number, log start, end offset.
fn partitions(s: &State, topic: &str) -> Vec<(u32, u64, u64)> {
    s.data
        .topic(topic)
        .map(|t| t.partitions.iter().map(|p| (p.partition, p.log_start, p.end_offset)).collect())
        .unwrap_or_default()
}

fn read(partition: u32, from: PeekFrom, before: Option<u64>, at: u64) -> MergedRead {
    MergedRead { partition, from, before, at }
}

fn send(s: &mut State, reads: Vec<MergedRead>, keep: Keep) -> Vec<Effect> {
    let seq = s.ui.next_seq();
    let Some(m) = s.data.messages.as_mut() else { return Vec::new() };
    m.seq = seq;
    m.loading = true;
    let topic = m.topic.clone();
    s.refresh.inflight.insert(Kind::Messages);
    vec![Effect::LoadMerged { seq, topic, reads, keep, max: PAGE }]
}
