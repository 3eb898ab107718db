//! One segment of a partition's log: a `.log` file of batches named by its 20-digit base offset,
//! with a sparse offset index (`.index`: relative offset → byte position) and a sparse time index
//! (`.timeindex`: timestamp → relative offset), both kept in memory and appended to their files.

use super::error::{EngineError, IoContext, Result};
use super::fds::FdCache;
use super::files::sync_dir;
pub use super::frames::{Frame, FrameReader};
use super::record::BatchHeader;
use super::storage::{OpenMode, Storage, StorageFile};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An offset-index entry: the batch starting at `base + rel` begins at byte `pos`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    pub rel: u32,
    pub pos: u32,
}

/// A time-index entry: `ts` is the largest timestamp of the batches up to the one at `base + rel`
/// (their append times and records' own, see [`super::record`]), so no record before an entry
/// whose `ts` is below a time has reached that time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeEntry {
    pub ts: i64,
    pub rel: u32,
}

/// An entry as its index file stores it: `LEN` bytes, little-endian, one after another.
trait FileEntry: Copy {
    const LEN: usize;
    fn encode(&self, out: &mut Vec<u8>);
    /// Decodes exactly `LEN` bytes.
    fn decode(b: &[u8]) -> Self;
}

impl FileEntry for IndexEntry {
    const LEN: usize = 8;
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.rel.to_le_bytes());
        out.extend_from_slice(&self.pos.to_le_bytes());
    }
    fn decode(c: &[u8]) -> Self {
        IndexEntry {
            rel: u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            pos: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        }
    }
}

impl FileEntry for TimeEntry {
    const LEN: usize = 12;
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ts.to_le_bytes());
        out.extend_from_slice(&self.rel.to_le_bytes());
    }
    fn decode(c: &[u8]) -> Self {
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&c[..8]);
        TimeEntry { ts: i64::from_le_bytes(ts), rel: u32::from_le_bytes([c[8], c[9], c[10], c[11]]) }
    }
}

/// The entries of an index file up to the first one `keep` refuses (given the entry before it).
fn valid_prefix<E: FileEntry>(bytes: &[u8], keep: impl Fn(Option<E>, E) -> bool) -> Vec<E> {
    let mut out: Vec<E> = Vec::new();
    for c in bytes.chunks_exact(E::LEN) {
        let e = E::decode(c);
        if !keep(out.last().copied(), e) {
            break;
        }
        out.push(e);
    }
    out
}

/// Appends the entries after the first `*persisted` (which the file at `path` holds already) to
/// it, fsyncing when `sync`, and counts them as persisted.
fn append_entries<E: FileEntry>(
    storage: &dyn Storage,
    path: &Path,
    entries: &[E],
    persisted: &mut usize,
    sync: bool,
) -> Result<()> {
    if *persisted >= entries.len() {
        return Ok(());
    }
    let mut buf = Vec::with_capacity((entries.len() - *persisted) * E::LEN);
    for e in &entries[*persisted..] {
        e.encode(&mut buf);
    }
    let f = storage.open(path, OpenMode::Create).ctx(|| format!("open {}", path.display()))?;
    f.write_all_at(&buf, (*persisted * E::LEN) as u64).ctx(|| format!("write {}", path.display()))?;
    if sync {
        f.sync_data().ctx(|| format!("fsync {}", path.display()))?;
    }
    *persisted = entries.len();
    Ok(())
}

/// File name stem of a segment: the base offset as 20 digits.
pub fn stem(base: u64) -> String {
    format!("{base:020}")
}

/// Parses a `.log` file name back to its base offset.
pub fn parse_log_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".log")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One segment file and its indexes.
#[derive(Debug)]
pub struct Segment {
    pub base: u64,
    pub path: PathBuf,
    pub file: Arc<dyn StorageFile>,
    pub storage: Arc<dyn Storage>,
    /// Valid bytes in the file.
    pub size: u64,
    /// Offset after the last record in this segment.
    pub next_offset: u64,
    /// Largest timestamp in the segment (append times and records' own), `i64::MIN` when empty.
    pub max_ts: i64,
    pub index: Vec<IndexEntry>,
    pub tindex: Vec<TimeEntry>,
    persisted_index: usize,
    persisted_tindex: usize,
}

/// The `.log` file of segment `base` in `dir`.
fn log_path(dir: &Path, base: u64) -> PathBuf {
    dir.join(format!("{}.log", stem(base)))
}

impl Segment {
    /// Segment `base` of `size` bytes in `file`, with nothing read from it yet: no index entries,
    /// no records counted.
    fn unread(storage: &Arc<dyn Storage>, path: PathBuf, file: Arc<dyn StorageFile>, base: u64, size: u64) -> Segment {
        Segment {
            base,
            path,
            file,
            storage: storage.clone(),
            size,
            next_offset: base,
            max_ts: i64::MIN,
            index: Vec::new(),
            tindex: Vec::new(),
            persisted_index: 0,
            persisted_tindex: 0,
        }
    }

    fn index_path(&self) -> PathBuf {
        self.path.with_extension("index")
    }

    fn tindex_path(&self) -> PathBuf {
        self.path.with_extension("timeindex")
    }

    /// Creates an empty segment file and fsyncs the directory (unless `sync` is false).
    pub fn create(storage: &Arc<dyn Storage>, dir: &Path, base: u64, sync: bool) -> Result<Segment> {
        let path = log_path(dir, base);
        let file = storage.open(&path, OpenMode::Create).ctx(|| format!("create segment {}", path.display()))?;
        let size = file.len().ctx(|| format!("stat {}", path.display()))?;
        if size != 0 {
            return Err(EngineError::Corrupt {
                file: path,
                position: 0,
                reason: "a new segment file already holds data".into(),
            });
        }
        for ext in ["index", "timeindex"] {
            let p = path.with_extension(ext);
            storage.open(&p, OpenMode::Truncate).ctx(|| format!("create {}", p.display()))?;
        }
        if sync {
            sync_dir(storage.as_ref(), dir)?;
        }
        Ok(Segment::unread(storage, path, file, base, 0))
    }

    /// Opens an existing segment file without reading its contents.
    pub fn open_file(storage: &Arc<dyn Storage>, dir: &Path, base: u64) -> Result<Segment> {
        let path = log_path(dir, base);
        let file = storage.open(&path, OpenMode::ReadWrite).ctx(|| format!("open segment {}", path.display()))?;
        let size = file.len().ctx(|| format!("stat {}", path.display()))?;
        Ok(Segment::unread(storage, path, file, base, size))
    }

    /// Opens a sealed segment without holding its file open: reads borrow a handle from `fds`.
    pub fn open_sealed_file(storage: &Arc<dyn Storage>, fds: &Arc<FdCache>, dir: &Path, base: u64) -> Result<Segment> {
        let path = log_path(dir, base);
        let size = match storage.stat(&path).ctx(|| format!("stat {}", path.display()))? {
            Some(st) if !st.is_dir => st.len,
            _ => {
                return Err(EngineError::io(
                    format!("open segment {}", path.display()),
                    std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory"),
                ));
            }
        };
        let file = Arc::new(fds.file(path.clone()));
        Ok(Segment::unread(storage, path, file, base, size))
    }

    /// After sealing: reads go through `fds` and the segment's own handle is let go.
    pub fn release_file(&mut self, fds: &Arc<FdCache>) {
        self.file = Arc::new(fds.file(self.path.clone()));
    }

    /// Loads the index files, keeping the valid prefix of entries that point below `limit_pos`
    /// (and, for the time index, below relative offset `limit_rel` when given).
    pub fn load_indexes(&mut self, limit_pos: u64, limit_rel: Option<u64>) {
        let idx = self.storage.read(&self.index_path()).unwrap_or_default();
        self.index = valid_prefix(&idx, |last: Option<IndexEntry>, e| {
            let ordered = match last {
                None => e.pos == 0,
                Some(l) => e.rel > l.rel && e.pos > l.pos,
            };
            ordered && u64::from(e.pos) < limit_pos
        });
        let tidx = self.storage.read(&self.tindex_path()).unwrap_or_default();
        self.tindex = valid_prefix(&tidx, |last: Option<TimeEntry>, e| {
            let ordered = last.is_none_or(|l| e.ts >= l.ts && e.rel >= l.rel);
            ordered && limit_rel.is_none_or(|m| u64::from(e.rel) < m)
        });
        self.persisted_index = self.index.len();
        self.persisted_tindex = self.tindex.len();
        // Rewrite the files if they held more than we kept, so later appends line up.
        if idx.len() != self.index.len() * IndexEntry::LEN || tidx.len() != self.tindex.len() * TimeEntry::LEN {
            self.persisted_index = 0;
            self.persisted_tindex = 0;
            for p in [self.index_path(), self.tindex_path()] {
                if let Err(e) = self.storage.open(&p, OpenMode::Truncate) {
                    tracing::warn!("could not empty {}: {e}", p.display());
                }
            }
        }
    }

    /// Adds index entries for a batch at `pos` when it is `interval` bytes past the previous one.
    pub fn note_batch(&mut self, pos: u64, h: &BatchHeader, interval: u64) {
        let rel = (h.base_offset - self.base) as u32;
        let due = self.index.last().is_none_or(|e| pos - u64::from(e.pos) >= interval);
        if due {
            self.index.push(IndexEntry { rel, pos: pos as u32 });
            let ts = self.max_ts.max(h.max_ts);
            if self.tindex.last().is_none_or(|t| ts > t.ts) {
                self.tindex.push(TimeEntry { ts, rel });
            }
        }
        self.size = pos + h.frame_len as u64;
        self.next_offset = h.next_offset();
        self.max_ts = self.max_ts.max(h.max_ts);
    }

    /// Appends index entries not yet written to the index files (no fsync unless `sync`).
    pub fn persist_indexes(&mut self, sync: bool) -> Result<()> {
        let storage = self.storage.as_ref();
        append_entries(storage, &self.index_path(), &self.index, &mut self.persisted_index, sync)?;
        append_entries(storage, &self.tindex_path(), &self.tindex, &mut self.persisted_tindex, sync)
    }

    /// Seals the segment: the time index gets a last entry with the segment's largest timestamp
    /// (so retention by age needs no scan), and both indexes are written out.
    pub fn seal(&mut self, sync: bool) -> Result<()> {
        if self.size > 0 && self.tindex.last().is_none_or(|t| t.ts < self.max_ts) {
            let rel = (self.next_offset.saturating_sub(1) - self.base) as u32;
            self.tindex.push(TimeEntry { ts: self.max_ts, rel });
        }
        self.persist_indexes(sync)
    }

    /// Byte position to start reading from to find `offset` (the nearest index entry at or below
    /// it), and the base offset of the batch the index says starts there.
    pub fn position_for(&self, offset: u64) -> (u64, u64) {
        let rel = offset.saturating_sub(self.base);
        let i = self.index.partition_point(|e| u64::from(e.rel) <= rel);
        if i == 0 {
            (0, self.base)
        } else {
            let e = self.index[i - 1];
            (u64::from(e.pos), self.base + u64::from(e.rel))
        }
    }

    /// Rebuilds the offset and time indexes from the log (a CRC-checked scan of the whole
    /// segment, whose batches must follow on from its base offset) and rewrites their files;
    /// `sealed` adds the sealed segment's last time entry. The segment's end offset is then the
    /// scan's, and its largest timestamp at least the scan's. Damage or a gap is an error naming
    /// the byte, and the segment is left as it was.
    pub fn reindex(&mut self, interval: u64, sealed: bool) -> Result<()> {
        let mut scan = Segment::unread(&self.storage, self.path.clone(), self.file.clone(), self.base, 0);
        let mut reader = FrameReader::new(self.file.as_ref(), &self.path, 0, self.size, 4 << 20);
        while let Some((at, h, _)) = reader.next_batch()? {
            if h.base_offset != scan.next_offset {
                return Err(EngineError::Corrupt {
                    file: self.path.clone(),
                    position: at,
                    reason: format!(
                        "the batch starts at offset {} but {} was expected; restore the file from a copy",
                        h.base_offset, scan.next_offset
                    ),
                });
            }
            scan.note_batch(at, &h, interval);
        }
        self.index = scan.index;
        self.tindex = scan.tindex;
        self.next_offset = scan.next_offset;
        self.max_ts = self.max_ts.max(scan.max_ts);
        for p in [self.index_path(), self.tindex_path()] {
            self.storage.open(&p, OpenMode::Truncate).ctx(|| format!("rewrite {}", p.display()))?;
        }
        self.persisted_index = 0;
        self.persisted_tindex = 0;
        if sealed { self.seal(true) } else { self.persist_indexes(false) }
    }

    /// An offset at or before the first record with timestamp >= `ts`, to scan forward from.
    pub fn scan_start_for_time(&self, ts: i64) -> u64 {
        let i = self.tindex.partition_point(|e| e.ts < ts);
        if i == 0 { self.base } else { self.base + u64::from(self.tindex[i - 1].rel) }
    }

    /// Removes the segment's files.
    pub fn delete_files(&self) -> Result<()> {
        for p in [self.path.clone(), self.index_path(), self.tindex_path()] {
            match self.storage.remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(EngineError::io(format!("delete {}", p.display()), e)),
            }
        }
        Ok(())
    }
}
