//! One partition: an append-only log of segments. This file holds the partition's state and its
//! write path (append, roll to a new segment, retention, close); [`super::sync`] makes appends
//! durable (group commit), [`super::read`] serves reads, [`super::recovery`] opens the segments
//! and [`super::checkpoint`] is the checkpoint file.
//!
//! Files in the partition directory: `NNNNNNNNNNNNNNNNNNNN.log` / `.index` / `.timeindex` per segment
//! and `checkpoint`, which records the last fsynced position of the active segment together with
//! the producer-id state at that point. Opening reads the indexes and validates only what follows
//! the checkpoint in the active segment.

use super::checkpoint;
use super::clock::Clock;
use super::config::SyncMode;
use super::error::{EngineError, IoContext, Result};
use super::fds::FdCache;
use super::log_start;
use super::producer::{ProducerBatch, Producers, SeqCheck, SeqError};
use super::producer_epochs::EpochJournal;
use super::rate::RateMeter;
use super::record::{self, NewRecord};
use super::recovery::{self, Recovered};
use super::segment::Segment;
use super::storage::Storage;
use super::sync::SyncState;
use event_listener::Event;
use parking_lot::{Condvar, Mutex};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

pub use super::recovery::RecoveryReport;

/// Settings a partition needs.
#[derive(Clone, Debug)]
pub struct LogConfig {
    pub sync: SyncMode,
    pub segment_bytes: u64,
    pub index_interval: u64,
    /// Append timestamps and the rate meters read this clock.
    pub clock: Arc<dyn Clock>,
    /// Where the partition's files are.
    pub storage: Arc<dyn Storage>,
    /// The engine's open sealed segments.
    pub fds: Arc<FdCache>,
}

/// The result of an append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub base_offset: u64,
    pub count: u32,
    /// True when this was a retry of a batch already in the log (nothing new was written).
    pub duplicate: bool,
}

/// A partition's segments and what the next append needs (under `PartitionLog::state`).
pub(super) struct LogState {
    pub segments: Vec<Segment>,
    pub next_offset: u64,
    pub last_ts: i64,
    pub producers: Producers,
    pub epochs: EpochJournal,
    pub failed: Option<String>,
    pub scratch: Vec<u8>,
}

impl LogState {
    pub fn active(&mut self) -> &mut Segment {
        let last = self.segments.len() - 1;
        &mut self.segments[last]
    }

    /// The checkpoint of the active segment as it is now.
    pub fn checkpoint(&mut self) -> Vec<u8> {
        let (next, last_ts) = (self.next_offset, self.last_ts);
        let last = self.segments.len() - 1;
        let a = &self.segments[last];
        checkpoint::encode(a.base, a.size, next, last_ts, &self.producers)
    }
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
    pub(super) dir: PathBuf,
    pub(super) cfg: LogConfig,
    pub(super) state: Mutex<LogState>,
    pub(super) sync: Mutex<SyncState>,
    pub(super) sync_cv: Condvar,
    pub(super) written_seq: AtomicU64,
    pub(super) last_checkpoint: Mutex<Instant>,
    /// Mirrors of the sync state for writers watching an fsync without the lock.
    pub(super) synced_hint: AtomicU64,
    pub(super) sync_failed_hint: AtomicBool,
    /// Read memory reused by the next fetch (see `FrameReader::with_scratch`).
    pub(super) read_buf: Mutex<bytes::BytesMut>,
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
        cfg.storage.create_dir_all(dir).ctx(|| format!("create partition directory {}", dir.display()))?;
        let mut report = RecoveryReport::default();
        let Recovered { segments, next_offset, last_ts, mut producers, log_start } =
            recovery::open_segments(dir, &cfg, &mut report)?;
        let (epochs, starts) = EpochJournal::open(&cfg.storage, dir)?;
        producers.apply_epochs(&starts);
        let clock = cfg.clock.clone();
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
                epochs,
                failed: None,
                scratch: Vec::new(),
            }),
            sync: Mutex::new(SyncState::default()),
            sync_cv: Condvar::new(),
            written_seq: AtomicU64::new(0),
            last_checkpoint: Mutex::new(Instant::now()),
            synced_hint: AtomicU64::new(0),
            sync_failed_hint: AtomicBool::new(false),
            read_buf: Mutex::new(bytes::BytesMut::new()),
            hw: AtomicU64::new(next_offset),
            log_start: AtomicU64::new(log_start),
            appended: Event::new(),
            rate_in: RateMeter::new(clock.clone()),
            rate_out: RateMeter::new(clock),
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

    pub(super) fn fail(&self, what: String) -> EngineError {
        tracing::error!("{what}");
        self.state.lock().failed = Some(what.clone());
        EngineError::Failed(what)
    }

    /// Appends `records` as one batch; with `producer = Some((id, seq))` a retried batch is not
    /// appended twice. Returns once the batch is durable as the sync mode promises.
    pub fn append(&self, records: &[NewRecord], producer: Option<(u64, u32)>) -> Result<Appended> {
        let producer = producer.map(|(id, seq)| ProducerBatch { id, seq, epoch: None });
        self.append_batch(records, producer)?.map_err(SeqError::into_engine)
    }

    /// Like [`append`](Self::append), for a producer that may carry an epoch; a batch the
    /// producer checks refuse is the inner error, with nothing appended.
    pub fn append_batch(
        &self,
        records: &[NewRecord],
        producer: Option<ProducerBatch>,
    ) -> Result<std::result::Result<Appended, SeqError>> {
        if records.is_empty() {
            return Err(EngineError::InvalidArgument("a batch needs at least one record".into()));
        }
        if producer.is_some_and(|p| p.id == 0) {
            // The batch format stores "no producer" as id 0: a batch with id 0 would not be
            // recognised as a retry after a restart.
            return Err(EngineError::InvalidArgument(
                "producer id 0 is reserved (it means \"no producer\"); use an id from 1 up, e.g. one from a new producer id".into(),
            ));
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
        let check = match producer.map(|p| st.producers.check(p, count)) {
            Some(Err(e)) => return Ok(Err(e)),
            Some(Ok(c)) => Some(c),
            None => None,
        };
        if let Some(SeqCheck::Duplicate(base)) = check {
            let seq_now = self.written_seq.load(Ordering::Acquire);
            drop(st);
            if self.cfg.sync == SyncMode::Always {
                self.wait_synced(seq_now)?;
            }
            return Ok(Ok(Appended { base_offset: base, count, duplicate: true }));
        }
        if let (Some(p), Some(SeqCheck::Append { new_epoch: Some(epoch) })) = (producer, check) {
            // Durable before the batch: a restart must know the batches from here on are of
            // this epoch.
            let at = st.next_offset;
            st.epochs.record(p.id, epoch, at)?;
            st.producers.start_epoch(p.id, epoch);
        }
        let seg_limit = self.cfg.segment_bytes;
        if st.active().size > 0 && st.active().size + size as u64 > seg_limit {
            self.roll(&mut st)?;
        }
        // Timestamps never go back, even when the clock does.
        let ts = self.cfg.clock.now_ms().max(st.last_ts);
        if let Some(t) =
            records.iter().filter_map(|r| r.timestamp).find(|&t| t < 0 || t > ts.saturating_add(record::MAX_AHEAD_MS))
        {
            return Err(EngineError::InvalidArgument(format!(
                "a record's timestamp {t} is {}; a timestamp is milliseconds since 1970, at most an hour ahead of depot's clock ({ts})",
                if t < 0 { "before 1970" } else { "more than an hour ahead" }
            )));
        }
        let base = st.next_offset;
        let mut buf = std::mem::take(&mut st.scratch);
        buf.clear();
        record::encode_batch(&mut buf, records, base, ts, producer.map(|p| (p.id, p.seq)));
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
        if let Some(p) = producer {
            st.producers.record(p.id, p.seq, count, base);
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
        Ok(Ok(Appended { base_offset: base, count, duplicate: false }))
    }

    pub(super) fn publish_hw(&self, next: u64) {
        let prev = self.hw.fetch_max(next, Ordering::AcqRel);
        if next > prev {
            self.appended.notify(usize::MAX);
        }
    }

    fn roll(&self, st: &mut LogState) -> Result<()> {
        // Every sync mode fsyncs a segment as it is sealed (once per segment_bytes), before the
        // next one exists: after any crash a sealed segment is whole, so a gap or a short sealed
        // segment is damage, never a power loss.
        let a = st.active();
        if let Err(e) = a.file.sync_data() {
            let what = format!("fsync of {} failed while rolling: {e}", a.path.display());
            st.failed = Some(what.clone());
            return Err(EngineError::Failed(what));
        }
        st.active().seal(true)?;
        let fds = self.cfg.fds.clone();
        st.active().release_file(&fds);
        let next = st.next_offset;
        let seg = Segment::create(&self.cfg.storage, &self.dir, next, true)?;
        st.segments.push(seg);
        let ckpt = st.checkpoint();
        self.write_checkpoint(&ckpt);
        tracing::debug!("{}/{} rolled to a new segment at offset {next}", self.topic, self.partition);
        Ok(())
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
            // The new start is durable before the files go; open finishes an interrupted deletion.
            let next_base = st.segments[1].base;
            log_start::write(self.cfg.storage.as_ref(), &self.dir, next_base)?;
            self.log_start.store(next_base, Ordering::Release);
            st.segments[0].delete_files()?;
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
        }
        Ok(deleted)
    }

    /// Moves the log start to `before` (at most the end; a start already past it stays): the
    /// records below it are no longer read, and the segments wholly below it are deleted. The
    /// records up to the end are made durable first and the new start is durable before any file
    /// goes, so a crash can neither end the log below its start nor bring deleted records back.
    /// Returns the log start after the call (Kafka's low watermark).
    pub fn delete_records(&self, before: u64) -> Result<u64> {
        let end = self.end_offset();
        if before > end {
            return Err(EngineError::OffsetOutOfRange {
                topic: self.topic.clone(),
                partition: self.partition,
                requested: before,
                start: self.log_start(),
                end,
            });
        }
        self.flush()?;
        let mut st = self.state.lock();
        if let Some(f) = &st.failed {
            return Err(EngineError::Failed(format!(
                "{}/{} refuses changes after an earlier failure: {f}",
                self.topic, self.partition
            )));
        }
        let start = self.log_start();
        if before <= start {
            return Ok(start);
        }
        log_start::write(self.cfg.storage.as_ref(), &self.dir, before)?;
        self.log_start.store(before, Ordering::Release);
        while st.segments.len() > 1 && st.segments[1].base <= before {
            st.segments[0].delete_files()?;
            let seg = st.segments.remove(0);
            tracing::info!(
                "{}/{}: deleted segment {} (offsets {}..{}), below the new log start {before}",
                self.topic,
                self.partition,
                seg.path.display(),
                seg.base,
                seg.next_offset
            );
        }
        tracing::info!("{}/{}: the log now starts at {before} (records deleted below it)", self.topic, self.partition);
        Ok(before)
    }

    /// Flushes and writes the checkpoint and indexes: a clean close.
    pub fn close(&self) -> Result<()> {
        self.flush()?;
        let mut st = self.state.lock();
        st.active().persist_indexes(true)?;
        let ckpt = st.checkpoint();
        self.write_checkpoint(&ckpt);
        Ok(())
    }

    /// The largest producer id in the range the engine hands out that this partition remembers.
    pub fn max_producer_id(&self) -> Option<u64> {
        self.state.lock().producers.max_id_below(super::producer_ids::LIMIT)
    }

    /// Where this partition's files live.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
