//! Workshop mode: scenarios that make lag, redelivery and rebalancing visible, with simulated
//! producers and consumers that are real clients of the embedded engine.
//!
//! - [`scenario`]: the scenario file format and the built-in scenarios
//! - [`sim`]: the simulation (a simulated clock, stepped; the engine can run on it)
//! - [`knobs`]: what each knob does to a running simulation
//! - [`panel`]: the narration panel it shows beside the console
//! - [`runner`]: runs a simulation beside the console in real time

pub mod knobs;
pub mod panel;
pub mod runner;
pub mod scenario;
pub mod sim;
