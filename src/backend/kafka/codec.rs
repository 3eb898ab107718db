//! Kafka's data in depot's words: records as [`Message`]s, offsets, group states, and the
//! consumer protocol's subscription and assignment (embedded in DescribeGroups answers).

use crate::core::{Header, Message, Payload};
use bytes::Bytes;
use rdkafka::message::{BorrowedMessage, Headers as _, Message as _};
use rdkafka::topic_partition_list::Offset;

/// `Some(offset)` for a real offset, `None` for "no offset" (never committed, no such record).
pub(super) fn real_offset(o: Offset) -> Option<u64> {
    match o {
        Offset::Offset(n) if n >= 0 => Some(n as u64),
        _ => None,
    }
}

/// `PreparingRebalance` → `preparing-rebalance`, `Stable` → `stable`.
pub(super) fn state_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, ch) in s.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(ch.to_ascii_lowercase());
    }
    if out.is_empty() { "unknown".into() } else { out }
}

/// A broker-side message as depot's [`Message`].
pub(super) fn to_message(m: &BorrowedMessage<'_>) -> Message {
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| Header { name: h.key.to_string(), value: h.value.map(|v| Payload(Bytes::copy_from_slice(v))) })
                .collect()
        })
        .unwrap_or_default();
    Message {
        topic: m.topic().to_string(),
        partition: m.partition().max(0) as u32,
        offset: m.offset().max(0) as u64,
        timestamp: m.timestamp().to_millis().unwrap_or(0),
        key: m.key().map(|k| Payload(Bytes::copy_from_slice(k))),
        // No payload is Kafka's null value: a tombstone.
        value: m.payload().map(|v| Payload(Bytes::copy_from_slice(v))),
        headers,
    }
}

/// Big-endian reader for the consumer protocol's embedded structures.
struct Wire<'a>(&'a [u8]);

impl Wire<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn i16(&mut self) -> Option<i16> {
        self.take(2).map(|b| i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Option<i32> {
        self.take(4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Option<String> {
        let n = self.i16()?;
        if n < 0 {
            return Some(String::new());
        }
        self.take(n as usize).map(|b| String::from_utf8_lossy(b).into_owned())
    }
    /// An array length, bounded by what is left (each element takes at least `min` bytes).
    fn len(&mut self, min: usize) -> Option<usize> {
        let n = self.i32()?;
        if n < 0 {
            return Some(0);
        }
        let n = n as usize;
        (n.saturating_mul(min) <= self.0.len()).then_some(n)
    }
}

/// ConsumerProtocolSubscription: version, topics, ... → the topics.
pub(super) fn decode_subscription(b: &[u8]) -> Option<Vec<String>> {
    let mut w = Wire(b);
    w.i16()?;
    let n = w.len(2)?;
    (0..n).map(|_| w.string()).collect()
}

/// ConsumerProtocolAssignment: version, [topic, [partition]], ... → (topic, partition) pairs.
pub(super) fn decode_assignment(b: &[u8]) -> Option<Vec<(String, u32)>> {
    let mut w = Wire(b);
    w.i16()?;
    let n = w.len(6)?;
    let mut out = Vec::new();
    for _ in 0..n {
        let t = w.string()?;
        let m = w.len(4)?;
        for _ in 0..m {
            out.push((t.clone(), w.i32()?.max(0) as u32));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_protocol_structures_decode() {
        // version 0, topics ["orders", "b"], no user data
        let mut sub = vec![0, 0, 0, 0, 0, 2, 0, 6];
        sub.extend_from_slice(b"orders");
        sub.extend_from_slice(&[0, 1, b'b', 0, 0, 0, 0]);
        assert_eq!(decode_subscription(&sub), Some(vec!["orders".to_string(), "b".to_string()]));
        // version 1, [("orders", [0, 2])], empty user data
        let mut asg = vec![0, 1, 0, 0, 0, 1, 0, 6];
        asg.extend_from_slice(b"orders");
        asg.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]);
        assert_eq!(decode_assignment(&asg), Some(vec![("orders".to_string(), 0), ("orders".to_string(), 2)]));
        assert_eq!(decode_assignment(&[0, 0, 0x7f, 0xff, 0xff, 0xff]), None, "absurd lengths are rejected");
        assert_eq!(decode_subscription(&[]), None);
    }

    #[test]
    fn group_states_read_like_depots() {
        assert_eq!(state_name("Stable"), "stable");
        assert_eq!(state_name("PreparingRebalance"), "preparing-rebalance");
        assert_eq!(state_name("Empty"), "empty");
    }
}
