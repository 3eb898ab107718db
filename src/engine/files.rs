//! The file steps the engine's files share, each with the error context that names the file:
//! fsync a directory, write a small file whole and durably, replace one atomically, remove what a
//! failed change left behind, read exactly a range.

use super::error::{IoContext, Result};
use super::storage::{OpenMode, Storage, StorageFile};
use bytes::{Bytes, BytesMut};
use std::path::Path;

/// Fsyncs a directory so a new or removed entry in it survives a crash.
pub fn sync_dir(storage: &dyn Storage, dir: &Path) -> Result<()> {
    storage.sync_dir(dir).ctx(|| format!("fsync directory {}", dir.display()))
}

/// Writes `bytes` as the whole file at `path` (created, or emptied first) and fsyncs it. The
/// directory entry of a new file is not fsynced: that is the caller's step.
pub fn write_synced(storage: &dyn Storage, path: &Path, bytes: &[u8]) -> Result<()> {
    let f = storage.open(path, OpenMode::Truncate).ctx(|| format!("create {}", path.display()))?;
    f.write_all_at(bytes, 0).ctx(|| format!("write {}", path.display()))?;
    f.sync_all().ctx(|| format!("fsync {}", path.display()))
}

/// Replaces the file at `path` in one step: `bytes` are written and fsynced at `tmp`, which is
/// then renamed over `path`. The rename is durable once the caller fsyncs the directory.
pub fn replace_file(storage: &dyn Storage, tmp: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    write_synced(storage, tmp, bytes)?;
    storage.rename(tmp, path).ctx(|| format!("replace {}", path.display()))
}

/// Removes what a failed change left at `path`: a file, or with `dir` a directory and all in it.
/// Nothing there is fine; another failure is logged, not returned, since the change's own error
/// is the one the caller reports.
pub fn remove_leftover(storage: &dyn Storage, path: &Path, dir: bool) {
    let removed = if dir { storage.remove_dir_all(path) } else { storage.remove_file(path) };
    if let Err(e) = removed
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!("could not remove {} after a failed change: {e}", path.display());
    }
}

/// Reads exactly `len` bytes at `pos`.
pub fn read_exact_at(file: &dyn StorageFile, path: &Path, pos: u64, len: usize) -> Result<Bytes> {
    let mut buf = BytesMut::zeroed(len);
    file.read_exact_at(&mut buf, pos).ctx(|| format!("read {len} bytes at byte {pos} of {}", path.display()))?;
    Ok(buf.freeze())
}
