//! The demo's knobs: what each key press in the demo panel does to the running simulation.

use super::sim::{Knob, Sim};

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
            Knob::PauseGroup(g) => {
                for gi in self.group_index(g.as_deref()) {
                    self.groups[gi].paused = !self.groups[gi].paused;
                    let msg = format!(
                        "group {} {}",
                        self.groups[gi].spec.name,
                        if self.groups[gi].paused { "paused" } else { "resumed" }
                    );
                    self.say(msg);
                }
            }
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
            Knob::Idempotent(g) => {
                for gi in self.group_index(g.as_deref()) {
                    self.groups[gi].idempotent = !self.groups[gi].idempotent;
                    let msg = format!(
                        "group {} members are {} idempotent",
                        self.groups[gi].spec.name,
                        if self.groups[gi].idempotent { "now" } else { "no longer" }
                    );
                    self.say(msg);
                }
            }
            Knob::StepMode => {
                self.step_mode = !self.step_mode;
                self.say(if self.step_mode { "step mode: n advances one step".into() } else { "running".into() });
            }
            Knob::Step => self.step()?,
            Knob::Restart => self.restart()?,
        }
        Ok(())
    }
}
