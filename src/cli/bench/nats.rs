//! NATS JetStream (a `kind = "nats"` context) through async-nats, the way `nats bench` drives
//! it: one connection per producer and consumer; producers publish asynchronously with a window of
//! outstanding PubAcks; consumers share one durable pull consumer, pull in batches and ack every
//! message. The stream is created and deleted through depot's own NATS backend (so it is the
//! stream depot makes: file storage, limits retention).

use super::target::{BenchTarget, Consumer, Method, Producer, Workload};
use crate::backend::TopicsApi;
use crate::backend::context::Context as BackendContext;
use crate::backend::nats::{self, Nats, NatsConfig};
use crate::core::TopicConfig;
use anyhow::{Context, Result, anyhow};
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::context::{ContextBuilder, PublishAckFuture};
use async_nats::jetstream::{self, Message};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::time::Duration;

/// How long one pull request stays open on the server.
const PULL_EXPIRES: Duration = Duration::from_secs(5);

pub struct NatsTarget {
    name: String,
    cfg: NatsConfig,
    /// depot's backend, for the stream and the group around the measurement.
    admin: Nats,
}

impl NatsTarget {
    pub async fn connect(c: &BackendContext) -> Result<NatsTarget> {
        let cfg = NatsConfig::from_context(c)?;
        let admin = nats::connect(&cfg).await?;
        Ok(NatsTarget { name: c.name.clone(), cfg, admin })
    }

    async fn js(&self, who: &str, w: &Workload) -> Result<jetstream::Context> {
        let client = nats::client(&self.cfg, who).await?;
        Ok(ContextBuilder::new().max_ack_inflight(w.batch.max(5000)).build(client))
    }
}

fn max_ack_pending(w: &Workload) -> i64 {
    (w.batch * w.consumers.max(1) * 4) as i64
}

#[async_trait]
impl BenchTarget for NatsTarget {
    fn method(&self, w: &Workload) -> Method {
        Method {
            client: format!(
                "NATS JetStream at {} (context {}) through async-nats, one connection per producer and consumer",
                self.cfg.url, self.name
            ),
            topic: "one stream as depot creates it (file storage; a stream is one partition)".into(),
            publish: format!(
                "{} producers, each publishing asynchronously with at most {} PubAcks outstanding (a sliding window)",
                w.producers, w.batch
            ),
            consume: format!(
                "{} clients of one durable pull consumer (explicit acks, max_ack_pending {}), pulling batches of {} \
                 (expires {} s) and acking every message",
                w.consumers,
                max_ack_pending(w),
                w.batch,
                PULL_EXPIRES.as_secs()
            ),
        }
    }

    async fn create_topic(&self, topic: &str, _w: &Workload) -> Result<()> {
        self.admin.create_topic(topic, TopicConfig::with_partitions(1)).await?;
        Ok(())
    }

    async fn producer(&self, topic: &str, index: usize, w: &Workload) -> Result<Box<dyn Producer>> {
        let js = self.js(&format!("depot-bench-producer-{index}"), w).await?;
        Ok(Box::new(NatsProducer { js, subject: topic.to_string(), window: w.batch, pending: VecDeque::new() }))
    }

    async fn consumer(&self, topic: &str, group: &str, index: usize, w: &Workload) -> Result<Box<dyn Consumer>> {
        let js = self.js(&format!("depot-bench-consumer-{index}"), w).await?;
        let stream = js.get_stream(topic).await.map_err(|e| anyhow!("stream {topic}: {e}"))?;
        let config = pull::Config {
            durable_name: Some(group.to_string()),
            ack_policy: AckPolicy::Explicit,
            deliver_policy: DeliverPolicy::All,
            ack_wait: Duration::from_secs(30),
            max_ack_pending: max_ack_pending(w),
            ..pull::Config::default()
        };
        let consumer: PullConsumer = stream
            .get_or_create_consumer(group, config)
            .await
            .map_err(|e| anyhow!("durable consumer {group} on stream {topic}: {e}"))?;
        let messages = consumer
            .stream()
            .max_messages_per_batch(w.batch)
            .expires(PULL_EXPIRES)
            .messages()
            .await
            .map_err(|e| anyhow!("pulling from {group} on stream {topic}: {e}"))?;
        Ok(Box::new(NatsConsumer { js, messages, batch: w.batch, unacked: Vec::new(), redelivered: 0 }))
    }

    /// Deleting the stream deletes its consumers, the group with them.
    async fn cleanup(&self, topic: &str, _group: &str) -> Result<()> {
        self.admin.delete_topic(topic).await.with_context(|| format!("delete stream {topic}"))
    }
}

struct NatsProducer {
    js: jetstream::Context,
    subject: String,
    window: usize,
    pending: VecDeque<PublishAckFuture>,
}

async fn acked(f: PublishAckFuture) -> Result<()> {
    f.await.map_err(|e| anyhow!("JetStream did not acknowledge a publish: {e}"))?;
    Ok(())
}

#[async_trait]
impl Producer for NatsProducer {
    async fn send(&mut self, values: Vec<Bytes>) -> Result<()> {
        for v in values {
            let f = self.js.publish(self.subject.clone(), v).await.map_err(|e| anyhow!("publish: {e}"))?;
            self.pending.push_back(f);
            while self.pending.len() > self.window {
                if let Some(f) = self.pending.pop_front() {
                    acked(f).await?;
                }
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        while let Some(f) = self.pending.pop_front() {
            acked(f).await?;
        }
        Ok(())
    }
}

struct NatsConsumer {
    js: jetstream::Context,
    messages: pull::Stream,
    batch: usize,
    unacked: Vec<Message>,
    redelivered: u64,
}

impl NatsConsumer {
    fn take(&mut self, m: Result<Message, pull::MessagesError>, out: &mut Vec<Bytes>) -> Result<()> {
        let m = m.map_err(|e| anyhow!("pulling: {e}"))?;
        if m.info().is_ok_and(|i| i.delivered > 1) {
            self.redelivered += 1;
        }
        out.push(m.payload.clone());
        self.unacked.push(m);
        Ok(())
    }
}

#[async_trait]
impl Consumer for NatsConsumer {
    async fn poll(&mut self, wait: Duration) -> Result<Vec<Bytes>> {
        let mut out = Vec::new();
        match tokio::time::timeout(wait, self.messages.next()).await {
            Err(_) => return Ok(out),
            Ok(None) => anyhow::bail!("JetStream ended the pull"),
            Ok(Some(m)) => self.take(m, &mut out)?,
        }
        // Then whatever already arrived, without waiting.
        while out.len() < self.batch {
            match tokio::time::timeout(Duration::ZERO, self.messages.next()).await {
                Ok(Some(m)) => self.take(m, &mut out)?,
                _ => break,
            }
        }
        Ok(out)
    }

    async fn commit(&mut self) -> Result<()> {
        for m in self.unacked.drain(..) {
            m.ack().await.map_err(|e| anyhow!("ack: {e}"))?;
        }
        Ok(())
    }

    fn redelivered(&self) -> u64 {
        self.redelivered
    }

    async fn close(&mut self) -> Result<()> {
        self.commit().await?;
        self.js.client().flush().await.map_err(|e| anyhow!("flushing acks: {e}"))?;
        Ok(())
    }
}
