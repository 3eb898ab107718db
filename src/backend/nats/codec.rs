//! JetStream's data in depot's words: names JetStream accepts, a stream's offsets, record keys
//! and headers as NATS headers (one line of text each), and messages read back.

use crate::backend::{BResult, BackendError};
use crate::core::names::validate_name;
use crate::core::{Header, Message, OutRecord, Payload};
use async_nats::jetstream::stream;
use async_nats::{HeaderMap, HeaderName, HeaderValue};
use bytes::Bytes;
use std::str::FromStr;
use std::time::Duration;

/// The header that carries a record's key.
pub const KEY_HEADER: &str = "Depot-Key";
/// Why a topic has one partition, for the shared partition checks' messages.
pub(super) const ONE_PARTITION: &str = "a JetStream stream is one partition";
/// What offsets are on JetStream, for the shared out-of-range message.
pub(super) const OFFSETS_ARE: &str = "offsets are stream sequences";

pub(super) fn ms_of(t: async_nats::datetime::DateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(super) fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

/// A name JetStream accepts in API subjects (streams, consumers).
pub(super) fn check_name(kind: &str, name: &str) -> BResult<()> {
    let bad = |c: char| matches!(c, '.' | '*' | '>' | '/' | '\\') || c.is_whitespace() || c.is_control();
    if name.is_empty() || name.chars().any(bad) {
        return Err(BackendError::BadRequest(format!(
            "{kind} name {name:?} cannot be a JetStream name: use a non-empty name without '.', '*', '>', '/', '\\' or spaces"
        )));
    }
    Ok(())
}

/// A name depot creates: depot's rules, plus JetStream's (no '.').
pub(super) fn check_new_name(kind: &str, name: &str) -> BResult<()> {
    validate_name(kind, name)?;
    check_name(kind, name)
}

/// (log start, end) of a stream: first sequence and last sequence + 1.
pub(super) fn offsets(s: &stream::State) -> (u64, u64) {
    let end = s.last_sequence + 1;
    if s.messages == 0 { (end, end) } else { (s.first_sequence.clamp(1, end), end) }
}

/// Text that survives a NATS header untouched: UTF-8, one line, no spaces at either end.
fn header_text(what: &str, p: &Payload) -> BResult<HeaderValue> {
    let unsupported = |why: &str| {
        BackendError::Unsupported(format!(
            "{what} {why}: NATS headers carry one line of text (trimmed), so it would not arrive as sent; use text without line breaks or surrounding spaces"
        ))
    };
    let Some(t) = p.as_text() else { return Err(unsupported("is binary")) };
    if t.contains(['\r', '\n']) {
        return Err(unsupported("has a line break"));
    }
    if t.trim() != t {
        return Err(unsupported("starts or ends with whitespace"));
    }
    HeaderValue::from_str(t).map_err(|_| unsupported("is not a valid header value"))
}

fn header_name(name: &str) -> BResult<HeaderName> {
    let bad = || {
        BackendError::Unsupported(format!(
            "header name {name:?} cannot be a NATS header name: use printable ASCII without spaces or ':'"
        ))
    };
    if name.is_empty() {
        return Err(bad());
    }
    HeaderName::from_str(name).map_err(|_| bad())
}

/// The NATS headers for a record: its headers, its key in `Depot-Key`, then `extra`.
pub(super) fn record_headers(r: &OutRecord, extra: &[(&str, String)]) -> BResult<Option<HeaderMap>> {
    let mut h = HeaderMap::new();
    for x in &r.headers {
        if x.name.eq_ignore_ascii_case(KEY_HEADER) {
            return Err(BackendError::BadRequest(format!(
                "header name {} is reserved: depot carries the record key in it (set the key instead)",
                x.name
            )));
        }
        h.append(
            header_name(&x.name)?,
            header_text(&format!("the value of header {}", x.name), x.value.as_ref().unwrap_or(&Payload::default()))?,
        );
    }
    if let Some(k) = &r.key {
        h.append(header_name(KEY_HEADER)?, header_text("the key", k)?);
    }
    for (n, v) in extra {
        h.append(header_name(n)?, header_text(&format!("the value of header {n}"), &Payload::text(v))?);
    }
    Ok((!h.is_empty()).then_some(h))
}

/// A message read back: `Depot-Key` becomes the key, other headers sorted by name (async-nats
/// publishes headers from a hash map, so no order between names survives; values of one name
/// keep theirs).
pub(super) fn to_message(
    topic: &str,
    offset: u64,
    timestamp: i64,
    mut headers: Vec<(String, String)>,
    payload: Bytes,
) -> Message {
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut key = None;
    let mut out = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        if name.eq_ignore_ascii_case(KEY_HEADER) {
            key.get_or_insert(Payload::text(&value));
        } else {
            out.push(Header { name, value: Some(Payload::text(&value)) });
        }
    }
    Message {
        topic: topic.to_string(),
        partition: 0,
        offset,
        timestamp,
        key,
        value: Some(Payload(payload)),
        headers: out,
    }
}

pub(super) fn header_pairs(h: Option<&HeaderMap>) -> Vec<(String, String)> {
    let Some(h) = h else { return Vec::new() };
    h.iter().flat_map(|(n, vs)| vs.iter().map(move |v| (n.to_string(), v.as_str().to_string()))).collect()
}

/// A stored header block (`NATS/1.0` line, then `Name: value` lines) as (name, value) pairs, read
/// the way the NATS client reads headers on the wire: values trimmed, continuation lines joined,
/// repeated names kept (async-nats' own parser for stored messages keeps only the last value).
pub(super) fn parse_header_block(block: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(block);
    let mut lines = text.split("\r\n").skip(1).peekable();
    let mut out: Vec<(String, String)> = Vec::new();
    while let Some(line) = lines.next() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let mut value = value.trim_start().to_string();
        while let Some(more) = lines.next_if(|l| l.starts_with(char::is_whitespace)) {
            value.push_str(more);
        }
        value.truncate(value.trim_end().len());
        out.push((name.to_string(), value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_depot_and_jetstream_rules() {
        assert!(check_new_name("topic", "orders_v2-eu").is_ok());
        for bad in ["orders.v2", "a b", "a*", "a>", "", "no/slashes"] {
            let e = check_new_name("topic", bad).unwrap_err();
            assert!(matches!(e, BackendError::BadRequest(_)), "{bad:?}: {e:?}");
        }
        assert!(check_name("topic", "KV_bucket").is_ok());
    }

    #[test]
    fn header_values_must_survive_the_trip() {
        assert!(header_text("v", &Payload::text("plain text")).is_ok());
        for bad in [Payload(Bytes::from_static(&[0xff, 0])), Payload::text("a\nb"), Payload::text(" padded")] {
            assert!(matches!(header_text("v", &bad), Err(BackendError::Unsupported(_))), "{bad:?}");
        }
        let r = OutRecord { headers: vec![Header::text("depot-key", "x")], ..OutRecord::text("v") };
        assert!(matches!(record_headers(&r, &[]), Err(BackendError::BadRequest(_))));
    }

    #[test]
    fn stored_header_blocks_keep_repeated_names() {
        let block = b"NATS/1.0\r\nDepot-Key: k1\r\ntrace: a\r\ntrace:  b \r\nfolded: x\r\n  y\r\n\r\n";
        let pairs = parse_header_block(block);
        let want = [("Depot-Key", "k1"), ("trace", "a"), ("trace", "b"), ("folded", "x  y")];
        assert_eq!(pairs, want.map(|(n, v)| (n.to_string(), v.to_string())));
        let m = to_message("t", 7, 0, pairs, Bytes::from_static(b"v"));
        assert_eq!(m.key, Some(Payload::text("k1")));
        assert_eq!(m.headers.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(), ["folded", "trace", "trace"]);
    }
}
