//! The demo in the console's side panel: what the simulation reports after every step
//! ([`DemoPanel`], from [`Sim::status`]), the [`SidePanel`] the console draws from it (narration,
//! producers and groups, recent events, the knobs), and the link that runs the simulation beside
//! the console.

use super::knobs::{KNOBS, Knob, RESTART};
use super::runner;
use super::scenario::EventAction;
use super::sim::{Member, Sim, SimGroup};
use crate::console::driver::PanelLink;
use crate::console::keymap::Key;
use crate::console::panel::{PanelAction, PanelKey, PanelMark, SidePanel};
use std::thread::JoinHandle;

/// What the narration panel shows (sent by the simulation after every step).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoPanel {
    pub name: String,
    pub title: String,
    /// Empty while the narration is hidden (the `h` knob).
    pub narration: String,
    /// Simulated seconds since the scenario started.
    pub t_s: f64,
    pub step_mode: bool,
    /// Producers and groups, one line each.
    pub lines: Vec<String>,
    /// Recent events, newest first.
    pub log: Vec<String>,
    /// Groups paused with the `x` knob.
    pub paused_groups: Vec<String>,
    /// Records worth pointing at in the Messages view (what the consumer bug dropped).
    pub marks: Vec<PanelMark>,
}

/// Log entries sent to the panel (it shows as many as fit).
const LOG_SHOWN: usize = 8;

fn members(n: usize) -> String {
    if n == 1 { "1 member".into() } else { format!("{n} members") }
}

impl Sim {
    /// The narration panel's content.
    pub fn status(&self) -> DemoPanel {
        let mut lines = Vec::new();
        for p in &self.producers {
            let paused = if p.paused { " (paused)" } else { "" };
            lines.push(format!("{} → {} · {:.1}/s{paused} · sent {}", p.spec.name, p.spec.topic, p.rate, p.sent));
        }
        lines.extend(self.groups.iter().map(|g| self.group_line(g)));
        let mut marks = Vec::new();
        for g in self.groups.iter().filter(|g| g.spec.drop_between.is_some()) {
            for (partition, from, to) in g.dropped_runs() {
                let label = format!("dropped by {}", g.spec.name);
                marks.push(PanelMark { topic: g.spec.topic.clone(), partition, from, to, label });
            }
        }
        DemoPanel {
            name: self.scenario.name.clone(),
            title: self.scenario.title.clone(),
            narration: if self.narration_shown { self.scenario.narration.trim().to_string() } else { String::new() },
            t_s: self.t_ms as f64 / 1000.0,
            step_mode: self.step_mode,
            lines,
            log: self.log.iter().rev().take(LOG_SHOWN).cloned().collect(),
            paused_groups: self.groups.iter().filter(|g| g.paused).map(|g| g.spec.name.clone()).collect(),
            marks,
        }
    }

    /// A group's counters: members and their speed, what was applied (and by whom, when the
    /// work is shared), duplicates where a crash can cause them, what the bug dropped, poison
    /// failures.
    fn group_line(&self, g: &SimGroup) -> String {
        let live: Vec<&Member> = g.members.iter().filter(|m| m.crashed_at.is_none()).collect();
        let crashed = g.members.len() - live.len();
        let mut line = format!("{}: {} × {:.1}/s", g.spec.name, members(live.len()), 1000.0 / g.process_ms);
        if crashed > 0 {
            line.push_str(&format!(" + {crashed} crashed"));
        }
        if g.paused {
            line.push_str(" (paused)");
        }
        line.push_str(&format!(" · applied {}", g.applied));
        if live.len() > 1 {
            let each: Vec<String> = live.iter().map(|m| m.processed.to_string()).collect();
            line.push_str(&format!(" = {}", each.join(" + ")));
        }
        // Where a crash is on the programme, duplicates are counted from the start: the room
        // watches the number move.
        let crashes = self
            .scenario
            .events
            .iter()
            .any(|e| matches!(&e.action, EventAction::Crash { group } if *group == g.spec.name));
        if crashes || g.duplicates > 0 || g.lost_in_crashes > 0 {
            line.push_str(&format!(" · duplicates {}", g.duplicates));
        }
        if g.spec.drop_between.is_some() {
            line.push_str(&format!(" · dropped {}{}", g.dropped, if g.fixed { " (bug fixed)" } else { "" }));
        }
        if g.failures > 0 {
            line.push_str(&format!(" · failed attempts {}", g.failures));
        }
        if g.idempotent {
            line.push_str(" · idempotent");
        }
        line
    }
}

/// The console's side panel for a demo's state.
pub fn side_panel(d: &DemoPanel) -> SidePanel {
    let step = if d.step_mode { " · STEP MODE (n steps, . resumes)" } else { "" };
    SidePanel {
        title: format!("demo {} · t = {:.1}s{step}", d.name, d.t_s),
        narration: d.narration.clone(),
        lines: d.lines.clone(),
        log: d.log.clone(),
        keys: KNOBS
            .iter()
            .map(|k| PanelKey {
                key: Key::char(k.key),
                label: k.label.into(),
                action: k.id.into(),
                footer: k.footer.map(String::from),
                restarts: k.id == RESTART,
            })
            .collect(),
        keys_title: "demo knobs (group knobs act on the group in view, else all):".into(),
        clock_ms: Some((d.t_s * 1000.0).round() as u64),
        paused_groups: d.paused_groups.clone(),
        marks: d.marks.clone(),
    }
}

/// Starts the scenario beside the console: its reports become the side panel, the panel's keys
/// turn its knobs. The thread it runs on ends once the link is dropped.
pub fn link(sim: Sim) -> Result<(PanelLink, JoinHandle<()>), String> {
    let (panel_tx, panels) = tokio::sync::mpsc::unbounded_channel::<SidePanel>();
    let running = runner::spawn(sim, move |st| {
        let _ = panel_tx.send(side_panel(&st));
    })?;
    let knobs = running.knobs;
    let actions = Box::new(move |a: PanelAction| {
        if let Some(k) = Knob::from_action(&a) {
            let _ = knobs.send(k);
        }
    });
    Ok((PanelLink { actions, panels }, running.thread))
}
