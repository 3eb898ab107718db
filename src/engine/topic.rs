//! A topic: its settings (`topic.json`) and its partitions (one directory each).

use super::error::{EngineError, IoContext, Result};
use super::files::{remove_leftover, sync_dir, write_synced};
use super::log::{LogConfig, PartitionLog};
use super::partitioner::partition_for_key;
use crate::core::TopicConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The settings file inside a topic directory.
pub const CONFIG_FILE: &str = "topic.json";
/// Prefix of a topic directory being created (never acknowledged: removed on open).
pub const STAGING_PREFIX: &str = ".creating-";

/// A staging directory name: short whatever the topic's name (it must fit in 255 bytes).
fn staging_name(stamp: i64) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{STAGING_PREFIX}{stamp}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// An open topic.
#[derive(Debug)]
pub struct Topic {
    pub name: String,
    pub config: TopicConfig,
    pub dir: PathBuf,
    pub partitions: Vec<Arc<PartitionLog>>,
    next_keyless: AtomicU32,
}

impl Topic {
    fn log_config(base: &LogConfig, config: &TopicConfig) -> LogConfig {
        let mut c = base.clone();
        if let Some(s) = config.segment_bytes {
            c.segment_bytes = s;
        }
        c
    }

    /// Creates the topic atomically: its directory is built under a staging name in `topics/`
    /// (`.creating-<ms>-<n>`, never acknowledged, removed on open), `topic.json` is written and
    /// fsynced, then the directory is renamed into place and `topics/` is fsynced. `dir` must not
    /// exist (a name is never re-created on top of old records).
    pub fn create(dir: &Path, name: &str, config: TopicConfig, base: &LogConfig, stamp: i64) -> Result<Topic> {
        let storage = base.storage.as_ref();
        let topics_dir = dir.parent().unwrap_or(Path::new("."));
        if storage.stat(dir).ctx(|| format!("stat {}", dir.display()))?.is_some() {
            return Err(EngineError::Refused(format!(
                "{} already exists on disk but is not a topic depot has open; move it away (it may hold old records) before creating topic {name:?}",
                dir.display()
            )));
        }
        let stage = topics_dir.join(staging_name(stamp));
        if let Err(e) = Self::build_staged(&stage, &config, base) {
            remove_leftover(storage, &stage, true);
            return Err(e);
        }
        storage.rename(&stage, dir).ctx(|| format!("rename {} to {}", stage.display(), dir.display()))?;
        sync_dir(storage, topics_dir)?;
        Self::open(dir, name, base)
    }

    /// The staging directory: `topic.json` and the empty partition directories, all fsynced.
    fn build_staged(stage: &Path, config: &TopicConfig, base: &LogConfig) -> Result<()> {
        let storage = base.storage.as_ref();
        storage.create_dir(stage).ctx(|| format!("create {}", stage.display()))?;
        for p in 0..config.partitions {
            let d = stage.join(p.to_string());
            storage.create_dir(&d).ctx(|| format!("create {}", d.display()))?;
        }
        let json = serde_json::to_vec_pretty(config)
            .map_err(|e| EngineError::InvalidArgument(format!("cannot encode topic config: {e}")))?;
        write_synced(storage, &stage.join(CONFIG_FILE), &json)?;
        sync_dir(storage, stage)
    }

    /// Opens an existing topic directory.
    pub fn open(dir: &Path, name: &str, base: &LogConfig) -> Result<Topic> {
        let path = dir.join(CONFIG_FILE);
        let text = base.storage.read(&path).ctx(|| format!("read {}", path.display()))?;
        let config: TopicConfig = serde_json::from_slice(&text).map_err(|e| EngineError::Corrupt {
            file: path.clone(),
            position: e.column() as u64,
            reason: format!("topic settings do not parse: {e}"),
        })?;
        config.validate().map_err(|e| EngineError::Corrupt {
            file: path.clone(),
            position: 0,
            reason: e.to_string(),
        })?;
        let lc = Self::log_config(base, &config);
        let mut partitions = Vec::new();
        for p in 0..config.partitions {
            let (log, report) = PartitionLog::open(&dir.join(p.to_string()), name, p, lc.clone())?;
            if let Some((file, pos, cut)) = &report.truncated {
                tracing::warn!("{name}/{p}: cut {cut} torn bytes at byte {pos} of {}", file.display());
            }
            partitions.push(Arc::new(log));
        }
        Ok(Topic {
            name: name.to_string(),
            config,
            dir: dir.to_path_buf(),
            partitions,
            next_keyless: AtomicU32::new(0),
        })
    }

    pub fn partition(&self, p: u32) -> Result<&Arc<PartitionLog>> {
        self.partitions.get(p as usize).ok_or_else(|| {
            EngineError::not_found_hint(
                format!("partition {p} of topic {}", self.name),
                format!("it has partitions 0..{}", self.partitions.len()),
            )
        })
    }

    /// The partition a record goes to: murmur2 of the key, or the next partition round-robin.
    pub fn choose_partition(&self, key: Option<&[u8]>) -> u32 {
        let n = self.partitions.len() as u32;
        match key {
            Some(k) => partition_for_key(k, n),
            None => self.next_keyless.fetch_add(1, Ordering::Relaxed) % n,
        }
    }
}
