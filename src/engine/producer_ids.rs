//! The producer ids the engine hands out to Kafka producers (InitProducerId): never 0, never
//! handed out twice, across restarts too. `producer-ids` in the data directory holds the first
//! id not yet reserved; ids are reserved a block at a time (the file is replaced, fsynced, before
//! any id of the new block is handed out), so a crash skips at most the rest of a block.
//!
//! On open the next id is the file's floor, or more when a partition remembers a producer id at
//! or above it (the file was lost or restored from an older copy): an id some partition still
//! remembers is never handed out again. A file that is there but damaged fails the open.
//!
//! Layout: `DPID` | floor u64 | crc32c u32 of the 12 bytes before it, little-endian.

use super::error::{EngineError, Result};
use super::files::{remove_leftover, replace_file, sync_dir};
use super::storage::Storage;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file's name inside the data directory.
pub const FILE: &str = "producer-ids";
const MAGIC: &[u8; 4] = b"DPID";
/// Ids reserved per write of the file.
const BLOCK: u64 = 1000;
/// Ids are below this (Kafka's are i64; depot's own producer tags are any u64, and such a tag
/// remembered by a partition does not move the counter).
pub const LIMIT: u64 = 1 << 48;

/// The counter (under the engine's lock for it).
pub struct ProducerIds {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    next: u64,
    reserved: u64,
}

impl std::fmt::Debug for ProducerIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProducerIds(next {}, reserved below {})", self.next, self.reserved)
    }
}

fn encode(floor: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(16);
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&floor.to_le_bytes());
    let crc = crc32c::crc32c(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

fn decode(b: &[u8]) -> Option<u64> {
    if b.len() != 16 || &b[..4] != MAGIC {
        return None;
    }
    let crc = u32::from_le_bytes(b[12..16].try_into().ok()?);
    if crc32c::crc32c(&b[..12]) != crc {
        return None;
    }
    Some(u64::from_le_bytes(b[4..12].try_into().ok()?))
}

impl ProducerIds {
    /// Reads the floor in `dir`; `remembered` is the largest producer id any partition remembers.
    pub fn open(storage: &Arc<dyn Storage>, dir: &Path, remembered: Option<u64>) -> Result<ProducerIds> {
        let path = dir.join(FILE);
        let floor = match storage.read(&path) {
            Ok(b) => decode(&b).ok_or_else(|| EngineError::Corrupt {
                file: path.clone(),
                position: 0,
                reason: "the producer id floor is damaged; restore it from a copy, or remove it to let depot \
                         start above the largest producer id its partitions remember"
                    .into(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 1,
            Err(e) => return Err(EngineError::io(format!("read {}", path.display()), e)),
        };
        let above_remembered = remembered.filter(|&id| id < LIMIT).map_or(1, |id| id + 1);
        let next = floor.max(above_remembered).max(1);
        Ok(ProducerIds { storage: storage.clone(), dir: dir.to_path_buf(), next, reserved: next })
    }

    /// A producer id no one had before.
    pub fn next_id(&mut self) -> Result<u64> {
        if self.next >= LIMIT {
            return Err(EngineError::Refused(format!("every producer id below {LIMIT} was handed out")));
        }
        if self.next >= self.reserved {
            let reserved = (self.next + BLOCK).min(LIMIT);
            let (path, tmp) = (self.dir.join(FILE), self.dir.join(format!("{FILE}.tmp")));
            if let Err(e) = replace_file(self.storage.as_ref(), &tmp, &path, &encode(reserved)) {
                remove_leftover(self.storage.as_ref(), &tmp, false);
                return Err(e);
            }
            sync_dir(self.storage.as_ref(), &self.dir)?;
            self.reserved = reserved;
        }
        let id = self.next;
        self.next += 1;
        Ok(id)
    }

    /// Whether `id` was handed out by this data directory (or could have been, before a restart).
    pub fn issued(&self, id: u64) -> bool {
        (1..self.next).contains(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_zero_never_reused_after_a_reopen_and_a_damaged_floor_fails_the_open() {
        let fs = super::super::storage::real();
        let dir = tempfile::tempdir().unwrap();
        let mut ids = ProducerIds::open(&fs, dir.path(), None).unwrap();
        assert!(!ids.issued(1));
        let first: Vec<u64> = (0..3).map(|_| ids.next_id().unwrap()).collect();
        assert_eq!(first, [1, 2, 3]);
        assert!(ids.issued(3) && !ids.issued(4) && !ids.issued(0));
        let mut again = ProducerIds::open(&fs, dir.path(), None).unwrap();
        let next = again.next_id().unwrap();
        assert!(next > 3, "{next}");
        assert!(again.issued(2), "ids of an earlier run are known");
        // Without the file, above what the partitions remember.
        std::fs::remove_file(dir.path().join(FILE)).unwrap();
        let mut lost = ProducerIds::open(&fs, dir.path(), Some(next)).unwrap();
        assert_eq!(lost.next_id().unwrap(), next + 1);
        let mut random = ProducerIds::open(&fs, dir.path(), Some(u64::MAX - 3)).unwrap();
        assert!(random.next_id().unwrap() < LIMIT, "a depot producer tag above the range is ignored");
        let mut bytes = std::fs::read(dir.path().join(FILE)).unwrap();
        bytes[5] ^= 1;
        std::fs::write(dir.path().join(FILE), &bytes).unwrap();
        let err = ProducerIds::open(&fs, dir.path(), None).unwrap_err().to_string();
        assert!(err.contains("producer-ids") && err.contains("damaged"), "{err}");
    }
}
