//! The embedded, durable queue engine. Knows nothing of HTTP, terminals or other engines.
//!
//! The façade, [`Engine`], is one `impl` block per area, each in its own file:
//! - [`engine`]: `Engine` itself — open (lock, load topics and groups), flush, close, the
//!   maintenance thread (interval fsyncs, session expiry, retention)
//! - [`lock`]: the data directory's lock file (`depot.lock`: pid, served address), `lock_holder`
//! - [`topics`]: create / delete / list / describe topics, the key partitioner, retention,
//!   delete_records (Kafka's DeleteRecords: the log start moved)
//! - [`produce`]: append (idempotent with producer id + sequence, and Kafka's epochs), publish,
//!   producer ids
//! - [`fetch`]: fetch, long-poll fetch, offset for a time, the partition log for async waits
//! - [`search`]: a bounded search of a topic in the read path (core's `Scan` over the logs)
//! - [`groups`]: join, heartbeat, leave, session expiry, describe / list / delete groups, lag
//! - [`classic_groups`]: client-assigned groups (Kafka's classic group protocol): join phases,
//!   sync, heartbeat, leave, commits checked against owner and generation
//! - [`consume`]: poll, long-poll, commits (only forward), commit delivered, seek to committed
//! - [`resets`]: plan, execute (journaled), undo and history of offset resets
//! - [`replay`]: plan and execute replays (copies with `depot.origin.*` headers)
//!
//! What it is built from:
//! - [`clock`]: the `Clock` the engine reads (system, or manual for tests and the demo)
//! - [`config`]: engine settings and sync modes
//! - [`record`]: records and the CRC32C-framed batch format on disk
//! - [`segment`]: one segment file with its sparse offset and time indexes; [`frames`]: reading
//!   its CRC-checked batches in order
//! - [`log`]: one partition — state and write path (append, roll, retention, delete_records, close);
//!   [`sync`]: group commit and flush; [`read`]: reads, long-poll reads, lookups by time;
//!   [`recovery`]: opening segments, torn-tail truncation, fail-closed on damage;
//!   [`checkpoint`]: the checkpoint file format
//!   [`sealed`]: opening a sealed segment (whole to its last batch, contiguous with the next);
//!   [`log_start`]: the persisted log start (a segment's base, or inside the first segment after
//!   delete_records); [`fds`]: the bounded cache of open sealed segments
//! - [`delete`]: crash-safe topic deletion (graves, finished on open)
//! - [`producer`]: producer-id state for idempotent appends (each producer's last batches per
//!   partition, the sequence and epoch checks); [`producer_epochs`]: a partition's journal of
//!   where a Kafka producer's epoch changed; [`producer_ids`]: the persisted counter of the
//!   producer ids handed out to Kafka producers
//! - [`topic`], [`partitioner`]: a topic of N partitions (`topic.json`); Kafka's murmur2 partitioner
//! - [`assignor`]: range and round-robin assignment of partitions to members
//! - [`membership`]: a group's plain state — members, generations, positions, redeliveries;
//!   [`classic`]: the client-assigned kind's state machine (join barrier, leader, sync, timeouts)
//! - [`offsets`]: the committed-offsets and reset journals and the groups they rebuild
//! - [`journal`]: small CRC-framed journals
//! - [`storage`]: every file operation goes through its `Storage` trait: the real file system,
//!   or `SimStorage` (power loss and injected faults, for the fault tests); [`files`]: the file
//!   steps the engine's files share (fsync a directory, write or replace a file durably, remove
//!   a leftover)
//! - [`rate`]: per-second rate meters on the engine's clock
//! - [`error`]: the engine's typed errors
//!
//! The descriptions it hands out (topics, groups, lag, reset and replay plans) are `crate::core`'s.

pub mod assignor;
pub mod checkpoint;
pub mod classic;
pub mod classic_groups;
pub mod clock;
pub mod config;
pub mod consume;
pub mod delete;
#[allow(clippy::module_inception)]
pub mod engine;
pub mod error;
pub mod fds;
pub mod fetch;
pub mod files;
pub mod frames;
pub mod groups;
pub mod journal;
pub mod lock;
pub mod log;
pub mod log_start;
pub mod membership;
pub mod offsets;
pub mod partitioner;
pub mod produce;
pub mod producer;
pub mod producer_epochs;
pub mod producer_ids;
pub mod rate;
pub mod read;
pub mod record;
pub mod recovery;
pub mod replay;
pub mod resets;
pub mod sealed;
pub mod search;
pub mod segment;
pub mod storage;
pub mod sync;
pub mod topic;
pub mod topics;

#[cfg(test)]
mod format_tests;

pub use assignor::Assignor;
pub use classic::{Assignment, ClassicError, JoinAnswer, Joining, Phase};
pub use classic_groups::{ClassicJoin, ClassicMemberView, ClassicView, JoinStep, Wait};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{EngineConfig, SyncMode};
pub use consume::Delivery;
pub use engine::Engine;
pub use error::{EngineError, Result};
pub use groups::JoinRequest;
pub use lock::lock_holder;
pub use log::Appended;
pub use membership::Membership;
pub use record::{NewRecord, Record};
