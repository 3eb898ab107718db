//! Reading without committing, the same on every engine: where a peek starts in a partition, how
//! the partitions' records are merged, and which offsets commit what a pull handed out.

use super::checks::check_offset;
use crate::backend::BResult;
use crate::core::{CommitOffset, Message, PeekFrom, PeekRequest};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// Where a peek starts in one partition whose log is `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    At(u64),
    /// The first record at or after this time (ms since the epoch): the engine looks it up.
    Time(i64),
}

/// The start of a peek in `topic/partition`. An offset outside the log is an error when the peek
/// names this partition (`exact`), and clamped into the log when it reads every partition.
pub fn peek_start(
    topic: &str,
    partition: u32,
    req: &PeekRequest,
    (start, end): (u64, u64),
    exact: bool,
    unit: &str,
) -> BResult<Start> {
    Ok(Start::At(match req.from {
        PeekFrom::Earliest => start,
        // The newest `n`, and of those never more than the peek hands back: the newest `max`.
        PeekFrom::Latest(n) => end.saturating_sub(n.min(req.max as u64)).max(start),
        PeekFrom::Offset(o) if exact => {
            check_offset(topic, partition, o, (start, end), unit)?;
            o
        }
        PeekFrom::Offset(o) => o.clamp(start, end),
        PeekFrom::Time(ts) => return Ok(Start::Time(ts)),
    }))
}

/// Records of several partitions as one peek: each partition's in offset order, merged by time
/// (then partition), at most `max`; for `Latest`, the newest `max`. Records' own timestamps
/// (Kafka's CreateTime) need not rise within a partition, so this is a merge, not a sort.
pub fn merge_peeked(out: Vec<Message>, from: &PeekFrom, max: usize) -> Vec<Message> {
    let n = out.len();
    let mut parts: BTreeMap<u32, Vec<Message>> = BTreeMap::new();
    for m in out {
        parts.entry(m.partition).or_default().push(m);
    }
    let mut queues: Vec<std::collections::VecDeque<Message>> = parts
        .into_values()
        .map(|mut v| {
            v.sort_by_key(|m| m.offset);
            v.into()
        })
        .collect();
    let mut heads: BinaryHeap<Reverse<(i64, u32, usize)>> = queues
        .iter()
        .enumerate()
        .filter_map(|(i, q)| q.front().map(|m| Reverse((m.timestamp, m.partition, i))))
        .collect();
    let mut out = Vec::with_capacity(n);
    while let Some(Reverse((_, _, i))) = heads.pop() {
        if let Some(m) = queues[i].pop_front() {
            out.push(m);
        }
        if let Some(m) = queues[i].front() {
            heads.push(Reverse((m.timestamp, m.partition, i)));
        }
    }
    let mut out = out;
    if matches!(from, PeekFrom::Latest(_)) && out.len() > max {
        out.drain(..out.len() - max);
    }
    out.truncate(max);
    out
}

/// The offsets that commit what a pull handed out: one past the last record, per partition.
pub fn next_offsets(messages: &[Message]) -> Vec<CommitOffset> {
    let mut next: BTreeMap<(&str, u32), u64> = BTreeMap::new();
    for m in messages {
        let e = next.entry((m.topic.as_str(), m.partition)).or_insert(0);
        *e = (*e).max(m.offset + 1);
    }
    next.into_iter()
        .map(|((topic, partition), offset)| CommitOffset { topic: topic.to_string(), partition, offset })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Payload;

    fn peek(from: PeekFrom) -> PeekRequest {
        PeekRequest { partition: None, from, max: 10 }
    }

    fn msg(partition: u32, offset: u64, timestamp: i64) -> Message {
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

    #[test]
    fn peeks_start_at_the_ends_an_offset_or_a_time() {
        let log = (5, 20);
        let at = |from, exact| peek_start("t", 0, &peek(from), log, exact, "");
        assert_eq!(at(PeekFrom::Earliest, true), Ok(Start::At(5)));
        assert_eq!(at(PeekFrom::Latest(3), true), Ok(Start::At(17)));
        let newest = |n, max| {
            peek_start("t", 0, &PeekRequest { partition: Some(0), from: PeekFrom::Latest(n), max }, log, true, "")
        };
        assert_eq!(newest(8, 3), Ok(Start::At(17)), "the last 8 cut to max 3 are the newest 3, not the oldest");
        assert_eq!(newest(100, 100), Ok(Start::At(5)), "never before the log start");
        assert_eq!(at(PeekFrom::Offset(7), true), Ok(Start::At(7)));
        assert_eq!(at(PeekFrom::Offset(2), false), Ok(Start::At(5)), "clamped across partitions");
        assert_eq!(at(PeekFrom::Offset(99), false), Ok(Start::At(20)));
        assert!(at(PeekFrom::Offset(21), true).unwrap_err().to_string().contains("valid offsets are 5..20"));
        assert_eq!(at(PeekFrom::Time(1_000), true), Ok(Start::Time(1_000)));
    }

    #[test]
    fn peeked_partitions_merge_by_time_and_latest_keeps_the_newest() {
        let all = vec![msg(1, 0, 30), msg(0, 0, 10), msg(0, 1, 30), msg(1, 1, 40)];
        let order = |v: Vec<Message>| v.iter().map(|m| (m.partition, m.offset)).collect::<Vec<_>>();
        assert_eq!(order(merge_peeked(all.clone(), &PeekFrom::Earliest, 3)), [(0, 0), (0, 1), (1, 0)]);
        assert_eq!(order(merge_peeked(all, &PeekFrom::Latest(2), 2)), [(1, 0), (1, 1)]);
        // Clients' timestamps going back within a partition: still in offset order there.
        let back = vec![msg(0, 0, 50), msg(0, 1, 10), msg(0, 2, 30), msg(1, 0, 20)];
        assert_eq!(order(merge_peeked(back.clone(), &PeekFrom::Earliest, 10)), [(1, 0), (0, 0), (0, 1), (0, 2)]);
        assert_eq!(order(merge_peeked(back, &PeekFrom::Latest(2), 2)), [(0, 1), (0, 2)], "the newest offsets");
    }

    #[test]
    fn a_pull_commits_one_past_the_last_record_of_each_partition() {
        let got = [msg(1, 4, 0), msg(0, 7, 0), msg(1, 5, 0), msg(0, 6, 0)];
        let next: Vec<(u32, u64)> = next_offsets(&got).iter().map(|c| (c.partition, c.offset)).collect();
        assert_eq!(next, [(0, 8), (1, 6)]);
        assert!(next_offsets(&[]).is_empty());
    }
}
