//! A key while an overlay is open: any key closes help; the `:` prompt runs its command; the `/`
//! prompt filters as you type (in the messages view, enter then searches the engine); a dialog
//! gets it.

use super::command::command;
use super::nav::clamp_cursor;
use crate::console::dialogs;
use crate::console::effect::Effect;
use crate::console::form::FormEvent;
use crate::console::state::{Level, Overlay, State, View};
use crossterm::event::KeyEvent;

pub fn key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    s.ui.dirty = true;
    let Some(overlay) = s.overlay.take() else { return Vec::new() };
    match overlay {
        // Any key closes help.
        Overlay::Help => Vec::new(),
        Overlay::Command(mut input) => match input.key(&k) {
            FormEvent::Submit => command(s, input.value.trim()),
            FormEvent::Cancel => Vec::new(),
            FormEvent::Nothing => {
                s.overlay = Some(Overlay::Command(input));
                Vec::new()
            }
        },
        Overlay::Filter(mut input) => {
            let ev = input.key(&k);
            match ev {
                FormEvent::Cancel => s.nav.screen_mut().filter.clear(),
                // Merged, enter keeps the filter on the page: the engine searches one partition.
                FormEvent::Submit if *s.nav.view() == View::Messages && merged(s) => {
                    s.nav.screen_mut().filter = input.value.clone();
                    let key = s.keymap.label(crate::console::keymap::Action::Merge);
                    s.ui.say(
                        Level::Info,
                        format!("filtering this page; the engine searches one partition: {key} shows the selected record's (depot search TOPIC searches all)"),
                    );
                }
                FormEvent::Submit if *s.nav.view() == View::Messages => {
                    // In the messages view enter searches the engine from the cursor: the page
                    // shows every record again, the cursor goes to each match.
                    s.nav.screen_mut().filter.clear();
                    let fx = super::search::start(s, input.value.trim());
                    clamp_cursor(s);
                    return fx;
                }
                FormEvent::Submit => s.nav.screen_mut().filter = input.value.clone(),
                FormEvent::Nothing => {
                    // Filter as you type.
                    s.nav.screen_mut().filter = input.value.clone();
                    s.overlay = Some(Overlay::Filter(input));
                }
            }
            s.nav.screen_mut().selected = 0;
            clamp_cursor(s);
            Vec::new()
        }
        Overlay::Dialog(d) => dialogs::key(s, d, k),
    }
}

/// Whether the messages view merges every partition.
fn merged(s: &State) -> bool {
    s.data.messages.as_ref().is_some_and(|m| m.merged.is_some())
}
