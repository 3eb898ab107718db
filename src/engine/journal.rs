//! A small append-only file of CRC-framed JSON entries (`len u32 | crc32c u32 | json`), used for
//! committed offsets and the reset journal. A torn last entry is cut on open; damage before valid
//! entries is an error naming the file and byte position.

use super::config::SyncMode;
use super::error::{EngineError, IoContext, Result};
use super::storage::{OpenMode, Storage, StorageFile};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    storage: Arc<dyn Storage>,
    path: PathBuf,
    file: Arc<dyn StorageFile>,
    size: u64,
    sync: SyncMode,
    dirty: bool,
}

fn frame<T: Serialize>(entry: &T) -> Result<Vec<u8>> {
    let body =
        serde_json::to_vec(entry).map_err(|e| EngineError::InvalidArgument(format!("cannot encode entry: {e}")))?;
    let mut buf = Vec::with_capacity(body.len() + 8);
    buf.extend_from_slice(&(body.len() as u32).to_le_bytes());
    buf.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    buf.extend_from_slice(&body);
    Ok(buf)
}

impl Journal {
    /// Opens `path`, returning the journal and every entry in it.
    pub fn open<T: DeserializeOwned>(
        storage: &Arc<dyn Storage>,
        path: &Path,
        sync: SyncMode,
    ) -> Result<(Journal, Vec<T>)> {
        let bytes = match storage.read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(EngineError::io(format!("read {}", path.display()), e)),
        };
        let mut entries = Vec::new();
        let mut pos = 0usize;
        let mut torn = None;
        while pos < bytes.len() {
            let rest = &bytes[pos..];
            if rest.len() < 8 {
                torn = Some("entry header is cut short");
                break;
            }
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
            if rest.len() < 8 + len {
                torn = Some("entry is cut short");
                break;
            }
            let body = &rest[8..8 + len];
            let ok = crc32c::crc32c(body) == crc;
            let last = pos + 8 + len == bytes.len();
            let parsed = if ok { serde_json::from_slice::<T>(body).ok() } else { None };
            match parsed {
                Some(e) => entries.push(e),
                None if last => {
                    torn = Some("last entry fails its checksum");
                    break;
                }
                None => {
                    return Err(EngineError::Corrupt {
                        file: path.to_path_buf(),
                        position: pos as u64,
                        reason: "journal entry fails its checksum and is followed by more entries; restore the file from a copy or remove it".into(),
                    });
                }
            }
            pos += 8 + len;
        }
        let file = storage.open(path, OpenMode::Create).ctx(|| format!("open {}", path.display()))?;
        if let Some(why) = torn {
            tracing::warn!("{}: {why}; cut {} bytes at byte {pos}", path.display(), bytes.len() - pos);
            file.set_len(pos as u64).ctx(|| format!("truncate {}", path.display()))?;
            file.sync_all().ctx(|| format!("fsync {}", path.display()))?;
        }
        let j =
            Journal { storage: storage.clone(), path: path.to_path_buf(), file, size: pos as u64, sync, dirty: false };
        Ok((j, entries))
    }

    /// Appends one entry; durable before returning when the sync mode is `always` (or `force_sync`).
    pub fn append<T: Serialize>(&mut self, entry: &T, force_sync: bool) -> Result<()> {
        let buf = frame(entry)?;
        self.file.write_all_at(&buf, self.size).ctx(|| format!("write {}", self.path.display()))?;
        self.size += buf.len() as u64;
        self.dirty = true;
        if force_sync || self.sync == SyncMode::Always {
            self.flush()?;
        }
        Ok(())
    }

    /// fsyncs pending entries.
    pub fn flush(&mut self) -> Result<()> {
        if self.dirty {
            self.file
                .sync_data()
                .map_err(|e| EngineError::Failed(format!("fsync of {} failed: {e}", self.path.display())))?;
            self.dirty = false;
        }
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Replaces the whole journal with `entries` (write to a temporary file, fsync, rename).
    pub fn rewrite<T: Serialize>(&mut self, entries: &[T]) -> Result<()> {
        let tmp = self.path.with_extension("tmp");
        let mut buf = Vec::new();
        for e in entries {
            buf.extend_from_slice(&frame(e)?);
        }
        {
            let f = self.storage.open(&tmp, OpenMode::Truncate).ctx(|| format!("create {}", tmp.display()))?;
            f.write_all_at(&buf, 0).ctx(|| format!("write {}", tmp.display()))?;
            f.sync_all().ctx(|| format!("fsync {}", tmp.display()))?;
        }
        self.storage.rename(&tmp, &self.path).ctx(|| format!("replace {}", self.path.display()))?;
        if let Some(dir) = self.path.parent() {
            super::segment::sync_dir(self.storage.as_ref(), dir)?;
        }
        self.file =
            self.storage.open(&self.path, OpenMode::ReadWrite).ctx(|| format!("open {}", self.path.display()))?;
        self.size = buf.len() as u64;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(fs: &Arc<dyn Storage>, p: &Path, bytes: &[u8]) {
        fs.open(p, OpenMode::Truncate).unwrap().write_all_at(bytes, 0).unwrap();
    }

    #[test]
    fn torn_last_entry_is_cut_and_damage_before_valid_entries_is_an_error() {
        let fs = super::super::storage::real();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j");
        {
            let (mut j, e) = Journal::open::<u32>(&fs, &p, SyncMode::Never).unwrap();
            assert!(e.is_empty());
            for i in 0..3u32 {
                j.append(&i, false).unwrap();
            }
        }
        let full = fs.read(&p).unwrap();
        put(&fs, &p, &full[..full.len() - 2]);
        let (_, e) = Journal::open::<u32>(&fs, &p, SyncMode::Never).unwrap();
        assert_eq!(e, vec![0, 1]);
        let mut bad = full.clone();
        bad[8] ^= 1; // the first entry's one-byte body
        put(&fs, &p, &bad);
        let err = Journal::open::<u32>(&fs, &p, SyncMode::Never).unwrap_err().to_string();
        assert!(err.contains("at byte 0"), "{err}");
    }
}
