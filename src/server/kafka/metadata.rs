//! Metadata: this node is the only broker and the leader (epoch -1) of every partition, at the
//! address the client reached. Topics a client names that do not exist are created when
//! `--kafka-auto-create` is on (and the request allows it), with `--kafka-default-partitions`.

use super::dispatch::{self, Api, BoxFuture, Outcome, Request};
use super::errors;
use super::{Broker, CLUSTER_ID, NODE_ID, Session};
use crate::core::TopicConfig;
use crate::core::names::validate_name;
use crate::engine::EngineError;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{ApiKey, BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

pub const APIS: &[Api] = &[Api { key: ApiKey::Metadata, min: 0, max: 12, handle }];

fn handle<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<MetadataRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let v = r.version;
        // v0: an empty list means every topic; v1+: null means every topic.
        let wanted: Option<Vec<String>> = match req.topics {
            None => None,
            Some(t) if t.is_empty() && v == 0 => None,
            Some(t) => Some(t.into_iter().filter_map(|t| t.name.map(|n| n.0.to_string())).collect()),
        };
        let create = b.opts.auto_create && !b.opts.read_only && (v < 4 || req.allow_auto_topic_creation);
        let topics = match wanted {
            None => {
                let all = b.engine.list_topics();
                all.into_iter().map(|t| (t.name, Ok(t.partitions.len() as u32))).collect()
            }
            Some(names) => {
                let mut out = Vec::with_capacity(names.len());
                for name in names {
                    let n = partitions_of(b, &name, create).await;
                    out.push((name, n));
                }
                out
            }
        };
        let mut resp = MetadataResponse::default();
        let mut broker = MetadataResponseBroker::default()
            .with_node_id(BrokerId(NODE_ID))
            .with_host(StrBytes::from_string(s.local.ip().to_string()))
            .with_port(i32::from(s.local.port()));
        if v >= 1 {
            broker = broker.with_rack(None);
        }
        resp.brokers = vec![broker];
        if v >= 2 {
            resp.cluster_id = Some(StrBytes::from_static_str(CLUSTER_ID));
        }
        if v >= 1 {
            resp.controller_id = BrokerId(NODE_ID);
        }
        resp.topics = topics.into_iter().map(|(name, n)| topic(name, n, v)).collect();
        dispatch::reply(&resp, v)
    })
}

/// The partitions of `name`, creating the topic when asked and allowed; else the error code.
pub async fn partitions_of(b: &Broker, name: &str, create: bool) -> Result<u32, i16> {
    match b.engine.describe_topic(name) {
        Ok(t) => return Ok(t.partitions.len() as u32),
        Err(EngineError::NotFound { .. }) => {}
        Err(e) => return Err(errors::code(&e)),
    }
    if validate_name("topic", name).is_err() {
        return Err(errors::INVALID_TOPIC);
    }
    if !create {
        return Err(errors::UNKNOWN_TOPIC_OR_PARTITION);
    }
    let (topic, n) = (name.to_string(), b.opts.default_partitions);
    match b.blocking(move |e| e.create_topic(&topic, TopicConfig::with_partitions(n))).await {
        Ok(t) => {
            tracing::info!("kafka: created topic {name} with {n} partitions (--kafka-auto-create)");
            Ok(t.partitions.len() as u32)
        }
        // Another connection created it in the meantime.
        Err(EngineError::AlreadyExists { .. }) => {
            b.engine.describe_topic(name).map(|t| t.partitions.len() as u32).map_err(|e| errors::code(&e))
        }
        Err(e) => {
            tracing::warn!("kafka: could not create topic {name}: {e}");
            Err(errors::code(&e))
        }
    }
}

fn topic(name: String, partitions: Result<u32, i16>, v: i16) -> MetadataResponseTopic {
    let mut t = MetadataResponseTopic::default().with_name(Some(TopicName(StrBytes::from_string(name))));
    match partitions {
        Err(code) => t.error_code = code,
        Ok(n) => {
            t.partitions = (0..n as i32)
                .map(|p| {
                    let mut part = MetadataResponsePartition::default()
                        .with_partition_index(p)
                        .with_leader_id(BrokerId(NODE_ID))
                        .with_replica_nodes(vec![BrokerId(NODE_ID)])
                        .with_isr_nodes(vec![BrokerId(NODE_ID)]);
                    if v >= 7 {
                        part.leader_epoch = -1;
                    }
                    part
                })
                .collect();
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_encodes_in_every_version() {
        for v in 0..=12 {
            let mut resp = MetadataResponse::default();
            resp.topics =
                vec![topic("t".into(), Ok(3), v), topic("u".into(), Err(errors::UNKNOWN_TOPIC_OR_PARTITION), v)];
            assert!(matches!(dispatch::reply(&resp, v), Outcome::Reply { .. }), "v{v}");
        }
    }
}
