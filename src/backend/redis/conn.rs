//! Talking to Redis: one shared multiplexed connection (plus one of its own for each blocking
//! read), commands and pipelines, Redis errors in depot's terms, and pages of entries for the
//! offset walk ([`Pager`]).

use super::RedisStreams;
use super::codec::{Entry, Sid, parse_entries, vint, vseq};
use super::walk::{Ask, Bound, StreamPages};
use crate::backend::{BResult, BackendError};
use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Cmd, Pipeline, RedisError, Value};
use async_trait::async_trait;
use std::time::Duration;

pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub(super) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(15);

impl RedisStreams {
    fn conn_config(response: Duration) -> AsyncConnectionConfig {
        AsyncConnectionConfig::new().set_connection_timeout(Some(CONNECT_TIMEOUT)).set_response_timeout(Some(response))
    }

    pub(super) async fn open(&self, response: Duration) -> BResult<MultiplexedConnection> {
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

    pub(super) async fn con(&self) -> BResult<MultiplexedConnection> {
        if let Some(c) = self.con.lock().clone() {
            return Ok(c);
        }
        let c = self.open(RESPONSE_TIMEOUT).await?;
        *self.con.lock() = Some(c.clone());
        Ok(c)
    }

    pub(super) async fn q_raw(&self, cmd: &Cmd) -> BResult<Result<Value, RedisError>> {
        let mut c = self.con().await?;
        Ok(cmd.query_async::<Value>(&mut c).await)
    }

    pub(super) async fn q(&self, ctx: &str, cmd: &Cmd) -> BResult<Value> {
        self.q_raw(cmd).await?.map_err(|e| self.err(ctx, e))
    }

    /// A command about one stream: a missing key or another type is NotFound naming the topic.
    pub(super) async fn qk(&self, key: &str, ctx: &str, cmd: &Cmd) -> BResult<Value> {
        self.q_raw(cmd).await?.map_err(|e| self.key_err(key, ctx, e))
    }

    /// Runs a pipeline (a transaction when `atomic`); each command's own result.
    pub(super) async fn run(&self, ctx: &str, p: &Pipeline) -> BResult<Vec<Result<Value, RedisError>>> {
        let mut c = self.con().await?;
        p.query_async::<Vec<Result<Value, RedisError>>>(&mut c).await.map_err(|e| self.err(ctx, e))
    }

    /// A Redis error as something a person can act on.
    pub(super) fn err(&self, ctx: &str, e: RedisError) -> BackendError {
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

    pub(super) fn key_err(&self, key: &str, ctx: &str, e: RedisError) -> BackendError {
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
    pub(super) async fn now_ms(&self) -> BResult<i64> {
        let v = self.q("reading the server time", &::redis::cmd("TIME")).await?;
        let s = vseq(&v);
        match (s.first().and_then(vint), s.get(1).and_then(vint)) {
            (Some(secs), Some(us)) => Ok(secs * 1000 + us / 1000),
            _ => Err(BackendError::Internal(format!("Redis at {} answered TIME with {v:?}", self.target))),
        }
    }

    fn range_cmd(key: &str, rev: bool, from: Bound, to: Bound, count: usize) -> Cmd {
        let mut c = ::redis::cmd(if rev { "XREVRANGE" } else { "XRANGE" });
        c.arg(key).arg(from.arg()).arg(to.arg()).arg("COUNT").arg(count);
        c
    }

    /// Entries from `from` towards `to` (`rev` walks backwards).
    pub(super) async fn range(
        &self,
        key: &str,
        rev: bool,
        from: Bound,
        to: Bound,
        count: usize,
    ) -> BResult<Vec<Entry>> {
        let v = self.qk(key, "reading entries", &Self::range_cmd(key, rev, from, to, count)).await?;
        Ok(parse_entries(&v))
    }
}

/// The ids of one stream, a page at a time, for [`super::walk::Walk`].
pub(super) struct Pager<'a> {
    pub r: &'a RedisStreams,
    pub key: &'a str,
}

#[async_trait]
impl StreamPages for Pager<'_> {
    async fn page(&self, a: &Ask) -> BResult<Vec<Sid>> {
        Ok(self.r.range(self.key, a.rev, a.from, a.to, a.count).await?.into_iter().map(|e| e.id).collect())
    }

    /// Every page in one pipeline: one round trip.
    async fn pages(&self, asks: &[Ask]) -> BResult<Vec<Vec<Sid>>> {
        let mut p = ::redis::pipe();
        p.ignore_errors();
        for a in asks {
            p.add_command(RedisStreams::range_cmd(self.key, a.rev, a.from, a.to, a.count));
        }
        let mut out = Vec::with_capacity(asks.len());
        for r in self.r.run("counting entries", &p).await? {
            let v = r.map_err(|e| self.r.key_err(self.key, "counting entries", e))?;
            out.push(parse_entries(&v).into_iter().map(|e| e.id).collect());
        }
        Ok(out)
    }
}
