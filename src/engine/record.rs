//! Records and the on-disk batch format.
//!
//! A batch is one frame: `len u32 | crc32c u32 | body`, where `len` counts the crc and the body and
//! the CRC32C covers the body. The body is a fixed header followed by the records. Version 2
//! (magic 0xD2) is what the engine writes:
//!
//! ```text
//! magic u8 | attrs u8 | count u32 | base_offset u64 | timestamp i64 | producer_id u64 | base_seq u32
//!   | base_ts i64 | max_ts i64
//! record*: varint(key_len + 1, 0 = no key) key | varint(ts, see below)
//!   | varint(value_len + 1, 0 = null) value
//!   | varint(n_headers) (varint name_len name varint(len + 1, 0 = null) value)*
//! ```
//! `timestamp` is the append time (the engine's clock, never going back). A record's own
//! timestamp is `0` for "the append time", else `zigzag(ts - base_ts) + 1` (a client's timestamps
//! can go backwards); `base_ts` is the first record's own timestamp. `attrs` bit 0 says the
//! records carry their clients' timestamps (Kafka's CreateTime) rather than the append time (no
//! other bit is set). `max_ts` is the largest of the append time and every record's timestamp:
//! the time index and retention read it, so both need no record decoded — retention deletes a
//! segment once its largest timestamp is older than the limit (Kafka's rule for CreateTime
//! topics); as `max_ts` is never below the append time, a segment is never deleted before its
//! records are that old by the append time, and the engine refuses timestamps more than
//! [`MAX_AHEAD_MS`] ahead of the append time (Kafka 4's `message.timestamp.after.max.ms`), so a
//! client's clock cannot keep a segment for ever. A null value is a tombstone.
//!
//! Version 1 (magic 0xD1, written by depot before 2026-12) is still read everywhere: the same
//! header without `base_ts` and `max_ts`, `attrs` 0, and records without a timestamp (each has
//! the batch's append time), a value that cannot be null (`varint(value_len)`) and header values
//! likewise.
//!
//! All integers are little endian; every record takes the next offset after the previous one
//! (offsets are dense).

use bytes::Bytes;

/// Magic byte of version 2 of the batch format, the one written.
pub const MAGIC: u8 = 0xD2;
/// Magic byte of version 1, still read.
pub const MAGIC_V1: u8 = 0xD1;
/// Bytes before the body: length and CRC.
pub const FRAME_PREFIX: usize = 8;
/// Bytes of version 1's fixed body header.
const BODY_HEADER_V1: usize = 1 + 1 + 4 + 8 + 8 + 8 + 4;
/// Whole batch header of version 1: the shortest header a frame can have.
pub const BATCH_HEADER_V1: usize = FRAME_PREFIX + BODY_HEADER_V1;
/// Whole batch header of version 2: the longest.
pub const BATCH_HEADER: usize = BATCH_HEADER_V1 + 8 + 8;
/// Upper bound for one batch on disk, so a damaged length field cannot make us allocate gigabytes.
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;
/// How far ahead of the append time a record's own timestamp may be (one hour, Kafka 4's default
/// `message.timestamp.after.max.ms`).
pub const MAX_AHEAD_MS: i64 = 3_600_000;
/// `attrs` bit: the records carry their clients' timestamps (CreateTime).
const ATTR_CREATE_TIME: u8 = 1;

/// A header as stored: a UTF-8 name and a value that may be null (Kafka allows it).
pub type RecordHeader = (String, Option<Bytes>);

/// A record as stored: dense offset, timestamp (ms since the epoch), optional key, a value that
/// is null for a tombstone, and headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub offset: u64,
    /// The record's own timestamp: its client's (`create_time`) or the append time.
    pub timestamp: i64,
    /// The batch says its records carry their clients' timestamps (Kafka's CreateTime).
    pub create_time: bool,
    pub key: Option<Bytes>,
    /// `None`: a tombstone.
    pub value: Option<Bytes>,
    pub headers: Vec<RecordHeader>,
}

impl Record {
    /// Bytes this record takes in a batch (its share of the payload, without the batch header;
    /// the timestamp counted as one byte).
    pub fn encoded_len(&self) -> usize {
        encoded_len(self.key.as_deref(), self.value.as_deref(), &self.headers) + 1
    }
}

/// A record to append: the engine assigns the offset, and the timestamp when it has none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewRecord {
    pub key: Option<Bytes>,
    /// `None`: a tombstone.
    pub value: Option<Bytes>,
    pub headers: Vec<RecordHeader>,
    /// The client's timestamp (ms since the epoch, not negative, at most [`MAX_AHEAD_MS`] ahead
    /// of the append time); `None` takes the append time.
    pub timestamp: Option<i64>,
}

impl NewRecord {
    /// A record with just a value.
    pub fn value(value: impl Into<Bytes>) -> Self {
        NewRecord { value: Some(value.into()), ..NewRecord::default() }
    }

    /// A record with a key and a value.
    pub fn keyed(key: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        NewRecord { key: Some(key.into()), value: Some(value.into()), ..NewRecord::default() }
    }

    /// A tombstone: a key and a null value.
    pub fn tombstone(key: impl Into<Bytes>) -> Self {
        NewRecord { key: Some(key.into()), ..NewRecord::default() }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.push((name.into(), Some(value.into())));
        self
    }

    /// Sets the record's own timestamp.
    pub fn at(mut self, timestamp: i64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }
}

/// The decoded fixed header of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    /// Length of the whole frame, prefix included.
    pub frame_len: usize,
    /// 1 or 2.
    pub version: u8,
    pub crc: u32,
    pub count: u32,
    pub base_offset: u64,
    /// The append time.
    pub timestamp: i64,
    /// The largest of the append time and the records' timestamps (version 1: the append time).
    pub max_ts: i64,
    /// The records carry their clients' timestamps.
    pub create_time: bool,
    /// Base of the records' timestamp deltas (version 2).
    base_ts: i64,
    /// 0 when the batch was not sent by an idempotent producer.
    pub producer_id: u64,
    pub base_seq: u32,
}

impl BatchHeader {
    /// Offset after the last record of this batch.
    pub fn next_offset(&self) -> u64 {
        self.base_offset + u64::from(self.count)
    }

    /// Where the records start in the frame.
    fn header_len(&self) -> usize {
        if self.version == 1 { BATCH_HEADER_V1 } else { BATCH_HEADER }
    }
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

pub(super) fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Reads a varint at `*pos`, advancing it. `None` when truncated or longer than 10 bytes.
fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    let mut shift = 0;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if shift >= 64 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// A nullable length as stored: `len + 1`, 0 for null.
fn nullable_len(b: Option<&[u8]>) -> u64 {
    b.map_or(0, |b| b.len() as u64 + 1)
}

fn nullable_size(b: Option<&[u8]>) -> usize {
    varint_len(nullable_len(b)) + b.map_or(0, <[u8]>::len)
}

/// Bytes of a record without its timestamp.
fn encoded_len(key: Option<&[u8]>, value: Option<&[u8]>, headers: &[RecordHeader]) -> usize {
    let mut n = nullable_size(key) + nullable_size(value) + varint_len(headers.len() as u64);
    for (name, v) in headers {
        n += varint_len(name.len() as u64) + name.len() + nullable_size(v.as_deref());
    }
    n
}

/// The base of a batch's timestamp deltas: the first record's own timestamp.
fn base_ts(records: &[NewRecord]) -> i64 {
    records.iter().find_map(|r| r.timestamp).unwrap_or(0)
}

/// A record's timestamp as stored (see the module's doc).
fn stored_ts(ts: Option<i64>, base: i64) -> u64 {
    ts.map_or(0, |t| zigzag(t.wrapping_sub(base)).saturating_add(1))
}

/// Size of the frame `encode_batch` would produce for these records.
pub fn batch_size(records: &[NewRecord]) -> usize {
    let base = base_ts(records);
    BATCH_HEADER
        + records
            .iter()
            .map(|r| {
                encoded_len(r.key.as_deref(), r.value.as_deref(), &r.headers) + varint_len(stored_ts(r.timestamp, base))
            })
            .sum::<usize>()
}

/// Encodes `records` as one version 2 frame appended to `buf`, with append time `timestamp`.
pub fn encode_batch(
    buf: &mut Vec<u8>,
    records: &[NewRecord],
    base_offset: u64,
    timestamp: i64,
    producer: Option<(u64, u32)>,
) {
    let start = buf.len();
    let base = base_ts(records);
    let create_time = records.iter().any(|r| r.timestamp.is_some());
    let max_ts = records.iter().filter_map(|r| r.timestamp).fold(timestamp, i64::max);
    buf.reserve(batch_size(records));
    buf.extend_from_slice(&[0u8; FRAME_PREFIX]);
    buf.push(MAGIC);
    buf.push(if create_time { ATTR_CREATE_TIME } else { 0 });
    buf.extend_from_slice(&(records.len() as u32).to_le_bytes());
    buf.extend_from_slice(&base_offset.to_le_bytes());
    buf.extend_from_slice(&timestamp.to_le_bytes());
    let (pid, seq) = producer.unwrap_or((0, 0));
    buf.extend_from_slice(&pid.to_le_bytes());
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.extend_from_slice(&base.to_le_bytes());
    buf.extend_from_slice(&max_ts.to_le_bytes());
    for r in records {
        put_nullable(buf, r.key.as_deref());
        put_varint(buf, stored_ts(r.timestamp, base));
        put_nullable(buf, r.value.as_deref());
        put_varint(buf, r.headers.len() as u64);
        for (name, v) in &r.headers {
            put_varint(buf, name.len() as u64);
            buf.extend_from_slice(name.as_bytes());
            put_nullable(buf, v.as_deref());
        }
    }
    finish_frame(buf, start);
}

fn put_nullable(buf: &mut Vec<u8>, b: Option<&[u8]>) {
    put_varint(buf, nullable_len(b));
    if let Some(b) = b {
        buf.extend_from_slice(b);
    }
}

/// Writes the length and CRC of the frame that starts at `start` and runs to the end of `buf`.
pub(super) fn finish_frame(buf: &mut [u8], start: usize) {
    let len = (buf.len() - start - 4) as u32;
    let crc = crc32c::crc32c(&buf[start + FRAME_PREFIX..]);
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Why a frame could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Fewer bytes than the header or the declared length: a torn write at the end of a file.
    Truncated,
    /// The header makes no sense (bad magic, impossible length).
    BadHeader(String),
    /// The body does not match its CRC32C.
    BadCrc,
    /// CRC fine but the records do not decode.
    BadRecords(String),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Truncated => write!(f, "batch is cut short (torn write)"),
            FrameError::BadHeader(s) => write!(f, "batch header is invalid: {s}"),
            FrameError::BadCrc => write!(f, "batch fails its CRC32C check"),
            FrameError::BadRecords(s) => write!(f, "records do not decode: {s}"),
        }
    }
}

/// Whether `b` is the magic byte of a batch format depot reads.
pub fn is_magic(b: u8) -> bool {
    b == MAGIC || b == MAGIC_V1
}

/// Parses the fixed header (of either version) at the start of `buf` without checking the CRC.
pub fn parse_header(buf: &[u8]) -> Result<BatchHeader, FrameError> {
    if buf.len() < BATCH_HEADER_V1 {
        return Err(FrameError::Truncated);
    }
    let version = match buf[8] {
        MAGIC_V1 => 1,
        MAGIC => 2,
        m => return Err(FrameError::BadHeader(format!("magic byte {m:#04x}"))),
    };
    let header_len = if version == 1 { BATCH_HEADER_V1 } else { BATCH_HEADER };
    let len = u32_at(buf, 0) as usize;
    if len < header_len - 4 || len + 4 > MAX_BATCH_BYTES {
        return Err(FrameError::BadHeader(format!("length {len}")));
    }
    if buf.len() < header_len {
        return Err(FrameError::Truncated);
    }
    let count = u32_at(buf, 10);
    if count == 0 {
        return Err(FrameError::BadHeader("zero records".into()));
    }
    let base_offset = u64_at(buf, 14);
    if base_offset.checked_add(u64::from(count)).is_none() {
        return Err(FrameError::BadHeader(format!("offsets {base_offset} + {count} pass the largest offset")));
    }
    let timestamp = u64_at(buf, 22) as i64;
    let (create_time, base_ts, max_ts) = if version == 1 {
        (false, timestamp, timestamp)
    } else {
        let attrs = buf[9];
        if attrs & !ATTR_CREATE_TIME != 0 {
            return Err(FrameError::BadHeader(format!("attributes {attrs:#04x}")));
        }
        let max_ts = u64_at(buf, 50) as i64;
        if max_ts < timestamp {
            return Err(FrameError::BadHeader(format!(
                "largest timestamp {max_ts} is before the append time {timestamp}"
            )));
        }
        (attrs & ATTR_CREATE_TIME != 0, u64_at(buf, 42) as i64, max_ts)
    };
    Ok(BatchHeader {
        frame_len: len + 4,
        version,
        crc: u32_at(buf, 4),
        count,
        base_offset,
        timestamp,
        max_ts,
        create_time,
        base_ts,
        producer_id: u64_at(buf, 30),
        base_seq: u32_at(buf, 38),
    })
}

/// Parses and CRC-checks the frame at the start of `buf`.
pub fn check_frame(buf: &[u8]) -> Result<BatchHeader, FrameError> {
    let h = parse_header(buf)?;
    if buf.len() < h.frame_len {
        return Err(FrameError::Truncated);
    }
    if crc32c::crc32c(&buf[FRAME_PREFIX..h.frame_len]) != h.crc {
        return Err(FrameError::BadCrc);
    }
    Ok(h)
}

/// The next `len` bytes of `buf` from `*pos` (advancing it), `None` when fewer are left: lengths
/// come from the file, so no sum of them may overflow.
fn span(buf: &[u8], pos: &mut usize, len: u64) -> Option<(usize, usize)> {
    let len = usize::try_from(len).ok()?;
    let start = *pos;
    let end = start.checked_add(len).filter(|&e| e <= buf.len())?;
    *pos = end;
    Some((start, end))
}

/// Reads a length-prefixed field: `nullable` ones store `len + 1` with 0 for null.
fn field(buf: &[u8], pos: &mut usize, nullable: bool) -> Option<Option<(usize, usize)>> {
    let n = get_varint(buf, pos)?;
    let len = if nullable {
        match n.checked_sub(1) {
            None => return Some(None),
            Some(l) => l,
        }
    } else {
        n
    };
    span(buf, pos, len).map(Some)
}

/// Decodes the records of a CRC-checked frame (`frame` is exactly one frame), keeping those with
/// `offset >= from` and pushing at most `max` of them. Values are zero-copy slices of `frame`.
pub fn decode_records(
    frame: &Bytes,
    h: &BatchHeader,
    from: u64,
    max: usize,
    out: &mut Vec<Record>,
) -> Result<(), FrameError> {
    let buf = &frame[..];
    let v2 = h.version == 2;
    let mut pos = h.header_len();
    let bad = |what: &str| FrameError::BadRecords(what.to_string());
    let slice = |s: Option<(usize, usize)>| s.map(|(a, b)| frame.slice(a..b));
    let mut pushed = 0;
    for i in 0..u64::from(h.count) {
        // parse_header refused a batch whose offsets pass u64::MAX.
        let offset = h.base_offset.saturating_add(i);
        let key = field(buf, &mut pos, true).ok_or_else(|| bad("key"))?;
        let timestamp = if v2 { record_ts(h, get_varint(buf, &mut pos))? } else { h.timestamp };
        let value = field(buf, &mut pos, v2).ok_or_else(|| bad("value"))?;
        let nh = get_varint(buf, &mut pos).ok_or_else(|| bad("header count"))?;
        let keep = offset >= from && pushed < max;
        let mut headers = Vec::new();
        for _ in 0..nh {
            let name = field(buf, &mut pos, false).flatten().ok_or_else(|| bad("header name"))?;
            let name = std::str::from_utf8(&buf[name.0..name.1]).map_err(|_| bad("header name is not UTF-8"))?;
            let v = field(buf, &mut pos, v2).ok_or_else(|| bad("header value"))?;
            if keep {
                headers.push((name.to_string(), slice(v)));
            }
        }
        if keep {
            out.push(Record {
                offset,
                timestamp,
                create_time: h.create_time,
                key: slice(key),
                value: slice(value),
                headers,
            });
            pushed += 1;
        }
    }
    if pos != h.frame_len {
        return Err(bad("trailing bytes after the last record"));
    }
    Ok(())
}

/// A version 2 record's timestamp from its stored form; it may not pass the batch's `max_ts`.
fn record_ts(h: &BatchHeader, stored: Option<u64>) -> Result<i64, FrameError> {
    let bad = |what: String| FrameError::BadRecords(what);
    let ts = match stored.ok_or_else(|| bad("timestamp".into()))? {
        0 => h.timestamp,
        n => h.base_ts.wrapping_add(unzigzag(n - 1)),
    };
    if ts > h.max_ts {
        return Err(bad(format!("a record's timestamp {ts} passes the batch's largest {}", h.max_ts)));
    }
    Ok(ts)
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "record_v1.rs"]
pub mod v1;
