//! Every file operation of the engine goes through [`Storage`] (the file system: open, read whole
//! files, directories — create, list, rename, remove, fsync) and [`StorageFile`] (one open file:
//! positioned reads and writes, length, fsync, the advisory lock). [`FsStorage`] is the real one, a
//! thin layer over `std::fs`; [`SimStorage`] is an in-memory disk that models what power loss does
//! to unsynced writes and directory changes and injects faults (failed fsync, ENOSPC, torn writes,
//! lost renames), for the fault tests.
//!
//! - [`fs`]: the real file system
//! - [`sim`]: the simulated disk, deterministic and seeded (its namespace, crash and faults in
//!   files of their own)

pub mod fs;
pub mod sim;

pub use fs::FsStorage;
pub use sim::{Fault, SimStorage};

use std::io;
use std::path::Path;
use std::sync::Arc;

/// How a file is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// Read only; the file must exist.
    Read,
    /// Read and write; the file must exist.
    ReadWrite,
    /// Read and write, created empty if missing, kept as it is otherwise.
    Create,
    /// Read and write, created if missing, emptied if present.
    Truncate,
}

/// What [`Storage::stat`] says about a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub is_dir: bool,
    pub len: u64,
}

/// One open file.
pub trait StorageFile: Send + Sync + std::fmt::Debug {
    /// Reads exactly `buf.len()` bytes at `pos` (an error when the file is shorter).
    fn read_exact_at(&self, buf: &mut [u8], pos: u64) -> io::Result<()>;
    /// Writes all of `buf` at `pos`, extending the file as needed.
    fn write_all_at(&self, buf: &[u8], pos: u64) -> io::Result<()>;
    /// The file's length now.
    fn len(&self) -> io::Result<u64>;
    /// True when the file holds no bytes.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Cuts or extends the file to `len` bytes.
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// Makes the file's data durable.
    fn sync_data(&self) -> io::Result<()>;
    /// Makes the file's data and metadata durable.
    fn sync_all(&self) -> io::Result<()>;
    /// Takes the advisory lock without waiting: `Ok(false)` when another handle holds it.
    fn try_lock(&self, exclusive: bool) -> io::Result<bool>;
    /// Releases the advisory lock.
    fn unlock(&self) -> io::Result<()>;
}

/// The file system the engine keeps its data directory on.
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// Opens `path` as `mode` says.
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn StorageFile>>;
    /// The whole contents of a file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// What is at `path`, `None` when nothing is.
    fn stat(&self, path: &Path) -> io::Result<Option<Stat>>;
    /// Creates one directory (an error if it exists).
    fn create_dir(&self, path: &Path) -> io::Result<()>;
    /// Creates a directory and its missing parents.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// The names in a directory, in no particular order.
    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    /// Renames a file or directory (replacing a file at `to`).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Removes a directory and everything in it.
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Makes the directory's entries (creates, renames, removes in it) durable.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
}

/// The storage the engine uses unless told otherwise: the real file system.
pub fn real() -> Arc<dyn Storage> {
    Arc::new(FsStorage)
}
