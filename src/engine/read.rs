//! Reading a partition: records from an offset (bounded by count and bytes, across segments),
//! the long-poll variant that waits for new records, and lookups by time.

use super::error::{EngineError, Result};
use super::log::PartitionLog;
use super::record::{self, Record};
use super::segment::{Frame, FrameReader};
use event_listener::{Event, Listener};
use std::time::{Duration, Instant};

/// A long poll: `attempt` until it finds something, waiting on `event` in between, for at most
/// `timeout` (a wait longer than the clock can count waits forever); after the timeout, one last
/// attempt's answer, usually nothing. The listener is set up before each attempt, so a
/// notification that comes while it runs is not missed.
pub(super) fn long_poll<T>(
    event: &Event,
    timeout: Duration,
    mut attempt: impl FnMut() -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let deadline = Instant::now().checked_add(timeout);
    loop {
        let listener = event.listen();
        let got = attempt()?;
        if !got.is_empty() {
            return Ok(got);
        }
        let notified = match deadline {
            Some(d) => listener.wait_deadline(d).is_some(),
            None => {
                listener.wait();
                true
            }
        };
        if !notified {
            return attempt();
        }
    }
}

impl PartitionLog {
    /// The error for a read at `requested` outside `start..end` of this partition.
    fn out_of_range(&self, requested: u64, start: u64, end: u64) -> EngineError {
        EngineError::OffsetOutOfRange { topic: self.topic.clone(), partition: self.partition, requested, start, end }
    }

    /// Reads up to `max_records` records (and about `max_bytes`, but always at least one record)
    /// starting at `offset`. Reading at the end returns nothing; outside the log is an error.
    pub fn read(&self, offset: u64, max_records: usize, max_bytes: usize) -> Result<Vec<Record>> {
        let end = self.end_offset();
        let start = self.log_start();
        if offset < start || offset > end {
            return Err(self.out_of_range(offset, start, end));
        }
        let mut out = Vec::new();
        let mut at = offset;
        let mut bytes = 0usize;
        let mut full = false;
        let mut reindexed = false;
        while at < end && out.len() < max_records && (bytes < max_bytes || out.is_empty()) {
            let (file, path, (pos, expect), seg_end, chunk, seg_base) = {
                let st = self.state.lock();
                if at < st.segments[0].base {
                    // Retention deleted the segment holding `at` since this read started: say so
                    // rather than silently continuing from the new log start.
                    if !out.is_empty() {
                        break;
                    }
                    return Err(self.out_of_range(at, st.segments[0].base, self.end_offset()));
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
                let chunk = want.clamp(64 * 1024, 8 << 20);
                (s.file.clone(), s.path.clone(), s.position_for(at), s.size, chunk, s.base)
            };
            let scratch = std::mem::take(&mut *self.read_buf.lock());
            let mut reader = FrameReader::new(file.as_ref(), &path, pos, seg_end, chunk).with_scratch(scratch);
            let mut progressed = false;
            let mut first = true;
            let mut lying = false;
            loop {
                if out.len() >= max_records || (bytes >= max_bytes && !out.is_empty()) {
                    break;
                }
                let frame = reader.next_frame()?;
                if std::mem::take(&mut first) {
                    // The batch the index points at must be the one it names (and so contain `at`).
                    let named = matches!(&frame, Frame::Ok(h, _) if h.base_offset == expect);
                    if !named && (pos > 0 || matches!(frame, Frame::Ok(..))) {
                        lying = true;
                        break;
                    }
                }
                match frame {
                    Frame::End => break,
                    Frame::Bad(e) => return Err(reader.damage(e)),
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
            if lying {
                if reindexed {
                    return Err(EngineError::Corrupt {
                        file: path.clone(),
                        position: pos,
                        reason: format!(
                            "the batch at byte {pos} is not the one holding offset {at} even after rebuilding the index from the log: the log disagrees with itself"
                        ),
                    });
                }
                reindexed = true;
                self.reindex(seg_base, at, &path)?;
                continue;
            }
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

    /// Rebuilds the index of the segment starting at `base` from its log, after a read found an
    /// entry pointing at the wrong batch.
    fn reindex(&self, base: u64, at: u64, path: &std::path::Path) -> Result<()> {
        tracing::warn!(
            "{}/{}: the index of {} does not point at the batch holding offset {at}; rebuilding it from the log",
            self.topic,
            self.partition,
            path.display()
        );
        let interval = self.cfg.index_interval;
        let mut st = self.state.lock();
        let last = st.segments.len() - 1;
        let Some(i) = st.segments.iter().position(|s| s.base == base) else { return Ok(()) };
        st.segments[i].reindex(interval, i != last)
    }

    /// Like [`read`](Self::read) but, at the end of the log, waits up to `timeout` for new records.
    pub fn read_wait(
        &self,
        offset: u64,
        max_records: usize,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<Vec<Record>> {
        long_poll(&self.appended, timeout, || self.read(offset, max_records, max_bytes))
    }

    /// The first offset whose timestamp is at or after `ts` (the end offset when there is none).
    pub fn offset_for_time(&self, ts: i64) -> Result<u64> {
        let scan_from = {
            let st = self.state.lock();
            // Records' own timestamps need not rise from segment to segment: the first segment
            // that reached `ts`, not a binary search.
            match st.segments.iter().find(|s| s.max_ts >= ts) {
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
}
