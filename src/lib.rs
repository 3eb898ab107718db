//! # depot
//!
//! A terminal console for message queues, on an embedded durable queue engine.
//!
//! The layout, so a newcomer finds their room:
//!
//! ```text
//! src/main.rs        CLI entry: parses args and runs a verb
//! src/lib.rs         this map
//! src/engine/        the embedded engine (knows nothing of HTTP, terminals or other engines)
//!     record         records and the CRC32C-framed batch format
//!     segment, log   a partition: segments, sparse offset + time indexes, group commit, recovery, retention
//!     topic          topics of N partitions; partitioner (Kafka's murmur2)
//!     group          consumer groups: membership, assignment, committed offsets, redeliveries
//!     reset, replay  offset resets (plan → execute → journal → undo) and replays
//!     journal        small CRC-framed journals (committed offsets, resets)
//!     engine         the façade over a locked data directory
//! src/cli/           the scripting verbs and the benchmark
//! tests/             integration tests (crash recovery, torn tails, concurrency, groups, resets)
//! ```
//!
//! Arrows point one way: `cli` → `engine`. Still to come (see ARCHITECTURE.md): `backend` (one
//! vocabulary over depot, Kafka, NATS and Redis), `server` (HTTP API), `console` (the TUI), `demo`.

pub mod backend;
pub mod cli;
pub mod console;
pub mod engine;
pub mod server;
