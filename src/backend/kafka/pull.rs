//! A pull as a real member of the group: subscribe, poll until the group hands out partitions,
//! read what is there (or wait for it), commit synchronously if asked, and leave.

use super::codec::to_message;
use super::conn::{JOIN_TIMEOUT, READ_TIMEOUT, create, group_config, kerr};
use super::groups::committed_of;
use super::topics::{topic_partitions, watermarks};
use crate::backend::support;
use crate::backend::{BResult, BackendError};
use crate::core::{Message, PullRequest, PullResult};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
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
    // What is there to read now: from the committed offset (or the log start) to the end.
    let parts: Vec<(String, u32)> = assigned.iter().map(|p| (req.topic.clone(), *p)).collect();
    let committed = committed_of(base, brokers, &g, &parts)?;
    let marks = watermarks(meta, &parts)?;
    let available: u64 = parts
        .iter()
        .map(|k| {
            let (lo, hi) = marks.get(k).copied().unwrap_or((0, 0));
            hi.saturating_sub(committed.get(k).copied().unwrap_or(lo).clamp(lo, hi))
        })
        .sum();
    let want = (available.min(max as u64)) as usize;
    let deadline = Instant::now() + if want > 0 { READ_TIMEOUT } else { support::clamp_wait(req.wait_ms) };
    let target = if want > 0 { want } else { 1 };
    while got.len() < target && Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now()).min(Duration::from_millis(200));
        match c.poll(left) {
            Some(Ok(m)) => got.push(to_message(&m)),
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
