//! Topics are stream keys: found with `SCAN … TYPE stream` (cached briefly), described from
//! `XINFO STREAM`/`GROUPS` and `MEMORY USAGE` in one pipeline, created empty, deleted with `DEL`.

use super::RedisStreams;
use super::codec::{Snap, parse_groups, vbytes, vseq, vtext, vu64};
use crate::backend::{BResult, BackendError, TopicsApi};
use crate::core::names::validate_name;
use crate::core::{PartitionInfo, TopicConfig, TopicInfo};
use ::redis::{Pipeline, Value};
use async_trait::async_trait;
use std::time::{Duration, Instant};

/// How long a listing of the stream keys is reused.
const KEYS_TTL: Duration = Duration::from_secs(2);

impl RedisStreams {
    /// Every stream key (cached for 2 s unless `fresh`).
    pub(super) async fn stream_keys(&self, fresh: bool) -> BResult<Vec<String>> {
        if !fresh
            && let Some((at, keys)) = self.keys.lock().as_ref()
            && at.elapsed() < KEYS_TTL
        {
            return Ok(keys.clone());
        }
        let mut keys = Vec::new();
        let mut cursor = "0".to_string();
        loop {
            let mut c = ::redis::cmd("SCAN");
            c.arg(&cursor).arg("COUNT").arg(1000).arg("TYPE").arg("stream");
            let v = self.q("listing streams (SCAN)", &c).await?;
            let parts = vseq(&v);
            cursor = parts.first().and_then(vtext).unwrap_or_else(|| "0".into());
            for k in parts.get(1).map(vseq).unwrap_or_default() {
                match vbytes(k).map(|b| String::from_utf8(b.to_vec())) {
                    Some(Ok(k)) => keys.push(k),
                    _ => tracing::debug!("skipping a stream whose key is not UTF-8: {k:?}"),
                }
            }
            if cursor == "0" {
                break;
            }
        }
        keys.sort();
        keys.dedup();
        *self.keys.lock() = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }

    pub(super) fn forget_keys(&self) {
        *self.keys.lock() = None;
    }

    pub(super) async fn snap(&self, key: &str) -> BResult<Snap> {
        let v = self.qk(key, "reading the stream", ::redis::cmd("XINFO").arg("STREAM").arg(key)).await?;
        let s = Snap::parse(&v);
        if s.holes() && self.warned.lock().insert(key.to_string()) {
            tracing::warn!(
                "stream {key} has entries deleted with XDEL in its middle (up to {}); depot's offsets count the \
                 entries that remain and may not match what consumers counted",
                s.max_deleted
            );
        }
        Ok(s)
    }

    pub(super) fn topic_info(
        &self,
        key: &str,
        stream: &Value,
        groups: Option<&Value>,
        mem: Option<&Value>,
    ) -> TopicInfo {
        let s = Snap::parse(stream);
        let rows = groups.map(parse_groups).unwrap_or_default();
        let delivered: u64 =
            rows.iter().map(|g| g.entries_read.or_else(|| g.lag.map(|l| s.end().saturating_sub(l))).unwrap_or(0)).sum();
        TopicInfo {
            name: key.to_string(),
            config: TopicConfig::with_partitions(1),
            partitions: vec![PartitionInfo {
                partition: 0,
                log_start: s.start(),
                end_offset: s.end(),
                size_bytes: mem.and_then(vu64).unwrap_or(0),
                // A stream is a radix tree of listpack nodes: the closest thing to segments.
                segments: s.nodes as usize,
                rate_in: self.rate(&format!("in\0{key}"), s.added),
                rate_out: self.rate(&format!("out\0{key}"), delivered),
            }],
        }
    }

    pub(super) fn describe_pipe(p: &mut Pipeline, key: &str) {
        p.cmd("XINFO").arg("STREAM").arg(key);
        p.cmd("XINFO").arg("GROUPS").arg(key);
        p.cmd("MEMORY").arg("USAGE").arg(key);
    }
}

#[async_trait]
impl TopicsApi for RedisStreams {
    async fn list_topics(&self) -> BResult<Vec<TopicInfo>> {
        let keys = self.stream_keys(true).await?;
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut p = ::redis::pipe();
            p.ignore_errors();
            for k in chunk {
                Self::describe_pipe(&mut p, k);
            }
            let r = self.run("describing streams", &p).await?;
            for (k, r) in chunk.iter().zip(r.chunks(3)) {
                // Deleted since the scan: gone from the list.
                let Some(Ok(stream)) = r.first() else { continue };
                let groups = r.get(1).and_then(|g| g.as_ref().ok());
                let mem = r.get(2).and_then(|m| m.as_ref().ok());
                out.push(self.topic_info(k, stream, groups, mem));
            }
        }
        Ok(out)
    }

    async fn describe_topic(&self, name: &str) -> BResult<TopicInfo> {
        let mut p = ::redis::pipe();
        p.ignore_errors();
        Self::describe_pipe(&mut p, name);
        let mut r = self.run("describing the stream", &p).await?.into_iter();
        let stream = match r.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(self.key_err(name, "describing the stream", e)),
            None => return Err(BackendError::Internal("Redis answered a pipeline with nothing".into())),
        };
        let groups = r.next().and_then(Result::ok);
        let mem = r.next().and_then(Result::ok);
        Ok(self.topic_info(name, &stream, groups.as_ref(), mem.as_ref()))
    }

    async fn create_topic(&self, name: &str, config: TopicConfig) -> BResult<TopicInfo> {
        validate_name("topic", name)?;
        config.validate()?;
        if config.partitions != 1 {
            return Err(BackendError::BadRequest(format!(
                "a Redis stream has exactly one partition, not {}: create one stream per partition you need \
                 (e.g. {name}-0, {name}-1, …) or ask for 1",
                config.partitions
            )));
        }
        if config.retention_ms.is_some() || config.retention_bytes.is_some() {
            return Err(BackendError::Unsupported(
                "Redis Streams have no retention by age or size: they are trimmed by count or id, by the producer \
                 (XADD … MAXLEN/MINID) or by a job running XTRIM; create the topic without retention"
                    .into(),
            ));
        }
        if config.segment_bytes.is_some() {
            return Err(BackendError::Unsupported(
                "Redis Streams have no segments of their own (node sizes are the server's stream-node-max-bytes \
                 setting); create the topic without a segment size"
                    .into(),
            ));
        }
        let t = self.q("checking the key", ::redis::cmd("TYPE").arg(name)).await?;
        match vtext(&t).as_deref() {
            Some("none") => {}
            Some("stream") => return Err(BackendError::Conflict(format!("topic {name} already exists"))),
            other => {
                return Err(BackendError::Conflict(format!(
                    "the Redis key {name} already exists and holds a {}, not a stream; pick another name",
                    other.unwrap_or("value")
                )));
            }
        }
        // An empty stream: a throw-away group with MKSTREAM (XADD + XDEL would count an entry).
        let tmp = format!("depot-create-{}", std::process::id());
        let mut p = ::redis::pipe();
        p.atomic().ignore_errors();
        p.cmd("XGROUP").arg("CREATE").arg(name).arg(&tmp).arg("$").arg("MKSTREAM");
        p.cmd("XGROUP").arg("DESTROY").arg(name).arg(&tmp);
        for r in self.run("creating the stream", &p).await? {
            r.map_err(|e| self.key_err(name, "creating the stream", e))?;
        }
        self.forget_keys();
        self.anchors.forget(name);
        self.describe_topic(name).await
    }

    async fn delete_topic(&self, name: &str) -> BResult<()> {
        let t = self.q("checking the key", ::redis::cmd("TYPE").arg(name)).await?;
        match vtext(&t).as_deref() {
            Some("stream") => {}
            Some("none") | None => {
                return Err(BackendError::NotFound(format!(
                    "topic {name} not found; Redis at {} has no stream by that name",
                    self.target
                )));
            }
            Some(other) => {
                return Err(BackendError::Refused(format!(
                    "the Redis key {name} holds a {other}, not a stream; depot deletes streams only"
                )));
            }
        }
        self.q("deleting the stream", ::redis::cmd("DEL").arg(name)).await?;
        self.forget_keys();
        self.anchors.forget(name);
        Ok(())
    }
}
