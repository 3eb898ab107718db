//! What the form dialogs share: a key on the form (editing keeps the dialog open, esc cancels,
//! submit runs the dialog's own submit, whose error stays in the form), and the parsers of
//! values several forms take.

use super::Dialog;
use crate::console::effect::Effect;
use crate::console::form::{Form, FormEvent, FormField};
use crate::console::state::{Level, Overlay, State};
use crossterm::event::KeyEvent;

/// Runs a form's key; on submit calls `submit`, which returns effects or an error kept in the
/// form. `reopen` puts the form back in its dialog.
pub fn key<F: FormField>(
    s: &mut State,
    mut form: Form<F>,
    k: &KeyEvent,
    submit: impl FnOnce(&mut State, &Form<F>) -> Result<Vec<Effect>, String>,
    reopen: impl FnOnce(Form<F>) -> Dialog,
) -> Vec<Effect> {
    match form.key(k) {
        FormEvent::Cancel => {
            s.ui.say(Level::Info, "cancelled; nothing changed");
            Vec::new()
        }
        FormEvent::Nothing => {
            s.overlay = Some(Overlay::Dialog(reopen(form)));
            Vec::new()
        }
        FormEvent::Submit => match submit(s, &form) {
            Ok(fx) => fx,
            Err(e) => {
                form.error = Some(e);
                s.overlay = Some(Overlay::Dialog(reopen(form)));
                Vec::new()
            }
        },
    }
}

/// `all` (or nothing) for every partition, else a comma-separated list.
pub fn parse_partitions(v: &str) -> Result<Vec<u32>, String> {
    let v = v.trim();
    if v.is_empty() || v == "all" {
        return Ok(Vec::new());
    }
    v.split(',')
        .map(|p| p.trim().parse::<u32>().map_err(|_| format!("partitions: {p:?} is not a number (use all, or 0,2)")))
        .collect()
}

/// A time as typed in a form; `-15m` counts back from the state's clock.
pub fn parse_time(s: &State, v: &str) -> Result<i64, String> {
    crate::core::time::parse_time(v.trim(), s.ui.now_ms).map_err(|e| e.0)
}
