//! A partition's `checkpoint` file: the last fsynced position of the active segment, the next
//! offset and the largest timestamp there, and the producer-id state at that point. It is a hint
//! for a faster open (recovery validates only what follows it); without it recovery scans more.
//!
//! Layout: `DCK2` | body_len u32 | base u64 | pos u64 | next u64 | last_ts i64 | producers |
//! crc32c u32 of everything before it, all little-endian. The file is overwritten in place, so
//! bytes after the CRC are leftovers and ignored.

use super::producer::Producers;
use super::storage::{OpenMode, Storage};
use std::path::Path;

const MAGIC: &[u8; 4] = b"DCK2";
/// The file's name inside the partition directory.
pub const FILE: &str = "checkpoint";

/// What a checkpoint says.
pub struct Checkpoint {
    /// Base offset of the segment it describes.
    pub base: u64,
    /// Bytes of that segment known to be fsynced.
    pub pos: u64,
    /// The offset after the last record before `pos`.
    pub next: u64,
    pub last_ts: i64,
    pub producers: Producers,
}

/// Encodes a checkpoint.
pub fn encode(base: u64, pos: u64, next: u64, last_ts: i64, producers: &Producers) -> Vec<u8> {
    let mut buf = Vec::with_capacity(64);
    buf.extend_from_slice(MAGIC);
    buf.extend_from_slice(&0u32.to_le_bytes());
    buf.extend_from_slice(&base.to_le_bytes());
    buf.extend_from_slice(&pos.to_le_bytes());
    buf.extend_from_slice(&next.to_le_bytes());
    buf.extend_from_slice(&last_ts.to_le_bytes());
    producers.encode(&mut buf);
    let body_len = (buf.len() - 8) as u32;
    buf[4..8].copy_from_slice(&body_len.to_le_bytes());
    let crc = crc32c::crc32c(&buf);
    buf.extend_from_slice(&crc.to_le_bytes());
    buf
}

/// Decodes a checkpoint; `None` when it is missing pieces or fails its CRC.
pub fn decode(b: &[u8]) -> Option<Checkpoint> {
    if b.len() < 8 || &b[..4] != MAGIC {
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

/// Reads the checkpoint of the partition in `dir`, if there is a usable one.
pub fn read(storage: &dyn Storage, dir: &Path) -> Option<Checkpoint> {
    decode(&storage.read(&dir.join(FILE)).ok()?)
}

/// Overwrites the checkpoint of the partition in `dir` in place. A failure is logged, not
/// returned: the checkpoint is only a hint.
pub fn write(storage: &dyn Storage, dir: &Path, bytes: &[u8]) {
    let path = dir.join(FILE);
    let r = storage.open(&path, OpenMode::Create).and_then(|f| f.write_all_at(bytes, 0));
    if let Err(e) = r {
        tracing::warn!("could not write {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_reads_back_and_leftover_bytes_after_its_crc_are_ignored() {
        let mut producers = Producers::default();
        producers.record(7, 3, 2, 40);
        let mut bytes = encode(100, 4096, 142, -5, &producers);
        bytes.extend_from_slice(b"leftovers of a longer, older checkpoint");
        let c = decode(&bytes).unwrap();
        assert_eq!((c.base, c.pos, c.next, c.last_ts), (100, 4096, 142, -5));
        assert_eq!(c.producers, producers);
        let mut damaged = bytes.clone();
        damaged[20] ^= 1;
        assert!(decode(&damaged).is_none(), "a flipped bit fails the CRC");
        assert!(decode(&bytes[..30]).is_none(), "cut short");
        assert!(decode(b"DCK1\0\0\0\0").is_none(), "another format");
    }
}
