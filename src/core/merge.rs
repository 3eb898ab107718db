//! A page of every partition of a topic, merged by time, that pages on without skipping a record
//! or showing one twice. A page is, for each partition, a half-open range of offsets `lo..hi`: it
//! shows exactly the records of those ranges, in time order (ties by partition, then offset). The
//! next page reads each partition from its `hi`, the previous one the records before its `lo`, so
//! a partition that had nothing on this page keeps its place for the next.
//!
//! The reads are the caller's (one per partition); [`merge_page`] is pure.

use super::message::{Message, PeekFrom};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One partition's read for a merged page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedRead {
    pub partition: u32,
    pub from: PeekFrom,
    /// Only records below this offset (a previous page: the records before the current one).
    pub before: Option<u64>,
    /// Where the partition's range sits when the read finds nothing: the offset read from, or
    /// the partition's end for a read by time or from the latest records.
    pub at: u64,
}

/// Which end of the merged reads a page keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Keep {
    /// The earliest records (a page forward from the reads).
    Earliest,
    /// The latest records (a page back, or the live tail).
    Latest,
}

/// A merged page: its records in time order and each partition's range.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedPage {
    pub items: Vec<Message>,
    pub ranges: BTreeMap<u32, (u64, u64)>,
}

/// Merges each partition's read (its records in offset order) into a page of at most `max`
/// records, keeping the earliest or the latest.
pub fn merge_page(reads: Vec<(MergedRead, Vec<Message>)>, max: usize, keep: Keep) -> MergedPage {
    let mut all: Vec<Message> = Vec::new();
    let mut read: BTreeMap<u32, (MergedRead, Option<u64>, Option<u64>)> = BTreeMap::new();
    for (r, mut items) in reads {
        if let Some(b) = r.before {
            items.retain(|m| m.offset < b);
        }
        let first = items.first().map(|m| m.offset);
        let last = items.last().map(|m| m.offset);
        read.insert(r.partition, (r, first, last));
        all.extend(items);
    }
    all.sort_by_key(|m| (m.timestamp, m.partition, m.offset));
    let chosen: Vec<&Message> = match keep {
        Keep::Earliest => all.iter().take(max).collect(),
        Keep::Latest => all.iter().skip(all.len().saturating_sub(max)).collect(),
    };
    let mut shown: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for m in chosen {
        let e = shown.entry(m.partition).or_insert((m.offset, m.offset));
        e.0 = e.0.min(m.offset);
        e.1 = e.1.max(m.offset);
    }
    // Each partition's part is contiguous, even where a client's timestamps go backwards in
    // its partition: every record between the first and last chosen of a partition is shown.
    let items: Vec<Message> = all
        .into_iter()
        .filter(|m| shown.get(&m.partition).is_some_and(|&(lo, hi)| (lo..=hi).contains(&m.offset)))
        .collect();
    let ranges = read
        .into_iter()
        .map(|(p, (r, first, last))| {
            let range = match (keep, shown.get(&p)) {
                // Forward: the range starts at the first record read; it ends after the last shown.
                (Keep::Earliest, Some(&(lo, hi))) => (first.unwrap_or(lo).min(lo), hi + 1),
                (Keep::Earliest, None) => {
                    let at = first.unwrap_or(r.at);
                    (at, at)
                }
                // Back: the range ends where the read stopped; it starts at the first shown.
                (Keep::Latest, Some(&(lo, hi))) => (lo, r.before.unwrap_or(hi + 1).max(hi + 1)),
                (Keep::Latest, None) => {
                    let end = r.before.or(last.map(|l| l + 1)).unwrap_or(r.at);
                    (end, end)
                }
            };
            (p, range)
        })
        .collect();
    MergedPage { items, ranges }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Payload;

    fn rec(partition: u32, offset: u64, timestamp: i64) -> Message {
        Message {
            topic: "t".into(),
            partition,
            offset,
            timestamp,
            key: None,
            value: Some(Payload::text("v")),
            headers: Vec::new(),
        }
    }

    fn read(partition: u32, from: u64, before: Option<u64>) -> MergedRead {
        MergedRead { partition, from: PeekFrom::Offset(from), before, at: from }
    }

    /// Two partitions: p0 at times 0, 10, 20, …; p1 at 5, 15, 25, … (ten records each).
    fn log(partition: u32, from: u64, before: Option<u64>) -> Vec<Message> {
        let shift = if partition == 0 { 0 } else { 5 };
        (from..before.unwrap_or(10).min(10)).map(|o| rec(partition, o, o as i64 * 10 + shift)).collect()
    }

    fn page_from(ranges: &BTreeMap<u32, (u64, u64)>, keep: Keep) -> MergedPage {
        let reads = ranges
            .iter()
            .map(|(&p, &(lo, hi))| match keep {
                Keep::Earliest => (read(p, hi, None), log(p, hi, None)),
                Keep::Latest => {
                    let from = lo.saturating_sub(3);
                    (read(p, from, Some(lo)), log(p, from, Some(lo)))
                }
            })
            .collect();
        merge_page(reads, 3, keep)
    }

    #[test]
    fn pages_forward_and_back_show_every_record_once_in_time_order() {
        let start: BTreeMap<u32, (u64, u64)> = [(0, (0, 0)), (1, (0, 0))].into();
        let mut ranges = start;
        let mut seen = Vec::new();
        loop {
            let page = page_from(&ranges, Keep::Earliest);
            seen.extend(page.items.iter().map(|m| (m.timestamp, m.partition, m.offset)));
            ranges = page.ranges;
            if page.items.is_empty() {
                break;
            }
        }
        assert_eq!(seen.len(), 20, "every record of both partitions: {seen:?}");
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "in time order, none twice: {seen:?}");
        assert_eq!(ranges, [(0, (10, 10)), (1, (10, 10))].into());

        // And back from the end, the same records in reverse pages.
        let mut back = Vec::new();
        loop {
            let page = page_from(&ranges, Keep::Latest);
            back.splice(0..0, page.items.iter().map(|m| (m.timestamp, m.partition, m.offset)));
            ranges = page.ranges;
            if page.items.is_empty() {
                break;
            }
        }
        assert_eq!(back, seen);
        assert_eq!(ranges, [(0, (0, 0)), (1, (0, 0))].into());
    }

    #[test]
    fn a_partition_with_nothing_on_the_page_keeps_its_place() {
        // p1's records are all later than p0's first three: the page is p0's; p1 waits at 0.
        let reads = vec![
            (read(0, 0, None), (0..5).map(|o| rec(0, o, o as i64)).collect()),
            (read(1, 0, None), vec![rec(1, 0, 100)]),
        ];
        let page = merge_page(reads, 3, Keep::Earliest);
        assert_eq!(page.items.iter().map(|m| (m.partition, m.offset)).collect::<Vec<_>>(), [(0, 0), (0, 1), (0, 2)]);
        assert_eq!(page.ranges, [(0, (0, 3)), (1, (0, 0))].into());
        // An empty partition sits where it was read from.
        let page = merge_page(vec![(read(2, 7, None), Vec::new())], 3, Keep::Earliest);
        assert_eq!(page.ranges, [(2, (7, 7))].into());
    }

    #[test]
    fn the_latest_page_ends_at_each_partition_s_last_record() {
        let tail = |p: u32, end: u64| MergedRead { partition: p, from: PeekFrom::Latest(3), before: None, at: end };
        let reads = vec![(tail(0, 10), log(0, 7, None)), (tail(1, 10), log(1, 7, None)), (tail(2, 4), Vec::new())];
        let page = merge_page(reads, 3, Keep::Latest);
        assert_eq!(page.items.iter().map(|m| (m.partition, m.offset)).collect::<Vec<_>>(), [(1, 8), (0, 9), (1, 9)]);
        assert_eq!(page.ranges, [(0, (9, 10)), (1, (8, 10)), (2, (4, 4))].into());
    }
}
