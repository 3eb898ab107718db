//! A partition's `producer-epochs` journal: where a Kafka producer started writing this partition
//! with an epoch other than the one the log implies. The batch format has no epoch, so without
//! it a restart could not tell a producer's batches of an older epoch from those of its current
//! one, and a new epoch's first batch (sequence 0 again) could be taken for a retry of the old
//! epoch's sequence 0 — acknowledged and never appended.
//!
//! One entry per epoch start: `{"pid":…,"epoch":…,"offset":…}`, the offset of the first batch of
//! that epoch. The entry is fsynced before that batch is appended. Written only when a producer
//! changes epoch here (librdkafka bumps its epoch after a failed request), so most partitions
//! never have the file. A damaged entry before valid ones fails the open, as every journal does;
//! a torn last entry is cut (its batch was never written: the entry is fsynced first).

use super::config::SyncMode;
use super::error::{IoContext, Result};
use super::journal::Journal;
use super::storage::Storage;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file's name inside the partition directory.
pub const FILE: &str = "producer-epochs";

#[derive(Serialize, Deserialize)]
struct EpochStart {
    pid: u64,
    epoch: i16,
    offset: u64,
}

/// The journal of one partition, opened when it is first written.
pub struct EpochJournal {
    storage: Arc<dyn Storage>,
    path: PathBuf,
    journal: Option<Journal>,
}

impl std::fmt::Debug for EpochJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EpochJournal({})", self.path.display())
    }
}

/// Each producer's last epoch start here: `pid → (epoch, first offset)`.
pub type EpochStarts = HashMap<u64, (i16, u64)>;

impl EpochJournal {
    /// Reads the journal of the partition in `dir`, if it has one.
    pub fn open(storage: &Arc<dyn Storage>, dir: &Path) -> Result<(EpochJournal, EpochStarts)> {
        let path = dir.join(FILE);
        let mut starts = EpochStarts::new();
        let mut journal = None;
        if storage.stat(&path).ctx(|| format!("look at {}", path.display()))?.is_some() {
            let (j, entries) = Journal::open::<EpochStart>(storage, &path, SyncMode::Always)?;
            for e in entries {
                starts.insert(e.pid, (e.epoch, e.offset));
            }
            journal = Some(j);
        }
        Ok((EpochJournal { storage: storage.clone(), path, journal }, starts))
    }

    /// Records, durably, that producer `pid` writes this partition with `epoch` from `offset` on.
    pub fn record(&mut self, pid: u64, epoch: i16, offset: u64) -> Result<()> {
        let journal = match &mut self.journal {
            Some(j) => j,
            None => {
                let (j, _) = Journal::open::<EpochStart>(&self.storage, &self.path, SyncMode::Always)?;
                self.journal.insert(j)
            }
        };
        journal.append(&EpochStart { pid, epoch, offset }, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_starts_read_back_the_last_per_producer_and_damage_fails_the_open() {
        let fs = super::super::storage::real();
        let dir = tempfile::tempdir().unwrap();
        let (mut j, starts) = EpochJournal::open(&fs, dir.path()).unwrap();
        assert!(starts.is_empty());
        assert!(fs.stat(&dir.path().join(FILE)).unwrap().is_none(), "no file until an epoch changes");
        j.record(4, 1, 10).unwrap();
        j.record(5, 3, 12).unwrap();
        j.record(4, 2, 20).unwrap();
        let (_, starts) = EpochJournal::open(&fs, dir.path()).unwrap();
        assert_eq!(starts, EpochStarts::from([(4, (2, 20)), (5, (3, 12))]));
        let path = dir.path().join(FILE);
        let mut bytes = fs.read(&path).unwrap();
        bytes[9] ^= 0x20;
        fs.open(&path, super::super::storage::OpenMode::Truncate).unwrap().write_all_at(&bytes, 0).unwrap();
        let err = EpochJournal::open(&fs, dir.path()).unwrap_err().to_string();
        assert!(err.contains("producer-epochs") && err.contains("at byte 0"), "{err}");
    }
}
