//! Records: publishing (`XADD` in a transaction with `XINFO STREAM`, so the offsets are known),
//! reading from an offset (found by the walk), and waiting for new entries (`XREAD BLOCK`).

use super::ONE_PARTITION;
use super::RedisStreams;
use super::codec::{Entry, Sid, Snap, to_fields, to_message, vsid, xadd, xread_entries};
use super::walk::Bound;
use crate::backend::support::{self, Start};
use crate::backend::{BResult, BackendError, MessagesApi};
use crate::core::{Ack, Message, PeekFrom, PeekRequest, PublishRequest, SearchRequest, SearchResult};
use ::redis::Value;
use async_trait::async_trait;
use std::time::Duration;

impl RedisStreams {
    /// Up to `max` records from `offset` (in `start..=end`).
    pub(super) async fn read_from(&self, key: &str, s: &Snap, offset: u64, max: usize) -> BResult<Vec<Message>> {
        if offset >= s.end() {
            return Ok(Vec::new());
        }
        let id = self.walk(key, s).id_at(offset).await?;
        let entries = self.range(key, false, Bound::Incl(id), Bound::Max, max).await?;
        if let Some(e) = entries.last() {
            self.anchors.remember(key, offset + entries.len() as u64 - 1, e.id);
        }
        Ok(entries.iter().enumerate().map(|(i, e)| to_message(key, offset + i as u64, e)).collect())
    }

    /// Waits (on a connection of its own) up to `wait` for entries after `after`.
    pub(super) async fn wait_for(&self, key: &str, after: Sid, count: usize, wait: Duration) -> BResult<Vec<Entry>> {
        let ms = (wait.as_millis() as u64).max(1);
        let mut con = self.open(wait + Duration::from_secs(5)).await?;
        let mut c = ::redis::cmd("XREAD");
        c.arg("COUNT").arg(count).arg("BLOCK").arg(ms).arg("STREAMS").arg(key).arg(after.to_string());
        let v = c.query_async::<Value>(&mut con).await.map_err(|e| self.key_err(key, "waiting for new entries", e))?;
        Ok(xread_entries(&v))
    }
}

#[async_trait]
impl MessagesApi for RedisStreams {
    async fn publish(&self, topic: &str, req: PublishRequest) -> BResult<Vec<Ack>> {
        support::check_records(topic, &req, 1, ONE_PARTITION)?;
        support::no_tombstones(&req, "Redis Streams")?;
        if req.producer.is_some() {
            return Err(BackendError::Unsupported(
                "Redis Streams have no idempotent producers (producer id + sequence); publish without a producer id \
                 and make consumers idempotent, or deduplicate on a key of your own"
                    .into(),
            ));
        }
        let n = req.records.len();
        let mut p = ::redis::pipe();
        p.atomic().ignore_errors();
        for r in &req.records {
            p.add_command(xadd(topic, &to_fields(r)));
        }
        p.cmd("XINFO").arg("STREAM").arg(topic);
        let results = self.run("publishing", &p).await?;
        let (adds, info) = results.split_at(n.min(results.len()));
        let info = match info.first() {
            Some(Ok(v)) => Snap::parse(v),
            Some(Err(e)) => return Err(self.key_err(topic, "publishing", e.clone())),
            None => return Err(BackendError::Internal("Redis answered a transaction with too few results".into())),
        };
        let written = adds.iter().take_while(|r| matches!(r, Ok(v) if vsid(v).is_some())).count();
        if written < n {
            let why = match adds.get(written) {
                Some(Err(e)) => self.key_err(topic, "publishing", e.clone()).to_string(),
                _ => format!("topic {topic} not found; Redis at {} has no stream by that name", self.target),
            };
            if written == 0 {
                return Err(match adds.first() {
                    Some(Err(e)) => self.key_err(topic, "publishing", e.clone()),
                    _ => BackendError::NotFound(why),
                });
            }
            return Err(BackendError::Internal(format!(
                "only {written} of {n} records were published to {topic} (up to offset {}): {why}",
                info.end().saturating_sub(1)
            )));
        }
        let first = info.end().saturating_sub(n as u64);
        Ok((0..n as u64)
            .map(|i| Ack { topic: topic.to_string(), partition: 0, offset: first + i, duplicate: false })
            .collect())
    }

    async fn peek(&self, topic: &str, req: PeekRequest) -> BResult<Vec<Message>> {
        if let Some(p) = req.partition {
            support::check_partition(topic, p, 1, ONE_PARTITION)?;
        }
        let max = support::clamp_max(req.max);
        let s = self.snap(topic).await?;
        let (start, end) = (s.start(), s.end());
        let from = match support::peek_start(topic, 0, &req, (start, end), true, "")? {
            Start::At(o) => o,
            Start::Time(ts) => self.walk(topic, &s).offset_for_time(ts).await?,
        };
        if matches!(req.from, PeekFrom::Latest(_)) && end - from <= max as u64 {
            // From the snapshot's last entry, so the offsets are the snapshot's. (More than `max`:
            // like the depot engine, `max` records from `end − n`.)
            let Some(last) = s.last else { return Ok(Vec::new()) };
            let mut entries = self.range(topic, true, Bound::Incl(last), Bound::Min, (end - from) as usize).await?;
            entries.reverse();
            let base = end - entries.len() as u64;
            return Ok(entries.iter().enumerate().map(|(i, e)| to_message(topic, base + i as u64, e)).collect());
        }
        self.read_from(topic, &s, from, max).await
    }

    async fn fetch(&self, topic: &str, partition: u32, offset: u64, max: usize, wait_ms: u64) -> BResult<Vec<Message>> {
        support::check_partition(topic, partition, 1, ONE_PARTITION)?;
        let max = support::clamp_max(max);
        let s = self.snap(topic).await?;
        let end = s.end();
        support::check_offset(topic, 0, offset, (s.start(), end), "")?;
        if offset < end || wait_ms == 0 {
            return self.read_from(topic, &s, offset, max).await;
        }
        let entries = self.wait_for(topic, s.last_generated, max, support::clamp_wait(wait_ms)).await?;
        Ok(entries.iter().enumerate().map(|(i, e)| to_message(topic, end + i as u64, e)).collect())
    }
    async fn search(&self, topic: &str, req: SearchRequest) -> BResult<SearchResult> {
        support::search::scan(self, topic, req, ONE_PARTITION).await
    }
}
