//! Faults the simulated disk injects, and the seeded random numbers it draws.

use std::io;
use std::path::Path;

/// A fault to inject. Counts start at the moment it is injected; `nth: 0` is the next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The `nth` fsync (of a file or a directory) fails with EIO; the writes it should have
    /// made durable stay in the page cache, and a crash may or may not keep them.
    FsyncFails { nth: u64 },
    /// Once `bytes` more bytes were written, one write fails with ENOSPC after writing what fits.
    NoSpaceAfter { bytes: u64 },
    /// The disk holds at most `bytes` (the sum of every file's length): a write that would grow
    /// it past that writes what fits and fails with ENOSPC, until [`super::SimStorage::clear_faults`].
    DiskFull { bytes: u64 },
    /// The `nth` write is torn: a prefix of it reaches the page cache, then it fails with EIO.
    TornWrite { nth: u64 },
    /// The `nth` rename fails with EIO and changes nothing.
    RenameFails { nth: u64 },
    /// The power goes after `after_ops` more changes (writes, truncations, fsyncs, creates,
    /// renames, removes): every change from then on fails with EIO, as if the process had died
    /// there, until [`super::SimStorage::crash`].
    PowerCut { after_ops: u64 },
    /// The `nth` truncation (`set_len`) fails with EIO and changes nothing.
    SetLenFails { nth: u64 },
    /// The `nth` rename is lost at the next crash unless an fsync of its directory made it durable.
    LoseRename { nth: u64 },
}

impl Fault {
    /// Which operation of its kind a counted fault fails (`nth`); `None` for the others.
    pub fn nth(&self) -> Option<u64> {
        match self {
            Fault::FsyncFails { nth }
            | Fault::TornWrite { nth }
            | Fault::RenameFails { nth }
            | Fault::SetLenFails { nth }
            | Fault::LoseRename { nth } => Some(*nth),
            Fault::NoSpaceAfter { .. } | Fault::DiskFull { .. } | Fault::PowerCut { .. } => None,
        }
    }
}

/// A fault waiting to fire, limited to paths containing `only` when given.
#[derive(Clone, Debug)]
pub struct Armed {
    pub fault: Fault,
    pub only: Option<String>,
    pub seen: u64,
}

impl Armed {
    pub fn matches(&self, path: &Path) -> bool {
        self.only.as_ref().is_none_or(|s| path.to_string_lossy().contains(s.as_str()))
    }
}

/// What a write may do under the armed faults.
pub enum WriteFate {
    Whole,
    /// Write this many bytes, then fail with this error.
    Partial(usize, io::Error),
}

pub fn eio(what: &str) -> io::Error {
    io::Error::new(io::Error::from_raw_os_error(5).kind(), format!("{what}: Input/output error (os error 5)"))
}

pub fn enospc() -> io::Error {
    io::Error::from_raw_os_error(28)
}

/// xorshift64*: deterministic and good enough to choose what a crash keeps.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}
