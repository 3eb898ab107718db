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

use super::*;
use crate::core::names::validate_name;
use crate::core::replay::{ORIGIN_OFFSET, ORIGIN_PARTITION, ORIGIN_TOPIC};
use crate::core::reset;
use crate::core::time::now_ms;
use bytes::Bytes;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::{ClientConfig, FromClientConfig};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header as KHeader, Headers as _, Message as _, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a metadata, watermark, offset or group request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `connect` waits for the first metadata answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(8);
/// How long reading records that are known to exist may take.
const READ_TIMEOUT: Duration = Duration::from_secs(15);
/// How long joining a group for a pull may take (some brokers take ~20 s for a first join).
const JOIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the lag-in-time probe may take per topic before the partition's lag_ms is left at 0.
const LAG_PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The `group.id` of assign-only readers (never joined, never committed).
const READER_GROUP: &str = "depot-reader";
/// Records read per replay round (each round is one consumer and one batch of produces).
const REPLAY_CHUNK: usize = 10_000;

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
    blocking(move || {
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

/// The bootstrap and security settings of a context, as librdkafka properties.
fn client_config(cfg: &KafkaConfig) -> BResult<ClientConfig> {
    let brokers = cfg.brokers.trim();
    if brokers.is_empty() {
        return Err(BackendError::BadRequest(
            "no Kafka brokers given: set brokers = \"host:port[,host:port...]\" in the context".into(),
        ));
    }
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers)
        .set("client.id", "depot")
        .set("socket.connection.setup.timeout.ms", "10000")
        .set("allow.auto.create.topics", "false");
    let mechanism = match (&cfg.sasl_mechanism, &cfg.username) {
        (Some(m), _) => Some(m.trim().to_ascii_uppercase()),
        (None, Some(_)) => Some("PLAIN".to_string()),
        (None, None) => None,
    };
    if let Some(m) = &mechanism {
        if !["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"].contains(&m.as_str()) {
            return Err(BackendError::BadRequest(format!(
                "SASL mechanism {m:?} is not supported: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
            )));
        }
        let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) else {
            return Err(BackendError::BadRequest(format!(
                "SASL {m} needs both a username and a password (set them in the context or its environment variables)"
            )));
        };
        c.set("sasl.mechanism", m.as_str()).set("sasl.username", user).set("sasl.password", pass);
    }
    let tls = cfg.tls || cfg.ca_file.is_some();
    let protocol = match (mechanism.is_some(), tls) {
        (false, false) => "PLAINTEXT",
        (false, true) => "SSL",
        (true, false) => "SASL_PLAINTEXT",
        (true, true) => "SASL_SSL",
    };
    c.set("security.protocol", protocol);
    if let Some(ca) = &cfg.ca_file {
        if !ca.exists() {
            return Err(BackendError::BadRequest(format!("the CA file {} does not exist", ca.display())));
        }
        c.set("ssl.ca.location", ca.to_string_lossy().to_string());
    }
    Ok(c)
}

/// Settings of consumers that read without joining a group (peek, fetch, probes, replay).
/// librdkafka wants a `group.id` even for assign-only consumers; this one never subscribes and
/// never commits, so the broker never sees it as a group.
fn reader_config(base: &ClientConfig) -> ClientConfig {
    let mut c = base.clone();
    c.set("group.id", READER_GROUP)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "100");
    c
}

/// Settings of a consumer acting as `group` (pull, commits, OffsetFetch).
fn group_config(base: &ClientConfig, group: &str) -> ClientConfig {
    let mut c = base.clone();
    c.set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        .set("fetch.wait.max.ms", "100");
    c
}

/// Creates a client; settings librdkafka rejects become errors that say what to change.
fn create<T: FromClientConfig>(c: &ClientConfig, brokers: &str) -> BResult<T> {
    c.create::<T>().map_err(|e| match &e {
        KafkaError::ClientConfig(_, desc, key, _) => {
            let lower = desc.to_ascii_lowercase();
            if lower.contains("ssl") || lower.contains("openssl") || lower.contains("build time") {
                BackendError::Unsupported(format!(
                    "this depot build's librdkafka cannot use {key} as configured ({desc}): TLS and SASL/SCRAM need \
                     librdkafka built with OpenSSL — rebuild depot with rdkafka's `ssl-vendored` feature (or `ssl` \
                     with libssl-dev installed)"
                ))
            } else {
                BackendError::BadRequest(format!("Kafka client setting {key} was rejected: {desc}"))
            }
        }
        KafkaError::ClientCreation(msg) if msg.contains("recompile librdkafka") || msg.contains("No provider") => {
            BackendError::Unsupported(format!(
                "this depot build's librdkafka cannot do what the context asks ({msg}): SASL/SCRAM and TLS need \
                 librdkafka built with OpenSSL — rebuild depot with rdkafka's `ssl-vendored` feature (or `ssl` with \
                 libssl-dev installed); SASL PLAIN works without it"
            ))
        }
        _ => BackendError::Unavailable(format!("cannot create a Kafka client for {brokers}: {e}")),
    })
}

/// Runs blocking librdkafka work on tokio's blocking pool.
async fn blocking<T, F>(f: F) -> BResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> BResult<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(BackendError::Internal(format!("a Kafka task failed: {e}"))),
    }
}

/// Turns a librdkafka error into a typed error; `what` says what depot was doing.
fn kerr(what: &str, e: &KafkaError) -> BackendError {
    use RDKafkaErrorCode as C;
    let code = match e {
        KafkaError::AdminOp(c) => Some(*c),
        _ => e.rdkafka_error_code(),
    };
    let msg = format!("{what}: {e}");
    match code {
        Some(C::UnknownTopicOrPartition | C::UnknownTopic | C::UnknownPartition | C::GroupIdNotFound) => {
            BackendError::NotFound(msg)
        }
        Some(C::TopicAlreadyExists) => BackendError::Conflict(msg),
        Some(
            C::InvalidTopic
            | C::InvalidPartitions
            | C::InvalidReplicationFactor
            | C::InvalidConfig
            | C::InvalidArgument
            | C::PolicyViolation
            | C::OffsetOutOfRange
            | C::InvalidGroupId,
        ) => BackendError::BadRequest(msg),
        Some(
            C::TopicAuthorizationFailed
            | C::GroupAuthorizationFailed
            | C::ClusterAuthorizationFailed
            | C::SaslAuthenticationFailed
            | C::Authentication,
        ) => BackendError::Unauthorized(format!(
            "{msg}: check the context's username, password and SASL mechanism, and the cluster's ACLs"
        )),
        Some(C::UnsupportedVersion | C::UnsupportedFeature | C::NotImplemented) => {
            BackendError::Unsupported(format!("{msg}: this broker does not implement that request"))
        }
        Some(C::UnknownMemberId | C::RebalanceInProgress | C::IllegalGeneration | C::NonEmptyGroup) => {
            BackendError::Refused(msg)
        }
        _ => BackendError::Unavailable(msg),
    }
}

/// `Some(offset)` for a real offset, `None` for "no offset" (never committed, no such record).
fn real_offset(o: Offset) -> Option<u64> {
    match o {
        Offset::Offset(n) if n >= 0 => Some(n as u64),
        _ => None,
    }
}

/// `PreparingRebalance` → `preparing-rebalance`, `Stable` → `stable`.
fn state_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, ch) in s.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(ch.to_ascii_lowercase());
    }
    if out.is_empty() { "unknown".into() } else { out }
}

/// A broker-side message as depot's [`Message`].
fn to_message(m: &BorrowedMessage<'_>) -> Message {
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| Header {
                    name: h.key.to_string(),
                    value: Payload(Bytes::copy_from_slice(h.value.unwrap_or(&[]))),
                })
                .collect()
        })
        .unwrap_or_default();
    Message {
        topic: m.topic().to_string(),
        partition: m.partition().max(0) as u32,
        offset: m.offset().max(0) as u64,
        timestamp: m.timestamp().to_millis().unwrap_or(0),
        key: m.key().map(|k| Payload(Bytes::copy_from_slice(k))),
        value: Payload(Bytes::copy_from_slice(m.payload().unwrap_or(&[]))),
        headers,
    }
}

/// Topic names and partition counts from one metadata request (internal `__` topics left out).
fn topics_meta(c: &BaseConsumer, brokers: &str) -> BResult<BTreeMap<String, u32>> {
    let md = c
        .fetch_metadata(None, REQUEST_TIMEOUT)
        .map_err(|e| kerr(&format!("fetching topic metadata from {brokers}"), &e))?;
    Ok(md
        .topics()
        .iter()
        .filter(|t| !t.name().starts_with("__"))
        .filter(
            |t| !matches!(t.error(), Some(e) if RDKafkaErrorCode::from(e) == RDKafkaErrorCode::UnknownTopicOrPartition),
        )
        .map(|t| (t.name().to_string(), t.partitions().len() as u32))
        .collect())
}

fn no_topic(name: &str, brokers: &str) -> BackendError {
    BackendError::NotFound(format!("topic {name} not found on the Kafka cluster at {brokers}"))
}

/// Partition count of one topic, or NotFound.
fn topic_partitions(c: &BaseConsumer, brokers: &str, topic: &str) -> BResult<u32> {
    topics_meta(c, brokers)?.get(topic).copied().ok_or_else(|| no_topic(topic, brokers))
}

/// (topic, partition) → (low, high) watermarks.
type Marks = HashMap<(String, u32), (u64, u64)>;

/// Low and high watermarks of many partitions: two batched ListOffsets rounds (earliest, latest),
/// falling back to one query per partition if the batched form fails.
fn watermarks(c: &BaseConsumer, parts: &[(String, u32)]) -> BResult<Marks> {
    let mut out = HashMap::new();
    if parts.is_empty() {
        return Ok(out);
    }
    let batched = (|| -> Result<Marks, KafkaError> {
        let mut lows = TopicPartitionList::new();
        let mut highs = TopicPartitionList::new();
        for (t, p) in parts {
            lows.add_partition_offset(t, *p as i32, Offset::Beginning)?;
            highs.add_partition_offset(t, *p as i32, Offset::End)?;
        }
        let lows = c.offsets_for_times(lows, REQUEST_TIMEOUT)?;
        let highs = c.offsets_for_times(highs, REQUEST_TIMEOUT)?;
        let mut m = HashMap::new();
        for e in lows.elements() {
            e.error()?;
            let hi = highs
                .find_partition(e.topic(), e.partition())
                .ok_or(KafkaError::OffsetFetch(RDKafkaErrorCode::UnknownPartition))?;
            hi.error()?;
            let (Some(lo), Some(hi)) = (real_offset(e.offset()), real_offset(hi.offset())) else {
                return Err(KafkaError::OffsetFetch(RDKafkaErrorCode::InvalidArgument));
            };
            m.insert((e.topic().to_string(), e.partition() as u32), (lo, hi.max(lo)));
        }
        Ok(m)
    })();
    match batched {
        Ok(m) if m.len() == parts.len() => return Ok(m),
        Ok(_) => {}
        Err(e) => tracing::debug!("batched watermarks failed ({e}); asking per partition"),
    }
    for (t, p) in parts {
        let (lo, hi) = c
            .fetch_watermarks(t, *p as i32, REQUEST_TIMEOUT)
            .map_err(|e| kerr(&format!("reading the watermarks of {t}/{p}"), &e))?;
        let lo = lo.max(0) as u64;
        out.insert((t.clone(), *p), (lo, (hi.max(0) as u64).max(lo)));
    }
    Ok(out)
}

/// First offset at or after `ts` per partition (`None`: no record that new → the caller uses the end).
fn offsets_for_time(c: &BaseConsumer, topic: &str, parts: &[u32], ts: i64) -> BResult<HashMap<u32, Option<u64>>> {
    let mut tpl = TopicPartitionList::new();
    for p in parts {
        tpl.add_partition_offset(topic, *p as i32, Offset::Offset(ts.max(0)))
            .map_err(|e| kerr("building an offsets-for-times request", &e))?;
    }
    let r = c
        .offsets_for_times(tpl, REQUEST_TIMEOUT)
        .map_err(|e| kerr(&format!("looking up offsets by time in {topic}"), &e))?;
    let mut out = HashMap::new();
    for e in r.elements() {
        e.error().map_err(|err| kerr(&format!("looking up offsets by time in {topic}/{}", e.partition()), &err))?;
        out.insert(e.partition() as u32, real_offset(e.offset()));
    }
    Ok(out)
}

/// One partition to read: offsets `start..end`, at most `max` records.
#[derive(Clone, Copy, Debug)]
struct Span {
    partition: u32,
    start: u64,
    end: u64,
    max: usize,
}

/// Reads spans of one topic with an assign-only consumer (no group), handing each record to `each`.
/// Returns true when every span was read to its end or its `max`.
fn read_spans(
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

/// Committed offsets of `group` for the given partitions (OffsetFetch, no join).
fn committed_of(
    base: &ClientConfig,
    brokers: &str,
    group: &str,
    parts: &[(String, u32)],
) -> BResult<HashMap<(String, u32), u64>> {
    let mut out = HashMap::new();
    if parts.is_empty() {
        return Ok(out);
    }
    let c: BaseConsumer = create(&group_config(base, group), brokers)?;
    let mut tpl = TopicPartitionList::new();
    for (t, p) in parts {
        tpl.add_partition(t, *p as i32);
    }
    let r = c
        .committed_offsets(tpl, REQUEST_TIMEOUT)
        .map_err(|e| kerr(&format!("reading the committed offsets of group {group}"), &e))?;
    for e in r.elements() {
        if let Some(o) = real_offset(e.offset()) {
            out.insert((e.topic().to_string(), e.partition() as u32), o);
        }
    }
    Ok(out)
}

/// Commits offsets as `group` without joining it (the broker accepts this only while the group is empty).
fn commit_as_group(base: &ClientConfig, brokers: &str, group: &str, offsets: &[(String, u32, u64)]) -> BResult<()> {
    if offsets.is_empty() {
        return Ok(());
    }
    let c: BaseConsumer = create(&group_config(base, group), brokers)?;
    let mut tpl = TopicPartitionList::new();
    for (t, p, o) in offsets {
        tpl.add_partition_offset(t, *p as i32, Offset::Offset(*o as i64)).map_err(|e| kerr("building a commit", &e))?;
    }
    c.commit(&tpl, CommitMode::Sync).map_err(|e| match kerr(&format!("committing offsets for group {group}"), &e) {
        BackendError::Refused(_) => BackendError::Refused(format!(
            "Kafka refused the commit for group {group} ({e}): the group has live members again, and Kafka \
             accepts commits only from its members while it has any; stop them and try again"
        )),
        other => other,
    })
}

/// A group as DescribeGroups sees it.
#[derive(Clone, Debug, Default)]
struct GroupView {
    state: String,
    protocol: String,
    members: Vec<MemberInfo>,
}

/// DescribeGroups for one group (`None` when the broker does not know it), or ListGroups +
/// DescribeGroups for all (`group = None`).
fn group_views(c: &BaseConsumer, brokers: &str, group: Option<&str>) -> BResult<BTreeMap<String, GroupView>> {
    let list = c.fetch_group_list(group, REQUEST_TIMEOUT).map_err(|e| match group {
        Some(g) => kerr(&format!("describing group {g} on {brokers}"), &e),
        None => kerr(&format!("listing the consumer groups of {brokers}"), &e),
    })?;
    let mut out = BTreeMap::new();
    for g in list.groups() {
        if !(g.protocol_type().is_empty() || g.protocol_type() == "consumer") || g.name() == READER_GROUP {
            continue; // Connect workers and other non-consumer groups; depot's own readers
        }
        let members = g
            .members()
            .iter()
            .map(|m| {
                let assignment = m.assignment().and_then(decode_assignment).unwrap_or_default();
                let mut topics = m.metadata().and_then(decode_subscription).unwrap_or_default();
                if topics.is_empty() {
                    topics = assignment.iter().map(|(t, _)| t.clone()).collect::<BTreeSet<_>>().into_iter().collect();
                }
                MemberInfo {
                    member_id: m.id().to_string(),
                    client_id: m.client_id().to_string(),
                    topics,
                    assignment,
                    last_seen_ms: 0,
                    session_timeout_ms: 0,
                }
            })
            .collect();
        out.insert(
            g.name().to_string(),
            GroupView { state: g.state().to_string(), protocol: g.protocol().to_string(), members },
        );
    }
    Ok(out)
}

/// Big-endian reader for the consumer protocol's embedded structures.
struct Wire<'a>(&'a [u8]);

impl Wire<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn i16(&mut self) -> Option<i16> {
        self.take(2).map(|b| i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Option<i32> {
        self.take(4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Option<String> {
        let n = self.i16()?;
        if n < 0 {
            return Some(String::new());
        }
        self.take(n as usize).map(|b| String::from_utf8_lossy(b).into_owned())
    }
    /// An array length, bounded by what is left (each element takes at least `min` bytes).
    fn len(&mut self, min: usize) -> Option<usize> {
        let n = self.i32()?;
        if n < 0 {
            return Some(0);
        }
        let n = n as usize;
        (n.saturating_mul(min) <= self.0.len()).then_some(n)
    }
}

/// ConsumerProtocolSubscription: version, topics, ... → the topics.
fn decode_subscription(b: &[u8]) -> Option<Vec<String>> {
    let mut w = Wire(b);
    w.i16()?;
    let n = w.len(2)?;
    (0..n).map(|_| w.string()).collect()
}

/// ConsumerProtocolAssignment: version, [topic, [partition]], ... → (topic, partition) pairs.
fn decode_assignment(b: &[u8]) -> Option<Vec<(String, u32)>> {
    let mut w = Wire(b);
    w.i16()?;
    let n = w.len(6)?;
    let mut out = Vec::new();
    for _ in 0..n {
        let t = w.string()?;
        let m = w.len(4)?;
        for _ in 0..m {
            out.push((t.clone(), w.i32()?.max(0) as u32));
        }
    }
    Some(out)
}

/// Describes groups: views from DescribeGroups, committed offsets from OffsetFetch over every
/// partition of every topic, watermarks, and the age of the first unconsumed record.
fn describe_groups(
    base: &ClientConfig,
    meta: &BaseConsumer,
    brokers: &str,
    views: BTreeMap<String, GroupView>,
    must_exist: bool,
) -> BResult<Vec<GroupInfo>> {
    let topics = topics_meta(meta, brokers)?;
    let all: Vec<(String, u32)> = topics.iter().flat_map(|(t, n)| (0..*n).map(move |p| (t.clone(), p))).collect();
    let mut out = Vec::new();
    for (name, view) in views {
        let committed = committed_of(base, brokers, &name, &all)?;
        let mut group_topics: BTreeSet<String> = committed.keys().map(|(t, _)| t.clone()).collect();
        for m in &view.members {
            group_topics.extend(m.topics.iter().cloned());
            group_topics.extend(m.assignment.iter().map(|(t, _)| t.clone()));
        }
        group_topics.retain(|t| topics.contains_key(t));
        let dead = matches!(view.state.as_str(), "" | "Dead" | "Unknown");
        if must_exist && view.members.is_empty() && committed.is_empty() && dead {
            return Err(BackendError::NotFound(format!(
                "consumer group {name} not found on the Kafka cluster at {brokers} (no members, no committed offsets)"
            )));
        }
        let parts: Vec<(String, u32)> = group_topics
            .iter()
            .flat_map(|t| (0..topics.get(t).copied().unwrap_or(0)).map(move |p| (t.clone(), p)))
            .collect();
        let marks = watermarks(meta, &parts)?;
        let owners: HashMap<(String, u32), String> = view
            .members
            .iter()
            .flat_map(|m| m.assignment.iter().map(move |(t, p)| ((t.clone(), *p), m.member_id.clone())))
            .collect();
        let mut rows = Vec::new();
        for (t, p) in &parts {
            let (lo, hi) = marks.get(&(t.clone(), *p)).copied().unwrap_or((0, 0));
            let c = committed.get(&(t.clone(), *p)).copied();
            let lag = hi.saturating_sub(c.unwrap_or(lo));
            rows.push(PartitionLag {
                topic: t.clone(),
                partition: *p,
                committed: c,
                log_start: lo,
                end_offset: hi,
                lag,
                lag_ms: 0,
                owner: owners.get(&(t.clone(), *p)).cloned(),
                redeliveries: 0,
            });
        }
        // Lag in time: the timestamp of the first unconsumed record of each lagging partition.
        let now = now_ms();
        for t in &group_topics {
            let spans: Vec<Span> = rows
                .iter()
                .filter(|r| &r.topic == t && r.lag > 0)
                .map(|r| {
                    let start = r.committed.unwrap_or(r.log_start).clamp(r.log_start, r.end_offset);
                    Span { partition: r.partition, start, end: r.end_offset, max: 1 }
                })
                .collect();
            if spans.is_empty() {
                continue;
            }
            let mut first: HashMap<u32, i64> = HashMap::new();
            let r = read_spans(base, brokers, t, &spans, LAG_PROBE_TIMEOUT, &mut |m| {
                first.entry(m.partition).or_insert(m.timestamp);
                Ok(())
            });
            if let Err(e) = r {
                tracing::debug!("lag probe of group {name} on {t}: {e}");
            }
            for row in rows.iter_mut().filter(|r| &r.topic == t) {
                if let Some(ts) = first.get(&row.partition) {
                    row.lag_ms = now.saturating_sub(*ts).max(0) as u64;
                }
            }
        }
        let state = if view.members.is_empty() && (dead || view.state.is_empty()) {
            "empty".to_string()
        } else {
            state_name(&view.state)
        };
        out.push(GroupInfo {
            name,
            state,
            generation: 0,
            assignor: view.protocol,
            members: view.members,
            partitions: rows,
            consume_rate: 0.0,
        });
    }
    Ok(out)
}

/// Live members of one group (DescribeGroups).
fn live_members(meta: &BaseConsumer, brokers: &str, group: &str) -> BResult<Vec<String>> {
    let views = group_views(meta, brokers, Some(group))?;
    Ok(views.get(group).map(|v| v.members.iter().map(|m| m.member_id.clone()).collect()).unwrap_or_default())
}

fn live_refusal(group: &str, members: &[String], what: &str) -> BackendError {
    BackendError::Refused(format!(
        "group {group} has live members ({}); stop its consumers first: Kafka accepts {what} only from the \
         group's own members while it has any",
        members.join(", ")
    ))
}

/// Checks that `partition` exists in a topic of `n` partitions.
fn check_partition(topic: &str, partition: u32, n: u32) -> BResult<()> {
    if partition >= n {
        return Err(BackendError::NotFound(format!(
            "partition {partition} of topic {topic} not found: it has partitions 0..{n}"
        )));
    }
    Ok(())
}

fn out_of_range(topic: &str, p: u32, requested: u64, lo: u64, hi: u64) -> BackendError {
    BackendError::BadRequest(format!(
        "offset {requested} is out of range for {topic}/{p}: valid offsets are {lo}..{hi} (log start .. end)"
    ))
}

/// Kafka topic configs (retention.ms, retention.bytes, segment.bytes) → depot's TopicConfig fields.
type TopicSettings = (Option<u64>, Option<u64>, Option<u64>);

impl Kafka {
    /// The brokers this backend talks to.
    pub fn brokers(&self) -> &str {
        &self.brokers
    }

    async fn meta_call<T, F>(&self, f: F) -> BResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&BaseConsumer, &ClientConfig, &str) -> BResult<T> + Send + 'static,
    {
        let meta = self.meta.clone();
        let base = self.base.clone();
        let brokers = self.brokers.clone();
        blocking(move || {
            // Serve queued client events (errors, logs) of the metadata consumer.
            let _ = meta.poll(Duration::ZERO);
            f(&meta, &base, &brokers)
        })
        .await
    }

    /// Retention and segment settings per topic, when the broker answers DescribeConfigs.
    async fn topic_settings(&self, names: &[String]) -> HashMap<String, TopicSettings> {
        let mut out = HashMap::new();
        if names.is_empty() || self.no_describe_configs.load(Ordering::Relaxed) {
            return out;
        }
        let specs: Vec<ResourceSpecifier<'_>> = names.iter().map(|n| ResourceSpecifier::Topic(n)).collect();
        let opts = AdminOptions::new().request_timeout(Some(Duration::from_secs(5)));
        let r = tokio::time::timeout(Duration::from_secs(6), self.admin.describe_configs(specs.iter(), &opts)).await;
        let results = match r {
            Ok(Ok(rs)) => rs,
            Ok(Err(e)) => {
                if matches!(kerr("", &e), BackendError::Unsupported(_)) {
                    self.no_describe_configs.store(true, Ordering::Relaxed);
                }
                tracing::debug!("DescribeConfigs failed: {e}");
                return out;
            }
            Err(_) => return out,
        };
        let num = |v: Option<&rdkafka::admin::ConfigEntry>| -> Option<u64> {
            v.and_then(|e| e.value.as_deref()).and_then(|s| s.parse::<i64>().ok()).filter(|n| *n > 0).map(|n| n as u64)
        };
        for r in results {
            match r {
                Ok(res) => {
                    if let rdkafka::admin::OwnedResourceSpecifier::Topic(name) = &res.specifier {
                        out.insert(
                            name.clone(),
                            (
                                num(res.get("retention.ms")),
                                num(res.get("retention.bytes")),
                                num(res.get("segment.bytes")),
                            ),
                        );
                    }
                }
                Err(code) => {
                    if matches!(
                        code,
                        RDKafkaErrorCode::UnsupportedVersion
                            | RDKafkaErrorCode::InvalidRequest
                            | RDKafkaErrorCode::NotImplemented
                    ) {
                        self.no_describe_configs.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
        out
    }

    async fn topic_infos(&self, only: Option<String>) -> BResult<Vec<TopicInfo>> {
        let (topics, marks) = self
            .meta_call(move |meta, _, brokers| {
                let mut topics = topics_meta(meta, brokers)?;
                if let Some(name) = &only {
                    let n = topics.get(name).copied().ok_or_else(|| no_topic(name, brokers))?;
                    topics = BTreeMap::from([(name.clone(), n)]);
                }
                let parts: Vec<(String, u32)> =
                    topics.iter().flat_map(|(t, n)| (0..*n).map(move |p| (t.clone(), p))).collect();
                let marks = watermarks(meta, &parts)?;
                Ok((topics, marks))
            })
            .await?;
        let names: Vec<String> = topics.keys().cloned().collect();
        let settings = self.topic_settings(&names).await;
        Ok(topics
            .into_iter()
            .map(|(name, n)| {
                let (retention_ms, retention_bytes, segment_bytes) = settings.get(&name).copied().unwrap_or_default();
                let partitions = (0..n)
                    .map(|p| {
                        let (lo, hi) = marks.get(&(name.clone(), p)).copied().unwrap_or((0, 0));
                        PartitionInfo {
                            partition: p,
                            log_start: lo,
                            end_offset: hi,
                            size_bytes: 0,
                            segments: 0,
                            rate_in: 0.0,
                            rate_out: 0.0,
                        }
                    })
                    .collect();
                TopicInfo {
                    name,
                    config: TopicConfig { partitions: n, retention_ms, retention_bytes, segment_bytes },
                    partitions,
                }
            })
            .collect())
    }

    /// Waits until metadata shows the topic (or no longer shows it), up to a few seconds.
    async fn await_topic(&self, name: &str, present: bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let n = name.to_string();
            let there = self.meta_call(move |meta, _, brokers| Ok(topics_meta(meta, brokers)?.get(&n).copied())).await;
            match there {
                Ok(Some(p)) if present && p > 0 => return,
                Ok(None) if !present => return,
                _ => {}
            }
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends records; returns one delivery future per record, in order.
    async fn send_all(&self, topic: &str, records: Vec<(Option<u32>, OutRecord)>) -> BResult<Vec<Ack>> {
        let mut pending: Vec<DeliveryFuture> = Vec::with_capacity(records.len());
        let mut acks = Vec::with_capacity(records.len());
        for (partition, r) in &records {
            loop {
                let mut rec = FutureRecord::<[u8], [u8]>::to(topic).payload(&r.value.0[..]);
                if let Some(k) = &r.key {
                    rec = rec.key(&k.0[..]);
                }
                if let Some(p) = partition {
                    rec = rec.partition(*p as i32);
                }
                if !r.headers.is_empty() {
                    let mut hs = OwnedHeaders::new_with_capacity(r.headers.len());
                    for h in &r.headers {
                        hs = hs.insert(KHeader { key: &h.name, value: Some(&h.value.0[..]) });
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
impl TopicsApi for Kafka {
    async fn list_topics(&self) -> BResult<Vec<TopicInfo>> {
        self.topic_infos(None).await
    }

    async fn describe_topic(&self, name: &str) -> BResult<TopicInfo> {
        let mut v = self.topic_infos(Some(name.to_string())).await?;
        v.pop().ok_or_else(|| no_topic(name, &self.brokers))
    }

    async fn create_topic(&self, name: &str, config: TopicConfig) -> BResult<TopicInfo> {
        validate_name("topic", name)?;
        config.validate()?;
        let ms = config.retention_ms.map(|v| v.to_string());
        let bytes = config.retention_bytes.map(|v| v.to_string());
        let seg = config.segment_bytes.map(|v| v.to_string());
        // Replication factor -1: the broker's default.replication.factor.
        let mut nt = NewTopic::new(name, config.partitions as i32, TopicReplication::Fixed(-1));
        if let Some(v) = &ms {
            nt = nt.set("retention.ms", v);
        }
        if let Some(v) = &bytes {
            nt = nt.set("retention.bytes", v);
        }
        if let Some(v) = &seg {
            nt = nt.set("segment.bytes", v);
        }
        let opts = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT)).request_timeout(Some(REQUEST_TIMEOUT));
        let results = self
            .admin
            .create_topics([&nt], &opts)
            .await
            .map_err(|e| kerr(&format!("creating topic {name} on {}", self.brokers), &e))?;
        for r in results {
            if let Err((t, code)) = r {
                let e = KafkaError::AdminOp(code);
                return Err(match code {
                    RDKafkaErrorCode::TopicAlreadyExists => BackendError::Conflict(format!("topic {t} already exists")),
                    _ => kerr(&format!("creating topic {t} on {}", self.brokers), &e),
                });
            }
        }
        self.await_topic(name, true).await;
        self.describe_topic(name).await
    }

    async fn delete_topic(&self, name: &str) -> BResult<()> {
        let opts = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT)).request_timeout(Some(REQUEST_TIMEOUT));
        let results = self
            .admin
            .delete_topics(&[name], &opts)
            .await
            .map_err(|e| kerr(&format!("deleting topic {name} on {}", self.brokers), &e))?;
        for r in results {
            if let Err((t, code)) = r {
                return Err(match code {
                    RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic => {
                        no_topic(&t, &self.brokers)
                    }
                    _ => kerr(&format!("deleting topic {t} on {}", self.brokers), &KafkaError::AdminOp(code)),
                });
            }
        }
        self.await_topic(name, false).await;
        Ok(())
    }
}

#[async_trait]
impl MessagesApi for Kafka {
    async fn publish(&self, topic: &str, req: PublishRequest) -> BResult<Vec<Ack>> {
        if req.records.is_empty() {
            return Err(BackendError::BadRequest("nothing to publish: the request has no records".into()));
        }
        if req.producer.is_some() {
            return Err(BackendError::Unsupported(
                "idempotent producer tags are not supported on Kafka: Kafka's idempotence belongs to one producer \
                 session (its producer id and epoch are assigned by the broker), so a retried request cannot be \
                 matched to an earlier one; publish without a producer tag"
                    .into(),
            ));
        }
        let t = topic.to_string();
        let n = self.meta_call(move |meta, _, brokers| topic_partitions(meta, brokers, &t)).await?;
        for r in &req.records {
            if let Some(p) = r.partition
                && p >= n
            {
                return Err(BackendError::BadRequest(format!(
                    "partition {p} does not exist: topic {topic} has partitions 0..{n}"
                )));
            }
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
                    check_partition(&t, p, n)?;
                    vec![p]
                }
                None => (0..n).collect(),
            };
            let marks = watermarks(meta, &parts.iter().map(|p| (t.clone(), *p)).collect::<Vec<_>>())?;
            let by_time = match req.from {
                PeekFrom::Time(ts) => offsets_for_time(meta, &t, &parts, ts)?,
                _ => HashMap::new(),
            };
            let max = req.max.clamp(1, 100_000);
            let mut spans = Vec::new();
            for p in &parts {
                let (lo, hi) = marks.get(&(t.clone(), *p)).copied().unwrap_or((0, 0));
                let start = match req.from {
                    PeekFrom::Earliest => lo,
                    PeekFrom::Latest(k) => hi.saturating_sub(k).max(lo),
                    PeekFrom::Offset(o) if req.partition.is_some() => {
                        if o < lo || o > hi {
                            return Err(out_of_range(&t, *p, o, lo, hi));
                        }
                        o
                    }
                    PeekFrom::Offset(o) => o.clamp(lo, hi),
                    PeekFrom::Time(_) => by_time.get(p).copied().flatten().unwrap_or(hi).clamp(lo, hi),
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
            out.sort_by_key(|m| (m.timestamp, m.partition, m.offset));
            if matches!(req.from, PeekFrom::Latest(_)) && out.len() > max {
                out.drain(..out.len() - max);
            }
            out.truncate(max);
            Ok(out)
        })
        .await
    }

    async fn fetch(&self, topic: &str, partition: u32, offset: u64, max: usize, wait_ms: u64) -> BResult<Vec<Message>> {
        let t = topic.to_string();
        let wait = Duration::from_millis(wait_ms.min(60_000));
        self.meta_call(move |meta, base, brokers| {
            let n = topic_partitions(meta, brokers, &t)?;
            check_partition(&t, partition, n)?;
            let (lo, hi) =
                watermarks(meta, &[(t.clone(), partition)])?.get(&(t.clone(), partition)).copied().unwrap_or((0, 0));
            if offset < lo || offset > hi {
                return Err(out_of_range(&t, partition, offset, lo, hi));
            }
            let max = max.clamp(1, 100_000);
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
}

#[async_trait]
impl GroupsApi for Kafka {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>> {
        self.meta_call(move |meta, base, brokers| {
            let views = group_views(meta, brokers, None)?;
            describe_groups(base, meta, brokers, views, false)
        })
        .await
    }

    async fn describe_group(&self, name: &str) -> BResult<GroupInfo> {
        let g = name.to_string();
        self.meta_call(move |meta, base, brokers| {
            let mut views = group_views(meta, brokers, Some(&g))?;
            let view = views.remove(&g).unwrap_or_default();
            let mut v = describe_groups(base, meta, brokers, BTreeMap::from([(g.clone(), view)]), true)?;
            v.pop().ok_or_else(|| BackendError::NotFound(format!("consumer group {g} not found on {brokers}")))
        })
        .await
    }

    async fn pull(&self, group: &str, req: PullRequest) -> BResult<PullResult> {
        validate_name("group", group)?;
        let g = group.to_string();
        self.meta_call(move |meta, base, brokers| {
            let n = topic_partitions(meta, brokers, &req.topic)?;
            let max = req.max.clamp(1, 100_000);
            let c: BaseConsumer = create(&group_config(base, &g), brokers)?;
            c.subscribe(&[req.topic.as_str()])
                .map_err(|e| kerr(&format!("subscribing group {g} to {}", req.topic), &e))?;
            let mut got: Vec<Message> = Vec::new();
            // Join: poll until the group hands us an assignment.
            let join_deadline = Instant::now() + JOIN_TIMEOUT;
            let mut last_err: Option<KafkaError> = None;
            let assigned: Vec<u32> = loop {
                match c.poll(Duration::from_millis(100)) {
                    Some(Ok(m)) => got.push(to_message(&m)),
                    Some(Err(KafkaError::PartitionEOF(_))) | None => {}
                    Some(Err(e)) => {
                        tracing::debug!("joining group {g}: {e}");
                        last_err = Some(e);
                    }
                }
                let a = c.assignment().map_err(|e| kerr(&format!("reading group {g}'s assignment"), &e))?;
                if a.count() > 0 {
                    break a.elements().iter().map(|e| e.partition().max(0) as u32).collect();
                }
                if Instant::now() >= join_deadline {
                    let why = last_err.map(|e| format!(" (last error: {e})")).unwrap_or_default();
                    return Err(BackendError::Unavailable(format!(
                        "joining consumer group {g} on {brokers} gave no partitions of {} within {} s{why}; other \
                         members may hold all {n} partition(s), or the group coordinator is slow",
                        req.topic,
                        JOIN_TIMEOUT.as_secs()
                    )));
                }
            };
            // What is there to read now: from the committed offset (or the log start) to the end.
            let parts: Vec<(String, u32)> = assigned.iter().map(|p| (req.topic.clone(), *p)).collect();
            let committed = committed_of(base, brokers, &g, &parts)?;
            let marks = watermarks(meta, &parts)?;
            let available: u64 = parts
                .iter()
                .map(|k| {
                    let (lo, hi) = marks.get(k).copied().unwrap_or((0, 0));
                    hi.saturating_sub(committed.get(k).copied().unwrap_or(lo).clamp(lo, hi))
                })
                .sum();
            let want = (available.min(max as u64)) as usize;
            let deadline =
                Instant::now() + if want > 0 { READ_TIMEOUT } else { Duration::from_millis(req.wait_ms.min(60_000)) };
            let target = if want > 0 { want } else { 1 };
            while got.len() < target && Instant::now() < deadline {
                let left = deadline.saturating_duration_since(Instant::now()).min(Duration::from_millis(200));
                match c.poll(left) {
                    Some(Ok(m)) => got.push(to_message(&m)),
                    Some(Err(KafkaError::PartitionEOF(_))) | None => {}
                    Some(Err(e)) => tracing::debug!("pulling for group {g}: {e}"),
                }
            }
            got.truncate(max);
            let mut next: BTreeMap<(String, u32), u64> = BTreeMap::new();
            for m in &got {
                let e = next.entry((m.topic.clone(), m.partition)).or_insert(0);
                *e = (*e).max(m.offset + 1);
            }
            let offsets: Vec<CommitOffset> = next
                .into_iter()
                .map(|((topic, partition), offset)| CommitOffset { topic, partition, offset })
                .collect();
            if req.commit && !offsets.is_empty() {
                let mut tpl = TopicPartitionList::new();
                for o in &offsets {
                    tpl.add_partition_offset(&o.topic, o.partition as i32, Offset::Offset(o.offset as i64))
                        .map_err(|e| kerr("building a commit", &e))?;
                }
                c.commit(&tpl, CommitMode::Sync).map_err(|e| kerr(&format!("committing for group {g}"), &e))?;
            }
            drop(c); // leaves the group (LeaveGroup), so the group is empty again when this returns
            Ok(PullResult { group: g, messages: got, offsets, committed: req.commit })
        })
        .await
    }

    async fn commit(&self, group: &str, offsets: Vec<CommitOffset>) -> BResult<()> {
        validate_name("group", group)?;
        let g = group.to_string();
        self.meta_call(move |meta, base, brokers| {
            if offsets.is_empty() {
                return Ok(());
            }
            let live = live_members(meta, brokers, &g)?;
            if !live.is_empty() {
                return Err(live_refusal(&g, &live, "offset commits"));
            }
            let topics = topics_meta(meta, brokers)?;
            for o in &offsets {
                let n = topics.get(&o.topic).copied().ok_or_else(|| no_topic(&o.topic, brokers))?;
                check_partition(&o.topic, o.partition, n)?;
            }
            let parts: Vec<(String, u32)> = offsets.iter().map(|o| (o.topic.clone(), o.partition)).collect();
            let marks = watermarks(meta, &parts)?;
            let now = committed_of(base, brokers, &g, &parts)?;
            for o in &offsets {
                let k = (o.topic.clone(), o.partition);
                let (lo, hi) = marks.get(&k).copied().unwrap_or((0, 0));
                if o.offset > hi {
                    return Err(out_of_range(&o.topic, o.partition, o.offset, lo, hi));
                }
                if let Some(cur) = now.get(&k)
                    && o.offset < *cur
                {
                    return Err(BackendError::Refused(format!(
                        "commits only move forward: group {g} has committed {} on {}/{}; use a reset (to-offset) \
                         to move it back",
                        cur, o.topic, o.partition
                    )));
                }
            }
            let list: Vec<(String, u32, u64)> = offsets.into_iter().map(|o| (o.topic, o.partition, o.offset)).collect();
            commit_as_group(base, brokers, &g, &list)
        })
        .await
    }

    async fn delete_group(&self, name: &str) -> BResult<()> {
        let opts = AdminOptions::new().request_timeout(Some(REQUEST_TIMEOUT));
        let results = self
            .admin
            .delete_groups(&[name], &opts)
            .await
            .map_err(|e| kerr(&format!("deleting group {name} on {}", self.brokers), &e))?;
        for r in results {
            if let Err((g, code)) = r {
                return Err(match code {
                    RDKafkaErrorCode::NonEmptyGroup => BackendError::Refused(format!(
                        "group {g} has live members; stop its consumers before deleting it"
                    )),
                    RDKafkaErrorCode::GroupIdNotFound => {
                        BackendError::NotFound(format!("consumer group {g} not found on {}", self.brokers))
                    }
                    _ => kerr(&format!("deleting group {g} on {}", self.brokers), &KafkaError::AdminOp(code)),
                });
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ResetsApi for Kafka {
    async fn plan_reset(&self, group: &str, req: ResetRequest) -> BResult<ResetPlan> {
        validate_name("group", group)?;
        let g = group.to_string();
        self.meta_call(move |meta, base, brokers| {
            let n = topic_partitions(meta, brokers, &req.topic)?;
            let parts: Vec<u32> = if req.partitions.is_empty() {
                (0..n).collect()
            } else {
                for p in &req.partitions {
                    check_partition(&req.topic, *p, n)?;
                }
                req.partitions.clone()
            };
            let keys: Vec<(String, u32)> = parts.iter().map(|p| (req.topic.clone(), *p)).collect();
            let committed = committed_of(base, brokers, &g, &keys)?;
            let marks = watermarks(meta, &keys)?;
            let now = now_ms();
            // kafka-consumer-groups: offsets-for-times, and the log end where no record is that new.
            let at_time = match req.spec.time_to_resolve(now) {
                Some(ts) => Some(offsets_for_time(meta, &req.topic, &parts, ts)?),
                None => None,
            };
            let mut rows = Vec::new();
            for p in &parts {
                let k = (req.topic.clone(), *p);
                let (lo, hi) = marks.get(&k).copied().unwrap_or((0, 0));
                let before = committed.get(&k).copied();
                let resolved = at_time.as_ref().map(|m| m.get(p).copied().flatten().unwrap_or(hi));
                let (after, note) = reset::target(&req.spec, before, lo, hi, resolved)?;
                rows.push(ResetRow { partition: *p, before, after, log_start: lo, end_offset: hi, note });
            }
            let live_members = live_members(meta, brokers, &g)?;
            Ok(ResetPlan { group: g, topic: req.topic, spec: req.spec, rows, live_members, undo_of: None })
        })
        .await
    }

    async fn execute_reset(&self, plan: ResetPlan, force: bool) -> BResult<ResetRecord> {
        if plan.undo_of.is_some() {
            return Err(BackendError::Unsupported(
                "undo is not supported on Kafka: depot keeps no journal of Kafka resets".into(),
            ));
        }
        self.meta_call(move |meta, base, brokers| {
            let live = live_members(meta, brokers, &plan.group)?;
            if !live.is_empty() {
                return Err(if force {
                    BackendError::Refused(format!(
                        "cannot force a reset of group {} on Kafka: the broker accepts offset commits only from the \
                         group's own members while it has any (it answers UNKNOWN_MEMBER_ID), so forcing cannot work \
                         here; stop its consumers ({}) and execute the plan again",
                        plan.group,
                        live.join(", ")
                    ))
                } else {
                    live_refusal(&plan.group, &live, "offset commits (so a reset cannot be forced here either)")
                });
            }
            let keys: Vec<(String, u32)> = plan.rows.iter().map(|r| (plan.topic.clone(), r.partition)).collect();
            let now = committed_of(base, brokers, &plan.group, &keys)?;
            for r in &plan.rows {
                let cur = now.get(&(plan.topic.clone(), r.partition)).copied();
                if cur != r.before {
                    let show = |o: Option<u64>| o.map_or("nothing".to_string(), |v| v.to_string());
                    return Err(BackendError::Conflict(format!(
                        "the committed offset of {}/{} changed from {} to {} since the plan was made; plan again",
                        plan.topic,
                        r.partition,
                        show(r.before),
                        show(cur)
                    )));
                }
            }
            let offsets: Vec<(String, u32, u64)> =
                plan.rows.iter().map(|r| (plan.topic.clone(), r.partition, r.after)).collect();
            commit_as_group(base, brokers, &plan.group, &offsets)?;
            let at_ms = now_ms();
            tracing::info!("reset of Kafka group {} on {} ({}) executed", plan.group, plan.topic, plan.spec);
            Ok(ResetRecord {
                // Not journaled: the id is the time of execution.
                id: at_ms.max(0) as u64,
                at_ms,
                group: plan.group,
                topic: plan.topic,
                spec: plan.spec,
                rows: plan.rows.iter().map(|r| (r.partition, r.before, r.after)).collect(),
                forced: false,
                undo_of: None,
            })
        })
        .await
    }

    async fn plan_undo(&self, _group: &str) -> BResult<ResetPlan> {
        Err(BackendError::Unsupported(
            "undo is not supported on Kafka: depot keeps no journal of the resets it makes there; to go back, plan a \
             reset to-offset with the 'before' offsets shown when the reset was planned"
                .into(),
        ))
    }

    async fn reset_history(&self, _group: &str) -> BResult<Vec<ResetRecord>> {
        Err(BackendError::Unsupported(
            "reset history is not available on Kafka: depot keeps no journal of the resets it makes there".into(),
        ))
    }
}

#[async_trait]
impl ReplayApi for Kafka {
    async fn plan_replay(&self, req: ReplayRequest) -> BResult<ReplayPlan> {
        self.meta_call(move |meta, _, brokers| {
            let topics = topics_meta(meta, brokers)?;
            let n = topics.get(&req.source).copied().ok_or_else(|| no_topic(&req.source, brokers))?;
            let target = req.target.clone().unwrap_or_else(|| req.source.clone());
            if !topics.contains_key(&target) {
                return Err(no_topic(&target, brokers));
            }
            let parts: Vec<u32> = if req.partitions.is_empty() {
                (0..n).collect()
            } else {
                for p in &req.partitions {
                    check_partition(&req.source, *p, n)?;
                }
                req.partitions.clone()
            };
            req.range.check()?;
            let keys: Vec<(String, u32)> = parts.iter().map(|p| (req.source.clone(), *p)).collect();
            let marks = watermarks(meta, &keys)?;
            let (since, until) = match req.range {
                ReplayRange::Time { since_ms, until_ms } => (
                    offsets_for_time(meta, &req.source, &parts, since_ms)?,
                    offsets_for_time(meta, &req.source, &parts, until_ms)?,
                ),
                ReplayRange::Offsets { .. } => (HashMap::new(), HashMap::new()),
            };
            let mut rows = Vec::new();
            for p in &parts {
                let (lo, hi) = marks.get(&(req.source.clone(), *p)).copied().unwrap_or((0, 0));
                let (from, to) = match req.range {
                    ReplayRange::Offsets { from, to } => (from.clamp(lo, hi), to.clamp(lo, hi)),
                    ReplayRange::Time { .. } => (
                        since.get(p).copied().flatten().unwrap_or(hi).clamp(lo, hi),
                        until.get(p).copied().flatten().unwrap_or(hi).clamp(lo, hi),
                    ),
                };
                let to = to.max(from);
                rows.push(ReplayRow { partition: *p, from, to, count: to - from });
            }
            let total = rows.iter().map(|r| r.count).sum();
            Ok(ReplayPlan { source: req.source, target, range: req.range, rows, total })
        })
        .await
    }

    async fn execute_replay(&self, plan: ReplayPlan) -> BResult<ReplayResult> {
        let target = plan.target.clone();
        let t = target.clone();
        let target_parts = self.meta_call(move |meta, _, brokers| topic_partitions(meta, brokers, &t)).await?;
        let same = plan.source == plan.target;
        let mut appended = 0u64;
        for row in &plan.rows {
            let mut at = row.from;
            while at < row.to {
                let span = Span { partition: row.partition, start: at, end: row.to, max: REPLAY_CHUNK };
                let src = plan.source.clone();
                let (msgs, complete) = self
                    .meta_call(move |_, base, brokers| {
                        let mut v = Vec::new();
                        let complete = read_spans(base, brokers, &src, &[span], READ_TIMEOUT, &mut |m| {
                            v.push(m);
                            Ok(())
                        })?;
                        Ok((v, complete))
                    })
                    .await?;
                let Some(last) = msgs.last().map(|m| m.offset) else {
                    if complete {
                        break; // nothing left in the range (compacted away or transaction markers)
                    }
                    return Err(BackendError::Unavailable(format!(
                        "replay of {}/{} stopped at offset {at}: nothing could be read within {} s ({appended} \
                         record(s) were copied so far)",
                        plan.source,
                        row.partition,
                        READ_TIMEOUT.as_secs()
                    )));
                };
                let records: Vec<(Option<u32>, OutRecord)> = msgs
                    .into_iter()
                    .map(|m| {
                        let partition = if same {
                            Some(row.partition)
                        } else if m.key.is_some() {
                            None // Kafka's partitioner (murmur2) places the key
                        } else {
                            Some(row.partition % target_parts.max(1))
                        };
                        let mut headers = m.headers;
                        headers.push(Header { name: ORIGIN_TOPIC.into(), value: Payload::text(&plan.source) });
                        headers.push(Header {
                            name: ORIGIN_PARTITION.into(),
                            value: Payload::text(&row.partition.to_string()),
                        });
                        headers
                            .push(Header { name: ORIGIN_OFFSET.into(), value: Payload::text(&m.offset.to_string()) });
                        (partition, OutRecord { key: m.key, value: m.value, headers, partition })
                    })
                    .collect();
                appended += self.send_all(&target, records).await?.len() as u64;
                at = last + 1;
            }
        }
        Ok(ReplayResult { target, appended })
    }
}

#[async_trait]
impl Backend for Kafka {
    async fn capabilities(&self) -> BResult<Capabilities> {
        Ok(Capabilities {
            kind: "kafka".into(),
            undo: false,
            idempotent_producers: false,
            redeliveries: false,
            sizes: false,
            ..Capabilities::depot()
        })
    }

    fn target(&self) -> String {
        format!("kafka {}", self.brokers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_protocol_structures_decode() {
        // version 0, topics ["orders", "b"], no user data
        let mut sub = vec![0, 0, 0, 0, 0, 2, 0, 6];
        sub.extend_from_slice(b"orders");
        sub.extend_from_slice(&[0, 1, b'b', 0, 0, 0, 0]);
        assert_eq!(decode_subscription(&sub), Some(vec!["orders".to_string(), "b".to_string()]));
        // version 1, [("orders", [0, 2])], empty user data
        let mut asg = vec![0, 1, 0, 0, 0, 1, 0, 6];
        asg.extend_from_slice(b"orders");
        asg.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]);
        assert_eq!(decode_assignment(&asg), Some(vec![("orders".to_string(), 0), ("orders".to_string(), 2)]));
        assert_eq!(decode_assignment(&[0, 0, 0x7f, 0xff, 0xff, 0xff]), None, "absurd lengths are rejected");
        assert_eq!(decode_subscription(&[]), None);
    }

    #[test]
    fn group_states_read_like_depots() {
        assert_eq!(state_name("Stable"), "stable");
        assert_eq!(state_name("PreparingRebalance"), "preparing-rebalance");
        assert_eq!(state_name("Empty"), "empty");
    }

    #[test]
    fn security_settings_map_to_librdkafka_properties() {
        let mut cfg = KafkaConfig::new("b:9092");
        let c = client_config(&cfg).unwrap();
        assert_eq!(c.get("security.protocol"), Some("PLAINTEXT"));
        cfg.username = Some("u".into());
        assert!(matches!(client_config(&cfg), Err(BackendError::BadRequest(_))), "a password is needed");
        cfg.password = Some("p".into());
        let c = client_config(&cfg).unwrap();
        assert_eq!((c.get("security.protocol"), c.get("sasl.mechanism")), (Some("SASL_PLAINTEXT"), Some("PLAIN")));
        cfg.sasl_mechanism = Some("scram-sha-512".into());
        cfg.tls = true;
        let c = client_config(&cfg).unwrap();
        assert_eq!((c.get("security.protocol"), c.get("sasl.mechanism")), (Some("SASL_SSL"), Some("SCRAM-SHA-512")));
        cfg.sasl_mechanism = Some("GSSAPI".into());
        assert!(matches!(client_config(&cfg), Err(BackendError::BadRequest(_))));
        assert!(!format!("{cfg:?}").contains("\"p\""), "the password is not printed");
        assert!(matches!(client_config(&KafkaConfig::new(" ")), Err(BackendError::BadRequest(_))));
    }
}
