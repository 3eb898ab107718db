//! A partition's `log-start` file: the first offset retention or `delete_records` kept (a
//! segment's base, or an offset inside the first segment after `delete_records`). Opening
//! compares it with the first segment, so a missing first segment is an error instead of a quiet
//! new log start.
//!
//! Layout: the offset as a little-endian u64, then the crc32c of those 8 bytes. It is replaced
//! atomically (a temporary file, fsync, rename, fsync of the directory) before retention or
//! `delete_records` deletes the segments below it; open finishes such a deletion. A partition created before the file
//! existed gets one on open, from its first segment.

use super::error::{EngineError, Result};
use super::files::{replace_file, sync_dir};
use super::storage::Storage;
use std::path::Path;

/// The file's name inside the partition directory.
pub const FILE: &str = "log-start";

/// Reads the log start; `None` when the file does not exist.
pub fn read(storage: &dyn Storage, dir: &Path) -> Result<Option<u64>> {
    let path = dir.join(FILE);
    let bytes = match storage.read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EngineError::io(format!("read {}", path.display()), e)),
    };
    let ok = bytes.len() == 12 && crc32c::crc32c(&bytes[..8]).to_le_bytes() == bytes[8..12];
    if !ok {
        return Err(EngineError::Corrupt {
            file: path,
            position: 0,
            reason: "the log start does not pass its checksum; restore it from a copy, or remove it to take the first segment's base offset as the log start".into(),
        });
    }
    let mut v = [0u8; 8];
    v.copy_from_slice(&bytes[..8]);
    Ok(Some(u64::from_le_bytes(v)))
}

/// Replaces the log start durably.
pub fn write(storage: &dyn Storage, dir: &Path, start: u64) -> Result<()> {
    let path = dir.join(FILE);
    let tmp = dir.join(format!("{FILE}.tmp"));
    let mut buf = start.to_le_bytes().to_vec();
    buf.extend_from_slice(&crc32c::crc32c(&buf).to_le_bytes());
    replace_file(storage, &tmp, &path, &buf)?;
    sync_dir(storage, dir)
}
