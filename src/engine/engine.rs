//! The engine façade: a data directory of topics and groups, opened exclusively by one process.

use super::config::{EngineConfig, SyncMode};
use super::error::{EngineError, IoContext, Result};
use super::group::{Assignor, Group, Membership, OffsetEntry, Tp};
use super::journal::Journal;
use super::log::{Appended, LogConfig, PartitionLog, now_ms};
use super::record::{NewRecord, Record};
use super::topic::Topic;
use crate::core::names::validate_name;
use crate::core::replay::{ORIGIN_OFFSET, ORIGIN_PARTITION, ORIGIN_TOPIC};
use crate::core::reset;
use crate::core::{
    GroupInfo, MemberInfo, PartitionInfo, PartitionLag, ReplayPlan, ReplayRange, ReplayResult, ReplayRow, ResetPlan,
    ResetRecord, ResetRow, ResetSpec, TopicConfig, TopicInfo,
};
use bytes::Bytes;
use event_listener::{Event, Listener};
use parking_lot::{Condvar, Mutex, RwLock};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Compact the offsets journal when it grows past this.
const OFFSETS_COMPACT_BYTES: u64 = 16 << 20;

/// How a member joins a group.
#[derive(Clone, Debug)]
pub struct JoinRequest {
    /// Rejoin with an existing id; `None` for a new member.
    pub member_id: Option<String>,
    pub client_id: String,
    pub topics: Vec<String>,
    pub session_timeout: Duration,
    pub assignor: Option<Assignor>,
}

impl JoinRequest {
    pub fn new(client_id: &str, topics: &[&str]) -> Self {
        JoinRequest {
            member_id: None,
            client_id: client_id.to_string(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            session_timeout: Duration::from_secs(10),
            assignor: None,
        }
    }
}

/// A record handed to a group member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub topic: String,
    pub partition: u32,
    pub record: Record,
}

struct GroupsState {
    groups: BTreeMap<String, Group>,
    offsets: Journal,
    resets: Journal,
    history: Vec<ResetRecord>,
}

struct Inner {
    dir: PathBuf,
    config: EngineConfig,
    log_config: LogConfig,
    lock_file: File,
    topics: RwLock<BTreeMap<String, Arc<Topic>>>,
    groups: Mutex<GroupsState>,
    /// Notified after every append, for members waiting on any of their partitions.
    any_append: Event,
    closed: AtomicBool,
    stop: Arc<(Mutex<bool>, Condvar)>,
    maintenance: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// The embedded engine. Cheap to clone; closes when [`Engine::close`] is called or the last clone drops.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Engine({})", self.inner.dir.display())
    }
}

fn lock_dir(dir: &Path) -> Result<File> {
    let path = dir.join("depot.lock");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .ctx(|| format!("open lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let (pid, addr) = parse_lock(&text);
            return Err(EngineError::Locked {
                dir: dir.to_path_buf(),
                pid: pid.unwrap_or_else(|| "unknown".into()),
                addr: addr.map(|a| format!(", serving http://{a}")).unwrap_or_default(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(EngineError::io(format!("lock {}", path.display()), e)),
    }
    write_lock(&file, &path, None)?;
    Ok(file)
}

fn write_lock(file: &File, path: &Path, addr: Option<&str>) -> Result<()> {
    let mut text = format!("pid={}\n", std::process::id());
    if let Some(a) = addr {
        text.push_str(&format!("addr={a}\n"));
    }
    file.set_len(0).ctx(|| format!("write {}", path.display()))?;
    // At byte 0: the file position is past the previous contents, and writing there would leave
    // NULs before `pid=` (which then no longer parses).
    file.write_all_at(text.as_bytes(), 0).ctx(|| format!("write {}", path.display()))?;
    Ok(())
}

/// Reads `pid=` and `addr=` from a lock file's text.
pub fn parse_lock(text: &str) -> (Option<String>, Option<String>) {
    let get = |k: &str| text.lines().find_map(|l| l.strip_prefix(k)).map(|s| s.trim().to_string());
    (get("pid="), get("addr="))
}

/// Who holds a data directory: `(pid, address)` from its lock file, if another process holds it.
pub fn lock_holder(dir: &Path) -> Option<(String, Option<String>)> {
    let path = dir.join("depot.lock");
    let file = File::open(&path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => None,
        Err(_) => {
            let text = std::fs::read_to_string(&path).ok()?;
            let (pid, addr) = parse_lock(&text);
            Some((pid.unwrap_or_else(|| "unknown".into()), addr))
        }
    }
}

impl Engine {
    /// Opens (creating if needed) the data directory `dir`.
    pub fn open(dir: impl AsRef<Path>, config: EngineConfig) -> Result<Engine> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).ctx(|| format!("create data directory {}", dir.display()))?;
        let lock_file = lock_dir(&dir)?;
        let topics_dir = dir.join("topics");
        let groups_dir = dir.join("groups");
        for d in [&topics_dir, &groups_dir] {
            std::fs::create_dir_all(d).ctx(|| format!("create {}", d.display()))?;
        }
        let log_config = LogConfig {
            sync: config.sync,
            segment_bytes: config.segment_bytes,
            index_interval: config.index_interval_bytes,
        };
        let mut topics = BTreeMap::new();
        for entry in std::fs::read_dir(&topics_dir).ctx(|| format!("list {}", topics_dir.display()))? {
            let entry = entry.ctx(|| format!("list {}", topics_dir.display()))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let path = entry.path();
            if name.starts_with(".deleted-") {
                std::fs::remove_dir_all(&path).ctx(|| format!("finish deleting {}", path.display()))?;
                continue;
            }
            if !path.join("topic.json").exists() {
                tracing::warn!("{} has no topic.json (creation was interrupted); removing it", path.display());
                std::fs::remove_dir_all(&path).ctx(|| format!("remove {}", path.display()))?;
                continue;
            }
            let topic = Topic::open(&path, &name, &log_config)?;
            topics.insert(name, Arc::new(topic));
        }
        let (offsets, entries) = Journal::open::<OffsetEntry>(&groups_dir.join("offsets.log"), config.sync)?;
        let (resets, history) = Journal::open::<ResetRecord>(&groups_dir.join("resets.log"), SyncMode::Always)?;
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for e in entries {
            apply_offset_entry(&mut groups, e);
        }
        // After a crash in interval/never mode a commit can point past what survived: clamp.
        for g in groups.values_mut() {
            for ((t, p), off) in g.committed.iter_mut() {
                if let Some(log) = topics.get(t).and_then(|tp| tp.partitions.get(*p as usize)) {
                    let end = log.end_offset();
                    if *off > end {
                        tracing::warn!(
                            "group {}: committed offset {off} of {t}/{p} is past the recovered end {end}; clamped",
                            g.name
                        );
                        *off = end;
                    }
                }
            }
        }
        let mut state = GroupsState { groups, offsets, resets, history };
        if state.offsets.size() > OFFSETS_COMPACT_BYTES / 4 {
            compact_offsets(&mut state)?;
        }
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let tick = match config.sync {
            SyncMode::Interval(d) => d.min(config.maintenance_interval),
            _ => config.maintenance_interval,
        };
        let inner = Arc::new(Inner {
            dir,
            config,
            log_config,
            lock_file,
            topics: RwLock::new(topics),
            groups: Mutex::new(state),
            any_append: Event::new(),
            closed: AtomicBool::new(false),
            stop: stop.clone(),
            maintenance: Mutex::new(None),
        });
        let weak = Arc::downgrade(&inner);
        let handle = std::thread::Builder::new()
            .name("depot-maintenance".into())
            .spawn(move || maintenance_loop(weak, stop, tick))
            .ctx(|| "start the maintenance thread".to_string())?;
        *inner.maintenance.lock() = Some(handle);
        Ok(Engine { inner })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Records the address this process serves the data directory on, in the lock file.
    pub fn advertise(&self, addr: Option<&str>) -> Result<()> {
        // After close the lock is released and the file may belong to another process.
        self.check_open()?;
        write_lock(&self.inner.lock_file, &self.inner.dir.join("depot.lock"), addr)
    }

    /// Syncs everything and stops background work. Later calls fail with a clear error.
    pub fn close(&self) -> Result<()> {
        self.inner.close()
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(EngineError::Refused("the engine is closed".into()));
        }
        Ok(())
    }

    // ---- topics -------------------------------------------------------------------------------

    fn topic(&self, name: &str) -> Result<Arc<Topic>> {
        self.inner.topics.read().get(name).cloned().ok_or_else(|| {
            EngineError::not_found_hint(
                format!("topic {name:?}"),
                "list topics with `depot topics`, create one with `depot topic create NAME`",
            )
        })
    }

    fn log(&self, topic: &str, partition: u32) -> Result<Arc<PartitionLog>> {
        Ok(self.topic(topic)?.partition(partition)?.clone())
    }

    /// Creates a topic.
    pub fn create_topic(&self, name: &str, config: TopicConfig) -> Result<TopicInfo> {
        self.check_open()?;
        validate_name("topic", name)?;
        config.validate()?;
        let mut topics = self.inner.topics.write();
        if topics.contains_key(name) {
            return Err(EngineError::AlreadyExists { what: format!("topic {name:?}") });
        }
        let dir = self.inner.dir.join("topics").join(name);
        let topic = Arc::new(Topic::create(&dir, name, config, &self.inner.log_config)?);
        topics.insert(name.to_string(), topic.clone());
        drop(topics);
        self.rebalance_all();
        Ok(topic_info(&topic))
    }

    /// Deletes a topic and its data; groups forget their offsets on it.
    pub fn delete_topic(&self, name: &str) -> Result<()> {
        self.check_open()?;
        let topic = {
            let mut topics = self.inner.topics.write();
            topics.remove(name).ok_or_else(|| EngineError::not_found(format!("topic {name:?}")))?
        };
        let grave = self.inner.dir.join("topics").join(format!(".deleted-{name}-{}", now_ms()));
        std::fs::rename(&topic.dir, &grave).ctx(|| format!("delete {}", topic.dir.display()))?;
        super::segment::sync_dir(&self.inner.dir.join("topics"))?;
        std::fs::remove_dir_all(&grave).ctx(|| format!("remove {}", grave.display()))?;
        let mut gs = self.inner.groups.lock();
        gs.offsets.append(&OffsetEntry::DeleteTopic { topic: name.to_string() }, true)?;
        apply_offset_entry(&mut gs.groups, OffsetEntry::DeleteTopic { topic: name.to_string() });
        drop(gs);
        self.rebalance_all();
        Ok(())
    }

    pub fn list_topics(&self) -> Vec<TopicInfo> {
        self.inner.topics.read().values().map(|t| topic_info(t)).collect()
    }

    pub fn describe_topic(&self, name: &str) -> Result<TopicInfo> {
        Ok(topic_info(&*self.topic(name)?))
    }

    /// The partition a record with this key goes to (Kafka's murmur2 partitioner).
    pub fn partition_for(&self, topic: &str, key: &[u8]) -> Result<u32> {
        Ok(self.topic(topic)?.choose_partition(Some(key)))
    }

    /// Enforces retention on every partition now (it also runs in the background).
    pub fn enforce_retention(&self) -> Result<usize> {
        self.check_open()?;
        let topics: Vec<Arc<Topic>> = self.inner.topics.read().values().cloned().collect();
        let now = now_ms();
        let mut n = 0;
        for t in topics {
            for p in &t.partitions {
                n += p.enforce_retention(t.config.retention_ms, t.config.retention_bytes, now)?;
            }
        }
        Ok(n)
    }

    // ---- producing ----------------------------------------------------------------------------

    /// Appends a batch to one partition. With `producer = Some((id, sequence))`, a retried batch
    /// (same id and sequence) is not appended again and gets its original offsets back.
    pub fn append(
        &self,
        topic: &str,
        partition: u32,
        records: &[NewRecord],
        producer: Option<(u64, u32)>,
    ) -> Result<Appended> {
        self.check_open()?;
        let log = self.log(topic, partition)?;
        let r = log.append(records, producer)?;
        self.inner.any_append.notify(usize::MAX);
        Ok(r)
    }

    /// Publishes records: keyed ones to their murmur2 partition, keyless ones all to the next
    /// partition in turn (sticky for this call). Returns `(partition, offset)` per record, in order.
    pub fn publish(&self, topic: &str, records: Vec<NewRecord>) -> Result<Vec<(u32, u64)>> {
        self.check_open()?;
        let t = self.topic(topic)?;
        let sticky = t.choose_partition(None);
        let mut by_part: BTreeMap<u32, Vec<(usize, NewRecord)>> = BTreeMap::new();
        for (i, r) in records.into_iter().enumerate() {
            let p = match &r.key {
                Some(k) => t.choose_partition(Some(k)),
                None => sticky,
            };
            by_part.entry(p).or_default().push((i, r));
        }
        let total: usize = by_part.values().map(Vec::len).sum();
        let mut out = vec![(0u32, 0u64); total];
        for (p, items) in by_part {
            let (idx, recs): (Vec<usize>, Vec<NewRecord>) = items.into_iter().unzip();
            let a = t.partition(p)?.append(&recs, None)?;
            for (k, i) in idx.into_iter().enumerate() {
                out[i] = (p, a.base_offset + k as u64);
            }
        }
        self.inner.any_append.notify(usize::MAX);
        Ok(out)
    }

    /// A fresh producer id for idempotent appends.
    pub fn new_producer_id(&self) -> u64 {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        (t ^ (u64::from(std::process::id()) << 40) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1
    }

    // ---- reading ------------------------------------------------------------------------------

    /// Reads records from `offset` (bounded by `max_records` and about `max_bytes`).
    pub fn fetch(
        &self,
        topic: &str,
        partition: u32,
        offset: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Record>> {
        self.log(topic, partition)?.read(offset, max_records, max_bytes)
    }

    /// Like [`fetch`](Self::fetch), but at the end of the log waits up to `timeout` for records.
    pub fn fetch_wait(
        &self,
        topic: &str,
        partition: u32,
        offset: u64,
        max_records: usize,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<Vec<Record>> {
        self.log(topic, partition)?.read_wait(offset, max_records, max_bytes, timeout)
    }

    /// The partition's log, for async waiting on [`PartitionLog::appended`].
    pub fn partition_log(&self, topic: &str, partition: u32) -> Result<Arc<PartitionLog>> {
        self.log(topic, partition)
    }

    /// First offset whose timestamp is at or after `ts_ms` (the end offset if none).
    pub fn offset_for_time(&self, topic: &str, partition: u32, ts_ms: i64) -> Result<u64> {
        self.log(topic, partition)?.offset_for_time(ts_ms)
    }

    // ---- groups -------------------------------------------------------------------------------

    fn partition_counts(&self) -> BTreeMap<String, u32> {
        self.inner.topics.read().iter().map(|(n, t)| (n.clone(), t.partitions.len() as u32)).collect()
    }

    fn rebalance_all(&self) {
        let counts = self.partition_counts();
        let mut gs = self.inner.groups.lock();
        for g in gs.groups.values_mut() {
            if !g.members.is_empty() {
                g.rebalance(&counts);
            }
        }
    }

    /// Evicts members whose session timed out (also done in the background every second).
    pub fn expire_members(&self) -> usize {
        let counts = self.partition_counts();
        let now = Instant::now();
        let mut gs = self.inner.groups.lock();
        gs.groups.values_mut().map(|g| g.expire(now, &counts).len()).sum()
    }

    /// Joins (or rejoins) a group; every join rebalances the group into a new generation.
    pub fn join_group(&self, group: &str, req: JoinRequest) -> Result<Membership> {
        self.check_open()?;
        validate_name("group", group)?;
        if req.topics.is_empty() {
            return Err(EngineError::InvalidArgument("a member must subscribe to at least one topic".into()));
        }
        for t in &req.topics {
            self.topic(t)?;
        }
        if req.session_timeout < Duration::from_millis(100) || req.session_timeout > Duration::from_secs(3600) {
            return Err(EngineError::InvalidArgument("session timeout must be between 100 ms and 1 hour".into()));
        }
        let counts = self.partition_counts();
        let mut gs = self.inner.groups.lock();
        let g = gs.groups.entry(group.to_string()).or_insert_with(|| Group::new(group));
        g.expire(Instant::now(), &counts);
        if let Some(a) = req.assignor
            && g.members.is_empty()
        {
            g.assignor = a;
        }
        let id = g.join(req.member_id.as_deref(), &req.client_id, req.topics, req.session_timeout, &counts);
        g.membership(&id)
    }

    /// Tells the group the member is alive; returns its current generation and assignment (which
    /// change after a rebalance).
    pub fn heartbeat(&self, group: &str, member_id: &str) -> Result<Membership> {
        let counts = self.partition_counts();
        let mut gs = self.inner.groups.lock();
        let g = group_mut(&mut gs, group)?;
        g.expire(Instant::now(), &counts);
        let current = g.generation;
        g.check(member_id, current)?;
        g.membership(member_id)
    }

    /// Leaves a group (without committing); the group rebalances.
    pub fn leave_group(&self, group: &str, member_id: &str) -> Result<()> {
        let counts = self.partition_counts();
        let mut gs = self.inner.groups.lock();
        let g = group_mut(&mut gs, group)?;
        if !g.remove(member_id, &counts) {
            return Err(EngineError::not_found(format!("member {member_id} of group {group}")));
        }
        // Remember what was handed out (and redelivered) even without a commit, so the next
        // process to consume as this group counts what it gets again as redeliveries.
        let entry = OffsetEntry::Commit {
            group: g.name.clone(),
            offsets: Vec::new(),
            redeliveries: g.redeliveries.iter().map(|((t, p), n)| (t.clone(), *p, *n)).collect(),
            delivered: g.delivered.iter().map(|((t, p), n)| (t.clone(), *p, *n)).collect(),
        };
        gs.offsets.append(&entry, false)?;
        Ok(())
    }

    /// Hands the member up to `max_records` records from its assigned partitions, continuing where
    /// the group's previous delivery stopped (after a rebalance: from the committed offset).
    pub fn poll(
        &self,
        group: &str,
        member_id: &str,
        generation: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Delivery>> {
        self.check_open()?;
        let plan: Vec<(Tp, Arc<PartitionLog>, u64)> = {
            let mut gs = self.inner.groups.lock();
            let g = group_mut(&mut gs, group)?;
            g.check(member_id, generation)?;
            // Fairness: each of the member's polls starts one partition further, so a partition
            // with a deep backlog cannot starve its other partitions.
            let mut assignment = Vec::new();
            if let Some(m) = g.members.get_mut(member_id) {
                assignment = m.assignment.clone();
                if !assignment.is_empty() {
                    let k = m.poll_turn % assignment.len();
                    assignment.rotate_left(k);
                }
                m.poll_turn = m.poll_turn.wrapping_add(1);
            }
            let mut plan = Vec::new();
            for tp in assignment {
                if let Ok(log) = self.log(&tp.0, tp.1) {
                    let pos = g.position(&tp, log.log_start());
                    plan.push((tp, log, pos));
                }
            }
            plan
        };
        let mut out = Vec::new();
        let mut spans = Vec::new();
        for (tp, log, pos) in plan {
            if out.len() >= max_records {
                break;
            }
            let pos = pos.min(log.end_offset());
            let recs = match log.read(pos, max_records - out.len(), max_bytes) {
                // Retention moved the log start past the position meanwhile: continue from there.
                Err(EngineError::OffsetOutOfRange { requested, start, .. }) if requested < start => {
                    log.read(start, max_records - out.len(), max_bytes)?
                }
                r => r?,
            };
            if let (Some(first), Some(last)) = (recs.first(), recs.last()) {
                spans.push((tp.clone(), first.offset, last.offset + 1));
                log.rate_out.add(recs.len() as u64);
            }
            out.extend(recs.into_iter().map(|record| Delivery { topic: tp.0.clone(), partition: tp.1, record }));
        }
        let mut gs = self.inner.groups.lock();
        let g = group_mut(&mut gs, group)?;
        g.check(member_id, generation)?;
        for (tp, from, to) in spans {
            g.delivered(&tp, from, to);
        }
        Ok(out)
    }

    /// Like [`poll`](Self::poll), but waits up to `timeout` for records when there are none.
    pub fn poll_wait(
        &self,
        group: &str,
        member_id: &str,
        generation: u64,
        max_records: usize,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<Vec<Delivery>> {
        let deadline = Instant::now() + timeout;
        loop {
            let listener = self.inner.any_append.listen();
            let got = self.poll(group, member_id, generation, max_records, max_bytes)?;
            if !got.is_empty() || listener.wait_deadline(deadline).is_none() {
                return if got.is_empty() {
                    self.poll(group, member_id, generation, max_records, max_bytes)
                } else {
                    Ok(got)
                };
            }
        }
    }

    /// A committed offset may be at most the partition's end (the next record to come).
    fn check_commit_range(&self, offsets: &[(String, u32, u64)]) -> Result<()> {
        for (t, p, o) in offsets {
            let log = self.log(t, *p)?;
            let (start, end) = (log.log_start(), log.end_offset());
            if *o > end {
                return Err(EngineError::OffsetOutOfRange {
                    topic: t.clone(),
                    partition: *p,
                    requested: *o,
                    start,
                    end,
                });
            }
        }
        Ok(())
    }

    /// Commits offsets (the next offset to consume, as Kafka does) for partitions the member owns
    /// in this generation. Commits only move forward; moving back takes a reset.
    pub fn commit(&self, group: &str, member_id: &str, generation: u64, offsets: &[(String, u32, u64)]) -> Result<()> {
        self.check_open()?;
        self.check_commit_range(offsets)?;
        let mut gs = self.inner.groups.lock();
        let g = group_mut(&mut gs, group)?;
        let m = g.check(member_id, generation)?.clone();
        for (t, p, o) in offsets {
            let tp = (t.clone(), *p);
            if !m.assignment.contains(&tp) {
                return Err(EngineError::Refused(format!(
                    "{t}/{p} is not assigned to member {member_id} in generation {generation}; only its owner may commit"
                )));
            }
            if let Some(&c) = g.committed.get(&tp)
                && *o < c
            {
                return Err(EngineError::Refused(format!(
                    "commit of {t}/{p} would move the group back from {c} to {o}; commits only move forward — use a reset to rewind"
                )));
            }
        }
        let entry = commit_entry(g, offsets);
        gs.offsets.append(&entry, false)?;
        let gs = &mut *gs;
        apply_offset_entry(&mut gs.groups, entry);
        if gs.offsets.size() > OFFSETS_COMPACT_BYTES {
            compact_offsets(gs)?;
        }
        Ok(())
    }

    /// Moves the member's delivery position on each of its partitions back to the committed
    /// offset, like a consumer seeking there after a failure: what was handed out but not
    /// committed is handed out again (and counted as redelivered).
    pub fn seek_to_committed(&self, group: &str, member_id: &str, generation: u64) -> Result<()> {
        let mut gs = self.inner.groups.lock();
        let g = group_mut(&mut gs, group)?;
        let assignment = g.check(member_id, generation)?.assignment.clone();
        for tp in assignment {
            g.positions.remove(&tp);
        }
        Ok(())
    }

    /// Commits everything handed to the member so far on its partitions.
    pub fn commit_delivered(&self, group: &str, member_id: &str, generation: u64) -> Result<Vec<(String, u32, u64)>> {
        let offsets: Vec<(String, u32, u64)> = {
            let gs = self.inner.groups.lock();
            let g = gs.groups.get(group).ok_or_else(|| EngineError::not_found(format!("group {group:?}")))?;
            let m = g.member(member_id)?;
            m.assignment
                .iter()
                .filter_map(|tp| g.positions.get(tp).map(|&o| (tp.0.clone(), tp.1, o)))
                .filter(|(t, p, o)| g.committed.get(&(t.clone(), *p)).is_none_or(|c| o > c))
                .collect()
        };
        if !offsets.is_empty() {
            self.commit(group, member_id, generation, &offsets)?;
        }
        Ok(offsets)
    }

    pub fn list_groups(&self) -> Vec<GroupInfo> {
        self.expire_members();
        let names: Vec<String> = self.inner.groups.lock().groups.keys().cloned().collect();
        names.iter().filter_map(|n| self.describe_group(n).ok()).collect()
    }

    /// A group's members, assignment, committed offsets and lag (in records and in time).
    pub fn describe_group(&self, name: &str) -> Result<GroupInfo> {
        let counts = self.partition_counts();
        let (info, wanted) = {
            let mut gs = self.inner.groups.lock();
            let g = group_mut(&mut gs, name)?;
            g.expire(Instant::now(), &counts);
            let now = Instant::now();
            let members = g
                .members
                .values()
                .map(|m| MemberInfo {
                    member_id: m.id.clone(),
                    client_id: m.client_id.clone(),
                    topics: m.topics.clone(),
                    assignment: m.assignment.clone(),
                    last_seen_ms: now.duration_since(m.last_seen).as_millis() as u64,
                    session_timeout_ms: m.session_timeout.as_millis() as u64,
                })
                .collect();
            let mut wanted = Vec::new();
            for t in g.topics() {
                for p in 0..counts.get(&t).copied().unwrap_or(0) {
                    let tp = (t.clone(), p);
                    wanted.push((
                        tp.clone(),
                        g.committed.get(&tp).copied(),
                        g.owner(&tp).map(str::to_string),
                        g.redeliveries.get(&tp).copied().unwrap_or(0),
                    ));
                }
            }
            let info = GroupInfo {
                name: g.name.clone(),
                state: if g.members.is_empty() { "empty".into() } else { "stable".into() },
                generation: g.generation,
                assignor: match g.assignor {
                    Assignor::Range => "range".into(),
                    Assignor::RoundRobin => "round-robin".into(),
                },
                members,
                partitions: Vec::new(),
                consume_rate: g.consumed.per_second(),
            };
            (info, wanted)
        };
        let mut info = info;
        let now = now_ms();
        for ((t, p), committed, owner, redeliveries) in wanted {
            let Ok(log) = self.log(&t, p) else { continue };
            let (start, end) = (log.log_start(), log.end_offset());
            let from = committed.unwrap_or(start).max(start);
            let lag = end.saturating_sub(from);
            let lag_ms = if lag == 0 {
                0
            } else {
                log.timestamp_of(from).ok().flatten().map(|ts| now.saturating_sub(ts).max(0) as u64).unwrap_or(0)
            };
            info.partitions.push(PartitionLag {
                topic: t,
                partition: p,
                committed,
                log_start: start,
                end_offset: end,
                lag,
                lag_ms,
                owner,
                redeliveries,
            });
        }
        Ok(info)
    }

    /// Deletes a group and its committed offsets; refused while it has live members.
    pub fn delete_group(&self, name: &str) -> Result<()> {
        self.check_open()?;
        self.expire_members();
        let mut gs = self.inner.groups.lock();
        let g = group_mut(&mut gs, name)?;
        if !g.members.is_empty() {
            return Err(EngineError::Refused(format!(
                "group {name} has {} live members; stop them first",
                g.members.len()
            )));
        }
        gs.offsets.append(&OffsetEntry::DeleteGroup { group: name.to_string() }, true)?;
        gs.groups.remove(name);
        Ok(())
    }

    // ---- resets -------------------------------------------------------------------------------

    /// Computes a reset (a dry run): before/after per partition, clamped to each partition's range.
    pub fn plan_reset(
        &self,
        group: &str,
        topic: &str,
        partitions: Option<&[u32]>,
        spec: ResetSpec,
    ) -> Result<ResetPlan> {
        validate_name("group", group)?;
        let t = self.topic(topic)?;
        let parts: Vec<u32> = match partitions {
            Some(ps) if !ps.is_empty() => {
                for &p in ps {
                    t.partition(p)?;
                }
                ps.to_vec()
            }
            _ => (0..t.partitions.len() as u32).collect(),
        };
        self.expire_members();
        let (committed, live) = {
            let gs = self.inner.groups.lock();
            match gs.groups.get(group) {
                Some(g) => (
                    parts.iter().map(|&p| g.committed.get(&(topic.to_string(), p)).copied()).collect::<Vec<_>>(),
                    g.members.keys().cloned().collect(),
                ),
                None => (vec![None; parts.len()], Vec::new()),
            }
        };
        let now = now_ms();
        let mut rows = Vec::new();
        for (p, before) in parts.into_iter().zip(committed) {
            let log = t.partition(p)?.clone();
            let (start, end) = (log.log_start(), log.end_offset());
            let resolved = spec.time_to_resolve(now).map(|ts| log.offset_for_time(ts)).transpose()?;
            let (after, note) = reset::target(&spec, before, start, end, resolved)?;
            rows.push(ResetRow { partition: p, before, after, log_start: start, end_offset: end, note });
        }
        Ok(ResetPlan {
            group: group.to_string(),
            topic: topic.to_string(),
            spec,
            rows,
            live_members: live,
            undo_of: None,
        })
    }

    /// Applies a plan: refused while the group has live members unless `force`, and refused if the
    /// committed offsets changed since the plan was made. Journaled durably before it is applied.
    pub fn execute_reset(&self, plan: &ResetPlan, force: bool) -> Result<ResetRecord> {
        self.check_open()?;
        self.expire_members();
        let mut gs = self.inner.groups.lock();
        let gs = &mut *gs;
        let g = gs.groups.entry(plan.group.clone()).or_insert_with(|| Group::new(&plan.group));
        if !g.members.is_empty() && !force {
            let names: Vec<&String> = g.members.keys().collect();
            return Err(EngineError::Refused(format!(
                "group {} has live members ({}); stop them first or force the reset",
                plan.group,
                names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        for r in &plan.rows {
            let now = g.committed.get(&(plan.topic.clone(), r.partition)).copied();
            if now != r.before {
                return Err(EngineError::Conflict(format!(
                    "the committed offset of {}/{} changed from {} to {} since the plan was made; plan again",
                    plan.topic,
                    r.partition,
                    fmt_opt(r.before),
                    fmt_opt(now)
                )));
            }
        }
        let id = gs.history.last().map(|h| h.id + 1).unwrap_or(1);
        let record = ResetRecord {
            id,
            at_ms: now_ms(),
            group: plan.group.clone(),
            topic: plan.topic.clone(),
            spec: plan.spec.clone(),
            rows: plan.rows.iter().map(|r| (r.partition, r.before, r.after)).collect(),
            forced: force && !g.members.is_empty(),
            undo_of: plan.undo_of,
        };
        gs.resets.append(&record, true)?;
        let offsets: Vec<(String, u32, u64)> =
            plan.rows.iter().map(|r| (plan.topic.clone(), r.partition, r.after)).collect();
        let entry = commit_entry(g, &offsets);
        gs.offsets.append(&entry, true)?;
        for r in &plan.rows {
            g.positions.remove(&(plan.topic.clone(), r.partition));
        }
        apply_offset_entry(&mut gs.groups, entry);
        gs.history.push(record.clone());
        tracing::info!("reset #{id} of group {} on {} ({}) executed", plan.group, plan.topic, plan.spec);
        Ok(record)
    }

    /// Plans undoing the group's most recent reset that has not been undone yet.
    pub fn plan_undo(&self, group: &str) -> Result<ResetPlan> {
        let last = {
            let gs = self.inner.groups.lock();
            let undone: Vec<u64> = gs.history.iter().filter_map(|h| h.undo_of).collect();
            gs.history
                .iter()
                .rev()
                .find(|h| h.group == group && h.undo_of.is_none() && !undone.contains(&h.id))
                .cloned()
                .ok_or_else(|| {
                    EngineError::not_found_hint(
                        format!("a reset of group {group:?} to undo"),
                        "nothing in the reset journal",
                    )
                })?
        };
        let t = self.topic(&last.topic)?;
        let mut plan = self.plan_reset(
            group,
            &last.topic,
            Some(&last.rows.iter().map(|r| r.0).collect::<Vec<_>>()),
            last.spec.clone(),
        )?;
        plan.undo_of = Some(last.id);
        for (row, (p, before, _after)) in plan.rows.iter_mut().zip(&last.rows) {
            let log = t.partition(*p)?;
            let (start, end) = (log.log_start(), log.end_offset());
            let target = before.unwrap_or(start);
            row.after = target.clamp(start, end);
            row.note = match before {
                None => Some(format!("had no committed offset before reset #{}; restored to the log start", last.id)),
                Some(b) if *b != row.after => Some(format!("{b} is no longer in the log; clamped to {}", row.after)),
                _ => None,
            };
        }
        Ok(plan)
    }

    /// Every executed reset (and undo) of a group, oldest first.
    pub fn reset_history(&self, group: &str) -> Vec<ResetRecord> {
        self.inner.groups.lock().history.iter().filter(|h| h.group == group).cloned().collect()
    }

    // ---- replay -------------------------------------------------------------------------------

    /// Plans copying a range of `source` (all or some partitions) to `target` (default: itself).
    pub fn plan_replay(
        &self,
        source: &str,
        partitions: Option<&[u32]>,
        range: ReplayRange,
        target: Option<&str>,
    ) -> Result<ReplayPlan> {
        let t = self.topic(source)?;
        let target = target.unwrap_or(source).to_string();
        self.topic(&target)?;
        let parts: Vec<u32> = match partitions {
            Some(ps) if !ps.is_empty() => ps.to_vec(),
            _ => (0..t.partitions.len() as u32).collect(),
        };
        range.check()?;
        let mut rows = Vec::new();
        for p in parts {
            let log = t.partition(p)?;
            let (start, end) = (log.log_start(), log.end_offset());
            let (from, to) = match range {
                ReplayRange::Offsets { from, to } => (from.clamp(start, end), to.clamp(start, end)),
                ReplayRange::Time { since_ms, until_ms } => {
                    (log.offset_for_time(since_ms)?, log.offset_for_time(until_ms)?)
                }
            };
            let to = to.max(from);
            rows.push(ReplayRow { partition: p, from, to, count: to - from });
        }
        let total = rows.iter().map(|r| r.count).sum();
        Ok(ReplayPlan { source: source.to_string(), target, range, rows, total })
    }

    /// Runs a replay plan: appends copies with `depot.origin.*` headers; returns how many.
    pub fn execute_replay(&self, plan: &ReplayPlan) -> Result<ReplayResult> {
        self.check_open()?;
        let src = self.topic(&plan.source)?;
        let dst = self.topic(&plan.target)?;
        let same = plan.source == plan.target;
        let mut appended = 0u64;
        for row in &plan.rows {
            let log = src.partition(row.partition)?.clone();
            let mut at = row.from;
            while at < row.to {
                let recs = log.read(at, ((row.to - at) as usize).min(1000), 4 << 20)?;
                if recs.is_empty() {
                    break;
                }
                let mut by_part: BTreeMap<u32, Vec<NewRecord>> = BTreeMap::new();
                for r in recs.iter().filter(|r| r.offset < row.to) {
                    let p = if same {
                        row.partition
                    } else {
                        match &r.key {
                            Some(k) => dst.choose_partition(Some(k)),
                            None => row.partition % dst.partitions.len() as u32,
                        }
                    };
                    let mut headers = r.headers.clone();
                    headers.push((ORIGIN_TOPIC.into(), Bytes::from(plan.source.clone())));
                    headers.push((ORIGIN_PARTITION.into(), Bytes::from(row.partition.to_string())));
                    headers.push((ORIGIN_OFFSET.into(), Bytes::from(r.offset.to_string())));
                    by_part.entry(p).or_default().push(NewRecord {
                        key: r.key.clone(),
                        value: r.value.clone(),
                        headers,
                    });
                }
                for (p, batch) in by_part {
                    appended += batch.len() as u64;
                    dst.partition(p)?.append(&batch, None)?;
                }
                at = recs[recs.len() - 1].offset + 1;
            }
        }
        self.inner.any_append.notify(usize::MAX);
        Ok(ReplayResult { target: plan.target.clone(), appended })
    }

    /// Commits offsets for a group that has no live members (an operator or a one-off pull that
    /// already left). Like member commits, these only move forward.
    pub fn commit_offsets(&self, group: &str, offsets: &[(String, u32, u64)]) -> Result<()> {
        self.check_open()?;
        validate_name("group", group)?;
        self.check_commit_range(offsets)?;
        self.expire_members();
        let mut gs = self.inner.groups.lock();
        let gs = &mut *gs;
        let g = gs.groups.entry(group.to_string()).or_insert_with(|| Group::new(group));
        if !g.members.is_empty() {
            return Err(EngineError::Refused(format!(
                "group {group} has {} live member(s); only they may commit while they run",
                g.members.len()
            )));
        }
        for (t, p, o) in offsets {
            if let Some(&c) = g.committed.get(&(t.clone(), *p))
                && *o < c
            {
                return Err(EngineError::Refused(format!(
                    "commit of {t}/{p} would move the group back from {c} to {o}; commits only move forward — use a reset to rewind"
                )));
            }
        }
        let entry = commit_entry(g, offsets);
        gs.offsets.append(&entry, false)?;
        apply_offset_entry(&mut gs.groups, entry);
        Ok(())
    }

    /// fsyncs every partition and the offsets journal now.
    pub fn flush(&self) -> Result<()> {
        self.inner.flush()
    }
}

fn fmt_opt(o: Option<u64>) -> String {
    o.map(|v| v.to_string()).unwrap_or_else(|| "none".into())
}

fn group_mut<'a>(gs: &'a mut GroupsState, name: &str) -> Result<&'a mut Group> {
    gs.groups
        .get_mut(name)
        .ok_or_else(|| EngineError::not_found_hint(format!("group {name:?}"), "list groups with `depot groups`"))
}

fn commit_entry(g: &Group, offsets: &[(String, u32, u64)]) -> OffsetEntry {
    let tps: Vec<Tp> = offsets.iter().map(|(t, p, _)| (t.clone(), *p)).collect();
    OffsetEntry::Commit {
        group: g.name.clone(),
        offsets: offsets.to_vec(),
        redeliveries: tps.iter().filter_map(|tp| g.redeliveries.get(tp).map(|&n| (tp.0.clone(), tp.1, n))).collect(),
        delivered: tps.iter().filter_map(|tp| g.delivered.get(tp).map(|&n| (tp.0.clone(), tp.1, n))).collect(),
    }
}

fn apply_offset_entry(groups: &mut BTreeMap<String, Group>, e: OffsetEntry) {
    match e {
        OffsetEntry::Commit { group, offsets, redeliveries, delivered } => {
            let g = groups.entry(group.clone()).or_insert_with(|| Group::new(&group));
            for (t, p, o) in offsets {
                g.committed.insert((t, p), o);
            }
            for (t, p, n) in redeliveries {
                g.redeliveries.insert((t, p), n);
            }
            for (t, p, n) in delivered {
                let d = g.delivered.entry((t, p)).or_insert(0);
                *d = (*d).max(n);
            }
        }
        OffsetEntry::DeleteGroup { group } => {
            groups.remove(&group);
        }
        OffsetEntry::DeleteTopic { topic } => {
            for g in groups.values_mut() {
                g.committed.retain(|(t, _), _| *t != topic);
                g.redeliveries.retain(|(t, _), _| *t != topic);
                g.delivered.retain(|(t, _), _| *t != topic);
                g.positions.retain(|(t, _), _| *t != topic);
            }
        }
    }
}

fn compact_offsets(gs: &mut GroupsState) -> Result<()> {
    let entries: Vec<OffsetEntry> = gs
        .groups
        .values()
        .filter(|g| !g.committed.is_empty())
        .map(|g| {
            let offsets: Vec<(String, u32, u64)> = g.committed.iter().map(|((t, p), o)| (t.clone(), *p, *o)).collect();
            commit_entry(g, &offsets)
        })
        .collect();
    gs.offsets.rewrite(&entries)
}

fn topic_info(t: &Topic) -> TopicInfo {
    TopicInfo {
        name: t.name.clone(),
        config: t.config.clone(),
        partitions: t
            .partitions
            .iter()
            .map(|p| {
                let s = p.stats();
                PartitionInfo {
                    partition: p.partition,
                    log_start: s.log_start,
                    end_offset: s.end_offset,
                    size_bytes: s.size_bytes,
                    segments: s.segments,
                    rate_in: p.rate_in.per_second(),
                    rate_out: p.rate_out.per_second(),
                }
            })
            .collect(),
    }
}

impl Inner {
    fn all_logs(&self) -> Vec<Arc<PartitionLog>> {
        self.topics.read().values().flat_map(|t| t.partitions.iter().cloned()).collect()
    }

    fn flush(&self) -> Result<()> {
        let mut first_err = None;
        for log in self.all_logs() {
            if let Err(e) = log.flush() {
                tracing::error!("{}/{}: {e}", log.topic, log.partition);
                first_err.get_or_insert(e);
            }
        }
        if let Err(e) = self.groups.lock().offsets.flush() {
            tracing::error!("{e}");
            first_err.get_or_insert(e);
        }
        first_err.map_or(Ok(()), Err)
    }

    fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(h) = self.maintenance.lock().take()
            && h.thread().id() != std::thread::current().id()
        {
            let _ = h.join();
        }
        let mut first_err = None;
        for log in self.all_logs() {
            if let Err(e) = log.close() {
                first_err.get_or_insert(e);
            }
        }
        if let Err(e) = self.groups.lock().offsets.flush() {
            first_err.get_or_insert(e);
        }
        // Release the data directory now, not when the last handle drops, so it can be reopened.
        if let Err(e) = self.lock_file.unlock() {
            first_err.get_or_insert(EngineError::io(format!("unlock {}", self.dir.join("depot.lock").display()), e));
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::error!("closing {} failed: {e}", self.dir.display());
        }
    }
}

fn maintenance_loop(weak: Weak<Inner>, stop: Arc<(Mutex<bool>, Condvar)>, tick: Duration) {
    let mut last_flush = Instant::now();
    let mut last_maint = Instant::now();
    loop {
        {
            let mut stopped = stop.0.lock();
            if *stopped {
                return;
            }
            stop.1.wait_for(&mut stopped, tick);
            if *stopped {
                return;
            }
        }
        let Some(inner) = weak.upgrade() else { return };
        if let SyncMode::Interval(every) = inner.config.sync
            && last_flush.elapsed() >= every
        {
            last_flush = Instant::now();
            // Errors are logged inside and make the partition refuse writes: never swallowed.
            let _ = inner.flush();
        }
        if last_maint.elapsed() >= inner.config.maintenance_interval {
            last_maint = Instant::now();
            let engine = Engine { inner };
            engine.expire_members();
            if let Err(e) = engine.enforce_retention() {
                tracing::error!("retention: {e}");
            }
        }
    }
}
