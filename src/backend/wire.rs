//! The HTTP API's bodies, shared by the server (`crate::server`) and its client
//! ([`super::remote`]): request bodies that are not core types, the envelopes of answers, and the
//! error body every failure is answered with.

use super::BackendError;
use crate::core::{Ack, CommitOffset, Message, ReplayPlan, ResetPlan, TopicConfig};
use serde::{Deserialize, Serialize};

/// The JSON body of every error the server returns.
#[derive(Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: BackendError,
}

/// `POST /v1/topics`: a topic's name and settings.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTopic {
    pub name: String,
    #[serde(default = "one")]
    pub partitions: u32,
    #[serde(default)]
    pub retention_ms: Option<u64>,
    #[serde(default)]
    pub retention_bytes: Option<u64>,
    #[serde(default)]
    pub segment_bytes: Option<u64>,
}

fn one() -> u32 {
    1
}

impl CreateTopic {
    pub fn new(name: &str, config: &TopicConfig) -> CreateTopic {
        CreateTopic {
            name: name.to_string(),
            partitions: config.partitions,
            retention_ms: config.retention_ms,
            retention_bytes: config.retention_bytes,
            segment_bytes: config.segment_bytes,
        }
    }

    /// The topic's settings.
    pub fn config(&self) -> TopicConfig {
        TopicConfig {
            partitions: self.partitions,
            retention_ms: self.retention_ms,
            retention_bytes: self.retention_bytes,
            segment_bytes: self.segment_bytes,
        }
    }
}

/// `POST /v1/groups/{group}/commit`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commit {
    pub offsets: Vec<CommitOffset>,
}

/// `POST /v1/groups/{group}/resets/execute`: a plan as planned, and whether to force it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecuteReset {
    pub plan: ResetPlan,
    #[serde(default)]
    pub force: bool,
}

/// `POST /v1/replays/execute`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecuteReplay {
    pub plan: ReplayPlan,
}

/// The answer to a publish: one acknowledgement per record, in order.
#[derive(Debug, Serialize, Deserialize)]
pub struct Acks {
    pub acks: Vec<Ack>,
}

/// The answer to a peek or fetch.
#[derive(Debug, Serialize, Deserialize)]
pub struct Messages {
    pub messages: Vec<Message>,
}
