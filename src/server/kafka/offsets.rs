//! ListOffsets (v1–v7): the earliest offset (-2, the log start), the latest (-1, the end), and
//! the first offset at or after a timestamp (records' own: CreateTime as produced, or the append
//! time; -1 when no record is that late). Max-timestamp lookups (-3) and the later special values are answered with
//! UNSUPPORTED_VERSION for that partition.

use super::dispatch::{self, Api, BoxFuture, Outcome, Request};
use super::errors;
use super::{Broker, Session};
use crate::engine::EngineError;
use kafka_protocol::messages::list_offsets_response::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse};
use kafka_protocol::messages::{ApiKey, ListOffsetsRequest, ListOffsetsResponse};

pub const APIS: &[Api] = &[Api { key: ApiKey::ListOffsets, min: 1, max: 7, handle }];

/// Kafka's special timestamps.
const LATEST: i64 = -1;
const EARLIEST: i64 = -2;

fn handle<'a>(b: &'a Broker, _s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<ListOffsetsRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let mut resp = ListOffsetsResponse::default();
        for t in req.topics {
            let topic = t.name.0.to_string();
            let mut out = ListOffsetsTopicResponse::default().with_name(t.name);
            for p in t.partitions {
                let (index, ts) = (p.partition_index, p.timestamp);
                let tp = topic.clone();
                let got = b.blocking(move |e| lookup(&e, &tp, index, ts)).await;
                let mut pr = ListOffsetsPartitionResponse::default().with_partition_index(index).with_leader_epoch(-1);
                match got {
                    Ok(Some((offset, ts))) => {
                        pr.offset = offset;
                        pr.timestamp = ts;
                    }
                    Ok(None) => {
                        pr.error_code = errors::UNSUPPORTED_VERSION;
                        pr.offset = -1;
                        pr.timestamp = -1;
                    }
                    Err(e) => {
                        pr.error_code = errors::code(&e);
                        pr.offset = -1;
                        pr.timestamp = -1;
                    }
                }
                out.partitions.push(pr);
            }
            resp.topics.push(out);
        }
        dispatch::reply(&resp, r.version)
    })
}

/// `(offset, timestamp)` for one partition and query; `None` for a query depot does not answer.
fn lookup(e: &crate::engine::Engine, topic: &str, index: i32, ts: i64) -> Result<Option<(i64, i64)>, EngineError> {
    let p = u32::try_from(index).map_err(|_| EngineError::not_found(format!("partition {topic}/{index}")))?;
    let log = e.partition_log(topic, p)?;
    Ok(match ts {
        LATEST => Some((log.end_offset() as i64, -1)),
        EARLIEST => Some((log.log_start() as i64, -1)),
        ts if ts >= 0 => {
            let at = log.offset_for_time(ts)?;
            match log.timestamp_of(at)? {
                Some(found) => Some((at as i64, found)),
                None => Some((-1, -1)),
            }
        }
        _ => None,
    })
}
