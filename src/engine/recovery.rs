//! Opening a partition's segments after a clean close or a crash. Sealed segments trust their
//! indexes (rebuilt by a CRC-checked scan when missing or damaged); the active segment is
//! validated from its checkpoint to the end. A torn tail (bytes after the last valid batch, with
//! no valid batch after the damage) is truncated and logged; damage followed by valid data is
//! refused with the file and byte position: nothing acknowledged is cut by a guess.

use super::checkpoint::{self, Checkpoint};
use super::error::{EngineError, IoContext, Result};
use super::files::{read_exact_at, sync_dir};
use super::log::LogConfig;
use super::producer::Producers;
use super::record::{self, BATCH_HEADER, BATCH_HEADER_V1, BatchHeader};
use super::segment::{self, Frame, FrameReader, Segment};
use super::storage::StorageFile;
use super::{log_start, sealed};
use std::path::{Path, PathBuf};

/// What recovery did on open, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Bytes of the active segment validated on open.
    pub scanned_bytes: u64,
    /// Bytes cut from a torn tail, and where.
    pub truncated: Option<(PathBuf, u64, u64)>,
}

/// A partition's segments as recovered, the active one last.
pub struct Recovered {
    pub segments: Vec<Segment>,
    pub next_offset: u64,
    /// The largest timestamp in the log (`i64::MIN` when it never held a record).
    pub last_ts: i64,
    pub producers: Producers,
    /// The first offset of the log: the first segment's base, or later when records were deleted
    /// from inside it (`delete_records`).
    pub log_start: u64,
}

/// Opens (or creates) the segments of the partition in `dir`.
pub fn open_segments(dir: &Path, cfg: &LogConfig, report: &mut RecoveryReport) -> Result<Recovered> {
    let storage = cfg.storage.as_ref();
    let mut bases = Vec::new();
    for name in storage.list_dir(dir).ctx(|| format!("list {}", dir.display()))? {
        if let Some(b) = segment::parse_log_name(&name) {
            bases.push(b);
        }
    }
    bases.sort_unstable();
    let start = log_start::read(storage, dir)?;
    let mut segments = Vec::with_capacity(bases.len().max(1));
    let Some(&last) = bases.last() else {
        let ck = checkpoint::read(storage, dir);
        if start.is_some_and(|s| s > 0) || ck.as_ref().is_some_and(|c| c.next > 0) {
            let at = start.unwrap_or(0).max(ck.map_or(0, |c| c.base));
            return Err(EngineError::Corrupt {
                file: dir.join(format!("{}.log", segment::stem(at))),
                position: 0,
                reason: "every segment file of the partition is missing, but its log start or checkpoint says it held records; restore the files from a copy".into(),
            });
        }
        segments.push(Segment::create(&cfg.storage, dir, 0, true)?);
        if start.is_none() {
            log_start::write(storage, dir, 0)?;
        }
        return Ok(Recovered {
            segments,
            next_offset: 0,
            last_ts: i64::MIN,
            producers: Producers::default(),
            log_start: 0,
        });
    };
    let bases = match start {
        None => {
            // A partition from before the log start was kept: its first segment is the start.
            log_start::write(storage, dir, bases[0])?;
            bases
        }
        Some(s) => finish_retention(cfg, dir, bases, s)?,
    };
    let log_start = start.unwrap_or(bases[0]).max(bases[0]);
    let last = *bases.last().unwrap_or(&last);
    for w in bases.windows(2) {
        segments.push(sealed::open_sealed(cfg, dir, w[0], w[1])?);
    }
    let (seg, next_offset, ts, producers) = recover_active(dir, last, &segments, cfg, report)?;
    // Timestamps never go back, even when the checkpoint is gone and the active segment is empty.
    let last_ts = segments.iter().map(|s| s.max_ts).fold(ts, i64::max);
    if log_start > next_offset {
        // delete_records makes the records below the new start durable before it writes it.
        return Err(EngineError::Corrupt {
            file: dir.join(log_start::FILE),
            position: 0,
            reason: format!(
                "the log starts at offset {log_start} but its records end at {next_offset}: records acknowledged as durable are missing; restore the partition from a copy"
            ),
        });
    }
    segments.push(seg);
    Ok(Recovered { segments, next_offset, last_ts, producers, log_start })
}

/// Retention and `delete_records` record the new log start before they delete the segments below
/// it: removes what a crash left of such a deletion, and refuses a first segment that starts
/// after the log start. A log start inside the first segment is `delete_records`' (the records
/// below it stay on disk, unread, until the segment goes as a whole).
fn finish_retention(cfg: &LogConfig, dir: &Path, bases: Vec<u64>, start: u64) -> Result<Vec<u64>> {
    let mut keep = Vec::with_capacity(bases.len());
    for (i, &b) in bases.iter().enumerate() {
        let next = bases.get(i + 1).copied();
        if next.is_some_and(|n| n <= start) {
            let seg = Segment::open_sealed_file(&cfg.storage, &cfg.fds, dir, b)?;
            tracing::info!("{}: finishing the retention that deleted offsets below {start}", seg.path.display());
            seg.delete_files()?;
            continue;
        }
        keep.push(b);
    }
    if keep.len() < bases.len() {
        sync_dir(cfg.storage.as_ref(), dir)?;
    }
    if let Some(&first) = keep.first()
        && first > start
    {
        let missing = dir.join(format!("{}.log", segment::stem(start)));
        return Err(EngineError::Corrupt {
            file: missing.clone(),
            position: 0,
            reason: format!(
                "the log starts at offset {start} but the first segment starts at {first}: {} is missing; restore it from a copy, or (to accept losing offsets {start}..{first}) write {first} as the log start by removing {}",
                missing.display(),
                dir.join(log_start::FILE).display()
            ),
        });
    }
    Ok(keep)
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
    let mut seg = Segment::open_file(&cfg.storage, dir, base)?;
    let len = seg.size;
    let (ck, older) = match checkpoint::read(cfg.storage.as_ref(), dir) {
        Some(c) if c.base == base && c.pos > len => {
            return Err(EngineError::Corrupt {
                file: seg.path.clone(),
                position: len,
                reason: format!(
                    "the active segment holds {len} bytes but the checkpoint says {} were fsynced (up to offset {}): the file was cut, which no crash does; restore it from a copy",
                    c.pos, c.next
                ),
            });
        }
        Some(c) if c.base > base => {
            return Err(EngineError::Corrupt {
                file: dir.join(format!("{}.log", segment::stem(c.base))),
                position: 0,
                reason: format!(
                    "the checkpoint names this segment (fsynced up to byte {}, offset {}) but it is missing; restore it from a copy",
                    c.pos, c.next
                ),
            });
        }
        Some(c) if c.base == base && c.next >= base => (Some(c), None),
        Some(c) if c.base < base => (None, Some(c)),
        _ => (None, None),
    };
    let (pos, next, last_ts, mut producers) = match ck {
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
    // From the checkpoint on, each valid batch moves the segment's end past it.
    seg.size = pos;
    seg.next_offset = next;
    seg.max_ts = last_ts;
    let file = seg.file.clone();
    let path = seg.path.clone();
    let mut reader = FrameReader::new(file.as_ref(), &path, pos, len, 4 << 20);
    let damage = loop {
        match reader.next_frame()? {
            Frame::End => break None,
            Frame::Bad(e) => break Some(e.to_string()),
            Frame::Ok(h, _) => {
                if h.base_offset != seg.next_offset {
                    break Some(format!(
                        "batch starts at offset {} but {} was expected",
                        h.base_offset, seg.next_offset
                    ));
                }
                seg.note_batch(reader.pos - h.frame_len as u64, &h, cfg.index_interval);
                replay_producer(&mut producers, &h);
            }
        }
    };
    report.scanned_bytes = len - pos;
    let (pos, next) = (seg.size, seg.next_offset);
    if let Some(reason) = damage {
        if let Some(valid) = find_valid_batch_after(file.as_ref(), &path, pos, len)? {
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
    let last_ts = seg.max_ts;
    Ok((seg, next, last_ts, producers))
}

/// Replays a batch found in the log into the producer state (a batch without a producer has id 0).
fn replay_producer(producers: &mut Producers, h: &BatchHeader) {
    if h.producer_id != 0 {
        producers.record(h.producer_id, h.base_seq, h.count, h.base_offset);
    }
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
        let mut reader = FrameReader::new(s.file.as_ref(), &s.path, from, s.size, 4 << 20);
        loop {
            match reader.next_frame() {
                Ok(Frame::Ok(h, _)) => {
                    replay_producer(&mut producers, &h);
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

/// Looks for any valid batch strictly after `from` (up to `end`): damage followed by valid data
/// means the damage is not a torn tail, and the engine must not truncate it away.
pub fn find_valid_batch_after(file: &dyn StorageFile, path: &Path, from: u64, end: u64) -> Result<Option<u64>> {
    const CHUNK: u64 = 1 << 20;
    let mut start = from + 1;
    // Chunks overlap by the longest header; a frame may start wherever the shortest one fits.
    while start + (BATCH_HEADER_V1 as u64) <= end {
        let n = (CHUNK + BATCH_HEADER as u64).min(end - start) as usize;
        let buf = read_exact_at(file, path, start, n)?;
        let scan_to = n.saturating_sub(BATCH_HEADER_V1) + 1;
        for i in 0..scan_to.min(CHUNK as usize) {
            if !record::is_magic(buf[i + 8]) {
                continue;
            }
            if let Ok(h) = record::parse_header(&buf[i..]) {
                let at = start + i as u64;
                if at + h.frame_len as u64 <= end {
                    let frame = read_exact_at(file, path, at, h.frame_len)?;
                    if record::check_frame(&frame).is_ok() {
                        return Ok(Some(at));
                    }
                }
            }
        }
        start += CHUNK;
    }
    Ok(None)
}
