//! depot's records as a Kafka record batch (magic 2, uncompressed), written straight into the
//! response buffer: no intermediate records, no copies of keys and values beyond the one into
//! the buffer. Every header is written, a repeated name as many times as the record has it.
//!
//! ```text
//! base offset i64 | length i32 | leader epoch i32 (-1) | magic i8 (2) | crc u32 (CRC-32C of what follows)
//! attributes i16 (bit 3: LogAppendTime) | last offset delta i32 | first timestamp i64 | max timestamp i64
//! producer id i64 (-1) | producer epoch i16 (-1) | base sequence i32 (-1) | count i32 | records
//! record: length varint | attributes i8 | timestamp delta varlong | offset delta varint
//!         | key (varint length, -1 = null) | value (the same) | header count varint
//!         | per header: name (varint length) | value (varint length, -1 = null)
//! ```
//! Varints are zigzag encoded, as Kafka's are.

use crate::engine::record::Record;
use bytes::{BufMut, BytesMut};

/// Bytes of the batch header, up to the records.
const HEADER: usize = 61;

/// Appends `recs` (one partition's, in offset order, one timestamp type) as one batch to `out`.
pub fn batch(recs: &[Record], create_time: bool, out: &mut BytesMut) {
    let (Some(first), Some(last)) = (recs.first(), recs.last()) else { return };
    let start = out.len();
    let max_ts = recs.iter().map(|r| r.timestamp).max().unwrap_or(first.timestamp);
    out.reserve(HEADER + recs.iter().map(|r| r.encoded_len() + 16).sum::<usize>());
    out.put_i64(first.offset as i64);
    out.put_i32(0); // the length, below
    out.put_i32(-1);
    out.put_i8(2);
    out.put_u32(0); // the CRC, below
    out.put_i16(if create_time { 0 } else { 1 << 3 });
    out.put_i32(last.offset.saturating_sub(first.offset) as i32);
    out.put_i64(first.timestamp);
    out.put_i64(max_ts);
    out.put_i64(-1);
    out.put_i16(-1);
    out.put_i32(-1);
    out.put_i32(recs.len() as i32);
    let mut rec = Vec::new();
    for r in recs {
        rec.clear();
        rec.push(0); // attributes
        varlong(&mut rec, r.timestamp.wrapping_sub(first.timestamp));
        varlong(&mut rec, r.offset.wrapping_sub(first.offset) as i64);
        bytes_field(&mut rec, r.key.as_deref());
        bytes_field(&mut rec, r.value.as_deref());
        varlong(&mut rec, r.headers.len() as i64);
        for (name, value) in &r.headers {
            bytes_field(&mut rec, Some(name.as_bytes()));
            bytes_field(&mut rec, value.as_deref());
        }
        let mut len = Vec::with_capacity(5);
        varlong(&mut len, rec.len() as i64);
        out.put_slice(&len);
        out.put_slice(&rec);
    }
    let length = (out.len() - start - 12) as i32;
    out[start + 8..start + 12].copy_from_slice(&length.to_be_bytes());
    let crc = crc32c::crc32c(&out[start + 21..]);
    out[start + 17..start + 21].copy_from_slice(&crc.to_be_bytes());
}

/// A zigzag varint (Kafka's varint and varlong are the same bytes for values that fit).
fn varlong(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// A length-prefixed byte string, -1 for none.
fn bytes_field(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            varlong(out, b.len() as i64);
            out.extend_from_slice(b);
        }
        None => varlong(out, -1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn a_repeated_header_name_is_written_as_often_as_the_record_has_it() {
        let r = Record {
            offset: 3,
            timestamp: 10,
            create_time: true,
            key: None,
            value: Some(Bytes::from_static(b"v")),
            headers: vec![("h".into(), Some(Bytes::from_static(b"1"))), ("h".into(), Some(Bytes::from_static(b"2")))],
        };
        let mut out = BytesMut::new();
        batch(&[r], true, &mut out);
        // The record: attributes, timestamp delta 0, offset delta 0, key -1 (1), value "v", 2 headers.
        let rec = &out[HEADER + 1..];
        assert_eq!(&rec[..7], &[0, 0, 0, 1, 2, b'v', 4], "{rec:?}");
        assert_eq!(&rec[7..], &[2, b'h', 2, b'1', 2, b'h', 2, b'2']);
        assert_eq!(i32::from_be_bytes([out[57], out[58], out[59], out[60]]), 1, "one record");
    }

    #[test]
    fn varints_are_zigzag() {
        let enc = |v| {
            let mut o = Vec::new();
            varlong(&mut o, v);
            o
        };
        assert_eq!(enc(0), [0]);
        assert_eq!(enc(-1), [1]);
        assert_eq!(enc(1), [2]);
        assert_eq!(enc(300), [0xd8, 0x04]);
        assert_eq!(enc(i64::MIN).len(), 10);
    }
}
