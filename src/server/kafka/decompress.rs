//! A partition's record batches decoded with their decompression bounded: the codecs (gzip,
//! snappy, lz4, zstd) write into a buffer that stops at the bytes left of the limit, so a few KiB
//! that inflate to gigabytes take the limit's worth of memory and are refused, never expanded
//! whole. The `kafka-protocol` crate decodes the records from what was decompressed.
//!
//! A batch's claimed record count is also held to what its (decompressed) bytes can hold — at
//! least [`MIN_RECORD_BYTES`] each — since the decoder reserves room for every claimed record
//! before it reads one.

use bytes::{Buf, Bytes};
use kafka_protocol::records::{BatchDecodeInfo, Compression, RecordBatchDecoder, RecordSet};
use std::cell::Cell;
use std::io::Read;

/// The smallest record on the wire: length, attributes, timestamp delta, offset delta, key
/// length, value length and header count, one byte each.
pub const MIN_RECORD_BYTES: usize = 7;

/// Why a partition's batches were not decoded.
#[derive(Debug)]
pub enum DecodeError {
    /// The records take more than the limit once decompressed (MESSAGE_TOO_LARGE).
    TooLarge { limit: usize },
    /// The bytes do not decode, or a batch claims more records than its bytes hold (CORRUPT_MESSAGE).
    Corrupt(String),
}

/// The decompressed bytes went past the limit (an error inside the crate's decoder, recognised
/// again on the way out).
#[derive(Debug)]
struct OverLimit;

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the records are larger than the limit once decompressed")
    }
}

impl std::error::Error for OverLimit {}

/// Decodes every batch in `bytes` (whose headers are `infos`, in order), with at most `limit`
/// bytes of records decompressed over all of them.
pub fn decode_all(bytes: &mut Bytes, infos: &[BatchDecodeInfo], limit: usize) -> Result<Vec<RecordSet>, DecodeError> {
    let left = Cell::new(limit);
    let batch = Cell::new(0usize);
    let inflate = |data: &mut Bytes, codec: Compression| -> anyhow::Result<Bytes> {
        let out = decompress(data, codec, left.get())?;
        left.set(left.get() - out.len());
        let i = batch.replace(batch.get() + 1);
        let claimed = infos.get(i).map_or(0, |b| b.record_count.max(0) as usize);
        if claimed.saturating_mul(MIN_RECORD_BYTES) > out.len() {
            anyhow::bail!("a batch claims {claimed} records in {} bytes", out.len());
        }
        Ok(out)
    };
    let mut sets = Vec::with_capacity(infos.len());
    while bytes.has_remaining() {
        match RecordBatchDecoder::decode_with_custom_compression(bytes, Some(&inflate)) {
            Ok(set) => sets.push(set),
            Err(e) if e.is::<OverLimit>() => return Err(DecodeError::TooLarge { limit }),
            Err(e) => return Err(DecodeError::Corrupt(format!("the record batch does not decode: {e:#}"))),
        }
    }
    Ok(sets)
}

/// `data` decompressed with `codec`, or [`OverLimit`] as soon as it would exceed `limit` bytes.
pub fn decompress(data: &mut Bytes, codec: Compression, limit: usize) -> anyhow::Result<Bytes> {
    let input = data.split_to(data.len());
    match codec {
        Compression::None if input.len() > limit => Err(OverLimit.into()),
        Compression::None => Ok(input),
        Compression::Gzip => bounded(flate2::read::MultiGzDecoder::new(&input[..]), limit, input.len()),
        Compression::Zstd => bounded(zstd::stream::read::Decoder::new(&input[..])?, limit, input.len()),
        Compression::Lz4 => bounded(lz4::Decoder::new(&input[..])?, limit, input.len()),
        Compression::Snappy => snappy(&input, limit),
    }
}

/// Everything `r` yields, reading at most one byte past `limit` (which is the refusal).
fn bounded(r: impl Read, limit: usize, compressed: usize) -> anyhow::Result<Bytes> {
    let mut out = Vec::with_capacity(compressed.saturating_mul(4).min(limit).min(1 << 20));
    r.take(limit as u64 + 1).read_to_end(&mut out)?;
    if out.len() > limit {
        return Err(OverLimit.into());
    }
    Ok(out.into())
}

/// Kafka's snappy: the xerial framing (a magic header, then length-prefixed raw blocks), or one
/// raw block. Each block says how large it decompresses; that is checked before room is made.
fn snappy(input: &[u8], limit: usize) -> anyhow::Result<Bytes> {
    const XERIAL: &[u8; 16] = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01";
    let mut out = Vec::new();
    let block = |raw: &[u8], out: &mut Vec<u8>| -> anyhow::Result<()> {
        let n = snap::raw::decompress_len(raw)?;
        if n > limit - out.len() {
            return Err(OverLimit.into());
        }
        let at = out.len();
        out.resize(at + n, 0);
        let wrote = snap::raw::Decoder::new().decompress(raw, &mut out[at..])?;
        out.truncate(at + wrote);
        Ok(())
    };
    match input.strip_prefix(&XERIAL[..]) {
        None => block(input, &mut out)?,
        Some(mut rest) => {
            while !rest.is_empty() {
                anyhow::ensure!(rest.len() >= 4, "a snappy block length is cut short");
                let n = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
                anyhow::ensure!(rest.len() - 4 >= n, "a snappy block is cut short");
                block(&rest[4..4 + n], &mut out)?;
                rest = &rest[4 + n..];
            }
        }
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::records::{Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType};

    fn batch(values: &[Bytes], compression: Compression) -> Bytes {
        let recs: Vec<Record> = values
            .iter()
            .enumerate()
            .map(|(i, v)| Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                // One batch: the encoder splits where offset - sequence changes.
                sequence: i as i32 - 1,
                timestamp: 1,
                key: None,
                value: Some(v.clone()),
                headers: Default::default(),
            })
            .collect();
        let mut buf = BytesMut::new();
        RecordBatchEncoder::encode(&mut buf, recs.iter(), &RecordEncodeOptions { version: 2, compression }).unwrap();
        buf.freeze()
    }

    fn decode(mut b: Bytes, limit: usize) -> Result<Vec<RecordSet>, DecodeError> {
        let infos = RecordBatchDecoder::decode_batch_info(&mut b.clone()).unwrap();
        decode_all(&mut b, &infos, limit)
    }

    const CODECS: [Compression; 5] =
        [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];

    #[test]
    fn every_codec_decodes_within_the_limit_and_is_refused_past_it() {
        let values = vec![Bytes::from(vec![b'z'; 100_000]); 3];
        for codec in CODECS {
            let b = batch(&values, codec);
            let sets = decode(b.clone(), 1 << 20).unwrap_or_else(|e| panic!("{codec:?}: {e:?}"));
            assert_eq!(sets[0].records.len(), 3, "{codec:?}");
            assert_eq!(sets[0].records[2].value.as_ref().map(Bytes::len), Some(100_000));
            assert!(
                matches!(decode(b, 200_000), Err(DecodeError::TooLarge { limit: 200_000 })),
                "{codec:?}: 300 kB of records past a 200 kB limit"
            );
        }
    }

    #[test]
    fn the_limit_counts_every_batch_of_a_partition() {
        let one = batch(&[Bytes::from(vec![b'a'; 60_000])], Compression::Gzip);
        let two: Bytes = [one.clone(), one].concat().into();
        assert_eq!(decode(two.clone(), 200_000).unwrap().len(), 2);
        assert!(matches!(decode(two, 100_000), Err(DecodeError::TooLarge { .. })));
    }

    #[test]
    fn a_batch_claiming_more_records_than_its_bytes_hold_is_corrupt() {
        let mut b = batch(&[Bytes::from_static(b"x")], Compression::None).to_vec();
        b[57..61].copy_from_slice(&1000i32.to_be_bytes());
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(decode(b.into(), 1 << 20), Err(DecodeError::Corrupt(_))));
    }
}
