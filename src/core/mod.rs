//! The vocabulary every layer of depot speaks: plain data types, their rules, and parsing and
//! formatting that cannot panic. The engine, every backend, the server, the CLI and the console
//! use these; `core` itself imports nothing of depot (only std and external crates).
//!
//! - [`topic`]: `TopicConfig` (+ its rules), `TopicInfo`, `PartitionInfo`
//! - [`group`]: `GroupInfo`, `MemberInfo`, `PartitionLag`, `CommitOffset`
//! - [`message`]: binary-safe `Payload`s, `Message`, `OutRecord`, publish, peek and pull requests,
//!   and how a pull is shared over partitions (`fair_shares`)
//! - [`merge`]: a page of every partition merged by time, paged without skipping a record
//! - [`reset`]: `ResetMode` (kafka-consumer-groups' words), `ResetSpec`, plans and records, and
//!   the two-phase target computation every backend uses
//! - [`replay`]: ranges, plans, results and the `depot.origin.*` header names
//! - [`search`]: searching a topic by its engine: requests, bounds, cursors, and the one `Scan`
//!   every backend drives with its own reads
//! - [`caps`]: `Capabilities`, what an engine can do
//! - [`names`]: the topic and group name rule
//! - [`time`]: RFC 3339 and `-15m` parsing, durations, and a formatter for every `i64` of ms
//! - [`format`](mod@format): short sizes, rates and ages for tables; [`table`]: plain-text tables of them
//! - [`error`]: [`Invalid`], the one error core's rules give

pub mod caps;
pub mod error;
pub mod format;
pub mod group;
pub mod merge;
pub mod message;
pub mod names;
pub mod replay;
pub mod reset;
pub mod search;
pub mod table;
pub mod time;
pub mod topic;

pub use caps::Capabilities;
pub use error::Invalid;
pub use group::{CommitOffset, GroupInfo, MemberInfo, PartitionLag};
pub use message::{
    Ack, Header, Message, OutRecord, Payload, PeekFrom, PeekRequest, ProducerTag, PublishRequest, PullRequest,
    PullResult, TOMBSTONE, display_value,
};
pub use replay::{ReplayPlan, ReplayRange, ReplayRequest, ReplayResult, ReplayRow};
pub use reset::{ResetMode, ResetPlan, ResetRecord, ResetRequest, ResetRow, ResetSpec};
pub use search::{GoneRange, HeaderMatch, SearchBound, SearchCursor, SearchRequest, SearchResult};
pub use topic::{PartitionInfo, TopicConfig, TopicInfo};
