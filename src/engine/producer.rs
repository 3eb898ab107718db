//! Idempotent producers: a producer id plus a per-partition sequence number per batch. A retried
//! batch whose sequence was already appended is not appended again; it gets its original offsets.

use super::error::{EngineError, Result};
use std::collections::{HashMap, VecDeque};

/// How many recent batches per producer are remembered for answering retries (as Kafka does).
const REMEMBERED: usize = 5;

/// One appended batch of a producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqBatch {
    pub first_seq: u32,
    pub count: u32,
    pub base_offset: u64,
}

/// What to do with an incoming batch.
#[derive(Debug, PartialEq, Eq)]
pub enum SeqCheck {
    /// New: append it.
    Append,
    /// Already appended at this base offset: answer with it, append nothing.
    Duplicate(u64),
}

/// The producers of one partition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Producers {
    pub map: HashMap<u64, VecDeque<SeqBatch>>,
}

impl Producers {
    /// Decides whether the batch `(pid, seq, count)` is new, a retry, or out of order.
    pub fn check(&self, pid: u64, seq: u32, count: u32) -> Result<SeqCheck> {
        let Some(batches) = self.map.get(&pid) else {
            return Ok(SeqCheck::Append);
        };
        let Some(last) = batches.back() else {
            return Ok(SeqCheck::Append);
        };
        if let Some(b) = batches.iter().find(|b| b.first_seq == seq) {
            if b.count != count {
                return Err(EngineError::Conflict(format!(
                    "producer {pid} retried sequence {seq} with {count} records, but the original batch had {}",
                    b.count
                )));
            }
            return Ok(SeqCheck::Duplicate(b.base_offset));
        }
        let expected = last.first_seq.wrapping_add(last.count);
        if seq == expected {
            return Ok(SeqCheck::Append);
        }
        if seq < expected {
            Err(EngineError::Refused(format!(
                "producer {pid} sent sequence {seq}, an old batch no longer remembered (next expected {expected}); it was appended before"
            )))
        } else {
            Err(EngineError::Refused(format!(
                "producer {pid} sent sequence {seq} but {expected} was expected: a batch is missing in between"
            )))
        }
    }

    /// Remembers an appended batch.
    pub fn record(&mut self, pid: u64, seq: u32, count: u32, base_offset: u64) {
        let q = self.map.entry(pid).or_default();
        q.push_back(SeqBatch { first_seq: seq, count, base_offset });
        while q.len() > REMEMBERED {
            q.pop_front();
        }
    }

    pub fn encode(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&(self.map.len() as u32).to_le_bytes());
        let mut pids: Vec<_> = self.map.keys().copied().collect();
        pids.sort_unstable();
        for pid in pids {
            let q = &self.map[&pid];
            buf.extend_from_slice(&pid.to_le_bytes());
            buf.push(q.len() as u8);
            for b in q {
                buf.extend_from_slice(&b.first_seq.to_le_bytes());
                buf.extend_from_slice(&b.count.to_le_bytes());
                buf.extend_from_slice(&b.base_offset.to_le_bytes());
            }
        }
    }

    pub fn decode(buf: &[u8]) -> Option<Producers> {
        let mut r = buf;
        let mut take = |n: usize| -> Option<&[u8]> {
            if r.len() < n {
                return None;
            }
            let (a, b) = r.split_at(n);
            r = b;
            Some(a)
        };
        let n = u32::from_le_bytes(take(4)?.try_into().ok()?);
        let mut p = Producers::default();
        for _ in 0..n {
            let pid = u64::from_le_bytes(take(8)?.try_into().ok()?);
            let k = take(1)?[0];
            let q = p.map.entry(pid).or_default();
            for _ in 0..k {
                let first_seq = u32::from_le_bytes(take(4)?.try_into().ok()?);
                let count = u32::from_le_bytes(take(4)?.try_into().ok()?);
                let base_offset = u64::from_le_bytes(take(8)?.try_into().ok()?);
                q.push_back(SeqBatch { first_seq, count, base_offset });
            }
        }
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_get_original_offsets_and_gaps_are_refused() {
        let mut p = Producers::default();
        assert_eq!(p.check(7, 0, 3).unwrap(), SeqCheck::Append);
        p.record(7, 0, 3, 100);
        assert_eq!(p.check(7, 3, 2).unwrap(), SeqCheck::Append);
        p.record(7, 3, 2, 110);
        assert_eq!(p.check(7, 0, 3).unwrap(), SeqCheck::Duplicate(100));
        assert_eq!(p.check(7, 3, 2).unwrap(), SeqCheck::Duplicate(110));
        assert!(p.check(7, 9, 1).is_err());
        let mut buf = Vec::new();
        p.encode(&mut buf);
        assert_eq!(Producers::decode(&buf), Some(p));
    }
}
