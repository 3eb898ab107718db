//! The demo's knobs: what each does to the simulation ([`Knob`]), and its key, label and action
//! id in the console's side panel. A press there arrives as a [`PanelAction`] (the action id and
//! the group in view); [`Knob::from_action`] turns it back into a knob. The ids are also the
//! knobs' names in the config file's `[keys]` table (`demo_faster = [">"]`).

use super::sim::{Sim, SimGroup};
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
    /// Hides or shows the narration in the side panel (room for the counters and the log).
    Narration,
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
pub const KNOBS: [KnobKey; 14] = [
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
    knob("demo_narration", 'h', "narration-on/off", Some("narration")),
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
            "demo_narration" => Knob::Narration,
            _ => return None,
        })
    }
}

impl Sim {
    /// Applies a knob.
    pub fn command(&mut self, cmd: Knob) -> Result<(), String> {
        match cmd {
            Knob::RateUp | Knob::RateDown => {
                let f = if cmd == Knob::RateUp { 2.0 } else { 0.5 };
                for i in 0..self.producers.len() {
                    self.producers[i].rate = (self.producers[i].rate * f).clamp(0.1, 100_000.0);
                    let msg =
                        format!("producer {} now sends {:.1}/s", self.producers[i].spec.name, self.producers[i].rate);
                    self.say(msg);
                }
            }
            Knob::Faster(ref g) | Knob::Slower(ref g) => {
                let faster = matches!(cmd, Knob::Faster(_));
                for gi in self.group_index(g.as_deref()) {
                    let grp = &mut self.groups[gi];
                    grp.process_ms =
                        if faster { grp.process_ms / 2.0 } else { grp.process_ms * 2.0 }.clamp(0.5, 60_000.0);
                    let msg = format!("group {} now needs {:.0} ms per record", grp.spec.name, grp.process_ms);
                    self.say(msg);
                }
            }
            Knob::PauseProducers => {
                let paused = !self.producers.iter().all(|p| p.paused);
                for p in &mut self.producers {
                    p.paused = paused;
                }
                self.say(if paused { "producers paused".into() } else { "producers resumed".into() });
            }
            Knob::PauseGroup(g) => self.toggle(
                g.as_deref(),
                |grp| &mut grp.paused,
                |name, paused| format!("group {name} {}", if paused { "paused" } else { "resumed" }),
            ),
            Knob::AddMember(g) => {
                if let Some(&gi) = self.group_index(g.as_deref()).first() {
                    self.join(gi)?;
                    let msg = format!("a member joined {}", self.groups[gi].spec.name);
                    self.say(msg);
                }
            }
            Knob::Crash(g) => {
                if let Some(&gi) = self.group_index(g.as_deref()).first() {
                    self.crash(gi)?;
                }
            }
            Knob::Leave(g) => {
                if let Some(&gi) = self.group_index(g.as_deref()).first() {
                    self.leave(gi)?;
                }
            }
            Knob::Idempotent(g) => self.toggle(
                g.as_deref(),
                |grp| &mut grp.idempotent,
                |name, on| format!("group {name} members are {} idempotent", if on { "now" } else { "no longer" }),
            ),
            Knob::StepMode => {
                self.step_mode = !self.step_mode;
                self.say(if self.step_mode { "step mode: n advances one step".into() } else { "running".into() });
            }
            Knob::Step => self.step()?,
            Knob::Restart => self.restart()?,
            Knob::Narration => self.narration_shown = !self.narration_shown,
        }
        Ok(())
    }

    /// Flips a flag of the group `g` (of every group when none is named), saying each new state.
    fn toggle(&mut self, g: Option<&str>, flag: fn(&mut SimGroup) -> &mut bool, said: fn(&str, bool) -> String) {
        for gi in self.group_index(g) {
            let grp = &mut self.groups[gi];
            let on = !*flag(grp);
            *flag(grp) = on;
            let msg = said(&grp.spec.name, on);
            self.say(msg);
        }
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
