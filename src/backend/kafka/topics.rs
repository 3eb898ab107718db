//! Topics: metadata (names and partition counts), watermarks and offsets-for-times of partitions,
//! the retention settings from DescribeConfigs, and create/delete through the admin client.

use super::Kafka;
use super::codec::real_offset;
use super::conn::{REQUEST_TIMEOUT, admin_outcome, kerr};
use crate::backend::{BResult, BackendError, TopicsApi};
use crate::core::names::validate_name;
use crate::core::{PartitionInfo, TopicConfig, TopicInfo};
use async_trait::async_trait;
use rdkafka::admin::{AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Topic names and partition counts from one metadata request (internal `__` topics left out).
pub(super) fn topics_meta(c: &BaseConsumer, brokers: &str) -> BResult<BTreeMap<String, u32>> {
    let md = c
        .fetch_metadata(None, REQUEST_TIMEOUT)
        .map_err(|e| kerr(&format!("fetching topic metadata from {brokers}"), &e))?;
    Ok(md
        .topics()
        .iter()
        .filter(|t| !t.name().starts_with("__"))
        .filter(
            |t| !matches!(t.error(), Some(e) if RDKafkaErrorCode::from(e) == RDKafkaErrorCode::UnknownTopicOrPartition),
        )
        .map(|t| (t.name().to_string(), t.partitions().len() as u32))
        .collect())
}

pub(super) fn no_topic(name: &str, brokers: &str) -> BackendError {
    BackendError::NotFound(format!("topic {name} not found on the Kafka cluster at {brokers}"))
}

/// Partition count of one topic, or NotFound.
pub(super) fn topic_partitions(c: &BaseConsumer, brokers: &str, topic: &str) -> BResult<u32> {
    topics_meta(c, brokers)?.get(topic).copied().ok_or_else(|| no_topic(topic, brokers))
}

/// (topic, partition) → (low, high) watermarks.
pub(super) type Marks = HashMap<(String, u32), (u64, u64)>;

/// Low and high watermarks of many partitions: two batched ListOffsets rounds (earliest, latest),
/// falling back to one query per partition if the batched form fails.
pub(super) fn watermarks(c: &BaseConsumer, parts: &[(String, u32)]) -> BResult<Marks> {
    let mut out = HashMap::new();
    if parts.is_empty() {
        return Ok(out);
    }
    let batched = (|| -> Result<Marks, KafkaError> {
        let mut lows = TopicPartitionList::new();
        let mut highs = TopicPartitionList::new();
        for (t, p) in parts {
            lows.add_partition_offset(t, *p as i32, Offset::Beginning)?;
            highs.add_partition_offset(t, *p as i32, Offset::End)?;
        }
        let lows = c.offsets_for_times(lows, REQUEST_TIMEOUT)?;
        let highs = c.offsets_for_times(highs, REQUEST_TIMEOUT)?;
        let mut m = HashMap::new();
        for e in lows.elements() {
            e.error()?;
            let hi = highs
                .find_partition(e.topic(), e.partition())
                .ok_or(KafkaError::OffsetFetch(RDKafkaErrorCode::UnknownPartition))?;
            hi.error()?;
            let (Some(lo), Some(hi)) = (real_offset(e.offset()), real_offset(hi.offset())) else {
                return Err(KafkaError::OffsetFetch(RDKafkaErrorCode::InvalidArgument));
            };
            m.insert((e.topic().to_string(), e.partition() as u32), (lo, hi.max(lo)));
        }
        Ok(m)
    })();
    match batched {
        Ok(m) if m.len() == parts.len() => return Ok(m),
        Ok(_) => {}
        Err(e) => tracing::debug!("batched watermarks failed ({e}); asking per partition"),
    }
    for (t, p) in parts {
        let (lo, hi) = c
            .fetch_watermarks(t, *p as i32, REQUEST_TIMEOUT)
            .map_err(|e| kerr(&format!("reading the watermarks of {t}/{p}"), &e))?;
        let lo = lo.max(0) as u64;
        out.insert((t.clone(), *p), (lo, (hi.max(0) as u64).max(lo)));
    }
    Ok(out)
}

/// First offset at or after `ts` per partition (`None`: no record that new → the caller uses the end).
pub(super) fn offsets_for_time(
    c: &BaseConsumer,
    topic: &str,
    parts: &[u32],
    ts: i64,
) -> BResult<HashMap<u32, Option<u64>>> {
    let mut tpl = TopicPartitionList::new();
    for p in parts {
        tpl.add_partition_offset(topic, *p as i32, Offset::Offset(ts.max(0)))
            .map_err(|e| kerr("building an offsets-for-times request", &e))?;
    }
    let r = c
        .offsets_for_times(tpl, REQUEST_TIMEOUT)
        .map_err(|e| kerr(&format!("looking up offsets by time in {topic}"), &e))?;
    let mut out = HashMap::new();
    for e in r.elements() {
        e.error().map_err(|err| kerr(&format!("looking up offsets by time in {topic}/{}", e.partition()), &err))?;
        out.insert(e.partition() as u32, real_offset(e.offset()));
    }
    Ok(out)
}

/// Kafka topic configs (retention.ms, retention.bytes, segment.bytes) → depot's TopicConfig fields.
type TopicSettings = (Option<u64>, Option<u64>, Option<u64>);

impl Kafka {
    /// Retention and segment settings per topic, when the broker answers DescribeConfigs.
    async fn topic_settings(&self, names: &[String]) -> HashMap<String, TopicSettings> {
        let mut out = HashMap::new();
        if names.is_empty() || self.no_describe_configs.load(Ordering::Relaxed) {
            return out;
        }
        let specs: Vec<ResourceSpecifier<'_>> = names.iter().map(|n| ResourceSpecifier::Topic(n)).collect();
        let opts = AdminOptions::new().request_timeout(Some(Duration::from_secs(5)));
        let r = tokio::time::timeout(Duration::from_secs(6), self.admin.describe_configs(specs.iter(), &opts)).await;
        let results = match r {
            Ok(Ok(rs)) => rs,
            Ok(Err(e)) => {
                if matches!(kerr("", &e), BackendError::Unsupported(_)) {
                    self.no_describe_configs.store(true, Ordering::Relaxed);
                }
                tracing::debug!("DescribeConfigs failed: {e}");
                return out;
            }
            Err(_) => return out,
        };
        let num = |v: Option<&rdkafka::admin::ConfigEntry>| -> Option<u64> {
            v.and_then(|e| e.value.as_deref()).and_then(|s| s.parse::<i64>().ok()).filter(|n| *n > 0).map(|n| n as u64)
        };
        for r in results {
            match r {
                Ok(res) => {
                    if let rdkafka::admin::OwnedResourceSpecifier::Topic(name) = &res.specifier {
                        out.insert(
                            name.clone(),
                            (
                                num(res.get("retention.ms")),
                                num(res.get("retention.bytes")),
                                num(res.get("segment.bytes")),
                            ),
                        );
                    }
                }
                Err(code) => {
                    if matches!(
                        code,
                        RDKafkaErrorCode::UnsupportedVersion
                            | RDKafkaErrorCode::InvalidRequest
                            | RDKafkaErrorCode::NotImplemented
                    ) {
                        self.no_describe_configs.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
        out
    }

    async fn topic_infos(&self, only: Option<String>) -> BResult<Vec<TopicInfo>> {
        let (topics, marks) = self
            .meta_call(move |meta, _, brokers| {
                let mut topics = topics_meta(meta, brokers)?;
                if let Some(name) = &only {
                    let n = topics.get(name).copied().ok_or_else(|| no_topic(name, brokers))?;
                    topics = BTreeMap::from([(name.clone(), n)]);
                }
                let parts: Vec<(String, u32)> =
                    topics.iter().flat_map(|(t, n)| (0..*n).map(move |p| (t.clone(), p))).collect();
                let marks = watermarks(meta, &parts)?;
                Ok((topics, marks))
            })
            .await?;
        let names: Vec<String> = topics.keys().cloned().collect();
        let settings = self.topic_settings(&names).await;
        Ok(topics
            .into_iter()
            .map(|(name, n)| {
                let (retention_ms, retention_bytes, segment_bytes) = settings.get(&name).copied().unwrap_or_default();
                let partitions = (0..n)
                    .map(|p| {
                        let (lo, hi) = marks.get(&(name.clone(), p)).copied().unwrap_or((0, 0));
                        PartitionInfo {
                            partition: p,
                            log_start: lo,
                            end_offset: hi,
                            size_bytes: 0,
                            segments: 0,
                            rate_in: 0.0,
                            rate_out: 0.0,
                        }
                    })
                    .collect();
                TopicInfo {
                    name,
                    config: TopicConfig { partitions: n, retention_ms, retention_bytes, segment_bytes },
                    partitions,
                }
            })
            .collect())
    }

    /// Waits until metadata shows the topic (or no longer shows it), up to a few seconds.
    async fn await_topic(&self, name: &str, present: bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let n = name.to_string();
            let there = self.meta_call(move |meta, _, brokers| Ok(topics_meta(meta, brokers)?.get(&n).copied())).await;
            match there {
                Ok(Some(p)) if present && p > 0 => return,
                Ok(None) if !present => return,
                _ => {}
            }
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[async_trait]
impl TopicsApi for Kafka {
    async fn list_topics(&self) -> BResult<Vec<TopicInfo>> {
        self.topic_infos(None).await
    }

    async fn describe_topic(&self, name: &str) -> BResult<TopicInfo> {
        let mut v = self.topic_infos(Some(name.to_string())).await?;
        v.pop().ok_or_else(|| no_topic(name, &self.brokers))
    }

    async fn create_topic(&self, name: &str, config: TopicConfig) -> BResult<TopicInfo> {
        validate_name("topic", name)?;
        config.validate()?;
        let ms = config.retention_ms.map(|v| v.to_string());
        let bytes = config.retention_bytes.map(|v| v.to_string());
        let seg = config.segment_bytes.map(|v| v.to_string());
        // Replication factor -1: the broker's default.replication.factor.
        let mut nt = NewTopic::new(name, config.partitions as i32, TopicReplication::Fixed(-1));
        if let Some(v) = &ms {
            nt = nt.set("retention.ms", v);
        }
        if let Some(v) = &bytes {
            nt = nt.set("retention.bytes", v);
        }
        if let Some(v) = &seg {
            nt = nt.set("segment.bytes", v);
        }
        let opts = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT)).request_timeout(Some(REQUEST_TIMEOUT));
        let results = self
            .admin
            .create_topics([&nt], &opts)
            .await
            .map_err(|e| kerr(&format!("creating topic {name} on {}", self.brokers), &e))?;
        admin_outcome(results, "creating topic", &self.brokers, |t, code| {
            (code == RDKafkaErrorCode::TopicAlreadyExists)
                .then(|| BackendError::Conflict(format!("topic {t} already exists")))
        })?;
        self.await_topic(name, true).await;
        self.describe_topic(name).await
    }

    async fn delete_topic(&self, name: &str) -> BResult<()> {
        let opts = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT)).request_timeout(Some(REQUEST_TIMEOUT));
        let results = self
            .admin
            .delete_topics(&[name], &opts)
            .await
            .map_err(|e| kerr(&format!("deleting topic {name} on {}", self.brokers), &e))?;
        admin_outcome(results, "deleting topic", &self.brokers, |t, code| {
            matches!(code, RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic)
                .then(|| no_topic(t, &self.brokers))
        })?;
        self.await_topic(name, false).await;
        Ok(())
    }
}
