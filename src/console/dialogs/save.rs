//! `w` in the messages view: save the selected record's value to a file. A small form asks for
//! the path; the driver writes the file (never over an existing one), not the UI thread.

use super::{Dialog, forms};
use crate::console::effect::Effect;
use crate::console::form::{Field, Form, FormField};
use crate::console::state::{Level, Overlay, State, View};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveField {
    Path,
}

impl FormField for SaveField {
    const ALL: &'static [Self] = &[Self::Path];
    fn label(self) -> &'static str {
        match self {
            Self::Path => "path",
        }
    }
}

/// The form, with a path named after the record (`TOPIC-P-OFFSET.bin`).
pub fn open(s: &mut State) -> Vec<Effect> {
    if *s.nav.view() != View::Messages {
        return Vec::new();
    }
    let Some(r) = s.visible_messages().get(s.nav.screen().selected).map(|r| (*r).clone()) else {
        s.ui.say(Level::Info, "no record selected to save");
        return Vec::new();
    };
    let Some(value) = &r.value else {
        s.ui.say(Level::Info, "the record is a tombstone (its value is null): there is nothing to save");
        return Vec::new();
    };
    let ext = if value.as_text().is_some() { "txt" } else { "bin" };
    let path = format!("{}-{}-{}.{ext}", r.topic, r.partition, r.offset);
    let form = Form::new(&format!("Save the value of offset {}", r.offset), "Save", |f| match f {
        SaveField::Path => Field::text(&path, "a new file (an existing one is not overwritten)"),
    });
    s.overlay = Some(Overlay::Dialog(Dialog::Save(form)));
    Vec::new()
}

pub fn key(s: &mut State, form: Form<SaveField>, k: KeyEvent) -> Vec<Effect> {
    forms::key(s, form, &k, submit, Dialog::Save)
}

fn submit(s: &mut State, f: &Form<SaveField>) -> Result<Vec<Effect>, String> {
    let path = f.value(SaveField::Path).trim().to_string();
    if path.is_empty() {
        return Err("give a path to save to".into());
    }
    let Some(r) = s.visible_messages().get(s.nav.screen().selected).map(|r| r.value.clone()) else {
        return Err("the record is no longer on screen".into());
    };
    let Some(r) = r.map(|v| v.0) else {
        return Err("the record is a tombstone (its value is null): there is nothing to save".into());
    };
    s.ui.say(Level::Info, format!("saving to {path}…"));
    Ok(vec![Effect::SaveFile { path, bytes: r }])
}

pub fn draw(f: &mut Frame, area: Rect, s: &State, form: &Form<SaveField>) {
    crate::console::view::form::draw(f, area, s, form);
}
