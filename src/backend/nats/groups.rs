//! Groups are durable consumers (a name used on several streams is one group with a partition per
//! stream): committed = ack floor + 1, lag = pending + ack-pending, pulls with ack (commit) or nak
//! (hand back for redelivery), and deleting the consumers of a group nobody uses.

use super::Nats;
use super::codec::{check_name, check_new_name, header_pairs, ms_of, offsets, to_message};
use crate::backend::support;
use crate::backend::{BResult, BackendError, GroupsApi};
use crate::core::time::now_ms;
use crate::core::{CommitOffset, GroupInfo, PartitionLag, PullRequest, PullResult};
use async_nats::jetstream::{self, consumer, stream};
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// The most messages one pull hands out.
const MAX_PULL: usize = 10_000;
/// How long a pull waits for a redelivery when the consumer is at max_ack_pending.
const FULL_WAIT: Duration = Duration::from_millis(200);

/// Groups are durable consumers; an ephemeral one with that name is not depot's to reset.
pub(super) fn durable_only(c: &consumer::Info) -> BResult<()> {
    if c.config.durable_name.is_none() {
        return Err(BackendError::Unsupported(format!(
            "consumer {} on {} is ephemeral (it vanishes when its client goes): depot resets durable consumers only",
            c.name, c.stream_name
        )));
    }
    Ok(())
}

fn is_live(c: &consumer::Info) -> bool {
    c.num_waiting > 0 || c.push_bound
}

pub(super) fn live_description(c: &consumer::Info) -> Vec<String> {
    let mut v = Vec::new();
    if c.num_waiting > 0 {
        v.push(format!("{} waiting pull request(s) on {}", c.num_waiting, c.stream_name));
    }
    if c.push_bound {
        v.push(format!("a push subscriber bound on {}", c.stream_name));
    }
    v
}

impl Nats {
    /// Every durable consumer named `only` (or every durable) with its stream. Streams without
    /// consumers are skipped; the others are asked a few at a time.
    async fn durables(&self, only: Option<&str>) -> BResult<Vec<(stream::Info, consumer::Info)>> {
        let streams: Vec<stream::Info> =
            self.streams().await?.into_iter().filter(|s| s.state.consumer_count > 0).collect();
        let mut out = Vec::new();
        for chunk in streams.chunks(16) {
            let mut set = tokio::task::JoinSet::new();
            for (i, s) in chunk.iter().enumerate() {
                let (me, name, only) = (self.clone(), s.config.name.clone(), only.map(str::to_string));
                set.spawn(async move { (i, me.durables_of(&name, only.as_deref()).await) });
            }
            let mut got = Vec::new();
            while let Some(joined) = set.join_next().await {
                let (i, r) = joined.map_err(|e| BackendError::Internal(format!("a lookup task failed: {e}")))?;
                got.push((i, r?));
            }
            got.sort_by_key(|(i, _)| *i);
            for (i, cs) in got {
                out.extend(cs.into_iter().map(|c| (chunk[i].clone(), c)));
            }
        }
        Ok(out)
    }

    /// The durable consumers (with their streams) that make up group `name`; NotFound when none.
    async fn group_entries(&self, name: &str) -> BResult<Vec<(stream::Info, consumer::Info)>> {
        check_name("group", name)?;
        let entries = self.durables(Some(name)).await?;
        if entries.is_empty() {
            return Err(BackendError::NotFound(format!(
                "group {name} not found: no stream at {} has a durable consumer named {name}",
                self.url
            )));
        }
        Ok(entries)
    }

    async fn durables_of(&self, stream: &str, only: Option<&str>) -> BResult<Vec<consumer::Info>> {
        let durable = |c: &consumer::Info| c.config.durable_name.is_some();
        match only {
            Some(g) => match self.consumer_info(stream, g).await {
                Ok(Some((_, c))) if durable(&c) => Ok(vec![c]),
                Ok(_) | Err(BackendError::NotFound(_)) => Ok(Vec::new()), // none here, or the stream just went
                Err(e) => Err(e),
            },
            None => Ok(self.consumers(stream).await?.into_iter().filter(durable).collect()),
        }
    }

    async fn partition_lag(&self, s: &stream::Info, c: &consumer::Info) -> BResult<PartitionLag> {
        let (log_start, end_offset) = offsets(&s.state);
        let lag = c.num_pending + c.num_ack_pending as u64;
        let mut lag_ms = 0;
        if lag > 0 {
            let from = (c.ack_floor.stream_sequence + 1).max(log_start);
            let filter =
                if c.config.filter_subject.is_empty() { ">".to_string() } else { c.config.filter_subject.clone() };
            match self.get_msg(&s.config.name, from, Some(&filter)).await {
                Ok(Some(m)) => lag_ms = now_ms().saturating_sub(m.timestamp).max(0) as u64,
                Ok(None) | Err(BackendError::NotFound(_)) => {} // removed meanwhile (retention, a delete)
                Err(e) => return Err(e),
            }
        }
        Ok(PartitionLag {
            topic: s.config.name.clone(),
            partition: 0,
            committed: Some(c.ack_floor.stream_sequence + 1),
            log_start,
            end_offset,
            lag,
            lag_ms,
            owner: None,
            redeliveries: c.num_redelivered as u64,
        })
    }

    async fn group_info(&self, name: &str, entries: &[(stream::Info, consumer::Info)]) -> BResult<GroupInfo> {
        let mut partitions = Vec::new();
        let mut consume_rate = 0.0;
        for (s, c) in entries {
            partitions.push(self.partition_lag(s, c).await?);
            consume_rate += self.rate(&format!("g\u{1}{}\u{1}{}", s.config.name, c.name), c.ack_floor.stream_sequence);
        }
        partitions.sort_by(|a, b| a.topic.cmp(&b.topic));
        let push = entries.iter().any(|(_, c)| c.config.deliver_subject.is_some());
        Ok(GroupInfo {
            name: name.to_string(),
            state: if entries.iter().any(|(_, c)| is_live(c)) { "stable" } else { "empty" }.into(),
            generation: 0,
            assignor: if push { "push" } else { "pull" }.into(),
            members: Vec::new(),
            partitions,
            consume_rate,
        })
    }
}

#[async_trait]
impl GroupsApi for Nats {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>> {
        let mut by_name: BTreeMap<String, Vec<(stream::Info, consumer::Info)>> = BTreeMap::new();
        for (s, c) in self.durables(None).await? {
            by_name.entry(c.name.clone()).or_default().push((s, c));
        }
        let mut out = Vec::with_capacity(by_name.len());
        for (name, entries) in by_name {
            out.push(self.group_info(&name, &entries).await?);
        }
        Ok(out)
    }

    async fn describe_group(&self, name: &str) -> BResult<GroupInfo> {
        let entries = self.group_entries(name).await?;
        self.group_info(name, &entries).await
    }

    async fn pull(&self, group: &str, req: PullRequest) -> BResult<PullResult> {
        check_name("group", group)?;
        let topic = req.topic.as_str();
        self.stream_info(topic).await?;
        let c = match self.consumer_info(topic, group).await? {
            Some((_, c)) => c,
            None => {
                check_new_name("group", group)?;
                let cfg = json!({ "durable_name": group, "deliver_policy": "all", "ack_policy": "explicit" });
                self.create_durable(topic, group, cfg).await?
            }
        };
        if let Some(subject) = &c.config.deliver_subject {
            return Err(BackendError::Unsupported(format!(
                "group {group} on {topic} is a push consumer (it delivers to {subject}); depot pulls only from pull consumers — subscribe to {subject} with the nats tool, or reset the group"
            )));
        }
        if !req.commit && matches!(c.config.ack_policy, consumer::AckPolicy::None) {
            return Err(BackendError::Unsupported(format!(
                "group {group} on {topic} takes no acks (ack policy none): JetStream counts a message consumed once delivered, so a pull without commit cannot hand it back; pull with commit"
            )));
        }
        let max = req.max.clamp(1, MAX_PULL);
        let wait = (req.wait_ms > 0).then(|| support::clamp_wait(req.wait_ms));
        // At max_ack_pending, nats-server (2.9) leaves a no-wait pull unanswered; so once the room
        // for unacknowledged messages is used up, ask with a short expiry instead (redeliveries
        // still come; otherwise JetStream answers "timeout" when it expires).
        let mut room = (c.config.max_ack_pending > 0)
            .then(|| u64::try_from(c.config.max_ack_pending).unwrap_or(0).saturating_sub(c.num_ack_pending as u64));
        let mut got: Vec<jetstream::Message> = Vec::new();
        let mut failure = None;
        while got.len() < max {
            let w = match (got.is_empty(), room) {
                (true, _) if wait.is_some() => wait,
                (_, Some(0)) => Some(FULL_WAIT),
                _ => None,
            };
            match self.next_message(topic, group, w).await {
                Ok(Some(m)) => {
                    let first_delivery = m.info().map(|i| i.delivered <= 1).unwrap_or(true);
                    if let Some(r) = room.as_mut()
                        && first_delivery
                    {
                        *r = r.saturating_sub(1);
                    }
                    got.push(m);
                }
                Ok(None) => break,
                // JetStream stops handing out messages (e.g. max_ack_pending reached): keep these.
                Err(BackendError::Refused(why)) if !got.is_empty() => {
                    tracing::debug!("pull from {group} on {topic} stopped after {} messages: {why}", got.len());
                    break;
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        // Acks (commit) or naks (hand back for redelivery): all but the last sent without waiting;
        // the last waits for JetStream's reply, and acks on one connection are handled in order.
        // A consumer with ack policy "none" takes no acks (and answers none).
        let kind =
            if req.commit && failure.is_none() { jetstream::AckKind::Ack } else { jetstream::AckKind::Nak(None) };
        let takes_acks = !matches!(c.config.ack_policy, consumer::AckPolicy::None);
        if takes_acks && let Some((last, rest)) = got.split_last() {
            let ack_failed = |e: async_nats::Error| {
                BackendError::Unavailable(format!("acknowledging a message of {topic} for group {group} failed: {e}"))
            };
            for m in rest {
                if let Err(e) = m.ack_with(kind).await {
                    failure.get_or_insert(ack_failed(e));
                }
            }
            if let Err(e) = last.double_ack_with(kind).await {
                failure.get_or_insert(ack_failed(e));
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        let mut messages = Vec::with_capacity(got.len());
        for m in &got {
            let info = m.info().map_err(|e| {
                BackendError::Internal(format!("JetStream delivered a message without its metadata: {e}"))
            })?;
            let (seq, ts) = (info.stream_sequence, ms_of(info.published));
            messages.push(to_message(topic, seq, ts, header_pairs(m.headers.as_ref()), m.payload.clone()));
        }
        let offsets = support::next_offsets(&messages);
        Ok(PullResult { group: group.to_string(), messages, offsets, committed: req.commit })
    }

    async fn commit(&self, group: &str, _offsets: Vec<CommitOffset>) -> BResult<()> {
        Err(BackendError::Unsupported(format!(
            "JetStream has no committed offset to set: a consumer's ack floor only moves as its messages are acknowledged. Pull group {group} with commit to acknowledge what it pulls, or reset it (e.g. to-offset N) to move it"
        )))
    }

    async fn delete_group(&self, name: &str) -> BResult<()> {
        let entries = self.group_entries(name).await?;
        let live: Vec<String> = entries.iter().flat_map(|(_, c)| live_description(c)).collect();
        if !live.is_empty() {
            return Err(BackendError::Refused(format!(
                "group {name} is in use ({}); stop its consumers first",
                live.join(", ")
            )));
        }
        for (s, c) in &entries {
            self.delete_consumer(&s.config.name, &c.name).await?;
        }
        Ok(())
    }
}
