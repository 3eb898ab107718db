//! `J` in the messages view: jump to an offset, or to a time (RFC 3339, or `-15m` ago).

use super::{Dialog, forms};
use crate::console::effect::Effect;
use crate::console::form::{Field, Form, FormField};
use crate::console::state::{Level, MsgMode, Overlay, State, View};
use crate::console::update::PAGE;
use crate::core::time::fmt_ms;
use crate::core::{PeekFrom, PeekRequest};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JumpField {
    At,
}

impl FormField for JumpField {
    const ALL: &'static [Self] = &[Self::At];
    fn label(self) -> &'static str {
        match self {
            Self::At => "offset/time",
        }
    }
}

/// Opens the form (in the messages view only).
pub fn open(s: &mut State) -> Vec<Effect> {
    if *s.nav.view() == View::Messages {
        let form = Form::new("Jump to", "Go", |f| match f {
            JumpField::At => Field::text("", "an offset, RFC 3339 time, or -15m (that long ago)"),
        });
        s.overlay = Some(Overlay::Dialog(Dialog::Jump(form)));
    }
    Vec::new()
}

pub fn key(s: &mut State, form: Form<JumpField>, k: KeyEvent) -> Vec<Effect> {
    forms::key(s, form, &k, submit, Dialog::Jump)
}

/// Browses the partition from the offset (or the first record at or after the time).
fn submit(s: &mut State, f: &Form<JumpField>) -> Result<Vec<Effect>, String> {
    let v = f.value(JumpField::At).trim();
    let Some(m) = s.data.messages.as_ref() else { return Ok(Vec::new()) };
    let (topic, partition) = (m.topic.clone(), m.partition);
    let from = match v.parse::<u64>() {
        Ok(o) => PeekFrom::Offset(o),
        Err(_) => PeekFrom::Time(forms::parse_time(s, v)?),
    };
    // Merged, an offset names no record (every partition has one): only a time does.
    if m.merged.is_some() {
        let PeekFrom::Time(ts) = from else {
            return Err(format!(
                "offset {v} is in every partition: give a time (RFC 3339 or -15m), or {} to read one partition",
                s.keymap.label(crate::console::keymap::Action::Merge)
            ));
        };
        s.ui.say(Level::Info, format!("jumped to the first records at or after {} in every partition", fmt_ms(ts)));
        return Ok(crate::console::update::merged_jump(s, ts));
    }
    let seq = s.ui.next_seq();
    // Until the records arrive (and say which offset a time is at), browse from where the view is.
    let shown = m.items.first().map(|r| r.offset).unwrap_or(0);
    if let Some(m) = s.data.messages.as_mut() {
        m.seq = seq;
        m.loading = true;
        m.mode = MsgMode::Browse { from: if let PeekFrom::Offset(o) = from { o } else { shown } };
    }
    s.nav.to_first_row();
    // What the status line said (tail on, say) was about the records before the jump.
    match from {
        PeekFrom::Offset(o) => s.ui.say(Level::Info, format!("jumped to offset {o}")),
        PeekFrom::Time(ts) => s.ui.say(Level::Info, format!("jumped to the first record at or after {}", fmt_ms(ts))),
        _ => s.ui.clear_status(),
    }
    Ok(vec![Effect::LoadMessages { seq, topic, req: PeekRequest { partition: Some(partition), from, max: PAGE } }])
}

pub fn draw(f: &mut Frame, area: Rect, s: &State, form: &Form<JumpField>) {
    crate::console::view::form::draw(f, area, s, form);
}
