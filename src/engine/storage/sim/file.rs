//! An open file on the simulated disk: positioned reads and writes under the armed faults,
//! fsync, truncation and the advisory lock; it fails with EIO once the disk lost power.

use super::State;
use super::faults::{Fault, WriteFate, eio};
use super::tree::{self, Pending};
use crate::engine::storage::StorageFile;
use parking_lot::{Mutex, MutexGuard};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// An open file on the simulated disk.
#[derive(Debug)]
pub struct SimFile {
    pub(super) st: Arc<Mutex<State>>,
    pub(super) ino: u64,
    pub(super) epoch: u64,
    pub(super) id: u64,
    pub(super) path: PathBuf,
    pub(super) writable: bool,
}

impl SimFile {
    /// The disk's state, unless it lost power since this file was opened (then EIO).
    fn live(&self) -> io::Result<MutexGuard<'_, State>> {
        let st = self.st.lock();
        if st.epoch != self.epoch {
            return Err(eio("the disk lost power since this file was opened"));
        }
        Ok(st)
    }

    fn release(&self, st: &mut State) {
        if let Some(l) = st.locks.get_mut(&self.ino) {
            if l.exclusive == Some(self.id) {
                l.exclusive = None;
            }
            l.shared.remove(&self.id);
            if l.exclusive.is_none() && l.shared.is_empty() {
                st.locks.remove(&self.ino);
            }
        }
    }
}

impl Drop for SimFile {
    fn drop(&mut self) {
        let st = self.st.clone();
        let mut st = st.lock();
        self.release(&mut st);
    }
}

impl StorageFile for SimFile {
    fn read_exact_at(&self, buf: &mut [u8], pos: u64) -> io::Result<()> {
        let st = self.live()?;
        let data = st.inodes.get(&self.ino).map(|f| f.current.as_slice()).unwrap_or_default();
        let (start, end) = (pos as usize, pos as usize + buf.len());
        if end > data.len() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "failed to fill whole buffer"));
        }
        buf.copy_from_slice(&data[start..end]);
        Ok(())
    }

    fn write_all_at(&self, buf: &[u8], pos: u64) -> io::Result<()> {
        let mut st = self.live()?;
        if !self.writable {
            return Err(io::Error::from_raw_os_error(9));
        }
        st.change(&self.path)?;
        let cur_len = st.inodes.get(&self.ino).map_or(0, |f| f.current.len() as u64);
        let (n, err) = match st.write_fate(&self.path, buf.len(), pos, cur_len) {
            WriteFate::Whole => (buf.len(), None),
            WriteFate::Partial(n, e) => (n, Some(e)),
        };
        if n > 0 {
            let f = st.inodes.entry(self.ino).or_default();
            tree::write_at(&mut f.current, pos, &buf[..n]);
            f.pending.push(Pending::Write { pos, data: buf[..n].to_vec() });
        }
        err.map_or(Ok(()), Err)
    }

    fn len(&self) -> io::Result<u64> {
        let st = self.live()?;
        Ok(st.inodes.get(&self.ino).map_or(0, |f| f.current.len() as u64))
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut st = self.live()?;
        st.change(&self.path)?;
        st.fail_once(&self.path, |f| matches!(f, Fault::SetLenFails { .. }), "truncation", "set_len")?;
        let f = st.inodes.entry(self.ino).or_default();
        f.current.resize(len as usize, 0);
        f.pending.push(Pending::SetLen(len));
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        let mut st = self.live()?;
        st.change(&self.path)?;
        st.fsync_fault(&self.path)?;
        if let Some(f) = st.inodes.get_mut(&self.ino) {
            f.sync();
        }
        Ok(())
    }

    fn sync_all(&self) -> io::Result<()> {
        self.sync_data()
    }

    fn try_lock(&self, exclusive: bool) -> io::Result<bool> {
        let mut st = self.live()?;
        let l = st.locks.entry(self.ino).or_default();
        let others_shared = l.shared.iter().any(|&h| h != self.id);
        let other_excl = l.exclusive.is_some_and(|h| h != self.id);
        if other_excl || (exclusive && others_shared) {
            return Ok(false);
        }
        if exclusive {
            l.shared.remove(&self.id);
            l.exclusive = Some(self.id);
        } else {
            l.shared.insert(self.id);
        }
        Ok(true)
    }

    fn unlock(&self) -> io::Result<()> {
        let mut st = self.st.lock();
        self.release(&mut st);
        Ok(())
    }
}
