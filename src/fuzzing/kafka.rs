//! Target `kafka_batches`: a Produce request's record batches, as depot's Kafka listener reads
//! them ([`crate::server::kafka::decode`]). The first byte chooses how honest the bytes are: as
//! given, with the first batch's length and magic made right, or also with a correct CRC-32C, so
//! the record decoder behind the checksum (and the codecs behind the attributes) is reached.
//! Whatever decodes must hold as many records as its batches claim, within the limit, and
//! written back as Kafka batches by the Fetch encoder it must decode to the same records.

use super::Bytes;
use crate::engine::record::Record;
use crate::server::kafka::{decode, fetch};

/// The decompressed bytes one input may take: small, so inflating inputs end quickly.
const LIMIT: usize = 1 << 20;

pub fn kafka_batches(data: &[u8]) {
    let mut b = Bytes::new(data);
    let mode = b.u8();
    let mut bytes = b.rest().to_vec();
    if !mode.is_multiple_of(3) && bytes.len() >= decode::HEADER {
        let len = (bytes.len() - 12) as i32;
        bytes[8..12].copy_from_slice(&len.to_be_bytes());
        bytes[16] = 2;
        if mode % 3 == 2 {
            let crc = crc32c::crc32c(&bytes[21..]);
            bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        }
    }
    let Ok(d) = decode::batches(bytes::Bytes::from(bytes), LIMIT) else { return };
    let claimed: i64 = d.batches.iter().map(|i| i64::from(i.record_count)).sum();
    assert_eq!(claimed, d.records.len() as i64, "the batches claim what was decoded");
    let size: usize = d.records.iter().map(|r| r.value.as_ref().map_or(0, |v| v.len())).sum();
    assert!(size <= LIMIT, "{size} bytes of values from a limit of {LIMIT}");
    // Back out as Fetch writes them, and in again: the same records.
    let recs: Vec<Record> = d
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| Record {
            offset: i as u64,
            timestamp: r.timestamp.unwrap_or(0),
            create_time: r.timestamp.is_some(),
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r.headers.clone(),
        })
        .collect();
    let again = fetch::encode(&recs);
    if recs.is_empty() {
        assert!(again.is_empty());
        return;
    }
    let back = match decode::batches(again, usize::MAX) {
        Ok(b) => b,
        Err(e) => panic!("what Fetch writes does not decode: {e:?}"),
    };
    assert_eq!(back.records, d.records, "records change on the way out and back");
}
