//! `u`: plan the undo of the group's last reset; the plan comes back into the reset preview
//! ([`reset::planned`](super::reset::planned)), where enter runs it.

use super::working;
use crate::console::effect::Effect;
use crate::console::state::State;

/// Asks for the undo's plan of the group in view (unless read-only, or the engine keeps no
/// reset journal).
pub fn open(s: &mut State) -> Vec<Effect> {
    let Some(g) = s.current_group() else { return Vec::new() };
    if s.refuse_write("undo resets")
        || s.refuse_unsupported(s.data.caps.undo, "undo resets (it keeps no reset journal)")
    {
        return Vec::new();
    }
    working::show(s, format!("planning the undo of {g}'s last reset…"));
    vec![Effect::PlanUndo { group: g }]
}
