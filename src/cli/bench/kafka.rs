//! Kafka (a `kind = "kafka"` context) through rdkafka, set up as kafka-producer-perf-test and a
//! plain consumer group would be: producers with acks=all, a 5 ms linger and batches up to 1 MiB,
//! sending asynchronously with a window of outstanding deliveries; consumers subscribe as one
//! group and commit after each batch. The connection and security settings are the context's
//! (depot's Kafka backend builds them); the topic and group are created and deleted through that
//! backend.

use super::target::{BenchTarget, Consumer, Method, Producer, Workload};
use crate::backend::context::Context as BackendContext;
use crate::backend::kafka::{self, Kafka, KafkaConfig};
use crate::backend::{BackendError, GroupsApi, TopicsApi};
use crate::core::TopicConfig;
use anyhow::{Context, Result, anyhow};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{FutureExt as _, StreamExt as _};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::producer::{BaseRecord, DeliveryResult, ProducerContext, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// Deliveries a producer keeps outstanding at least: kafka-producer-perf-test has no window of
/// its own, only the client's buffer, and 1 MiB batches of 100-byte records need more than a
/// thousand in flight (a window of `--batch` records would cap each batch at that many).
const MIN_WINDOW: usize = 100_000;

/// How long librdkafka waits to fetch a partition again once its queue of fetched records is
/// over `queued.min.messages` (100,000). Its default, 1,000 ms, idles a consumer that drains
/// its queue faster than that (a catch-up does): the last records of a partition arrived a
/// whole second after the rest. 10 ms keeps the queue fed.
const FETCH_QUEUE_BACKOFF_MS: &str = "10";

/// The producer settings, printed with the figures.
const PRODUCER: &[(&str, &str)] = &[
    ("acks", "all"),
    ("linger.ms", "5"),
    ("batch.size", "1048576"),
    ("compression.type", "none"),
    ("message.timeout.ms", "30000"),
];

pub struct KafkaTarget {
    name: String,
    brokers: String,
    batch_records: Option<u32>,
    base: ClientConfig,
    /// depot's backend, for the topic and the group around the measurement.
    admin: Kafka,
}

impl KafkaTarget {
    pub async fn connect(c: &BackendContext) -> Result<KafkaTarget> {
        let cfg = KafkaConfig::from_context(c)?;
        let admin = kafka::connect(&cfg).await?;
        let base = kafka::client_config(&cfg)?;
        Ok(KafkaTarget {
            name: c.name.clone(),
            brokers: cfg.brokers.clone(),
            batch_records: cfg.batch_records,
            base,
            admin,
        })
    }
}

#[async_trait]
impl BenchTarget for KafkaTarget {
    fn method(&self, w: &Workload) -> Method {
        let settings: Vec<String> = PRODUCER.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let batch_records = self.batch_records.map(|n| format!(", batch.num.messages={n} (the context's)"));
        Method {
            client: format!(
                "Kafka at {} (context {}) through rdkafka (librdkafka {}), one client per producer and consumer",
                self.brokers,
                self.name,
                rdkafka::util::get_rdkafka_version().1
            ),
            topic: format!("{} partitions (the broker's default replication)", w.partitions),
            publish: format!(
                "{} producers ({}{}, idempotence off as librdkafka defaults), sending asynchronously with at most {} \
                 deliveries outstanding",
                w.producers,
                settings.join(", "),
                batch_records.unwrap_or_default(),
                window(w)
            ),
            consume: format!(
                "{} members of one consumer group (subscribe, fetch.wait.max.ms=10, fetch.queue.backoff.ms={}), up to \
                 {} records per poll, an async commit after each batch and a sync one at the end",
                w.consumers, FETCH_QUEUE_BACKOFF_MS, w.batch
            ),
        }
    }

    async fn create_topic(&self, topic: &str, w: &Workload) -> Result<()> {
        self.admin.create_topic(topic, TopicConfig::with_partitions(w.partitions)).await?;
        Ok(())
    }

    async fn producer(&self, topic: &str, index: usize, w: &Workload) -> Result<Box<dyn Producer>> {
        let mut c = self.base.clone();
        c.set("client.id", format!("depot-bench-producer-{index}"));
        c.set("queue.buffering.max.messages", (window(w) * 2).to_string());
        for (k, v) in PRODUCER {
            c.set(*k, *v);
        }
        if let Some(n) = self.batch_records {
            c.set("batch.num.messages", n.max(1).to_string());
        }
        let deliveries = Arc::new(Deliveries::default());
        let producer: ThreadedProducer<Counting> = c
            .create_with_context(Counting(deliveries.clone()))
            .map_err(|e| anyhow!("a Kafka producer for {}: {e}", self.brokers))?;
        Ok(Box::new(KafkaProducer { producer, deliveries, sent: 0, topic: topic.to_string(), window: window(w) }))
    }

    async fn consumer(&self, topic: &str, group: &str, index: usize, w: &Workload) -> Result<Box<dyn Consumer>> {
        let mut c = self.base.clone();
        c.set("client.id", format!("depot-bench-consumer-{index}"))
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            .set("fetch.wait.max.ms", "10")
            .set("fetch.queue.backoff.ms", FETCH_QUEUE_BACKOFF_MS);
        let consumer: StreamConsumer = c.create().map_err(|e| anyhow!("a Kafka consumer for {}: {e}", self.brokers))?;
        consumer.subscribe(&[topic]).with_context(|| format!("subscribing to {topic}"))?;
        Ok(Box::new(KafkaConsumer {
            consumer,
            topic: topic.to_string(),
            batch: w.batch,
            held: Vec::new(),
            next: BTreeMap::new(),
            latest: BTreeMap::new(),
        }))
    }

    async fn cleanup(&self, topic: &str, group: &str) -> Result<()> {
        let deleted = self.admin.delete_topic(topic).await.with_context(|| format!("delete topic {topic}"));
        // A member's leave reaches the coordinator asynchronously: until then the group is not empty.
        let mut tries = 0;
        loop {
            match self.admin.delete_group(group).await {
                Ok(()) | Err(BackendError::NotFound(_)) => break,
                Err(BackendError::Refused(_)) if tries < 20 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(e).with_context(|| format!("delete group {group}")),
            }
        }
        deleted
    }
}

/// What the delivery reports said so far: the bench needs how many records were taken (and the
/// first refusal), not which — so reports are counted in the callback, without a future per record.
#[derive(Default)]
struct Deliveries {
    ok: AtomicU64,
    failed: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
    /// Woken on every report (a waiter re-checks the counts).
    report: Notify,
}

struct Counting(Arc<Deliveries>);

impl ClientContext for Counting {}

impl ProducerContext for Counting {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        match r {
            Ok(_) => {
                self.0.ok.fetch_add(1, Ordering::Release);
            }
            Err((e, _)) => {
                if let Ok(mut first) = self.0.first_error.lock() {
                    first.get_or_insert_with(|| e.to_string());
                }
                self.0.failed.fetch_add(1, Ordering::Release);
            }
        }
        self.0.report.notify_one();
    }
}

struct KafkaProducer {
    producer: ThreadedProducer<Counting>,
    deliveries: Arc<Deliveries>,
    sent: u64,
    topic: String,
    window: usize,
}

impl KafkaProducer {
    /// Records sent and not yet reported; an error once any was refused.
    fn outstanding(&self) -> Result<u64> {
        let d = &self.deliveries;
        if d.failed.load(Ordering::Acquire) > 0 {
            let why = d.first_error.lock().ok().and_then(|e| e.clone()).unwrap_or_default();
            return Err(anyhow!("Kafka did not take a record of {}: {why}", self.topic));
        }
        Ok(self.sent.saturating_sub(d.ok.load(Ordering::Acquire)))
    }

    /// Waits for the next delivery report (or a short while, should one have raced the check).
    async fn next_report(&self) {
        let _ = tokio::time::timeout(Duration::from_millis(100), self.deliveries.report.notified()).await;
    }
}

#[async_trait]
impl Producer for KafkaProducer {
    async fn send(&mut self, values: Vec<Bytes>) -> Result<()> {
        for v in values {
            loop {
                let record = BaseRecord::<(), [u8]>::to(&self.topic).payload(&v[..]);
                match self.producer.send(record) {
                    Ok(()) => {
                        self.sent += 1;
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => self.next_report().await,
                    Err((e, _)) => return Err(anyhow!("producing to {}: {e}", self.topic)),
                }
            }
            while self.outstanding()? > self.window as u64 {
                self.next_report().await;
            }
        }
        // Sending never waits while the window has room: let the progress line and the stall
        // watchdog run (two producers would otherwise hold both of a 2-core runtime's workers).
        tokio::task::yield_now().await;
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        while self.outstanding()? > 0 {
            self.next_report().await;
        }
        Ok(())
    }
}

struct KafkaConsumer {
    consumer: StreamConsumer,
    topic: String,
    batch: usize,
    /// Records received while waiting for the assignment, handed out by the next poll.
    held: Vec<Bytes>,
    /// Next offset per partition of what was polled since the last commit.
    next: BTreeMap<i32, i64>,
    /// Next offset per partition of everything polled (the final sync commit).
    latest: BTreeMap<i32, i64>,
}

/// A received record's value; its partition's next offset goes into `next`.
fn take(
    next: &mut BTreeMap<i32, i64>,
    topic: &str,
    m: Result<rdkafka::message::BorrowedMessage<'_>, KafkaError>,
) -> Result<Bytes> {
    let m = m.with_context(|| format!("consuming {topic}"))?;
    next.insert(m.partition(), m.offset() + 1);
    Ok(Bytes::copy_from_slice(m.payload().unwrap_or_default()))
}

impl KafkaConsumer {
    fn offsets(&self, of: &BTreeMap<i32, i64>) -> Result<TopicPartitionList> {
        let mut tpl = TopicPartitionList::new();
        for (p, o) in of {
            tpl.add_partition_offset(&self.topic, *p, Offset::Offset(*o))?;
        }
        Ok(tpl)
    }
}

#[async_trait]
impl Consumer for KafkaConsumer {
    async fn assigned(&mut self, wait: Duration) -> Result<Option<usize>> {
        // Receiving drives the group join; the topic is still empty, but keep anything that came.
        if let Ok(m) = tokio::time::timeout(wait, self.consumer.recv()).await {
            let v = take(&mut self.next, &self.topic, m)?;
            self.held.push(v);
        }
        Ok(Some(self.consumer.assignment()?.count()))
    }

    async fn poll(&mut self, wait: Duration) -> Result<Vec<Bytes>> {
        let mut out = std::mem::take(&mut self.held);
        // One stream for the whole poll: each `recv` registers and drops a waker slot (a lock
        // each way), and a timer per record on top was most of the consumer's time.
        let mut stream = self.consumer.stream();
        if out.is_empty() {
            match tokio::time::timeout(wait, stream.next()).await {
                Err(_) => return Ok(out),
                Ok(None) => return Err(anyhow!("the consumer of {} stopped", self.topic)),
                Ok(Some(m)) => out.push(take(&mut self.next, &self.topic, m)?),
            }
        }
        while out.len() < self.batch {
            // What librdkafka has fetched already; nothing ready ends the batch.
            match stream.next().now_or_never() {
                Some(Some(m)) => out.push(take(&mut self.next, &self.topic, m)?),
                Some(None) | None => break,
            }
        }
        Ok(out)
    }

    async fn commit(&mut self) -> Result<()> {
        if self.next.is_empty() {
            return Ok(());
        }
        let tpl = self.offsets(&self.next)?;
        self.latest.append(&mut self.next);
        self.consumer.commit(&tpl, CommitMode::Async).with_context(|| format!("committing on {}", self.topic))
    }

    async fn close(&mut self) -> Result<()> {
        self.commit().await?;
        if !self.latest.is_empty() {
            let tpl = self.offsets(&self.latest)?;
            let c = &self.consumer;
            tokio::task::block_in_place(|| c.commit(&tpl, CommitMode::Sync))
                .with_context(|| format!("committing on {}", self.topic))?;
        }
        self.consumer.unsubscribe();
        Ok(())
    }
}

/// A producer's window of outstanding deliveries.
fn window(w: &Workload) -> usize {
    w.batch.max(MIN_WINDOW)
}
