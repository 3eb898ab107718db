//! The demo's knobs: what each does to the simulation ([`Knob`]), and its key, label and action
//! id in the console's side panel. A press there arrives as a [`PanelAction`] (the action id and
//! the group in view); [`Knob::from_action`] turns it back into a knob. The ids are also the
//! knobs' names in the config file's `[keys]` table (`demo_faster = [">"]`).

use crate::console::panel::PanelAction;

/// A demo knob; group knobs act on the selected group, or on all groups when none is selected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Knob {
    RateUp,
    RateDown,
    Faster(Option<String>),
    Slower(Option<String>),
    PauseProducers,
    PauseGroup(Option<String>),
    AddMember(Option<String>),
    Crash(Option<String>),
    Leave(Option<String>),
    Idempotent(Option<String>),
    StepMode,
    Step,
    Restart,
}

/// A knob as the side panel offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnobKey {
    /// The action id (and the name in `[keys]`).
    pub id: &'static str,
    /// The key, unless `[keys]` says otherwise.
    pub key: char,
    /// One word, so the list of knobs wraps between knobs, never inside one.
    pub label: &'static str,
    /// The knobs a teacher reaches for first are also in the footer, under this label.
    pub footer: Option<&'static str>,
}

const fn knob(id: &'static str, key: char, label: &'static str, footer: Option<&'static str>) -> KnobKey {
    KnobKey { id, key, label, footer }
}

/// Every knob, in the order the panel and the help overlay list them.
pub const KNOBS: [KnobKey; 13] = [
    knob("demo_faster", '>', "faster-consumers", Some("faster")),
    knob("demo_slower", '<', "slower", None),
    knob("demo_rate_up", '+', "produce-more", None),
    knob("demo_rate_down", '-', "produce-less", None),
    knob("demo_add_member", 'a', "add-member", Some("add member")),
    knob("demo_crash", 'X', "crash-member", Some("crash")),
    knob("demo_leave", 'L', "member-leaves", None),
    knob("demo_pause_producers", 'z', "pause-producers", None),
    knob("demo_pause_group", 'x', "pause-group", None),
    knob("demo_idempotent", 'i', "idempotent-on/off", None),
    knob("demo_step_mode", '.', "step-mode", Some("step")),
    knob("demo_step", 'n', "one-step", None),
    knob(RESTART, 'r', "restart", None),
];

/// The knob that starts the scenario over.
pub const RESTART: &str = "demo_restart";

/// The knobs' action ids, for [`Keymap::with_overrides`](crate::console::keymap::Keymap::with_overrides).
pub fn action_ids() -> Vec<&'static str> {
    KNOBS.iter().map(|k| k.id).collect()
}

impl Knob {
    /// The knob a side-panel key stands for; group knobs act on the group in view (all groups
    /// when none is). None for an id that is not a knob's.
    pub fn from_action(a: &PanelAction) -> Option<Knob> {
        let g = a.group.clone();
        Some(match a.action.as_str() {
            "demo_faster" => Knob::Faster(g),
            "demo_slower" => Knob::Slower(g),
            "demo_rate_up" => Knob::RateUp,
            "demo_rate_down" => Knob::RateDown,
            "demo_add_member" => Knob::AddMember(g),
            "demo_crash" => Knob::Crash(g),
            "demo_leave" => Knob::Leave(g),
            "demo_pause_producers" => Knob::PauseProducers,
            "demo_pause_group" => Knob::PauseGroup(g),
            "demo_idempotent" => Knob::Idempotent(g),
            "demo_step_mode" => Knob::StepMode,
            "demo_step" => Knob::Step,
            RESTART => Knob::Restart,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_knob_key_turns_into_its_knob_and_ids_and_keys_are_unique() {
        let mut ids: Vec<&str> = action_ids();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), KNOBS.len());
        let mut keys: Vec<char> = KNOBS.iter().map(|k| k.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), KNOBS.len());
        for k in KNOBS {
            let a = PanelAction { action: k.id.into(), group: Some("billing".into()) };
            assert!(Knob::from_action(&a).is_some(), "{}", k.id);
        }
        let none = PanelAction { action: "demo_nonesuch".into(), group: None };
        assert_eq!(Knob::from_action(&none), None);
    }
}
