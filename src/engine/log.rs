//! One partition: an append-only log of segments, with group commit, recovery, fetch and retention.
//!
//! Files in the partition directory: `NNNNNNNNNNNNNNNNNNNN.log` / `.index` / `.timeindex` per segment
//! and `checkpoint`, which records the last fsynced position of the active segment together with
//! the producer-id state at that point. Opening reads the indexes and validates only what follows
//! the checkpoint in the active segment.

use super::config::SyncMode;
use super::error::{EngineError, IoContext, Result};
use super::producer::{Producers, SeqCheck};
use super::rate::RateMeter;
use super::record::{self, NewRecord, Record};
use super::segment::{self, Frame, FrameReader, Segment};
use event_listener::{Event, Listener};
use parking_lot::{Condvar, Mutex};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CHECKPOINT_MAGIC: &[u8; 4] = b"DCK2";
/// How long a writer watches an fsync in flight before it parks.
const SPIN_WAIT: Duration = Duration::from_micros(400);
/// The longest a group-commit leader waits for more writers before it fsyncs.
const GATHER_MAX: Duration = Duration::from_micros(200);
/// How often (at most) a sync also rewrites the checkpoint and index files.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    crate::core::time::now_ms()
}

/// Settings a partition needs.
#[derive(Clone, Debug)]
pub struct LogConfig {
    pub sync: SyncMode,
    pub segment_bytes: u64,
    pub index_interval: u64,
}

/// The result of an append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub base_offset: u64,
    pub count: u32,
    /// True when this was a retry of a batch already in the log (nothing new was written).
    pub duplicate: bool,
}

/// What recovery did on open, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Bytes of the active segment validated on open.
    pub scanned_bytes: u64,
    /// Bytes cut from a torn tail, and where.
    pub truncated: Option<(PathBuf, u64, u64)>,
}

struct LogState {
    segments: Vec<Segment>,
    next_offset: u64,
    last_ts: i64,
    producers: Producers,
    failed: Option<String>,
    scratch: Vec<u8>,
    /// Segments sealed without an fsync (`sync=never`): the next flush (a clean close) fsyncs them.
    unsynced: Vec<(Arc<File>, PathBuf)>,
}

impl LogState {
    fn active(&mut self) -> &mut Segment {
        let last = self.segments.len() - 1;
        &mut self.segments[last]
    }
}

struct SyncState {
    synced_seq: u64,
    /// Writes the previous fsync covered.
    last_group: u64,
    syncing: bool,
    failed: Option<String>,
}

/// Summary numbers of a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogStats {
    pub log_start: u64,
    pub end_offset: u64,
    pub size_bytes: u64,
    pub segments: usize,
}

/// One partition's log.
pub struct PartitionLog {
    pub topic: String,
    pub partition: u32,
    dir: PathBuf,
    cfg: LogConfig,
    state: Mutex<LogState>,
    sync: Mutex<SyncState>,
    sync_cv: Condvar,
    written_seq: AtomicU64,
    last_checkpoint: Mutex<Instant>,
    /// Mirrors of the sync state for writers watching an fsync without the lock.
    synced_hint: AtomicU64,
    sync_failed_hint: std::sync::atomic::AtomicBool,
    /// Read memory reused by the next fetch (see `FrameReader::with_scratch`).
    read_buf: Mutex<bytes::BytesMut>,
    /// Offset below which records are visible to readers (durable as configured).
    hw: AtomicU64,
    log_start: AtomicU64,
    /// Notified whenever new records become visible.
    pub appended: Event,
    pub rate_in: RateMeter,
    pub rate_out: RateMeter,
}

impl std::fmt::Debug for PartitionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PartitionLog({}/{})", self.topic, self.partition)
    }
}

impl PartitionLog {
    /// Opens (or creates) the partition in `dir`, recovering the active segment's tail.
    pub fn open(dir: &Path, topic: &str, partition: u32, cfg: LogConfig) -> Result<(PartitionLog, RecoveryReport)> {
        std::fs::create_dir_all(dir).ctx(|| format!("create partition directory {}", dir.display()))?;
        let mut bases = Vec::new();
        for entry in std::fs::read_dir(dir).ctx(|| format!("list {}", dir.display()))? {
            let entry = entry.ctx(|| format!("list {}", dir.display()))?;
            if let Some(b) = entry.file_name().to_str().and_then(segment::parse_log_name) {
                bases.push(b);
            }
        }
        bases.sort_unstable();
        let sync_files = cfg.sync != SyncMode::Never;
        let mut segments = Vec::with_capacity(bases.len().max(1));
        let mut report = RecoveryReport::default();
        let (next_offset, last_ts, producers) = if bases.is_empty() {
            segments.push(Segment::create(dir, 0, sync_files)?);
            (0, i64::MIN, Producers::default())
        } else {
            for w in bases.windows(2) {
                segments.push(open_sealed(dir, w[0], w[1], cfg.index_interval)?);
            }
            let last = bases[bases.len() - 1];
            let (seg, next, ts, producers) = recover_active(dir, last, &segments, &cfg, &mut report)?;
            // Timestamps never go back, even when the checkpoint is gone and the active segment is empty.
            let ts = segments.iter().map(|s| s.max_ts).fold(ts, i64::max);
            segments.push(seg);
            (next, ts, producers)
        };
        let log_start = segments[0].base;
        let log = PartitionLog {
            topic: topic.to_string(),
            partition,
            dir: dir.to_path_buf(),
            cfg,
            state: Mutex::new(LogState {
                segments,
                next_offset,
                last_ts,
                producers,
                failed: None,
                scratch: Vec::new(),
                unsynced: Vec::new(),
            }),
            sync: Mutex::new(SyncState { synced_seq: 0, last_group: 1, syncing: false, failed: None }),
            sync_cv: Condvar::new(),
            written_seq: AtomicU64::new(0),
            last_checkpoint: Mutex::new(Instant::now()),
            synced_hint: AtomicU64::new(0),
            sync_failed_hint: std::sync::atomic::AtomicBool::new(false),
            read_buf: Mutex::new(bytes::BytesMut::new()),
            hw: AtomicU64::new(next_offset),
            log_start: AtomicU64::new(log_start),
            appended: Event::new(),
            rate_in: RateMeter::default(),
            rate_out: RateMeter::default(),
        };
        Ok((log, report))
    }

    /// First offset still in the log.
    pub fn log_start(&self) -> u64 {
        self.log_start.load(Ordering::Acquire)
    }

    /// Offset after the last visible record (the high watermark).
    pub fn end_offset(&self) -> u64 {
        self.hw.load(Ordering::Acquire)
    }

    pub fn stats(&self) -> LogStats {
        let st = self.state.lock();
        LogStats {
            log_start: self.log_start(),
            end_offset: self.end_offset(),
            size_bytes: st.segments.iter().map(|s| s.size).sum(),
            segments: st.segments.len(),
        }
    }

    fn fail(&self, what: String) -> EngineError {
        tracing::error!("{what}");
        self.state.lock().failed = Some(what.clone());
        EngineError::Failed(what)
    }

    /// Appends `records` as one batch; with `producer = Some((id, seq))` a retried batch is not
    /// appended twice. Returns once the batch is durable as the sync mode promises.
    pub fn append(&self, records: &[NewRecord], producer: Option<(u64, u32)>) -> Result<Appended> {
        if records.is_empty() {
            return Err(EngineError::InvalidArgument("a batch needs at least one record".into()));
        }
        let size = record::batch_size(records);
        if size > record::MAX_BATCH_BYTES {
            return Err(EngineError::InvalidArgument(format!(
                "batch of {size} bytes is larger than the {} byte limit; send smaller batches",
                record::MAX_BATCH_BYTES
            )));
        }
        let count = records.len() as u32;
        let mut st = self.state.lock();
        if let Some(f) = &st.failed {
            return Err(EngineError::Failed(format!(
                "{}/{} refuses writes after an earlier failure: {f}",
                self.topic, self.partition
            )));
        }
        if let Some((pid, seq)) = producer
            && let SeqCheck::Duplicate(base) = st.producers.check(pid, seq, count)?
        {
            let seq_now = self.written_seq.load(Ordering::Acquire);
            drop(st);
            if self.cfg.sync == SyncMode::Always {
                self.wait_synced(seq_now)?;
            }
            return Ok(Appended { base_offset: base, count, duplicate: true });
        }
        let seg_limit = self.cfg.segment_bytes;
        if st.active().size > 0 && st.active().size + size as u64 > seg_limit {
            self.roll(&mut st)?;
        }
        let ts = now_ms().max(st.last_ts);
        let base = st.next_offset;
        let mut buf = std::mem::take(&mut st.scratch);
        buf.clear();
        record::encode_batch(&mut buf, records, base, ts, producer);
        let pos = st.active().size;
        let written = st.active().file.write_all_at(&buf, pos);
        if let Err(e) = written {
            let path = st.active().path.clone();
            // Undo a partial write so the log stays a sequence of whole batches.
            let undo = st.active().file.set_len(pos);
            st.scratch = buf;
            if let Err(u) = undo {
                drop(st);
                return Err(
                    self.fail(format!("write to {} failed ({e}) and could not be undone ({u})", path.display()))
                );
            }
            return Err(EngineError::io(format!("write to {}", path.display()), e));
        }
        let header = match record::parse_header(&buf) {
            Ok(h) => h,
            Err(e) => return Err(EngineError::InvalidArgument(format!("encoded batch is invalid: {e}"))),
        };
        st.scratch = buf;
        let interval = self.cfg.index_interval;
        st.active().note_batch(pos, &header, interval);
        st.next_offset = header.next_offset();
        st.last_ts = ts;
        if let Some((pid, seq)) = producer {
            st.producers.record(pid, seq, count, base);
        }
        let seq = self.written_seq.fetch_add(1, Ordering::AcqRel) + 1;
        let next = st.next_offset;
        drop(st);
        if self.cfg.sync == SyncMode::Always {
            self.wait_synced(seq)?;
        } else {
            self.publish_hw(next);
        }
        self.rate_in.add(u64::from(count));
        Ok(Appended { base_offset: base, count, duplicate: false })
    }

    fn publish_hw(&self, next: u64) {
        let prev = self.hw.fetch_max(next, Ordering::AcqRel);
        if next > prev {
            self.appended.notify(usize::MAX);
        }
    }

    /// Waits until write number `seq` is fsynced; the first waiter becomes the leader and fsyncs
    /// for everyone who wrote before it started (group commit).
    fn wait_synced(&self, seq: u64) -> Result<()> {
        let mut s = self.sync.lock();
        loop {
            if let Some(f) = &s.failed {
                return Err(EngineError::Failed(f.clone()));
            }
            if s.synced_seq >= seq {
                return Ok(());
            }
            if s.syncing {
                // An fsync is in flight. Watch for its end a short while without parking (the
                // CPU is idle while the disk works), so that when it completes every covered
                // writer goes on at once instead of being woken one after another; park after.
                drop(s);
                let spin_until = Instant::now() + SPIN_WAIT;
                while self.synced_hint.load(Ordering::Acquire) < seq
                    && !self.sync_failed_hint.load(Ordering::Acquire)
                    && Instant::now() < spin_until
                {
                    std::thread::yield_now();
                }
                s = self.sync.lock();
                if s.syncing && s.synced_seq < seq && s.failed.is_none() {
                    self.sync_cv.wait(&mut s);
                }
                continue;
            }
            s.syncing = true;
            let (synced, last_group) = (s.synced_seq, s.last_group);
            drop(s);
            let r = self.sync_once(synced, last_group);
            s = self.sync.lock();
            s.syncing = false;
            match r {
                Ok(target) => {
                    s.last_group = target.saturating_sub(s.synced_seq).max(1);
                    s.synced_seq = s.synced_seq.max(target);
                    self.synced_hint.fetch_max(s.synced_seq, Ordering::AcqRel);
                }
                Err(e) => {
                    let msg = e.to_string();
                    s.failed = Some(msg.clone());
                    self.sync_failed_hint.store(true, Ordering::Release);
                    self.state.lock().failed = Some(msg);
                }
            }
            self.sync_cv.notify_all();
        }
    }

    /// fsyncs the active segment, publishes the durable end and writes the checkpoint.
    fn sync_once(&self, synced: u64, last_group: u64) -> Result<u64> {
        // Writers released by the previous fsync are usually about to append again. Wait (bounded)
        // until as many writes are pending as the previous fsync covered, so this fsync covers them
        // too instead of the writers splitting into two cohorts that alternate. A lone writer
        // (last group of one) never waits.
        let start = Instant::now();
        if last_group > 1 {
            let mut seen = self.written_seq.load(Ordering::Acquire);
            while start.elapsed() < GATHER_MAX {
                std::thread::yield_now();
                let now = self.written_seq.load(Ordering::Acquire);
                if now == seen && now.saturating_sub(synced) >= last_group {
                    break;
                }
                seen = now;
            }
        }
        let (target, next, file, path, ckpt) = {
            let mut st = self.state.lock();
            let target = self.written_seq.load(Ordering::Acquire);
            // The checkpoint and index files are hints for a faster open, so they are written at
            // most once a second rather than with every group commit.
            let due = self.last_checkpoint.lock().elapsed() >= CHECKPOINT_EVERY;
            let ckpt = if due {
                if let Err(e) = st.active().persist_indexes(false) {
                    tracing::warn!("could not write index of {}/{}: {e}", self.topic, self.partition);
                }
                Some(checkpoint_bytes(&mut st))
            } else {
                None
            };
            let next = st.next_offset;
            let a = st.active();
            (target, next, a.file.clone(), a.path.clone(), ckpt)
        };
        file.sync_data().map_err(|e| {
            EngineError::Failed(format!(
                "fsync of {} failed: {e}; {}/{} refuses further writes until depot is restarted",
                path.display(),
                self.topic,
                self.partition
            ))
        })?;
        self.publish_hw(next);
        if let Some(ckpt) = ckpt {
            self.write_checkpoint(&ckpt);
        }
        Ok(target)
    }

    fn write_checkpoint(&self, bytes: &[u8]) {
        *self.last_checkpoint.lock() = Instant::now();
        let path = self.dir.join("checkpoint");
        let r = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .and_then(|f| f.write_all_at(bytes, 0));
        if let Err(e) = r {
            // The checkpoint is only a hint for a faster open; without it recovery scans more.
            tracing::warn!("could not write {}: {e}", path.display());
        }
    }

    /// Makes everything written so far durable (used by the interval flusher and on close).
    pub fn flush(&self) -> Result<()> {
        // Segments rolled in `sync=never` mode were never fsynced, nor their directory entries.
        let sealed = std::mem::take(&mut self.state.lock().unsynced);
        if !sealed.is_empty() {
            for (file, path) in &sealed {
                if let Err(e) = file.sync_data() {
                    return Err(self.fail(format!("fsync of {} failed: {e}", path.display())));
                }
            }
            segment::sync_dir(&self.dir)?;
        }
        let seq = self.written_seq.load(Ordering::Acquire);
        let synced = self.sync.lock().synced_seq;
        if seq == synced && seq != 0 {
            return Ok(());
        }
        if seq == 0 {
            // Nothing written since open: only make sure the checkpoint exists.
            let ckpt = checkpoint_bytes(&mut self.state.lock());
            self.write_checkpoint(&ckpt);
            return Ok(());
        }
        self.wait_synced(seq)
    }

    fn roll(&self, st: &mut LogState) -> Result<()> {
        let sync = self.cfg.sync != SyncMode::Never;
        if sync {
            let a = st.active();
            if let Err(e) = a.file.sync_data() {
                let what = format!("fsync of {} failed while rolling: {e}", a.path.display());
                st.failed = Some(what.clone());
                return Err(EngineError::Failed(what));
            }
        }
        st.active().seal(sync)?;
        if !sync {
            let a = st.active();
            let sealed = (a.file.clone(), a.path.clone());
            st.unsynced.push(sealed);
        }
        let next = st.next_offset;
        let seg = Segment::create(&self.dir, next, sync)?;
        st.segments.push(seg);
        let ckpt = checkpoint_bytes(st);
        self.write_checkpoint(&ckpt);
        tracing::debug!("{}/{} rolled to a new segment at offset {next}", self.topic, self.partition);
        Ok(())
    }

    /// Reads up to `max_records` records (and about `max_bytes`, but always at least one record)
    /// starting at `offset`. Reading at the end returns nothing; outside the log is an error.
    pub fn read(&self, offset: u64, max_records: usize, max_bytes: usize) -> Result<Vec<Record>> {
        let end = self.end_offset();
        let start = self.log_start();
        if offset < start || offset > end {
            return Err(EngineError::OffsetOutOfRange {
                topic: self.topic.clone(),
                partition: self.partition,
                requested: offset,
                start,
                end,
            });
        }
        let mut out = Vec::new();
        let mut at = offset;
        let mut bytes = 0usize;
        let mut full = false;
        while at < end && out.len() < max_records && (bytes < max_bytes || out.is_empty()) {
            let (file, path, pos, seg_end, chunk) = {
                let st = self.state.lock();
                if at < st.segments[0].base {
                    // Retention deleted the segment holding `at` since this read started: say so
                    // rather than silently continuing from the new log start.
                    if !out.is_empty() {
                        break;
                    }
                    return Err(EngineError::OffsetOutOfRange {
                        topic: self.topic.clone(),
                        partition: self.partition,
                        requested: at,
                        start: st.segments[0].base,
                        end: self.end_offset(),
                    });
                }
                let i = st.segments.partition_point(|s| s.base <= at).saturating_sub(1);
                let s = &st.segments[i];
                if at >= s.next_offset {
                    // Nothing in this segment at or after `at` (can happen right after a roll).
                    if i + 1 < st.segments.len() {
                        at = st.segments[i + 1].base;
                        continue;
                    }
                    break;
                }
                let records = (s.next_offset - s.base).max(1);
                let avg = (s.size / records).max(1) as usize;
                let want = (max_records - out.len()).saturating_mul(avg).min(max_bytes).saturating_add(256 * 1024);
                (s.file.clone(), s.path.clone(), s.position_for(at), s.size, want.clamp(64 * 1024, 8 << 20))
            };
            let scratch = std::mem::take(&mut *self.read_buf.lock());
            let mut reader = FrameReader::new(&file, &path, pos, seg_end, chunk).with_scratch(scratch);
            let mut progressed = false;
            loop {
                if out.len() >= max_records || (bytes >= max_bytes && !out.is_empty()) {
                    break;
                }
                match reader.next_frame()? {
                    Frame::End => break,
                    Frame::Bad(e) => {
                        return Err(EngineError::Corrupt {
                            file: path.clone(),
                            position: reader.pos,
                            reason: e.to_string(),
                        });
                    }
                    Frame::Ok(h, frame) => {
                        if h.next_offset() <= at {
                            continue;
                        }
                        if h.base_offset >= end {
                            break;
                        }
                        let before = out.len();
                        let room = (max_records - out.len()).min((end - at) as usize);
                        record::decode_records(&frame, &h, at, room, &mut out).map_err(|e| EngineError::Corrupt {
                            file: path.clone(),
                            position: reader.pos - h.frame_len as u64,
                            reason: e.to_string(),
                        })?;
                        // `max_bytes` bounds records, not batches: keep what fits (at least one).
                        let mut keep = before;
                        for r in &out[before..] {
                            let n = r.encoded_len();
                            if keep > 0 && bytes + n > max_bytes {
                                full = true;
                                break;
                            }
                            bytes += n;
                            keep += 1;
                        }
                        out.truncate(keep);
                        if let Some(last) = out.last() {
                            at = last.offset + 1;
                        }
                        progressed = true;
                        if full {
                            break;
                        }
                    }
                }
            }
            *self.read_buf.lock() = reader.into_scratch();
            if full {
                break;
            }
            if !progressed {
                // Segment exhausted: move on to the next one, if any.
                let st = self.state.lock();
                let i = st.segments.partition_point(|s| s.base <= at);
                match st.segments.get(i) {
                    Some(next) if next.base > at => at = next.base,
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    /// Like [`read`](Self::read) but, at the end of the log, waits up to `timeout` for new records.
    pub fn read_wait(
        &self,
        offset: u64,
        max_records: usize,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<Vec<Record>> {
        let deadline = Instant::now() + timeout;
        loop {
            let listener = self.appended.listen();
            let got = self.read(offset, max_records, max_bytes)?;
            if !got.is_empty() {
                return Ok(got);
            }
            if listener.wait_deadline(deadline).is_none() {
                return self.read(offset, max_records, max_bytes);
            }
        }
    }

    /// The first offset whose timestamp is at or after `ts` (the end offset when there is none).
    pub fn offset_for_time(&self, ts: i64) -> Result<u64> {
        let scan_from = {
            let st = self.state.lock();
            let i = st.segments.partition_point(|s| s.max_ts < ts);
            match st.segments.get(i) {
                None => return Ok(self.end_offset()),
                Some(s) => s.scan_start_for_time(ts).max(self.log_start()),
            }
        };
        let mut at = scan_from;
        loop {
            let recs = self.read(at, 512, 1 << 20)?;
            if recs.is_empty() {
                return Ok(self.end_offset());
            }
            if let Some(r) = recs.iter().find(|r| r.timestamp >= ts) {
                return Ok(r.offset);
            }
            at = recs[recs.len() - 1].offset + 1;
        }
    }

    /// Timestamp of the record at `offset`, if it exists.
    pub fn timestamp_of(&self, offset: u64) -> Result<Option<i64>> {
        if offset < self.log_start() || offset >= self.end_offset() {
            return Ok(None);
        }
        Ok(self.read(offset, 1, 1)?.first().map(|r| r.timestamp))
    }

    /// Deletes whole old segments beyond the retention limits; returns how many were deleted.
    pub fn enforce_retention(
        &self,
        retention_ms: Option<u64>,
        retention_bytes: Option<u64>,
        now: i64,
    ) -> Result<usize> {
        if retention_ms.is_none() && retention_bytes.is_none() {
            return Ok(0);
        }
        let mut st = self.state.lock();
        let mut deleted = 0;
        while st.segments.len() > 1 {
            let total: u64 = st.segments.iter().map(|s| s.size).sum();
            let first = &st.segments[0];
            let too_old =
                retention_ms.is_some_and(|ms| first.max_ts < now.saturating_sub(i64::try_from(ms).unwrap_or(i64::MAX)));
            let too_big = retention_bytes.is_some_and(|b| total.saturating_sub(b) >= first.size);
            if !(too_old || too_big) {
                break;
            }
            first.delete_files()?;
            let seg = st.segments.remove(0);
            tracing::info!(
                "{}/{}: retention deleted segment {} (offsets {}..{})",
                self.topic,
                self.partition,
                seg.path.display(),
                seg.base,
                seg.next_offset
            );
            deleted += 1;
            self.log_start.store(st.segments[0].base, Ordering::Release);
        }
        Ok(deleted)
    }

    /// Flushes and writes the checkpoint and indexes: a clean close.
    pub fn close(&self) -> Result<()> {
        self.flush()?;
        let mut st = self.state.lock();
        st.active().persist_indexes(true)?;
        let ckpt = checkpoint_bytes(&mut st);
        self.write_checkpoint(&ckpt);
        Ok(())
    }

    /// Where this partition's files live.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn checkpoint_bytes(st: &mut LogState) -> Vec<u8> {
    let a = st.active();
    let mut buf = Vec::with_capacity(64);
    buf.extend_from_slice(CHECKPOINT_MAGIC);
    buf.extend_from_slice(&0u32.to_le_bytes());
    buf.extend_from_slice(&a.base.to_le_bytes());
    buf.extend_from_slice(&a.size.to_le_bytes());
    let (next, last_ts) = (st.next_offset, st.last_ts);
    buf.extend_from_slice(&next.to_le_bytes());
    buf.extend_from_slice(&last_ts.to_le_bytes());
    st.producers.encode(&mut buf);
    let body_len = (buf.len() - 8) as u32;
    buf[4..8].copy_from_slice(&body_len.to_le_bytes());
    let crc = crc32c::crc32c(&buf);
    buf.extend_from_slice(&crc.to_le_bytes());
    buf
}

struct Checkpoint {
    base: u64,
    pos: u64,
    next: u64,
    last_ts: i64,
    producers: Producers,
}

fn read_checkpoint(dir: &Path) -> Option<Checkpoint> {
    // Layout: magic | body_len u32 | base | pos | next | last_ts | producers | crc32c of all before it.
    // The file is overwritten in place, so bytes after the CRC are leftovers and ignored.
    let b = std::fs::read(dir.join("checkpoint")).ok()?;
    if b.len() < 8 || &b[..4] != CHECKPOINT_MAGIC {
        return None;
    }
    let body_len = u32::from_le_bytes(b[4..8].try_into().ok()?) as usize;
    let body = b.get(..8 + body_len)?;
    let crc = b.get(8 + body_len..12 + body_len)?;
    if body_len < 36 || crc32c::crc32c(body) != u32::from_le_bytes(crc.try_into().ok()?) {
        return None;
    }
    let u = |i: usize| -> Option<u64> { Some(u64::from_le_bytes(body.get(i..i + 8)?.try_into().ok()?)) };
    Some(Checkpoint {
        base: u(8)?,
        pos: u(16)?,
        next: u(24)?,
        last_ts: u(32)? as i64,
        producers: Producers::decode(&body[40..])?,
    })
}

/// Opens a sealed segment: trusts its indexes; rebuilds them (a full, CRC-checked scan) if missing.
fn open_sealed(dir: &Path, base: u64, next_base: u64, interval: u64) -> Result<Segment> {
    let mut seg = Segment::open_file(dir, base)?;
    let size = seg.size;
    // Entries must point inside the segment: positions below its size, offsets below the next base.
    seg.load_indexes(size, Some(next_base - base));
    seg.next_offset = next_base;
    let has_ts = seg.tindex.last().is_some();
    if (seg.index.is_empty() || !has_ts) && size > 0 {
        tracing::warn!("rebuilding the indexes of {} (missing or damaged)", seg.path.display());
        let mut fresh = Segment::open_file(dir, base)?;
        fresh.load_indexes(0, Some(0));
        let file = fresh.file.clone();
        let path = fresh.path.clone();
        let mut reader = FrameReader::new(&file, &path, 0, size, 4 << 20);
        loop {
            match reader.next_frame()? {
                Frame::End => break,
                Frame::Bad(e) => {
                    return Err(EngineError::Corrupt {
                        file: path.clone(),
                        position: reader.pos,
                        reason: e.to_string(),
                    });
                }
                Frame::Ok(h, _) => {
                    let at = reader.pos - h.frame_len as u64;
                    fresh.note_batch(at, &h, interval);
                }
            }
        }
        fresh.seal(true)?;
        fresh.next_offset = next_base;
        return Ok(fresh);
    }
    seg.max_ts = seg.tindex.last().map(|t| t.ts).unwrap_or(i64::MIN);
    Ok(seg)
}

/// Validates the active segment from its checkpoint to the end. A torn tail is truncated (and
/// logged); damage followed by valid data is refused with the file and byte position.
fn recover_active(
    dir: &Path,
    base: u64,
    sealed: &[Segment],
    cfg: &LogConfig,
    report: &mut RecoveryReport,
) -> Result<(Segment, u64, i64, Producers)> {
    let mut seg = Segment::open_file(dir, base)?;
    let len = seg.size;
    let (ck, older) = match read_checkpoint(dir) {
        Some(c) if c.base == base && c.pos <= len && c.next >= base => (Some(c), None),
        Some(c) if c.base < base => (None, Some(c)),
        _ => (None, None),
    };
    let (mut pos, mut next, mut last_ts, mut producers) = match ck {
        Some(c) => (c.pos, c.next, c.last_ts, c.producers),
        None => {
            if len > 0 {
                tracing::info!("no usable checkpoint for {}: validating the whole segment", seg.path.display());
            }
            // A checkpoint of an older segment (a crash after a roll but before the checkpoint
            // was rewritten, or a slow sync that wrote it late) still holds the producer state
            // at its position: replay the batches after it so retries are still recognised.
            let (producers, last_ts) = match older {
                Some(c) => producers_after(sealed, c),
                None => (Producers::default(), i64::MIN),
            };
            (0, base, last_ts, producers)
        }
    };
    seg.load_indexes(pos, Some(next - base));
    let scan_start = pos;
    seg.size = pos;
    seg.next_offset = next;
    seg.max_ts = last_ts;
    let file = seg.file.clone();
    let path = seg.path.clone();
    let mut reader = FrameReader::new(&file, &path, pos, len, 4 << 20);
    let damage = loop {
        match reader.next_frame()? {
            Frame::End => break None,
            Frame::Bad(e) => break Some(e.to_string()),
            Frame::Ok(h, _) => {
                if h.base_offset != next {
                    break Some(format!("batch starts at offset {} but {next} was expected", h.base_offset));
                }
                let at = reader.pos - h.frame_len as u64;
                seg.note_batch(at, &h, cfg.index_interval);
                if h.producer_id != 0 {
                    producers.record(h.producer_id, h.base_seq, h.count, h.base_offset);
                }
                next = h.next_offset();
                last_ts = last_ts.max(h.timestamp);
                pos = reader.pos;
            }
        }
    };
    report.scanned_bytes = len - scan_start;
    if let Some(reason) = damage {
        if let Some(valid) = segment::find_valid_batch_after(&file, &path, pos, len)? {
            return Err(EngineError::Corrupt {
                file: path,
                position: pos,
                reason: format!(
                    "{reason}, and a valid batch follows at byte {valid}, so this is not a torn tail; \
                     depot will not cut valid data. Restore the file from a copy, or truncate it to {pos} bytes to accept losing everything after that byte"
                ),
            });
        }
        let cut = len - pos;
        file.set_len(pos).ctx(|| format!("truncate torn tail of {}", path.display()))?;
        file.sync_all().ctx(|| format!("fsync {}", path.display()))?;
        tracing::warn!(
            "recovered {}: cut a torn tail of {cut} bytes at byte {pos} ({reason}); the log ends at offset {next}",
            path.display()
        );
        report.truncated = Some((path.clone(), pos, cut));
    }
    seg.size = pos;
    seg.next_offset = next;
    seg.max_ts = last_ts;
    Ok((seg, next, last_ts, producers))
}

/// Rebuilds the producer state from checkpoint `c` of an older (now sealed) segment by reading the
/// batch headers after its position in that and every later sealed segment.
fn producers_after(sealed: &[Segment], c: Checkpoint) -> (Producers, i64) {
    let Some(first) = sealed.iter().position(|s| s.base == c.base && c.pos <= s.size) else {
        tracing::warn!("the checkpoint names segment {} which is gone; producer state starts empty", c.base);
        return (Producers::default(), i64::MIN);
    };
    let (mut producers, mut last_ts) = (c.producers, c.last_ts);
    for (i, s) in sealed.iter().enumerate().skip(first) {
        let from = if i == first { c.pos } else { 0 };
        let mut reader = FrameReader::new(&s.file, &s.path, from, s.size, 4 << 20);
        loop {
            match reader.next_frame() {
                Ok(Frame::Ok(h, _)) => {
                    if h.producer_id != 0 {
                        producers.record(h.producer_id, h.base_seq, h.count, h.base_offset);
                    }
                    last_ts = last_ts.max(h.timestamp);
                }
                Ok(Frame::End) => break,
                Ok(Frame::Bad(e)) => {
                    // Reads of this segment report the damage; the producer state is a best effort.
                    tracing::warn!("{} at byte {}: {e}", s.path.display(), reader.pos);
                    break;
                }
                Err(e) => {
                    tracing::warn!("{e}");
                    break;
                }
            }
        }
    }
    (producers, last_ts)
}
