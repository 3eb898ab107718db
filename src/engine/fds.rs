//! The engine-wide cache of open sealed-segment files: only active segments keep a file open for
//! their whole life; a sealed segment is a [`CachedFile`] that borrows a handle from a bounded
//! LRU cache on each read, so a data directory with thousands of segments neither runs out of
//! file descriptors nor needs one per segment to open.

use super::storage::{OpenMode, Storage, StorageFile};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many sealed segments an engine keeps open at most.
pub const OPEN_SEALED_SEGMENTS: usize = 128;

#[derive(Debug, Default)]
struct Lru {
    tick: u64,
    open: HashMap<u64, (Arc<dyn StorageFile>, u64)>,
}

/// Open handles of sealed segments, least recently used closed first.
#[derive(Debug)]
pub struct FdCache {
    storage: Arc<dyn Storage>,
    capacity: usize,
    lru: Mutex<Lru>,
}

impl FdCache {
    pub fn new(storage: Arc<dyn Storage>, capacity: usize) -> FdCache {
        FdCache { storage, capacity: capacity.max(1), lru: Mutex::new(Lru::default()) }
    }

    /// A handle to the file `id` at `path`, opened (read-only) if it is not in the cache.
    fn get(&self, id: u64, path: &Path) -> io::Result<Arc<dyn StorageFile>> {
        let mut lru = self.lru.lock();
        lru.tick += 1;
        let tick = lru.tick;
        if let Some((f, used)) = lru.open.get_mut(&id) {
            *used = tick;
            return Ok(f.clone());
        }
        if lru.open.len() >= self.capacity
            && let Some(oldest) = lru.open.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| *k)
        {
            lru.open.remove(&oldest);
        }
        let f = self.storage.open(path, OpenMode::Read)?;
        lru.open.insert(id, (f.clone(), tick));
        Ok(f)
    }

    /// Closes the handle of file `id` (its segment was deleted).
    pub fn forget(&self, id: u64) {
        self.lru.lock().open.remove(&id);
    }

    /// How many handles are open now.
    pub fn open_count(&self) -> usize {
        self.lru.lock().open.len()
    }

    /// A sealed segment's file, read through this cache.
    pub fn file(self: &Arc<Self>, path: PathBuf) -> CachedFile {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        CachedFile { id: NEXT.fetch_add(1, Ordering::Relaxed), path, cache: self.clone() }
    }
}

/// A sealed segment's file: every read borrows a handle from the [`FdCache`].
#[derive(Debug)]
pub struct CachedFile {
    pub id: u64,
    path: PathBuf,
    cache: Arc<FdCache>,
}

impl Drop for CachedFile {
    fn drop(&mut self) {
        self.cache.forget(self.id);
    }
}

fn sealed(path: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, format!("{} is sealed: it is never written", path.display()))
}

impl StorageFile for CachedFile {
    fn read_exact_at(&self, buf: &mut [u8], pos: u64) -> io::Result<()> {
        self.cache.get(self.id, &self.path)?.read_exact_at(buf, pos)
    }

    fn write_all_at(&self, _: &[u8], _: u64) -> io::Result<()> {
        Err(sealed(&self.path))
    }

    fn len(&self) -> io::Result<u64> {
        self.cache.get(self.id, &self.path)?.len()
    }

    fn set_len(&self, _: u64) -> io::Result<()> {
        Err(sealed(&self.path))
    }

    fn sync_data(&self) -> io::Result<()> {
        self.cache.get(self.id, &self.path)?.sync_data()
    }

    fn sync_all(&self) -> io::Result<()> {
        self.cache.get(self.id, &self.path)?.sync_all()
    }

    fn try_lock(&self, _: bool) -> io::Result<bool> {
        Ok(false)
    }

    fn unlock(&self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::storage::SimStorage;

    #[test]
    fn at_most_capacity_handles_are_open_and_reads_reopen_what_was_closed() {
        let sim = SimStorage::new(1);
        for i in 0..10 {
            let f = sim.open(Path::new(&format!("/f{i}")), OpenMode::Create).unwrap();
            f.write_all_at(format!("file {i}").as_bytes(), 0).unwrap();
        }
        let cache = Arc::new(FdCache::new(Arc::new(sim), 3));
        let files: Vec<CachedFile> = (0..10).map(|i| cache.file(PathBuf::from(format!("/f{i}")))).collect();
        for round in 0..3 {
            for (i, f) in files.iter().enumerate() {
                let mut b = vec![0u8; 6];
                f.read_exact_at(&mut b, 0).unwrap();
                assert_eq!(b, format!("file {i}").as_bytes()[..6], "round {round}");
                assert!(cache.open_count() <= 3);
            }
        }
        drop(files);
        assert_eq!(cache.open_count(), 0, "dropped segments close their handles");
    }
}
