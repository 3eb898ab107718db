//! Search on engines that have no search of their own (Kafka, NATS JetStream, Redis Streams):
//! core's [`Scan`] driven by the backend's ordinary reads (`describe_topic` for the ranges,
//! `fetch` for the records), so they find what the depot engine finds and stop where it stops.

use super::checks::check_partition;
use crate::backend::{BResult, MessagesApi, TopicsApi};
use crate::core::search::{Read, Scan};
use crate::core::{Message, SearchRequest, SearchResult};

/// Every record of `read`'s window, fetched in as many reads as the engine needs.
async fn read_window<B: MessagesApi + ?Sized>(b: &B, topic: &str, read: Read) -> BResult<Vec<Message>> {
    let mut out: Vec<Message> = Vec::new();
    let mut at = read.from;
    while at < read.to {
        let got = b.fetch(topic, read.partition, at, (read.to - at) as usize, 0).await?;
        let Some(last) = got.last() else { break };
        at = last.offset + 1;
        out.extend(got.into_iter().filter(|m| m.offset < read.to));
    }
    Ok(out)
}

/// Searches `topic` by scanning it with `b`'s own reads; `why` says why a partition number is
/// wrong on this engine (e.g. "a Redis stream has one partition"; may be empty).
pub async fn scan<B: MessagesApi + TopicsApi + ?Sized>(
    b: &B,
    topic: &str,
    req: SearchRequest,
    why: &str,
) -> BResult<SearchResult> {
    let matcher = req.compile()?;
    let info = b.describe_topic(topic).await?;
    if let Some(p) = req.partition {
        check_partition(topic, p, info.partitions.len() as u32, why)?;
    }
    let bounds: Vec<(u32, u64, u64)> = info
        .partitions
        .iter()
        .filter(|p| req.partition.is_none_or(|want| want == p.partition))
        .map(|p| (p.partition, p.log_start, p.end_offset))
        .collect();
    let mut scan = Scan::new(topic, &req, matcher, &bounds);
    while let Some(read) = scan.next_read() {
        let records = read_window(b, topic, read).await?;
        scan.feed(read, &records);
    }
    Ok(scan.finish())
}
