//! The working popup: shown while an answer is awaited. Only esc hides it (the answer still
//! arrives, and closes it if it is still up).

use super::Dialog;
use crate::console::effect::Effect;
use crate::console::state::{Overlay, State};
use crate::console::view::util::{block, popup};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Clear, Paragraph};

/// Shows the popup with `text`.
pub fn show(s: &mut State, text: impl Into<String>) {
    s.overlay = Some(Overlay::Dialog(Dialog::Working(text.into())));
}

/// An answer came: the popup goes (unless the user opened something else meanwhile).
pub fn close(s: &mut State) {
    if matches!(s.overlay, Some(Overlay::Dialog(Dialog::Working(_)))) {
        s.overlay = None;
    }
    s.ui.dirty = true;
}

pub fn key(s: &mut State, text: String, k: KeyEvent) -> Vec<Effect> {
    if k.code != KeyCode::Esc {
        show(s, text);
    }
    Vec::new()
}

pub fn draw(f: &mut Frame, area: Rect, s: &State, text: &str) {
    let r = popup(area, 50, 3);
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(text.to_string()).block(block(s, "working".into())).centered(), r);
}
