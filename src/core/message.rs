//! Messages: binary-safe payloads, records read and published, and the requests that read them.

use super::CommitOffset;
use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// Bytes that travel as JSON: a JSON string when they are UTF-8 text, else `{"base64": "..."}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payload(pub Bytes);

impl Payload {
    pub fn text(s: &str) -> Payload {
        Payload(Bytes::copy_from_slice(s.as_bytes()))
    }

    /// The bytes as text when they are UTF-8.
    pub fn as_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// Text as is; other bytes as `base64:...`.
    pub fn display(&self) -> String {
        match self.as_text() {
            Some(t) => t.to_string(),
            None => format!("base64:{}", base64::engine::general_purpose::STANDARD.encode(&self.0)),
        }
    }
}

impl From<Bytes> for Payload {
    fn from(b: Bytes) -> Self {
        Payload(b)
    }
}

impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_text() {
            Some(t) => s.serialize_str(t),
            None => {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("base64", &base64::engine::general_purpose::STANDARD.encode(&self.0))?;
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Text(String),
            Binary { base64: String },
        }
        match Wire::deserialize(d) {
            Ok(Wire::Text(t)) => Ok(Payload(Bytes::from(t))),
            Ok(Wire::Binary { base64 }) => base64::engine::general_purpose::STANDARD
                .decode(base64.as_bytes())
                .map(|b| Payload(Bytes::from(b)))
                .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}"))),
            Err(_) => Err(serde::de::Error::custom(
                "expected a string (UTF-8 text) or an object {\"base64\": \"...\"} (binary)",
            )),
        }
    }
}

/// A value that may be null (a tombstone): in JSON the field must be there, `null` for a
/// tombstone, so a forgotten value is still an error rather than a tombstone.
pub fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Payload>, D::Error> {
    Option::<Payload>::deserialize(d)
}

/// How a null value (a tombstone) reads in text: never as an empty string.
pub const TOMBSTONE: &str = "∅ tombstone";

/// A value as text: [`Payload::display`], or [`TOMBSTONE`] for a null one.
pub fn display_value(v: Option<&Payload>) -> String {
    v.map_or_else(|| TOMBSTONE.to_string(), Payload::display)
}

/// A header of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    /// Required; `null` for a null header value (Kafka allows them).
    #[serde(deserialize_with = "nullable")]
    pub value: Option<Payload>,
}

impl Header {
    /// A header with a text value.
    pub fn text(name: &str, value: &str) -> Header {
        Header { name: name.to_string(), value: Some(Payload::text(value)) }
    }

    /// The value as text: [`Payload::display`], or `null`.
    pub fn display(&self) -> String {
        self.value.as_ref().map_or_else(|| "null".to_string(), Payload::display)
    }
}

/// A record read from a topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub topic: String,
    pub partition: u32,
    pub offset: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub key: Option<Payload>,
    /// `None`: a tombstone (`"value": null`).
    #[serde(deserialize_with = "nullable")]
    pub value: Option<Payload>,
    #[serde(default)]
    pub headers: Vec<Header>,
}

impl Message {
    /// Bytes of key, value and headers.
    pub fn size(&self) -> usize {
        self.key.as_ref().map_or(0, |k| k.0.len())
            + self.value.as_ref().map_or(0, |v| v.0.len())
            + self.headers.iter().map(|h| h.name.len() + h.value.as_ref().map_or(0, |v| v.0.len())).sum::<usize>()
    }
}

/// A record to publish.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutRecord {
    #[serde(default)]
    pub key: Option<Payload>,
    /// Required; `null` publishes a tombstone.
    #[serde(deserialize_with = "nullable")]
    pub value: Option<Payload>,
    #[serde(default)]
    pub headers: Vec<Header>,
    /// Explicit partition; else the key's partition (murmur2) or the next one in turn.
    #[serde(default)]
    pub partition: Option<u32>,
}

impl OutRecord {
    pub fn text(value: &str) -> OutRecord {
        OutRecord { value: Some(Payload::text(value)), ..OutRecord::default() }
    }
}

/// An idempotent producer's identity for one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerTag {
    pub id: u64,
    /// Sequence number of the batch's first record (per partition).
    pub sequence: u32,
}

/// A publish request: one or more records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    pub records: Vec<OutRecord>,
    /// Makes the batch idempotent; then every record must name the same partition.
    #[serde(default)]
    pub producer: Option<ProducerTag>,
}

/// The acknowledgement of one published record: it is durable as the engine's sync mode promises.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub topic: String,
    pub partition: u32,
    pub offset: u64,
    /// True when this was a retried batch that was already in the log.
    #[serde(default)]
    pub duplicate: bool,
}

/// Where a peek starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeekFrom {
    Earliest,
    /// The last `n` records of each partition.
    Latest(u64),
    Offset(u64),
    /// Milliseconds since the epoch.
    Time(i64),
}

/// Read records without committing anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeekRequest {
    /// One partition, or all of them (merged by timestamp).
    pub partition: Option<u32>,
    pub from: PeekFrom,
    pub max: usize,
}

/// Pull records as a member of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    pub topic: String,
    #[serde(default = "default_max")]
    pub max: usize,
    /// Commit what was pulled before returning.
    #[serde(default = "default_true")]
    pub commit: bool,
    /// Wait up to this long for records when there are none.
    #[serde(default)]
    pub wait_ms: u64,
}

fn default_max() -> usize {
    10
}
fn default_true() -> bool {
    true
}

/// What a pull got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResult {
    pub group: String,
    pub messages: Vec<Message>,
    /// The offsets that commit what was pulled (committed already when the request said so).
    pub offsets: Vec<CommitOffset>,
    pub committed: bool,
}

/// How a pull of `max` records is shared out over partitions, as a Kafka fetch spreads over the
/// partitions it asks for: every partition with records gets an even share, and what one cannot use
/// (it holds fewer records) goes to the others. `parts` are, per partition, where the pull starts
/// and how many records are there; the answer is how many to take from each, in that order.
///
/// When `max` does not divide evenly, which partitions get one more rotates with where the pull
/// starts (the sum of the start offsets), so successive pulls take turns even when each is a new
/// member in a new process (a one-shot `depot pull`) that remembers nothing of the last.
pub fn fair_shares(max: usize, parts: &[(u64, u64)]) -> Vec<usize> {
    let n = parts.len();
    let mut shares = vec![0usize; n];
    if n == 0 {
        return shares;
    }
    let turn = (parts.iter().fold(0u64, |a, p| a.wrapping_add(p.0)) % n as u64) as usize;
    let order: Vec<usize> = (0..n).map(|i| (turn + i) % n).collect();
    let mut left = max;
    while left > 0 {
        let open: Vec<usize> = order.iter().copied().filter(|&i| (shares[i] as u64) < parts[i].1).collect();
        if open.is_empty() {
            break;
        }
        // An even share of what is left; once that is under one each, one each in turn.
        let each = (left / open.len()).max(1);
        for i in open {
            let room = parts[i].1 - shares[i] as u64;
            let take = (each as u64).min(room).min(left as u64) as usize;
            shares[i] += take;
            left -= take;
            if left == 0 {
                break;
            }
        }
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_text_when_utf8_and_base64_otherwise() {
        let t = serde_json::to_string(&Payload::text("héllo")).unwrap();
        assert_eq!(t, "\"héllo\"");
        let b = serde_json::to_string(&Payload(Bytes::from_static(&[0xff, 0, 1]))).unwrap();
        assert_eq!(b, r#"{"base64":"/wAB"}"#);
        let back: Payload = serde_json::from_str(&b).unwrap();
        assert_eq!(&back.0[..], &[0xff, 0, 1]);
        let err = serde_json::from_str::<Payload>("42").unwrap_err().to_string();
        assert!(err.contains("expected a string"), "{err}");
        assert!(serde_json::from_str::<Payload>(r#"{"base64":"!!"}"#).is_err());
    }

    #[test]
    fn a_null_value_is_a_tombstone_and_a_missing_one_an_error() {
        let t: OutRecord = serde_json::from_str(r#"{"key": "k", "value": null}"#).unwrap();
        assert_eq!((t.key, t.value), (Some(Payload::text("k")), None));
        let err = serde_json::from_str::<OutRecord>(r#"{"key": "k"}"#).unwrap_err().to_string();
        assert!(err.contains("missing field `value`"), "{err}");
        let v: OutRecord = serde_json::from_str(r#"{"value": "v"}"#).unwrap();
        assert_eq!(v.value, Some(Payload::text("v")), "non-null values as before");
        let m = Message {
            topic: "t".into(),
            partition: 0,
            offset: 1,
            timestamp: 2,
            key: Some(Payload::text("k")),
            value: None,
            headers: Vec::new(),
        };
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains(r#""value":null"#), "{json}");
        assert_eq!(serde_json::from_str::<Message>(&json).unwrap(), m);
        assert_eq!(display_value(None), TOMBSTONE);
        let h: Header = serde_json::from_str(r#"{"name": "n", "value": null}"#).unwrap();
        assert_eq!((h.value.clone(), h.display()), (None, "null".to_string()));
        assert_eq!(serde_json::to_string(&h).unwrap(), r#"{"name":"n","value":null}"#);
        assert!(serde_json::from_str::<Header>(r#"{"name": "n"}"#).is_err(), "a header's value is required");
        assert_eq!(display_value(Some(&Payload::text(""))), "", "an empty value is not a tombstone");
    }

    #[test]
    fn a_pull_is_shared_fairly_over_the_partitions_with_records() {
        // 5 over three partitions of 10: 2, 2, 1; the odd one out rotates with the starts.
        assert_eq!(fair_shares(5, &[(0, 10), (0, 10), (0, 10)]), [2, 2, 1]);
        assert_eq!(fair_shares(5, &[(2, 8), (2, 8), (1, 9)]), [2, 1, 2]);
        // What a short partition cannot use goes to the others; empty ones get nothing.
        assert_eq!(fair_shares(10, &[(0, 1), (0, 0), (0, 20)]), [1, 0, 9]);
        assert_eq!(fair_shares(100, &[(0, 3), (0, 4)]), [3, 4], "never more than is there");
        assert_eq!(fair_shares(0, &[(0, 3)]), [0]);
        assert!(fair_shares(5, &[]).is_empty());
        // A pull of one takes turns across successive pulls (each start sum moves by one).
        let mut starts = [0u64; 3];
        let mut served = Vec::new();
        for _ in 0..3 {
            let parts: Vec<(u64, u64)> = starts.iter().map(|&s| (s, 10 - s)).collect();
            let shares = fair_shares(1, &parts);
            let p = shares.iter().position(|&s| s == 1).unwrap();
            starts[p] += 1;
            served.push(p);
        }
        served.sort();
        assert_eq!(served, [0, 1, 2]);
        // Huge counts do not overflow.
        let huge = fair_shares(usize::MAX, &[(u64::MAX, u64::MAX), (u64::MAX, 1)]);
        assert!(huge[0] > 0 && huge[1] == 1, "{huge:?}");
    }
}
