//! The admin APIs: CreateTopics (v2–7), DeleteTopics (v1–6) and DeleteRecords (v0–2), each
//! answered per topic or partition with the code a Kafka broker gives. `--read-only` answers
//! every one of them with TOPIC_AUTHORIZATION_FAILED and changes nothing.
//!
//! CreateTopics: `num_partitions` -1 takes `--kafka-default-partitions`; this node is the only
//! broker, so a replication factor of -1 or 1 is accepted and others are not; a manual assignment
//! may name this node only. `retention.ms`, `retention.bytes` and `segment.bytes` become the
//! topic's settings (`cleanup.policy=delete` is accepted as what depot does); other configs are
//! INVALID_CONFIG. DeleteTopics goes by name (depot has no topic ids). DeleteRecords moves the
//! partition's log start ([`crate::engine::Engine::delete_records`]); offset -1 is the high
//! watermark.

use super::dispatch::{self, Api, BoxFuture, Outcome, Request};
use super::errors;
use super::{Broker, NODE_ID, Session};
use crate::core::TopicConfig;
use crate::core::names::validate_name;
use crate::engine::EngineError;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::delete_records_response::{DeleteRecordsPartitionResult, DeleteRecordsTopicResult};
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{
    ApiKey, CreateTopicsRequest, CreateTopicsResponse, DeleteRecordsRequest, DeleteRecordsResponse,
    DeleteTopicsRequest, DeleteTopicsResponse,
};
use kafka_protocol::protocol::StrBytes;
use std::collections::HashSet;

pub const APIS: &[Api] = &[
    Api { key: ApiKey::CreateTopics, min: 2, max: 7, handle: create_topics },
    Api { key: ApiKey::DeleteTopics, min: 1, max: 6, handle: delete_topics },
    Api { key: ApiKey::DeleteRecords, min: 0, max: 2, handle: delete_records },
];

/// What read-only answers, and why.
const READ_ONLY: &str = "depot is read-only (--read-only)";

/// A refusal: the error code and its message.
type Refusal = (i16, String);

fn create_topics<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<CreateTopicsRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let mut seen = HashSet::new();
        let twice: HashSet<String> =
            req.topics.iter().map(|t| t.name.0.to_string()).filter(|n| !seen.insert(n.clone())).collect();
        let mut resp = CreateTopicsResponse::default();
        for t in req.topics {
            let name = t.name.0.to_string();
            let done = if b.opts.read_only {
                Err((errors::TOPIC_AUTHORIZATION_FAILED, READ_ONLY.to_string()))
            } else if twice.contains(&name) {
                Err((errors::INVALID_REQUEST, format!("topic {name:?} is named more than once in the request")))
            } else {
                create_one(b, &t, req.validate_only).await
            };
            let mut out = CreatableTopicResult::default().with_name(t.name).with_error_message(None);
            match done {
                Ok(config) => {
                    if !req.validate_only {
                        tracing::info!(
                            "kafka: created topic {name} with {} partitions (CreateTopics from {})",
                            config.partitions,
                            s.peer
                        );
                    }
                    out.num_partitions = config.partitions as i32;
                    out.replication_factor = 1;
                }
                Err((code, why)) => {
                    tracing::warn!("kafka: CreateTopics {name} from {} refused: {why}", s.peer);
                    out.error_code = code;
                    out.error_message = Some(StrBytes::from_string(why));
                    out.configs = None;
                }
            }
            resp.topics.push(out);
        }
        dispatch::reply(&resp, r.version)
    })
}

/// Checks one topic of a CreateTopics request and creates it unless `validate_only`.
async fn create_one(b: &Broker, t: &CreatableTopic, validate_only: bool) -> Result<TopicConfig, Refusal> {
    let name = t.name.0.to_string();
    validate_name("topic", &name).map_err(|e| (errors::INVALID_TOPIC, e.to_string()))?;
    if b.engine.describe_topic(&name).is_ok() {
        return Err((errors::TOPIC_ALREADY_EXISTS, format!("Topic '{name}' already exists.")));
    }
    let config = settings(b, t)?;
    if validate_only {
        return Ok(config);
    }
    let c = config.clone();
    b.blocking(move |e| e.create_topic(&name, c)).await.map_err(|e| match e {
        EngineError::AlreadyExists { .. } => (errors::TOPIC_ALREADY_EXISTS, e.to_string()),
        EngineError::InvalidArgument(_) => (errors::INVALID_REQUEST, e.to_string()),
        e => (errors::code(&e), e.to_string()),
    })?;
    Ok(config)
}

/// The topic's settings from its partitions, replication factor, assignment and configs.
fn settings(b: &Broker, t: &CreatableTopic) -> Result<TopicConfig, Refusal> {
    let partitions = if t.assignments.is_empty() {
        match t.num_partitions {
            -1 => b.opts.default_partitions,
            n if n >= 1 => n as u32,
            n => {
                return Err((
                    errors::INVALID_PARTITIONS,
                    format!("Number of partitions must be larger than 0, not {n}"),
                ));
            }
        }
    } else {
        if t.num_partitions != -1 || t.replication_factor != -1 {
            return Err((
                errors::INVALID_REQUEST,
                "both numPartitions or replicationFactor and replicasAssignments were set; both cannot be used at the same time".into(),
            ));
        }
        let mut indexes: Vec<i32> = t.assignments.iter().map(|a| a.partition_index).collect();
        indexes.sort_unstable();
        let dense = indexes.iter().enumerate().all(|(i, &p)| p == i as i32);
        let here = t.assignments.iter().all(|a| a.broker_ids.len() == 1 && a.broker_ids[0].0 == NODE_ID);
        if !dense || !here {
            return Err((
                errors::INVALID_REPLICA_ASSIGNMENT,
                format!("depot is one broker (id {NODE_ID}): each partition 0..n-1 must be assigned to it alone"),
            ));
        }
        t.assignments.len() as u32
    };
    if !matches!(t.replication_factor, -1 | 1) {
        return Err((
            errors::INVALID_REPLICATION_FACTOR,
            format!("Replication factor: {} larger than available brokers: 1.", t.replication_factor),
        ));
    }
    let mut config = TopicConfig::with_partitions(partitions);
    config.validate().map_err(|e| (errors::INVALID_PARTITIONS, e.to_string()))?;
    for c in &t.configs {
        let Some(value) = c.value.as_deref() else { continue };
        let number = || {
            value
                .parse::<i64>()
                .map_err(|_| (errors::INVALID_CONFIG, format!("{} = {value:?} is not a number", &*c.name)))
        };
        let limit = |n: i64| u64::try_from(n).ok();
        match &*c.name {
            "retention.ms" => config.retention_ms = limit(number()?),
            "retention.bytes" => config.retention_bytes = limit(number()?),
            "segment.bytes" => config.segment_bytes = limit(number()?),
            "cleanup.policy" if value == "delete" => {}
            other => {
                return Err((
                    errors::INVALID_CONFIG,
                    format!(
                        "depot does not support the topic config {other}={value}: it knows retention.ms, retention.bytes, segment.bytes and cleanup.policy=delete"
                    ),
                ));
            }
        }
    }
    config.validate().map_err(|e| (errors::INVALID_CONFIG, e.to_string()))?;
    Ok(config)
}

fn delete_topics<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<DeleteTopicsRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        // v6 names topics in `topics` (by name or id), earlier versions in `topic_names`.
        let wanted: Vec<_> = if r.version >= 6 {
            req.topics.into_iter().map(|t| (t.name, t.topic_id)).collect()
        } else {
            req.topic_names.into_iter().map(|n| (Some(n), Default::default())).collect()
        };
        let mut resp = DeleteTopicsResponse::default();
        for (name, id) in wanted {
            let mut out = DeletableTopicResult::default().with_name(name.clone()).with_topic_id(id);
            let done = match name.as_ref().map(|n| n.0.to_string()) {
                _ if b.opts.read_only => Err((errors::TOPIC_AUTHORIZATION_FAILED, READ_ONLY.to_string())),
                None => Err((errors::UNKNOWN_TOPIC_ID, "depot has no topic ids: delete topics by name".to_string())),
                Some(n) => {
                    let t = n.clone();
                    b.blocking(move |e| e.delete_topic(&t)).await.map(|()| n).map_err(|e| match e {
                        EngineError::NotFound { .. } => (
                            errors::UNKNOWN_TOPIC_OR_PARTITION,
                            "This server does not host this topic-partition.".to_string(),
                        ),
                        e => (errors::code(&e), e.to_string()),
                    })
                }
            };
            match done {
                Ok(n) => tracing::info!("kafka: deleted topic {n} (DeleteTopics from {})", s.peer),
                Err((code, why)) => {
                    tracing::warn!(
                        "kafka: DeleteTopics {:?} from {} refused: {why}",
                        name.as_ref().map(|n| &*n.0),
                        s.peer
                    );
                    out.error_code = code;
                    if r.version >= 5 {
                        out.error_message = Some(StrBytes::from_string(why));
                    }
                }
            }
            resp.responses.push(out);
        }
        dispatch::reply(&resp, r.version)
    })
}

fn delete_records<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<DeleteRecordsRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let mut resp = DeleteRecordsResponse::default();
        for t in req.topics {
            let topic = t.name.0.to_string();
            let mut out = DeleteRecordsTopicResult::default().with_name(t.name);
            for p in t.partitions {
                let (index, offset) = (p.partition_index, p.offset);
                let done = if b.opts.read_only {
                    Err(errors::TOPIC_AUTHORIZATION_FAILED)
                } else {
                    delete_below(b, &topic, index, offset).await
                };
                let mut pr = DeleteRecordsPartitionResult::default().with_partition_index(index);
                match done {
                    Ok(low) => pr.low_watermark = low,
                    Err(code) => {
                        tracing::warn!(
                            "kafka: DeleteRecords {topic}/{index} below {offset} from {} refused (error {code})",
                            s.peer
                        );
                        pr.error_code = code;
                        pr.low_watermark = -1;
                    }
                }
                out.partitions.push(pr);
            }
            resp.topics.push(out);
        }
        dispatch::reply(&resp, r.version)
    })
}

/// Deletes the records of one partition below `offset` (-1: the high watermark); the new low
/// watermark, or the error code.
async fn delete_below(b: &Broker, topic: &str, index: i32, offset: i64) -> Result<i64, i16> {
    let Ok(p) = u32::try_from(index) else { return Err(errors::UNKNOWN_TOPIC_OR_PARTITION) };
    let before = match offset {
        -1 => None,
        o => Some(u64::try_from(o).map_err(|_| errors::OFFSET_OUT_OF_RANGE)?),
    };
    let t = topic.to_string();
    match b.blocking(move |e| e.delete_records(&t, p, before)).await {
        Ok(low) => Ok(low as i64),
        Err(e) => {
            if !matches!(e, EngineError::NotFound { .. } | EngineError::OffsetOutOfRange { .. }) {
                tracing::warn!("kafka: DeleteRecords {topic}/{index}: {e}");
            }
            Err(errors::code(&e))
        }
    }
}
