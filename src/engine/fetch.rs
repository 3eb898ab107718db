//! Reading records by offset: fetch, a read of many pages (fetch_all), the long-poll fetch, lookups by time, and the partition log
//! itself for front ends that wait asynchronously on its `appended` event.

use super::engine::Engine;
use super::error::Result;
use super::log::PartitionLog;
use super::record::Record;
use std::sync::Arc;
use std::time::Duration;

/// About how many bytes one page of [`Engine::fetch_all`] reads.
pub const PAGE_BYTES: usize = 8 << 20;

impl Engine {
    /// Reads records from `offset` (bounded by `max_records` and about `max_bytes`).
    pub fn fetch(
        &self,
        topic: &str,
        partition: u32,
        offset: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Record>> {
        self.log(topic, partition)?.read(offset, max_records, max_bytes)
    }

    /// Reads `max_records` records from `offset`, or up to the end of the log: page after page of
    /// about [`PAGE_BYTES`] each, so a peek of large records is not cut short by one page's bound.
    pub fn fetch_all(&self, topic: &str, partition: u32, offset: u64, max_records: usize) -> Result<Vec<Record>> {
        let log = self.log(topic, partition)?;
        let mut out: Vec<Record> = Vec::new();
        let mut at = offset;
        while out.len() < max_records {
            let page = log.read(at, max_records - out.len(), PAGE_BYTES)?;
            let Some(last) = page.last().map(|r| r.offset) else { break };
            at = last + 1;
            out.extend(page);
        }
        Ok(out)
    }

    /// Like [`fetch`](Self::fetch), but at the end of the log waits up to `timeout` (real time)
    /// for records.
    pub fn fetch_wait(
        &self,
        topic: &str,
        partition: u32,
        offset: u64,
        max_records: usize,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<Vec<Record>> {
        self.log(topic, partition)?.read_wait(offset, max_records, max_bytes, timeout)
    }

    /// The partition's log, for async waiting on [`PartitionLog::appended`].
    pub fn partition_log(&self, topic: &str, partition: u32) -> Result<Arc<PartitionLog>> {
        self.log(topic, partition)
    }

    /// First offset whose timestamp is at or after `ts_ms` (the end offset if none).
    pub fn offset_for_time(&self, topic: &str, partition: u32, ts_ms: i64) -> Result<u64> {
        self.log(topic, partition)?.offset_for_time(ts_ms)
    }
}
