//! Opening a sealed segment: it must hold whole batches up to its last byte, and its last batch
//! must end exactly where the next segment begins. That is checked cheaply on every open by
//! reading from the last index entry to the end (the index is rebuilt by a full, CRC-checked scan
//! when it is missing, damaged or points at the wrong batch). Damage inside a segment whose end is
//! whole is left for reads to report; a segment that is empty, cut short or followed by a gap is
//! an error naming the file and offset.

use super::error::{EngineError, Result};
use super::log::LogConfig;
use super::recovery::find_valid_batch_after;
use super::segment::{Frame, FrameReader, Segment, stem};
use std::path::Path;

/// What a scan of a segment's tail found.
enum Tail {
    /// Frames end at the file's end; the last one ends at this offset.
    Ends(u64),
    /// The index entry the scan started from does not hold the batch it names.
    IndexWrong,
}

/// Opens the sealed segment `base` of `dir`, whose records must end at `next_base`.
pub fn open_sealed(cfg: &LogConfig, dir: &Path, base: u64, next_base: u64) -> Result<Segment> {
    let mut seg = Segment::open_sealed_file(&cfg.storage, &cfg.fds, dir, base)?;
    let size = seg.size;
    if size == 0 {
        return Err(corrupt(
            &seg,
            0,
            format!(
                "the sealed segment is empty but offsets {base}..{next_base} belong in it; restore the file from a copy (the records are not anywhere else)"
            ),
        ));
    }
    // Entries must point inside the segment: positions below its size, offsets below the next base.
    seg.load_indexes(size, Some(next_base - base));
    seg.next_offset = next_base;
    let has_ts = seg.tindex.last().is_some();
    if !seg.index.is_empty() && has_ts {
        match scan_tail(&seg)? {
            Tail::Ends(end) => {
                check_end(&seg, end, next_base)?;
                seg.max_ts = seg.tindex.last().map(|t| t.ts).unwrap_or(i64::MIN);
                return Ok(seg);
            }
            Tail::IndexWrong => {
                tracing::warn!("the index of {} points at the wrong batch; rebuilding it", seg.path.display());
            }
        }
    } else {
        tracing::warn!("rebuilding the indexes of {} (missing or damaged)", seg.path.display());
    }
    seg.reindex(cfg.index_interval, true)?;
    check_end(&seg, seg.next_offset, next_base)?;
    Ok(seg)
}

fn corrupt(seg: &Segment, position: u64, reason: String) -> EngineError {
    EngineError::Corrupt { file: seg.path.clone(), position, reason }
}

/// The segment's records must end where the next segment begins.
fn check_end(seg: &Segment, end: u64, next_base: u64) -> Result<()> {
    if end == next_base {
        return Ok(());
    }
    let why = if end < next_base {
        format!(
            "the segment's records end at offset {end} but the next segment starts at {next_base}: offsets {end}..{next_base} are missing (the segment was cut short, or segment {}.log is missing); restore the files from a copy",
            stem(end)
        )
    } else {
        format!(
            "the segment's records run to offset {end}, past the next segment's base {next_base}: the segments overlap; restore the files from a copy"
        )
    };
    Err(corrupt(seg, seg.size, why))
}

/// Reads from the last index entry to the end of the file. Damage on the way is skipped when a
/// valid batch follows it (reads report it); damage at the very end is an error.
fn scan_tail(seg: &Segment) -> Result<Tail> {
    let Some(last) = seg.index.last().copied() else { return Ok(Tail::IndexWrong) };
    let mut pos = u64::from(last.pos);
    let mut expect = Some(seg.base + u64::from(last.rel));
    let mut end = None;
    let mut reader = FrameReader::new(seg.file.as_ref(), &seg.path, pos, seg.size, 256 * 1024);
    loop {
        match reader.next_frame()? {
            Frame::End => break,
            Frame::Ok(h, _) => {
                if let Some(e) = expect.take()
                    && h.base_offset != e
                {
                    return Ok(Tail::IndexWrong);
                }
                end = Some(h.next_offset());
                pos = reader.pos;
            }
            Frame::Bad(e) => {
                if expect.is_some() {
                    return Ok(Tail::IndexWrong);
                }
                let Some(v) = find_valid_batch_after(seg.file.as_ref(), &seg.path, pos, seg.size)? else {
                    return Err(corrupt(
                        seg,
                        pos,
                        format!(
                            "{e} at the end of a sealed segment (no valid batch follows); a sealed segment is never torn: restore the file from a copy"
                        ),
                    ));
                };
                tracing::warn!("{} is damaged at byte {pos} ({e}); reads of it will say so", seg.path.display());
                pos = v;
                reader = FrameReader::new(seg.file.as_ref(), &seg.path, pos, seg.size, 256 * 1024);
            }
        }
    }
    Ok(end.map_or(Tail::IndexWrong, Tail::Ends))
}
