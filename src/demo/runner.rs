//! Runs a simulation on its own thread in real time (one step per tick), takes knob commands,
//! and reports its status after every step.

use super::knobs::Knob;
use super::panel::DemoPanel;
use super::sim::Sim;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A simulation running on its own thread: its knobs, and the thread (which ends once every
/// sender of knobs is dropped; join it before removing the data directory under it).
pub struct Running {
    pub knobs: Sender<Knob>,
    pub thread: JoinHandle<()>,
}

/// Warms `sim` up and starts its thread. Statuses go to `report`; commands come from the
/// returned sender.
pub fn spawn(mut sim: Sim, report: impl Fn(DemoPanel) + Send + 'static) -> Result<Running, String> {
    let (tx, rx) = std::sync::mpsc::channel::<Knob>();
    let warmup = (sim.scenario.warmup_s * 1000.0) as u64 / sim.scenario.tick_ms.max(1);
    for _ in 0..warmup {
        sim.step()?;
    }
    report(sim.status());
    let thread = std::thread::Builder::new()
        .name("depot-demo".into())
        .spawn(move || run(&mut sim, &rx, &report))
        .map_err(|e| format!("cannot start the demo thread: {e}"))?;
    Ok(Running { knobs: tx, thread })
}

fn run(sim: &mut Sim, rx: &Receiver<Knob>, report: &dyn Fn(DemoPanel)) {
    let tick = Duration::from_millis(sim.scenario.tick_ms);
    let mut next = Instant::now() + tick;
    loop {
        let wait =
            if sim.step_mode { Duration::from_secs(3600) } else { next.saturating_duration_since(Instant::now()) };
        match rx.recv_timeout(wait) {
            Ok(cmd) => {
                if let Err(e) = sim.command(cmd) {
                    tracing::error!("demo: {e}");
                }
                report(sim.status());
                next = next.max(Instant::now());
            }
            Err(RecvTimeoutError::Timeout) => {
                if !sim.step_mode {
                    if let Err(e) = sim.step() {
                        tracing::error!("demo step failed: {e}");
                    }
                    report(sim.status());
                    next += tick;
                    // Behind by more than a second (a slow machine): don't try to catch up in a burst.
                    if Instant::now() > next + Duration::from_secs(1) {
                        next = Instant::now() + tick;
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
