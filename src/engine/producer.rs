//! Idempotent producers: a producer id plus a per-partition sequence number per batch, and for
//! Kafka producers an epoch. A retried batch whose sequence was already appended is not appended
//! again; it gets its original offsets. The last [`REMEMBERED`] batches of each producer are
//! kept per partition (in the checkpoint, and rebuilt from the log's batch headers on open); the
//! epoch a producer writes a partition with is in [`super::producer_epochs`], since the batch
//! format has no room for it.
//!
//! The checks follow Kafka's `ProducerAppendInfo`: an epoch older than the partition's is fenced;
//! a newer epoch starts again at sequence 0; within an epoch the next batch must start where the
//! last one ended. What Kafka's broker would refuse as out of order is told apart here when it
//! is a batch that was appended before but is no longer remembered (see [`SeqError`]).

use super::error::EngineError;
use std::collections::{HashMap, VecDeque};

/// How many recent batches per producer are remembered for answering retries (as Kafka does).
pub const REMEMBERED: usize = 5;

/// The highest sequence number of a Kafka producer: the next one after it is 0.
const KAFKA_MAX_SEQ: u32 = i32::MAX as u32;

/// One appended batch of a producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqBatch {
    pub first_seq: u32,
    pub count: u32,
    pub base_offset: u64,
}

/// Who sent a batch: the producer id, its first sequence number and, for a Kafka producer, its
/// epoch (`None`: the epoch is not checked, as for depot's own producer tags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerBatch {
    pub id: u64,
    pub seq: u32,
    pub epoch: Option<i16>,
}

/// What to do with an incoming batch.
#[derive(Debug, PartialEq, Eq)]
pub enum SeqCheck {
    /// New: append it. `new_epoch` when it is the first batch of a newer epoch of the producer
    /// (its earlier batches are forgotten, and the epoch must be recorded before the append).
    Append { new_epoch: Option<i16> },
    /// Already appended at this base offset: answer with it, append nothing.
    Duplicate(u64),
}

/// Why a producer's batch is not appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeqError {
    /// The producer id was never handed out by this data directory.
    UnknownProducer { id: u64 },
    /// The batch's epoch is older than the one the producer writes this partition with.
    Fenced { id: u64, epoch: i16, current: i16 },
    /// The batch wholly precedes the next expected sequence but is no longer remembered: it was
    /// appended before (its offsets are not known any more).
    OldDuplicate { id: u64, seq: u32, expected: u32 },
    /// A batch is missing before this one, it overlaps what was appended, it retries a
    /// remembered sequence with another record count, or a new epoch does not start at 0.
    OutOfOrder { id: u64, seq: u32, expected: u32, why: &'static str },
}

impl std::fmt::Display for SeqError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeqError::UnknownProducer { id } => {
                write!(f, "producer id {id} was not handed out by this depot (ask InitProducerId for one)")
            }
            SeqError::Fenced { id, epoch, current } => {
                write!(f, "producer {id} sent epoch {epoch}, but epoch {current} has written this partition since")
            }
            SeqError::OldDuplicate { id, seq, expected } => write!(
                f,
                "producer {id} sent sequence {seq}, an old batch no longer remembered (next expected {expected}); it was appended before"
            ),
            SeqError::OutOfOrder { id, seq, expected, why } => {
                write!(f, "producer {id} sent sequence {seq} but {expected} was expected: {why}")
            }
        }
    }
}

impl SeqError {
    /// The engine error depot's own producers (HTTP, CLI) have always got for this.
    pub fn into_engine(self) -> EngineError {
        match self {
            SeqError::OutOfOrder { why: COUNT_DIFFERS, .. } => EngineError::Conflict(self.to_string()),
            other => EngineError::Refused(other.to_string()),
        }
    }
}

const COUNT_DIFFERS: &str = "a retry of a remembered batch has another record count";

/// The sequence after `count` records from `first`; Kafka's wrap after `i32::MAX` for Kafka
/// producers, depot's own after `u32::MAX`.
fn next_seq(first: u32, count: u32, kafka: bool) -> u32 {
    if kafka && first <= KAFKA_MAX_SEQ && count <= KAFKA_MAX_SEQ {
        let next = u64::from(first) + u64::from(count);
        (next % (u64::from(KAFKA_MAX_SEQ) + 1)) as u32
    } else {
        first.wrapping_add(count)
    }
}

/// The producers of one partition: each one's last batches, and the epochs other than 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Producers {
    pub map: HashMap<u64, VecDeque<SeqBatch>>,
    /// The epoch each producer writes this partition with, when it is not 0.
    pub epochs: HashMap<u64, i16>,
}

impl Producers {
    /// The epoch producer `pid` writes this partition with (0 until it sent another).
    pub fn epoch(&self, pid: u64) -> i16 {
        self.epochs.get(&pid).copied().unwrap_or(0)
    }

    /// Decides whether the batch `(pid, seq, count)` is new, a retry, or out of order.
    pub fn check(&self, b: ProducerBatch, count: u32) -> Result<SeqCheck, SeqError> {
        let (pid, seq) = (b.id, b.seq);
        let batches = self.map.get(&pid).filter(|q| !q.is_empty());
        if let Some(epoch) = b.epoch {
            let current = self.epoch(pid);
            if epoch < current {
                return Err(SeqError::Fenced { id: pid, epoch, current });
            }
            if epoch > current {
                if seq != 0 && batches.is_some() {
                    return Err(SeqError::OutOfOrder {
                        id: pid,
                        seq,
                        expected: 0,
                        why: "a new epoch starts at sequence 0",
                    });
                }
                return Ok(SeqCheck::Append { new_epoch: Some(epoch) });
            }
        }
        // Nothing remembered (a new producer here, or its batches are gone): any sequence
        // starts it, as in Kafka.
        let Some(batches) = batches else {
            return Ok(SeqCheck::Append { new_epoch: None });
        };
        let kafka = b.epoch.is_some();
        let last = batches[batches.len() - 1];
        let expected = next_seq(last.first_seq, last.count, kafka);
        if let Some(found) = batches.iter().find(|x| x.first_seq == seq) {
            if found.count != count {
                return Err(SeqError::OutOfOrder { id: pid, seq, expected, why: COUNT_DIFFERS });
            }
            return Ok(SeqCheck::Duplicate(found.base_offset));
        }
        if seq == expected {
            return Ok(SeqCheck::Append { new_epoch: None });
        }
        // Behind the next expected sequence (with no wrap in the window): appended before when
        // it ends before the remembered batches, else it overlaps what was appended.
        let first = batches[0].first_seq;
        if seq < expected && first <= expected {
            if u64::from(seq) + u64::from(count) <= u64::from(first) {
                return Err(SeqError::OldDuplicate { id: pid, seq, expected });
            }
            return Err(SeqError::OutOfOrder {
                id: pid,
                seq,
                expected,
                why: "the batch overlaps batches appended before",
            });
        }
        Err(SeqError::OutOfOrder { id: pid, seq, expected, why: "a batch is missing in between" })
    }

    /// Remembers an appended batch (after [`start_epoch`](Self::start_epoch) when
    /// [`check`](Self::check) said it starts a new epoch).
    pub fn record(&mut self, pid: u64, seq: u32, count: u32, base_offset: u64) {
        let q = self.map.entry(pid).or_default();
        q.push_back(SeqBatch { first_seq: seq, count, base_offset });
        while q.len() > REMEMBERED {
            q.pop_front();
        }
    }

    /// Starts `epoch` of producer `pid` on this partition: its older batches are forgotten.
    pub fn start_epoch(&mut self, pid: u64, epoch: i16) {
        self.map.remove(&pid);
        if epoch == 0 {
            self.epochs.remove(&pid);
        } else {
            self.epochs.insert(pid, epoch);
        }
    }

    /// Applies the epochs journaled for this partition to the batches rebuilt from the log: a
    /// producer's batches before the offset its last epoch started at belong to older epochs.
    pub fn apply_epochs(&mut self, starts: &HashMap<u64, (i16, u64)>) {
        for (&pid, &(epoch, from)) in starts {
            if let Some(q) = self.map.get_mut(&pid) {
                q.retain(|b| b.base_offset >= from);
            }
            if epoch != 0 {
                self.epochs.insert(pid, epoch);
            }
        }
    }

    /// The largest producer id below `limit` remembered here.
    pub fn max_id_below(&self, limit: u64) -> Option<u64> {
        self.map.keys().copied().filter(|&id| id < limit).max()
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

    fn own(id: u64, seq: u32) -> ProducerBatch {
        ProducerBatch { id, seq, epoch: None }
    }

    fn kafka(id: u64, epoch: i16, seq: u32) -> ProducerBatch {
        ProducerBatch { id, seq, epoch: Some(epoch) }
    }

    const APPEND: SeqCheck = SeqCheck::Append { new_epoch: None };

    #[test]
    fn retries_get_original_offsets_and_gaps_are_refused() {
        let mut p = Producers::default();
        assert_eq!(p.check(own(7, 0), 3).unwrap(), APPEND);
        p.record(7, 0, 3, 100);
        assert_eq!(p.check(own(7, 3), 2).unwrap(), APPEND);
        p.record(7, 3, 2, 110);
        assert_eq!(p.check(own(7, 0), 3).unwrap(), SeqCheck::Duplicate(100));
        assert_eq!(p.check(own(7, 3), 2).unwrap(), SeqCheck::Duplicate(110));
        assert!(matches!(p.check(own(7, 9), 1), Err(SeqError::OutOfOrder { expected: 5, .. })));
        assert!(matches!(p.check(own(7, 3), 1).map_err(SeqError::into_engine), Err(EngineError::Conflict(_))));
        let mut buf = Vec::new();
        p.encode(&mut buf);
        assert_eq!(Producers::decode(&buf), Some(p));
    }

    #[test]
    fn a_batch_older_than_the_window_is_an_old_duplicate_and_an_overlap_is_out_of_order() {
        let mut p = Producers::default();
        for i in 0..8u32 {
            p.record(1, i * 2, 2, u64::from(i) * 2);
        }
        // Remembered: sequences 6..16. 0..2 was appended, and forgotten.
        assert_eq!(p.check(kafka(1, 0, 0), 2), Err(SeqError::OldDuplicate { id: 1, seq: 0, expected: 16 }));
        assert!(matches!(p.check(kafka(1, 0, 5), 2), Err(SeqError::OutOfOrder { .. })), "overlaps 6");
        assert!(matches!(p.check(kafka(1, 0, 7), 1), Err(SeqError::OutOfOrder { .. })), "inside a batch");
        assert_eq!(p.check(kafka(1, 0, 14), 2), Ok(SeqCheck::Duplicate(14)));
        assert_eq!(p.check(kafka(1, 0, 16), 1), Ok(APPEND));
    }

    #[test]
    fn an_older_epoch_is_fenced_and_a_newer_one_starts_at_sequence_zero() {
        let mut p = Producers::default();
        p.record(3, 0, 4, 0);
        assert!(p.check(kafka(3, 1, 4), 1).unwrap_err().to_string().contains("starts at sequence 0"));
        assert_eq!(p.check(kafka(3, 1, 0), 4), Ok(SeqCheck::Append { new_epoch: Some(1) }));
        p.start_epoch(3, 1);
        p.record(3, 0, 4, 10);
        assert_eq!(p.epoch(3), 1);
        assert_eq!(p.check(kafka(3, 0, 4), 1), Err(SeqError::Fenced { id: 3, epoch: 0, current: 1 }));
        assert_eq!(p.check(kafka(3, 1, 0), 4), Ok(SeqCheck::Duplicate(10)), "a retry in the new epoch");
        // A producer new to the partition may start in any epoch and at any sequence.
        assert_eq!(p.check(kafka(9, 2, 40), 1), Ok(SeqCheck::Append { new_epoch: Some(2) }));
        assert_eq!(p.check(kafka(9, 0, 40), 1), Ok(APPEND));
    }

    #[test]
    fn kafka_sequences_wrap_after_i32_max() {
        let mut p = Producers::default();
        p.record(5, KAFKA_MAX_SEQ - 1, 2, 0);
        assert_eq!(p.check(kafka(5, 0, 0), 1), Ok(APPEND));
        assert!(p.check(kafka(5, 0, KAFKA_MAX_SEQ + 1), 1).is_err());
        assert_eq!(p.check(own(5, KAFKA_MAX_SEQ + 1), 1), Ok(APPEND), "depot's own sequences are u32");
    }

    #[test]
    fn journaled_epoch_starts_drop_the_older_epochs_batches_from_the_rebuilt_window() {
        let mut p = Producers::default();
        p.record(3, 0, 2, 0);
        p.record(3, 2, 2, 2);
        p.record(3, 0, 2, 4);
        p.apply_epochs(&HashMap::from([(3, (1, 4))]));
        assert_eq!(p.epoch(3), 1);
        assert_eq!(p.map[&3].iter().map(|b| b.base_offset).collect::<Vec<_>>(), [4]);
        assert_eq!(p.check(kafka(3, 1, 0), 2), Ok(SeqCheck::Duplicate(4)));
    }
}
