//! A Produce request's record batches (magic 2) read straight into the engine's records: the
//! batch header checked (magic, CRC-32C, flags, a record count its bytes can hold), the body
//! decompressed within the limit ([`super::decompress`]), and each record's key, value and header
//! values kept as slices of the request (or of the decompressed body) — no copy, no intermediate
//! records. Every header is kept, a repeated name as often as the record has it.
//!
//! The layout is the one [`super::encode`] writes; Kafka's `DefaultRecordBatch` is the reference.
//! Anything that does not add up — a length past the end, a record whose length does not match
//! its fields, fewer or more records than the header claims, bytes after the last record, a
//! header name that is not UTF-8 — is CORRUPT_MESSAGE, and nothing of the request is appended.

use super::decompress;
use super::errors;
use crate::engine::record::NewRecord;
use bytes::{Buf, Bytes};
use kafka_protocol::records::Compression;

/// Bytes of a batch header, up to the records.
pub const HEADER: usize = 61;

/// The smallest record: length, attributes, timestamp delta, offset delta, key length, value
/// length and header count, one byte each.
pub const MIN_RECORD_BYTES: usize = 7;

/// The most records one batch may claim (before its bytes are looked at).
pub const MAX_RECORDS_PER_BATCH: i32 = 1_000_000;

/// What the producer checks need of one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchInfo {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub record_count: i32,
}

/// A partition's records, and its batches' producer fields.
#[derive(Debug, Default)]
pub struct Decoded {
    pub records: Vec<NewRecord>,
    pub batches: Vec<BatchInfo>,
}

/// Why the batches were refused: the Kafka error code and what was wrong.
pub type Refusal = (i16, String);

fn corrupt(why: impl Into<String>) -> Refusal {
    (errors::CORRUPT_MESSAGE, why.into())
}

/// Decodes every batch in `bytes`, with at most `limit` bytes of records (decompressed, over all
/// batches).
pub fn batches(mut bytes: Bytes, limit: usize) -> Result<Decoded, Refusal> {
    if bytes.is_empty() {
        return Err(corrupt("no records"));
    }
    let mut out = Decoded::default();
    let mut left = limit;
    while !bytes.is_empty() {
        if bytes.len() < 17 {
            return Err(corrupt(format!("a record batch is cut short ({} bytes)", bytes.len())));
        }
        let magic = bytes[16] as i8;
        if magic != 2 {
            return Err((
                errors::UNSUPPORTED_FOR_MESSAGE_FORMAT,
                format!("a batch of magic {magic}: only record batches of magic 2 (Kafka 0.11+) are accepted"),
            ));
        }
        let length = i32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        let total = usize::try_from(length).ok().filter(|&n| n >= HEADER - 12).map(|n| n + 12);
        let Some(total) = total.filter(|&n| n <= bytes.len()) else {
            return Err(corrupt(format!("a record batch claims {length} bytes; {} are left", bytes.len() - 12)));
        };
        let batch = bytes.split_to(total);
        one(batch, &mut left, limit, &mut out)?;
    }
    Ok(out)
}

/// One batch (exactly its bytes) into `out`; `left` is what the limit still allows.
fn one(batch: Bytes, left: &mut usize, limit: usize, out: &mut Decoded) -> Result<(), Refusal> {
    let stored = u32::from_be_bytes([batch[17], batch[18], batch[19], batch[20]]);
    let crc = crc32c::crc32c(&batch[21..]);
    if crc != stored {
        return Err(corrupt(format!("a record batch's CRC is {stored:#010x}; its bytes give {crc:#010x}")));
    }
    let mut h = &batch[21..HEADER];
    let attributes = h.get_i16();
    let _last_offset_delta = h.get_i32();
    let base_timestamp = h.get_i64();
    let _max_timestamp = h.get_i64();
    let producer_id = h.get_i64();
    let producer_epoch = h.get_i16();
    let base_sequence = h.get_i32();
    let record_count = h.get_i32();
    if attributes & (1 << 4 | 1 << 5) != 0 {
        return Err((errors::INVALID_RECORD, "transactional and control batches are not supported by depot".into()));
    }
    if !(0..=MAX_RECORDS_PER_BATCH).contains(&record_count) {
        return Err(corrupt(format!("a batch claims {record_count} records")));
    }
    let log_append = attributes & (1 << 3) != 0;
    let codec = match attributes & 7 {
        0 => Compression::None,
        1 => Compression::Gzip,
        2 => Compression::Snappy,
        3 => Compression::Lz4,
        4 => Compression::Zstd,
        n => return Err(corrupt(format!("a batch names compression codec {n}, which Kafka does not have"))),
    };
    let mut body = batch.slice(HEADER..);
    let mut body = match decompress::decompress(&mut body, codec, *left) {
        Ok(b) => b,
        Err(e) if e.is::<decompress::OverLimit>() => {
            return Err((
                errors::MESSAGE_TOO_LARGE,
                format!("the records take more than {limit} bytes once decompressed"),
            ));
        }
        Err(e) => return Err(corrupt(format!("a {codec:?} batch does not decompress: {e:#}"))),
    };
    *left -= body.len();
    let count = record_count as usize;
    if count.saturating_mul(MIN_RECORD_BYTES) > body.len() {
        return Err(corrupt(format!("a batch claims {count} records in {} bytes", body.len())));
    }
    out.records.reserve(count);
    for i in 0..count {
        let r = record(&mut body, log_append, base_timestamp)
            .map_err(|why| corrupt(format!("record {i} of a batch of {count}: {why}")))?;
        out.records.push(r);
    }
    if !body.is_empty() {
        return Err(corrupt(format!("{} bytes follow the last of a batch's {count} records", body.len())));
    }
    out.batches.push(BatchInfo { producer_id, producer_epoch, base_sequence, record_count });
    Ok(())
}

/// One record off the front of `body`.
fn record(body: &mut Bytes, log_append: bool, base_timestamp: i64) -> Result<NewRecord, String> {
    let len = varint(body)?;
    let len = usize::try_from(len).map_err(|_| format!("a record length of {len}"))?;
    if len > body.len() {
        return Err(format!("a record of {len} bytes with {} left", body.len()));
    }
    let mut r = body.split_to(len);
    if r.is_empty() {
        return Err("an empty record".into());
    }
    r.advance(1); // attributes: unused in magic 2
    let delta = varint(&mut r)?;
    let _offset_delta = varint(&mut r)?;
    let key = field(&mut r)?;
    let value = field(&mut r)?;
    let n = varint(&mut r)?;
    let n = usize::try_from(n).map_err(|_| format!("{n} headers"))?;
    if n.saturating_mul(2) > r.len() {
        return Err(format!("{n} headers in {} bytes", r.len()));
    }
    let mut headers = Vec::with_capacity(n);
    for _ in 0..n {
        let name = field(&mut r)?.ok_or("a header without a name")?;
        let name = String::from_utf8(name.to_vec()).map_err(|_| "a header name that is not UTF-8".to_string())?;
        headers.push((name, field(&mut r)?));
    }
    if !r.is_empty() {
        return Err(format!("{} bytes past the record's fields", r.len()));
    }
    let timestamp = base_timestamp.wrapping_add(delta);
    // LogAppendTime, or "none" (-1), takes the append time.
    let timestamp = (!log_append && timestamp != -1).then_some(timestamp);
    Ok(NewRecord { key, value, headers, timestamp })
}

/// A zigzag varint of up to 64 bits.
fn varint(b: &mut Bytes) -> Result<i64, String> {
    let mut z: u64 = 0;
    for i in 0..10 {
        let Some(&byte) = b.first() else { return Err("a varint is cut short".into()) };
        b.advance(1);
        z |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((z >> 1) as i64 ^ -((z & 1) as i64));
        }
    }
    Err("a varint longer than 10 bytes".into())
}

/// A length-prefixed byte string (-1: none), as a slice of `b`.
fn field(b: &mut Bytes) -> Result<Option<Bytes>, String> {
    let n = varint(b)?;
    if n == -1 {
        return Ok(None);
    }
    let n = usize::try_from(n).map_err(|_| format!("a length of {n}"))?;
    if n > b.len() {
        return Err(format!("a field of {n} bytes with {} left", b.len()));
    }
    Ok(Some(b.split_to(n)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::protocol::StrBytes;
    use kafka_protocol::records::{Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType};

    fn rec(i: i64, ts: TimestampType, key: Option<&'static [u8]>, value: Option<&'static [u8]>) -> Record {
        let headers = [
            (StrBytes::from_static_str("h"), Some(Bytes::from_static(b"\x00\xff"))),
            (StrBytes::from_static_str("n"), None),
        ]
        .into_iter()
        .collect();
        Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: 7,
            producer_epoch: 2,
            timestamp_type: ts,
            offset: i,
            sequence: 40 + i as i32,
            timestamp: 1_700_000_000_000 + i * 5,
            key: key.map(Bytes::from_static),
            value: value.map(Bytes::from_static),
            headers,
        }
    }

    fn encode(recs: &[Record], compression: Compression) -> Bytes {
        let mut buf = BytesMut::new();
        RecordBatchEncoder::encode(&mut buf, recs.iter(), &RecordEncodeOptions { version: 2, compression }).unwrap();
        buf.freeze()
    }

    #[test]
    fn what_the_crates_encoder_writes_decodes_the_same_with_every_codec() {
        for codec in [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd] {
            let recs = [
                rec(0, TimestampType::Creation, Some(b"\x00k"), Some(b"v0")),
                rec(1, TimestampType::Creation, None, None),
            ];
            let d = batches(encode(&recs, codec), 1 << 20).unwrap_or_else(|e| panic!("{codec:?}: {e:?}"));
            assert_eq!(
                d.batches,
                vec![BatchInfo { producer_id: 7, producer_epoch: 2, base_sequence: 40, record_count: 2 }]
            );
            let r = &d.records;
            assert_eq!(
                (r[0].key.as_deref(), r[0].value.as_deref()),
                (Some(&b"\x00k"[..]), Some(&b"v0"[..])),
                "{codec:?}"
            );
            assert_eq!((r[1].key.as_deref(), r[1].value.as_deref()), (None, None), "a tombstone without a key");
            assert_eq!((r[0].timestamp, r[1].timestamp), (Some(1_700_000_000_000), Some(1_700_000_000_005)));
            assert_eq!(
                r[1].headers,
                vec![("h".to_string(), Some(Bytes::from_static(b"\x00\xff"))), ("n".to_string(), None)]
            );
        }
    }

    #[test]
    fn log_append_time_and_none_take_the_append_time() {
        // The crate's encoder writes CreateTime whatever the record says: flag the batch here.
        let mut b = encode(&[rec(0, TimestampType::Creation, None, Some(b"v"))], Compression::None).to_vec();
        b[22] |= 1 << 3;
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        let d = batches(b.into(), 1 << 20).unwrap();
        assert_eq!(d.records[0].timestamp, None);
        let mut none = rec(0, TimestampType::Creation, None, Some(b"v"));
        none.timestamp = -1;
        let d = batches(encode(&[none], Compression::None), 1 << 20).unwrap();
        assert_eq!(d.records[0].timestamp, None);
    }

    #[test]
    fn a_repeated_header_name_is_kept_as_often_as_it_was_sent() {
        // The crate's encoder holds headers in a map: write the batch with depot's own encoder.
        let r = crate::engine::record::Record {
            offset: 0,
            timestamp: 10,
            create_time: true,
            key: None,
            value: Some(Bytes::from_static(b"v")),
            headers: vec![("h".into(), Some(Bytes::from_static(b"1"))), ("h".into(), Some(Bytes::from_static(b"2")))],
        };
        let mut buf = BytesMut::new();
        super::super::encode::batch(&[r], true, &mut buf);
        let d = batches(buf.freeze(), 1 << 20).unwrap();
        let values: Vec<_> = d.records[0].headers.iter().map(|(n, v)| (n.as_str(), v.as_deref())).collect();
        assert_eq!(values, vec![("h", Some(&b"1"[..])), ("h", Some(&b"2"[..]))]);
        assert_eq!(d.records[0].timestamp, Some(10));
    }

    #[test]
    fn two_batches_decode_in_order_and_every_damage_is_refused() {
        let a = encode(&[rec(0, TimestampType::Creation, None, Some(b"a"))], Compression::None);
        let b = encode(&[rec(0, TimestampType::Creation, None, Some(b"b"))], Compression::None);
        let both: Bytes = [a.clone(), b].concat().into();
        let d = batches(both.clone(), 1 << 20).unwrap();
        assert_eq!(d.records.iter().map(|r| r.value.clone().unwrap()).collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(d.batches.len(), 2);

        let code = |b: Vec<u8>| batches(b.into(), 1 << 20).map(|_| ()).unwrap_err().0;
        let fix_crc = |mut b: Vec<u8>| {
            let crc = crc32c::crc32c(&b[21..]);
            b[17..21].copy_from_slice(&crc.to_be_bytes());
            b
        };
        // Every cut, anywhere in two batches (but between them: that is one whole batch).
        for n in (1..both.len()).filter(|&n| n != a.len()) {
            assert_eq!(code(both[..n].to_vec()), errors::CORRUPT_MESSAGE, "cut at {n}");
        }
        let mut flipped = a.to_vec();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(code(flipped), errors::CORRUPT_MESSAGE, "a wrong CRC");
        let mut more = a.to_vec();
        more[57..61].copy_from_slice(&2i32.to_be_bytes());
        assert_eq!(code(fix_crc(more)), errors::CORRUPT_MESSAGE, "a count the records do not fill");
        let mut huge = a.to_vec();
        huge[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
        assert_eq!(code(fix_crc(huge)), errors::CORRUPT_MESSAGE, "billions of records claimed");
        let mut magic = a.to_vec();
        magic[16] = 1;
        assert_eq!(code(magic), errors::UNSUPPORTED_FOR_MESSAGE_FORMAT);
        let mut tx = a.to_vec();
        tx[22] |= 1 << 4;
        assert_eq!(code(fix_crc(tx)), errors::INVALID_RECORD, "transactional");
        let mut codec = a.to_vec();
        codec[22] |= 7;
        assert_eq!(code(fix_crc(codec)), errors::CORRUPT_MESSAGE, "codec 7");
        assert_eq!(code(Vec::new()), errors::CORRUPT_MESSAGE, "nothing");
    }

    #[test]
    fn the_limit_counts_every_batch_decompressed() {
        let big: &'static [u8] = Box::leak(vec![b'z'; 60_000].into_boxed_slice());
        let one = encode(&[rec(0, TimestampType::Creation, None, Some(big))], Compression::Gzip);
        let two: Bytes = [one.clone(), one].concat().into();
        assert_eq!(batches(two.clone(), 200_000).unwrap().records.len(), 2);
        assert_eq!(batches(two, 100_000).unwrap_err().0, errors::MESSAGE_TOO_LARGE);
    }
}
