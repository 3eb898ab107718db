//! Redis Streams (7.0 or newer) as a [`Backend`], over the `redis` crate.
//!
//! ## The mapping
//! - **Topics are stream keys**, each with one partition (0). Topics are listed with
//!   `SCAN … TYPE stream`; creating one makes an empty stream (a throw-away group with `MKSTREAM`,
//!   destroyed again, so `entries-added` stays 0); deleting one is `DEL` (streams only).
//! - **Offsets are ordinals**: the n-th entry ever added to a stream has offset n−1. The end offset
//!   is `XINFO STREAM`'s `entries-added`, the log start is `entries-added − length` (trimming only
//!   removes the oldest entries). The entry at an offset is found by walking `XRANGE`/`XREVRANGE`
//!   in pages from whichever known point is nearest (either end of the stream, or an offset ↔ id
//!   pair remembered from earlier reads); an id's offset by racing walkers from those points.
//!   `XDEL` in the middle of a stream leaves holes that no ordinal can describe: offsets then count
//!   the entries that are still there, and depot logs a warning.
//! - **Records are entries** with the fields `value`, `key` (when present) and `h:<name>` per
//!   header, all binary-safe. Entries written by other producers show their other fields as
//!   headers named after the field (and an empty value when there is no `value` field). The
//!   timestamp is the millisecond part of the entry id.
//! - **Groups are consumer groups**, joined by name across streams (a depot group spans every
//!   stream that has a Redis group of that name). The group's *delivered* position is
//!   `entries-read` (else `entries-added − lag`, else counted from `last-delivered-id`). The
//!   **committed** offset is that position, or the offset of the oldest pending entry when one is
//!   older: an entry delivered but not yet `XACK`ed is not committed, so lag (end − committed)
//!   counts delivered-but-unacknowledged entries too. Members are the group's consumers (`XINFO
//!   CONSUMERS`), with their pending entries shown as "N in flight"; a consumer is live while it
//!   was seen within the last 30 s. Redeliveries are the sum over `XPENDING` of delivery count − 1
//!   (Redis forgets the count once an entry is acknowledged).
//! - **Pull** reads as consumer `depot-pull`: first its own pending entries again
//!   (`XREADGROUP … 0`, which raises their delivery count), then new ones (`XREADGROUP … >`);
//!   commit acknowledges them with `XACK`. **Commit** acknowledges every pending entry before the
//!   offset and moves `last-delivered-id` forward with `XGROUP SETID … ENTRIESREAD`.
//! - **Resets** move `last-delivered-id` with `XGROUP SETID key group <id before the target>
//!   ENTRIESREAD <target>` and acknowledge pending entries before the target; they are journaled
//!   first in the Redis list `depot:reset-journal:<group>`, which is what undo reads. Resets,
//!   operator commits and group deletes are refused while the group has live consumers on the
//!   stream (seen within 30 s; `depot-pull` never counts, its pulls join and leave) unless forced;
//!   pending entries alone do not block a reset.
//! - **Replay** copies entries with `XRANGE` + `XADD`, adding `h:depot.origin.*` fields.

use super::*;
use crate::core::names::validate_name;
use crate::core::replay::{ORIGIN_OFFSET, ORIGIN_PARTITION, ORIGIN_TOPIC};
use crate::core::reset;
use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, Cmd, Pipeline, RedisError, Value};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

/// The consumer name depot's one-off pulls use.
pub const PULL_CONSUMER: &str = "depot-pull";
/// A consumer seen within this window counts as a live member.
pub const LIVE_MS: u64 = 30_000;
/// Prefix of the Redis lists that journal depot's resets, one per group.
pub const JOURNAL_PREFIX: &str = "depot:reset-journal:";

const PAGE: usize = 1000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(15);
const KEYS_TTL: Duration = Duration::from_secs(2);
const MAX_PENDING_SCAN: usize = 100_000;
const MAX_WAIT: Duration = Duration::from_secs(60);

/// Where the Redis server is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user[:password]@]host[:port][/db]`.
    pub url: String,
}

/// A backend over Redis Streams.
pub struct RedisStreams {
    client: Client,
    /// The URL without its password, for titles and errors.
    target: String,
    con: Mutex<Option<MultiplexedConnection>>,
    keys: Mutex<Option<(Instant, Vec<String>)>>,
    /// Known offset → id pairs per stream, to start walks near where they are needed.
    anchors: Mutex<HashMap<String, BTreeMap<u64, Sid>>>,
    /// Counter samples for rates (records in, delivered) measured between calls.
    rates: Mutex<HashMap<String, VecDeque<(Instant, u64)>>>,
    /// Streams already warned about for holes (XDEL in the middle).
    warned: Mutex<std::collections::HashSet<String>>,
}

impl fmt::Debug for RedisStreams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStreams").field("target", &self.target).finish()
    }
}

/// Connects to Redis (5 s connect timeout, 15 s per command) and checks it is 7.0 or newer.
pub async fn connect(cfg: &RedisConfig) -> BResult<RedisStreams> {
    let target = redact(&cfg.url);
    let client = Client::open(cfg.url.as_str()).map_err(|e| {
        if e.to_string().contains("TLS") {
            BackendError::Unsupported(format!(
                "{target}: this depot is built without TLS support for Redis (rediss://); connect with redis:// \
                 through a TLS tunnel (e.g. stunnel) instead"
            ))
        } else {
            BackendError::BadRequest(format!(
                "{target} is not a Redis URL ({e}); expected redis://[user[:password]@]host[:port][/db]"
            ))
        }
    })?;
    let me = RedisStreams {
        client,
        target,
        con: Mutex::new(None),
        keys: Mutex::new(None),
        anchors: Mutex::new(HashMap::new()),
        rates: Mutex::new(HashMap::new()),
        warned: Mutex::new(Default::default()),
    };
    let info = me.q("reading the server version", ::redis::cmd("INFO").arg("server")).await?;
    let text = vtext(&info).unwrap_or_default();
    let version =
        text.lines().find_map(|l| l.strip_prefix("redis_version:")).map(|v| v.trim().to_string()).unwrap_or_default();
    let major: u32 = version.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
    if major < 7 {
        return Err(BackendError::Unsupported(format!(
            "{} runs Redis {}; depot needs Redis 7.0 or newer (for the entries-added and entries-read counters \
             that give records dense offsets)",
            me.target,
            if version.is_empty() { "of an unknown version" } else { &version }
        )));
    }
    Ok(me)
}

/// The URL with its password replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((userinfo, host)) = rest.rsplit_once('@') else { return url.to_string() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => format!("{scheme}://***@{host}"),
    }
}

// ---- stream ids and replies ---------------------------------------------------------------------

/// A stream entry id: milliseconds and a sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Sid {
    ms: u64,
    seq: u64,
}

impl Sid {
    const ZERO: Sid = Sid { ms: 0, seq: 0 };

    fn parse(b: &[u8]) -> Option<Sid> {
        let s = std::str::from_utf8(b).ok()?;
        let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
        Some(Sid { ms: ms.parse().ok()?, seq: seq.parse().ok()? })
    }

    /// The id just before this one.
    fn prev(self) -> Option<Sid> {
        if self.seq > 0 {
            Some(Sid { ms: self.ms, seq: self.seq - 1 })
        } else if self.ms > 0 {
            Some(Sid { ms: self.ms - 1, seq: u64::MAX })
        } else {
            None
        }
    }

    /// As an exclusive range bound.
    fn excl(self) -> String {
        format!("({self}")
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One stream entry; `fields` is `None` for a pending entry whose data was trimmed or deleted.
#[derive(Clone, Debug)]
struct Entry {
    id: Sid,
    fields: Option<Vec<(Vec<u8>, Vec<u8>)>>,
}

fn vbytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        Value::VerbatimString { text, .. } => Some(text.as_bytes()),
        _ => None,
    }
}

fn vtext(v: &Value) -> Option<String> {
    vbytes(v).map(|b| String::from_utf8_lossy(b).into_owned())
}

fn vint(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Double(d) => Some(*d as i64),
        _ => vbytes(v).and_then(|b| std::str::from_utf8(b).ok()?.trim().parse().ok()),
    }
}

fn vu64(v: &Value) -> Option<u64> {
    vint(v).and_then(|i| u64::try_from(i).ok())
}

fn vseq(v: &Value) -> &[Value] {
    v.as_sequence().unwrap_or(&[])
}

fn vsid(v: &Value) -> Option<Sid> {
    vbytes(v).and_then(Sid::parse)
}

/// A reply of alternating names and values (RESP2) or a map (RESP3), by name.
fn vmap(v: &Value) -> HashMap<String, &Value> {
    let mut m = HashMap::new();
    if let Some(it) = v.as_map_iter() {
        for (k, val) in it {
            if let Some(k) = vtext(k) {
                m.insert(k, val);
            }
        }
    }
    m
}

fn get_u64(m: &HashMap<String, &Value>, k: &str) -> Option<u64> {
    m.get(k).and_then(|v| vu64(v))
}

fn parse_entries(v: &Value) -> Vec<Entry> {
    let mut out = Vec::new();
    for item in vseq(v) {
        let parts = vseq(item);
        let Some(id) = parts.first().and_then(vsid) else { continue };
        let fields = match parts.get(1) {
            None | Some(Value::Nil) => None,
            Some(f) => Some(
                f.as_map_iter()
                    .map(|it| {
                        it.map(|(k, v)| {
                            (vbytes(k).unwrap_or_default().to_vec(), vbytes(v).unwrap_or_default().to_vec())
                        })
                        .collect()
                    })
                    .unwrap_or_default(),
            ),
        };
        out.push(Entry { id, fields });
    }
    out
}

/// The entries of the (single) stream in an `XREAD`/`XREADGROUP` reply.
fn xread_entries(v: &Value) -> Vec<Entry> {
    match v {
        Value::Map(items) => items.first().map(|(_, e)| parse_entries(e)).unwrap_or_default(),
        Value::Array(items) => items.first().and_then(|s| vseq(s).get(1)).map(parse_entries).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// `XINFO STREAM`, the parts depot uses.
#[derive(Clone, Debug, Default)]
struct Snap {
    length: u64,
    added: u64,
    last_generated: Sid,
    max_deleted: Sid,
    first: Option<Sid>,
    last: Option<Sid>,
    nodes: u64,
}

impl Snap {
    fn parse(v: &Value) -> Snap {
        let m = vmap(v);
        let length = get_u64(&m, "length").unwrap_or(0);
        Snap {
            length,
            added: get_u64(&m, "entries-added").unwrap_or(length).max(length),
            last_generated: m.get("last-generated-id").and_then(|v| vsid(v)).unwrap_or_default(),
            max_deleted: m.get("max-deleted-entry-id").and_then(|v| vsid(v)).unwrap_or_default(),
            first: m.get("first-entry").and_then(|e| vseq(e).first()).and_then(vsid),
            last: m.get("last-entry").and_then(|e| vseq(e).first()).and_then(vsid),
            nodes: get_u64(&m, "radix-tree-keys").unwrap_or(0),
        }
    }

    fn start(&self) -> u64 {
        self.added - self.length
    }

    fn end(&self) -> u64 {
        self.added
    }

    /// Entries were deleted (`XDEL`) between the first and the last entry.
    fn holes(&self) -> bool {
        self.max_deleted != Sid::ZERO && self.first.is_some_and(|f| self.max_deleted > f)
    }
}

/// One row of `XINFO GROUPS`.
#[derive(Clone, Debug)]
struct GroupRow {
    name: String,
    pending: u64,
    ldi: Sid,
    entries_read: Option<u64>,
    lag: Option<u64>,
}

fn parse_groups(v: &Value) -> Vec<GroupRow> {
    vseq(v)
        .iter()
        .filter_map(|g| {
            let m = vmap(g);
            Some(GroupRow {
                name: m.get("name").and_then(|v| vtext(v))?,
                pending: get_u64(&m, "pending").unwrap_or(0),
                ldi: m.get("last-delivered-id").and_then(|v| vsid(v)).unwrap_or_default(),
                entries_read: get_u64(&m, "entries-read"),
                lag: get_u64(&m, "lag"),
            })
        })
        .collect()
}

/// One row of `XINFO CONSUMERS`.
#[derive(Clone, Debug)]
struct Consumer {
    name: String,
    pending: u64,
    idle_ms: u64,
}

impl Consumer {
    fn live(&self) -> bool {
        self.name != PULL_CONSUMER && self.idle_ms < LIVE_MS
    }
}

fn parse_consumers(v: &Value) -> Vec<Consumer> {
    vseq(v)
        .iter()
        .filter_map(|c| {
            let m = vmap(c);
            Some(Consumer {
                name: m.get("name").and_then(|v| vtext(v))?,
                pending: get_u64(&m, "pending").unwrap_or(0),
                idle_ms: get_u64(&m, "idle").unwrap_or(u64::MAX),
            })
        })
        .collect()
}

/// A record of a stream entry.
fn to_message(topic: &str, offset: u64, e: &Entry) -> Message {
    let mut key = None;
    let mut value = None;
    let mut headers = Vec::new();
    for (f, v) in e.fields.iter().flatten() {
        let payload = Payload(bytes::Bytes::copy_from_slice(v));
        match f.as_slice() {
            b"value" if value.is_none() => value = Some(payload),
            b"key" if key.is_none() => key = Some(payload),
            _ => {
                let name = f.strip_prefix(b"h:").unwrap_or(f);
                headers.push(Header { name: String::from_utf8_lossy(name).into_owned(), value: payload });
            }
        }
    }
    Message {
        topic: topic.to_string(),
        partition: 0,
        offset,
        timestamp: i64::try_from(e.id.ms).unwrap_or(i64::MAX),
        key,
        value: value.unwrap_or_default(),
        headers,
    }
}

/// The fields of an entry for a record.
fn to_fields(r: &OutRecord) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut f = Vec::with_capacity(2 + r.headers.len());
    if let Some(k) = &r.key {
        f.push((b"key".to_vec(), k.0.to_vec()));
    }
    f.push((b"value".to_vec(), r.value.0.to_vec()));
    for h in &r.headers {
        f.push((format!("h:{}", h.name).into_bytes(), h.value.0.to_vec()));
    }
    f
}

fn xadd(key: &str, fields: &[(Vec<u8>, Vec<u8>)]) -> Cmd {
    let mut c = ::redis::cmd("XADD");
    c.arg(key).arg("NOMKSTREAM").arg("*");
    for (k, v) in fields {
        c.arg(&k[..]).arg(&v[..]);
    }
    c
}

fn out_of_range(topic: &str, requested: u64, start: u64, end: u64) -> BackendError {
    BackendError::BadRequest(format!(
        "offset {requested} is out of range for {topic}/0: valid offsets are {start}..{end} (log start .. end)"
    ))
}

fn one_partition(topic: &str, p: u32) -> BackendError {
    BackendError::NotFound(format!("partition {p} of topic {topic} not found; a Redis stream has one partition (0..1)"))
}

fn check_partitions(topic: &str, parts: &[u32]) -> BResult<()> {
    match parts.iter().find(|&&p| p != 0) {
        Some(&p) => Err(one_partition(topic, p)),
        None => Ok(()),
    }
}

fn journal_key(group: &str) -> String {
    format!("{JOURNAL_PREFIX}{group}")
}

/// A walk that counts entries page by page from a known point towards an id.
struct Walker {
    rev: bool,
    cur: String,
    bound: String,
    count: u64,
    /// The position (log start + entries ≤ id) is `base + count`, or `base − count` when `rev`.
    base: u64,
    page: usize,
}

/// What depot needs to know about one group on one stream.
#[derive(Clone, Debug)]
struct GroupState {
    /// Offset of the next entry the group has not had delivered.
    delivered: u64,
    /// `delivered`, or the offset of the oldest pending entry when that is earlier.
    committed: u64,
    /// The oldest pending entry, when there is one.
    first_pending: Option<Sid>,
}

// ---- plumbing -----------------------------------------------------------------------------------

impl RedisStreams {
    fn conn_config(response: Duration) -> AsyncConnectionConfig {
        AsyncConnectionConfig::new().set_connection_timeout(Some(CONNECT_TIMEOUT)).set_response_timeout(Some(response))
    }

    async fn open(&self, response: Duration) -> BResult<MultiplexedConnection> {
        let cfg = Self::conn_config(response);
        let fut = self.client.get_multiplexed_async_connection_with_config(&cfg);
        match tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), fut).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(self.err("connecting", e)),
            Err(_) => Err(BackendError::Unavailable(format!(
                "connecting to Redis at {} timed out after {} s; check the URL and that redis-server is running",
                self.target,
                CONNECT_TIMEOUT.as_secs()
            ))),
        }
    }

    async fn con(&self) -> BResult<MultiplexedConnection> {
        if let Some(c) = self.con.lock().clone() {
            return Ok(c);
        }
        let c = self.open(RESPONSE_TIMEOUT).await?;
        *self.con.lock() = Some(c.clone());
        Ok(c)
    }

    async fn q_raw(&self, cmd: &Cmd) -> BResult<Result<Value, RedisError>> {
        let mut c = self.con().await?;
        Ok(cmd.query_async::<Value>(&mut c).await)
    }

    async fn q(&self, ctx: &str, cmd: &Cmd) -> BResult<Value> {
        self.q_raw(cmd).await?.map_err(|e| self.err(ctx, e))
    }

    /// A command about one stream: a missing key or another type is NotFound naming the topic.
    async fn qk(&self, key: &str, ctx: &str, cmd: &Cmd) -> BResult<Value> {
        self.q_raw(cmd).await?.map_err(|e| self.key_err(key, ctx, e))
    }

    /// Runs a pipeline (a transaction when `atomic`); each command's own result.
    async fn run(&self, ctx: &str, p: &Pipeline) -> BResult<Vec<Result<Value, RedisError>>> {
        let mut c = self.con().await?;
        p.query_async::<Vec<Result<Value, RedisError>>>(&mut c).await.map_err(|e| self.err(ctx, e))
    }

    /// A Redis error as something a person can act on.
    fn err(&self, ctx: &str, e: RedisError) -> BackendError {
        let t = &self.target;
        if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
            *self.con.lock() = None;
            return BackendError::Unavailable(format!(
                "{ctx}: Redis at {t} is unreachable or not answering ({e}); check that redis-server is running and \
                 the URL is right"
            ));
        }
        if e.kind() == ::redis::ErrorKind::AuthenticationFailed {
            return BackendError::Unauthorized(format!(
                "{ctx}: Redis at {t} refused the credentials ({e}); put user:password in the URL \
                 (redis://user:password@host:port)"
            ));
        }
        match e.code().unwrap_or("") {
            "NOAUTH" | "WRONGPASS" => BackendError::Unauthorized(format!(
                "{ctx}: Redis at {t} needs (other) credentials ({e}); put user:password in the URL \
                 (redis://user:password@host:port)"
            )),
            "NOPERM" => BackendError::Unauthorized(format!(
                "{ctx}: the Redis user may not do this ({e}); grant it the command and key in the server's ACL"
            )),
            "LOADING" | "BUSY" | "MASTERDOWN" | "TRYAGAIN" | "CLUSTERDOWN" => {
                BackendError::Unavailable(format!("{ctx}: Redis at {t} is busy ({e}); try again shortly"))
            }
            "READONLY" => BackendError::Refused(format!(
                "{ctx}: Redis at {t} is a read-only replica ({e}); point depot at the primary to write"
            )),
            "OOM" => BackendError::Refused(format!(
                "{ctx}: Redis at {t} is out of memory ({e}); trim streams or raise maxmemory"
            )),
            "MOVED" | "ASK" | "CROSSSLOT" => BackendError::Unsupported(format!(
                "{ctx}: Redis at {t} is a cluster ({e}); depot speaks to a single Redis node (or a proxy in front of \
                 the cluster)"
            )),
            "NOGROUP" => BackendError::NotFound(format!("{ctx}: {e}")),
            "BUSYGROUP" => BackendError::Conflict(format!("{ctx}: {e}")),
            "WRONGTYPE" => BackendError::BadRequest(format!("{ctx}: {e}")),
            _ => BackendError::Internal(format!("{ctx}: Redis at {t} answered with an error: {e}")),
        }
    }

    fn key_err(&self, key: &str, ctx: &str, e: RedisError) -> BackendError {
        if e.to_string().contains("no such key") {
            return BackendError::NotFound(format!(
                "topic {key} not found; Redis at {} has no stream by that name",
                self.target
            ));
        }
        if e.code() == Some("WRONGTYPE") {
            return BackendError::NotFound(format!(
                "topic {key} not found; the Redis key {key} holds something other than a stream"
            ));
        }
        self.err(ctx, e)
    }

    /// Server time in ms since the epoch (entry ids use the server's clock).
    async fn now_ms(&self) -> BResult<i64> {
        let v = self.q("reading the server time", &::redis::cmd("TIME")).await?;
        let s = vseq(&v);
        match (s.first().and_then(vint), s.get(1).and_then(vint)) {
            (Some(secs), Some(us)) => Ok(secs * 1000 + us / 1000),
            _ => Err(BackendError::Internal(format!("Redis at {} answered TIME with {v:?}", self.target))),
        }
    }

    // ---- keys and snapshots ---------------------------------------------------------------------

    /// Every stream key (cached for 2 s unless `fresh`).
    async fn stream_keys(&self, fresh: bool) -> BResult<Vec<String>> {
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

    fn forget_keys(&self) {
        *self.keys.lock() = None;
    }

    async fn snap(&self, key: &str) -> BResult<Snap> {
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

    async fn groups_of(&self, key: &str) -> BResult<Vec<GroupRow>> {
        let v = self.qk(key, "reading the stream's groups", ::redis::cmd("XINFO").arg("GROUPS").arg(key)).await?;
        Ok(parse_groups(&v))
    }

    async fn group_row(&self, key: &str, group: &str) -> BResult<Option<GroupRow>> {
        Ok(self.groups_of(key).await?.into_iter().find(|g| g.name == group))
    }

    async fn consumers(&self, key: &str, group: &str) -> BResult<Vec<Consumer>> {
        let v = self
            .qk(key, "reading the group's consumers", ::redis::cmd("XINFO").arg("CONSUMERS").arg(key).arg(group))
            .await?;
        Ok(parse_consumers(&v))
    }

    // ---- offsets ↔ ids ------------------------------------------------------------------------

    fn range_cmd(key: &str, rev: bool, from: &str, to: &str, count: usize) -> Cmd {
        let mut c = ::redis::cmd(if rev { "XREVRANGE" } else { "XRANGE" });
        c.arg(key).arg(from).arg(to).arg("COUNT").arg(count);
        c
    }

    /// Entries from `from` towards `to` (both range bounds; `rev` walks backwards).
    async fn range(&self, key: &str, rev: bool, from: &str, to: &str, count: usize) -> BResult<Vec<Entry>> {
        let v = self.qk(key, "reading entries", &Self::range_cmd(key, rev, from, to, count)).await?;
        Ok(parse_entries(&v))
    }

    /// Remembers that the entry at `offset` has `id`.
    fn remember(&self, key: &str, offset: u64, id: Sid) {
        let mut all = self.anchors.lock();
        if all.len() > 1024 && !all.contains_key(key) {
            all.clear();
        }
        let m = all.entry(key.to_string()).or_default();
        m.insert(offset, id);
        while m.len() > 64 {
            m.pop_first();
        }
    }

    /// Remembered pairs still consistent with the stream as it is now.
    fn anchors(&self, key: &str, s: &Snap) -> Vec<(u64, Sid)> {
        let mut all = self.anchors.lock();
        let Some(m) = all.get_mut(key) else { return Vec::new() };
        let (start, end) = (s.start(), s.end());
        let consistent = |o: u64, id: Sid| {
            o >= start && o < end && s.first.is_some_and(|f| id >= f) && s.last.is_some_and(|l| id <= l)
        };
        if s.holes() || m.iter().any(|(&o, &id)| o >= start && !consistent(o, id) && o < end) {
            // The stream was recreated or edited in its middle: nothing remembered holds.
            m.clear();
            return Vec::new();
        }
        m.retain(|&o, &mut id| consistent(o, id));
        m.iter().map(|(&o, &id)| (o, id)).collect()
    }

    fn forget_anchors(&self, key: &str) {
        self.anchors.lock().remove(key);
    }

    /// The `n`-th entry (0-based) walking from `from` towards `to`.
    async fn nth(&self, key: &str, rev: bool, from: String, to: &str, mut n: u64) -> BResult<Option<Sid>> {
        let mut cur = from;
        loop {
            let want = (n + 1).min(PAGE as u64) as usize;
            let page = self.range(key, rev, &cur, to, want).await?;
            if (page.len() as u64) > n {
                return Ok(Some(page[n as usize].id));
            }
            let Some(last) = page.last() else { return Ok(None) };
            if page.len() < want {
                return Ok(None);
            }
            n -= page.len() as u64;
            cur = last.id.excl();
        }
    }

    /// The id of the entry at `offset` (which must be in `start..end`).
    async fn id_at(&self, key: &str, s: &Snap, offset: u64) -> BResult<Sid> {
        let (start, end) = (s.start(), s.end());
        if offset < start || offset >= end {
            return Err(out_of_range(key, offset, start, end));
        }
        let anchors = self.anchors(key, s);
        if let Some(&(_, id)) = anchors.iter().find(|(o, _)| *o == offset) {
            return Ok(id);
        }
        let last = s.last.map(|l| l.to_string()).unwrap_or_else(|| "+".into());
        // (distance, backwards, from, n)
        let mut best: (u64, bool, String, u64) = (offset - start, false, "-".into(), offset - start);
        let from_end = end - 1 - offset;
        if from_end < best.0 {
            best = (from_end, true, last, from_end);
        }
        if let Some(&(a, id)) = anchors.iter().rev().find(|(o, _)| *o < offset)
            && offset - a - 1 < best.0
        {
            best = (offset - a - 1, false, id.excl(), offset - a - 1);
        }
        if let Some(&(a, id)) = anchors.iter().find(|(o, _)| *o > offset)
            && a - offset - 1 < best.0
        {
            best = (a - offset - 1, true, id.excl(), a - offset - 1);
        }
        let (_, rev, from, n) = best;
        let to = if rev { "-" } else { "+" };
        match self.nth(key, rev, from, to, n).await? {
            Some(id) => {
                self.remember(key, offset, id);
                Ok(id)
            }
            None => Err(BackendError::Conflict(format!(
                "stream {key} changed while depot was looking for offset {offset} (entries were trimmed or deleted); \
                 try again"
            ))),
        }
    }

    /// The log start plus the number of entries with ids up to `id`: for an entry's id, one past
    /// its offset; for a group's last-delivered-id, the offset it reads next. `exact` says `id` is
    /// an entry's (so the pair is worth remembering).
    async fn position(&self, key: &str, s: &Snap, id: Sid, exact: bool) -> BResult<u64> {
        let (start, end) = (s.start(), s.end());
        let (Some(first), Some(last)) = (s.first, s.last) else { return Ok(end) };
        if id < first {
            return Ok(start);
        }
        if id >= last {
            return Ok(end);
        }
        let anchors = self.anchors(key, s);
        if let Some(&(a, _)) = anchors.iter().find(|(_, x)| *x == id) {
            return Ok(a + 1);
        }
        let mut ws = vec![
            Walker { rev: false, cur: "-".into(), bound: id.to_string(), count: 0, base: start, page: 16 },
            Walker { rev: true, cur: last.to_string(), bound: id.excl(), count: 0, base: end, page: 16 },
        ];
        if let Some(&(a, x)) = anchors.iter().rev().find(|(_, x)| *x < id) {
            ws.push(Walker { rev: false, cur: x.excl(), bound: id.to_string(), count: 0, base: a + 1, page: 16 });
        }
        if let Some(&(a, x)) = anchors.iter().find(|(_, x)| *x > id) {
            ws.push(Walker { rev: true, cur: x.to_string(), bound: id.excl(), count: 0, base: a + 1, page: 16 });
        }
        loop {
            // One round trip per round: every walker takes a page; pages grow so short walks stay cheap.
            let mut p = ::redis::pipe();
            p.ignore_errors();
            for w in &ws {
                p.add_command(Self::range_cmd(key, w.rev, &w.cur, &w.bound, w.page));
            }
            let results = self.run("counting entries", &p).await?;
            for (w, r) in ws.iter_mut().zip(results) {
                let page = parse_entries(&r.map_err(|e| self.key_err(key, "counting entries", e))?);
                w.count += page.len() as u64;
                if page.len() < w.page {
                    let pos = if w.rev { w.base.saturating_sub(w.count) } else { w.base + w.count };
                    if exact && pos > start {
                        self.remember(key, pos - 1, id);
                    }
                    return Ok(pos);
                }
                if let Some(e) = page.last() {
                    w.cur = e.id.excl();
                }
                w.page = (w.page * 4).min(PAGE);
            }
        }
    }

    /// Offsets of entries, given their ids in ascending order: one lookup for the first, then a
    /// walk forward through the rest (pending entries are usually close together).
    async fn offsets_of(&self, key: &str, s: &Snap, ids: &[Sid]) -> BResult<Vec<u64>> {
        let Some(&first) = ids.first() else { return Ok(Vec::new()) };
        let mut out = vec![self.position(key, s, first, true).await?.saturating_sub(1)];
        let (mut at, mut cur, mut next) = (out[0], first.excl(), 1);
        let last = ids[ids.len() - 1].to_string();
        while next < ids.len() {
            let page = self.range(key, false, &cur, &last, PAGE).await?;
            for e in &page {
                at += 1;
                while next < ids.len() && ids[next] < e.id {
                    // Deleted meanwhile: find it on its own.
                    out.push(self.position(key, s, ids[next], false).await?.saturating_sub(1));
                    next += 1;
                }
                if next < ids.len() && ids[next] == e.id {
                    out.push(at);
                    next += 1;
                }
            }
            match page.last() {
                Some(e) if page.len() == PAGE => cur = e.id.excl(),
                _ => break,
            }
        }
        while next < ids.len() {
            out.push(self.position(key, s, ids[next], false).await?.saturating_sub(1));
            next += 1;
        }
        Ok(out)
    }

    /// The first offset whose entry is at or after `ts_ms`.
    async fn offset_for_time(&self, key: &str, s: &Snap, ts_ms: i64) -> BResult<u64> {
        let Ok(ts) = u64::try_from(ts_ms) else { return Ok(s.start()) };
        match (Sid { ms: ts, seq: 0 }).prev() {
            Some(before) => self.position(key, s, before, false).await,
            None => Ok(s.start()),
        }
    }

    /// Up to `max` records from `offset` (in `start..=end`).
    async fn read_from(&self, key: &str, s: &Snap, offset: u64, max: usize) -> BResult<Vec<Message>> {
        if offset >= s.end() {
            return Ok(Vec::new());
        }
        let id = self.id_at(key, s, offset).await?;
        let entries = self.range(key, false, &id.to_string(), "+", max).await?;
        if let Some(e) = entries.last() {
            self.remember(key, offset + entries.len() as u64 - 1, e.id);
        }
        Ok(entries.iter().enumerate().map(|(i, e)| to_message(key, offset + i as u64, e)).collect())
    }

    /// Waits (on a connection of its own) up to `wait` for entries after `after`.
    async fn wait_for(&self, key: &str, after: Sid, count: usize, wait: Duration) -> BResult<Vec<Entry>> {
        let ms = (wait.as_millis() as u64).max(1);
        let mut con = self.open(wait + Duration::from_secs(5)).await?;
        let mut c = ::redis::cmd("XREAD");
        c.arg("COUNT").arg(count).arg("BLOCK").arg(ms).arg("STREAMS").arg(key).arg(after.to_string());
        let v = c.query_async::<Value>(&mut con).await.map_err(|e| self.key_err(key, "waiting for new entries", e))?;
        Ok(xread_entries(&v))
    }

    // ---- groups -------------------------------------------------------------------------------

    /// The oldest pending entry of a group on a stream.
    async fn first_pending(&self, key: &str, group: &str) -> BResult<Option<Sid>> {
        let v = self.qk(key, "reading pending entries", ::redis::cmd("XPENDING").arg(key).arg(group)).await?;
        Ok(vseq(&v).get(1).and_then(vsid))
    }

    async fn group_state(&self, key: &str, s: &Snap, row: &GroupRow) -> BResult<GroupState> {
        let (start, end) = (s.start(), s.end());
        let delivered = match (row.entries_read, row.lag) {
            (Some(r), _) => r.min(end),
            (None, Some(lag)) => end.saturating_sub(lag),
            (None, None) => self.position(key, s, row.ldi, false).await?,
        };
        if delivered > start && delivered <= end && s.first.is_some_and(|f| row.ldi >= f) && !s.holes() {
            self.remember(key, delivered - 1, row.ldi);
        }
        let first_pending = if row.pending > 0 { self.first_pending(key, &row.name).await? } else { None };
        let committed = match first_pending {
            Some(id) if s.first.is_some_and(|f| id >= f) => {
                delivered.min(self.position(key, s, id, true).await?.saturating_sub(1))
            }
            // The oldest pending entry was trimmed away: everything left is unacknowledged.
            Some(_) => delivered.min(start),
            None => delivered,
        };
        Ok(GroupState { delivered, committed, first_pending })
    }

    /// Σ (delivery count − 1) over the group's pending entries (the first 100 000).
    async fn redeliveries(&self, key: &str, group: &str) -> BResult<u64> {
        let mut total = 0;
        let mut scanned = 0;
        let mut cur = "-".to_string();
        loop {
            let mut c = ::redis::cmd("XPENDING");
            c.arg(key).arg(group).arg(&cur).arg("+").arg(PAGE);
            let v = self.qk(key, "reading pending entries", &c).await?;
            let rows = vseq(&v);
            for r in rows {
                total += vseq(r).get(3).and_then(vu64).unwrap_or(1).saturating_sub(1);
            }
            scanned += rows.len();
            match rows.last().and_then(|r| vseq(r).first()).and_then(vsid) {
                Some(last) if rows.len() == PAGE && scanned < MAX_PENDING_SCAN => cur = last.excl(),
                _ => return Ok(total),
            }
        }
    }

    /// Ids of the group's pending entries up to `hi` (a range bound).
    async fn pending_ids(&self, key: &str, group: &str, hi: &str) -> BResult<Vec<Sid>> {
        let mut out = Vec::new();
        let mut cur = "-".to_string();
        loop {
            let mut c = ::redis::cmd("XPENDING");
            c.arg(key).arg(group).arg(&cur).arg(hi).arg(PAGE);
            let v = self.qk(key, "reading pending entries", &c).await?;
            let ids: Vec<Sid> = vseq(&v).iter().filter_map(|r| vseq(r).first().and_then(vsid)).collect();
            let full = ids.len() == PAGE;
            if let Some(last) = ids.last() {
                cur = last.excl();
            }
            out.extend(ids);
            if !full {
                return Ok(out);
            }
        }
    }

    /// The last-delivered-id that makes a group read `target` next.
    async fn id_before(&self, key: &str, s: &Snap, target: u64) -> BResult<Sid> {
        if target >= s.end() {
            Ok(s.last_generated)
        } else if target <= s.start() {
            Ok(Sid::ZERO)
        } else {
            self.id_at(key, s, target - 1).await
        }
    }

    /// The upper bound (for XPENDING) of entries before offset `target`.
    async fn bound_before(&self, key: &str, s: &Snap, target: u64) -> BResult<String> {
        if target >= s.end() { Ok("+".into()) } else { Ok(self.id_at(key, s, target).await?.excl()) }
    }

    /// Creates the group on a stream if it is not there, at `offset`.
    async fn ensure_group(&self, key: &str, s: &Snap, group: &str, offset: u64) -> BResult<()> {
        validate_name("group", group)?;
        let id = self.id_before(key, s, offset).await?;
        let mut c = ::redis::cmd("XGROUP");
        c.arg("CREATE").arg(key).arg(group).arg(id.to_string()).arg("ENTRIESREAD").arg(offset);
        match self.q_raw(&c).await? {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(self.key_err(key, "creating the consumer group", e)),
        }
    }

    fn rate(&self, id: String, counter: u64) -> f64 {
        let now = Instant::now();
        let mut all = self.rates.lock();
        if all.len() > 10_000 {
            all.clear();
        }
        let q = all.entry(id).or_default();
        if q.back().is_some_and(|&(_, c)| c > counter) {
            q.clear();
        }
        q.push_back((now, counter));
        while q.len() > 2 && q.front().is_some_and(|&(t, _)| now.duration_since(t) > Duration::from_secs(10)) {
            q.pop_front();
        }
        match q.front() {
            Some(&(t, c)) if now.duration_since(t) >= Duration::from_millis(500) => {
                (counter - c) as f64 / now.duration_since(t).as_secs_f64()
            }
            _ => 0.0,
        }
    }

    fn topic_info(&self, key: &str, stream: &Value, groups: Option<&Value>, mem: Option<&Value>) -> TopicInfo {
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
                rate_in: self.rate(format!("in\0{key}"), s.added),
                rate_out: self.rate(format!("out\0{key}"), delivered),
            }],
        }
    }

    fn describe_pipe(p: &mut Pipeline, key: &str) {
        p.cmd("XINFO").arg("STREAM").arg(key);
        p.cmd("XINFO").arg("GROUPS").arg(key);
        p.cmd("MEMORY").arg("USAGE").arg(key);
    }

    /// Every stream that has a group of this name, with its row.
    async fn find_group(&self, group: &str) -> BResult<Vec<(String, GroupRow)>> {
        let mut out = Vec::new();
        for chunk in self.stream_keys(false).await?.chunks(200) {
            let mut p = ::redis::pipe();
            p.ignore_errors();
            for k in chunk {
                p.cmd("XINFO").arg("GROUPS").arg(k);
            }
            for (k, r) in chunk.iter().zip(self.run("reading consumer groups", &p).await?) {
                // A stream deleted since the scan has no groups.
                if let Ok(v) = r
                    && let Some(row) = parse_groups(&v).into_iter().find(|g| g.name == group)
                {
                    out.push((k.clone(), row));
                }
            }
        }
        Ok(out)
    }

    async fn group_info(&self, name: &str, parts: Vec<(String, GroupRow)>) -> BResult<GroupInfo> {
        let now = self.now_ms().await?;
        let mut members: BTreeMap<String, MemberInfo> = BTreeMap::new();
        let mut in_flight: BTreeMap<String, u64> = BTreeMap::new();
        let mut partitions = Vec::new();
        let mut delivered_total = 0;
        for (key, row) in parts {
            let s = match self.snap(&key).await {
                Ok(s) => s,
                Err(BackendError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let consumers = self.consumers(&key, name).await?;
            let st = self.group_state(&key, &s, &row).await?;
            delivered_total += st.delivered;
            let (start, end) = (s.start(), s.end());
            let from = st.committed.max(start);
            let lag = end.saturating_sub(from);
            let oldest = if lag == 0 {
                None
            } else if st.committed < st.delivered && st.first_pending.is_some_and(|p| s.first.is_some_and(|f| p >= f)) {
                st.first_pending
            } else {
                let after = if st.committed < start { "-".to_string() } else { row.ldi.excl() };
                self.range(&key, false, &after, "+", 1).await?.first().map(|e| e.id)
            };
            let lag_ms = oldest
                .map(|id| now.saturating_sub(i64::try_from(id.ms).unwrap_or(i64::MAX)).max(0) as u64)
                .unwrap_or(0);
            let redeliveries = if row.pending > 0 { self.redeliveries(&key, name).await? } else { 0 };
            let live: Vec<&Consumer> = consumers.iter().filter(|c| c.live()).collect();
            let owner = match live.as_slice() {
                [] => None,
                [one] => Some(one.name.clone()),
                [one, rest @ ..] => Some(format!("{} +{}", one.name, rest.len())),
            };
            for c in &consumers {
                if c.name == PULL_CONSUMER && c.pending == 0 {
                    continue;
                }
                *in_flight.entry(c.name.clone()).or_default() += c.pending;
                let m = members.entry(c.name.clone()).or_insert_with(|| MemberInfo {
                    member_id: c.name.clone(),
                    client_id: String::new(),
                    topics: Vec::new(),
                    assignment: Vec::new(),
                    last_seen_ms: c.idle_ms,
                    session_timeout_ms: LIVE_MS,
                });
                m.topics.push(key.clone());
                m.assignment.push((key.clone(), 0));
                m.last_seen_ms = m.last_seen_ms.min(c.idle_ms);
            }
            partitions.push(PartitionLag {
                topic: key.clone(),
                partition: 0,
                committed: Some(st.committed),
                log_start: start,
                end_offset: end,
                lag,
                lag_ms,
                owner,
                redeliveries,
            });
        }
        let members: Vec<MemberInfo> = members
            .into_values()
            .map(|mut m| {
                m.client_id = format!("{} in flight", in_flight.get(&m.member_id).copied().unwrap_or(0));
                m
            })
            .collect();
        let live = members.iter().any(|m| m.member_id != PULL_CONSUMER && m.last_seen_ms < LIVE_MS);
        Ok(GroupInfo {
            name: name.to_string(),
            state: if live { "stable".into() } else { "empty".into() },
            generation: 0,
            assignor: "shared".into(),
            members,
            partitions,
            consume_rate: self.rate(format!("group\0{name}"), delivered_total),
        })
    }

    /// Names of the group's live consumers on a stream (seen in the last 30 s; not depot-pull).
    async fn live_consumers(&self, key: &str, group: &str, exists: bool) -> BResult<Vec<String>> {
        if !exists {
            return Ok(Vec::new());
        }
        Ok(self.consumers(key, group).await?.into_iter().filter(|c| c.live()).map(|c| c.name).collect())
    }

    /// Current committed offset, live consumers, and the stream, for a reset of one stream.
    async fn reset_base(&self, group: &str, topic: &str) -> BResult<(Snap, Option<u64>, Vec<String>)> {
        let s = self.snap(topic).await?;
        let row = self.group_row(topic, group).await?;
        let before = match &row {
            Some(r) => Some(self.group_state(topic, &s, r).await?.committed),
            None => None,
        };
        let live = self.live_consumers(topic, group, row.is_some()).await?;
        Ok((s, before, live))
    }

    async fn history(&self, group: &str) -> BResult<Vec<ResetRecord>> {
        let v =
            self.q("reading the reset journal", ::redis::cmd("LRANGE").arg(journal_key(group)).arg(0).arg(-1)).await?;
        let mut out = Vec::new();
        for (i, item) in vseq(&v).iter().enumerate() {
            let Some(b) = vbytes(item) else { continue };
            match serde_json::from_slice::<Option<ResetRecord>>(b) {
                Ok(Some(mut r)) => {
                    r.id = i as u64 + 1;
                    out.push(r);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("skipping entry {} of {}: {e}", i + 1, journal_key(group)),
            }
        }
        Ok(out)
    }
}

// ---- the backend --------------------------------------------------------------------------------

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
        self.forget_anchors(name);
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
        self.forget_anchors(name);
        Ok(())
    }
}

#[async_trait]
impl MessagesApi for RedisStreams {
    async fn publish(&self, topic: &str, req: PublishRequest) -> BResult<Vec<Ack>> {
        if req.records.is_empty() {
            return Err(BackendError::BadRequest("nothing to publish: the request has no records".into()));
        }
        if req.producer.is_some() {
            return Err(BackendError::Unsupported(
                "Redis Streams have no idempotent producers (producer id + sequence); publish without a producer id \
                 and make consumers idempotent, or deduplicate on a key of your own"
                    .into(),
            ));
        }
        if let Some(p) = req.records.iter().filter_map(|r| r.partition).find(|&p| p != 0) {
            return Err(BackendError::BadRequest(format!(
                "partition {p} does not exist: topic {topic} has partitions 0..1 (a Redis stream has one)"
            )));
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
        if let Some(p) = req.partition.filter(|&p| p != 0) {
            return Err(one_partition(topic, p));
        }
        let max = req.max.clamp(1, 100_000);
        let s = self.snap(topic).await?;
        let (start, end) = (s.start(), s.end());
        match req.from {
            PeekFrom::Earliest => self.read_from(topic, &s, start, max).await,
            PeekFrom::Latest(n) => {
                let from = end.saturating_sub(n).max(start);
                if end - from > max as u64 {
                    // Like the depot engine: `max` records from `end − n`.
                    return self.read_from(topic, &s, from, max).await;
                }
                // From the snapshot's last entry, so the offsets are the snapshot's.
                let Some(last) = s.last else { return Ok(Vec::new()) };
                let mut entries = self.range(topic, true, &last.to_string(), "-", (end - from) as usize).await?;
                entries.reverse();
                let base = end - entries.len() as u64;
                Ok(entries.iter().take(max).enumerate().map(|(i, e)| to_message(topic, base + i as u64, e)).collect())
            }
            PeekFrom::Offset(o) => {
                if o < start || o > end {
                    return Err(out_of_range(topic, o, start, end));
                }
                self.read_from(topic, &s, o, max).await
            }
            PeekFrom::Time(ts) => {
                let o = self.offset_for_time(topic, &s, ts).await?;
                self.read_from(topic, &s, o, max).await
            }
        }
    }

    async fn fetch(&self, topic: &str, partition: u32, offset: u64, max: usize, wait_ms: u64) -> BResult<Vec<Message>> {
        if partition != 0 {
            return Err(one_partition(topic, partition));
        }
        let max = max.clamp(1, 100_000);
        let s = self.snap(topic).await?;
        let (start, end) = (s.start(), s.end());
        if offset < start || offset > end {
            return Err(out_of_range(topic, offset, start, end));
        }
        if offset < end || wait_ms == 0 {
            return self.read_from(topic, &s, offset, max).await;
        }
        let wait = Duration::from_millis(wait_ms).min(MAX_WAIT);
        let entries = self.wait_for(topic, s.last_generated, max, wait).await?;
        Ok(entries.iter().enumerate().map(|(i, e)| to_message(topic, end + i as u64, e)).collect())
    }
}

#[async_trait]
impl GroupsApi for RedisStreams {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>> {
        let mut by_name: BTreeMap<String, Vec<(String, GroupRow)>> = BTreeMap::new();
        for chunk in self.stream_keys(false).await?.chunks(200) {
            let mut p = ::redis::pipe();
            p.ignore_errors();
            for k in chunk {
                p.cmd("XINFO").arg("GROUPS").arg(k);
            }
            for (k, r) in chunk.iter().zip(self.run("reading consumer groups", &p).await?) {
                if let Ok(v) = r {
                    for row in parse_groups(&v) {
                        by_name.entry(row.name.clone()).or_default().push((k.clone(), row));
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(by_name.len());
        for (name, parts) in by_name {
            out.push(self.group_info(&name, parts).await?);
        }
        Ok(out)
    }

    async fn describe_group(&self, name: &str) -> BResult<GroupInfo> {
        let mut parts = self.find_group(name).await?;
        if parts.is_empty() {
            // Maybe on a stream created in the last moments: look again with a fresh list.
            self.forget_keys();
            parts = self.find_group(name).await?;
        }
        if parts.is_empty() {
            return Err(BackendError::NotFound(format!(
                "group {name} not found; no stream in Redis at {} has a consumer group by that name",
                self.target
            )));
        }
        self.group_info(name, parts).await
    }

    async fn pull(&self, group: &str, req: PullRequest) -> BResult<PullResult> {
        let key = req.topic.as_str();
        let max = req.max.clamp(1, 100_000);
        let s = self.snap(key).await?;
        if self.group_row(key, group).await?.is_none() {
            // A new group reads from the start of the stream, like a new depot group.
            self.ensure_group(key, &s, group, s.start()).await?;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_millis(req.wait_ms).min(MAX_WAIT);
        let mut got: Vec<(u64, Entry)> = Vec::new();
        let mut gone: Vec<Sid> = Vec::new();

        // 1. depot-pull's own pending entries, delivered again (their delivery count goes up).
        let mut c = ::redis::cmd("XREADGROUP");
        c.arg("GROUP").arg(group).arg(PULL_CONSUMER).arg("COUNT").arg(max).arg("STREAMS").arg(key).arg("0");
        let own = xread_entries(&self.qk(key, "pulling pending entries again", &c).await?);
        if !own.is_empty() {
            let s = self.snap(key).await?;
            let (live, trimmed): (Vec<Entry>, Vec<Entry>) =
                own.into_iter().partition(|e| e.fields.is_some() && s.first.is_some_and(|f| e.id >= f));
            // Trimmed or deleted entries can never be processed: they are acknowledged below.
            gone.extend(trimmed.iter().map(|e| e.id));
            let ids: Vec<Sid> = live.iter().map(|e| e.id).collect();
            let offsets = self.offsets_of(key, &s, &ids).await?;
            got.extend(offsets.into_iter().zip(live));
        }

        // 2. New entries, with the group's position read in the same transaction.
        loop {
            if got.len() >= max {
                break;
            }
            let mut p = ::redis::pipe();
            p.atomic().ignore_errors();
            p.cmd("XINFO").arg("STREAM").arg(key);
            p.cmd("XINFO").arg("GROUPS").arg(key);
            p.cmd("XREADGROUP")
                .arg("GROUP")
                .arg(group)
                .arg(PULL_CONSUMER)
                .arg("COUNT")
                .arg(max - got.len())
                .arg("STREAMS")
                .arg(key)
                .arg(">");
            let mut r = self.run("pulling", &p).await?.into_iter();
            let mut next = || r.next().unwrap_or_else(|| Ok(Value::Nil)).map_err(|e| self.key_err(key, "pulling", e));
            let (info, groups, read) = (next()?, next()?, next()?);
            let s = Snap::parse(&info);
            let entries = xread_entries(&read);
            if !entries.is_empty() {
                let row = parse_groups(&groups).into_iter().find(|g| g.name == group).ok_or_else(|| {
                    BackendError::NotFound(format!("group {group} on {key} was deleted while pulling"))
                })?;
                let base = match (row.entries_read, row.lag) {
                    (Some(r), _) => r,
                    (None, Some(lag)) => s.end().saturating_sub(lag),
                    (None, None) => self.position(key, &s, row.ldi, false).await?,
                };
                if let Some(e) = entries.last() {
                    self.remember(key, base + entries.len() as u64 - 1, e.id);
                }
                got.extend(entries.into_iter().enumerate().map(|(i, e)| (base + i as u64, e)));
                break;
            }
            let now = tokio::time::Instant::now();
            if !got.is_empty() || now >= deadline {
                break;
            }
            // Wait for an append without consuming it, then read as the group again.
            self.wait_for(key, s.last_generated, 1, deadline - now).await?;
        }

        let mut ack: Vec<Sid> = gone;
        if req.commit {
            ack.extend(got.iter().map(|(_, e)| e.id));
        }
        if !ack.is_empty() {
            let mut c = ::redis::cmd("XACK");
            c.arg(key).arg(group);
            for id in &ack {
                c.arg(id.to_string());
            }
            self.qk(key, "acknowledging pulled entries", &c).await?;
        }
        // After a reset backwards, a pending entry can come again through ">": once is enough.
        got.sort_by_key(|(o, e)| (*o, e.id));
        got.dedup_by_key(|(_, e)| e.id);
        let offsets = got
            .last()
            .map(|(o, _)| vec![CommitOffset { topic: key.to_string(), partition: 0, offset: o + 1 }])
            .unwrap_or_default();
        let messages = got.iter().map(|(o, e)| to_message(key, *o, e)).collect();
        Ok(PullResult { group: group.to_string(), messages, offsets, committed: req.commit })
    }

    async fn commit(&self, group: &str, offsets: Vec<CommitOffset>) -> BResult<()> {
        for c in &offsets {
            if c.partition != 0 {
                return Err(one_partition(&c.topic, c.partition));
            }
        }
        for c in offsets {
            let key = c.topic.as_str();
            let s = self.snap(key).await?;
            let (start, end) = (s.start(), s.end());
            if c.offset > end {
                return Err(out_of_range(key, c.offset, start, end));
            }
            let Some(row) = self.group_row(key, group).await? else {
                self.ensure_group(key, &s, group, c.offset.max(start)).await?;
                continue;
            };
            let live = self.live_consumers(key, group, true).await?;
            if !live.is_empty() {
                return Err(BackendError::Refused(format!(
                    "group {group} has live consumers on {key} ({}); only they may acknowledge while they run",
                    live.join(", ")
                )));
            }
            let st = self.group_state(key, &s, &row).await?;
            if c.offset < st.committed {
                return Err(BackendError::Refused(format!(
                    "commit of {key}/0 would move the group back from {} to {}; commits only move forward — use a \
                     reset to rewind",
                    st.committed, c.offset
                )));
            }
            let hi = self.bound_before(key, &s, c.offset).await?;
            let ids = self.pending_ids(key, group, &hi).await?;
            let mut p = ::redis::pipe();
            p.atomic().ignore_errors();
            if c.offset > st.delivered {
                let id = self.id_before(key, &s, c.offset).await?;
                p.cmd("XGROUP").arg("SETID").arg(key).arg(group).arg(id.to_string()).arg("ENTRIESREAD").arg(c.offset);
            }
            if !ids.is_empty() {
                let x = p.cmd("XACK").arg(key).arg(group);
                for id in &ids {
                    x.arg(id.to_string());
                }
            }
            if p.is_empty() {
                continue;
            }
            for r in self.run("committing", &p).await? {
                r.map_err(|e| self.key_err(key, "committing", e))?;
            }
        }
        Ok(())
    }

    async fn delete_group(&self, name: &str) -> BResult<()> {
        let parts = self.find_group(name).await?;
        if parts.is_empty() {
            return Err(BackendError::NotFound(format!(
                "group {name} not found; no stream in Redis at {} has a consumer group by that name",
                self.target
            )));
        }
        for (key, _) in &parts {
            let live = self.live_consumers(key, name, true).await?;
            if !live.is_empty() {
                return Err(BackendError::Refused(format!(
                    "group {name} has {} live consumer(s) on {key} ({}); stop them first",
                    live.len(),
                    live.join(", ")
                )));
            }
        }
        for (key, _) in &parts {
            match self.q_raw(::redis::cmd("XGROUP").arg("DESTROY").arg(key).arg(name)).await? {
                Ok(_) => {}
                Err(e) if e.to_string().contains("no such key") => {}
                Err(e) => return Err(self.key_err(key, "deleting the consumer group", e)),
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ResetsApi for RedisStreams {
    async fn plan_reset(&self, group: &str, req: ResetRequest) -> BResult<ResetPlan> {
        check_partitions(&req.topic, &req.partitions)?;
        let topic = req.topic.as_str();
        let (s, before, live) = self.reset_base(group, topic).await?;
        if before.is_none() {
            validate_name("group", group)?;
        }
        let now = self.now_ms().await?;
        let at = match req.spec.time_to_resolve(now) {
            Some(ts) => Some(self.offset_for_time(topic, &s, ts).await?),
            None => None,
        };
        let (start, end) = (s.start(), s.end());
        let (after, note) = reset::target(&req.spec, before, start, end, at)?;
        Ok(ResetPlan {
            group: group.to_string(),
            topic: topic.to_string(),
            spec: req.spec,
            rows: vec![ResetRow { partition: 0, before, after, log_start: start, end_offset: end, note }],
            live_members: live,
            undo_of: None,
        })
    }

    async fn execute_reset(&self, plan: ResetPlan, force: bool) -> BResult<ResetRecord> {
        check_partitions(&plan.topic, &plan.rows.iter().map(|r| r.partition).collect::<Vec<_>>())?;
        let Some(row) = plan.rows.first() else {
            return Err(BackendError::BadRequest("the reset plan has no rows".into()));
        };
        let (group, key) = (plan.group.as_str(), plan.topic.as_str());
        let (s, now_committed, live) = self.reset_base(group, key).await?;
        if !live.is_empty() && !force {
            return Err(BackendError::Refused(format!(
                "group {group} has live consumers on {key} ({}): they read within the last {} s; stop them first or \
                 force the reset",
                live.join(", "),
                LIVE_MS / 1000
            )));
        }
        if now_committed != row.before {
            let show = |o: Option<u64>| o.map_or("none".to_string(), |o| o.to_string());
            return Err(BackendError::Conflict(format!(
                "the committed offset of {key}/0 changed from {} to {} since the plan was made; plan again",
                show(row.before),
                show(now_committed)
            )));
        }
        if now_committed.is_none() {
            validate_name("group", group)?;
        }
        let target = row.after.clamp(s.start(), s.end());
        let id = self.id_before(key, &s, target).await?;
        let acks = match now_committed {
            Some(_) => self.pending_ids(key, group, &self.bound_before(key, &s, target).await?).await?,
            None => Vec::new(),
        };
        let mut record = ResetRecord {
            id: 0,
            at_ms: self.now_ms().await?,
            group: group.to_string(),
            topic: key.to_string(),
            spec: plan.spec.clone(),
            rows: vec![(0, row.before, target)],
            forced: force && !live.is_empty(),
            undo_of: plan.undo_of,
        };
        // Journal first (fail closed): a reset that cannot be journaled is not applied.
        let json = serde_json::to_string(&record)
            .map_err(|e| BackendError::Internal(format!("encoding the reset for the journal: {e}")))?;
        let jkey = journal_key(group);
        let len = self.q("journaling the reset", ::redis::cmd("RPUSH").arg(&jkey).arg(&json)).await?;
        record.id = vu64(&len).unwrap_or(0);
        let mut p = ::redis::pipe();
        p.atomic().ignore_errors();
        if now_committed.is_some() {
            p.cmd("XGROUP").arg("SETID").arg(key).arg(group).arg(id.to_string()).arg("ENTRIESREAD").arg(target);
        } else {
            p.cmd("XGROUP").arg("CREATE").arg(key).arg(group).arg(id.to_string()).arg("ENTRIESREAD").arg(target);
        }
        if !acks.is_empty() {
            let x = p.cmd("XACK").arg(key).arg(group);
            for a in &acks {
                x.arg(a.to_string());
            }
        }
        let applied = match self.run("applying the reset", &p).await {
            Ok(rs) => {
                rs.into_iter().try_for_each(|r| r.map(|_| ()).map_err(|e| self.key_err(key, "applying the reset", e)))
            }
            Err(e) => Err(e),
        };
        if let Err(e) = applied {
            // Not applied: strike it from the journal (best effort; the index keeps later ids stable).
            let mut c = ::redis::cmd("LSET");
            c.arg(&jkey).arg(record.id.saturating_sub(1)).arg("null");
            if let Err(e2) = self.q("striking the failed reset from the journal", &c).await {
                tracing::warn!("reset #{} of {group} failed and stays in {jkey}: {e2}", record.id);
            }
            return Err(e);
        }
        tracing::info!("reset #{} of group {group} on {key} ({}) executed", record.id, record.spec);
        Ok(record)
    }

    async fn plan_undo(&self, group: &str) -> BResult<ResetPlan> {
        let history = self.history(group).await?;
        let undone: Vec<u64> = history.iter().filter_map(|h| h.undo_of).collect();
        let last = history.iter().rev().find(|h| h.undo_of.is_none() && !undone.contains(&h.id)).cloned().ok_or_else(
            || {
                BackendError::NotFound(format!(
                    "a reset of group {group:?} to undo not found; nothing in its reset journal ({})",
                    journal_key(group)
                ))
            },
        )?;
        let (s, before, live) = self.reset_base(group, &last.topic).await?;
        let (start, end) = (s.start(), s.end());
        let rows = last
            .rows
            .iter()
            .map(|&(p, was, _)| {
                let after = was.unwrap_or(start).clamp(start, end);
                let note = match was {
                    None => {
                        Some(format!("had no committed offset before reset #{}; restored to the log start", last.id))
                    }
                    Some(b) if b != after => Some(format!("{b} is no longer in the log; clamped to {after}")),
                    _ => None,
                };
                ResetRow { partition: p, before, after, log_start: start, end_offset: end, note }
            })
            .collect();
        Ok(ResetPlan {
            group: group.to_string(),
            topic: last.topic.clone(),
            spec: last.spec.clone(),
            rows,
            live_members: live,
            undo_of: Some(last.id),
        })
    }

    async fn reset_history(&self, group: &str) -> BResult<Vec<ResetRecord>> {
        self.history(group).await
    }
}

#[async_trait]
impl ReplayApi for RedisStreams {
    async fn plan_replay(&self, req: ReplayRequest) -> BResult<ReplayPlan> {
        check_partitions(&req.source, &req.partitions)?;
        let s = self.snap(&req.source).await?;
        let target = req.target.clone().unwrap_or_else(|| req.source.clone());
        if target != req.source {
            self.snap(&target).await?;
        }
        let (start, end) = (s.start(), s.end());
        req.range.check()?;
        let (from, to) = match req.range {
            ReplayRange::Offsets { from, to } => (from.clamp(start, end), to.clamp(start, end)),
            ReplayRange::Time { since_ms, until_ms } => (
                self.offset_for_time(&req.source, &s, since_ms).await?,
                self.offset_for_time(&req.source, &s, until_ms).await?,
            ),
        };
        let to = to.max(from);
        Ok(ReplayPlan {
            source: req.source,
            target,
            range: req.range,
            rows: vec![ReplayRow { partition: 0, from, to, count: to - from }],
            total: to - from,
        })
    }

    async fn execute_replay(&self, plan: ReplayPlan) -> BResult<ReplayResult> {
        check_partitions(&plan.source, &plan.rows.iter().map(|r| r.partition).collect::<Vec<_>>())?;
        let src = plan.source.as_str();
        let s = self.snap(src).await?;
        if plan.target != plan.source {
            self.snap(&plan.target).await?;
        }
        let mut appended = 0u64;
        for row in &plan.rows {
            let (from, to) = (row.from.max(s.start()), row.to.min(s.end()));
            if from >= to {
                continue;
            }
            let mut at = from;
            let mut cur = self.id_at(src, &s, from).await?.to_string();
            while at < to {
                let n = ((to - at) as usize).min(500);
                let page = self.range(src, false, &cur, "+", n).await?;
                let Some(last) = page.last() else { break };
                cur = last.id.excl();
                let mut p = ::redis::pipe();
                p.ignore_errors();
                for (i, e) in page.iter().enumerate() {
                    let mut fields = e.fields.clone().unwrap_or_default();
                    fields.push((format!("h:{ORIGIN_TOPIC}").into_bytes(), src.as_bytes().to_vec()));
                    fields.push((format!("h:{ORIGIN_PARTITION}").into_bytes(), b"0".to_vec()));
                    fields.push((format!("h:{ORIGIN_OFFSET}").into_bytes(), (at + i as u64).to_string().into_bytes()));
                    p.add_command(xadd(&plan.target, &fields));
                }
                for r in self.run("replaying", &p).await? {
                    match r {
                        Ok(v) if vsid(&v).is_some() => appended += 1,
                        Ok(_) => {
                            return Err(BackendError::NotFound(format!(
                                "topic {} was deleted during the replay, after {appended} records",
                                plan.target
                            )));
                        }
                        Err(e) => return Err(self.key_err(&plan.target, "replaying", e)),
                    }
                }
                at += page.len() as u64;
                if page.len() < n {
                    break;
                }
            }
        }
        Ok(ReplayResult { target: plan.target, appended })
    }
}

#[async_trait]
impl Backend for RedisStreams {
    async fn capabilities(&self) -> BResult<Capabilities> {
        Ok(Capabilities {
            kind: "redis".into(),
            partitions: false,
            idempotent_producers: false,
            // MEMORY USAGE is a sampled estimate of the key's memory, not the bytes of its records.
            // (Resets are journaled in Redis, depot:reset-journal:<group>, so undo stays true.)
            sizes: false,
            ..Capabilities::depot()
        })
    }

    fn target(&self) -> String {
        format!("redis {}", self.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_order_and_step_back() {
        let a = Sid::parse(b"1700000000000-3").unwrap();
        assert_eq!(a.to_string(), "1700000000000-3");
        assert_eq!(a.prev().unwrap().to_string(), "1700000000000-2");
        assert_eq!(Sid { ms: 5, seq: 0 }.prev().unwrap(), Sid { ms: 4, seq: u64::MAX });
        assert_eq!(Sid::ZERO.prev(), None);
        assert!(Sid::parse(b"2-0").unwrap() > Sid::parse(b"1-99").unwrap());
        assert_eq!(Sid::parse(b"12").unwrap(), Sid { ms: 12, seq: 0 });
        assert!(Sid::parse(b"x-1").is_none());
        assert_eq!(a.excl(), "(1700000000000-3");
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(redact("redis://u:secret@h:6379/2"), "redis://u:***@h:6379/2");
        assert_eq!(redact("redis://:secret@h"), "redis://:***@h");
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
    }

    #[test]
    fn entries_become_messages_with_key_value_and_headers() {
        let e = Entry {
            id: Sid { ms: 42, seq: 0 },
            fields: Some(vec![
                (b"key".to_vec(), b"k".to_vec()),
                (b"value".to_vec(), vec![0, 255]),
                (b"h:trace".to_vec(), b"t".to_vec()),
                (b"temp".to_vec(), b"21".to_vec()),
            ]),
        };
        let m = to_message("s", 7, &e);
        assert_eq!((m.offset, m.timestamp), (7, 42));
        assert_eq!(m.key, Some(Payload::text("k")));
        assert_eq!(&m.value.0[..], &[0, 255]);
        let names: Vec<&str> = m.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["trace", "temp"]);
    }
}
