//! Records and the on-disk batch format.
//!
//! A batch is one frame: `len u32 | crc32c u32 | body`, where `len` counts the crc and the body and
//! the CRC32C covers the body. The body is a fixed header followed by the records:
//!
//! ```text
//! magic u8 | attrs u8 | count u32 | base_offset u64 | timestamp i64 | producer_id u64 | base_seq u32
//! record*: varint(key_len + 1, 0 = no key) key | varint(value_len) value | varint(n_headers) (varint name_len name varint len value)*
//! ```
//! All integers are little endian; every record of a batch shares the batch's append timestamp and
//! takes the next offset after the previous record (offsets are dense).

use bytes::Bytes;

/// Magic byte identifying version 1 of the batch format.
pub const MAGIC: u8 = 0xD1;
/// Bytes before the body: length and CRC.
pub const FRAME_PREFIX: usize = 8;
/// Bytes of the fixed body header.
pub const BODY_HEADER: usize = 1 + 1 + 4 + 8 + 8 + 8 + 4;
/// Whole batch header.
pub const BATCH_HEADER: usize = FRAME_PREFIX + BODY_HEADER;
/// Upper bound for one batch on disk, so a damaged length field cannot make us allocate gigabytes.
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// A record as stored: dense offset, append timestamp (ms since the epoch), optional key, value and headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub offset: u64,
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Bytes,
    pub headers: Vec<(String, Bytes)>,
}

impl Record {
    /// Bytes this record takes in a batch (its share of the payload, without the batch header).
    pub fn encoded_len(&self) -> usize {
        encoded_len(self.key.as_deref(), &self.value, &self.headers)
    }
}

/// A record to append: the engine assigns offset and timestamp.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewRecord {
    pub key: Option<Bytes>,
    pub value: Bytes,
    pub headers: Vec<(String, Bytes)>,
}

impl NewRecord {
    /// A record with just a value.
    pub fn value(value: impl Into<Bytes>) -> Self {
        NewRecord { key: None, value: value.into(), headers: Vec::new() }
    }

    /// A record with a key and a value.
    pub fn keyed(key: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        NewRecord { key: Some(key.into()), value: value.into(), headers: Vec::new() }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The decoded fixed header of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    /// Length of the whole frame, prefix included.
    pub frame_len: usize,
    pub crc: u32,
    pub count: u32,
    pub base_offset: u64,
    pub timestamp: i64,
    /// 0 when the batch was not sent by an idempotent producer.
    pub producer_id: u64,
    pub base_seq: u32,
}

impl BatchHeader {
    /// Offset after the last record of this batch.
    pub fn next_offset(&self) -> u64 {
        self.base_offset + u64::from(self.count)
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

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
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

fn encoded_len(key: Option<&[u8]>, value: &[u8], headers: &[(String, Bytes)]) -> usize {
    let mut n = match key {
        Some(k) => varint_len(k.len() as u64 + 1) + k.len(),
        None => 1,
    };
    n += varint_len(value.len() as u64) + value.len();
    n += varint_len(headers.len() as u64);
    for (name, v) in headers {
        n += varint_len(name.len() as u64) + name.len() + varint_len(v.len() as u64) + v.len();
    }
    n
}

/// Size of the frame `encode_batch` would produce for these records.
pub fn batch_size(records: &[NewRecord]) -> usize {
    BATCH_HEADER + records.iter().map(|r| encoded_len(r.key.as_deref(), &r.value, &r.headers)).sum::<usize>()
}

/// Encodes `records` as one frame appended to `buf`.
pub fn encode_batch(
    buf: &mut Vec<u8>,
    records: &[NewRecord],
    base_offset: u64,
    timestamp: i64,
    producer: Option<(u64, u32)>,
) {
    let start = buf.len();
    buf.reserve(batch_size(records));
    buf.extend_from_slice(&[0u8; FRAME_PREFIX]);
    buf.push(MAGIC);
    buf.push(0);
    buf.extend_from_slice(&(records.len() as u32).to_le_bytes());
    buf.extend_from_slice(&base_offset.to_le_bytes());
    buf.extend_from_slice(&timestamp.to_le_bytes());
    let (pid, seq) = producer.unwrap_or((0, 0));
    buf.extend_from_slice(&pid.to_le_bytes());
    buf.extend_from_slice(&seq.to_le_bytes());
    for r in records {
        match &r.key {
            Some(k) => {
                put_varint(buf, k.len() as u64 + 1);
                buf.extend_from_slice(k);
            }
            None => buf.push(0),
        }
        put_varint(buf, r.value.len() as u64);
        buf.extend_from_slice(&r.value);
        put_varint(buf, r.headers.len() as u64);
        for (name, v) in &r.headers {
            put_varint(buf, name.len() as u64);
            buf.extend_from_slice(name.as_bytes());
            put_varint(buf, v.len() as u64);
            buf.extend_from_slice(v);
        }
    }
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

/// Parses the fixed header at the start of `buf` without checking the CRC.
pub fn parse_header(buf: &[u8]) -> Result<BatchHeader, FrameError> {
    if buf.len() < BATCH_HEADER {
        return Err(FrameError::Truncated);
    }
    let len = u32_at(buf, 0) as usize;
    if len < BATCH_HEADER - 4 || len + 4 > MAX_BATCH_BYTES {
        return Err(FrameError::BadHeader(format!("length {len}")));
    }
    if buf[8] != MAGIC {
        return Err(FrameError::BadHeader(format!("magic byte {:#04x}", buf[8])));
    }
    let count = u32_at(buf, 10);
    if count == 0 {
        return Err(FrameError::BadHeader("zero records".into()));
    }
    let base_offset = u64_at(buf, 14);
    if base_offset.checked_add(u64::from(count)).is_none() {
        return Err(FrameError::BadHeader(format!("offsets {base_offset} + {count} pass the largest offset")));
    }
    Ok(BatchHeader {
        frame_len: len + 4,
        crc: u32_at(buf, 4),
        count,
        base_offset,
        timestamp: u64_at(buf, 22) as i64,
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
    let mut pos = BATCH_HEADER;
    let bad = |what: &str| FrameError::BadRecords(what.to_string());
    let mut pushed = 0;
    for i in 0..u64::from(h.count) {
        // parse_header refused a batch whose offsets pass u64::MAX.
        let offset = h.base_offset.saturating_add(i);
        let klen = get_varint(buf, &mut pos).ok_or_else(|| bad("key length"))?;
        let key = match klen.checked_sub(1) {
            None => None,
            Some(k) => Some(span(buf, &mut pos, k).ok_or_else(|| bad("key"))?),
        };
        let vlen = get_varint(buf, &mut pos).ok_or_else(|| bad("value length"))?;
        let (vstart, vend) = span(buf, &mut pos, vlen).ok_or_else(|| bad("value"))?;
        let nh = get_varint(buf, &mut pos).ok_or_else(|| bad("header count"))?;
        let mut headers = Vec::new();
        for _ in 0..nh {
            let nl = get_varint(buf, &mut pos).ok_or_else(|| bad("header name length"))?;
            let (a, b) = span(buf, &mut pos, nl).ok_or_else(|| bad("header name"))?;
            let name = std::str::from_utf8(&buf[a..b]).map_err(|_| bad("header name is not UTF-8"))?;
            let hl = get_varint(buf, &mut pos).ok_or_else(|| bad("header value length"))?;
            let (a, b) = span(buf, &mut pos, hl).ok_or_else(|| bad("header value"))?;
            if offset >= from {
                headers.push((name.to_string(), frame.slice(a..b)));
            }
        }
        if offset >= from && pushed < max {
            out.push(Record {
                offset,
                timestamp: h.timestamp,
                key: key.map(|(a, b)| frame.slice(a..b)),
                value: frame.slice(vstart..vend),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_roundtrips_keys_values_and_headers() {
        let recs = vec![
            NewRecord::keyed("k1", "v1").with_header("h", "x"),
            NewRecord::value(vec![0u8, 255, 7]),
            NewRecord::keyed("", ""),
        ];
        let mut buf = Vec::new();
        encode_batch(&mut buf, &recs, 40, 1234, Some((9, 3)));
        assert_eq!(buf.len(), batch_size(&recs));
        let frame = Bytes::from(buf);
        let h = check_frame(&frame).unwrap();
        assert_eq!((h.base_offset, h.count, h.timestamp, h.producer_id, h.base_seq), (40, 3, 1234, 9, 3));
        let mut out = Vec::new();
        decode_records(&frame, &h, 41, 10, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].offset, 41);
        assert_eq!(out[0].key, None);
        assert_eq!(&out[0].value[..], &[0u8, 255, 7]);
        assert_eq!(out[1].key.as_deref(), Some(&b""[..]));
        let mut all = Vec::new();
        decode_records(&frame, &h, 0, 10, &mut all).unwrap();
        assert_eq!(all[0].headers, vec![("h".to_string(), Bytes::from("x"))]);
    }

    #[test]
    fn any_flipped_bit_is_detected() {
        let mut buf = Vec::new();
        encode_batch(&mut buf, &[NewRecord::value("hello world")], 0, 1, None);
        for byte in 0..buf.len() {
            let mut b = buf.clone();
            b[byte] ^= 0x10;
            assert!(check_frame(&b).is_err(), "flip at byte {byte} went unnoticed");
        }
        assert_eq!(check_frame(&buf[..buf.len() - 1]), Err(FrameError::Truncated));
    }

    /// Re-frames `buf` (an encoded batch edited after encoding) with a correct length and CRC,
    /// as a crafted file or a damaged one with a matching checksum would have.
    fn reframe(mut buf: Vec<u8>) -> Vec<u8> {
        let len = (buf.len() - 4) as u32;
        buf[0..4].copy_from_slice(&len.to_le_bytes());
        let crc = crc32c::crc32c(&buf[FRAME_PREFIX..]);
        buf[4..8].copy_from_slice(&crc.to_le_bytes());
        buf
    }

    #[test]
    fn crafted_frames_with_a_good_crc_are_refused_without_a_panic() {
        // Found by the batch_decode fuzz target: offsets past u64::MAX.
        let mut buf = Vec::new();
        encode_batch(&mut buf, &[NewRecord::value("a"), NewRecord::value("b")], u64::MAX - 1, 1, None);
        let e = check_frame(&reframe(buf)).unwrap_err();
        assert!(matches!(e, FrameError::BadHeader(ref s) if s.contains("largest offset")), "{e:?}");
        // Lengths that overflow a position: a key of 2^64 - 2 bytes, a value likewise.
        for at in [BATCH_HEADER, BATCH_HEADER + 2] {
            let mut buf = Vec::new();
            encode_batch(&mut buf, &[NewRecord::keyed("k", "v")], 0, 1, None);
            let mut edited = buf[..at].to_vec();
            edited.extend_from_slice(&[0xff; 9]);
            edited.push(0x01);
            edited.extend_from_slice(&buf[at + 1..]);
            let frame = Bytes::from(reframe(edited));
            let h = check_frame(&frame).unwrap();
            let mut out = Vec::new();
            let e = decode_records(&frame, &h, 0, 10, &mut out).unwrap_err();
            assert!(matches!(e, FrameError::BadRecords(_)), "{e:?}");
        }
    }
}
