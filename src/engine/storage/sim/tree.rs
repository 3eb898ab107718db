//! The simulated disk's contents: files (inodes) with a durable image and the writes made since
//! their last fsync, and a namespace (paths → directories and files) with the directory changes
//! made since each directory's last fsync, in order.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// A write not yet made durable by an fsync of its file.
#[derive(Clone, Debug)]
pub enum Pending {
    Write { pos: u64, data: Vec<u8> },
    SetLen(u64),
}

/// One file's bytes: what is on the platter, and what the page cache holds on top of it.
#[derive(Clone, Debug, Default)]
pub struct Inode {
    pub durable: Vec<u8>,
    pub current: Vec<u8>,
    pub pending: Vec<Pending>,
}

impl Inode {
    pub fn apply(bytes: &mut Vec<u8>, p: &Pending) {
        match p {
            Pending::Write { pos, data } => write_at(bytes, *pos, data),
            Pending::SetLen(n) => bytes.resize(*n as usize, 0),
        }
    }

    /// fsync: everything written so far reaches the platter.
    pub fn sync(&mut self) {
        for p in std::mem::take(&mut self.pending) {
            Self::apply(&mut self.durable, &p);
        }
    }
}

pub fn write_at(bytes: &mut Vec<u8>, pos: u64, data: &[u8]) {
    let pos = pos as usize;
    if bytes.len() < pos + data.len() {
        bytes.resize(pos + data.len(), 0);
    }
    bytes[pos..pos + data.len()].copy_from_slice(data);
}

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Dir,
    File(u64),
}

/// A directory change.
#[derive(Clone, Debug)]
pub enum Op {
    Create { path: PathBuf, node: Node },
    Rename { from: PathBuf, to: PathBuf },
    Remove { path: PathBuf },
}

/// A directory change and whether an fsync of a directory it touches has made it durable.
#[derive(Clone, Debug)]
pub struct MetaOp {
    pub op: Op,
    pub dirs: Vec<PathBuf>,
    pub durable: bool,
    /// A fault: lost at the next crash unless it became durable.
    pub lose: bool,
}

/// The namespace: as it is now, as it was durably at `base`, and the changes in between.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    pub now: BTreeMap<PathBuf, Node>,
    pub base: BTreeMap<PathBuf, Node>,
    pub ops: Vec<MetaOp>,
}

fn parent(p: &Path) -> PathBuf {
    p.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The error for nothing at `p`, worded as the operating system words it.
pub fn not_found(p: &Path) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("{}: No such file or directory (os error 2)", p.display()))
}

/// The files (inodes) a namespace names.
pub fn files_in(map: &BTreeMap<PathBuf, Node>) -> impl Iterator<Item = u64> + '_ {
    map.values().filter_map(|n| if let Node::File(i) = n { Some(*i) } else { None })
}

impl Tree {
    pub fn new() -> Tree {
        let mut t = Tree::default();
        t.now.insert(PathBuf::from("/"), Node::Dir);
        t.base = t.now.clone();
        t
    }

    pub fn get(&self, p: &Path) -> Option<Node> {
        self.now.get(p).copied()
    }

    /// The file (inode) at `p`; for a directory or nothing there, the error a file system gives.
    pub fn file(&self, p: &Path) -> io::Result<u64> {
        match self.get(p) {
            Some(Node::File(ino)) => Ok(ino),
            Some(Node::Dir) => Err(io::Error::new(io::ErrorKind::IsADirectory, "is a directory")),
            None => Err(not_found(p)),
        }
    }

    /// Checks that `p` is a directory; for a file or nothing there, the error a file system gives.
    pub fn dir(&self, p: &Path) -> io::Result<()> {
        match self.get(p) {
            Some(Node::Dir) => Ok(()),
            Some(Node::File(_)) => Err(io::Error::new(io::ErrorKind::NotADirectory, "not a directory")),
            None => Err(not_found(p)),
        }
    }

    /// Checks that `p`'s parent is a directory.
    pub fn check_parent(&self, p: &Path) -> io::Result<()> {
        self.dir(&parent(p))
    }

    fn record(&mut self, op: Op, lose: bool) {
        let dirs = match &op {
            Op::Create { path, .. } | Op::Remove { path } => vec![parent(path)],
            Op::Rename { from, to } => vec![parent(from), parent(to)],
        };
        self.ops.push(MetaOp { op, dirs, durable: false, lose });
    }

    pub fn create(&mut self, p: &Path, node: Node) -> io::Result<()> {
        self.check_parent(p)?;
        if self.now.contains_key(p) {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("{} exists", p.display())));
        }
        self.now.insert(p.to_path_buf(), node);
        self.record(Op::Create { path: p.to_path_buf(), node }, false);
        Ok(())
    }

    /// Paths at or under `p`, deepest first.
    fn subtree(map: &BTreeMap<PathBuf, Node>, p: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> =
            map.range(p.to_path_buf()..).map(|(k, _)| k).take_while(|k| k.starts_with(p)).cloned().collect();
        v.sort_by_key(|k| std::cmp::Reverse(k.components().count()));
        v
    }

    pub fn children(&self, p: &Path) -> io::Result<Vec<String>> {
        self.dir(p)?;
        Ok(self
            .now
            .range(p.to_path_buf()..)
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(p))
            .filter(|k| k.parent() == Some(p))
            .filter_map(|k| k.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect())
    }

    /// Moves `from` (and everything under it) to `to`, in `map`. False when `from` is missing.
    fn move_in(map: &mut BTreeMap<PathBuf, Node>, from: &Path, to: &Path) -> bool {
        if !map.contains_key(from) || !map.contains_key(&parent(to)) {
            return false;
        }
        for old in Self::subtree(map, to) {
            map.remove(&old);
        }
        let moved: Vec<(PathBuf, Node)> =
            Self::subtree(map, from).into_iter().filter_map(|k| map.remove(&k).map(|n| (k, n))).collect();
        for (k, n) in moved {
            let rest = k.strip_prefix(from).map(Path::to_path_buf).unwrap_or_default();
            let dest = if rest.as_os_str().is_empty() { to.to_path_buf() } else { to.join(rest) };
            map.insert(dest, n);
        }
        true
    }

    pub fn rename(&mut self, from: &Path, to: &Path, lose: bool) -> io::Result<()> {
        let Some(node) = self.now.get(from).copied() else { return Err(not_found(from)) };
        self.check_parent(to)?;
        if let (Node::Dir, Some(_)) = (node, self.now.get(to)) {
            let busy = self.now.range(to.to_path_buf()..).nth(1).is_some_and(|(k, _)| k.starts_with(to));
            if busy {
                return Err(io::Error::new(io::ErrorKind::DirectoryNotEmpty, "target directory not empty"));
            }
        }
        Self::move_in(&mut self.now, from, to);
        self.record(Op::Rename { from: from.to_path_buf(), to: to.to_path_buf() }, lose);
        Ok(())
    }

    /// Removes `p` and everything under it, one entry at a time (deepest first).
    pub fn remove(&mut self, p: &Path) -> io::Result<Vec<u64>> {
        if !self.now.contains_key(p) {
            return Err(not_found(p));
        }
        let mut files = Vec::new();
        for k in Self::subtree(&self.now, p) {
            if let Some(Node::File(ino)) = self.now.remove(&k) {
                files.push(ino);
            }
            self.record(Op::Remove { path: k }, false);
        }
        Ok(files)
    }

    /// fsync of directory `d`: its entries become durable; the durable prefix folds into `base`.
    pub fn sync_dir(&mut self, d: &Path) {
        for m in &mut self.ops {
            if m.dirs.iter().any(|x| x == d) {
                m.durable = true;
            }
        }
        let n = self.ops.iter().take_while(|m| m.durable).count();
        for m in self.ops.drain(..n) {
            Self::apply_to(&mut self.base, &m.op);
        }
    }

    /// Applies one change to a namespace (skipped when it no longer applies).
    pub fn apply_to(map: &mut BTreeMap<PathBuf, Node>, op: &Op) {
        match op {
            Op::Create { path, node } => {
                if map.get(&parent(path)) == Some(&Node::Dir) && !map.contains_key(path) {
                    map.insert(path.clone(), *node);
                }
            }
            Op::Rename { from, to } => {
                Self::move_in(map, from, to);
            }
            Op::Remove { path } => {
                for k in Self::subtree(map, path) {
                    map.remove(&k);
                }
            }
        }
    }
}
