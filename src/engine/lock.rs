//! The data directory's lock: `depot.lock` holds an exclusive file lock while an engine has the
//! directory open, and says who holds it (`pid=`, and `addr=` once the process serves it).

use super::engine::Engine;
use super::error::{EngineError, IoContext, Result};
use super::storage::{self, OpenMode, Storage, StorageFile};
use std::path::Path;
use std::sync::Arc;

/// The lock file's name inside the data directory.
const LOCK_FILE: &str = "depot.lock";

/// Locks `dir` for this process, or says which process holds it.
pub(super) fn lock_dir(storage: &dyn Storage, dir: &Path) -> Result<Arc<dyn StorageFile>> {
    let path = dir.join(LOCK_FILE);
    let file = storage.open(&path, OpenMode::Create).ctx(|| format!("open lock file {}", path.display()))?;
    match file.try_lock(true) {
        Ok(true) => {}
        Ok(false) => {
            let text = String::from_utf8_lossy(&storage.read(&path).unwrap_or_default()).into_owned();
            let (pid, addr) = parse_lock(&text);
            return Err(EngineError::Locked {
                dir: dir.to_path_buf(),
                pid: pid.unwrap_or_else(|| "unknown".into()),
                addr: addr.map(|a| format!(", serving http://{a}")).unwrap_or_default(),
            });
        }
        Err(e) => return Err(EngineError::io(format!("lock {}", path.display()), e)),
    }
    write_lock(file.as_ref(), &path, None)?;
    Ok(file)
}

fn write_lock(file: &dyn StorageFile, path: &Path, addr: Option<&str>) -> Result<()> {
    let mut text = format!("pid={}\n", std::process::id());
    if let Some(a) = addr {
        text.push_str(&format!("addr={a}\n"));
    }
    file.set_len(0).ctx(|| format!("write {}", path.display()))?;
    // At byte 0: the file position is past the previous contents, and writing there would leave
    // NULs before `pid=` (which then no longer parses).
    file.write_all_at(text.as_bytes(), 0).ctx(|| format!("write {}", path.display()))?;
    Ok(())
}

/// Releases the lock (on close, so the directory can be reopened before the last handle drops).
pub(super) fn unlock(file: &dyn StorageFile, dir: &Path) -> Result<()> {
    file.unlock().map_err(|e| EngineError::io(format!("unlock {}", dir.join(LOCK_FILE).display()), e))
}

/// Reads `pid=` and `addr=` from a lock file's text.
pub fn parse_lock(text: &str) -> (Option<String>, Option<String>) {
    let get = |k: &str| text.lines().find_map(|l| l.strip_prefix(k)).map(|s| s.trim().to_string());
    (get("pid="), get("addr="))
}

/// Who holds a data directory: `(pid, address)` from its lock file, if another process holds it.
pub fn lock_holder(dir: &Path) -> Option<(String, Option<String>)> {
    lock_holder_on(storage::real().as_ref(), dir)
}

/// [`lock_holder`] on a given storage.
pub fn lock_holder_on(storage: &dyn Storage, dir: &Path) -> Option<(String, Option<String>)> {
    let path = dir.join(LOCK_FILE);
    let file = storage.open(&path, OpenMode::Read).ok()?;
    match file.try_lock(false) {
        Ok(true) => None,
        _ => {
            let text = String::from_utf8_lossy(&storage.read(&path).ok()?).into_owned();
            let (pid, addr) = parse_lock(&text);
            Some((pid.unwrap_or_else(|| "unknown".into()), addr))
        }
    }
}

impl Engine {
    /// Records the address this process serves the data directory on, in the lock file.
    pub fn advertise(&self, addr: Option<&str>) -> Result<()> {
        // After close the lock is released and the file may belong to another process.
        self.check_open()?;
        write_lock(self.inner.lock_file.as_ref(), &self.inner.dir.join(LOCK_FILE), addr)
    }
}
