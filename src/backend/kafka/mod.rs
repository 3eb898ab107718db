//! Kafka (and Kafka-protocol brokers) as a [`Backend`], through rdkafka's own librdkafka build.
//!
//! The mapping, in depot's vocabulary:
//! - topics and partitions are Kafka's; `log_start`/`end_offset` are the low/high watermarks.
//!   Sizes in bytes need DescribeLogDirs, which librdkafka does not offer: they are 0 and
//!   [`Capabilities::sizes`] is false. Rates are 0 (Kafka keeps no such counters for clients).
//! - groups are Kafka consumer groups: state, members and their assignments from DescribeGroups
//!   (the consumer protocol's subscription and assignment are decoded), committed offsets from
//!   OffsetFetch for every partition of every topic (so a group's topics are found from its
//!   commits even when it has no members), lag = high watermark − committed (− log start when the
//!   group never committed there), and lag in time from the timestamp of the first unconsumed
//!   record (read with a temporary assign-only consumer that joins no group).
//! - publish uses a producer with Kafka's own partitioner for keys (murmur2, `murmur2_random`), so
//!   a key lands where a Java producer would put it.
//! - peek and fetch use assign-only consumers without a group: they commit nothing.
//! - pull joins the group as a real member (subscribe), polls, commits synchronously if asked,
//!   and leaves (which rebalances the group twice, as any consumer coming and going does).
//! - commits and resets from outside the group are only possible while the group has no members:
//!   Kafka itself answers UNKNOWN_MEMBER_ID to commits from non-members of a live group, so a
//!   reset cannot be forced here. Resets are computed exactly as kafka-consumer-groups does
//!   (offsets-for-times for to-datetime and by-duration; the log end when no record is that new).
//! - replay consumes a range and produces copies with `depot.origin.*` headers.
//!
//! Not supported (and said so in [`Capabilities`]): idempotent producer tags (Kafka's idempotence
//! is a property of one producer session, not of a request), undo and reset history (depot keeps
//! no journal for Kafka), redelivery counts (Kafka does not count them), sizes.
//!
//! Every call into librdkafka that blocks runs on tokio's blocking pool.
//!
//! One file per area: `conn` (client settings and errors), `codec` (records and the consumer
//! protocol's embedded structures), `topics`, `messages`, `groups` (+ `pull`), `resets`, `replay`.

mod codec;
mod conn;
mod groups;
mod messages;
mod pull;
mod replay;
mod resets;
mod topics;

use super::context::Context;
use super::support::blocking;
use super::{BResult, Backend, BackendError};
use crate::core::{Capabilities, ResetMode};
use async_trait::async_trait;
pub use conn::client_config;
use conn::{CONNECT_TIMEOUT, create};
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::FutureProducer;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Where a Kafka context points and how to authenticate.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma separated (`host:port,host:port`).
    pub brokers: String,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`; PLAIN when a username is given without one.
    pub sasl_mechanism: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Talk TLS to the brokers (`SSL` or `SASL_SSL`).
    pub tls: bool,
    /// CA certificates to trust (PEM); implies TLS.
    pub ca_file: Option<PathBuf>,
    /// Records per produce batch (librdkafka's `batch.num.messages`; its default when unset).
    /// 1 works around brokers that mishandle multi-record batches (tansu 0.6.0 reports the high
    /// watermark as the last batch's start + 1).
    pub batch_records: Option<u32>,
}

impl KafkaConfig {
    pub fn new(brokers: &str) -> KafkaConfig {
        KafkaConfig { brokers: brokers.to_string(), ..KafkaConfig::default() }
    }

    /// The settings of a `kind = "kafka"` context.
    pub fn from_context(c: &Context) -> BResult<KafkaConfig> {
        let batch_records = match c.get("batch_records") {
            None => None,
            Some(v) => Some(v.parse::<u32>().map_err(|_| {
                BackendError::BadRequest(format!("context {}: batch_records = {v:?} is not a number", c.name))
            })?),
        };
        Ok(KafkaConfig {
            brokers: c.need("brokers")?,
            sasl_mechanism: c.get("sasl_mechanism").map(str::to_string),
            username: c.get("username").map(str::to_string),
            password: c.get("password").map(str::to_string),
            tls: c.flag("tls"),
            ca_file: c.path("ca_file"),
            batch_records,
        })
    }
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .field("batch_records", &self.batch_records)
            .finish()
    }
}

/// A backend over a Kafka cluster (or any broker speaking the Kafka protocol).
pub struct Kafka {
    brokers: String,
    /// Bootstrap and security settings shared by every client this backend creates.
    base: ClientConfig,
    admin: Arc<AdminClient<DefaultClientContext>>,
    producer: FutureProducer,
    /// A consumer without a group, for metadata, watermarks and offsets-for-times.
    meta: Arc<BaseConsumer>,
    /// Set once the broker answered DescribeConfigs with "unsupported", so we stop asking.
    no_describe_configs: Arc<AtomicBool>,
}

impl std::fmt::Debug for Kafka {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kafka").field("brokers", &self.brokers).finish()
    }
}

/// Connects to the brokers: builds the clients and fetches metadata once, so an unreachable or
/// misconfigured cluster is reported now (as [`BackendError::Unavailable`]) instead of hanging later.
pub async fn connect(cfg: &KafkaConfig) -> BResult<Kafka> {
    let base = client_config(cfg)?;
    let brokers = cfg.brokers.trim().to_string();
    let mut mc = base.clone();
    mc.set("enable.auto.commit", "false");
    let meta: BaseConsumer = create(&mc, &brokers)?;
    let admin: AdminClient<DefaultClientContext> = create(&base, &brokers)?;
    let mut pc = base.clone();
    pc.set("partitioner", "murmur2_random").set("message.timeout.ms", "30000").set("acks", "all");
    if let Some(n) = cfg.batch_records {
        pc.set("batch.num.messages", n.max(1).to_string());
    }
    let producer: FutureProducer = create(&pc, &brokers)?;
    let meta = Arc::new(meta);
    let m = meta.clone();
    let b = brokers.clone();
    blocking("a Kafka", move || {
        m.fetch_metadata(None, CONNECT_TIMEOUT).map(|_| ()).map_err(|e| {
            BackendError::Unavailable(format!(
                "cannot reach the Kafka brokers at {b} within {} s ({e}): check the address, that the brokers \
                 are running, and the context's TLS/SASL settings",
                CONNECT_TIMEOUT.as_secs()
            ))
        })
    })
    .await?;
    Ok(Kafka {
        brokers,
        base,
        admin: Arc::new(admin),
        producer,
        meta,
        no_describe_configs: Arc::new(AtomicBool::new(false)),
    })
}

impl Kafka {
    /// The brokers this backend talks to.
    pub fn brokers(&self) -> &str {
        &self.brokers
    }

    /// Runs blocking work with the metadata consumer, the base settings and the brokers' address.
    async fn meta_call<T, F>(&self, f: F) -> BResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&BaseConsumer, &ClientConfig, &str) -> BResult<T> + Send + 'static,
    {
        let meta = self.meta.clone();
        let base = self.base.clone();
        let brokers = self.brokers.clone();
        blocking("a Kafka", move || {
            // Serve queued client events (errors, logs) of the metadata consumer.
            let _ = meta.poll(Duration::ZERO);
            f(&meta, &base, &brokers)
        })
        .await
    }
}

#[async_trait]
impl Backend for Kafka {
    async fn capabilities(&self) -> BResult<Capabilities> {
        Ok(capabilities())
    }

    fn target(&self) -> String {
        format!("kafka {}", self.brokers)
    }
}

/// What depot does on Kafka, every flag said explicitly.
fn capabilities() -> Capabilities {
    Capabilities {
        kind: "kafka".into(),
        create_topics: true,
        delete_topics: true,
        partitions: true,
        publish: true,
        headers: true,
        peek_by_time: true,
        pull: true,
        commit: true,
        reset_modes: ResetMode::ALL.to_vec(),
        // depot keeps no journal of the resets it makes on Kafka.
        undo: false,
        replay: true,
        // Kafka's idempotence belongs to one producer session, not to a request.
        idempotent_producers: false,
        // Kafka does not count redeliveries.
        redeliveries: false,
        // Sizes need DescribeLogDirs, which librdkafka does not offer.
        sizes: false,
        read_only: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_say_what_kafka_cannot_do() {
        let c = capabilities();
        assert_eq!(c.kind, "kafka");
        assert!(c.partitions && c.commit && c.replay && c.peek_by_time && c.reset_modes.len() == ResetMode::ALL.len());
        assert!(!c.undo && !c.idempotent_producers && !c.redeliveries && !c.sizes && !c.read_only);
    }
}
