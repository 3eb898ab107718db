//! Redis Streams (a `kind = "redis"` context) through the `redis` crate, the way
//! redis-benchmark drives a server: pipelines. Producers send B `XADD`s per round trip (field
//! `value`, as depot's Redis backend writes records); consumers of one group read with
//! `XREADGROUP … COUNT B BLOCK`, and acknowledge each batch with one `XACK` sent in the same
//! round trip as the next read. One connection per producer and consumer. The stream is created
//! and deleted through depot's own Redis backend.

use super::target::{BenchTarget, Consumer, Method, Producer, Workload};
use crate::backend::context::Context as BackendContext;
use crate::backend::redis::{self as depot_redis, RedisConfig, RedisStreams};
use crate::backend::{Backend, TopicsApi};
use crate::core::TopicConfig;
use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, Value};
use anyhow::{Context, Result};
use async_trait::async_trait;
use bytes::Bytes;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(15);

pub struct RedisTarget {
    name: String,
    client: Client,
    /// depot's backend, for the stream around the measurement.
    admin: RedisStreams,
}

impl RedisTarget {
    pub async fn connect(c: &BackendContext) -> Result<RedisTarget> {
        let cfg = RedisConfig::from_context(c)?;
        let admin = depot_redis::connect(&cfg).await?;
        let client = Client::open(cfg.url.as_str()).with_context(|| format!("context {}: the Redis URL", c.name))?;
        Ok(RedisTarget { name: c.name.clone(), client, admin })
    }

    async fn connection(&self) -> Result<MultiplexedConnection> {
        let cfg = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        self.client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
            .with_context(|| format!("connecting to Redis ({})", self.name))
    }
}

#[async_trait]
impl BenchTarget for RedisTarget {
    fn method(&self, w: &Workload) -> Method {
        Method {
            client: format!(
                "Redis Streams at {} (context {}) through the redis crate, one connection per producer and consumer",
                self.admin.target().trim_start_matches("redis "),
                self.name
            ),
            topic: "one stream key (a stream is one partition)".into(),
            publish: format!(
                "{} producers, each pipelining {} XADD (field `value`) per round trip and waiting for the ids",
                w.producers, w.batch
            ),
            consume: format!(
                "{} consumers of one group: XREADGROUP COUNT {} BLOCK 100, the batch's XACK sent in the same round \
                 trip as the next read",
                w.consumers, w.batch
            ),
        }
    }

    async fn create_topic(&self, topic: &str, _w: &Workload) -> Result<()> {
        self.admin.create_topic(topic, TopicConfig::with_partitions(1)).await?;
        Ok(())
    }

    async fn producer(&self, topic: &str, _index: usize, _w: &Workload) -> Result<Box<dyn Producer>> {
        Ok(Box::new(RedisProducer { con: self.connection().await?, key: topic.to_string() }))
    }

    async fn consumer(&self, topic: &str, group: &str, index: usize, w: &Workload) -> Result<Box<dyn Consumer>> {
        let mut con = self.connection().await?;
        let created =
            ::redis::cmd("XGROUP").arg("CREATE").arg(topic).arg(group).arg("0").query_async::<Value>(&mut con).await;
        match created {
            Ok(_) => {}
            Err(e) if e.code() == Some("BUSYGROUP") => {}
            Err(e) => return Err(e).with_context(|| format!("creating group {group} on stream {topic}")),
        }
        Ok(Box::new(RedisConsumer {
            con,
            key: topic.to_string(),
            group: group.to_string(),
            name: format!("depot-bench-{index}"),
            batch: w.batch,
            last: Vec::new(),
            to_ack: Vec::new(),
        }))
    }

    /// Deleting the stream key deletes its groups.
    async fn cleanup(&self, topic: &str, _group: &str) -> Result<()> {
        self.admin.delete_topic(topic).await.with_context(|| format!("delete stream {topic}"))
    }
}

struct RedisProducer {
    con: MultiplexedConnection,
    key: String,
}

#[async_trait]
impl Producer for RedisProducer {
    async fn send(&mut self, values: Vec<Bytes>) -> Result<()> {
        let mut p = ::redis::pipe();
        for v in &values {
            p.cmd("XADD").arg(&self.key).arg("*").arg("value").arg(v.as_ref());
        }
        let ids: Vec<Value> = p.query_async(&mut self.con).await.context("XADD pipeline")?;
        anyhow::ensure!(ids.len() == values.len(), "Redis answered {} of {} XADDs", ids.len(), values.len());
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

struct RedisConsumer {
    con: MultiplexedConnection,
    key: String,
    group: String,
    name: String,
    batch: usize,
    /// Ids of the last batch read.
    last: Vec<Vec<u8>>,
    /// Ids committed but not yet acknowledged (sent with the next read).
    to_ack: Vec<Vec<u8>>,
}

impl RedisConsumer {
    fn xack(&self, p: &mut ::redis::Pipeline) {
        if !self.to_ack.is_empty() {
            p.cmd("XACK").arg(&self.key).arg(&self.group).arg(&self.to_ack).ignore();
        }
    }
}

#[async_trait]
impl Consumer for RedisConsumer {
    async fn poll(&mut self, wait: Duration) -> Result<Vec<Bytes>> {
        let mut p = ::redis::pipe();
        self.xack(&mut p);
        p.cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.group)
            .arg(&self.name)
            .arg("COUNT")
            .arg(self.batch)
            .arg("BLOCK")
            .arg(wait.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(">");
        let replies: Vec<Value> = p.query_async(&mut self.con).await.context("XACK + XREADGROUP")?;
        self.to_ack.clear();
        let entries = replies.first().map(entries).unwrap_or_default();
        let mut values = Vec::with_capacity(entries.len());
        for (id, value) in entries {
            self.last.push(id);
            values.push(value);
        }
        Ok(values)
    }

    async fn commit(&mut self) -> Result<()> {
        self.to_ack.append(&mut self.last);
        Ok(())
    }

    async fn close(&mut self) -> Result<()> {
        self.commit().await?;
        if !self.to_ack.is_empty() {
            let mut p = ::redis::pipe();
            self.xack(&mut p);
            p.query_async::<()>(&mut self.con).await.context("XACK")?;
            self.to_ack.clear();
        }
        Ok(())
    }
}

fn items(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        _ => &[],
    }
}

fn bulk(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

/// `(id, value field)` of each entry of an `XREADGROUP` reply (RESP2 arrays or a RESP3 map;
/// nil when the block timed out). An entry without a `value` field has an empty value.
fn entries(reply: &Value) -> Vec<(Vec<u8>, Bytes)> {
    let streams: Vec<&Value> = match reply {
        Value::Map(m) => m.iter().map(|(_, entries)| entries).collect(),
        v => items(v).iter().filter_map(|s| items(s).get(1)).collect(),
    };
    let mut out = Vec::new();
    for entry in streams.into_iter().flat_map(items) {
        let parts = items(entry);
        let Some(id) = parts.first().and_then(bulk) else { continue };
        let fields = parts.get(1).map(items).unwrap_or_default();
        let value = fields
            .chunks(2)
            .find(|kv| kv.first().and_then(bulk) == Some(b"value"))
            .and_then(|kv| kv.get(1).and_then(bulk))
            .map(Bytes::copy_from_slice)
            .unwrap_or_default();
        out.push((id.to_vec(), value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn xreadgroup_replies_give_ids_and_values_in_either_protocol() {
        let entry = |id: &str, fields: Vec<Value>| Value::Array(vec![b(id), Value::Array(fields)]);
        let list = Value::Array(vec![
            entry("1-0", vec![b("value"), b("v1")]),
            entry("1-1", vec![b("key"), b("k"), b("value"), b("v2")]),
            entry("1-2", vec![b("other"), b("x")]),
        ]);
        let want = vec![
            (b"1-0".to_vec(), Bytes::from_static(b"v1")),
            (b"1-1".to_vec(), Bytes::from_static(b"v2")),
            (b"1-2".to_vec(), Bytes::new()),
        ];
        let resp2 = Value::Array(vec![Value::Array(vec![b("s"), list.clone()])]);
        assert_eq!(entries(&resp2), want);
        let resp3 = Value::Map(vec![(b("s"), list)]);
        assert_eq!(entries(&resp3), want);
        assert!(entries(&Value::Nil).is_empty(), "a BLOCK that timed out");
    }
}
