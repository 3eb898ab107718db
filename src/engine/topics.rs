//! The engine's topics: loading them on open, create / delete / list / describe, the key
//! partitioner, retention (by size, and by age on the engine's clock) and delete_records.

use super::delete::{GRAVE_PREFIX, Grave, read_grave};
use super::engine::Engine;
use super::error::{EngineError, IoContext, Result};
use super::log::{LogConfig, PartitionLog};
use super::storage::Storage;
use super::topic::{CONFIG_FILE, STAGING_PREFIX, Topic};
use crate::core::names::validate_name;
use crate::core::{PartitionInfo, TopicConfig, TopicInfo};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The open topics by name.
pub(super) type Topics = BTreeMap<String, Arc<Topic>>;

/// Opens every topic in `topics_dir`, removing interrupted creations; returns the topics and the
/// graves of interrupted deletions (finished by `delete::finish_graves` once the journal is open).
pub(super) fn load(topics_dir: &Path, log_config: &LogConfig) -> Result<(Topics, Vec<Grave>)> {
    let mut topics = BTreeMap::new();
    let mut graves = Vec::new();
    let storage = log_config.storage.as_ref();
    let mut names = storage.list_dir(topics_dir).ctx(|| format!("list {}", topics_dir.display()))?;
    names.sort();
    for name in names {
        let path = topics_dir.join(&name);
        if name.starts_with(GRAVE_PREFIX) {
            graves.push(read_grave(storage, topics_dir, &name));
            continue;
        }
        if name.starts_with(STAGING_PREFIX) {
            // A topic whose creation was interrupted before its rename: never acknowledged.
            tracing::warn!("removing {}: a topic creation that did not finish", path.display());
            storage.remove_dir_all(&path).ctx(|| format!("remove {}", path.display()))?;
            continue;
        }
        if storage.stat(&path.join(CONFIG_FILE)).ctx(|| format!("stat {}", path.display()))?.is_none() {
            return Err(missing_config(storage, &path));
        }
        let topic = Topic::open(&path, &name, log_config)?;
        topics.insert(name, Arc::new(topic));
    }
    Ok((topics, graves))
}

/// The error for a topic directory without `topic.json`: never removed (it may hold records).
fn missing_config(storage: &dyn Storage, path: &Path) -> EngineError {
    let mut bytes = 0u64;
    let mut files = 0usize;
    for p in storage.list_dir(path).unwrap_or_default() {
        let pd = path.join(&p);
        for f in storage.list_dir(&pd).unwrap_or_default() {
            if f.ends_with(".log") {
                files += 1;
                bytes += storage.stat(&pd.join(&f)).ok().flatten().map_or(0, |s| s.len);
            }
        }
    }
    EngineError::Corrupt {
        file: path.join(CONFIG_FILE),
        position: 0,
        reason: format!(
            "the topic directory {} has no {CONFIG_FILE} but holds {files} segment files ({bytes} bytes); depot will not guess its settings or delete it: restore {CONFIG_FILE} from a copy (or write one with the topic's settings, e.g. {{\"partitions\": N}}), or move the directory away to drop the topic",
            path.display()
        ),
    }
}

/// A topic's description: settings and, per partition, range, size and rates.
fn topic_info(t: &Topic) -> TopicInfo {
    TopicInfo {
        name: t.name.clone(),
        config: t.config.clone(),
        partitions: t
            .partitions
            .iter()
            .map(|p| {
                let s = p.stats();
                PartitionInfo {
                    partition: p.partition,
                    log_start: s.log_start,
                    end_offset: s.end_offset,
                    size_bytes: s.size_bytes,
                    segments: s.segments,
                    rate_in: p.rate_in.per_second(),
                    rate_out: p.rate_out.per_second(),
                }
            })
            .collect(),
    }
}

impl Engine {
    pub(super) fn topic(&self, name: &str) -> Result<Arc<Topic>> {
        self.inner.topics.read().get(name).cloned().ok_or_else(|| {
            EngineError::not_found_hint(
                format!("topic {name:?}"),
                "list topics with `depot topics`, create one with `depot topic create NAME`",
            )
        })
    }

    pub(super) fn log(&self, topic: &str, partition: u32) -> Result<Arc<PartitionLog>> {
        Ok(self.topic(topic)?.partition(partition)?.clone())
    }

    /// Partitions per topic, as the assignors need them.
    pub(super) fn partition_counts(&self) -> BTreeMap<String, u32> {
        self.inner.topics.read().iter().map(|(n, t)| (n.clone(), t.partitions.len() as u32)).collect()
    }

    /// Creates a topic.
    pub fn create_topic(&self, name: &str, config: TopicConfig) -> Result<TopicInfo> {
        self.check_open()?;
        validate_name("topic", name)?;
        config.validate()?;
        self.check_not_being_deleted(name)?;
        let mut topics = self.inner.topics.write();
        if topics.contains_key(name) {
            return Err(EngineError::AlreadyExists { what: format!("topic {name:?}") });
        }
        let dir = self.inner.dir.join("topics").join(name);
        let stamp = self.clock().now_ms();
        let topic = Arc::new(Topic::create(&dir, name, config, &self.inner.log_config, stamp)?);
        topics.insert(name.to_string(), topic.clone());
        drop(topics);
        self.rebalance_all();
        Ok(topic_info(&topic))
    }

    pub fn list_topics(&self) -> Vec<TopicInfo> {
        self.inner.topics.read().values().map(|t| topic_info(t)).collect()
    }

    pub fn describe_topic(&self, name: &str) -> Result<TopicInfo> {
        Ok(topic_info(&*self.topic(name)?))
    }

    /// The partition a record with this key goes to (Kafka's murmur2 partitioner).
    pub fn partition_for(&self, topic: &str, key: &[u8]) -> Result<u32> {
        Ok(self.topic(topic)?.choose_partition(Some(key)))
    }

    /// Deletes the records of `topic`/`partition` below `before` (`None`: every record, up to the
    /// end), as Kafka's DeleteRecords does: the log start moves there durably, reads below it are
    /// out of range, and the segments wholly below it are deleted. An offset past the end is
    /// out of range; one at or below the log start changes nothing. Returns the new log start.
    pub fn delete_records(&self, topic: &str, partition: u32, before: Option<u64>) -> Result<u64> {
        self.check_open()?;
        let log = self.log(topic, partition)?;
        let before = before.unwrap_or_else(|| log.end_offset());
        log.delete_records(before)
    }

    /// Enforces retention on every partition now (it also runs in the background): whole sealed
    /// segments go once the log is over its size limit, or once their newest record is more than
    /// the age limit older than the engine clock's now.
    pub fn enforce_retention(&self) -> Result<usize> {
        self.check_open()?;
        let topics: Vec<Arc<Topic>> = self.inner.topics.read().values().cloned().collect();
        let now = self.clock().now_ms();
        let mut n = 0;
        for t in topics {
            for p in &t.partitions {
                n += p.enforce_retention(t.config.retention_ms, t.config.retention_bytes, now)?;
            }
        }
        Ok(n)
    }
}
