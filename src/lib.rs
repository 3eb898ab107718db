//! # depot
//!
//! A terminal console for message queues, on an embedded durable queue engine.
//!
//! The layout, so a newcomer finds their room:
//!
//! ```text
//! src/main.rs        the binary: parses args, sets up logging, hands the command to the console's,
//!                    the demo's or the console benchmark's launcher, or to the CLI's verbs
//! src/lib.rs         this map
//! src/config.rs      the user's config file, read once: theme, refresh, keys (the console's),
//!                    contexts (the backends'); imports nothing of depot
//! src/core/          the vocabulary every layer speaks (imports nothing of depot)
//!     topic, group   topic settings and descriptions; groups, members, lag, committed offsets
//!     message        binary-safe payloads, messages, publish / peek / pull requests, and how
//!                    a pull shares out over partitions (fair_shares)
//!     reset, replay  ResetMode (kafka-consumer-groups' words), plans, two-phase reset targets;
//!                    replay ranges and the depot.origin.* headers
//!     search         bounded search requests, cursors, and the one Scan every engine drives
//!     caps, names    Capabilities; the topic and group name rule
//!     time, format   time parsing and formatting that cannot panic; sizes, rates, ages
//!     table, error   plain-text tables (the CLI's listings, the demo's scenario list); Invalid
//! src/engine/        the embedded engine (knows nothing of HTTP, terminals or other engines)
//!     engine         the façade: open (lock, load), flush, close, the maintenance thread; one
//!                    file per area of its API: lock, topics, produce, fetch, search, groups, consume,
//!                    resets (plan → execute → journal → undo), replay
//!     clock, config  the Clock it reads (SystemClock, or ManualClock for tests and the demo);
//!                    engine settings and sync modes
//!     record         records and the CRC32C-framed batch format (version 2 written, 1 read)
//!     segment, log   a partition: segments with sparse offset + time indexes; append, roll,
//!                    retention (log), group commit (sync), reads (read), recovery, checkpoint;
//!                    sealed (whole and contiguous), log_start, fds (an LRU of sealed handles)
//!     delete         crash-safe topic deletion: graves, finished on open
//!     topic          topics of N partitions; partitioner (Kafka's murmur2)
//!     assignor, membership  range / round-robin assignment; a group's plain state
//!     classic, classic_groups  client-assigned groups (Kafka's classic group protocol)
//!     offsets, journal      committed offsets and resets journaled (small CRC-framed journals)
//!     producer, rate        idempotent-producer state (producer_epochs: a partition's Kafka epochs;
//!                           producer_ids: the persisted id counter); per-second rate meters
//!     error, files   the engine's typed errors; the file steps its files share (fsync a
//!                    directory, write or replace a small file durably, remove a leftover)
//!     storage/       every file operation: the Storage trait (mod), the real file system (fs),
//!                    SimStorage (sim/: an in-memory disk with power loss and injected faults)
//! src/backend/       the Backend trait family every front end speaks (in core's types)
//!     open           the one factory: a data directory, a server, a context or an engine → a Backend
//!     read_only      the wrapper that refuses writes, and `Call::writes`: what a write is
//!     embedded       the in-process engine; remote: a depot server over HTTP (wire: its bodies)
//!     kafka/ nats/ redis/  one file per area: conn, codec, topics, messages, groups, resets, replay
//!     support/       the rules the engines share: checks, reads, plan rows, rates, blocking calls
//!     context        named connections from the config file (kubeconfig-style)
//! src/server/        axum HTTP API over a Backend: /v1 (routes, guard, handlers), /healthz,
//!                    error, metrics (/metrics), openapi; the accept loop on hyper (listen,
//!                    conns), limits, waiters (a cap on waiting requests, shutdown as seen by one),
//!                    budget (the memory for request bodies)
//!     kafka/         the Kafka wire protocol on the engine (--kafka-listen): listener, frame,
//!                    dispatch (the table of API groups), errors, versions, metadata, produce
//!                    (its decompression bounded: decompress), fetch, offsets (ListOffsets),
//!                    producer (InitProducerId, idempotent produce), sasl (SASL/PLAIN for
//!                    --token), admin (CreateTopics, DeleteTopics, DeleteRecords), groups/ (the
//!                    classic group protocol: coordinator, join, sync, membership, commits,
//!                    listing)
//! src/console/       the TUI: msg, effect, state (in parts), a pure update (by area), dialogs/
//!                    (one file per dialog: open, keys, submit, draw), typed forms, layout,
//!                    views, the side-panel hook, driver, theme, keymap, Burrow health
//!                    (verdicts with their reasons, over a window of samples);
//!                    launch (`depot` with no verb), bench (`depot bench console`)
//! src/demo/          workshop scenarios: simulated producers and consumers on the real engine,
//!                    their knobs and narration, shown through the console's side-panel hook;
//!                    the simulated consumers (consumers), launch (`depot demo`), the signals
//!                    that end it (stop)
//! src/cli/           the scripting verbs and `serve`, their arguments (args)
//!     bench/         `bench run` (one workload on the embedded engine, a depot server, Kafka, NATS
//!                    and Redis side by side: harness, phases, one file per target kind, records and
//!                    their tally, latency, CPU, report, table, plot, progress); `bench engine`,
//!                    `bench http`
//! themes/            colour themes (dark is embedded); assets/scenarios/: the demo scenarios
//! src/fuzzing/       hooks for the fuzz targets (hidden): damaged data directories on a simulated
//!                    disk, HTTP bodies through the router, batches and TOML files, console keys
//! fuzz/              the cargo-fuzz crate (outside this package): one target per hook, seeds
//! tests/             integration tests: crash recovery, the backend conformance suite (embedded
//!                    and remote), read-only on every backend, server, CLI, console (update,
//!                    snapshots, tmux), demo, bench (`bench run` as a real binary)
//! ```
//!
//! Arrows point one way: `cli`, `console`, `server`, `demo` → `backend` → `engine` → `core`, and
//! every layer may use `core`; nothing imports `cli`, `cli` does not import `console`, `server`
//! does not import `cli`. Every front end opens its backend through `backend::open`, except
//! `server::kafka`, which drives the engine itself (Kafka's APIs need raw batches and append
//! events). `demo` drives the engine directly (its simulated members need the engine's group protocol) and fills the
//! console's side-panel hook (`demo` → `console`; the console never imports `demo`). The console
//! never touches the engine, only a `Backend` (its launcher serves the HTTP API beside the engine
//! it opened, through `Opened`).

/// What a launcher (`console::launch::run`, `demo::launch::run`, `cli::run`) hands the binary:
/// its whole run as one boxed future. Boxed in the library, the run's state machine is compiled
/// here, once; awaited straight from `src/main.rs`, it was compiled again in the binary, in one
/// codegen unit (about 20 s of every release build, at the end of its critical path).
pub type Launch = std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>>>>;

pub mod backend;
pub mod cli;
pub mod config;
pub mod console;
pub mod core;
pub mod demo;
pub mod engine;
#[doc(hidden)]
pub mod fuzzing;
pub mod server;
