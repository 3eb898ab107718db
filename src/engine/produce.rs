//! Writing records: appends to one partition (idempotent with a producer id and sequence, and
//! for Kafka producers an epoch), publishing with key-based partitioning, and producer ids.

use super::engine::Engine;
use super::error::Result;
use super::log::Appended;
use super::producer::{ProducerBatch, SeqError};
use super::record::NewRecord;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

impl Engine {
    /// Appends a batch to one partition. With `producer = Some((id, sequence))`, a retried batch
    /// (same id and sequence) is not appended again and gets its original offsets back.
    pub fn append(
        &self,
        topic: &str,
        partition: u32,
        records: &[NewRecord],
        producer: Option<(u64, u32)>,
    ) -> Result<Appended> {
        self.check_open()?;
        let log = self.log(topic, partition)?;
        let r = log.append(records, producer)?;
        self.inner.any_append.notify(usize::MAX);
        Ok(r)
    }

    /// Appends a Kafka producer's batch to one partition: `producer.id` must be one
    /// [`init_producer_id`](Self::init_producer_id) handed out, and its epoch and sequence pass
    /// the producer checks (see [`super::producer`]). A retry of a remembered batch gets its
    /// original offsets, with nothing appended; a refused batch is the inner error.
    pub fn append_idempotent(
        &self,
        topic: &str,
        partition: u32,
        records: &[NewRecord],
        producer: ProducerBatch,
    ) -> Result<std::result::Result<Appended, SeqError>> {
        self.check_open()?;
        let log = self.log(topic, partition)?;
        if !self.inner.producer_ids.lock().issued(producer.id) {
            return Ok(Err(SeqError::UnknownProducer { id: producer.id }));
        }
        let r = log.append_batch(records, Some(producer))?;
        if r.as_ref().is_ok_and(|a| !a.duplicate) {
            self.inner.any_append.notify(usize::MAX);
        }
        Ok(r)
    }

    /// A producer id for a Kafka producer: never 0, never handed out before by this data
    /// directory (its floor is persisted before the id is returned).
    pub fn init_producer_id(&self) -> Result<u64> {
        self.check_open()?;
        self.inner.producer_ids.lock().next_id()
    }

    /// Publishes records: keyed ones to their murmur2 partition, keyless ones all to the next
    /// partition in turn (sticky for this call). Returns `(partition, offset)` per record, in order.
    pub fn publish(&self, topic: &str, records: Vec<NewRecord>) -> Result<Vec<(u32, u64)>> {
        self.check_open()?;
        let t = self.topic(topic)?;
        let sticky = t.choose_partition(None);
        let mut by_part: BTreeMap<u32, Vec<(usize, NewRecord)>> = BTreeMap::new();
        for (i, r) in records.into_iter().enumerate() {
            let p = match &r.key {
                Some(k) => t.choose_partition(Some(k)),
                None => sticky,
            };
            by_part.entry(p).or_default().push((i, r));
        }
        let total: usize = by_part.values().map(Vec::len).sum();
        let mut out = vec![(0u32, 0u64); total];
        for (p, items) in by_part {
            let (idx, recs): (Vec<usize>, Vec<NewRecord>) = items.into_iter().unzip();
            let a = t.partition(p)?.append(&recs, None)?;
            for (k, i) in idx.into_iter().enumerate() {
                out[i] = (p, a.base_offset + k as u64);
            }
        }
        self.inner.any_append.notify(usize::MAX);
        Ok(out)
    }

    /// A fresh producer id for idempotent appends.
    pub fn new_producer_id(&self) -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // The system time here is entropy that keeps ids of different processes apart, not a
        // reading the engine decides anything by, so it is not the engine's clock.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        (t ^ (u64::from(std::process::id()) << 40) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1
    }
}
