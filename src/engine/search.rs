//! Searching a topic in the engine's read path: [`core::search::Scan`](crate::core::search::Scan)
//! decides what to read and what matches; this reads it from the partition logs in chunks, each
//! read taking a partition's lock only for as long as one read does.

use super::engine::Engine;
use super::error::Result;
use super::log::PartitionLog;
use super::record::Record;
use crate::core::search::{Read, Scan, Scanned, message_of};
use crate::core::{Message, SearchRequest, SearchResult};

impl Scanned for Record {
    fn offset(&self) -> u64 {
        self.offset
    }
    fn timestamp(&self) -> i64 {
        self.timestamp
    }
    fn key(&self) -> Option<&[u8]> {
        self.key.as_deref()
    }
    fn value(&self) -> Option<&[u8]> {
        self.value.as_deref()
    }
    fn has_header(&self, name: &str, pred: &dyn Fn(&[u8]) -> bool) -> bool {
        self.headers.iter().any(|(n, v)| n == name && v.as_deref().is_some_and(pred))
    }
    fn size(&self) -> u64 {
        let len = |b: &Option<bytes::Bytes>| b.as_ref().map_or(0, |b| b.len());
        let headers: usize = self.headers.iter().map(|(n, v)| n.len() + len(v)).sum();
        (len(&self.key) + len(&self.value) + headers) as u64
    }
    fn to_message(&self, topic: &str, partition: u32) -> Message {
        message_of(topic, partition, self.offset, self.timestamp, self.key.as_ref(), self.value.as_ref(), &self.headers)
    }
}

/// Every record of `read`'s window (a read may stop early at its byte bound).
fn read_window(log: &PartitionLog, read: Read) -> Result<Vec<Record>> {
    let mut out: Vec<Record> = Vec::new();
    let mut at = read.from;
    while at < read.to {
        let got = log.read(at, (read.to - at) as usize, 8 << 20)?;
        let Some(last) = got.last() else { break };
        at = last.offset + 1;
        out.extend(got);
    }
    Ok(out)
}

impl Engine {
    /// Searches `topic` (one partition or all) within the request's bounds; the answer says how
    /// far it got and which bound, if any, cut it short.
    pub fn search(&self, topic: &str, req: &SearchRequest) -> Result<SearchResult> {
        let matcher = req.compile()?;
        let t = self.topic(topic)?;
        let logs: Vec<&std::sync::Arc<PartitionLog>> = match req.partition {
            Some(p) => vec![t.partition(p)?],
            None => t.partitions.iter().collect(),
        };
        let mut bounds = Vec::with_capacity(logs.len());
        for log in &logs {
            let mut start = log.log_start();
            if let Some(since) = req.since_ms {
                // Nothing before the first record at `since` is in the window.
                start = start.max(log.offset_for_time(since)?);
            }
            bounds.push((log.partition, start, log.end_offset().max(start)));
        }
        let mut scan = Scan::new(topic, req, matcher, &bounds);
        while let Some(read) = scan.next_read() {
            let Some(log) = logs.iter().find(|l| l.partition == read.partition) else { break };
            // Retention (or a delete) may move the log start while the search runs: what it
            // deleted is reported as not searched, never passed over in silence.
            let start = log.log_start();
            if read.from < start {
                scan.gone(read.partition, start);
                continue;
            }
            match read_window(log, read) {
                Ok(records) => scan.feed(read, &records),
                Err(_) if log.log_start() > read.from => scan.gone(read.partition, log.log_start()),
                Err(e) => return Err(e),
            }
        }
        Ok(scan.finish())
    }
}
