//! The embedded, durable queue engine. Knows nothing of HTTP, terminals or other engines.
//!
//! - [`record`]: records and the CRC32C-framed batch format on disk
//! - [`segment`], [`log`]: one partition = segments + sparse offset/time indexes, group commit, recovery
//! - [`topic`], [`partitioner`]: topics of N partitions; Kafka's murmur2 key partitioner
//! - [`group`]: consumer groups — membership, assignment, committed offsets, redeliveries
//! - [`engine`]: the façade that ties them to a locked data directory, and plans and runs offset
//!   resets (plan, execute, journal, undo) and replays
//!
//! The descriptions it hands out (topics, groups, lag, reset and replay plans) are `crate::core`'s.

pub mod config;
#[allow(clippy::module_inception)]
pub mod engine;
pub mod error;
pub mod group;
pub mod journal;
pub mod log;
pub mod partitioner;
pub mod producer;
pub mod rate;
pub mod record;
pub mod segment;
pub mod topic;

pub use config::{EngineConfig, SyncMode};
pub use engine::{Delivery, Engine, JoinRequest, lock_holder};
pub use error::{EngineError, Result};
pub use group::{Assignor, Membership};
pub use log::Appended;
pub use record::{NewRecord, Record};
