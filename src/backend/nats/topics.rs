//! Topics are streams: listed, described (with a measured append rate), created with the topic's
//! name as their only subject, and deleted.

use super::Nats;
use super::codec::{check_name, check_new_name, nanos, offsets};
use super::conn::{code, js_error};
use crate::backend::{BResult, BackendError, TopicsApi};
use crate::core::{PartitionInfo, TopicConfig, TopicInfo};
use async_nats::jetstream::{self, stream};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::time::Duration;

/// first subject without wildcards.
pub(super) fn publish_subject(info: &stream::Info) -> BResult<String> {
    let c = &info.config;
    if let Some(m) = &c.mirror {
        return Err(BackendError::Unsupported(format!(
            "stream {} is a mirror of {}: JetStream takes no publishes into a mirror; publish to {} instead",
            c.name, m.name, m.name
        )));
    }
    if c.subjects.is_empty() || c.subjects.iter().any(|s| s == &c.name) {
        return Ok(c.name.clone());
    }
    let literal = |s: &&String| s.split('.').all(|t| t != "*" && t != ">");
    match c.subjects.iter().find(literal) {
        Some(s) => Ok(s.clone()),
        None => Err(BackendError::Unsupported(format!(
            "stream {} takes only wildcard subjects ({}); depot publishes to one literal subject of a stream — publish with the nats tool to a matching subject instead",
            c.name,
            c.subjects.join(", ")
        ))),
    }
}

fn topic_info(info: &stream::Info, rate_in: f64) -> TopicInfo {
    let c = &info.config;
    let (log_start, end_offset) = offsets(&info.state);
    TopicInfo {
        name: c.name.clone(),
        config: TopicConfig {
            partitions: 1,
            retention_ms: (!c.max_age.is_zero()).then_some(c.max_age.as_millis() as u64),
            retention_bytes: (c.max_bytes > 0).then_some(c.max_bytes as u64),
            segment_bytes: None,
        },
        partitions: vec![PartitionInfo {
            partition: 0,
            log_start,
            end_offset,
            size_bytes: info.state.bytes,
            segments: 1,
            rate_in,
            rate_out: 0.0,
        }],
    }
}

#[async_trait]
impl TopicsApi for Nats {
    async fn list_topics(&self) -> BResult<Vec<TopicInfo>> {
        let streams = self.streams().await?;
        Ok(streams
            .iter()
            .map(|s| topic_info(s, self.rate(&format!("t\u{1}{}", s.config.name), s.state.last_sequence)))
            .collect())
    }

    async fn describe_topic(&self, name: &str) -> BResult<TopicInfo> {
        let s = self.stream_info(name).await?;
        Ok(topic_info(&s, self.rate(&format!("t\u{1}{name}"), s.state.last_sequence)))
    }

    async fn create_topic(&self, name: &str, config: TopicConfig) -> BResult<TopicInfo> {
        check_new_name("topic", name)?;
        config.validate()?;
        if config.partitions > 1 {
            return Err(BackendError::BadRequest(format!(
                "topic {name} cannot have {} partitions: a JetStream stream is one partition here (create it with 1, or several topics)",
                config.partitions
            )));
        }
        if config.segment_bytes.is_some() {
            return Err(BackendError::Unsupported(
                "JetStream chooses its own storage block sizes: leave the segment size out".into(),
            ));
        }
        // JetStream answers a create of an identical stream with success; depot says it exists.
        match self.stream_info(name).await {
            Ok(_) => return Err(BackendError::Conflict(format!("topic {name} already exists (a JetStream stream)"))),
            Err(BackendError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let cfg = json!({
            "name": name,
            "subjects": [name],
            "retention": "limits",
            "max_consumers": -1,
            "max_msgs": -1,
            "max_bytes": config.retention_bytes.map_or(-1, |b| b.min(i64::MAX as u64) as i64),
            "max_age": config.retention_ms.map_or(0, |ms| nanos(Duration::from_millis(ms))),
            "max_msgs_per_subject": -1,
            "max_msg_size": -1,
            "discard": "old",
            "storage": "file",
            "num_replicas": 1,
            "duplicate_window": nanos(Duration::from_secs(120)),
        });
        match self.api::<stream::Info>(&format!("STREAM.CREATE.{name}"), &cfg).await? {
            Ok(info) => Ok(topic_info(&info, 0.0)),
            Err(e) if code(&e) == jetstream::ErrorCode::STREAM_NAME_EXIST.0 => {
                Err(BackendError::Conflict(format!("topic {name} already exists (a JetStream stream)")))
            }
            Err(e) if code(&e) == jetstream::ErrorCode::STREAM_SUBJECT_OVERLAP.0 => {
                Err(BackendError::Conflict(format!(
                    "another stream already takes subject {name}: JetStream gives each subject to one stream ({e})"
                )))
            }
            Err(e) => Err(js_error(&format!("creating stream {name}"), &e)),
        }
    }

    async fn delete_topic(&self, name: &str) -> BResult<()> {
        check_name("topic", name)?;
        match self.api::<Value>(&format!("STREAM.DELETE.{name}"), &json!({})).await? {
            Ok(_) => Ok(()),
            Err(e) if code(&e) == jetstream::ErrorCode::STREAM_NOT_FOUND.0 => Err(BackendError::NotFound(format!(
                "topic {name} not found: NATS at {} has no JetStream stream named {name}",
                self.url
            ))),
            Err(e) => Err(js_error(&format!("deleting stream {name}"), &e)),
        }
    }
}
