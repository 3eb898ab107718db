//! Fetch (v4–v12): the records from each fetch offset, as record batches of magic 2 with the
//! timestamp type they were written with — CreateTime for records that kept their client's
//! timestamp, LogAppendTime (one batch per append time) for the rest — and null values as null,
//! bounded by each partition's
//! and the request's max bytes (always at least one record, as Kafka does, so a large record is
//! not stuck). A partition with nothing new gets an empty record set, never null. With fewer than
//! `min_bytes` ready, the answer waits up to `max_wait_ms` on the partitions' append events —
//! asynchronously, holding no thread — or until the listener stops.
//!
//! The batches are written from depot's records ([`super::encode`]): one batch per run of
//! records of the same timestamp type (and append time) in an answer, starting at the fetch
//! offset, not the producer's original batch boundaries; every header kept.

use super::dispatch::{self, Api, BoxFuture, Outcome, Request};
use super::errors;
use super::{Broker, Session};
use crate::engine::EngineError;
use crate::engine::record::Record;
use bytes::{Bytes, BytesMut};
use event_listener::EventListener;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{ApiKey, FetchRequest, FetchResponse};
use kafka_protocol::protocol::StrBytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

pub const APIS: &[Api] = &[Api { key: ApiKey::Fetch, min: 4, max: 12, handle }];

/// The longest a fetch may wait, whatever it asks (Kafka clients ask 500 ms by default).
const MAX_WAIT: Duration = Duration::from_secs(30);

fn handle<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<FetchRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let wait = Duration::from_millis(req.max_wait_ms.max(0) as u64).min(MAX_WAIT);
        let deadline = tokio::time::Instant::now() + wait;
        let min_bytes = req.min_bytes.max(1) as usize;
        let mut stop = s.stop.clone();
        loop {
            // Listen before reading, so an append between the read and the wait is not missed.
            let listeners = listen(b, &req);
            let (resp, bytes, errored) = read(b, &req).await;
            let now = tokio::time::Instant::now();
            if bytes >= min_bytes || errored || now >= deadline || *stop.borrow() {
                return dispatch::reply(&resp, r.version);
            }
            let _parked = Parked::new(&b.parked);
            tokio::select! {
                _ = any(listeners) => {}
                _ = tokio::time::sleep_until(deadline) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        }
    })
}

/// Counts a waiting fetch while it lives (also when its connection is dropped mid-wait).
struct Parked<'a>(&'a AtomicUsize);

impl<'a> Parked<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Parked(n)
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A listener on the append event of every partition the request names that exists.
fn listen(b: &Broker, req: &FetchRequest) -> Vec<EventListener> {
    let mut out = Vec::new();
    for t in &req.topics {
        for p in &t.partitions {
            if let Ok(log) = u32::try_from(p.partition)
                .map_err(|_| ())
                .and_then(|p| b.engine.partition_log(&t.topic.0, p).map_err(|_| ()))
            {
                out.push(log.appended.listen());
            }
        }
    }
    out
}

/// Resolves when any of `listeners` is notified (never, when there are none).
async fn any(mut listeners: Vec<EventListener>) {
    std::future::poll_fn(|cx| {
        for l in &mut listeners {
            if Pin::new(l).poll(cx).is_ready() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    })
    .await
}

/// The most record bytes one Fetch answer carries, whatever the client asks: Kafka's own broker
/// caps a fetch by `fetch.max.bytes` (55 MiB) the same way, so a request for 2 GiB cannot make
/// depot read 2 GiB into memory.
pub const MAX_FETCH_BYTES: usize = 55 << 20;

/// The byte budget of a Fetch: the client's `max_bytes` (none given: 0 or less), within
/// [`MAX_FETCH_BYTES`].
fn budget(max_bytes: i32) -> usize {
    usize::try_from(max_bytes).ok().filter(|&n| n > 0).unwrap_or(MAX_FETCH_BYTES).min(MAX_FETCH_BYTES)
}

/// One pass over the requested partitions: the response, the record bytes in it, and whether a
/// partition answered with an error (which ends a wait at once, as in Kafka).
async fn read(b: &Broker, req: &FetchRequest) -> (FetchResponse, usize, bool) {
    let mut resp = FetchResponse::default();
    let mut left = budget(req.max_bytes);
    let (mut total, mut errored) = (0usize, false);
    for t in &req.topics {
        let mut out = FetchableTopicResponse::default().with_topic(t.topic.clone());
        for p in &t.partitions {
            let max = (p.partition_max_bytes.max(0) as usize).min(left);
            let pd = partition(b, &t.topic.0, p.partition, p.fetch_offset, max, total == 0).await;
            let n = pd.records.as_ref().map_or(0, Bytes::len);
            errored |= pd.error_code != errors::NONE;
            total += n;
            left = left.saturating_sub(n);
            out.partitions.push(pd);
        }
        resp.responses.push(out);
    }
    (resp, total, errored)
}

/// One partition's answer. `first` lets the first record through whatever the byte limits say.
async fn partition(b: &Broker, topic: &StrBytes, index: i32, offset: i64, max: usize, first: bool) -> PartitionData {
    let mut pd = PartitionData::default().with_partition_index(index).with_records(Some(Bytes::new()));
    let (t, p) = (topic.to_string(), index);
    let read = b
        .blocking(move |e| {
            let p = u32::try_from(p).map_err(|_| EngineError::not_found(format!("partition {t}/{p}")))?;
            let log = e.partition_log(&t, p)?;
            let (start, end) = (log.log_start(), log.end_offset());
            let offset = u64::try_from(offset).unwrap_or(u64::MAX);
            let recs = if max == 0 && !first { Vec::new() } else { log.read(offset, usize::MAX, max.max(1))? };
            Ok((start, end, recs))
        })
        .await;
    match read {
        Ok((start, end, recs)) => {
            pd.high_watermark = end as i64;
            pd.last_stable_offset = end as i64;
            pd.log_start_offset = start as i64;
            pd.records = Some(encode(&recs));
        }
        Err(e) => {
            if !matches!(e, EngineError::OffsetOutOfRange { .. }) {
                tracing::warn!("kafka: fetch of {topic}/{index} at {offset}: {e}");
            }
            pd.error_code = errors::code(&e);
            pd.high_watermark = -1;
        }
    }
    pd
}

/// `recs` as record batches (magic 2, uncompressed): one per run of CreateTime records, one per
/// run of records of the same append time, the latter marked LogAppendTime (whose clients read
/// the batch's largest timestamp as every record's).
pub fn encode(recs: &[Record]) -> Bytes {
    let mut out = BytesMut::new();
    for run in recs.chunk_by(|a, b| a.create_time == b.create_time && (a.create_time || a.timestamp == b.timestamp)) {
        super::encode::batch(run, run.first().is_some_and(|r| r.create_time), &mut out);
    }
    out.freeze()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_fetch_reads_at_most_the_brokers_cap_whatever_the_client_asks() {
        assert_eq!(super::budget(i32::MAX), super::MAX_FETCH_BYTES);
        assert_eq!(super::budget(0), super::MAX_FETCH_BYTES);
        assert_eq!(super::budget(-1), super::MAX_FETCH_BYTES);
        assert_eq!(super::budget(1 << 20), 1 << 20);
    }
    use super::*;
    use kafka_protocol::records::{RecordBatchDecoder, TimestampType};

    #[test]
    fn records_encode_as_one_log_append_time_batch_that_decodes_back() {
        let recs: Vec<Record> = (5..8)
            .map(|o| Record {
                offset: o,
                timestamp: 1_700_000_000_000,
                create_time: false,
                key: (o == 6).then(|| Bytes::from_static(b"\x00k")),
                value: Some(Bytes::from(format!("v{o}"))),
                headers: vec![("h".into(), Some(Bytes::from_static(b"\xff")))],
            })
            .collect();
        let mut bytes = encode(&recs);
        let info = RecordBatchDecoder::decode_batch_info(&mut bytes.clone()).unwrap();
        assert_eq!(info.len(), 1, "one batch");
        assert_eq!((info[0].min_offset, info[0].record_count, info[0].base_sequence), (5, 3, -1));
        assert_eq!(info[0].timestamp_type, TimestampType::LogAppend);
        let back = RecordBatchDecoder::decode_all(&mut bytes).unwrap();
        let got: Vec<_> =
            back[0].records.iter().map(|r| (r.offset, r.key.clone(), r.value.clone(), r.timestamp)).collect();
        assert_eq!(got[1], (6, Some(Bytes::from_static(b"\x00k")), Some(Bytes::from_static(b"v6")), 1_700_000_000_000));
        assert_eq!(
            back[0].records[2].headers.get(&StrBytes::from_static_str("h")),
            Some(&Some(Bytes::from_static(b"\xff")))
        );
        assert!(encode(&[]).is_empty(), "nothing is an empty set, not null");
    }

    #[test]
    fn each_run_of_one_timestamp_type_and_append_time_is_its_own_batch() {
        let rec = |offset: u64, timestamp: i64, create_time: bool, value: Option<&'static str>| Record {
            offset,
            timestamp,
            create_time,
            key: None,
            value: value.map(|v: &'static str| Bytes::from_static(v.as_bytes())),
            headers: vec![("n".into(), None)],
        };
        let recs = vec![
            rec(0, 500, true, Some("a")),
            rec(1, 100, true, None),
            rec(2, 9_000, false, Some("b")),
            rec(3, 9_000, false, Some("c")),
            rec(4, 9_001, false, Some("d")),
        ];
        let mut bytes = encode(&recs);
        let info = RecordBatchDecoder::decode_batch_info(&mut bytes.clone()).unwrap();
        let batches: Vec<_> = info.iter().map(|i| (i.min_offset, i.record_count, i.timestamp_type)).collect();
        assert_eq!(
            batches,
            vec![(0, 2, TimestampType::Creation), (2, 2, TimestampType::LogAppend), (4, 1, TimestampType::LogAppend)]
        );
        let back: Vec<_> =
            RecordBatchDecoder::decode_all(&mut bytes).unwrap().into_iter().flat_map(|s| s.records).collect();
        let got: Vec<_> = back.iter().map(|r| (r.offset, r.timestamp, r.value.clone())).collect();
        assert_eq!(got[0], (0, 500, Some(Bytes::from_static(b"a"))));
        assert_eq!(got[1], (1, 100, None), "a tombstone, timestamps going back");
        assert_eq!(back[4].timestamp, 9_001);
        assert_eq!(back[1].headers.get(&StrBytes::from_static_str("n")), Some(&None), "a null header value");
    }
}
