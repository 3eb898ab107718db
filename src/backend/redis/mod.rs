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
//!
//! One file per area: `conn` (connection, commands, errors), `codec` (ids, replies, entries),
//! `walk` (offsets ↔ ids, behind a paging trait), `topics`, `messages`, `groups` (+ `pull`),
//! `resets`, `replay`.

mod codec;
mod conn;
mod groups;
mod messages;
mod pull;
mod replay;
mod resets;
mod topics;
mod walk;

use super::context::Context;
use super::support::Rates;
use super::{BResult, Backend, BackendError};
use crate::core::{Capabilities, ResetMode};
use ::redis::Client;
use ::redis::aio::MultiplexedConnection;
use async_trait::async_trait;
use codec::{Snap, vtext};
use conn::Pager;
use parking_lot::Mutex;
use std::collections::HashSet;
use std::fmt;
use std::time::Instant;
use walk::{Anchors, Walk};

/// The consumer name depot's one-off pulls use.
pub const PULL_CONSUMER: &str = "depot-pull";
/// A consumer seen within this window counts as a live member.
pub const LIVE_MS: u64 = 30_000;
/// Prefix of the Redis lists that journal depot's resets, one per group.
pub const JOURNAL_PREFIX: &str = "depot:reset-journal:";
/// Why a topic has one partition, for the shared partition checks' messages.
const ONE_PARTITION: &str = "a Redis stream has one partition";

/// Where the Redis server is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisConfig {
    /// `redis://[user[:password]@]host[:port][/db]`.
    pub url: String,
}

impl RedisConfig {
    /// The settings of a `kind = "redis"` context.
    pub fn from_context(c: &Context) -> BResult<RedisConfig> {
        Ok(RedisConfig { url: c.need("url")? })
    }
}

/// A backend over Redis Streams.
pub struct RedisStreams {
    client: Client,
    /// The URL without its password, for titles and errors.
    target: String,
    con: Mutex<Option<MultiplexedConnection>>,
    keys: Mutex<Option<(Instant, Vec<String>)>>,
    /// Known offset → id pairs per stream, to start walks near where they are needed.
    anchors: Anchors,
    /// Counter samples for rates (records in, delivered) measured between calls.
    rates: Mutex<Rates>,
    /// Streams already warned about for holes (XDEL in the middle).
    warned: Mutex<HashSet<String>>,
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
        anchors: Anchors::default(),
        rates: Mutex::new(Rates::default()),
        warned: Mutex::new(HashSet::new()),
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

impl RedisStreams {
    /// Offsets and ids of stream `key` as snapshot `s` shows it.
    fn walk<'a>(&'a self, key: &'a str, s: &'a Snap) -> Walk<'a, Pager<'a>> {
        Walk::new(Pager { r: self, key }, key, s, &self.anchors)
    }

    /// The rate of a counter between this look and earlier ones.
    fn rate(&self, key: &str, counter: u64) -> f64 {
        self.rates.lock().rate(key, counter)
    }
}

#[async_trait]
impl Backend for RedisStreams {
    async fn capabilities(&self) -> BResult<Capabilities> {
        Ok(capabilities())
    }

    fn target(&self) -> String {
        format!("redis {}", self.target)
    }
}

/// What depot does on Redis Streams, every flag said explicitly.
fn capabilities() -> Capabilities {
    Capabilities {
        kind: "redis".into(),
        create_topics: true,
        delete_topics: true,
        // A stream is one partition.
        partitions: false,
        publish: true,
        headers: true,
        peek_by_time: true,
        pull: true,
        commit: true,
        reset_modes: ResetMode::ALL.to_vec(),
        // Resets are journaled in Redis (depot:reset-journal:<group>).
        undo: true,
        replay: true,
        // Search is scanned with XRANGE reads of the stream.
        search: true,
        idempotent_producers: false,
        redeliveries: true,
        // MEMORY USAGE is a sampled estimate of the key's memory, not the bytes of its records.
        sizes: false,
        read_only: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(redact("redis://u:secret@h:6379/2"), "redis://u:***@h:6379/2");
        assert_eq!(redact("redis://:secret@h"), "redis://:***@h");
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
    }

    #[test]
    fn capabilities_say_what_redis_streams_cannot_do() {
        let c = capabilities();
        assert_eq!(c.kind, "redis");
        assert!(!c.partitions && !c.idempotent_producers && !c.sizes && !c.read_only);
        assert!(c.commit && c.undo && c.redeliveries && c.replay && c.peek_by_time);
        assert_eq!(c.reset_modes, ResetMode::ALL.to_vec());
    }
}
