//! Workshop mode: scenarios that make lag, redelivery and rebalancing visible, with simulated
//! producers and consumers that are real clients of the embedded engine.
//!
//! - [`scenario`]: the scenario file format and the built-in scenarios
//! - [`sim`]: the simulation (a simulated clock, stepped) and its knobs
//! - [`runner`]: runs a simulation beside the console in real time
//! - [`launch`]: `depot demo`: lists the scenarios, runs one headless, or in the console

pub mod launch;
pub mod runner;
pub mod scenario;
pub mod sim;
