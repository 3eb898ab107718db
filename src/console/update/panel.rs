//! The side panel: its provider's news replace what it shows (and say which groups it paused); a
//! press of one of its keys becomes [`Effect::Panel`] with the group in view, and the lists
//! refresh to show what it changed.

use super::lists::refresh;
use crate::console::effect::Effect;
use crate::console::keymap::Key;
use crate::console::panel::{PanelAction, SidePanel};
use crate::console::state::State;
use crossterm::event::KeyEvent;

/// The provider sent what to show.
pub fn show(s: &mut State, panel: SidePanel) -> Vec<Effect> {
    if s.panel.as_ref() != Some(&panel) {
        s.trends.paused = panel.paused_groups.iter().cloned().collect();
        s.panel = Some(panel);
        s.ui.dirty = true;
    }
    Vec::new()
}

/// A key no console action takes: the panel's, if it has it (as bound right now).
pub fn key(s: &mut State, k: &KeyEvent) -> Vec<Effect> {
    let (Some(panel), Some(key)) = (&s.panel, Key::from_event(k)) else { return Vec::new() };
    let Some(pk) = panel.keys.iter().find(|pk| s.keymap.panel_keys(&pk.action, pk.key).contains(&key)) else {
        return Vec::new();
    };
    let (action, restarts) = (pk.action.clone(), pk.restarts);
    s.ui.dirty = true;
    let group = s.current_group();
    if restarts {
        // Back to the top: what was on screen belongs to the old run.
        s.nav.to_root();
        s.data.messages = None;
        s.trends.clear_samples();
    }
    let mut fx = vec![Effect::Panel(PanelAction { action, group })];
    fx.extend(refresh(s));
    fx
}
