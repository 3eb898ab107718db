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
//!
//! One file per area: `conn` (the JetStream API, consumers, errors), `codec` (names, offsets,
//! headers and records), `topics`, `messages`, `groups`, `resets`, `replay`.

mod codec;
mod conn;
mod groups;
mod messages;
mod replay;
mod resets;
mod topics;

pub use codec::KEY_HEADER;

use super::context::Context;
use super::support::Rates;
use super::{BResult, Backend, BackendError};
use crate::core::{Capabilities, ResetMode};
use async_nats::jetstream;
use async_trait::async_trait;
use conn::REQUEST_TIMEOUT;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how to connect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NatsConfig {
    pub url: String,
    pub token: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub creds_file: Option<PathBuf>,
}

impl NatsConfig {
    /// The settings of a `kind = "nats"` context.
    pub fn from_context(c: &Context) -> BResult<NatsConfig> {
        Ok(NatsConfig {
            url: c.need("url")?,
            token: c.get("token").map(str::to_string),
            user: c.get("user").map(str::to_string),
            password: c.get("password").map(str::to_string),
            creds_file: c.path("creds_file"),
        })
    }
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
    let client = client(cfg, "depot").await?;
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

/// A plain NATS client for `cfg` (its credentials, the same timeouts), named `name` on the server;
/// `bench run` drives JetStream through these directly.
pub async fn client(cfg: &NatsConfig, name: &str) -> BResult<async_nats::Client> {
    let url = cfg.url.clone();
    let mut opts = async_nats::ConnectOptions::new()
        .name(name)
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
    match tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), opts.connect(url.as_str())).await {
        Err(_) => Err(BackendError::Unavailable(format!(
            "cannot reach NATS at {url}: no answer within {} s; is nats-server running there?",
            CONNECT_TIMEOUT.as_secs()
        ))),
        Ok(Err(e)) => Err(connect_error(&url, e)),
        Ok(Ok(c)) => Ok(c),
    }
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

impl Nats {
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The underlying client, e.g. to check what depot did with plain NATS calls.
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The rate of a counter between this look and earlier ones.
    fn rate(&self, key: &str, value: u64) -> f64 {
        self.rates.lock().rate(key, value)
    }
}

#[async_trait]
impl Backend for Nats {
    async fn capabilities(&self) -> BResult<Capabilities> {
        Ok(capabilities())
    }

    fn target(&self) -> String {
        format!("nats {}", self.url)
    }
}

/// What depot does on JetStream, every flag said explicitly.
fn capabilities() -> Capabilities {
    Capabilities {
        kind: "nats".into(),
        create_topics: true,
        delete_topics: true,
        // A stream is one partition.
        partitions: false,
        publish: true,
        headers: true,
        peek_by_time: true,
        pull: true,
        // An ack floor only moves as messages are acknowledged.
        commit: false,
        reset_modes: ResetMode::ALL.to_vec(),
        // JetStream keeps no history of consumer resets.
        undo: false,
        replay: true,
        // Nats-Msg-Id within the stream's duplicate window.
        idempotent_producers: true,
        redeliveries: true,
        sizes: true,
        read_only: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn capabilities_say_what_jetstream_cannot_do() {
        let c = capabilities();
        assert_eq!(c.kind, "nats");
        assert!(!c.partitions && !c.commit && !c.undo && !c.read_only);
        assert!(c.idempotent_producers && c.redeliveries && c.sizes && c.replay && c.peek_by_time);
        assert_eq!(c.reset_modes, ResetMode::ALL);
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
}
