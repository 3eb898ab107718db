//! The records `bench run` sends, and the tally that proves every one arrived exactly once.
//!
//! A value starts with a 32-byte header — 16 hex digits of its (intended) send time in ns since
//! the process's epoch, 16 hex digits of its sequence number — and is filled up to the record size
//! with `.`. Hex keeps the value plain text, so depot's JSON API carries it as a string, not in
//! base64. Producers and consumers run in this one process, so a monotonic clock
//! ([`now_ns`]) is shared by both ends.
//!
//! [`Tally`] marks sequence numbers in a bitmap as consumers see them: unique, again (a
//! duplicate), or not one of this phase's (foreign).

use bytes::{BufMut, Bytes, BytesMut};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Bytes of header every value starts with.
pub const HEADER: usize = 32;

/// Nanoseconds since this process's bench epoch (monotonic).
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// A value of `size` bytes (at least [`HEADER`]) stamped with `sent_ns` and `seq`.
pub fn value(sent_ns: u64, seq: u64, size: usize) -> Bytes {
    let mut b = BytesMut::with_capacity(size.max(HEADER));
    put_hex(&mut b, sent_ns);
    put_hex(&mut b, seq);
    b.put_bytes(b'.', size.saturating_sub(HEADER));
    b.freeze()
}

fn put_hex(b: &mut BytesMut, v: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        b.put_u8(DIGITS[((v >> (shift * 4)) & 0xf) as usize]);
    }
}

fn hex(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &d| {
        let n = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some(acc << 4 | n as u64)
    })
}

/// `(sent_ns, seq)` of a value `bench run` sent; `None` for anything else.
pub fn decode(v: &[u8]) -> Option<(u64, u64)> {
    if v.len() < HEADER {
        return None;
    }
    Some((hex(&v[..16])?, hex(&v[16..32])?))
}

/// What a consumer's record was to the tally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Seen for the first time.
    New,
    /// Seen before.
    Again,
    /// Not one of the sequence numbers this tally counts.
    Foreign,
}

/// Which of the sequence numbers `base..base + len` have been received, and how often again.
pub struct Tally {
    base: u64,
    len: u64,
    bits: Vec<AtomicU64>,
    unique: AtomicU64,
    again: AtomicU64,
    /// [`now_ns`] when the last expected record arrived (0 until then).
    completed_ns: AtomicU64,
}

impl Tally {
    pub fn new(base: u64, len: u64) -> Tally {
        Tally {
            base,
            len,
            bits: (0..len.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
            unique: AtomicU64::new(0),
            again: AtomicU64::new(0),
            completed_ns: AtomicU64::new(0),
        }
    }

    /// Whether `seq` belongs to this tally.
    pub fn covers(&self, seq: u64) -> bool {
        seq >= self.base && seq - self.base < self.len
    }

    pub fn mark(&self, seq: u64) -> Mark {
        if !self.covers(seq) {
            return Mark::Foreign;
        }
        let i = seq - self.base;
        let bit = 1u64 << (i % 64);
        let Some(word) = self.bits.get((i / 64) as usize) else { return Mark::Foreign };
        if word.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
            if self.unique.fetch_add(1, Ordering::AcqRel) + 1 == self.len {
                self.completed_ns.store(now_ns(), Ordering::Release);
            }
            Mark::New
        } else {
            self.again.fetch_add(1, Ordering::Relaxed);
            Mark::Again
        }
    }

    /// Distinct records received.
    pub fn unique(&self) -> u64 {
        self.unique.load(Ordering::Relaxed)
    }

    /// Records received more than once (each extra copy counts).
    pub fn duplicates(&self) -> u64 {
        self.again.load(Ordering::Relaxed)
    }

    /// Every expected record was received.
    pub fn complete(&self) -> bool {
        self.unique() >= self.len
    }

    /// When the last expected record arrived ([`now_ns`]), once it has.
    pub fn completed_ns(&self) -> Option<u64> {
        Some(self.completed_ns.load(Ordering::Acquire)).filter(|_| self.complete())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_carry_their_send_time_and_sequence_and_have_the_asked_size() {
        let v = value(0x0123_4567_89ab_cdef, 42, 100);
        assert_eq!(v.len(), 100);
        assert!(std::str::from_utf8(&v).is_ok(), "plain text, so JSON carries it as a string");
        assert_eq!(decode(&v), Some((0x0123_4567_89ab_cdef, 42)));
        assert_eq!(decode(&value(u64::MAX, 0, HEADER)), Some((u64::MAX, 0)));
        assert_eq!(decode(b"not a bench record, but long enough to look at"), None);
        assert_eq!(decode(b"short"), None);
    }

    #[test]
    fn the_tally_counts_each_sequence_once_and_copies_and_strangers_apart() {
        let t = Tally::new(100, 130);
        assert_eq!(t.mark(100), Mark::New);
        assert_eq!(t.mark(229), Mark::New);
        assert_eq!(t.mark(100), Mark::Again);
        assert_eq!(t.mark(99), Mark::Foreign);
        assert_eq!(t.mark(230), Mark::Foreign);
        assert_eq!((t.unique(), t.duplicates(), t.complete(), t.completed_ns()), (2, 1, false, None));
        let before = now_ns();
        for s in 100..230 {
            t.mark(s);
        }
        assert_eq!((t.unique(), t.duplicates(), t.complete()), (130, 3, true));
        assert!(t.completed_ns().is_some_and(|at| at >= before && at <= now_ns()));
    }
}
