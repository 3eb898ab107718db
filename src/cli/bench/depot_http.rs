//! A depot server over its HTTP API (`--connect URL`, or a `kind = "depot"` context with a URL),
//! through depot's remote backend — the same reqwest client and JSON bodies any program would
//! send; the backend adds no calls of its own, so raw reqwest would measure the same thing.
//!
//! Consuming: the API's `pull` joins and leaves the group on every call (each a rebalance), so C
//! concurrent members would keep fencing each other out. A client of the HTTP API consumes as a
//! group the way a Kafka `assign` consumer does: consumer i owns the partitions p with
//! p mod C = i, long-polls each of them (one request in flight per partition) and commits the
//! group's offsets after each batch.

use super::target::{BenchTarget, Consumer, Method, Producer, Workload};
use crate::backend::remote::Remote;
use crate::backend::{BackendError, GroupsApi, MessagesApi, TopicsApi};
use crate::core::{CommitOffset, OutRecord, Payload, PublishRequest, TopicConfig};
use anyhow::{Context, Result};
use async_trait::async_trait;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// How long one fetch waits on the server for records.
const FETCH_WAIT_MS: u64 = 100;

pub struct HttpTarget {
    remote: Arc<Remote>,
}

impl HttpTarget {
    /// Points at the server and checks that it answers.
    pub async fn connect(url: &str, token: Option<String>) -> Result<HttpTarget> {
        let remote = Remote::new(url, token)?;
        remote.list_topics().await?;
        Ok(HttpTarget { remote: Arc::new(remote) })
    }
}

#[async_trait]
impl BenchTarget for HttpTarget {
    fn method(&self, w: &Workload) -> Method {
        Method {
            client: format!(
                "a depot server at {} over HTTP/JSON (depot's remote backend: reqwest and the API's own bodies)",
                self.remote.url()
            ),
            topic: format!("{} partitions", w.partitions),
            publish: format!(
                "{} producers, each POSTing {} records per request to /v1/topics/T/records (keyless: one partition \
                 per request, in turn) and waiting for the acks",
                w.producers, w.batch
            ),
            consume: format!(
                "{} consumers of one group: consumer i long-polls the partitions p with p mod {} = i (GET \
                 /v1/topics/T/partitions/p/records, up to {} records, waiting up to {FETCH_WAIT_MS} ms, one request \
                 in flight per partition) and commits after each batch (POST /v1/groups/G/commit)",
                w.consumers, w.consumers, w.batch
            ),
        }
    }

    async fn create_topic(&self, topic: &str, w: &Workload) -> Result<()> {
        self.remote.create_topic(topic, TopicConfig::with_partitions(w.partitions)).await?;
        Ok(())
    }

    async fn producer(&self, topic: &str, _index: usize, _w: &Workload) -> Result<Box<dyn Producer>> {
        Ok(Box::new(HttpProducer { remote: self.remote.clone(), topic: topic.to_string() }))
    }

    async fn consumer(&self, topic: &str, group: &str, index: usize, w: &Workload) -> Result<Box<dyn Consumer>> {
        let owned: Vec<u32> = (0..w.partitions).filter(|p| *p as usize % w.consumers.max(1) == index).collect();
        let (tx, rx) = mpsc::channel(owned.len().max(1));
        let mut tasks = JoinSet::new();
        for &p in &owned {
            tasks.spawn(fetch_loop(self.remote.clone(), topic.to_string(), p, w.batch, tx.clone()));
        }
        Ok(Box::new(HttpConsumer {
            remote: self.remote.clone(),
            topic: topic.to_string(),
            group: group.to_string(),
            owned: owned.len(),
            rx,
            _tasks: tasks,
            pending: BTreeMap::new(),
        }))
    }

    async fn redelivered(&self, _topic: &str, group: &str) -> Result<u64> {
        Ok(self.remote.describe_group(group).await?.redeliveries())
    }

    async fn cleanup(&self, topic: &str, group: &str) -> Result<()> {
        let deleted = self.remote.delete_topic(topic).await.with_context(|| format!("delete topic {topic}"));
        match self.remote.delete_group(group).await {
            Ok(()) | Err(BackendError::NotFound(_)) => {}
            Err(e) => return Err(e).with_context(|| format!("delete group {group}")),
        }
        deleted
    }
}

struct HttpProducer {
    remote: Arc<Remote>,
    topic: String,
}

#[async_trait]
impl Producer for HttpProducer {
    async fn send(&mut self, values: Vec<Bytes>) -> Result<()> {
        let n = values.len();
        let records =
            values.into_iter().map(|v| OutRecord { value: Some(Payload(v)), ..OutRecord::default() }).collect();
        let acks = self.remote.publish(&self.topic, PublishRequest { records, producer: None }).await?;
        anyhow::ensure!(acks.len() == n, "the server acknowledged {} of {n} records", acks.len());
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

/// What one partition's fetch loop hands its consumer: the partition, the offset after the
/// batch, the values.
type Fetched = Result<(u32, u64, Vec<Bytes>), BackendError>;

/// Long-polls one partition from its start, one request in flight, until the consumer goes away.
async fn fetch_loop(remote: Arc<Remote>, topic: String, partition: u32, max: usize, tx: mpsc::Sender<Fetched>) {
    let mut offset = 0u64;
    loop {
        let got = match remote.fetch(&topic, partition, offset, max, FETCH_WAIT_MS).await {
            Ok(msgs) if msgs.is_empty() => continue,
            Ok(msgs) => {
                offset = msgs.last().map_or(offset, |m| m.offset + 1);
                Ok((partition, offset, msgs.into_iter().map(|m| m.value.map(|v| v.0).unwrap_or_default()).collect()))
            }
            Err(e) => Err(e),
        };
        let failed = got.is_err();
        if tx.send(got).await.is_err() || failed {
            return;
        }
    }
}

struct HttpConsumer {
    remote: Arc<Remote>,
    topic: String,
    group: String,
    owned: usize,
    rx: mpsc::Receiver<Fetched>,
    /// The fetch loops, stopped when the consumer is dropped.
    _tasks: JoinSet<()>,
    /// Offsets to commit per partition.
    pending: BTreeMap<u32, u64>,
}

#[async_trait]
impl Consumer for HttpConsumer {
    async fn assigned(&mut self, _wait: Duration) -> Result<Option<usize>> {
        Ok(Some(self.owned))
    }

    async fn poll(&mut self, wait: Duration) -> Result<Vec<Bytes>> {
        if self.owned == 0 {
            tokio::time::sleep(wait).await;
            return Ok(Vec::new());
        }
        match tokio::time::timeout(wait, self.rx.recv()).await {
            Err(_) => Ok(Vec::new()),
            Ok(None) => anyhow::bail!("the fetch loops of {} stopped", self.topic),
            Ok(Some(Err(e))) => Err(e).with_context(|| format!("fetching from {}", self.topic)),
            Ok(Some(Ok((p, next, values)))) => {
                self.pending.insert(p, next);
                Ok(values)
            }
        }
    }

    async fn commit(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let offsets = std::mem::take(&mut self.pending)
            .into_iter()
            .map(|(partition, offset)| CommitOffset { topic: self.topic.clone(), partition, offset })
            .collect();
        self.remote.commit(&self.group, offsets).await?;
        Ok(())
    }

    async fn close(&mut self) -> Result<()> {
        self.commit().await
    }
}
