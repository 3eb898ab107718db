//! Actions on the selected record of the messages view: marks for a replay (`v` start, `V` end),
//! copy the value to the terminal's clipboard (`y`, OSC 52, written by the driver), and the
//! partition switch (`[` / `]`). Reset to this offset (`o`), replay the marked range (`R`) and
//! save to a file (`w`) open their dialogs.

use crate::console::effect::Effect;
use crate::console::state::{Level, MsgMode, State, View};
use crate::core::format::bytes;

/// Whether the messages view merges every partition.
fn merged(s: &State) -> bool {
    s.data.messages.as_ref().is_some_and(|m| m.merged.is_some())
}

/// The selected record's partition and offset.
fn selected(s: &State) -> Option<(u32, u64)> {
    s.visible_messages().get(s.nav.screen().selected).map(|r| (r.partition, r.offset))
}

/// `v` (start) or `V` (end): marks the selected record; again on the same record unmarks it.
pub fn mark(s: &mut State, start: bool) -> Vec<Effect> {
    if merged(s) {
        let key = s.keymap.label(crate::console::keymap::Action::Merge);
        s.ui.say(
            Level::Info,
            format!("marks are a range of one partition: {key} shows the selected record's partition"),
        );
        return Vec::new();
    }
    let Some((_, offset)) = selected(s) else {
        s.ui.say(Level::Info, "no record selected to mark");
        return Vec::new();
    };
    let Some(m) = s.data.messages.as_mut() else { return Vec::new() };
    let slot = if start { &mut m.marks.0 } else { &mut m.marks.1 };
    *slot = if *slot == Some(offset) { None } else { Some(offset) };
    let text = match m.marks {
        (Some(a), Some(b)) => {
            let (lo, hi) = (a.min(b), a.max(b));
            format!("marked offsets {lo}..={hi} ({} records) · R replays them", hi - lo + 1)
        }
        (Some(a), None) => format!("marked the start at offset {a} · V marks the end"),
        (None, Some(b)) => format!("marked the end at offset {b} · v marks the start"),
        (None, None) => "marks cleared".to_string(),
    };
    s.ui.say(Level::Info, text);
    Vec::new()
}

/// The largest value `y` sends as an OSC 52 copy: terminals drop longer ones without a word
/// (xterm and tmux cap the sequence near 100 KB, which base64 makes of 74 KiB).
pub const MAX_COPY: usize = 74 << 10;

/// `y`: the selected record's value to the clipboard (text as is, other bytes as base64:...).
pub fn copy(s: &mut State) -> Vec<Effect> {
    if *s.nav.view() != View::Messages {
        return Vec::new();
    }
    match s.visible_messages().get(s.nav.screen().selected) {
        Some(r) => {
            let Some(value) = &r.value else {
                s.ui.say(Level::Info, "the record is a tombstone (its value is null): there is nothing to copy");
                return Vec::new();
            };
            let text = value.display();
            if text.len() > MAX_COPY {
                let size = crate::core::format::bytes(text.len() as u64);
                s.ui.say(
                    Level::Warn,
                    format!("value is {size}: too large to copy through the terminal (most drop copies over 74 KiB); w saves it to a file"),
                );
                return Vec::new();
            }
            vec![Effect::Copy(text)]
        }
        None => {
            s.ui.say(Level::Info, "no record selected to copy");
            Vec::new()
        }
    }
}

/// The driver wrote the copy to the terminal.
pub fn copied(s: &mut State, r: Result<usize, String>) -> Vec<Effect> {
    match r {
        Ok(n) => s.ui.say(
            Level::Ok,
            format!(
                "copied the value ({}) to the clipboard with OSC 52 (in tmux: set -g set-clipboard on)",
                bytes(n as u64)
            ),
        ),
        Err(e) => s.ui.say(Level::Error, format!("copy failed: {e}")),
    }
    Vec::new()
}

/// The driver saved a value to a file.
pub fn saved(s: &mut State, r: Result<(String, usize), String>) -> Vec<Effect> {
    match r {
        Ok((path, n)) => s.ui.say(Level::Ok, format!("saved the value ({}) to {path}", bytes(n as u64))),
        Err(e) => s.ui.say(Level::Error, e),
    }
    Vec::new()
}

/// `[` / `]`: the previous / next partition of the topic, read the same way (browse from its
/// start, tail, or the same group's backlog).
pub fn switch_partition(s: &mut State, delta: i64) -> Vec<Effect> {
    if merged(s) {
        let key = s.keymap.label(crate::console::keymap::Action::Merge);
        s.ui.say(Level::Info, format!("every partition is on screen, merged by time: {key} shows one partition"));
        return Vec::new();
    }
    let Some(m) = s.data.messages.as_ref() else { return Vec::new() };
    let n = s.data.topic(&m.topic).map(|t| t.partitions.len() as i64).unwrap_or(1).max(1);
    let p = (m.partition as i64 + delta).rem_euclid(n) as u32;
    if p == m.partition {
        s.ui.say(Level::Info, format!("{} has one partition", m.topic));
        return Vec::new();
    }
    let mode = match &m.mode {
        MsgMode::Browse { .. } => MsgMode::Browse { from: 0 },
        other => other.clone(),
    };
    let topic = m.topic.clone();
    s.data.search = None;
    s.ui.say(Level::Info, format!("partition {p} of {topic} ({} of {n})", p + 1));
    super::messages::open(s, topic, p, mode)
}
