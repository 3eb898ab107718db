//! A topic: its settings (`topic.json`) and its partitions (one directory each).

use super::error::{EngineError, IoContext, Result};
use super::log::{LogConfig, PartitionLog};
use super::partitioner::partition_for_key;
use super::storage::OpenMode;
use crate::core::TopicConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

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

    /// Creates the topic's directories, then writes `topic.json` last (a topic without it is unfinished).
    pub fn create(dir: &Path, name: &str, config: TopicConfig, base: &LogConfig) -> Result<Topic> {
        let storage = base.storage.as_ref();
        storage.create_dir_all(dir).ctx(|| format!("create {}", dir.display()))?;
        let lc = Self::log_config(base, &config);
        let mut partitions = Vec::new();
        for p in 0..config.partitions {
            let (log, _) = PartitionLog::open(&dir.join(p.to_string()), name, p, lc.clone())?;
            partitions.push(Arc::new(log));
        }
        let json = serde_json::to_vec_pretty(&config)
            .map_err(|e| EngineError::InvalidArgument(format!("cannot encode topic config: {e}")))?;
        let tmp = dir.join("topic.json.tmp");
        let f = storage.open(&tmp, OpenMode::Truncate).ctx(|| format!("create {}", tmp.display()))?;
        f.write_all_at(&json, 0).ctx(|| format!("write {}", tmp.display()))?;
        f.sync_all().ctx(|| format!("fsync {}", tmp.display()))?;
        storage.rename(&tmp, &dir.join("topic.json")).ctx(|| format!("rename {}", tmp.display()))?;
        super::segment::sync_dir(storage, dir)?;
        if let Some(parent) = dir.parent() {
            super::segment::sync_dir(storage, parent)?;
        }
        Ok(Topic {
            name: name.to_string(),
            config,
            dir: dir.to_path_buf(),
            partitions,
            next_keyless: AtomicU32::new(0),
        })
    }

    /// Opens an existing topic directory.
    pub fn open(dir: &Path, name: &str, base: &LogConfig) -> Result<Topic> {
        let path = dir.join("topic.json");
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
