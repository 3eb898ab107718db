//! The narration panel: what the simulation shows beside the console (producers, groups, the
//! latest events).

use super::sim::{DemoPanel, Sim};

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
        }
    }
}
