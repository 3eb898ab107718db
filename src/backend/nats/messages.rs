//! Records: publishing (keys and headers as NATS headers, producer tags as `Nats-Msg-Id`), and
//! reading stored messages by sequence (`STREAM.MSG.GET`, a few in flight), by time (where an
//! ephemeral consumer starting at that time would begin), and with a long poll.

use super::Nats;
use super::codec::{OFFSETS_ARE, ONE_PARTITION, ms_of, offsets, parse_header_block, record_headers, to_message};
use super::conn::{code, js_error};
use super::topics::publish_subject;
use crate::backend::support::{self, Start};
use crate::backend::{BResult, BackendError, MessagesApi};
use crate::core::time::fmt_ms;
use crate::core::{Ack, Message, PeekRequest, PublishRequest, SearchRequest, SearchResult};
use async_nats::jetstream::{self, stream};
use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::json;
use std::time::Duration;

/// The most records one read hands back.
const MAX_READ: usize = 10_000;
/// Raw gets in flight at once while reading a range.
const READ_WINDOW: u64 = 32;
pub(super) const EPHEMERAL_IDLE: Duration = Duration::from_secs(30);
/// The last millisecond JetStream can be asked about (9999-12-31T23:59:59.999Z: Go's RFC 3339
/// has four-digit years); no message is later, so later times resolve to the end.
const LAST_NATS_MS: i64 = 253_402_300_799_999;

#[derive(serde::Deserialize)]
struct GetMsg {
    message: stream::RawMessage,
}

impl Nats {
    /// The stored message `seq` of `stream` (`STREAM.MSG.GET`), or with `next_by` the first one at
    /// or after `seq` on a subject matching it; `None` when there is none.
    pub(super) async fn get_msg(&self, stream: &str, seq: u64, next_by: Option<&str>) -> BResult<Option<Message>> {
        let mut body = json!({ "seq": seq });
        if let Some(f) = next_by {
            body["next_by_subj"] = json!(f);
        }
        let subject = format!("STREAM.MSG.GET.{stream}");
        let raw = match self.api::<GetMsg>(&subject, &body).await? {
            Ok(m) => m.message,
            Err(e) if code(&e) == jetstream::ErrorCode::NO_MESSAGE_FOUND.0 => return Ok(None),
            Err(e) if code(&e) == jetstream::ErrorCode::STREAM_NOT_FOUND.0 => {
                return Err(BackendError::NotFound(format!(
                    "topic {stream} not found: NATS at {} has no JetStream stream named {stream}",
                    self.url
                )));
            }
            Err(e) => return Err(js_error(&format!("reading message {seq} of stream {stream}"), &e)),
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let garbled = |what: &str, e: base64::DecodeError| {
            BackendError::Internal(format!(
                "JetStream returned message {} of {stream} with unreadable {what}: {e}",
                raw.sequence
            ))
        };
        let payload = b64.decode(raw.payload.as_bytes()).map_err(|e| garbled("data", e))?;
        let headers = match &raw.headers {
            Some(h) if !h.is_empty() => {
                parse_header_block(&b64.decode(h.as_bytes()).map_err(|e| garbled("headers", e))?)
            }
            _ => Vec::new(),
        };
        Ok(Some(to_message(stream, raw.sequence, ms_of(raw.time), headers, Bytes::from(payload))))
    }

    /// Messages of `stream` with sequences in `from..to`, at most `max`, in order (gaps skipped).
    /// A few reads are in flight at once.
    pub(super) async fn read_range(&self, stream: &str, from: u64, to: u64, max: usize) -> BResult<Vec<Message>> {
        let mut out: Vec<Message> = Vec::new();
        let mut at = from;
        while at < to && out.len() < max {
            let want = ((max - out.len()) as u64).min(READ_WINDOW);
            let hi = at.saturating_add(want).min(to);
            let mut set = tokio::task::JoinSet::new();
            for seq in at..hi {
                let (me, name) = (self.clone(), stream.to_string());
                set.spawn(async move { me.get_msg(&name, seq, None).await });
            }
            let mut got = Vec::new();
            while let Some(joined) = set.join_next().await {
                let r = joined.map_err(|e| BackendError::Internal(format!("a read task failed: {e}")))?;
                got.extend(r?);
            }
            got.sort_by_key(|m| m.offset);
            let found = !got.is_empty();
            out.extend(got);
            at = hi;
            if !found && at < to {
                // A run of deleted messages: jump to the next message there is.
                match self.get_msg(stream, at, Some(">")).await? {
                    Some(m) if m.offset < to => at = m.offset,
                    _ => break,
                }
            }
        }
        out.truncate(max);
        Ok(out)
    }

    /// The first sequence with a timestamp at or after `ts_ms` (the end when there is none), as
    /// JetStream computes it for a consumer that starts by time.
    pub(super) async fn seq_for_time(&self, stream: &str, ts_ms: i64, start: u64, end: u64) -> BResult<u64> {
        if start >= end || ts_ms > LAST_NATS_MS {
            return Ok(end);
        }
        let cfg = json!({ "deliver_policy": "by_start_time", "opt_start_time": fmt_ms(ts_ms.max(0)) });
        let c = self.create_ephemeral(stream, cfg, EPHEMERAL_IDLE).await?;
        let seq = c.delivered.stream_sequence + 1;
        self.drop_ephemeral(stream, &c.name).await;
        Ok(seq.clamp(start, end))
    }

    /// Publishes prepared messages to one subject, in order, and waits for every ack.
    pub(super) async fn send_all(
        &self,
        topic: &str,
        subject: &str,
        msgs: Vec<jetstream::message::PublishMessage>,
    ) -> BResult<Vec<jetstream::publish::PublishAck>> {
        let publish_error = |e: jetstream::context::PublishError| {
            use jetstream::context::PublishErrorKind as K;
            match e.kind() {
                K::StreamNotFound => BackendError::NotFound(format!(
                    "topic {topic} not found: no JetStream stream takes subject {subject} at {}",
                    self.url
                )),
                K::TimedOut | K::BrokenPipe => BackendError::Unavailable(format!(
                    "publishing to {topic} at {}: {e}; the records may or may not have been stored — peek to check",
                    self.url
                )),
                K::MaxPayloadExceeded => BackendError::BadRequest(format!("publishing to {topic}: {e}")),
                _ => BackendError::Refused(format!("JetStream refused a record for {topic}: {e}")),
            }
        };
        let mut pending = Vec::with_capacity(msgs.len());
        for m in msgs {
            pending.push(self.js.send_publish(subject.to_string(), m).await.map_err(publish_error)?);
        }
        let mut acks = Vec::with_capacity(pending.len());
        for p in pending {
            acks.push(p.await.map_err(publish_error)?);
        }
        Ok(acks)
    }
}

#[async_trait]
impl MessagesApi for Nats {
    async fn publish(&self, topic: &str, req: PublishRequest) -> BResult<Vec<Ack>> {
        support::check_records(topic, &req, 1, ONE_PARTITION)?;
        support::no_tombstones(&req, "NATS JetStream")?;
        if req.producer.is_some() {
            support::idempotent_partition(&req)?;
        }
        let info = self.stream_info(topic).await?;
        let subject = publish_subject(&info)?;
        // Everything is checked before anything is sent: a refused batch leaves nothing behind.
        let mut msgs = Vec::with_capacity(req.records.len());
        for (i, r) in req.records.iter().enumerate() {
            let extra: Vec<(&str, String)> = match req.producer {
                Some(tag) => {
                    vec![("Nats-Msg-Id", format!("depot-{}-{}", tag.id, u64::from(tag.sequence) + i as u64))]
                }
                None => Vec::new(),
            };
            // no_tombstones refused a null value above.
            let value = r.value.as_ref().map(|v| v.0.clone()).unwrap_or_default();
            let mut m = jetstream::message::PublishMessage::build().payload(value);
            if let Some(h) = record_headers(r, &extra)? {
                m = m.headers(h);
            }
            msgs.push(m);
        }
        let acks = self.send_all(topic, &subject, msgs).await?;
        Ok(acks
            .into_iter()
            .map(|a| Ack { topic: topic.to_string(), partition: 0, offset: a.sequence, duplicate: a.duplicate })
            .collect())
    }

    async fn peek(&self, topic: &str, req: PeekRequest) -> BResult<Vec<Message>> {
        if let Some(p) = req.partition {
            support::check_partition(topic, p, 1, ONE_PARTITION)?;
        }
        let info = self.stream_info(topic).await?;
        let (start, end) = offsets(&info.state);
        let max = req.max.clamp(1, MAX_READ);
        let from = match support::peek_start(topic, 0, &req, (start, end), req.partition.is_some(), OFFSETS_ARE)? {
            Start::At(o) => o,
            Start::Time(ts) => self.seq_for_time(topic, ts, start, end).await?,
        };
        self.read_range(topic, from, end, max).await
    }

    async fn fetch(&self, topic: &str, partition: u32, offset: u64, max: usize, wait_ms: u64) -> BResult<Vec<Message>> {
        support::check_partition(topic, partition, 1, ONE_PARTITION)?;
        let info = self.stream_info(topic).await?;
        let (start, end) = offsets(&info.state);
        support::check_offset(topic, 0, offset, (start, end), OFFSETS_ARE)?;
        let max = max.clamp(1, MAX_READ);
        let got = self.read_range(topic, offset, end, max).await?;
        if !got.is_empty() || wait_ms == 0 {
            return Ok(got);
        }
        // Long poll: a reader starting at `offset` with one pull request waiting up to wait_ms.
        let wait = support::clamp_wait(wait_ms);
        let cfg = json!({ "deliver_policy": "by_start_sequence", "opt_start_seq": offset.max(1) });
        let c = self.create_ephemeral(topic, cfg, wait + EPHEMERAL_IDLE).await?;
        let first = self.next_message(topic, &c.name, Some(wait)).await;
        self.drop_ephemeral(topic, &c.name).await;
        let Some(first) = first? else { return Ok(Vec::new()) };
        let seq = first.info().map(|i| i.stream_sequence).unwrap_or(offset);
        let end = offsets(&self.stream_info(topic).await?.state).1;
        self.read_range(topic, seq, end, max).await
    }
    async fn search(&self, topic: &str, req: SearchRequest) -> BResult<SearchResult> {
        support::search::scan(self, topic, req, ONE_PARTITION).await
    }
}
