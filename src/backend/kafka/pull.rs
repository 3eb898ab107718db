//! A pull as a real member of the group: subscribe, poll until the group hands out partitions,
//! read what is there (or wait for it) shared fairly over the partitions, commit synchronously if
//! asked, and leave.

use super::codec::to_message;
use super::conn::{JOIN_TIMEOUT, READ_TIMEOUT, create, group_config, kerr};
use super::groups::committed_of;
use super::topics::{topic_partitions, watermarks};
use crate::backend::support;
use crate::backend::{BResult, BackendError};
use crate::core::message::fair_shares;
use crate::core::{Message, PullRequest, PullResult};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Pulls for group `g` as a member that joins and leaves again (blocking: run it off the async threads).
pub(super) fn pull_as_member(
    meta: &BaseConsumer,
    base: &ClientConfig,
    brokers: &str,
    g: String,
    req: PullRequest,
) -> BResult<PullResult> {
    let n = topic_partitions(meta, brokers, &req.topic)?;
    let max = support::clamp_max(req.max);
    let c: BaseConsumer = create(&group_config(base, &g), brokers)?;
    c.subscribe(&[req.topic.as_str()]).map_err(|e| kerr(&format!("subscribing group {g} to {}", req.topic), &e))?;
    let mut got: Vec<Message> = Vec::new();
    // Join: poll until the group hands us an assignment.
    let join_deadline = Instant::now() + JOIN_TIMEOUT;
    let mut last_err: Option<KafkaError> = None;
    let assigned: Vec<u32> = loop {
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => got.push(to_message(&m)),
            Some(Err(KafkaError::PartitionEOF(_))) | None => {}
            Some(Err(e)) => {
                tracing::debug!("joining group {g}: {e}");
                last_err = Some(e);
            }
        }
        let a = c.assignment().map_err(|e| kerr(&format!("reading group {g}'s assignment"), &e))?;
        if a.count() > 0 {
            break a.elements().iter().map(|e| e.partition().max(0) as u32).collect();
        }
        if Instant::now() >= join_deadline {
            let why = last_err.map(|e| format!(" (last error: {e})")).unwrap_or_default();
            return Err(BackendError::Unavailable(format!(
                "joining consumer group {g} on {brokers} gave no partitions of {} within {} s{why}; other \
             members may hold all {n} partition(s), or the group coordinator is slow",
                req.topic,
                JOIN_TIMEOUT.as_secs()
            )));
        }
    };
    // What is there to read now: from the committed offset (or the log start) to the end, shared
    // fairly over the partitions (librdkafka hands out what it fetched partition by partition, so
    // taking the first `max` would serve partition 0 again and again).
    let parts: Vec<(String, u32)> = assigned.iter().map(|p| (req.topic.clone(), *p)).collect();
    let committed = committed_of(base, brokers, &g, &parts)?;
    let marks = watermarks(meta, &parts)?;
    let there: Vec<(u64, u64)> = parts
        .iter()
        .map(|k| {
            let (lo, hi) = marks.get(k).copied().unwrap_or((0, 0));
            let from = committed.get(k).copied().unwrap_or(lo).clamp(lo, hi);
            (from, hi - from)
        })
        .collect();
    let shares = fair_shares(max, &there);
    let want: usize = shares.iter().sum();
    let mut quota: HashMap<u32, usize> = parts.iter().zip(&shares).map(|((_, p), n)| (*p, *n)).collect();
    // With nothing there yet, the first record to arrive (on any partition) is the pull.
    let waiting = want == 0;
    let mut keep = |m: Message, into: &mut Vec<Message>| {
        let left = quota.entry(m.partition).or_insert(0);
        if waiting || *left > 0 {
            *left = left.saturating_sub(1);
            into.push(m);
        }
    };
    let early = std::mem::take(&mut got);
    for m in early {
        keep(m, &mut got);
    }
    let deadline = Instant::now() + if want > 0 { READ_TIMEOUT } else { support::clamp_wait(req.wait_ms) };
    let target = if want > 0 { want } else { 1 };
    while got.len() < target && Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now()).min(Duration::from_millis(200));
        match c.poll(left) {
            Some(Ok(m)) => keep(to_message(&m), &mut got),
            Some(Err(KafkaError::PartitionEOF(_))) | None => {}
            Some(Err(e)) => tracing::debug!("pulling for group {g}: {e}"),
        }
    }
    got.truncate(max);
    let offsets = support::next_offsets(&got);
    if req.commit && !offsets.is_empty() {
        let mut tpl = TopicPartitionList::new();
        for o in &offsets {
            tpl.add_partition_offset(&o.topic, o.partition as i32, Offset::Offset(o.offset as i64))
                .map_err(|e| kerr("building a commit", &e))?;
        }
        c.commit(&tpl, CommitMode::Sync).map_err(|e| kerr(&format!("committing for group {g}"), &e))?;
    }
    drop(c); // leaves the group (LeaveGroup), so the group is empty again when this returns
    Ok(PullResult { group: g, messages: got, offsets, committed: req.commit })
}
