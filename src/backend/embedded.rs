//! The in-process depot engine as a [`Backend`]. Engine calls block (disk IO, fsync), so each one
//! runs on tokio's blocking pool; long-poll fetches and pulls wait for an append event on the
//! async runtime, holding no thread while they wait.

use super::support::{self, Start};
use super::*;
use crate::engine::{Engine, JoinRequest, NewRecord, Record};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A backend over an [`Engine`] in this process. (Read-only is a wrapper around it:
/// [`super::read_only::ReadOnly`].)
#[derive(Clone, Debug)]
pub struct Embedded {
    engine: Engine,
    /// One turn per group for one-shot pulls: each pull joins the group as a new member, and a
    /// join starts a new generation, so concurrent pulls of one group refused each other's
    /// commits — four in a loop could go on refusing each other for minutes, a lag that never
    /// fell (the soak saw it). Pulls of one group take turns; other groups' pulls run beside.
    pull_turns: Arc<parking_lot::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Embedded {
    pub fn new(engine: Engine) -> Embedded {
        Embedded { engine, pull_turns: Arc::default() }
    }

    /// The turn of one-shot pulls of `group` (dropped from the map when no pull holds or waits).
    fn pull_turn(&self, group: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut turns = self.pull_turns.lock();
        turns.retain(|_, t| Arc::strong_count(t) > 1);
        turns.entry(group.to_string()).or_default().clone()
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs engine calls (disk IO, fsync) on the blocking pool.
    async fn run<T, F>(&self, f: F) -> BResult<T>
    where
        T: Send + 'static,
        F: FnOnce(Engine) -> BResult<T> + Send + 'static,
    {
        let engine = self.engine.clone();
        support::blocking("engine", move || f(engine)).await
    }
}

/// An engine record as a message of `topic`/`partition`.
pub fn message(topic: &str, partition: u32, r: Record) -> Message {
    Message {
        topic: topic.to_string(),
        partition,
        offset: r.offset,
        timestamp: r.timestamp,
        key: r.key.map(Payload),
        value: r.value.map(Payload),
        headers: r.headers.into_iter().map(|(name, v)| Header { name, value: v.map(Payload) }).collect(),
    }
}

fn to_new(r: OutRecord) -> NewRecord {
    NewRecord {
        key: r.key.map(|k| k.0),
        value: r.value.map(|v| v.0),
        headers: r.headers.into_iter().map(|h| (h.name, h.value.map(|v| v.0))).collect(),
        timestamp: None,
    }
}

/// Publishes a request on an engine: explicit partitions as given, the rest by key / in turn.
pub fn publish_on(engine: &Engine, topic: &str, req: PublishRequest) -> BResult<Vec<Ack>> {
    let n = engine.describe_topic(topic)?.partitions.len() as u32;
    support::check_records(topic, &req, n, "")?;
    if let Some(tag) = req.producer {
        let p = support::idempotent_partition(&req)?;
        let recs: Vec<NewRecord> = req.records.into_iter().map(to_new).collect();
        let a = engine.append(topic, p, &recs, Some((tag.id, tag.sequence)))?;
        return Ok((0..a.count as u64)
            .map(|i| Ack { topic: topic.to_string(), partition: p, offset: a.base_offset + i, duplicate: a.duplicate })
            .collect());
    }
    if req.records.iter().all(|r| r.partition.is_none()) {
        let recs: Vec<NewRecord> = req.records.into_iter().map(to_new).collect();
        let placed = engine.publish(topic, recs)?;
        return Ok(placed
            .into_iter()
            .map(|(partition, offset)| Ack { topic: topic.to_string(), partition, offset, duplicate: false })
            .collect());
    }
    // Mixed: explicit partitions one batch each, in order of first appearance.
    let mut acks = Vec::with_capacity(req.records.len());
    for r in req.records {
        let p = match r.partition {
            Some(p) => p,
            None => engine.partition_for(topic, r.key.as_ref().map(|k| &k.0[..]).unwrap_or(b""))?,
        };
        let a = engine.append(topic, p, &[to_new(r)], None)?;
        acks.push(Ack { topic: topic.to_string(), partition: p, offset: a.base_offset, duplicate: false });
    }
    Ok(acks)
}

/// Reads without committing: one partition, or all merged by timestamp.
pub fn peek_on(engine: &Engine, topic: &str, req: &PeekRequest) -> BResult<Vec<Message>> {
    let info = engine.describe_topic(topic)?;
    let n = info.partitions.len() as u32;
    let parts: Vec<u32> = match req.partition {
        Some(p) => {
            support::check_partition(topic, p, n, "")?;
            vec![p]
        }
        None => (0..n).collect(),
    };
    let max = support::clamp_max(req.max);
    let mut out = Vec::new();
    for p in parts {
        let pi = &info.partitions[p as usize];
        // One partition: exactly that offset (an error outside the log says the valid range).
        // All partitions: from that offset where it exists, clamped elsewhere.
        let log = (pi.log_start, pi.end_offset);
        let start = match support::peek_start(topic, p, req, log, req.partition.is_some(), "")? {
            Start::At(o) => o,
            Start::Time(ts) => engine.offset_for_time(topic, p, ts)?,
        };
        let recs = engine.fetch_all(topic, p, start, max)?;
        out.extend(recs.into_iter().map(|r| message(topic, p, r)));
    }
    Ok(support::merge_peeked(out, &req.from, max))
}

/// The least a pull waits for its group's turn, whatever wait it asked.
const TURN_WAIT: Duration = Duration::from_secs(5);

/// A one-off member of a group (a pull's). A pull that ends leaves the group before it answers
/// ([`OneOff::leave`]); one abandoned midway (its HTTP client went away, the server is stopping)
/// leaves it when the member is dropped.
struct OneOff {
    engine: Engine,
    group: String,
    member_id: String,
    generation: u64,
}

impl OneOff {
    /// Leaves the group now, and waits until it has.
    async fn leave(mut self, on: &Embedded) {
        let (group, id) = (std::mem::take(&mut self.group), std::mem::take(&mut self.member_id));
        let g = group.clone();
        if let Err(e) = on.run(move |e| Ok(e.leave_group(&g, &id)?)).await {
            tracing::warn!("leaving group {group} after a pull: {e}");
        }
    }
}

impl Drop for OneOff {
    fn drop(&mut self) {
        if self.member_id.is_empty() {
            return;
        }
        let (engine, group, id) =
            (self.engine.clone(), std::mem::take(&mut self.group), std::mem::take(&mut self.member_id));
        let leave = move || {
            if let Err(e) = engine.leave_group(&group, &id) {
                tracing::warn!("leaving group {group} after a pull: {e}");
            }
        };
        // Leaving appends to the offsets journal: off the async threads when there are some.
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => drop(rt.spawn_blocking(leave)),
            Err(_) => leave(),
        }
    }
}

impl Embedded {
    /// Joins, polls (waiting up to `wait_ms` for records on the async runtime, holding no thread:
    /// only the short engine calls run on the blocking pool), commits if asked, leaves.
    async fn pull_waiting(&self, group: &str, req: PullRequest) -> BResult<PullResult> {
        let wait = support::clamp_wait(req.wait_ms);
        let now = tokio::time::Instant::now();
        let deadline = now + wait;
        // Waiting for the turn counts against the pull's wait (and a pull that asks no wait
        // gets up to TURN_WAIT for it, as another pull's turn is short when there are records);
        // one that never got the turn is refused, saying why: answering "no records" while
        // the group has a backlog would mislead.
        let turn = self.pull_turn(group);
        let turn_wait = wait.max(TURN_WAIT);
        let Ok(_turn) = tokio::time::timeout_at(now + turn_wait, turn.lock()).await else {
            return Err(BackendError::Conflict(format!(
                "another pull of group {group} held the group for all of {} s: pulls of one group take turns \
                 (each joins the group as a new member); try again, or pull with a shorter --wait on both",
                turn_wait.as_secs_f64()
            )));
        };
        let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
        let (g, topic) = (group.to_string(), req.topic.clone());
        let m = self
            .run(move |e| {
                let mut join = JoinRequest::new("depot-pull", &[topic.as_str()]);
                // Alive for the whole wait, and 30 s beyond it.
                join.session_timeout = Duration::from_secs(30) + wait;
                Ok(e.join_group(&g, join)?)
            })
            .await?;
        let member = OneOff {
            engine: self.engine.clone(),
            group: group.to_string(),
            member_id: m.member_id,
            generation: m.generation,
        };
        let result = self.pull_as(&member, req, wait).await;
        member.leave(self).await;
        result
    }

    /// Polls as `member` until records come or `wait` is up; commits them if asked.
    async fn pull_as(&self, member: &OneOff, req: PullRequest, wait: Duration) -> BResult<PullResult> {
        let deadline = tokio::time::Instant::now() + wait;
        let max = support::clamp_max(req.max);
        let got = loop {
            let appended = self.engine.listen_appends();
            let got = self.poll_member(member, max).await?;
            if !got.is_empty() || tokio::time::Instant::now() >= deadline {
                break got;
            }
            if tokio::time::timeout_at(deadline, appended).await.is_err() {
                break self.poll_member(member, max).await?;
            }
        };
        let messages: Vec<Message> = got.into_iter().map(|d| message(&d.topic, d.partition, d.record)).collect();
        let offsets = support::next_offsets(&messages);
        if req.commit && !offsets.is_empty() {
            let o: Vec<(String, u32, u64)> = offsets.iter().map(|c| (c.topic.clone(), c.partition, c.offset)).collect();
            let (g, id, generation) = (member.group.clone(), member.member_id.clone(), member.generation);
            self.run(move |e| Ok(e.commit(&g, &id, generation, &o)?)).await?;
        }
        Ok(PullResult { group: member.group.clone(), messages, offsets, committed: req.commit })
    }

    /// One poll as the member, on the blocking pool.
    async fn poll_member(&self, m: &OneOff, max: usize) -> BResult<Vec<crate::engine::Delivery>> {
        let (g, id, generation) = (m.group.clone(), m.member_id.clone(), m.generation);
        self.run(move |e| Ok(e.poll(&g, &id, generation, max, 8 << 20)?)).await
    }
}

#[async_trait]
impl TopicsApi for Embedded {
    async fn list_topics(&self) -> BResult<Vec<TopicInfo>> {
        self.run(|e| Ok(e.list_topics())).await
    }
    async fn describe_topic(&self, name: &str) -> BResult<TopicInfo> {
        let name = name.to_string();
        self.run(move |e| Ok(e.describe_topic(&name)?)).await
    }
    async fn create_topic(&self, name: &str, config: TopicConfig) -> BResult<TopicInfo> {
        let name = name.to_string();
        self.run(move |e| Ok(e.create_topic(&name, config)?)).await
    }
    async fn delete_topic(&self, name: &str) -> BResult<()> {
        let name = name.to_string();
        self.run(move |e| Ok(e.delete_topic(&name)?)).await
    }
}

#[async_trait]
impl MessagesApi for Embedded {
    async fn publish(&self, topic: &str, req: PublishRequest) -> BResult<Vec<Ack>> {
        let topic = topic.to_string();
        self.run(move |e| publish_on(&e, &topic, req)).await
    }
    async fn peek(&self, topic: &str, req: PeekRequest) -> BResult<Vec<Message>> {
        let topic = topic.to_string();
        self.run(move |e| peek_on(&e, &topic, &req)).await
    }
    async fn fetch(&self, topic: &str, partition: u32, offset: u64, max: usize, wait_ms: u64) -> BResult<Vec<Message>> {
        let log = self.engine.partition_log(topic, partition)?;
        let deadline = tokio::time::Instant::now() + support::clamp_wait(wait_ms);
        let max = support::clamp_max(max);
        loop {
            let listener = log.appended.listen();
            let l = log.clone();
            let recs = support::blocking("engine", move || Ok(l.read(offset, max, 8 << 20)?)).await?;
            if !recs.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(recs.into_iter().map(|r| message(topic, partition, r)).collect());
            }
            if tokio::time::timeout_at(deadline, listener).await.is_err() {
                // Timed out: one last look, then return whatever is there (usually nothing).
                let recs = log.read(offset, max, 8 << 20)?;
                return Ok(recs.into_iter().map(|r| message(topic, partition, r)).collect());
            }
        }
    }
    async fn search(&self, topic: &str, req: SearchRequest) -> BResult<SearchResult> {
        let topic = topic.to_string();
        self.run(move |e| Ok(e.search(&topic, &req)?)).await
    }
}

#[async_trait]
impl GroupsApi for Embedded {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>> {
        self.run(|e| Ok(e.list_groups())).await
    }
    async fn describe_group(&self, name: &str) -> BResult<GroupInfo> {
        let name = name.to_string();
        self.run(move |e| Ok(e.describe_group(&name)?)).await
    }
    async fn pull(&self, group: &str, req: PullRequest) -> BResult<PullResult> {
        self.pull_waiting(group, req).await
    }
    async fn commit(&self, group: &str, offsets: Vec<CommitOffset>) -> BResult<()> {
        let group = group.to_string();
        self.run(move |e| {
            let o: Vec<(String, u32, u64)> = offsets.into_iter().map(|c| (c.topic, c.partition, c.offset)).collect();
            Ok(e.commit_offsets(&group, &o)?)
        })
        .await
    }
    async fn delete_group(&self, name: &str) -> BResult<()> {
        let name = name.to_string();
        self.run(move |e| Ok(e.delete_group(&name)?)).await
    }
}

#[async_trait]
impl ResetsApi for Embedded {
    async fn plan_reset(&self, group: &str, req: ResetRequest) -> BResult<ResetPlan> {
        let group = group.to_string();
        self.run(move |e| {
            let parts = (!req.partitions.is_empty()).then_some(req.partitions.as_slice());
            Ok(e.plan_reset(&group, &req.topic, parts, req.spec)?)
        })
        .await
    }
    async fn execute_reset(&self, plan: ResetPlan, force: bool) -> BResult<ResetRecord> {
        self.run(move |e| Ok(e.execute_reset(&plan, force)?)).await
    }
    async fn plan_undo(&self, group: &str) -> BResult<ResetPlan> {
        let group = group.to_string();
        self.run(move |e| Ok(e.plan_undo(&group)?)).await
    }
    async fn reset_history(&self, group: &str) -> BResult<Vec<ResetRecord>> {
        let group = group.to_string();
        self.run(move |e| Ok(e.reset_history(&group))).await
    }
}

#[async_trait]
impl ReplayApi for Embedded {
    async fn plan_replay(&self, req: ReplayRequest) -> BResult<ReplayPlan> {
        self.run(move |e| {
            let parts = (!req.partitions.is_empty()).then_some(req.partitions.as_slice());
            Ok(e.plan_replay(&req.source, parts, req.range, req.target.as_deref())?)
        })
        .await
    }
    /// The copy runs on the blocking pool and stops between batches once this future is dropped
    /// (the HTTP client went away, the server is stopping) or the engine closes.
    async fn execute_replay(&self, plan: ReplayPlan) -> BResult<ReplayResult> {
        let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
        let flag = stop.0.clone();
        self.run(move |e| Ok(e.execute_replay_until(&plan, &flag)?)).await
    }
}

/// Sets its flag when dropped: how blocking work learns that nobody waits for it any more.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[async_trait]
impl Backend for Embedded {
    async fn capabilities(&self) -> BResult<Capabilities> {
        Ok(Capabilities::depot())
    }
    fn target(&self) -> String {
        format!("embedded {}", self.engine.dir().display())
    }
}
