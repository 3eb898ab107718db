//! The working popup: shown while an answer is awaited. Only esc hides it (the answer still
//! arrives, and closes it if it is still up). What the dialogs do with an answer alike is here
//! too: a plan goes into its preview, a write's outcome onto the status line.

use super::Dialog;
use crate::backend::BResult;
use crate::console::effect::Effect;
use crate::console::state::{Level, Overlay, State};
use crate::console::update::refresh;
use crate::console::view::util::{block, popup};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Clear, Paragraph};

/// A plan failed: the form it came from (kept in `s.retry` when it was submitted) comes back as
/// it was typed, with the failure as its error, if the working popup is still up; true if so.
pub fn reopen_form(s: &mut State, error: &str, set_error: impl FnOnce(&mut Dialog, String)) -> bool {
    let Some(mut d) = s.retry.take() else { return false };
    if !matches!(s.overlay, Some(Overlay::Dialog(Dialog::Working(_)))) {
        return false;
    }
    set_error(&mut d, error.to_string());
    s.overlay = Some(Overlay::Dialog(*d));
    s.ui.dirty = true;
    true
}

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

/// A plan arrived: shown in its preview `dialog` (in the popup's place), or the failure said as
/// `{what}: {e}`.
pub fn planned<T>(s: &mut State, r: BResult<T>, what: &str, dialog: impl FnOnce(T) -> Dialog) -> Vec<Effect> {
    match r {
        Ok(plan) => {
            s.overlay = Some(Overlay::Dialog(dialog(plan)));
            s.ui.dirty = true;
        }
        Err(e) => {
            close(s);
            s.ui.say(Level::Error, format!("{what}: {e}"));
        }
    }
    Vec::new()
}

/// A write ran: the popup goes; on success `ok` says what was done (after anything else it must
/// change) and the lists refresh; a failure is said as `{failed}: {e}`.
pub fn done<T>(s: &mut State, r: BResult<T>, failed: &str, ok: impl FnOnce(&mut State, T) -> String) -> Vec<Effect> {
    close(s);
    match r {
        Ok(v) => {
            let text = ok(s, v);
            s.ui.say(Level::Ok, text);
            refresh(s)
        }
        Err(e) => {
            s.ui.say(Level::Error, format!("{failed}: {e}"));
            Vec::new()
        }
    }
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
