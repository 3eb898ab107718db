//! The engine's typed errors. Every variant carries what a person needs to act on it.

use std::path::PathBuf;

/// Result alias used across the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Everything the embedded engine can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A topic, partition, group or member that does not exist.
    #[error("{what} not found{hint}")]
    NotFound { what: String, hint: String },

    /// Creating something that is already there.
    #[error("{what} already exists")]
    AlreadyExists { what: String },

    /// A malformed request: bad name, zero partitions, empty batch, ...
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// Fetching or committing outside the partition's valid range.
    #[error(
        "offset {requested} is out of range for {topic}/{partition}: valid offsets are {start}..{end} (log start .. end)"
    )]
    OffsetOutOfRange { topic: String, partition: u32, requested: u64, start: u64, end: u64 },

    /// Bytes on disk that fail their checksum or framing. Never served.
    #[error("corrupt data in {} at byte {position}: {reason}", file.display())]
    Corrupt { file: PathBuf, position: u64, reason: String },

    /// An IO error, with what the engine was doing when it happened.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// The data directory is held by another process.
    #[error(
        "data directory {} is in use by another depot process (pid {pid}{addr}); stop it, use another --data directory, or connect to it",
        dir.display()
    )]
    Locked { dir: PathBuf, pid: String, addr: String },

    /// A consumer-group member acting on an old generation (after a rebalance).
    #[error(
        "member {member} of group {group} is at generation {given} but the group is at generation {current}: rejoin (or heartbeat) to get the new assignment"
    )]
    IllegalGeneration { group: String, member: String, given: u64, current: u64 },

    /// The engine refuses a valid request in the current state (live members, backwards commit, ...).
    #[error("refused: {0}")]
    Refused(String),

    /// The request conflicts with a change made since it was planned.
    #[error("conflict: {0}")]
    Conflict(String),

    /// An earlier fsync failed; the partition no longer accepts writes (the page cache can't be trusted).
    #[error("{0}")]
    Failed(String),
}

impl EngineError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        EngineError::Io { context: context.into(), source }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        EngineError::NotFound { what: what.into(), hint: String::new() }
    }

    pub(crate) fn not_found_hint(what: impl Into<String>, hint: impl Into<String>) -> Self {
        EngineError::NotFound { what: what.into(), hint: format!("; {}", hint.into()) }
    }
}

impl From<crate::core::Invalid> for EngineError {
    fn from(e: crate::core::Invalid) -> Self {
        EngineError::InvalidArgument(e.0)
    }
}

/// Adds a context string to IO results.
pub(crate) trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| EngineError::io(context(), e))
    }
}
