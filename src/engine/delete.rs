//! Deleting a topic so that a crash at any step leaves either the whole topic or none of it, and
//! never leaves a group's committed offsets of the old topic to skip records of a new one:
//!
//! 1. write the topic's name into `topics/NAME/deleted-topic` and fsync it (the grave's label);
//! 2. rename `topics/NAME` to a short grave `topics/.deleted-<ms>-<n>` and fsync `topics/`: the
//!    commit point (a failure before it leaves the topic listed and usable);
//! 3. journal `DeleteTopic { topic, grave }` in `groups/offsets.log` and fsync it;
//! 4. remove the grave and fsync `topics/`.
//!
//! Open finishes a grave it finds: journals its DeleteTopic unless the journal already names that
//! grave (so a topic re-created since keeps its offsets), then removes it.

use super::engine::Engine;
use super::error::{EngineError, IoContext, Result};
use super::files::{remove_leftover, sync_dir, write_synced};
use super::offsets::{GroupsState, OffsetEntry};
use super::storage::Storage;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Prefix of a deleted topic's directory.
pub const GRAVE_PREFIX: &str = ".deleted-";
/// The file inside a grave that names the deleted topic.
const NAME_FILE: &str = "deleted-topic";

/// A grave found on open.
#[derive(Debug)]
pub struct Grave {
    pub id: String,
    pub topic: Option<String>,
    pub path: PathBuf,
}

/// A grave's id: short whatever the topic's name (a grave must fit in 255 bytes).
fn grave_id(stamp: i64) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{stamp}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// What the grave directory `dir_name` in `topics_dir` holds.
pub fn read_grave(storage: &dyn Storage, topics_dir: &Path, dir_name: &str) -> Grave {
    let path = topics_dir.join(dir_name);
    let id = dir_name.strip_prefix(GRAVE_PREFIX).unwrap_or(dir_name).to_string();
    let topic = match storage.read(&path.join(NAME_FILE)) {
        Ok(b) => String::from_utf8(b).ok(),
        // A grave of an older depot: `.deleted-NAME-MS`.
        Err(_) => {
            id.rsplit_once('-').filter(|(_, ms)| ms.bytes().all(|b| b.is_ascii_digit())).map(|(n, _)| n.to_string())
        }
    };
    Grave { id, topic, path }
}

/// Finishes the deletions a crash interrupted (see the module doc).
pub fn finish_graves(storage: &dyn Storage, topics_dir: &Path, graves: Vec<Grave>, gs: &mut GroupsState) -> Result<()> {
    if graves.is_empty() {
        gs.graves.clear();
        return Ok(());
    }
    for g in &graves {
        match &g.topic {
            Some(topic) if !gs.graves.contains_key(&g.id) => {
                tracing::info!("finishing the deletion of topic {topic} ({})", g.path.display());
                let entry = OffsetEntry::DeleteTopic { topic: topic.clone(), grave: Some(g.id.clone()) };
                gs.offsets.append(&entry, true)?;
                gs.apply(entry);
            }
            Some(_) => {}
            None => tracing::warn!("{} names no topic; removing it", g.path.display()),
        }
        storage.remove_dir_all(&g.path).ctx(|| format!("finish deleting {}", g.path.display()))?;
    }
    sync_dir(storage, topics_dir)?;
    gs.graves.clear();
    Ok(())
}

impl Engine {
    /// Deletes a topic and its data; groups forget their offsets on it (see the module doc).
    pub fn delete_topic(&self, name: &str) -> Result<()> {
        self.check_open()?;
        let storage = self.inner.config.storage.clone();
        let topics_dir = self.inner.dir.join("topics");
        let id = grave_id(self.clock().now_ms());
        let grave = topics_dir.join(format!("{GRAVE_PREFIX}{id}"));
        {
            let mut topics = self.inner.topics.write();
            let topic = topics.get(name).cloned().ok_or_else(|| EngineError::not_found(format!("topic {name:?}")))?;
            let label = topic.dir.join(NAME_FILE);
            let moved = (|| {
                write_synced(storage.as_ref(), &label, name.as_bytes())?;
                sync_dir(storage.as_ref(), &topic.dir)?;
                storage.rename(&topic.dir, &grave).ctx(|| format!("delete {}", topic.dir.display()))
            })();
            if let Err(e) = moved {
                // The topic stays as it was: listed, readable, writable.
                remove_leftover(storage.as_ref(), &label, false);
                return Err(e);
            }
            topics.remove(name);
            // Until the journal has the DeleteTopic, the name may not be created again.
            self.inner.groups.lock().graves_unjournaled.insert(id.clone(), name.to_string());
        }
        let finished = self.finish_delete(storage.as_ref(), &topics_dir, &grave, &id, name);
        self.rebalance_all();
        finished
    }

    fn finish_delete(
        &self,
        storage: &dyn Storage,
        topics_dir: &Path,
        grave: &Path,
        id: &str,
        name: &str,
    ) -> Result<()> {
        sync_dir(storage, topics_dir)?;
        {
            let mut gs = self.inner.groups.lock();
            let entry = OffsetEntry::DeleteTopic { topic: name.to_string(), grave: Some(id.to_string()) };
            gs.offsets.append(&entry, true)?;
            gs.apply(entry);
            gs.graves_unjournaled.remove(id);
        }
        storage.remove_dir_all(grave).ctx(|| format!("remove {}", grave.display()))?;
        sync_dir(storage, topics_dir)?;
        self.inner.groups.lock().graves.remove(id);
        Ok(())
    }

    /// Refuses to create `name` while a deletion of it has not reached the journal.
    pub(super) fn check_not_being_deleted(&self, name: &str) -> Result<()> {
        let gs = self.inner.groups.lock();
        if gs.graves_unjournaled.values().any(|t| t == name) {
            return Err(EngineError::Refused(format!(
                "the deletion of topic {name:?} did not finish (its groups' offsets are not yet forgotten); restart depot to finish it, then create it again"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graves_and_staging_directories_fit_in_a_file_name_whatever_the_topic_name() {
        let grave = format!("{GRAVE_PREFIX}{}", grave_id(i64::MIN));
        let stage = super::super::topic::STAGING_PREFIX.len() + grave_id(i64::MIN).len();
        assert!(grave.len() < 64 && stage < 64, "{grave}");
        const { assert!(crate::core::names::MAX_NAME_LEN <= 255) };
    }
}
