//! A small append-only file of CRC-framed JSON entries (`len u32 | crc32c u32 | json`), used for
//! committed offsets and the reset journal. A torn last entry is cut on open; damage before valid
//! entries is an error naming the file and byte position.

use super::config::SyncMode;
use super::error::{EngineError, IoContext, Result};
use super::files::{remove_leftover, replace_file, sync_dir};
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
    /// Set when a write could not be undone or an fsync failed: later writes are refused.
    failed: Option<String>,
}

fn frame<T: Serialize>(entry: &T) -> Result<Vec<u8>> {
    let body =
        serde_json::to_vec(entry).map_err(|e| EngineError::InvalidArgument(format!("cannot encode entry: {e}")))?;
    if body.len() > MAX_ENTRY {
        return Err(EngineError::InvalidArgument(format!(
            "a journal entry of {} bytes is larger than the {MAX_ENTRY} byte limit",
            body.len()
        )));
    }
    let mut buf = Vec::with_capacity(body.len() + 8);
    buf.extend_from_slice(&(body.len() as u32).to_le_bytes());
    buf.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    buf.extend_from_slice(&body);
    Ok(buf)
}

/// The longest entry a journal holds; a length field above it is damage, not a torn append.
pub const MAX_ENTRY: usize = 256 << 20;

/// The entry at the start of `rest`, if it is whole and valid: `(entry, frame length)`.
fn entry_at<T: DeserializeOwned>(rest: &[u8]) -> std::result::Result<(T, usize), &'static str> {
    if rest.len() < 8 {
        return Err("entry header is cut short");
    }
    let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
    let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
    if len > MAX_ENTRY {
        return Err("entry length field is larger than any entry");
    }
    if rest.len() < 8 + len {
        return Err("entry is cut short");
    }
    let body = &rest[8..8 + len];
    if crc32c::crc32c(body) != crc {
        return Err("entry fails its checksum");
    }
    serde_json::from_slice::<T>(body).map(|e| (e, 8 + len)).map_err(|_| "entry does not parse")
}

/// Reads every entry. Damage with nothing valid after it is a torn tail: the entries before it
/// and where it starts are returned with why. Damage followed by any valid entry is an error
/// naming the byte: a torn append only ever cuts the last entry.
fn parse<T: DeserializeOwned>(bytes: &[u8], path: &Path) -> Result<(Vec<T>, usize, Option<&'static str>)> {
    let mut entries = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        match entry_at::<T>(&bytes[pos..]) {
            Ok((e, n)) => {
                entries.push(e);
                pos += n;
            }
            Err(why) => {
                let valid = (pos + 1..bytes.len()).find(|&at| entry_at::<serde::de::IgnoredAny>(&bytes[at..]).is_ok());
                if let Some(at) = valid {
                    return Err(EngineError::Corrupt {
                        file: path.to_path_buf(),
                        position: pos as u64,
                        reason: format!(
                            "{why}, and a valid entry follows at byte {at}, so this is not a torn append; depot will not drop the entries after it: restore the file from a copy"
                        ),
                    });
                }
                return Ok((entries, pos, Some(why)));
            }
        }
    }
    Ok((entries, pos, None))
}

impl Journal {
    /// Opens `path`, returning the journal and every entry in it.
    pub fn open<T: DeserializeOwned>(
        storage: &Arc<dyn Storage>,
        path: &Path,
        sync: SyncMode,
    ) -> Result<(Journal, Vec<T>)> {
        let (bytes, new) = match storage.read(path) {
            Ok(b) => (b, false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Vec::new(), true),
            Err(e) => return Err(EngineError::io(format!("read {}", path.display()), e)),
        };
        let (entries, pos, torn) = parse(&bytes, path)?;
        let file = storage.open(path, OpenMode::Create).ctx(|| format!("open {}", path.display()))?;
        if new && let Some(dir) = path.parent() {
            // The entry of a new journal must be durable before anything in it is acknowledged.
            sync_dir(storage.as_ref(), dir)?;
        }
        if let Some(why) = torn {
            tracing::warn!(
                "{}: {why} and nothing valid follows (a torn last append); cut {} bytes at byte {pos}",
                path.display(),
                bytes.len() - pos
            );
            file.set_len(pos as u64).ctx(|| format!("truncate {}", path.display()))?;
            file.sync_all().ctx(|| format!("fsync {}", path.display()))?;
        }
        let j = Journal {
            storage: storage.clone(),
            path: path.to_path_buf(),
            file,
            size: pos as u64,
            sync,
            dirty: false,
            failed: None,
        };
        Ok((j, entries))
    }

    /// Appends one entry; durable before returning when the sync mode is `always` (or `force_sync`).
    /// A failed write is cut back to the last whole entry before the error is returned, so the
    /// next append starts there; if that cut fails too, or an fsync fails, the journal refuses
    /// every later write until depot is restarted (open then keeps what is whole).
    pub fn append<T: Serialize>(&mut self, entry: &T, force_sync: bool) -> Result<()> {
        self.check_writable()?;
        let buf = frame(entry)?;
        let before = self.size;
        if let Err(e) = self.file.write_all_at(&buf, before) {
            self.cut_back(before, &e.to_string());
            return Err(EngineError::io(format!("write {}", self.path.display()), e));
        }
        self.size += buf.len() as u64;
        self.dirty = true;
        if (force_sync || self.sync == SyncMode::Always)
            && let Err(e) = self.flush()
        {
            // Not acknowledged: take the entry back out so it does not reappear after a restart.
            self.size = before;
            self.cut_back(before, &e.to_string());
            return Err(e);
        }
        Ok(())
    }

    fn check_writable(&self) -> Result<()> {
        match &self.failed {
            Some(f) => Err(EngineError::Failed(format!(
                "{} refuses writes after an earlier failure ({f}); restart depot to recover it",
                self.path.display()
            ))),
            None => Ok(()),
        }
    }

    /// Cuts the file back to `len` after a failed write; marks the journal failed if it cannot.
    fn cut_back(&mut self, len: u64, why: &str) {
        if let Err(u) = self.file.set_len(len) {
            let what = format!("a write to {} failed ({why}) and could not be undone ({u})", self.path.display());
            tracing::error!("{what}");
            self.failed = Some(what);
        }
    }

    /// fsyncs pending entries. A failure makes the journal refuse writes until restart: the page
    /// cache can no longer be trusted to hold what was written.
    pub fn flush(&mut self) -> Result<()> {
        if self.dirty {
            if let Err(e) = self.file.sync_data() {
                let what = format!("fsync of {} failed: {e}", self.path.display());
                tracing::error!("{what}");
                self.failed = Some(what.clone());
                return Err(EngineError::Failed(what));
            }
            self.dirty = false;
        }
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Replaces the whole journal with `entries` (write to a temporary file, fsync, rename). On a
    /// failure before the rename the journal stays as it was.
    pub fn rewrite<T: Serialize>(&mut self, entries: &[T]) -> Result<()> {
        self.check_writable()?;
        let tmp = self.path.with_extension("tmp");
        let mut buf = Vec::new();
        for e in entries {
            buf.extend_from_slice(&frame(e)?);
        }
        if let Err(e) = replace_file(self.storage.as_ref(), &tmp, &self.path, &buf) {
            remove_leftover(self.storage.as_ref(), &tmp, false);
            return Err(e);
        }
        // Renamed: the journal is the new file now, whatever happens next.
        let reopened = self.storage.open(&self.path, OpenMode::ReadWrite);
        match reopened {
            Ok(f) => self.file = f,
            Err(e) => {
                self.failed = Some(format!("reopening {} after compaction failed: {e}", self.path.display()));
                return Err(EngineError::io(format!("open {}", self.path.display()), e));
            }
        }
        self.size = buf.len() as u64;
        self.dirty = false;
        if let Some(dir) = self.path.parent()
            && let Err(e) = sync_dir(self.storage.as_ref(), dir)
        {
            self.failed = Some(e.to_string());
            return Err(e);
        }
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
        // A damaged length field (the second entry's high byte) is damage, not a torn tail:
        // valid entries follow it. The file is left as it is.
        let mut bad = full.clone();
        bad[9 + 3] = 0x01;
        put(&fs, &p, &bad);
        let err = Journal::open::<u32>(&fs, &p, SyncMode::Never).unwrap_err().to_string();
        assert!(err.contains("at byte 9") && err.contains("valid entry follows at byte 18"), "{err}");
        assert_eq!(fs.read(&p).unwrap(), bad);
        // The same damage in the last entry, with nothing after it, is a torn append.
        let mut bad = full.clone();
        bad[18 + 3] = 0x01;
        put(&fs, &p, &bad);
        let (_, e) = Journal::open::<u32>(&fs, &p, SyncMode::Never).unwrap();
        assert_eq!(e, vec![0, 1]);
    }
}
