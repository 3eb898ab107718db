//! Records: publishing through the producer (Kafka's murmur2 partitioner for keys), and reading
//! with assign-only consumers that join no group and commit nothing (peek, fetch, probes, replay).

use super::Kafka;
use super::codec::to_message;
use super::conn::{READ_TIMEOUT, create, kerr, reader_config};
use super::topics::{offsets_for_time, topic_partitions, watermarks};
use crate::backend::support::{self, Start};
use crate::backend::{BResult, BackendError, MessagesApi};
use crate::core::{Ack, Message, OutRecord, PeekFrom, PeekRequest, PublishRequest, SearchRequest, SearchResult};
use async_trait::async_trait;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as KHeader, Message as _, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureRecord};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One partition to read: offsets `start..end`, at most `max` records.
#[derive(Clone, Copy, Debug)]
pub(super) struct Span {
    pub(super) partition: u32,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) max: usize,
}

/// Reads spans of one topic with an assign-only consumer (no group), handing each record to `each`.
/// Returns true when every span was read to its end or its `max`.
pub(super) fn read_spans(
    base: &ClientConfig,
    brokers: &str,
    topic: &str,
    spans: &[Span],
    timeout: Duration,
    each: &mut dyn FnMut(Message) -> BResult<()>,
) -> BResult<bool> {
    let active: Vec<Span> = spans.iter().copied().filter(|s| s.start < s.end && s.max > 0).collect();
    if active.is_empty() {
        return Ok(true);
    }
    let c: BaseConsumer = create(&reader_config(base), brokers)?;
    let mut tpl = TopicPartitionList::new();
    for s in &active {
        tpl.add_partition_offset(topic, s.partition as i32, Offset::Offset(s.start as i64))
            .map_err(|e| kerr("building an assignment", &e))?;
    }
    c.assign(&tpl).map_err(|e| kerr(&format!("assigning partitions of {topic} to a reader"), &e))?;
    // partition → (span, records so far, done)
    let mut state: HashMap<u32, (Span, usize, bool)> = active.iter().map(|s| (s.partition, (*s, 0, false))).collect();
    let mut left = state.len();
    let deadline = Instant::now() + timeout;
    while left > 0 {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        match c.poll((deadline - now).min(Duration::from_millis(200))) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => {
                if let Some(st) = state.get_mut(&(p.max(0) as u32))
                    && !st.2
                {
                    st.2 = true;
                    left -= 1;
                }
            }
            Some(Err(e)) => {
                let code = e.rdkafka_error_code();
                if matches!(code, Some(RDKafkaErrorCode::OffsetOutOfRange)) {
                    return Err(kerr(&format!("reading {topic}"), &e));
                }
                tracing::debug!("reading {topic}: {e}");
            }
            Some(Ok(m)) => {
                let p = m.partition().max(0) as u32;
                let Some(st) = state.get_mut(&p) else { continue };
                let off = m.offset().max(0) as u64;
                if st.2 || off < st.0.start || off >= st.0.end {
                    continue;
                }
                each(to_message(&m))?;
                st.1 += 1;
                if st.1 >= st.0.max || off + 1 >= st.0.end {
                    st.2 = true;
                    left -= 1;
                }
            }
        }
    }
    Ok(left == 0)
}

impl Kafka {
    /// Sends records; returns one delivery future per record, in order.
    pub(super) async fn send_all(&self, topic: &str, records: Vec<(Option<u32>, OutRecord)>) -> BResult<Vec<Ack>> {
        let mut pending: Vec<DeliveryFuture> = Vec::with_capacity(records.len());
        let mut acks = Vec::with_capacity(records.len());
        for (partition, r) in &records {
            loop {
                let mut rec = FutureRecord::<[u8], [u8]>::to(topic);
                if let Some(v) = &r.value {
                    rec = rec.payload(&v.0[..]);
                }
                if let Some(k) = &r.key {
                    rec = rec.key(&k.0[..]);
                }
                if let Some(p) = partition {
                    rec = rec.partition(*p as i32);
                }
                if !r.headers.is_empty() {
                    let mut hs = OwnedHeaders::new_with_capacity(r.headers.len());
                    for h in &r.headers {
                        hs = hs.insert(KHeader { key: &h.name, value: h.value.as_ref().map(|v| &v.0[..]) });
                    }
                    rec = rec.headers(hs);
                }
                match self.producer.send_result(rec) {
                    Ok(f) => {
                        pending.push(f);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        // The local queue is full: wait for what is in flight, then retry.
                        acks.extend(self.settle(topic, std::mem::take(&mut pending)).await?);
                    }
                    Err((e, _)) => return Err(kerr(&format!("publishing to {topic}"), &e)),
                }
            }
        }
        acks.extend(self.settle(topic, pending).await?);
        Ok(acks)
    }

    async fn settle(&self, topic: &str, pending: Vec<DeliveryFuture>) -> BResult<Vec<Ack>> {
        let mut acks = Vec::with_capacity(pending.len());
        for f in pending {
            match f.await {
                Ok(Ok(d)) => acks.push(Ack {
                    topic: topic.to_string(),
                    partition: d.partition.max(0) as u32,
                    offset: d.offset.max(0) as u64,
                    duplicate: false,
                }),
                Ok(Err((e, _))) => {
                    return Err(kerr(
                        &format!("publishing to {topic} ({} record(s) of this request were acknowledged)", acks.len()),
                        &e,
                    ));
                }
                Err(_) => {
                    return Err(BackendError::Internal(format!(
                        "the Kafka producer dropped a delivery report while publishing to {topic}"
                    )));
                }
            }
        }
        Ok(acks)
    }
}

#[async_trait]
impl MessagesApi for Kafka {
    async fn publish(&self, topic: &str, req: PublishRequest) -> BResult<Vec<Ack>> {
        let t = topic.to_string();
        let n = self.meta_call(move |meta, _, brokers| topic_partitions(meta, brokers, &t)).await?;
        support::check_records(topic, &req, n, "")?;
        if req.producer.is_some() {
            return Err(BackendError::Unsupported(
                "idempotent producer tags are not supported on Kafka: Kafka's idempotence belongs to one producer \
                 session (its producer id and epoch are assigned by the broker), so a retried request cannot be \
                 matched to an earlier one; publish without a producer tag"
                    .into(),
            ));
        }
        let records = req.records.into_iter().map(|r| (r.partition, r)).collect();
        self.send_all(topic, records).await
    }

    async fn peek(&self, topic: &str, req: PeekRequest) -> BResult<Vec<Message>> {
        let t = topic.to_string();
        self.meta_call(move |meta, base, brokers| {
            let n = topic_partitions(meta, brokers, &t)?;
            let parts: Vec<u32> = match req.partition {
                Some(p) => {
                    support::check_partition(&t, p, n, "")?;
                    vec![p]
                }
                None => (0..n).collect(),
            };
            let marks = watermarks(meta, &parts.iter().map(|p| (t.clone(), *p)).collect::<Vec<_>>())?;
            let by_time = match req.from {
                PeekFrom::Time(ts) => offsets_for_time(meta, &t, &parts, ts)?,
                _ => HashMap::new(),
            };
            let max = support::clamp_max(req.max);
            let mut spans = Vec::new();
            for p in &parts {
                let (lo, hi) = marks.get(&(t.clone(), *p)).copied().unwrap_or((0, 0));
                let start = match support::peek_start(&t, *p, &req, (lo, hi), req.partition.is_some(), "")? {
                    Start::At(o) => o,
                    Start::Time(_) => by_time.get(p).copied().flatten().unwrap_or(hi).clamp(lo, hi),
                };
                // Read to the partition's end as the fetch sees it (EOF), not just to the watermark
                // asked for above: the same on Kafka, and right on brokers whose ListOffsets lags.
                spans.push(Span { partition: *p, start, end: u64::MAX, max });
            }
            let mut out = Vec::new();
            let complete = read_spans(base, brokers, &t, &spans, READ_TIMEOUT, &mut |m| {
                out.push(m);
                Ok(())
            })?;
            if !complete && out.is_empty() {
                return Err(BackendError::Unavailable(format!(
                    "reading {t} from {brokers} returned nothing within {} s although the watermarks show records; \
                     is the partition leader reachable?",
                    READ_TIMEOUT.as_secs()
                )));
            }
            if let PeekFrom::Time(ts) = req.from {
                // Records before the first one at or after `ts` are not asked for. (Kafka's
                // offsets-for-times never points before it; some Kafka-protocol brokers answer
                // offset 0 when no record is that new.)
                let mut seen: HashMap<u32, bool> = HashMap::new();
                out.retain(|m| {
                    let reached = seen.entry(m.partition).or_insert(false);
                    *reached |= m.timestamp >= ts;
                    *reached
                });
            }
            Ok(support::merge_peeked(out, &req.from, max))
        })
        .await
    }

    async fn fetch(&self, topic: &str, partition: u32, offset: u64, max: usize, wait_ms: u64) -> BResult<Vec<Message>> {
        let t = topic.to_string();
        let wait = support::clamp_wait(wait_ms);
        self.meta_call(move |meta, base, brokers| {
            let n = topic_partitions(meta, brokers, &t)?;
            support::check_partition(&t, partition, n, "")?;
            let (lo, hi) =
                watermarks(meta, &[(t.clone(), partition)])?.get(&(t.clone(), partition)).copied().unwrap_or((0, 0));
            support::check_offset(&t, partition, offset, (lo, hi), "")?;
            let max = support::clamp_max(max);
            let mut out = Vec::new();
            if offset < hi {
                let span = Span { partition, start: offset, end: u64::MAX, max };
                read_spans(base, brokers, &t, &[span], READ_TIMEOUT, &mut |m| {
                    out.push(m);
                    Ok(())
                })?;
                return Ok(out);
            }
            if wait.is_zero() {
                return Ok(out);
            }
            // Long poll at the end: wait for the first new record, then take what else is already here.
            let span = Span { partition, start: offset, end: u64::MAX, max };
            let c: BaseConsumer = create(&reader_config(base), brokers)?;
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&t, partition as i32, Offset::Offset(span.start as i64))
                .map_err(|e| kerr("building an assignment", &e))?;
            c.assign(&tpl).map_err(|e| kerr(&format!("assigning {t}/{partition} to a reader"), &e))?;
            let deadline = Instant::now() + wait;
            loop {
                let now = Instant::now();
                let timeout = if out.is_empty() {
                    if now >= deadline {
                        break;
                    }
                    (deadline - now).min(Duration::from_millis(200))
                } else {
                    Duration::ZERO
                };
                match c.poll(timeout) {
                    Some(Ok(m)) if m.offset() >= offset as i64 => {
                        out.push(to_message(&m));
                        if out.len() >= max {
                            break;
                        }
                    }
                    Some(_) => {}
                    None if !out.is_empty() => break,
                    None => {}
                }
            }
            Ok(out)
        })
        .await
    }
    async fn search(&self, topic: &str, req: SearchRequest) -> BResult<SearchResult> {
        support::search::scan(self, topic, req, "").await
    }
}
