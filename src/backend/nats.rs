//! NATS JetStream as a [`Backend`] (async-nats). The mapping, in depot's words:
//!
//! - **Topics are streams**, each exactly one partition (partition 0). A topic depot creates is a
//!   stream whose only subject is its name. Offsets are stream sequence numbers: the log start is
//!   the stream's first sequence, the end is its last sequence + 1 (an empty stream has both at
//!   last + 1, so a new stream starts at offset 1, not 0). Sizes are the stream's bytes; the append
//!   rate is measured from the last sequence between two looks (JetStream reports no rates).
//! - **Groups are durable consumers** (on any stream; a name used on several streams is one group
//!   with one partition per stream). The committed offset is the ack floor + 1; lag is
//!   `num_pending + num_ack_pending` messages; lag in time is the age of the first message after
//!   the ack floor; redeliveries are `num_redelivered` (messages now pending that were delivered
//!   more than once). JetStream has no member list: a group is `stable` while pull requests wait
//!   on it (or a push subscriber is bound), else `empty`.
//! - **Records**: value = payload, key = the `Depot-Key` header, headers = NATS headers (text on
//!   one line, so binary keys and header values are refused, never mangled). Idempotent producers
//!   map to `Nats-Msg-Id` (`depot-<id>-<sequence>`), deduplicated within the stream's duplicate
//!   window (JetStream cannot see gaps in a producer's sequence).
//! - **Pulls** fetch from the durable pull consumer (created with explicit acks if missing), then
//!   ack everything (commit) or nak it so it is redelivered (at-least-once, like depot's own pull).
//! - **Resets** delete and re-create the durable consumer with its settings and a start sequence;
//!   JetStream keeps no history, so there is no undo. **Replays** republish a sequence range.
//!
//! Reads go through the JetStream API one message at a time (`STREAM.MSG.GET`, a few in flight;
//! `CONSUMER.MSG.NEXT` with a batch of one), because multi-message batches arrive as a stream of
//! replies that needs `futures` to consume.

use super::*;
use crate::core::names::validate_name;
use crate::core::replay::{ORIGIN_OFFSET, ORIGIN_PARTITION, ORIGIN_TOPIC};
use crate::core::reset;
use crate::core::time::{fmt_ms, now_ms};
use async_nats::jetstream::{self, consumer, stream};
use async_nats::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use base64::Engine as _;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The header that carries a record's key.
pub const KEY_HEADER: &str = "Depot-Key";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_READ: usize = 10_000;
const MAX_WAIT_MS: u64 = 60_000;
/// Raw gets in flight at once while reading a range.
const READ_WINDOW: u64 = 32;
const EPHEMERAL_IDLE: Duration = Duration::from_secs(30);
/// How long a pull waits for a redelivery when the consumer is at max_ack_pending.
const FULL_WAIT: Duration = Duration::from_millis(200);
/// The last millisecond JetStream can be asked about (9999-12-31T23:59:59.999Z: Go's RFC 3339
/// has four-digit years); no message is later, so later times resolve to the end.
const LAST_NATS_MS: i64 = 253_402_300_799_999;

/// Where and how to connect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NatsConfig {
    pub url: String,
    pub token: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub creds_file: Option<PathBuf>,
}

/// A backend over a NATS server with JetStream.
#[derive(Clone)]
pub struct Nats {
    client: async_nats::Client,
    js: jetstream::Context,
    url: String,
    rates: Arc<parking_lot::Mutex<Rates>>,
}

impl std::fmt::Debug for Nats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nats").field("url", &self.url).finish_non_exhaustive()
    }
}

/// Connects (failing within a few seconds when nobody answers) and checks that JetStream is on.
pub async fn connect(cfg: &NatsConfig) -> BResult<Nats> {
    let url = cfg.url.clone();
    let mut opts = async_nats::ConnectOptions::new()
        .name("depot")
        .connection_timeout(CONNECT_TIMEOUT)
        .request_timeout(Some(REQUEST_TIMEOUT));
    if let Some(t) = &cfg.token {
        opts = opts.token(t.clone());
    }
    match (&cfg.user, &cfg.password) {
        (Some(u), Some(p)) => opts = opts.user_and_password(u.clone(), p.clone()),
        (None, None) => {}
        _ => {
            return Err(BackendError::BadRequest(format!(
                "NATS at {url}: give both a user and a password, or neither"
            )));
        }
    }
    if let Some(path) = &cfg.creds_file {
        opts = opts.credentials_file(path).await.map_err(|e| {
            BackendError::BadRequest(format!("cannot read the NATS credentials file {}: {e}", path.display()))
        })?;
    }
    let client = match tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), opts.connect(url.as_str())).await
    {
        Err(_) => {
            return Err(BackendError::Unavailable(format!(
                "cannot reach NATS at {url}: no answer within {} s; is nats-server running there?",
                CONNECT_TIMEOUT.as_secs()
            )));
        }
        Ok(Err(e)) => return Err(connect_error(&url, e)),
        Ok(Ok(c)) => c,
    };
    let js = jetstream::new(client.clone());
    let nats = Nats { client, js, url: url.clone(), rates: Arc::default() };
    // `$JS.API.INFO` answers only where JetStream is on (read as plain JSON: its shape varies by version).
    match nats.api::<Value>("INFO", &json!({})).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            return Err(BackendError::Unavailable(format!(
                "NATS at {url} answers but JetStream is not available to this account: {e}"
            )));
        }
        Err(e) => return Err(e),
    }
    Ok(nats)
}

fn connect_error(url: &str, e: async_nats::ConnectError) -> BackendError {
    use async_nats::ConnectErrorKind as K;
    match e.kind() {
        K::Authentication | K::AuthorizationViolation => BackendError::Unauthorized(format!(
            "NATS at {url} refused the credentials: {e}; check token, user/password or creds file"
        )),
        K::ServerParse => {
            BackendError::BadRequest(format!("{url:?} is not a NATS URL (e.g. nats://127.0.0.1:4222): {e}"))
        }
        K::TimedOut => BackendError::Unavailable(format!(
            "cannot reach NATS at {url}: no answer within {} s; is nats-server running there?",
            CONNECT_TIMEOUT.as_secs()
        )),
        _ => BackendError::Unavailable(format!("cannot connect to NATS at {url}: {e}; is nats-server running there?")),
    }
}

// ---- small helpers -----------------------------------------------------------------------------

fn ms_of(t: async_nats::datetime::DateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

/// A name JetStream accepts in API subjects (streams, consumers).
fn check_name(kind: &str, name: &str) -> BResult<()> {
    let bad = |c: char| matches!(c, '.' | '*' | '>' | '/' | '\\') || c.is_whitespace() || c.is_control();
    if name.is_empty() || name.chars().any(bad) {
        return Err(BackendError::BadRequest(format!(
            "{kind} name {name:?} cannot be a JetStream name: use a non-empty name without '.', '*', '>', '/', '\\' or spaces"
        )));
    }
    Ok(())
}

/// A name depot creates: depot's rules, plus JetStream's (no '.').
fn check_new_name(kind: &str, name: &str) -> BResult<()> {
    validate_name(kind, name)?;
    check_name(kind, name)
}

fn check_partition(topic: &str, p: u32) -> BResult<()> {
    if p != 0 {
        return Err(BackendError::NotFound(format!(
            "partition {p} of topic {topic} not found; it has partitions 0..1 (a JetStream stream is one partition)"
        )));
    }
    Ok(())
}

fn check_partitions(topic: &str, ps: &[u32]) -> BResult<()> {
    ps.iter().try_for_each(|&p| check_partition(topic, p))
}

/// (log start, end) of a stream: first sequence and last sequence + 1.
fn offsets(s: &stream::State) -> (u64, u64) {
    let end = s.last_sequence + 1;
    if s.messages == 0 { (end, end) } else { (s.first_sequence.clamp(1, end), end) }
}

fn out_of_range(topic: &str, requested: u64, start: u64, end: u64) -> BackendError {
    BackendError::BadRequest(format!(
        "offset {requested} is out of range for {topic}/0: valid offsets are {start}..{end} (log start .. end; offsets are stream sequences)"
    ))
}

/// Text that survives a NATS header untouched: UTF-8, one line, no spaces at either end.
fn header_text(what: &str, p: &Payload) -> BResult<HeaderValue> {
    let unsupported = |why: &str| {
        BackendError::Unsupported(format!(
            "{what} {why}: NATS headers carry one line of text (trimmed), so it would not arrive as sent; use text without line breaks or surrounding spaces"
        ))
    };
    let Some(t) = p.as_text() else { return Err(unsupported("is binary")) };
    if t.contains(['\r', '\n']) {
        return Err(unsupported("has a line break"));
    }
    if t.trim() != t {
        return Err(unsupported("starts or ends with whitespace"));
    }
    HeaderValue::from_str(t).map_err(|_| unsupported("is not a valid header value"))
}

fn header_name(name: &str) -> BResult<HeaderName> {
    let bad = || {
        BackendError::Unsupported(format!(
            "header name {name:?} cannot be a NATS header name: use printable ASCII without spaces or ':'"
        ))
    };
    if name.is_empty() {
        return Err(bad());
    }
    HeaderName::from_str(name).map_err(|_| bad())
}

/// The NATS headers for a record: its headers, its key in `Depot-Key`, then `extra`.
fn record_headers(r: &OutRecord, extra: &[(&str, String)]) -> BResult<Option<HeaderMap>> {
    let mut h = HeaderMap::new();
    for x in &r.headers {
        if x.name.eq_ignore_ascii_case(KEY_HEADER) {
            return Err(BackendError::BadRequest(format!(
                "header name {} is reserved: depot carries the record key in it (set the key instead)",
                x.name
            )));
        }
        h.append(header_name(&x.name)?, header_text(&format!("the value of header {}", x.name), &x.value)?);
    }
    if let Some(k) = &r.key {
        h.append(header_name(KEY_HEADER)?, header_text("the key", k)?);
    }
    for (n, v) in extra {
        h.append(header_name(n)?, header_text(&format!("the value of header {n}"), &Payload::text(v))?);
    }
    Ok((!h.is_empty()).then_some(h))
}

/// A message read back: `Depot-Key` becomes the key, other headers sorted by name (async-nats
/// publishes headers from a hash map, so no order between names survives; values of one name
/// keep theirs).
fn to_message(topic: &str, offset: u64, timestamp: i64, mut headers: Vec<(String, String)>, payload: Bytes) -> Message {
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let mut key = None;
    let mut out = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        if name.eq_ignore_ascii_case(KEY_HEADER) {
            key.get_or_insert(Payload::text(&value));
        } else {
            out.push(Header { name, value: Payload::text(&value) });
        }
    }
    Message { topic: topic.to_string(), partition: 0, offset, timestamp, key, value: Payload(payload), headers: out }
}

fn header_pairs(h: Option<&HeaderMap>) -> Vec<(String, String)> {
    let Some(h) = h else { return Vec::new() };
    h.iter().flat_map(|(n, vs)| vs.iter().map(move |v| (n.to_string(), v.as_str().to_string()))).collect()
}

/// A stored header block (`NATS/1.0` line, then `Name: value` lines) as (name, value) pairs, read
/// the way the NATS client reads headers on the wire: values trimmed, continuation lines joined,
/// repeated names kept (async-nats' own parser for stored messages keeps only the last value).
fn parse_header_block(block: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(block);
    let mut lines = text.split("\r\n").skip(1).peekable();
    let mut out: Vec<(String, String)> = Vec::new();
    while let Some(line) = lines.next() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let mut value = value.trim_start().to_string();
        while let Some(more) = lines.next_if(|l| l.starts_with(char::is_whitespace)) {
            value.push_str(more);
        }
        value.truncate(value.trim_end().len());
        out.push((name.to_string(), value));
    }
    out
}

/// The subject depot publishes to: the stream's name when it is one of its subjects, else its
/// first subject without wildcards.
fn publish_subject(info: &stream::Info) -> BResult<String> {
    let c = &info.config;
    if let Some(m) = &c.mirror {
        return Err(BackendError::Unsupported(format!(
            "stream {} is a mirror of {}: JetStream takes no publishes into a mirror; publish to {} instead",
            c.name, m.name, m.name
        )));
    }
    if c.subjects.is_empty() || c.subjects.iter().any(|s| s == &c.name) {
        return Ok(c.name.clone());
    }
    let literal = |s: &&String| s.split('.').all(|t| t != "*" && t != ">");
    match c.subjects.iter().find(literal) {
        Some(s) => Ok(s.clone()),
        None => Err(BackendError::Unsupported(format!(
            "stream {} takes only wildcard subjects ({}); depot publishes to one literal subject of a stream — publish with the nats tool to a matching subject instead",
            c.name,
            c.subjects.join(", ")
        ))),
    }
}

fn topic_info(info: &stream::Info, rate_in: f64) -> TopicInfo {
    let c = &info.config;
    let (log_start, end_offset) = offsets(&info.state);
    TopicInfo {
        name: c.name.clone(),
        config: TopicConfig {
            partitions: 1,
            retention_ms: (!c.max_age.is_zero()).then_some(c.max_age.as_millis() as u64),
            retention_bytes: (c.max_bytes > 0).then_some(c.max_bytes as u64),
            segment_bytes: None,
        },
        partitions: vec![PartitionInfo {
            partition: 0,
            log_start,
            end_offset,
            size_bytes: info.state.bytes,
            segments: 1,
            rate_in,
            rate_out: 0.0,
        }],
    }
}

/// Groups are durable consumers; an ephemeral one with that name is not depot's to reset.
fn durable_only(c: &consumer::Info) -> BResult<()> {
    if c.config.durable_name.is_none() {
        return Err(BackendError::Unsupported(format!(
            "consumer {} on {} is ephemeral (it vanishes when its client goes): depot resets durable consumers only",
            c.name, c.stream_name
        )));
    }
    Ok(())
}

fn is_live(c: &consumer::Info) -> bool {
    c.num_waiting > 0 || c.push_bound
}

fn live_description(c: &consumer::Info) -> Vec<String> {
    let mut v = Vec::new();
    if c.num_waiting > 0 {
        v.push(format!("{} waiting pull request(s) on {}", c.num_waiting, c.stream_name));
    }
    if c.push_bound {
        v.push(format!("a push subscriber bound on {}", c.stream_name));
    }
    v
}

/// Rates measured between looks: (instant, counter) samples over the last ten seconds.
#[derive(Default)]
struct Rates {
    series: HashMap<String, VecDeque<(Instant, u64)>>,
}

impl Rates {
    fn rate(&mut self, key: &str, value: u64) -> f64 {
        let now = Instant::now();
        let window = Duration::from_secs(10);
        self.series.retain(|_, s| s.back().is_some_and(|(t, _)| now.duration_since(*t) < Duration::from_secs(120)));
        let s = self.series.entry(key.to_string()).or_default();
        if s.back().is_some_and(|&(_, v)| v > value) {
            s.clear(); // the counter went back (stream re-created, consumer reset)
        }
        s.push_back((now, value));
        while s.len() > 2 && s.get(1).is_some_and(|(t, _)| now.duration_since(*t) >= window) {
            s.pop_front();
        }
        match s.front() {
            Some(&(t0, v0)) if now.duration_since(t0) >= Duration::from_millis(500) => {
                (value - v0) as f64 / now.duration_since(t0).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

#[derive(serde::Deserialize)]
struct GetMsg {
    message: stream::RawMessage,
}

#[derive(serde::Deserialize)]
struct StreamPage {
    #[serde(default)]
    total: usize,
    #[serde(default)]
    streams: Option<Vec<stream::Info>>,
}

#[derive(serde::Deserialize)]
struct ConsumerPage {
    #[serde(default)]
    total: usize,
    #[serde(default)]
    consumers: Option<Vec<consumer::Info>>,
}

/// A JetStream API answer: the value, or the error JetStream gave (transport failures are
/// already a [`BackendError`]).
type Api<T> = BResult<Result<T, jetstream::Error>>;

fn js_error(what: &str, e: &jetstream::Error) -> BackendError {
    let msg = format!("{what}: JetStream said: {e}");
    match e.code() {
        400 => BackendError::BadRequest(msg),
        401 | 403 => BackendError::Unauthorized(msg),
        404 => BackendError::NotFound(msg),
        409 => BackendError::Conflict(msg),
        503 => BackendError::Unavailable(msg),
        _ => BackendError::Internal(msg),
    }
}

fn code(e: &jetstream::Error) -> u64 {
    e.error_code().0
}

impl Nats {
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The underlying client, e.g. to check what depot did with plain NATS calls.
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    fn request_error(&self, subject: &str, e: async_nats::jetstream::context::RequestError) -> BackendError {
        use async_nats::jetstream::context::RequestErrorKind as K;
        match e.kind() {
            K::NoResponders => BackendError::Unavailable(format!(
                "NATS at {} answers but no JetStream does ({subject}): start nats-server with JetStream (-js) or use an account that has it",
                self.url
            )),
            K::TimedOut => BackendError::Unavailable(format!(
                "NATS at {} did not answer {subject} within {} s; try again",
                self.url,
                REQUEST_TIMEOUT.as_secs()
            )),
            _ => BackendError::Unavailable(format!("request {subject} to NATS at {} failed: {e}", self.url)),
        }
    }

    /// One JetStream API call (`$JS.API.<subject>`).
    async fn api<T: DeserializeOwned>(&self, subject: &str, body: &Value) -> Api<T> {
        let v: Value = self.js.request(subject.to_string(), body).await.map_err(|e| self.request_error(subject, e))?;
        if let Some(err) = v.get("error") {
            return match serde_json::from_value::<jetstream::Error>(err.clone()) {
                Ok(e) => Ok(Err(e)),
                Err(e) => Err(BackendError::Internal(format!(
                    "JetStream answered {subject} with an unreadable error ({e}): {err}"
                ))),
            };
        }
        serde_json::from_value(v)
            .map(Ok)
            .map_err(|e| BackendError::Internal(format!("JetStream answered {subject} in an unexpected shape: {e}")))
    }

    async fn stream_info(&self, topic: &str) -> BResult<stream::Info> {
        check_name("topic", topic)?;
        match self.api::<stream::Info>(&format!("STREAM.INFO.{topic}"), &json!({})).await? {
            Ok(i) => Ok(i),
            Err(e) if code(&e) == jetstream::ErrorCode::STREAM_NOT_FOUND.0 => Err(BackendError::NotFound(format!(
                "topic {topic} not found: NATS at {} has no JetStream stream named {topic}",
                self.url
            ))),
            Err(e) => Err(js_error(&format!("describing stream {topic}"), &e)),
        }
    }

    async fn streams(&self) -> BResult<Vec<stream::Info>> {
        let mut out = Vec::new();
        loop {
            let page = match self.api::<StreamPage>("STREAM.LIST", &json!({ "offset": out.len() })).await? {
                Ok(p) => p,
                Err(e) => return Err(js_error("listing streams", &e)),
            };
            let got = page.streams.unwrap_or_default();
            let n = got.len();
            out.extend(got);
            if n == 0 || out.len() >= page.total {
                break;
            }
        }
        out.sort_by(|a, b| a.config.name.cmp(&b.config.name));
        Ok(out)
    }

    async fn consumers(&self, stream: &str) -> BResult<Vec<consumer::Info>> {
        let mut out = Vec::new();
        loop {
            let subject = format!("CONSUMER.LIST.{stream}");
            let page = match self.api::<ConsumerPage>(&subject, &json!({ "offset": out.len() })).await? {
                Ok(p) => p,
                // The stream went away between listing and looking: it has no consumers now.
                Err(e) if code(&e) == jetstream::ErrorCode::STREAM_NOT_FOUND.0 => return Ok(Vec::new()),
                Err(e) => return Err(js_error(&format!("listing the consumers of stream {stream}"), &e)),
            };
            let got = page.consumers.unwrap_or_default();
            let n = got.len();
            out.extend(got);
            if n == 0 || out.len() >= page.total {
                break;
            }
        }
        Ok(out)
    }

    /// The consumer `name` on `stream` as raw JSON (to re-create it with the same settings) and
    /// parsed; `None` when it does not exist.
    async fn consumer_info(&self, stream: &str, name: &str) -> BResult<Option<(Value, consumer::Info)>> {
        let subject = format!("CONSUMER.INFO.{stream}.{name}");
        match self.api::<Value>(&subject, &json!({})).await? {
            Ok(v) => {
                let info = serde_json::from_value::<consumer::Info>(v.clone()).map_err(|e| {
                    BackendError::Internal(format!("JetStream answered {subject} in an unexpected shape: {e}"))
                })?;
                Ok(Some((v, info)))
            }
            Err(e) if code(&e) == jetstream::ErrorCode::CONSUMER_NOT_FOUND.0 => Ok(None),
            Err(e) if code(&e) == jetstream::ErrorCode::STREAM_NOT_FOUND.0 => Err(BackendError::NotFound(format!(
                "topic {stream} not found: NATS at {} has no JetStream stream named {stream}",
                self.url
            ))),
            Err(e) => Err(js_error(&format!("describing consumer {name} of stream {stream}"), &e)),
        }
    }

    async fn create_durable(&self, stream: &str, name: &str, config: Value) -> BResult<consumer::Info> {
        let subject = format!("CONSUMER.DURABLE.CREATE.{stream}.{name}");
        match self.api::<consumer::Info>(&subject, &json!({ "stream_name": stream, "config": config })).await? {
            Ok(i) => Ok(i),
            Err(e) => Err(js_error(&format!("creating durable consumer {name} on stream {stream}"), &e)),
        }
    }

    async fn delete_consumer(&self, stream: &str, name: &str) -> BResult<()> {
        let subject = format!("CONSUMER.DELETE.{stream}.{name}");
        match self.api::<Value>(&subject, &json!({})).await? {
            Ok(_) => Ok(()),
            Err(e) if code(&e) == jetstream::ErrorCode::CONSUMER_NOT_FOUND.0 => Ok(()),
            Err(e) => Err(js_error(&format!("deleting consumer {name} of stream {stream}"), &e)),
        }
    }

    /// An ephemeral pull consumer for one read; JetStream removes it by itself if depot cannot.
    async fn create_ephemeral(&self, stream: &str, mut config: Value, idle: Duration) -> BResult<consumer::Info> {
        config["ack_policy"] = json!("explicit");
        config["inactive_threshold"] = json!(nanos(idle));
        config["mem_storage"] = json!(true);
        config["max_deliver"] = json!(1);
        let subject = format!("CONSUMER.CREATE.{stream}");
        match self.api::<consumer::Info>(&subject, &json!({ "stream_name": stream, "config": config })).await? {
            Ok(i) => Ok(i),
            Err(e) => Err(js_error(&format!("creating a reader on stream {stream}"), &e)),
        }
    }

    async fn drop_ephemeral(&self, stream: &str, name: &str) {
        if let Err(e) = self.delete_consumer(stream, name).await {
            tracing::debug!("ephemeral consumer {name} on {stream} left for JetStream to expire: {e}");
        }
    }

    /// One message from a consumer (`CONSUMER.MSG.NEXT`, batch 1): at once, or waiting up to `wait`.
    async fn next_message(
        &self,
        stream: &str,
        name: &str,
        wait: Option<Duration>,
    ) -> BResult<Option<jetstream::Message>> {
        let subject = format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}");
        let (body, timeout) = match wait {
            Some(w) => (json!({ "batch": 1, "expires": nanos(w) }), w + Duration::from_secs(2)),
            None => (json!({ "batch": 1, "no_wait": true }), REQUEST_TIMEOUT),
        };
        let payload = Bytes::from(body.to_string());
        // Its own inbox: the message arrives on it under the stream's subject, which the client's
        // shared request inbox would not route back to us.
        let req = async_nats::Request::new().payload(payload).timeout(Some(timeout)).inbox(self.client.new_inbox());
        let m = self.client.send_request(subject.clone(), req).await.map_err(|e| {
            BackendError::Unavailable(format!(
                "pulling from consumer {name} of stream {stream} at {} failed: {e}",
                self.url
            ))
        })?;
        match m.status {
            None | Some(StatusCode::OK) => Ok(Some(jetstream::Message { message: m, context: self.js.clone() })),
            Some(StatusCode::NOT_FOUND) | Some(StatusCode::TIMEOUT) => Ok(None),
            Some(s) => {
                let why = m.description.clone().unwrap_or_default();
                let msg = format!("JetStream ended a pull from consumer {name} of stream {stream}: {s} {why}");
                Err(if s == StatusCode::REQUEST_TERMINATED {
                    BackendError::Refused(msg)
                } else {
                    BackendError::Unavailable(msg)
                })
            }
        }
    }

    /// The stored message `seq` of `stream` (`STREAM.MSG.GET`), or with `next_by` the first one at
    /// or after `seq` on a subject matching it; `None` when there is none.
    async fn get_msg(&self, stream: &str, seq: u64, next_by: Option<&str>) -> BResult<Option<Message>> {
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
    async fn read_range(&self, stream: &str, from: u64, to: u64, max: usize) -> BResult<Vec<Message>> {
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
    async fn seq_for_time(&self, stream: &str, ts_ms: i64, start: u64, end: u64) -> BResult<u64> {
        if start >= end || ts_ms > LAST_NATS_MS {
            return Ok(end);
        }
        let cfg = json!({ "deliver_policy": "by_start_time", "opt_start_time": fmt_ms(ts_ms.max(0)) });
        let c = self.create_ephemeral(stream, cfg, EPHEMERAL_IDLE).await?;
        let seq = c.delivered.stream_sequence + 1;
        self.drop_ephemeral(stream, &c.name).await;
        Ok(seq.clamp(start, end))
    }

    fn rate(&self, key: &str, value: u64) -> f64 {
        self.rates.lock().rate(key, value)
    }

    /// Every durable consumer named `only` (or every durable) with its stream. Streams without
    /// consumers are skipped; the others are asked a few at a time.
    async fn durables(&self, only: Option<&str>) -> BResult<Vec<(stream::Info, consumer::Info)>> {
        let streams: Vec<stream::Info> =
            self.streams().await?.into_iter().filter(|s| s.state.consumer_count > 0).collect();
        let mut out = Vec::new();
        for chunk in streams.chunks(16) {
            let mut set = tokio::task::JoinSet::new();
            for (i, s) in chunk.iter().enumerate() {
                let (me, name, only) = (self.clone(), s.config.name.clone(), only.map(str::to_string));
                set.spawn(async move { (i, me.durables_of(&name, only.as_deref()).await) });
            }
            let mut got = Vec::new();
            while let Some(joined) = set.join_next().await {
                let (i, r) = joined.map_err(|e| BackendError::Internal(format!("a lookup task failed: {e}")))?;
                got.push((i, r?));
            }
            got.sort_by_key(|(i, _)| *i);
            for (i, cs) in got {
                out.extend(cs.into_iter().map(|c| (chunk[i].clone(), c)));
            }
        }
        Ok(out)
    }

    async fn durables_of(&self, stream: &str, only: Option<&str>) -> BResult<Vec<consumer::Info>> {
        let durable = |c: &consumer::Info| c.config.durable_name.is_some();
        match only {
            Some(g) => match self.consumer_info(stream, g).await {
                Ok(Some((_, c))) if durable(&c) => Ok(vec![c]),
                Ok(_) | Err(BackendError::NotFound(_)) => Ok(Vec::new()), // none here, or the stream just went
                Err(e) => Err(e),
            },
            None => Ok(self.consumers(stream).await?.into_iter().filter(durable).collect()),
        }
    }

    async fn partition_lag(&self, s: &stream::Info, c: &consumer::Info) -> BResult<PartitionLag> {
        let (log_start, end_offset) = offsets(&s.state);
        let lag = c.num_pending + c.num_ack_pending as u64;
        let mut lag_ms = 0;
        if lag > 0 {
            let from = (c.ack_floor.stream_sequence + 1).max(log_start);
            let filter =
                if c.config.filter_subject.is_empty() { ">".to_string() } else { c.config.filter_subject.clone() };
            match self.get_msg(&s.config.name, from, Some(&filter)).await {
                Ok(Some(m)) => lag_ms = now_ms().saturating_sub(m.timestamp).max(0) as u64,
                Ok(None) | Err(BackendError::NotFound(_)) => {} // removed meanwhile (retention, a delete)
                Err(e) => return Err(e),
            }
        }
        Ok(PartitionLag {
            topic: s.config.name.clone(),
            partition: 0,
            committed: Some(c.ack_floor.stream_sequence + 1),
            log_start,
            end_offset,
            lag,
            lag_ms,
            owner: None,
            redeliveries: c.num_redelivered as u64,
        })
    }

    async fn group_info(&self, name: &str, entries: &[(stream::Info, consumer::Info)]) -> BResult<GroupInfo> {
        let mut partitions = Vec::new();
        let mut consume_rate = 0.0;
        for (s, c) in entries {
            partitions.push(self.partition_lag(s, c).await?);
            consume_rate += self.rate(&format!("g\u{1}{}\u{1}{}", s.config.name, c.name), c.ack_floor.stream_sequence);
        }
        partitions.sort_by(|a, b| a.topic.cmp(&b.topic));
        let push = entries.iter().any(|(_, c)| c.config.deliver_subject.is_some());
        Ok(GroupInfo {
            name: name.to_string(),
            state: if entries.iter().any(|(_, c)| is_live(c)) { "stable" } else { "empty" }.into(),
            generation: 0,
            assignor: if push { "push" } else { "pull" }.into(),
            members: Vec::new(),
            partitions,
            consume_rate,
        })
    }

    /// Publishes prepared messages to one subject, in order, and waits for every ack.
    async fn send_all(
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
impl TopicsApi for Nats {
    async fn list_topics(&self) -> BResult<Vec<TopicInfo>> {
        let streams = self.streams().await?;
        Ok(streams
            .iter()
            .map(|s| topic_info(s, self.rate(&format!("t\u{1}{}", s.config.name), s.state.last_sequence)))
            .collect())
    }

    async fn describe_topic(&self, name: &str) -> BResult<TopicInfo> {
        let s = self.stream_info(name).await?;
        Ok(topic_info(&s, self.rate(&format!("t\u{1}{name}"), s.state.last_sequence)))
    }

    async fn create_topic(&self, name: &str, config: TopicConfig) -> BResult<TopicInfo> {
        check_new_name("topic", name)?;
        config.validate()?;
        if config.partitions > 1 {
            return Err(BackendError::BadRequest(format!(
                "topic {name} cannot have {} partitions: a JetStream stream is one partition here (create it with 1, or several topics)",
                config.partitions
            )));
        }
        if config.segment_bytes.is_some() {
            return Err(BackendError::Unsupported(
                "JetStream chooses its own storage block sizes: leave the segment size out".into(),
            ));
        }
        // JetStream answers a create of an identical stream with success; depot says it exists.
        match self.stream_info(name).await {
            Ok(_) => return Err(BackendError::Conflict(format!("topic {name} already exists (a JetStream stream)"))),
            Err(BackendError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let cfg = json!({
            "name": name,
            "subjects": [name],
            "retention": "limits",
            "max_consumers": -1,
            "max_msgs": -1,
            "max_bytes": config.retention_bytes.map_or(-1, |b| b.min(i64::MAX as u64) as i64),
            "max_age": config.retention_ms.map_or(0, |ms| nanos(Duration::from_millis(ms))),
            "max_msgs_per_subject": -1,
            "max_msg_size": -1,
            "discard": "old",
            "storage": "file",
            "num_replicas": 1,
            "duplicate_window": nanos(Duration::from_secs(120)),
        });
        match self.api::<stream::Info>(&format!("STREAM.CREATE.{name}"), &cfg).await? {
            Ok(info) => Ok(topic_info(&info, 0.0)),
            Err(e) if code(&e) == jetstream::ErrorCode::STREAM_NAME_EXIST.0 => {
                Err(BackendError::Conflict(format!("topic {name} already exists (a JetStream stream)")))
            }
            Err(e) if code(&e) == jetstream::ErrorCode::STREAM_SUBJECT_OVERLAP.0 => {
                Err(BackendError::Conflict(format!(
                    "another stream already takes subject {name}: JetStream gives each subject to one stream ({e})"
                )))
            }
            Err(e) => Err(js_error(&format!("creating stream {name}"), &e)),
        }
    }

    async fn delete_topic(&self, name: &str) -> BResult<()> {
        check_name("topic", name)?;
        match self.api::<Value>(&format!("STREAM.DELETE.{name}"), &json!({})).await? {
            Ok(_) => Ok(()),
            Err(e) if code(&e) == jetstream::ErrorCode::STREAM_NOT_FOUND.0 => Err(BackendError::NotFound(format!(
                "topic {name} not found: NATS at {} has no JetStream stream named {name}",
                self.url
            ))),
            Err(e) => Err(js_error(&format!("deleting stream {name}"), &e)),
        }
    }
}

#[async_trait]
impl MessagesApi for Nats {
    async fn publish(&self, topic: &str, req: PublishRequest) -> BResult<Vec<Ack>> {
        if req.records.is_empty() {
            return Err(BackendError::BadRequest("nothing to publish: the request has no records".into()));
        }
        let info = self.stream_info(topic).await?;
        for r in &req.records {
            if let Some(p) = r.partition
                && p != 0
            {
                return Err(BackendError::BadRequest(format!(
                    "partition {p} does not exist: topic {topic} has partitions 0..1 (a JetStream stream is one partition)"
                )));
            }
        }
        if req.producer.is_some() && req.records.iter().any(|r| r.partition.is_none()) {
            return Err(BackendError::BadRequest(
                "an idempotent batch (with a producer id) must name one partition for all its records (here: partition 0)"
                    .into(),
            ));
        }
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
            let mut m = jetstream::message::PublishMessage::build().payload(r.value.0.clone());
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
            check_partition(topic, p)?;
        }
        let info = self.stream_info(topic).await?;
        let (start, end) = offsets(&info.state);
        let max = req.max.clamp(1, MAX_READ);
        let from = match req.from {
            PeekFrom::Earliest => start,
            PeekFrom::Latest(n) => end.saturating_sub(n).max(start),
            PeekFrom::Offset(o) if req.partition.is_some() => {
                if o < start || o > end {
                    return Err(out_of_range(topic, o, start, end));
                }
                o
            }
            PeekFrom::Offset(o) => o.clamp(start, end),
            PeekFrom::Time(ts) => self.seq_for_time(topic, ts, start, end).await?,
        };
        self.read_range(topic, from, end, max).await
    }

    async fn fetch(&self, topic: &str, partition: u32, offset: u64, max: usize, wait_ms: u64) -> BResult<Vec<Message>> {
        check_partition(topic, partition)?;
        let info = self.stream_info(topic).await?;
        let (start, end) = offsets(&info.state);
        if offset < start || offset > end {
            return Err(out_of_range(topic, offset, start, end));
        }
        let max = max.clamp(1, MAX_READ);
        let got = self.read_range(topic, offset, end, max).await?;
        if !got.is_empty() || wait_ms == 0 {
            return Ok(got);
        }
        // Long poll: a reader starting at `offset` with one pull request waiting up to wait_ms.
        let wait = Duration::from_millis(wait_ms.min(MAX_WAIT_MS));
        let cfg = json!({ "deliver_policy": "by_start_sequence", "opt_start_seq": offset.max(1) });
        let c = self.create_ephemeral(topic, cfg, wait + EPHEMERAL_IDLE).await?;
        let first = self.next_message(topic, &c.name, Some(wait)).await;
        self.drop_ephemeral(topic, &c.name).await;
        let Some(first) = first? else { return Ok(Vec::new()) };
        let seq = first.info().map(|i| i.stream_sequence).unwrap_or(offset);
        let end = offsets(&self.stream_info(topic).await?.state).1;
        self.read_range(topic, seq, end, max).await
    }
}

#[async_trait]
impl GroupsApi for Nats {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>> {
        let mut by_name: std::collections::BTreeMap<String, Vec<(stream::Info, consumer::Info)>> = Default::default();
        for (s, c) in self.durables(None).await? {
            by_name.entry(c.name.clone()).or_default().push((s, c));
        }
        let mut out = Vec::with_capacity(by_name.len());
        for (name, entries) in by_name {
            out.push(self.group_info(&name, &entries).await?);
        }
        Ok(out)
    }

    async fn describe_group(&self, name: &str) -> BResult<GroupInfo> {
        check_name("group", name)?;
        let entries = self.durables(Some(name)).await?;
        if entries.is_empty() {
            return Err(BackendError::NotFound(format!(
                "group {name} not found: no stream at {} has a durable consumer named {name}",
                self.url
            )));
        }
        self.group_info(name, &entries).await
    }

    async fn pull(&self, group: &str, req: PullRequest) -> BResult<PullResult> {
        check_name("group", group)?;
        let topic = req.topic.as_str();
        self.stream_info(topic).await?;
        let c = match self.consumer_info(topic, group).await? {
            Some((_, c)) => c,
            None => {
                check_new_name("group", group)?;
                let cfg = json!({ "durable_name": group, "deliver_policy": "all", "ack_policy": "explicit" });
                self.create_durable(topic, group, cfg).await?
            }
        };
        if let Some(subject) = &c.config.deliver_subject {
            return Err(BackendError::Unsupported(format!(
                "group {group} on {topic} is a push consumer (it delivers to {subject}); depot pulls only from pull consumers — subscribe to {subject} with the nats tool, or reset the group"
            )));
        }
        if !req.commit && matches!(c.config.ack_policy, consumer::AckPolicy::None) {
            return Err(BackendError::Unsupported(format!(
                "group {group} on {topic} takes no acks (ack policy none): JetStream counts a message consumed once delivered, so a pull without commit cannot hand it back; pull with commit"
            )));
        }
        let max = req.max.clamp(1, MAX_READ);
        let wait = (req.wait_ms > 0).then(|| Duration::from_millis(req.wait_ms.min(MAX_WAIT_MS)));
        // At max_ack_pending, nats-server (2.9) leaves a no-wait pull unanswered; so once the room
        // for unacknowledged messages is used up, ask with a short expiry instead (redeliveries
        // still come; otherwise JetStream answers "timeout" when it expires).
        let mut room = (c.config.max_ack_pending > 0)
            .then(|| u64::try_from(c.config.max_ack_pending).unwrap_or(0).saturating_sub(c.num_ack_pending as u64));
        let mut got: Vec<jetstream::Message> = Vec::new();
        let mut failure = None;
        while got.len() < max {
            let w = match (got.is_empty(), room) {
                (true, _) if wait.is_some() => wait,
                (_, Some(0)) => Some(FULL_WAIT),
                _ => None,
            };
            match self.next_message(topic, group, w).await {
                Ok(Some(m)) => {
                    let first_delivery = m.info().map(|i| i.delivered <= 1).unwrap_or(true);
                    if let Some(r) = room.as_mut()
                        && first_delivery
                    {
                        *r = r.saturating_sub(1);
                    }
                    got.push(m);
                }
                Ok(None) => break,
                // JetStream stops handing out messages (e.g. max_ack_pending reached): keep these.
                Err(BackendError::Refused(why)) if !got.is_empty() => {
                    tracing::debug!("pull from {group} on {topic} stopped after {} messages: {why}", got.len());
                    break;
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        // Acks (commit) or naks (hand back for redelivery): all but the last sent without waiting;
        // the last waits for JetStream's reply, and acks on one connection are handled in order.
        // A consumer with ack policy "none" takes no acks (and answers none).
        let kind =
            if req.commit && failure.is_none() { jetstream::AckKind::Ack } else { jetstream::AckKind::Nak(None) };
        let takes_acks = !matches!(c.config.ack_policy, consumer::AckPolicy::None);
        if takes_acks && let Some((last, rest)) = got.split_last() {
            let ack_failed = |e: async_nats::Error| {
                BackendError::Unavailable(format!("acknowledging a message of {topic} for group {group} failed: {e}"))
            };
            for m in rest {
                if let Err(e) = m.ack_with(kind).await {
                    failure.get_or_insert(ack_failed(e));
                }
            }
            if let Err(e) = last.double_ack_with(kind).await {
                failure.get_or_insert(ack_failed(e));
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        let mut messages = Vec::with_capacity(got.len());
        for m in &got {
            let info = m.info().map_err(|e| {
                BackendError::Internal(format!("JetStream delivered a message without its metadata: {e}"))
            })?;
            let (seq, ts) = (info.stream_sequence, ms_of(info.published));
            messages.push(to_message(topic, seq, ts, header_pairs(m.headers.as_ref()), m.payload.clone()));
        }
        let offsets: Vec<CommitOffset> = messages
            .iter()
            .map(|m| m.offset)
            .max()
            .map(|o| CommitOffset { topic: topic.to_string(), partition: 0, offset: o + 1 })
            .into_iter()
            .collect();
        Ok(PullResult { group: group.to_string(), messages, offsets, committed: req.commit })
    }

    async fn commit(&self, group: &str, _offsets: Vec<CommitOffset>) -> BResult<()> {
        Err(BackendError::Unsupported(format!(
            "JetStream has no committed offset to set: a consumer's ack floor only moves as its messages are acknowledged. Pull group {group} with commit to acknowledge what it pulls, or reset it (e.g. to-offset N) to move it"
        )))
    }

    async fn delete_group(&self, name: &str) -> BResult<()> {
        check_name("group", name)?;
        let entries = self.durables(Some(name)).await?;
        if entries.is_empty() {
            return Err(BackendError::NotFound(format!(
                "group {name} not found: no stream at {} has a durable consumer named {name}",
                self.url
            )));
        }
        let live: Vec<String> = entries.iter().flat_map(|(_, c)| live_description(c)).collect();
        if !live.is_empty() {
            return Err(BackendError::Refused(format!(
                "group {name} is in use ({}); stop its consumers first",
                live.join(", ")
            )));
        }
        for (s, c) in &entries {
            self.delete_consumer(&s.config.name, &c.name).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl ResetsApi for Nats {
    async fn plan_reset(&self, group: &str, req: ResetRequest) -> BResult<ResetPlan> {
        check_name("group", group)?;
        check_partitions(&req.topic, &req.partitions)?;
        let s = self.stream_info(&req.topic).await?;
        let (start, end) = offsets(&s.state);
        let c = self.consumer_info(&req.topic, group).await?.map(|(_, c)| c);
        if let Some(c) = &c {
            durable_only(c)?;
        }
        let before = c.as_ref().map(|c| c.ack_floor.stream_sequence + 1);
        let at = match req.spec.time_to_resolve(now_ms()) {
            Some(ts) => Some(self.seq_for_time(&req.topic, ts, start, end).await?),
            None => None,
        };
        let (after, note) = reset::target(&req.spec, before, start, end, at)?;
        Ok(ResetPlan {
            group: group.to_string(),
            topic: req.topic.clone(),
            spec: req.spec,
            rows: vec![ResetRow { partition: 0, before, after, log_start: start, end_offset: end, note }],
            live_members: c.as_ref().map(live_description).unwrap_or_default(),
            undo_of: None,
        })
    }

    async fn execute_reset(&self, plan: ResetPlan, force: bool) -> BResult<ResetRecord> {
        if plan.undo_of.is_some() {
            return Err(BackendError::Unsupported(
                "resets on JetStream cannot be undone from a journal: plan a reset to-offset with the earlier offset"
                    .into(),
            ));
        }
        check_name("group", &plan.group)?;
        let (topic, group) = (plan.topic.as_str(), plan.group.as_str());
        let [row] = plan.rows.as_slice() else {
            return Err(BackendError::BadRequest(format!(
                "a reset plan for {topic} needs exactly one row (partition 0), not {}",
                plan.rows.len()
            )));
        };
        check_partition(topic, row.partition)?;
        self.stream_info(topic).await?;
        let current = self.consumer_info(topic, group).await?;
        if let Some((_, c)) = &current {
            durable_only(c)?;
        }
        let now_before = current.as_ref().map(|(_, c)| c.ack_floor.stream_sequence + 1);
        if now_before != row.before {
            let f = |o: Option<u64>| o.map_or("none".to_string(), |o| o.to_string());
            return Err(BackendError::Conflict(format!(
                "the committed offset of {topic}/0 for group {group} changed from {} to {} since the plan was made; plan again",
                f(row.before),
                f(now_before)
            )));
        }
        let live = current.as_ref().map(|(_, c)| live_description(c)).unwrap_or_default();
        if !live.is_empty() && !force {
            return Err(BackendError::Refused(format!(
                "group {group} is in use on {topic} ({}); stop its consumers first or force the reset (their pulls will fail)",
                live.join(", ")
            )));
        }
        let mut config = match &current {
            Some((raw, _)) => raw.get("config").cloned().unwrap_or_else(|| json!({})),
            None => {
                check_new_name("group", group)?;
                json!({ "durable_name": group, "ack_policy": "explicit" })
            }
        };
        if let Some(obj) = config.as_object_mut() {
            obj.remove("opt_start_time");
            obj.insert("deliver_policy".into(), json!("by_start_sequence"));
            obj.insert("opt_start_seq".into(), json!(row.after.max(1)));
            obj.insert("durable_name".into(), json!(group));
        }
        if current.is_some() {
            self.delete_consumer(topic, group).await?;
        }
        if let Err(e) = self.create_durable(topic, group, config.clone()).await {
            return Err(BackendError::Internal(format!(
                "consumer {group} of {topic} was deleted to reset it, but re-creating it failed: {e}. Create it again with this configuration: {config}"
            )));
        }
        Ok(ResetRecord {
            id: 0,
            at_ms: now_ms(),
            group: group.to_string(),
            topic: topic.to_string(),
            spec: plan.spec.clone(),
            rows: vec![(0, row.before, row.after)],
            forced: force && !live.is_empty(),
            undo_of: None,
        })
    }

    async fn plan_undo(&self, group: &str) -> BResult<ResetPlan> {
        Err(BackendError::Unsupported(format!(
            "JetStream keeps no history of consumer resets and depot writes no journal to your NATS server, so there is nothing to undo from; to go back, reset group {group} to-offset the 'before' offset the reset showed"
        )))
    }

    async fn reset_history(&self, group: &str) -> BResult<Vec<ResetRecord>> {
        Err(BackendError::Unsupported(format!(
            "JetStream keeps no history of consumer resets (group {group}); depot shows before/after when it plans and executes one"
        )))
    }
}

#[async_trait]
impl ReplayApi for Nats {
    async fn plan_replay(&self, req: ReplayRequest) -> BResult<ReplayPlan> {
        check_partitions(&req.source, &req.partitions)?;
        let s = self.stream_info(&req.source).await?;
        let target = req.target.clone().unwrap_or_else(|| req.source.clone());
        if target != req.source {
            self.stream_info(&target).await?;
        }
        let (start, end) = offsets(&s.state);
        req.range.check()?;
        let (from, to) = match req.range {
            ReplayRange::Offsets { from, to } => (from.clamp(start, end), to.clamp(start, end)),
            ReplayRange::Time { since_ms, until_ms } => (
                self.seq_for_time(&req.source, since_ms, start, end).await?,
                self.seq_for_time(&req.source, until_ms, start, end).await?,
            ),
        };
        let to = to.max(from);
        Ok(ReplayPlan {
            source: req.source.clone(),
            target,
            range: req.range,
            rows: vec![ReplayRow { partition: 0, from, to, count: to - from }],
            total: to - from,
        })
    }

    async fn execute_replay(&self, plan: ReplayPlan) -> BResult<ReplayResult> {
        self.stream_info(&plan.source).await?;
        let target = self.stream_info(&plan.target).await?;
        let subject = publish_subject(&target)?;
        let mut appended = 0u64;
        for row in &plan.rows {
            check_partition(&plan.source, row.partition)?;
            let mut at = row.from;
            while at < row.to {
                let batch = self.read_range(&plan.source, at, row.to, 500).await?;
                let Some(last) = batch.last().map(|m| m.offset) else { break };
                let mut msgs = Vec::with_capacity(batch.len());
                for m in &batch {
                    // NATS-* headers steer JetStream (Nats-Msg-Id would drop the copy as a duplicate).
                    let headers: Vec<Header> = m
                        .headers
                        .iter()
                        .filter(|h| !h.name.to_ascii_lowercase().starts_with("nats-"))
                        .cloned()
                        .collect();
                    let rec = OutRecord { key: m.key.clone(), value: m.value.clone(), headers, partition: None };
                    let extra = [
                        (ORIGIN_TOPIC, plan.source.clone()),
                        (ORIGIN_PARTITION, "0".to_string()),
                        (ORIGIN_OFFSET, m.offset.to_string()),
                    ];
                    let mut out = jetstream::message::PublishMessage::build().payload(m.value.0.clone());
                    if let Some(h) = record_headers(&rec, &extra)? {
                        out = out.headers(h);
                    }
                    msgs.push(out);
                }
                appended += self.send_all(&plan.target, &subject, msgs).await?.len() as u64;
                at = last + 1;
            }
        }
        Ok(ReplayResult { target: plan.target.clone(), appended })
    }
}

#[async_trait]
impl Backend for Nats {
    async fn capabilities(&self) -> BResult<Capabilities> {
        Ok(Capabilities { kind: "nats".into(), partitions: false, commit: false, undo: false, ..Capabilities::depot() })
    }

    fn target(&self) -> String {
        format!("nats {}", self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_depot_and_jetstream_rules() {
        assert!(check_new_name("topic", "orders_v2-eu").is_ok());
        for bad in ["orders.v2", "a b", "a*", "a>", "", "no/slashes"] {
            let e = check_new_name("topic", bad).unwrap_err();
            assert!(matches!(e, BackendError::BadRequest(_)), "{bad:?}: {e:?}");
        }
        assert!(check_name("topic", "KV_bucket").is_ok());
    }

    #[test]
    fn header_values_must_survive_the_trip() {
        assert!(header_text("v", &Payload::text("plain text")).is_ok());
        for bad in [Payload(Bytes::from_static(&[0xff, 0])), Payload::text("a\nb"), Payload::text(" padded")] {
            assert!(matches!(header_text("v", &bad), Err(BackendError::Unsupported(_))), "{bad:?}");
        }
        let r = OutRecord {
            headers: vec![Header { name: "depot-key".into(), value: Payload::text("x") }],
            ..OutRecord::text("v")
        };
        assert!(matches!(record_headers(&r, &[]), Err(BackendError::BadRequest(_))));
    }

    #[test]
    fn stored_header_blocks_keep_repeated_names() {
        let block = b"NATS/1.0\r\nDepot-Key: k1\r\ntrace: a\r\ntrace:  b \r\nfolded: x\r\n  y\r\n\r\n";
        let pairs = parse_header_block(block);
        let want = [("Depot-Key", "k1"), ("trace", "a"), ("trace", "b"), ("folded", "x  y")];
        assert_eq!(pairs, want.map(|(n, v)| (n.to_string(), v.to_string())));
        let m = to_message("t", 7, 0, pairs, Bytes::from_static(b"v"));
        assert_eq!(m.key, Some(Payload::text("k1")));
        assert_eq!(m.headers.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(), ["folded", "trace", "trace"]);
    }

    /// Needs no server: nothing listens on port 1, so the connection is refused at once.
    #[tokio::test]
    async fn a_dead_server_is_named_and_never_hangs() {
        let cfg = NatsConfig { url: "nats://127.0.0.1:1".into(), ..NatsConfig::default() };
        let started = Instant::now();
        let e = connect(&cfg).await.unwrap_err();
        assert!(matches!(e, BackendError::Unavailable(_)) && e.to_string().contains("nats://127.0.0.1:1"), "{e:?}");
        assert!(started.elapsed() < CONNECT_TIMEOUT + Duration::from_secs(2));
    }

    #[test]
    fn rates_need_two_samples_and_restart_when_counters_go_back() {
        let mut r = Rates::default();
        assert_eq!(r.rate("k", 10), 0.0);
        let s = r.series.get_mut("k").unwrap();
        s[0].0 -= Duration::from_secs(2);
        let v = r.rate("k", 30);
        assert!((9.0..=10.5).contains(&v), "{v}");
        assert_eq!(r.rate("k", 5), 0.0);
    }
}
