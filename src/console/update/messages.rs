//! The messages view: open a partition (browsing from an offset, tailing, or a group's backlog),
//! load its window, page at the edges of what is loaded, and take the answers (dropping late
//! ones).

use super::nav::{clamp_cursor, move_cursor, push_view};
use crate::backend::BResult;
use crate::console::effect::{Effect, Kind};
use crate::console::layout;
use crate::console::state::{Level, Messages, MsgMode, State, View};
use crate::core::{Message, PeekFrom, PeekRequest};

/// Records per page in the messages view.
pub const PAGE: usize = 100;

/// Opens (or re-aims) the messages view on a partition.
pub fn open(s: &mut State, topic: String, partition: u32, mode: MsgMode) -> Vec<Effect> {
    let start = s.data.log_start(&topic, partition);
    let mode = match mode {
        MsgMode::Browse { from } => MsgMode::Browse { from: from.max(start) },
        m => m,
    };
    s.data.messages = Some(Messages {
        topic,
        partition,
        mode,
        items: Vec::new(),
        seq: 0,
        loading: true,
        detail: false,
        focus: None,
        marks: (None, None),
        anchor: None,
        merged: None,
    });
    if *s.nav.view() == View::Messages {
        s.nav.to_first_row();
    } else {
        push_view(s, View::Messages);
    }
    load(s)
}

/// Loads the messages view's current window.
pub fn load(s: &mut State) -> Vec<Effect> {
    if s.data.messages.as_ref().is_some_and(|m| m.merged.is_some()) {
        return super::merged::load(s);
    }
    let seq = s.ui.next_seq();
    let Some(m) = s.data.messages.as_ref() else { return Vec::new() };
    let from = match &m.mode {
        MsgMode::Browse { from } => PeekFrom::Offset(*from),
        MsgMode::Tail => PeekFrom::Latest(PAGE as u64),
        MsgMode::Backlog { group } => PeekFrom::Offset(s.data.committed(group, &m.topic, m.partition).unwrap_or(0)),
    };
    let (topic, partition) = (m.topic.clone(), m.partition);
    if let Some(m) = s.data.messages.as_mut() {
        m.seq = seq;
        m.loading = true;
    }
    s.refresh.inflight.insert(Kind::Messages);
    vec![Effect::LoadMessages { seq, topic, req: PeekRequest { partition: Some(partition), from, max: PAGE } }]
}

/// The records of a request arrived (those of an older one are dropped).
pub fn loaded(s: &mut State, seq: u64, result: BResult<Vec<Message>>) -> Vec<Effect> {
    let Some(m) = s.data.messages.as_mut() else {
        s.refresh.inflight.remove(&Kind::Messages);
        return Vec::new();
    };
    if seq != m.seq {
        return Vec::new(); // an older request answered late; the newer one is still in flight
    }
    s.refresh.inflight.remove(&Kind::Messages);
    m.loading = false;
    match result {
        Ok(items) => {
            // Browsing names the offset it shows from (a jump to a time learns it here).
            if let (MsgMode::Browse { from }, Some(first)) = (&mut m.mode, items.first()) {
                *from = first.offset;
            }
            if m.items != items {
                m.items = items;
                s.ui.dirty = true;
            }
            let focus = m.focus.take();
            if m.mode == MsgMode::Tail {
                let n = s.row_count();
                s.nav.screen_mut().selected = n.saturating_sub(1);
            }
            if let Some(o) = focus
                && let Some(i) = s.visible_messages().iter().position(|r| r.offset >= o)
            {
                s.nav.screen_mut().selected = i;
            }
            clamp_cursor(s);
            s.ui.clear_about(Kind::Messages);
        }
        Err(e) => s.ui.say_about(Kind::Messages, Level::Error, e.to_string()),
    }
    Vec::new()
}

/// Page up or down; in the messages view, at the edge of what is loaded, the next or previous page.
pub fn page(s: &mut State, dir: isize) -> Vec<Effect> {
    let rows = layout::body_rows(s) as isize;
    if *s.nav.view() != View::Messages {
        move_cursor(s, dir * rows);
        return Vec::new();
    }
    let n = s.row_count();
    let sel = s.nav.screen().selected;
    let at_edge = if dir > 0 { sel + 1 >= n } else { sel == 0 };
    if !at_edge {
        move_cursor(s, dir * rows);
        return Vec::new();
    }
    // At the edge of what is loaded: load the next or previous page.
    let Some(m) = s.data.messages.as_ref() else { return Vec::new() };
    if m.merged.is_some() {
        return super::merged::page(s, dir);
    }
    let start = s.data.log_start(&m.topic, m.partition);
    let first = m.items.first().map(|r| r.offset);
    let last = m.items.last().map(|r| r.offset);
    let end = s.data.topic(&m.topic).and_then(|t| t.partitions.get(m.partition as usize)).map(|p| p.end_offset);
    let from = if dir > 0 {
        match last {
            // The next page would be empty: stay on this one (an empty page would read as an
            // empty partition).
            Some(l) if end.is_some_and(|e| l + 1 >= e) => {
                let key = s.keymap.label(crate::console::keymap::Action::Tail);
                s.ui.say(
                    Level::Info,
                    format!("the newest record of {}/{} is on screen ({key} tails it)", m.topic, m.partition),
                );
                return Vec::new();
            }
            Some(l) => l + 1,
            None => return Vec::new(),
        }
    } else {
        match first {
            Some(f) if f > start => f.saturating_sub(PAGE as u64).max(start),
            _ => return Vec::new(),
        }
    };
    if let Some(m) = s.data.messages.as_mut() {
        m.mode = MsgMode::Browse { from };
    }
    let scr = s.nav.screen_mut();
    scr.selected = if dir > 0 { 0 } else { PAGE - 1 };
    scr.scroll = 0;
    load(s)
}

/// `t`: live tail on or off.
pub fn toggle_tail(s: &mut State) -> Vec<Effect> {
    if *s.nav.view() != View::Messages {
        return Vec::new();
    }
    let Some(m) = s.data.messages.as_mut() else { return Vec::new() };
    m.mode = if m.mode == MsgMode::Tail {
        MsgMode::Browse { from: m.items.first().map(|r| r.offset).unwrap_or(0) }
    } else {
        MsgMode::Tail
    };
    let tail = m.mode == MsgMode::Tail;
    s.ui.say(Level::Info, if tail { "live tail: the newest records, refreshed" } else { "tail off" });
    load(s)
}

/// `b`: the backlog of the group in view, or of the first group consuming the topic.
pub fn backlog(s: &mut State) -> Vec<Effect> {
    let Some((topic, partition)) = s.selected_topic_partition() else { return Vec::new() };
    let group = s.current_group().or_else(|| {
        s.data.groups.iter().find(|g| g.partitions.iter().any(|p| p.topic == topic)).map(|g| g.name.clone())
    });
    let merged = *s.nav.view() == View::Messages && s.data.messages.as_ref().is_some_and(|m| m.merged.is_some());
    match group {
        // The merged view stays merged: every partition's backlog, by time.
        Some(group) if merged => {
            if let Some(m) = s.data.messages.as_mut() {
                m.mode = MsgMode::Backlog { group };
                m.merged = Some(Default::default());
            }
            s.nav.to_first_row();
            load(s)
        }
        Some(group) => open(s, topic, partition, MsgMode::Backlog { group }),
        None => {
            s.ui.say(Level::Info, format!("no group consumes {topic} yet, so there is no backlog to show"));
            Vec::new()
        }
    }
}
