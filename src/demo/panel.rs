//! The demo in the console's side panel: what the simulation reports after every step
//! ([`DemoPanel`], from [`Sim::status`]), the [`SidePanel`] the console draws from it (narration,
//! producers and groups, recent events, the knobs), and the link that runs the simulation beside
//! the console.

use super::knobs::{KNOBS, Knob, RESTART};
use super::runner;
use super::sim::Sim;
use crate::console::driver::PanelLink;
use crate::console::keymap::Key;
use crate::console::panel::{PanelAction, PanelKey, SidePanel};
use std::thread::JoinHandle;

/// What the narration panel shows (sent by the simulation after every step).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoPanel {
    pub name: String,
    pub title: String,
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
}

impl Sim {
    /// The narration panel's content.
    pub fn status(&self) -> DemoPanel {
        let mut lines = Vec::new();
        for p in &self.producers {
            lines.push(format!(
                "producer {} → {}: {:.1}/s{}, sent {}",
                p.spec.name,
                p.spec.topic,
                p.rate,
                if p.paused { " (paused)" } else { "" },
                p.sent
            ));
        }
        for g in &self.groups {
            let live = g.members.iter().filter(|m| m.crashed_at.is_none()).count();
            let mut line = format!(
                "group {}: {live} member(s) × {:.1}/s{}, applied {}",
                g.spec.name,
                1000.0 / g.process_ms,
                if g.paused { " (paused)" } else { "" },
                g.applied
            );
            if g.duplicates > 0 || g.lost_in_crashes > 0 {
                line.push_str(&format!(", duplicates {}", g.duplicates));
            }
            if g.spec.drop_between.is_some() {
                line.push_str(&format!(", dropped {}{}", g.dropped, if g.fixed { " (bug fixed)" } else { "" }));
            }
            if g.failures > 0 {
                line.push_str(&format!(", failed attempts {}", g.failures));
            }
            line.push_str(if g.idempotent { ", idempotent" } else { "" });
            lines.push(line);
        }
        DemoPanel {
            name: self.scenario.name.clone(),
            title: self.scenario.title.clone(),
            narration: self.scenario.narration.trim().to_string(),
            t_s: self.t_ms as f64 / 1000.0,
            step_mode: self.step_mode,
            lines,
            log: self.log.iter().rev().take(5).cloned().collect(),
            paused_groups: self.groups.iter().filter(|g| g.paused).map(|g| g.spec.name.clone()).collect(),
        }
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
