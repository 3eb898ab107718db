//! Making a partition's appends durable: group commit (concurrent writers share one fsync; the
//! first waiter leads), the flush used by the interval flusher and on close, and the cadence of
//! checkpoint and index writes. These timings are about the disk and stay on real time.

use super::checkpoint;
use super::error::{EngineError, Result};
use super::log::PartitionLog;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How long a writer watches an fsync in flight before it parks.
const SPIN_WAIT: Duration = Duration::from_micros(400);
/// The longest a group-commit leader waits for more writers before it fsyncs.
const GATHER_MAX: Duration = Duration::from_micros(200);
/// How often (at most) a sync also rewrites the checkpoint and index files.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// The group-commit state of a partition (under `PartitionLog::sync`).
pub struct SyncState {
    pub synced_seq: u64,
    /// Writes the previous fsync covered.
    pub last_group: u64,
    pub syncing: bool,
    pub failed: Option<String>,
}

impl Default for SyncState {
    fn default() -> SyncState {
        SyncState { synced_seq: 0, last_group: 1, syncing: false, failed: None }
    }
}

impl PartitionLog {
    /// Waits until write number `seq` is fsynced; the first waiter becomes the leader and fsyncs
    /// for everyone who wrote before it started (group commit).
    pub(super) fn wait_synced(&self, seq: u64) -> Result<()> {
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
                Some(st.checkpoint())
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

    /// Overwrites the checkpoint file and notes when.
    pub(super) fn write_checkpoint(&self, bytes: &[u8]) {
        *self.last_checkpoint.lock() = Instant::now();
        checkpoint::write(self.cfg.storage.as_ref(), &self.dir, bytes);
    }

    /// Makes everything written so far durable (used by the interval flusher and on close).
    pub fn flush(&self) -> Result<()> {
        let seq = self.written_seq.load(Ordering::Acquire);
        let synced = self.sync.lock().synced_seq;
        if seq == synced && seq != 0 {
            return Ok(());
        }
        if seq == 0 {
            // Nothing written since open: make sure the checkpoint exists. What recovery found
            // may still be only in the page cache (a process crash), so fsync it first: a
            // checkpoint never claims more than the disk holds.
            let (file, path, ckpt) = {
                let mut st = self.state.lock();
                let ckpt = st.checkpoint();
                let a = st.active();
                (a.file.clone(), a.path.clone(), ckpt)
            };
            file.sync_data().map_err(|e| self.fail(format!("fsync of {} failed: {e}", path.display())))?;
            self.write_checkpoint(&ckpt);
            return Ok(());
        }
        self.wait_synced(seq)
    }
}
