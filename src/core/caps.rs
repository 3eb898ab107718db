//! What an engine can do, so front ends grey out the rest instead of failing.

use super::ResetMode;
use serde::{Deserialize, Serialize};

/// What an engine can do, so front ends grey out the rest instead of failing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Short name of the kind of engine: depot, kafka, nats, redis.
    pub kind: String,
    pub create_topics: bool,
    pub delete_topics: bool,
    /// Topics can have more than one partition.
    pub partitions: bool,
    pub publish: bool,
    pub headers: bool,
    pub peek_by_time: bool,
    pub pull: bool,
    pub commit: bool,
    /// Reset modes supported (in JSON: kafka-consumer-groups' words, to-earliest, ...).
    pub reset_modes: Vec<ResetMode>,
    pub undo: bool,
    pub replay: bool,
    /// Search by the engine (`MessagesApi::search`); every engine scans with its own reads.
    #[serde(default)]
    pub search: bool,
    pub idempotent_producers: bool,
    pub redeliveries: bool,
    /// Sizes in bytes are real (not estimated or missing).
    pub sizes: bool,
    /// Writes are refused (a read-only server or context).
    pub read_only: bool,
}

impl Capabilities {
    /// Everything the depot engine does.
    pub fn depot() -> Capabilities {
        Capabilities {
            kind: "depot".into(),
            create_topics: true,
            delete_topics: true,
            partitions: true,
            publish: true,
            headers: true,
            peek_by_time: true,
            pull: true,
            commit: true,
            reset_modes: ResetMode::ALL.to_vec(),
            undo: true,
            replay: true,
            search: true,
            idempotent_producers: true,
            redeliveries: true,
            sizes: true,
            read_only: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_modes_travel_as_kafka_consumer_groups_words() {
        let json = serde_json::to_value(Capabilities::depot()).unwrap();
        assert_eq!(
            json["reset_modes"],
            serde_json::json!(["to-earliest", "to-latest", "to-offset", "shift-by", "to-datetime", "by-duration"])
        );
        let back: Capabilities = serde_json::from_value(json).unwrap();
        assert_eq!(back, Capabilities::depot());
    }
}
