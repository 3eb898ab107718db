//! The "consumer" protocol's bytes inside JoinGroup and SyncGroup: a member's subscription (the
//! topics it wants) and an assignment (the partitions it is given), each an i16 version and a
//! body of that version (v0–v3; a later version is read as v3, as Kafka's own reader does).

use kafka_protocol::messages::{ConsumerProtocolAssignment, ConsumerProtocolSubscription};
use kafka_protocol::protocol::Decodable;

/// The protocol type Kafka consumers join with.
pub const CONSUMER: &str = "consumer";

fn split(bytes: &[u8]) -> Option<(i16, bytes::Bytes)> {
    if bytes.len() < 2 {
        return None;
    }
    let version = i16::from_be_bytes([bytes[0], bytes[1]]);
    (version >= 0).then(|| (version.min(3), bytes::Bytes::copy_from_slice(&bytes[2..])))
}

/// The topics of a subscription; `None` when the bytes are not one.
pub fn subscribed_topics(bytes: &[u8]) -> Option<Vec<String>> {
    let (v, mut body) = split(bytes)?;
    let s = ConsumerProtocolSubscription::decode(&mut body, v).ok()?;
    Some(s.topics.into_iter().map(|t| t.to_string()).collect())
}

/// The partitions an assignment names; empty bytes (nothing assigned) name none, and `None`
/// says the bytes are not an assignment.
pub fn assigned_partitions(bytes: &[u8]) -> Option<Vec<(String, u32)>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let (v, mut body) = split(bytes)?;
    let a = ConsumerProtocolAssignment::decode(&mut body, v).ok()?;
    let mut out = Vec::new();
    for t in a.assigned_partitions {
        for p in t.partitions {
            out.push((t.topic.0.to_string(), u32::try_from(p).ok()?));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::TopicName;
    use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
    use kafka_protocol::protocol::{Encodable, StrBytes};

    fn encoded<T: Encodable>(v: i16, m: &T) -> Vec<u8> {
        let mut b = bytes::BytesMut::new();
        b.extend_from_slice(&v.to_be_bytes());
        m.encode(&mut b, v).unwrap();
        b.to_vec()
    }

    #[test]
    fn assignments_of_every_version_name_their_partitions() {
        let a = ConsumerProtocolAssignment::default().with_assigned_partitions(vec![
            TopicPartition::default().with_topic(TopicName(StrBytes::from_static_str("t"))).with_partitions(vec![0, 2]),
        ]);
        for v in 0..=3 {
            assert_eq!(assigned_partitions(&encoded(v, &a)), Some(vec![("t".into(), 0), ("t".into(), 2)]), "v{v}");
        }
        assert_eq!(assigned_partitions(&[]), Some(vec![]));
        assert_eq!(assigned_partitions(&[0, 0, 0, 0, 0, 9]), None, "truncated");
    }

    #[test]
    fn subscriptions_name_their_topics() {
        let s = ConsumerProtocolSubscription::default()
            .with_topics(vec![StrBytes::from_static_str("a"), StrBytes::from_static_str("b")]);
        for v in 0..=3 {
            assert_eq!(subscribed_topics(&encoded(v, &s)), Some(vec!["a".into(), "b".into()]), "v{v}");
        }
        assert_eq!(subscribed_topics(b"x"), None);
    }
}
