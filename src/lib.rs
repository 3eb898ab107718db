//! # depot
//!
//! A terminal console for message queues, on an embedded durable queue engine.
//!
//! The layout, so a newcomer finds their room:
//!
//! ```text
//! src/main.rs        CLI entry: parses args, sets up logging, runs a verb or the console
//! src/lib.rs         this map
//! src/core/          the vocabulary every layer speaks (imports nothing of depot)
//!     topic, group   topic settings and descriptions; groups, members, lag, committed offsets
//!     message        binary-safe payloads, messages, publish / peek / pull requests
//!     reset, replay  ResetMode (kafka-consumer-groups' words), plans, two-phase reset targets;
//!                    replay ranges and the depot.origin.* headers
//!     caps, names    Capabilities; the topic and group name rule
//!     time, format   time parsing and formatting that cannot panic; sizes, rates, ages
//! src/engine/        the embedded engine (knows nothing of HTTP, terminals or other engines)
//!     engine         the façade: open (lock, load), flush, close, the maintenance thread; one
//!                    file per area of its API: lock, topics, produce, fetch, groups, consume,
//!                    resets (plan → execute → journal → undo), replay
//!     clock          the Clock it reads: SystemClock, or ManualClock for tests and the demo
//!     record         records and the CRC32C-framed batch format
//!     segment, log   a partition: segments with sparse offset + time indexes; append, roll,
//!                    retention (log), group commit (sync), reads (read), recovery, checkpoint;
//!                    sealed (whole and contiguous), log_start, fds (an LRU of sealed handles)
//!     delete         crash-safe topic deletion: graves, finished on open
//!     topic          topics of N partitions; partitioner (Kafka's murmur2)
//!     assignor, membership  range / round-robin assignment; a group's plain state
//!     offsets, journal      committed offsets and resets journaled (small CRC-framed journals)
//!     producer, rate        idempotent-producer state; per-second rate meters
//!     storage/       every file operation: the Storage trait (mod), the real file system (fs),
//!                    SimStorage (sim/: an in-memory disk with power loss and injected faults)
//! src/backend/       the Backend trait family every front end speaks (in core's types); embedded
//!                    (in-process engine), remote (a depot server over HTTP), kafka, nats, redis
//! src/server/        axum HTTP API over a Backend: /v1, /healthz, /metrics, OpenAPI
//! src/console/       the TUI: state, pure update, views, driver, theme, keymap, Burrow health
//! src/demo/          workshop scenarios: simulated producers and consumers on the real engine
//! src/cli/           the scripting verbs, `serve`, the console launcher, the benchmarks
//! themes/            colour themes (dark is embedded); assets/scenarios/: the demo scenarios
//! tests/             integration tests: crash recovery, the backend conformance suite (embedded
//!                    and remote), server, CLI, console (update, snapshots, tmux), demo
//! ```
//!
//! Arrows point one way: `cli`, `console`, `server` → `backend` → `engine` → `core`, and every
//! layer may use `core`; nothing imports `cli`. `demo` drives the engine directly (its simulated
//! members need the engine's group protocol) and speaks the console's knob and panel types. The
//! console never touches the engine, only a `Backend`.

pub mod backend;
pub mod cli;
pub mod console;
pub mod core;
pub mod demo;
pub mod engine;
pub mod server;
