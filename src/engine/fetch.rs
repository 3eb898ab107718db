//! Reading records by offset: fetch, the long-poll fetch, lookups by time, and the partition log
//! itself for front ends that wait asynchronously on its `appended` event.

use super::engine::Engine;
use super::error::Result;
use super::log::PartitionLog;
use super::record::Record;
use std::sync::Arc;
use std::time::Duration;

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
