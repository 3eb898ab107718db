//! OffsetCommit (v2–v9) and OffsetFetch (v1–v9) on the engine's committed offsets. A member's
//! commit is checked against its generation and the partitions it owns, and refused while the
//! group awaits the leader's assignment; a commit with no member id and a negative generation is
//! an operator's, for a group without members: forward it is a commit, back a journaled reset
//! (how Kafka's admin tools reset a group). A member's commits only move forward. The commit's metadata string is not kept: OffsetFetch answers it empty.

use super::super::dispatch::{self, BoxFuture, Outcome, Request};
use super::super::{Broker, Session, errors};
use crate::engine::ClassicError;
use kafka_protocol::messages::offset_commit_response::{OffsetCommitResponsePartition, OffsetCommitResponseTopic};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions, OffsetFetchResponseTopic,
    OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use std::collections::BTreeMap;

pub fn commit<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<OffsetCommitRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let group = req.group_id.0.to_string();
        // (topic index, partition index, code) for every partition asked, and what to commit.
        let mut codes: Vec<Vec<(i32, i16)>> = Vec::new();
        let mut rows: Vec<(usize, usize, (String, u32, u64))> = Vec::new();
        for (ti, t) in req.topics.iter().enumerate() {
            let name = t.name.0.to_string();
            let mut list = Vec::new();
            for p in &t.partitions {
                let code = if b.opts.read_only {
                    errors::GROUP_AUTHORIZATION_FAILED
                } else {
                    match (u32::try_from(p.partition_index), u64::try_from(p.committed_offset)) {
                        (Ok(pi), Ok(o)) if b.engine.partition_log(&name, pi).is_ok() => {
                            rows.push((ti, list.len(), (name.clone(), pi, o)));
                            errors::NONE
                        }
                        (Ok(_), Err(_)) => errors::OFFSET_OUT_OF_RANGE,
                        _ => errors::UNKNOWN_TOPIC_OR_PARTITION,
                    }
                };
                list.push((p.partition_index, code));
            }
            codes.push(list);
        }
        if !rows.is_empty() {
            let offsets: Vec<(String, u32, u64)> = rows.iter().map(|(_, _, o)| o.clone()).collect();
            let (g, member, generation) = (group.clone(), req.member_id.to_string(), req.generation_id_or_member_epoch);
            let done = b.blocking(move |e| Ok(e.classic_commit(&g, &member, i64::from(generation), &offsets))).await;
            let code = match done {
                Ok(Ok(())) => errors::NONE,
                Ok(Err(e)) => super::logged("OffsetCommit", s, &e),
                Err(e) => super::logged("OffsetCommit", s, &ClassicError::Engine(e)),
            };
            for (ti, pi, _) in &rows {
                codes[*ti][*pi].1 = code;
            }
        }
        let mut resp = OffsetCommitResponse::default();
        for (t, list) in req.topics.into_iter().zip(codes) {
            resp.topics.push(
                OffsetCommitResponseTopic::default().with_name(t.name).with_partitions(
                    list.into_iter()
                        .map(|(p, c)| {
                            OffsetCommitResponsePartition::default().with_partition_index(p).with_error_code(c)
                        })
                        .collect(),
                ),
            );
        }
        dispatch::reply(&resp, r.version)
    })
}

/// The committed offsets asked for: each named partition's (-1 when none), or with no names
/// every partition the group committed.
fn lookup(b: &Broker, group: &str, asked: Option<Vec<(TopicName, Vec<i32>)>>) -> Vec<(TopicName, Vec<(i32, i64)>)> {
    let committed: BTreeMap<(String, u32), u64> =
        b.engine.committed_offsets(group).unwrap_or_default().into_iter().map(|(t, p, o)| ((t, p), o)).collect();
    match asked {
        Some(topics) => topics
            .into_iter()
            .map(|(name, parts)| {
                let offs = parts
                    .into_iter()
                    .map(|p| {
                        let o = u32::try_from(p).ok().and_then(|q| committed.get(&(name.0.to_string(), q)));
                        (p, o.map_or(-1, |o| *o as i64))
                    })
                    .collect();
                (name, offs)
            })
            .collect(),
        None => {
            let mut by_topic: BTreeMap<String, Vec<(i32, i64)>> = BTreeMap::new();
            for ((t, p), o) in committed {
                by_topic.entry(t).or_default().push((p as i32, o as i64));
            }
            by_topic.into_iter().map(|(t, offs)| (TopicName(StrBytes::from_string(t)), offs)).collect()
        }
    }
}

pub fn fetch<'a>(b: &'a Broker, _s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<OffsetFetchRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let mut resp = OffsetFetchResponse::default();
        if r.version < 8 {
            let asked = req.topics.map(|ts| ts.into_iter().map(|t| (t.name, t.partition_indexes)).collect());
            for (name, offs) in lookup(b, &req.group_id.0, asked) {
                let partitions = offs
                    .into_iter()
                    .map(|(p, o)| {
                        OffsetFetchResponsePartition::default()
                            .with_partition_index(p)
                            .with_committed_offset(o)
                            .with_committed_leader_epoch(-1)
                            .with_metadata(Some(StrBytes::default()))
                    })
                    .collect();
                resp.topics.push(OffsetFetchResponseTopic::default().with_name(name).with_partitions(partitions));
            }
        } else {
            for g in req.groups {
                let asked = g.topics.map(|ts| ts.into_iter().map(|t| (t.name, t.partition_indexes)).collect());
                let topics = lookup(b, &g.group_id.0, asked)
                    .into_iter()
                    .map(|(name, offs)| {
                        let partitions = offs
                            .into_iter()
                            .map(|(p, o)| {
                                OffsetFetchResponsePartitions::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(o)
                                    .with_committed_leader_epoch(-1)
                                    .with_metadata(Some(StrBytes::default()))
                            })
                            .collect();
                        OffsetFetchResponseTopics::default().with_name(name).with_partitions(partitions)
                    })
                    .collect();
                resp.groups.push(OffsetFetchResponseGroup::default().with_group_id(g.group_id).with_topics(topics));
            }
        }
        dispatch::reply(&resp, r.version)
    })
}
