//! Workshop mode: scenarios that make lag, redelivery and rebalancing visible, with simulated
//! producers and consumers that are real clients of the embedded engine, shown by the console
//! through its side-panel hook.
//!
//! - [`scenario`]: the scenario file format and the built-in scenarios
//! - [`sim`]: the simulation (a simulated clock, stepped; the engine can run on it)
//! - [`consumers`]: the simulated group members (poll, process, commit, crash, leave)
//! - [`knobs`]: the knobs, their keys, the side panel's action ids, and what each does to a running simulation
//! - [`panel`]: what the console's side panel shows of a running demo, and the link to it
//! - [`runner`]: runs a simulation beside the console in real time
//! - [`launch`]: `depot demo`: lists the scenarios, runs one headless, or in the console
//! - [`stop`]: the signals that end a demo (so its temporary data directory is removed)

pub mod consumers;
pub mod knobs;
pub mod launch;
pub mod panel;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod stop;
