//! What every front end talks to. A [`Backend`] is composed of small per-area traits (topics,
//! messages, groups, resets, replays) over `crate::core`'s types, with one implementation per kind
//! of engine: [`embedded`] (the in-process depot engine), [`remote`] (a depot server over HTTP),
//! [`kafka`], [`nats`] and [`redis`] (a folder each, one file per area).
//!
//! - [`open`]: the one factory every front end opens its backend with (a data directory, a
//!   server, a context, or an engine the caller opened)
//! - [`read_only`]: the wrapper that refuses writes, and `Call::writes`, what a write is
//! - [`wire`]: the HTTP API's bodies, shared by the server and [`remote`]
//! - [`context`]: named connections from the config file (kubeconfig-style)
//! - [`support`]: the rules the engines share (checks, reads, plan rows, rates, blocking calls)

pub mod context;
pub mod embedded;
pub mod kafka;
pub mod nats;
pub mod open;
pub mod read_only;
pub mod redis;
pub mod remote;
pub mod support;
pub mod wire;

use crate::core::*;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Why a backend call failed, in terms a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum BackendError {
    /// The topic, group, partition or member does not exist.
    #[error("{0}")]
    NotFound(String),
    /// It already exists, or changed since it was planned.
    #[error("{0}")]
    Conflict(String),
    /// Valid, but not allowed in the current state (live members, backwards commit, read-only).
    #[error("{0}")]
    Refused(String),
    /// The engine cannot be reached or is failing; try again later.
    #[error("{0}")]
    Unavailable(String),
    /// The request itself is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// Missing or wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// This engine cannot do that at all.
    #[error("{0}")]
    Unsupported(String),
    /// Something broke inside the engine (corrupt data, IO error).
    #[error("{0}")]
    Internal(String),
}

impl From<crate::engine::EngineError> for BackendError {
    fn from(e: crate::engine::EngineError) -> Self {
        use crate::engine::EngineError as E;
        let msg = e.to_string();
        match e {
            E::NotFound { .. } => BackendError::NotFound(msg),
            E::AlreadyExists { .. } | E::Conflict(_) | E::IllegalGeneration { .. } => BackendError::Conflict(msg),
            E::InvalidArgument(_) | E::OffsetOutOfRange { .. } => BackendError::BadRequest(msg),
            E::Refused(_) => BackendError::Refused(msg),
            E::Locked { .. } => BackendError::Unavailable(msg),
            E::Corrupt { .. } | E::Io { .. } | E::Failed(_) => BackendError::Internal(msg),
        }
    }
}

impl From<Invalid> for BackendError {
    fn from(e: Invalid) -> Self {
        BackendError::BadRequest(e.0)
    }
}

/// Result of a backend call.
pub type BResult<T> = Result<T, BackendError>;

/// Topics: list, describe, create, delete.
#[async_trait]
pub trait TopicsApi {
    async fn list_topics(&self) -> BResult<Vec<TopicInfo>>;
    async fn describe_topic(&self, name: &str) -> BResult<TopicInfo>;
    async fn create_topic(&self, name: &str, config: TopicConfig) -> BResult<TopicInfo>;
    async fn delete_topic(&self, name: &str) -> BResult<()>;
}

/// Messages: publish, peek (read without committing), fetch one partition with long-poll, search.
#[async_trait]
pub trait MessagesApi {
    async fn publish(&self, topic: &str, req: PublishRequest) -> BResult<Vec<Ack>>;
    async fn peek(&self, topic: &str, req: PeekRequest) -> BResult<Vec<Message>>;
    /// Records of one partition from `offset`; with `wait_ms > 0`, waits that long for new ones.
    async fn fetch(&self, topic: &str, partition: u32, offset: u64, max: usize, wait_ms: u64) -> BResult<Vec<Message>>;
    /// Searches one partition or the whole topic by the engine (key, header, value text or
    /// regex, offsets, time), bounded by matches, bytes scanned and time; the answer says how far
    /// it got, so a second call with its cursors continues.
    async fn search(&self, topic: &str, req: SearchRequest) -> BResult<SearchResult>;
}

/// Consumer groups: describe, pull as a member, commit, delete.
#[async_trait]
pub trait GroupsApi {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>>;
    async fn describe_group(&self, name: &str) -> BResult<GroupInfo>;
    /// Joins the group for one pull (which rebalances it), pulls, commits if asked, and leaves.
    async fn pull(&self, group: &str, req: PullRequest) -> BResult<PullResult>;
    /// Commits offsets for a group with no live members (e.g. after a pull without commit).
    async fn commit(&self, group: &str, offsets: Vec<CommitOffset>) -> BResult<()>;
    async fn delete_group(&self, name: &str) -> BResult<()>;
}

/// Offset resets: plan (dry run), execute, undo, history.
#[async_trait]
pub trait ResetsApi {
    async fn plan_reset(&self, group: &str, req: ResetRequest) -> BResult<ResetPlan>;
    async fn execute_reset(&self, plan: ResetPlan, force: bool) -> BResult<ResetRecord>;
    async fn plan_undo(&self, group: &str) -> BResult<ResetPlan>;
    async fn reset_history(&self, group: &str) -> BResult<Vec<ResetRecord>>;
}

/// Replays: plan, execute.
#[async_trait]
pub trait ReplayApi {
    async fn plan_replay(&self, req: ReplayRequest) -> BResult<ReplayPlan>;
    async fn execute_replay(&self, plan: ReplayPlan) -> BResult<ReplayResult>;
}

/// Everything a front end needs from an engine.
#[async_trait]
pub trait Backend: TopicsApi + MessagesApi + GroupsApi + ResetsApi + ReplayApi + Send + Sync {
    /// What this engine can do.
    async fn capabilities(&self) -> BResult<Capabilities>;
    /// Where this backend points, for titles and errors (e.g. `embedded ~/.local/share/depot`).
    fn target(&self) -> String;
}
