//! Produce (v3+: record batches of magic 2 only). Each partition's batches are CRC-checked,
//! decompressed within the batch limit (gzip, snappy, lz4, zstd) and read straight into the
//! engine's records ([`super::decode`]), then appended as one engine batch; the answer goes out
//! once the append returns, which is as durable as `--sync` makes it (acks 1 and -1 alike: this
//! node is every replica), and not at all for acks 0.
//!
//! What the client sends is kept: each record's own timestamp (CreateTime; a batch flagged
//! LogAppendTime, or a timestamp of -1, takes the append time, and the answer's
//! `log_append_time_ms` is that time, else -1 as Kafka answers for CreateTime), null values
//! (tombstones), null header values, binary keys, every header (a repeated name as often as it
//! was sent). A timestamp before 1970 or more than an hour ahead of depot's clock gets
//! INVALID_TIMESTAMP (Kafka 4's `message.timestamp.after.max.ms`).
//! Idempotent producers (a producer id from InitProducerId, [`super::producer`]) have each
//! partition's batch checked against the producer's last five batches there: a retry is not
//! appended again and gets its original base offset. Transactional producers are refused.

use super::dispatch::{self, Api, BoxFuture, Outcome, Request};
use super::metadata::partitions_of;
use super::producer;
use super::{Broker, Session};
use super::{decode, errors};
use crate::engine::record;
use bytes::Bytes;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ApiKey, ProduceRequest, ProduceResponse};
use kafka_protocol::protocol::StrBytes;

pub const APIS: &[Api] = &[Api { key: ApiKey::Produce, min: 3, max: 9, handle }];

fn handle<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<ProduceRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let refused = if !matches!(req.acks, -1..=1) {
            Some((errors::INVALID_REQUIRED_ACKS, format!("acks={} (only -1, 0 and 1 exist)", req.acks)))
        } else if req.transactional_id.is_some() {
            Some((errors::TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "transactions are not supported by depot".to_string()))
        } else if b.opts.read_only {
            Some((errors::TOPIC_AUTHORIZATION_FAILED, "depot is read-only".to_string()))
        } else {
            None
        };
        let mut resp = ProduceResponse::default();
        for t in req.topic_data {
            let name = t.name.0.to_string();
            let mut out = TopicProduceResponse::default().with_name(t.name);
            for p in t.partition_data {
                let (code, message, base, ts) = match &refused {
                    Some((code, why)) => (*code, Some(why.clone()), -1, -1),
                    None => match partition(b, &name, p.index, p.records).await {
                        Ok((base, ts)) => (errors::NONE, None, base, ts),
                        Err((code, why)) => (code, Some(why), -1, -1),
                    },
                };
                if let Some(why) = &message {
                    tracing::warn!("kafka: produce from {} to {name}/{} refused: {why}", s.peer, p.index);
                }
                let mut pr = PartitionProduceResponse::default()
                    .with_index(p.index)
                    .with_error_code(code)
                    .with_base_offset(base)
                    .with_log_append_time_ms(ts);
                if r.version >= 8 {
                    pr.error_message = message.map(StrBytes::from_string);
                }
                out.partition_responses.push(pr);
            }
            resp.responses.push(out);
        }
        if req.acks == 0 {
            return Outcome::Silent;
        }
        dispatch::reply(&resp, r.version)
    })
}

/// Appends one partition's records; the base offset and the append time, or the error code and why.
async fn partition(b: &Broker, topic: &str, index: i32, records: Option<Bytes>) -> Result<(i64, i64), (i16, String)> {
    let n = partitions_of(b, topic, b.opts.auto_create).await.map_err(|c| (c, format!("topic {topic:?}")))?;
    let Ok(p) = u32::try_from(index) else {
        return Err((errors::UNKNOWN_TOPIC_OR_PARTITION, format!("partition {index}")));
    };
    if p >= n {
        return Err((errors::UNKNOWN_TOPIC_OR_PARTITION, format!("{topic} has {n} partitions, not {}", p + 1)));
    }
    let decoded = decode::batches(records.unwrap_or_default(), record::MAX_BATCH_BYTES)?;
    let idempotent = producer::batch_producer(&decoded.batches)?;
    let recs = decoded.records;
    if let Some(t) = recs.iter().filter_map(|r| r.timestamp).find(|&t| t < 0) {
        return Err((errors::INVALID_TIMESTAMP, format!("timestamp {t} is before 1970 (and not -1, \"none\")")));
    }
    let ahead = b.engine.clock().now_ms().saturating_add(record::MAX_AHEAD_MS);
    if let Some(t) = recs.iter().filter_map(|r| r.timestamp).find(|&t| t > ahead) {
        return Err((errors::INVALID_TIMESTAMP, format!("timestamp {t} is more than an hour ahead of depot's clock")));
    }
    let create_time = recs.iter().any(|r| r.timestamp.is_some());
    if record::batch_size(&recs) > record::MAX_BATCH_BYTES {
        return Err((
            errors::MESSAGE_TOO_LARGE,
            format!("the records take more than {} bytes", record::MAX_BATCH_BYTES),
        ));
    }
    let t = topic.to_string();
    let done = b
        .blocking(move |e| {
            let a = match idempotent {
                None => e.append(&t, p, &recs, None)?,
                Some(pb) => match e.append_idempotent(&t, p, &recs, pb)? {
                    Ok(a) => a,
                    Err(refused) => return Ok(Err(refused)),
                },
            };
            // The append time is only answered for records that took it (and costs a read).
            let ts = if create_time { None } else { e.partition_log(&t, p)?.timestamp_of(a.base_offset)? };
            Ok(Ok((a.base_offset, ts)))
        })
        .await;
    match done {
        // Kafka answers -1 when the records keep their CreateTime.
        Ok(Ok((base, ts))) => Ok((base as i64, if create_time { -1 } else { ts.unwrap_or(-1) })),
        Ok(Err(refused)) => Err((producer::code(&refused), refused.to_string())),
        Err(e) => Err((errors::code(&e), e.to_string())),
    }
}
