//! The benchmarks: `bench engine` and `bench http` measure depot's own internals the same way
//! every time; `bench run` runs one workload against any engine — the embedded one, a depot
//! server, Kafka, NATS JetStream, Redis Streams — side by side in one run. (`bench console`
//! is the console's own, `console::bench`.)
//!
//! - [`engine`]: `bench engine` — publish, catch-up read, group commit and open time of the engine
//! - [`http`]: `bench http` — batched publish and long-poll latency through the HTTP API
//! - `run`: `bench run`'s harness — targets, rounds alternating between them, a fresh topic per
//!   target and round (removed after, also on error and ctrl-c); `phases`: one round's phases
//!   (publish, catch-up consume, fixed-rate latency), timed and watched for stalls
//! - `target`: what the harness asks of an engine ([`target::BenchTarget`], its producers and
//!   consumers, and the method it prints); one file per kind: `embedded`, `depot_http`,
//!   `kafka`, `nats`, `redis`
//! - `record`: the records (send time and sequence number in the value) and the tally that
//!   proves each arrived exactly once; `latency`: the fixed schedule and HdrHistogram, corrected
//!   for coordinated omission; `cpu`: CPU use of this process and of `--server-pid`
//! - `report`: results, medians over rounds, ratios to the first target, the JSON; `table`: the
//!   text; `plot`: the SVG (`--plot`); `progress`: bars on a terminal, plain lines elsewhere

mod cpu;
mod depot_http;
mod embedded;
pub mod engine;
pub mod http;
mod kafka;
mod latency;
mod nats;
mod phases;
mod plot;
mod progress;
mod record;
mod redis;
mod report;
pub mod run;
mod table;
pub mod target;
