//! Redis's data in depot's words: stream ids, replies (RESP2 or RESP3), `XINFO` snapshots of a
//! stream, its groups and their consumers, and entries as records (fields `value`, `key`,
//! `h:<name>`).

use super::{LIVE_MS, PULL_CONSUMER};
use crate::core::{Header, Message, OutRecord, Payload};
use ::redis::{Cmd, Value};
use std::collections::HashMap;
use std::fmt;

/// A stream entry id: milliseconds and a sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Sid {
    pub(super) ms: u64,
    pub(super) seq: u64,
}

impl Sid {
    pub(super) const ZERO: Sid = Sid { ms: 0, seq: 0 };

    pub(super) fn parse(b: &[u8]) -> Option<Sid> {
        let s = std::str::from_utf8(b).ok()?;
        let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
        Some(Sid { ms: ms.parse().ok()?, seq: seq.parse().ok()? })
    }

    /// The id just before this one.
    pub(super) fn prev(self) -> Option<Sid> {
        if self.seq > 0 {
            Some(Sid { ms: self.ms, seq: self.seq - 1 })
        } else if self.ms > 0 {
            Some(Sid { ms: self.ms - 1, seq: u64::MAX })
        } else {
            None
        }
    }
}
impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One stream entry; `fields` is `None` for a pending entry whose data was trimmed or deleted.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub(super) id: Sid,
    pub(super) fields: Option<Vec<(Vec<u8>, Vec<u8>)>>,
}

pub(super) fn vbytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        Value::VerbatimString { text, .. } => Some(text.as_bytes()),
        _ => None,
    }
}

pub(super) fn vtext(v: &Value) -> Option<String> {
    vbytes(v).map(|b| String::from_utf8_lossy(b).into_owned())
}

pub(super) fn vint(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Double(d) => Some(*d as i64),
        _ => vbytes(v).and_then(|b| std::str::from_utf8(b).ok()?.trim().parse().ok()),
    }
}

pub(super) fn vu64(v: &Value) -> Option<u64> {
    vint(v).and_then(|i| u64::try_from(i).ok())
}

pub(super) fn vseq(v: &Value) -> &[Value] {
    v.as_sequence().unwrap_or(&[])
}

pub(super) fn vsid(v: &Value) -> Option<Sid> {
    vbytes(v).and_then(Sid::parse)
}

/// A reply of alternating names and values (RESP2) or a map (RESP3), by name.
pub(super) fn vmap(v: &Value) -> HashMap<String, &Value> {
    let mut m = HashMap::new();
    if let Some(it) = v.as_map_iter() {
        for (k, val) in it {
            if let Some(k) = vtext(k) {
                m.insert(k, val);
            }
        }
    }
    m
}

pub(super) fn get_u64(m: &HashMap<String, &Value>, k: &str) -> Option<u64> {
    m.get(k).and_then(|v| vu64(v))
}

pub(super) fn parse_entries(v: &Value) -> Vec<Entry> {
    let mut out = Vec::new();
    for item in vseq(v) {
        let parts = vseq(item);
        let Some(id) = parts.first().and_then(vsid) else { continue };
        let fields = match parts.get(1) {
            None | Some(Value::Nil) => None,
            Some(f) => Some(
                f.as_map_iter()
                    .map(|it| {
                        it.map(|(k, v)| {
                            (vbytes(k).unwrap_or_default().to_vec(), vbytes(v).unwrap_or_default().to_vec())
                        })
                        .collect()
                    })
                    .unwrap_or_default(),
            ),
        };
        out.push(Entry { id, fields });
    }
    out
}

/// The entries of the (single) stream in an `XREAD`/`XREADGROUP` reply.
pub(super) fn xread_entries(v: &Value) -> Vec<Entry> {
    match v {
        Value::Map(items) => items.first().map(|(_, e)| parse_entries(e)).unwrap_or_default(),
        Value::Array(items) => items.first().and_then(|s| vseq(s).get(1)).map(parse_entries).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// `XINFO STREAM`, the parts depot uses.
#[derive(Clone, Debug, Default)]
pub(super) struct Snap {
    pub(super) length: u64,
    pub(super) added: u64,
    pub(super) last_generated: Sid,
    pub(super) max_deleted: Sid,
    pub(super) first: Option<Sid>,
    pub(super) last: Option<Sid>,
    pub(super) nodes: u64,
}

impl Snap {
    pub(super) fn parse(v: &Value) -> Snap {
        let m = vmap(v);
        let length = get_u64(&m, "length").unwrap_or(0);
        Snap {
            length,
            added: get_u64(&m, "entries-added").unwrap_or(length).max(length),
            last_generated: m.get("last-generated-id").and_then(|v| vsid(v)).unwrap_or_default(),
            max_deleted: m.get("max-deleted-entry-id").and_then(|v| vsid(v)).unwrap_or_default(),
            first: m.get("first-entry").and_then(|e| vseq(e).first()).and_then(vsid),
            last: m.get("last-entry").and_then(|e| vseq(e).first()).and_then(vsid),
            nodes: get_u64(&m, "radix-tree-keys").unwrap_or(0),
        }
    }

    pub(super) fn start(&self) -> u64 {
        self.added - self.length
    }

    pub(super) fn end(&self) -> u64 {
        self.added
    }

    /// Entries were deleted (`XDEL`) between the first and the last entry.
    pub(super) fn holes(&self) -> bool {
        self.max_deleted != Sid::ZERO && self.first.is_some_and(|f| self.max_deleted > f)
    }
}

#[derive(Clone, Debug)]
pub(super) struct GroupRow {
    pub(super) name: String,
    pub(super) pending: u64,
    pub(super) ldi: Sid,
    pub(super) entries_read: Option<u64>,
    pub(super) lag: Option<u64>,
}

/// The rows of an `XINFO GROUPS`/`CONSUMERS` reply, each read by name with `row`.
fn rows<T>(v: &Value, row: impl Fn(&HashMap<String, &Value>) -> Option<T>) -> Vec<T> {
    vseq(v).iter().filter_map(|r| row(&vmap(r))).collect()
}

pub(super) fn parse_groups(v: &Value) -> Vec<GroupRow> {
    rows(v, |m| {
        Some(GroupRow {
            name: m.get("name").and_then(|v| vtext(v))?,
            pending: get_u64(m, "pending").unwrap_or(0),
            ldi: m.get("last-delivered-id").and_then(|v| vsid(v)).unwrap_or_default(),
            entries_read: get_u64(m, "entries-read"),
            lag: get_u64(m, "lag"),
        })
    })
}

/// One row of `XINFO CONSUMERS`.
#[derive(Clone, Debug)]
pub(super) struct Consumer {
    pub(super) name: String,
    pub(super) pending: u64,
    pub(super) idle_ms: u64,
}

impl Consumer {
    pub(super) fn live(&self) -> bool {
        self.name != PULL_CONSUMER && self.idle_ms < LIVE_MS
    }
}

pub(super) fn parse_consumers(v: &Value) -> Vec<Consumer> {
    rows(v, |m| {
        Some(Consumer {
            name: m.get("name").and_then(|v| vtext(v))?,
            pending: get_u64(m, "pending").unwrap_or(0),
            idle_ms: get_u64(m, "idle").unwrap_or(u64::MAX),
        })
    })
}

/// A record of a stream entry.
pub(super) fn to_message(topic: &str, offset: u64, e: &Entry) -> Message {
    let mut key = None;
    let mut value = None;
    let mut headers = Vec::new();
    for (f, v) in e.fields.iter().flatten() {
        let payload = Payload(bytes::Bytes::copy_from_slice(v));
        match f.as_slice() {
            b"value" if value.is_none() => value = Some(payload),
            b"key" if key.is_none() => key = Some(payload),
            _ => {
                let name = f.strip_prefix(b"h:").unwrap_or(f);
                headers.push(Header { name: String::from_utf8_lossy(name).into_owned(), value: Some(payload) });
            }
        }
    }
    Message {
        topic: topic.to_string(),
        partition: 0,
        offset,
        timestamp: i64::try_from(e.id.ms).unwrap_or(i64::MAX),
        key,
        // A Redis entry always has a value (an empty one at the least).
        value: Some(value.unwrap_or_default()),
        headers,
    }
}

/// The fields of an entry for a record.
pub(super) fn to_fields(r: &OutRecord) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut f = Vec::with_capacity(2 + r.headers.len());
    if let Some(k) = &r.key {
        f.push((b"key".to_vec(), k.0.to_vec()));
    }
    // The publish path refuses a null value (support::no_tombstones) before records get here.
    f.push((b"value".to_vec(), r.value.as_ref().map(|v| v.0.to_vec()).unwrap_or_default()));
    f.extend(r.headers.iter().map(header_field));
    f
}

/// The field of a header: `h:<name>`.
pub(super) fn header_field(h: &Header) -> (Vec<u8>, Vec<u8>) {
    (format!("h:{}", h.name).into_bytes(), h.value.as_ref().map(|v| v.0.to_vec()).unwrap_or_default())
}

pub(super) fn xadd(key: &str, fields: &[(Vec<u8>, Vec<u8>)]) -> Cmd {
    let mut c = ::redis::cmd("XADD");
    c.arg(key).arg("NOMKSTREAM").arg("*");
    for (k, v) in fields {
        c.arg(&k[..]).arg(&v[..]);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_order_and_step_back() {
        let a = Sid::parse(b"1700000000000-3").unwrap();
        assert_eq!(a.to_string(), "1700000000000-3");
        assert_eq!(a.prev().unwrap().to_string(), "1700000000000-2");
        assert_eq!(Sid { ms: 5, seq: 0 }.prev().unwrap(), Sid { ms: 4, seq: u64::MAX });
        assert_eq!(Sid::ZERO.prev(), None);
        assert!(Sid::parse(b"2-0").unwrap() > Sid::parse(b"1-99").unwrap());
        assert_eq!(Sid::parse(b"12").unwrap(), Sid { ms: 12, seq: 0 });
        assert!(Sid::parse(b"x-1").is_none());
    }

    #[test]
    fn entries_become_messages_with_key_value_and_headers() {
        let e = Entry {
            id: Sid { ms: 42, seq: 0 },
            fields: Some(vec![
                (b"key".to_vec(), b"k".to_vec()),
                (b"value".to_vec(), vec![0, 255]),
                (b"h:trace".to_vec(), b"t".to_vec()),
                (b"temp".to_vec(), b"21".to_vec()),
            ]),
        };
        let m = to_message("s", 7, &e);
        assert_eq!((m.offset, m.timestamp), (7, 42));
        assert_eq!(m.key, Some(Payload::text("k")));
        assert_eq!(m.value.as_ref().map(|v| &v.0[..]), Some(&[0u8, 255][..]));
        let names: Vec<&str> = m.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["trace", "temp"]);
    }
}
