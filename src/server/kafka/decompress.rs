//! A record batch's body decompressed within a bound: the codecs (gzip, snappy, lz4, zstd) write
//! into a buffer that stops at the bytes left of the limit, so a few KiB that inflate to gigabytes
//! take the limit's worth of memory and are refused, never expanded whole. [`super::decode`]
//! reads the records from what comes out.

use bytes::Bytes;
use kafka_protocol::records::Compression;
use std::io::Read;

/// The decompressed bytes went past the limit.
#[derive(Debug)]
pub struct OverLimit;

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the records are larger than the limit once decompressed")
    }
}

impl std::error::Error for OverLimit {}

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
    use super::super::{decode, errors};
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

    const CODECS: [Compression; 5] =
        [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];

    #[test]
    fn every_codec_decodes_within_the_limit_and_is_refused_past_it() {
        let values = vec![Bytes::from(vec![b'z'; 100_000]); 3];
        for codec in CODECS {
            let b = batch(&values, codec);
            let d = decode::batches(b.clone(), 1 << 20).unwrap_or_else(|e| panic!("{codec:?}: {e:?}"));
            assert_eq!(d.records.len(), 3, "{codec:?}");
            assert_eq!(d.records[2].value.as_ref().map(Bytes::len), Some(100_000));
            let refused = decode::batches(b, 200_000).unwrap_err();
            assert_eq!(refused.0, errors::MESSAGE_TOO_LARGE, "{codec:?}: 300 kB of records past a 200 kB limit");
            assert!(refused.1.contains("200000 bytes"), "{}", refused.1);
        }
    }

    #[test]
    fn a_codec_stops_one_byte_past_the_limit() {
        let big = Bytes::from(vec![b'a'; 1 << 20]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, &big).unwrap();
        let mut data = Bytes::from(gz.finish().unwrap());
        let e = decompress(&mut data, Compression::Gzip, 1000).unwrap_err();
        assert!(e.is::<OverLimit>(), "{e}");
    }

    #[test]
    fn a_batch_claiming_more_records_than_its_bytes_hold_is_corrupt() {
        let mut b = batch(&[Bytes::from_static(b"x")], Compression::None).to_vec();
        b[57..61].copy_from_slice(&1000i32.to_be_bytes());
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(decode::batches(b.into(), 1 << 20).unwrap_err().0, errors::CORRUPT_MESSAGE);
    }
}
