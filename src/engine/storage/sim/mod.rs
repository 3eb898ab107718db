//! `SimStorage`: an in-memory disk for the fault tests, deterministic and seeded.
//!
//! Every file has a durable image and the writes made since its last fsync; a directory's entries
//! (creates, renames, removes) are durable only after an fsync of that directory. [`SimStorage::crash`]
//! is a power loss (see [`crash`] for what survives) after which every handle opened before it
//! fails with EIO, as a process that did not survive would. Faults ([`Fault`]) fail an fsync with
//! EIO, a write with ENOSPC (after N bytes, or once the disk holds M bytes), tear a write (a prefix
//! reaches the page cache, then EIO), or lose a rename at the next crash. Nothing here produces
//! what a POSIX file system could not: fsynced bytes and durable entries always survive.
//!
//! - [`tree`]: files and the namespace; [`file`](mod@file): an open file; [`crash`]: power loss;
//!   [`faults`]: faults and the seeded RNG

pub mod crash;
pub mod faults;
pub mod file;
pub mod tree;

pub use faults::Fault;
pub use file::SimFile;

use super::{OpenMode, Stat, Storage, StorageFile};
use faults::{Armed, Rng, WriteFate, eio, enospc};
use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use tree::{Inode, Node, Op, Pending, Tree, files_in, not_found};

/// What happened on the simulated disk so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    pub crashes: u64,
    pub faults_fired: u64,
    pub writes_lost: u64,
    pub changes_lost: u64,
}

#[derive(Debug, Default)]
struct Locks {
    exclusive: Option<u64>,
    shared: BTreeSet<u64>,
}

#[derive(Debug)]
struct State {
    tree: Tree,
    inodes: HashMap<u64, Inode>,
    next_ino: u64,
    next_handle: u64,
    epoch: u64,
    locks: HashMap<u64, Locks>,
    faults: Vec<Armed>,
    fired: Vec<String>,
    rng: Rng,
    stats: SimStats,
}

/// The simulated disk. Clones share it.
#[derive(Clone, Debug)]
pub struct SimStorage {
    st: Arc<Mutex<State>>,
}

fn norm(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

impl State {
    fn used(&self) -> u64 {
        let live: BTreeSet<u64> = files_in(&self.tree.now).collect();
        live.iter().filter_map(|i| self.inodes.get(i)).map(|f| f.current.len() as u64).sum()
    }

    /// Counts an fsync of `path` against the armed faults: an error when one fires.
    fn fsync_fault(&mut self, path: &Path) -> io::Result<()> {
        self.fail_once(path, |f| matches!(f, Fault::FsyncFails { .. }), "fsync", "fsync")
    }

    /// Counts `op` on `path` against the one-shot faults (of the kind `of` picks) that fail it:
    /// when one fires now, it is told as "`what` of `path` failed" and `op` fails with EIO.
    pub(super) fn fail_once(&mut self, path: &Path, of: fn(&Fault) -> bool, what: &str, op: &str) -> io::Result<()> {
        if self.one_shot(path, of) {
            self.fire(format!("{what} of {} failed (EIO)", path.display()));
            return Err(eio(op));
        }
        Ok(())
    }

    /// Counts a change against a power cut: an error once the power is gone.
    fn change(&mut self, what: &Path) -> io::Result<()> {
        let mut cut = false;
        let mut first = false;
        for a in self.faults.iter_mut() {
            if let Fault::PowerCut { after_ops } = a.fault {
                a.seen += 1;
                if a.seen > after_ops {
                    cut = true;
                    first |= a.seen == after_ops + 1;
                }
            }
        }
        if first {
            self.fire(format!("the power went before a change to {}", what.display()));
        }
        if cut { Err(eio("the disk lost power")) } else { Ok(()) }
    }

    /// Counts an operation on `path` against the armed one-shot faults of the kind `of` picks;
    /// true when one fires now (it is then disarmed).
    fn one_shot(&mut self, path: &Path, of: fn(&Fault) -> bool) -> bool {
        let hit = self.faults.iter_mut().position(|a| match a.fault.nth() {
            Some(nth) if of(&a.fault) && a.matches(path) => {
                a.seen += 1;
                a.seen > nth
            }
            _ => false,
        });
        if let Some(i) = hit {
            self.faults.remove(i);
            true
        } else {
            false
        }
    }

    fn fire(&mut self, what: String) {
        self.stats.faults_fired += 1;
        self.fired.push(what);
    }

    fn write_fate(&mut self, path: &Path, len: usize, pos: u64, cur_len: u64) -> WriteFate {
        let full = self.faults.iter().any(|a| matches!(a.fault, Fault::DiskFull { .. }));
        let used = if full { self.used() } else { 0 };
        let mut fate = WriteFate::Whole;
        let mut done = None;
        for (i, a) in self.faults.iter_mut().enumerate() {
            if !a.matches(path) {
                continue;
            }
            match a.fault {
                Fault::NoSpaceAfter { bytes } => {
                    let budget = bytes.saturating_sub(a.seen);
                    if len as u64 > budget {
                        fate = WriteFate::Partial(budget as usize, enospc());
                        done = Some((i, format!("write to {} ran out of space after {budget} bytes", path.display())));
                        break;
                    }
                    a.seen += len as u64;
                }
                Fault::DiskFull { bytes } => {
                    let end = pos + len as u64;
                    let growth = end.saturating_sub(cur_len);
                    if used + growth > bytes {
                        let room = bytes.saturating_sub(used);
                        let fits = (cur_len + room).saturating_sub(pos).min(len as u64) as usize;
                        fate = WriteFate::Partial(fits, enospc());
                        self.stats.faults_fired += 1;
                        self.fired.push(format!("write to {} found the disk full", path.display()));
                        break;
                    }
                }
                Fault::TornWrite { nth } => {
                    if a.seen == nth {
                        let keep = self.rng.below(len as u64) as usize;
                        fate = WriteFate::Partial(keep, eio("write"));
                        done = Some((i, format!("write to {} torn after {keep} of {len} bytes", path.display())));
                        break;
                    }
                    a.seen += 1;
                }
                _ => {}
            }
        }
        if let Some((i, what)) = done {
            self.faults.remove(i);
            self.fire(what);
        }
        fate
    }
}

impl SimStorage {
    /// An empty disk; `seed` decides torn-write lengths.
    pub fn new(seed: u64) -> SimStorage {
        SimStorage {
            st: Arc::new(Mutex::new(State {
                tree: Tree::new(),
                inodes: HashMap::new(),
                next_ino: 1,
                next_handle: 1,
                epoch: 0,
                locks: HashMap::new(),
                faults: Vec::new(),
                fired: Vec::new(),
                rng: Rng::new(seed),
                stats: SimStats::default(),
            })),
        }
    }

    /// Arms a fault on every path.
    pub fn inject(&self, fault: Fault) {
        self.st.lock().faults.push(Armed { fault, only: None, seen: 0 });
    }

    /// Arms a fault on paths that contain `only`.
    pub fn inject_on(&self, fault: Fault, only: &str) {
        self.st.lock().faults.push(Armed { fault, only: Some(only.to_string()), seen: 0 });
    }

    /// Disarms every fault (the disk has room again, fsyncs work).
    pub fn clear_faults(&self) {
        self.st.lock().faults.clear();
    }

    /// The faults that fired since the last call, described.
    pub fn take_fired(&self) -> Vec<String> {
        std::mem::take(&mut self.st.lock().fired)
    }

    /// Bytes the disk holds now (every file's length), for [`Fault::DiskFull`].
    pub fn used_bytes(&self) -> u64 {
        self.st.lock().used()
    }

    pub fn stats(&self) -> SimStats {
        self.st.lock().stats
    }

    /// Power loss: see [`crash`]. Handles opened before it fail from now on; locks are gone.
    pub fn crash(&self, seed: u64) {
        let mut st = self.st.lock();
        let mut rng = Rng::new(seed);
        let State { tree, inodes, .. } = &mut *st;
        let (w, o) = crash::crash(tree, inodes, &mut rng);
        st.stats.crashes += 1;
        st.stats.writes_lost += w;
        st.stats.changes_lost += o;
        st.epoch += 1;
        st.locks.clear();
        st.faults.clear();
    }

    fn handle(&self, st: &mut State, ino: u64, path: &Path, writable: bool) -> Arc<dyn StorageFile> {
        let id = st.next_handle;
        st.next_handle += 1;
        Arc::new(SimFile { st: self.st.clone(), ino, epoch: st.epoch, id, path: path.to_path_buf(), writable })
    }

    /// Removes the file at `path`, or with `dir` the directory and everything under it.
    fn remove(&self, path: &Path, dir: bool) -> io::Result<()> {
        let p = norm(path);
        let mut st = self.st.lock();
        st.change(&p)?;
        if dir {
            st.tree.dir(&p)?;
        } else {
            st.tree.file(&p)?;
        }
        st.tree.remove(&p).map(|_| ())
    }

    /// Drops files no path (now, durably, or in a pending change) names any more.
    fn gc(st: &mut State) {
        let mut live: BTreeSet<u64> = files_in(&st.tree.now).chain(files_in(&st.tree.base)).collect();
        for m in &st.tree.ops {
            if let Op::Create { node: Node::File(i), .. } = m.op {
                live.insert(i);
            }
        }
        let open: BTreeSet<u64> = st.locks.keys().copied().collect();
        st.inodes.retain(|i, _| live.contains(i) || open.contains(i));
    }
}

impl Storage for SimStorage {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Arc<dyn StorageFile>> {
        let p = norm(path);
        let mut st = self.st.lock();
        let ino = match (st.tree.get(&p), mode) {
            (Some(Node::Dir), _) => {
                return Err(io::Error::new(io::ErrorKind::IsADirectory, format!("{} is a directory", p.display())));
            }
            (Some(Node::File(ino)), _) => ino,
            (None, OpenMode::Read | OpenMode::ReadWrite) => return Err(not_found(&p)),
            (None, OpenMode::Create | OpenMode::Truncate) => {
                st.change(&p)?;
                let ino = st.next_ino;
                st.tree.create(&p, Node::File(ino))?;
                st.next_ino += 1;
                st.inodes.insert(ino, Inode::default());
                ino
            }
        };
        if mode == OpenMode::Truncate && st.inodes.get(&ino).is_some_and(|f| !f.current.is_empty()) {
            st.change(&p)?;
            let f = st.inodes.entry(ino).or_default();
            {
                f.current.clear();
                f.pending.push(Pending::SetLen(0));
            }
        }
        Ok(self.handle(&mut st, ino, &p, mode != OpenMode::Read))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let p = norm(path);
        let st = self.st.lock();
        let ino = st.tree.file(&p)?;
        Ok(st.inodes.get(&ino).map(|f| f.current.clone()).unwrap_or_default())
    }

    fn stat(&self, path: &Path) -> io::Result<Option<Stat>> {
        let p = norm(path);
        let st = self.st.lock();
        Ok(match st.tree.get(&p) {
            Some(Node::Dir) => Some(Stat { is_dir: true, len: 0 }),
            Some(Node::File(ino)) => {
                Some(Stat { is_dir: false, len: st.inodes.get(&ino).map_or(0, |f| f.current.len() as u64) })
            }
            None => None,
        })
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        let p = norm(path);
        let mut st = self.st.lock();
        st.change(&p)?;
        st.tree.create(&p, Node::Dir)
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        let p = norm(path);
        let mut st = self.st.lock();
        let mut at = PathBuf::from("/");
        for c in p.components().skip(1) {
            at.push(c);
            match st.tree.get(&at) {
                Some(Node::Dir) => {}
                Some(Node::File(_)) => {
                    return Err(io::Error::new(io::ErrorKind::NotADirectory, format!("{} is a file", at.display())));
                }
                None => {
                    st.change(&at)?;
                    st.tree.create(&at, Node::Dir)?
                }
            }
        }
        Ok(())
    }

    fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        self.st.lock().tree.children(&norm(path))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (from, to) = (norm(from), norm(to));
        let mut st = self.st.lock();
        st.change(&from)?;
        st.fail_once(&from, |f| matches!(f, Fault::RenameFails { .. }), "rename", "rename")?;
        let lose = st.one_shot(&from, |f| matches!(f, Fault::LoseRename { .. }));
        if lose {
            st.fire(format!("rename of {} will be lost at the next crash", from.display()));
        }
        st.tree.rename(&from, &to, lose)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.remove(path, false)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        self.remove(path, true)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        let p = norm(path);
        let mut st = self.st.lock();
        st.tree.dir(&p)?;
        st.change(&p)?;
        st.fsync_fault(&p)?;
        st.tree.sync_dir(&p);
        Self::gc(&mut st);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
