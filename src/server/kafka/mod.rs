//! The Kafka wire protocol on the embedded engine: `depot serve --kafka-listen ADDR` (and the
//! console's `--kafka-listen`) answer Kafka clients beside the HTTP API. This file is the listener:
//! the accept loop, the connection limit, one task per connection reading requests one after
//! another (as a Kafka broker does: a connection's answers go out in order), idle and slow-client
//! timeouts, and a shutdown that lets requests in flight finish within a bound.
//!
//! - [`frame`]: the size-prefixed framing, capped before anything is allocated
//! - [`dispatch`]: the table of APIs (one entry per API group), the header and version checks
//! - [`errors`]: the engine's errors as Kafka error codes
//! - [`versions`]: ApiVersions and the ranges it advertises
//! - [`metadata`]: Metadata, with this node as the only broker and every partition's leader
//! - [`produce`]: Produce (record batches of magic 2, acks), its batches read by [`decode`] and
//!   decompressed within a limit ([`decompress`]); [`fetch`]: Fetch (long-poll without a thread),
//!   its batches written by [`encode`]; [`offsets`]: ListOffsets
//! - [`producer`]: InitProducerId, and the producer checks of idempotent produce as Kafka codes
//! - [`groups`]: the classic consumer-group protocol (FindCoordinator, Join/Sync/Heartbeat/
//!   LeaveGroup, OffsetCommit/OffsetFetch, List/DescribeGroups) on the engine's groups
//!
//! - [`admin`]: CreateTopics, DeleteTopics, DeleteRecords (the log start moved)
//! - [`sasl`]: SaslHandshake and SaslAuthenticate (PLAIN, the token as the password); with
//!   `--token`, nothing else is served on a connection before it authenticates
//!
//! The listener drives the engine itself (not a `Backend`): Kafka's produce, fetch and group
//! protocol need what only the engine has (raw batches, producer state, append events).

pub mod admin;
pub mod decode;
pub mod decompress;
pub mod dispatch;
pub mod encode;
pub mod errors;
pub mod fetch;
pub mod frame;
pub mod groups;
pub mod metadata;
pub mod offsets;
pub mod produce;
pub mod producer;
pub mod sasl;
pub mod versions;

use crate::engine::{Engine, EngineError};
use dispatch::Outcome;
use frame::FrameError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// The largest request accepted by default (a produce of a large batch fits; Kafka's default
/// socket.request.max.bytes is 100 MiB too).
pub const DEFAULT_MAX_FRAME: usize = 100 << 20;

/// How the listener behaves.
#[derive(Clone, Debug)]
pub struct KafkaOptions {
    /// The server's token: clients authenticate with SASL/PLAIN, the token as the password.
    pub token: Option<String>,
    /// Changes nothing (Metadata does not auto-create topics).
    pub read_only: bool,
    /// Metadata and Produce create the topics they name (`--kafka-auto-create`).
    pub auto_create: bool,
    /// Partitions of an auto-created topic, and of a CreateTopics that leaves it to the broker.
    pub default_partitions: u32,
    /// Requests larger than this close the connection before they are read.
    pub max_frame: usize,
    /// Connections beyond this are closed as they arrive.
    pub max_connections: usize,
    /// A connection with no request for this long is closed (Kafka's connections.max.idle.ms).
    pub idle_timeout: Duration,
    /// The rest of a request, once its first byte came, and each response must get through in this.
    pub io_timeout: Duration,
    /// On shutdown, requests in flight get this long to finish.
    pub shutdown_grace: Duration,
}

impl Default for KafkaOptions {
    fn default() -> Self {
        KafkaOptions {
            token: None,
            read_only: false,
            auto_create: false,
            default_partitions: 1,
            max_frame: DEFAULT_MAX_FRAME,
            max_connections: 1024,
            idle_timeout: Duration::from_secs(600),
            io_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// This node's id in every answer: the only broker, the leader of every partition.
pub const NODE_ID: i32 = 0;
/// The cluster id Metadata reports.
pub const CLUSTER_ID: &str = "depot";

/// What every connection shares.
pub struct Broker {
    pub engine: Engine,
    pub opts: KafkaOptions,
    /// Fetches waiting for records right now (long polls parked on append events).
    pub parked: AtomicUsize,
}

impl Broker {
    /// Runs blocking engine work (disk IO, fsync) off the async threads.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, EngineError>
    where
        T: Send + 'static,
        F: FnOnce(Engine) -> Result<T, EngineError> + Send + 'static,
    {
        let engine = self.engine.clone();
        match tokio::task::spawn_blocking(move || f(engine)).await {
            Ok(r) => r,
            Err(e) => Err(EngineError::Failed(format!("an engine task failed: {e}"))),
        }
    }
}

/// One connection's state.
pub struct Session {
    pub peer: SocketAddr,
    /// The address the client reached: what Metadata advertises to it.
    pub local: SocketAddr,
    /// Becomes true when the listener shuts down (long polls end early).
    pub stop: watch::Receiver<bool>,
    /// Where the connection stands with SASL (always open without a token).
    pub auth: sasl::Auth,
    /// Set by a handler whose answer is the last on this connection (a failed authentication):
    /// the answer is sent, then the connection is closed with this logged.
    pub close_after: Option<String>,
}

/// A listener running in the background beside an engine.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    broker: Arc<Broker>,
}

impl Running {
    /// How many fetches are waiting for records at this moment.
    pub fn parked_fetches(&self) -> usize {
        self.broker.parked.load(Ordering::SeqCst)
    }

    /// Stops accepting, lets requests in flight finish (within the shutdown grace) and returns.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("kafka: the listener failed: {e}"),
            Err(e) => tracing::error!("kafka: the listener task failed: {e}"),
        }
    }
}

/// Checks the options, binds `listen` and serves the Kafka protocol on `engine` in the background.
/// The same rule as HTTP: loopback only without a token; with one, clients authenticate with
/// SASL/PLAIN before anything else is served.
pub async fn start(listen: &str, engine: Engine, opts: KafkaOptions) -> Result<Running, String> {
    let addr: SocketAddr =
        listen.parse().map_err(|_| format!("--kafka-listen {listen:?} is not an address like 127.0.0.1:9092"))?;
    if super::check_bind(&addr, opts.token.as_deref()).is_err() {
        return Err(format!(
            "refusing to serve Kafka on {addr} without a token: anyone who can reach it could read and delete your data. \
             Pass --token TOKEN (Kafka clients then authenticate with SASL/PLAIN, the token as the password), or listen on 127.0.0.1"
        ));
    }
    crate::core::TopicConfig::with_partitions(opts.default_partitions)
        .validate()
        .map_err(|e| format!("--kafka-default-partitions {}: {e}", opts.default_partitions))?;
    let listener = TcpListener::bind(addr).await.map_err(|e| format!("cannot serve Kafka on {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let broker = Arc::new(Broker { engine, opts, parked: AtomicUsize::new(0) });
    let task = tokio::spawn(serve(listener, broker.clone(), async {
        let _ = stopped.await;
    }));
    Ok(Running { addr, stop, task, broker })
}

/// Serves the Kafka protocol on `listener` until `shutdown` resolves; then stops accepting, lets
/// requests in flight finish for up to `shutdown_grace`, and closes every connection.
pub async fn serve(
    listener: TcpListener,
    broker: Arc<Broker>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let grace = broker.opts.shutdown_grace;
    let limit = Arc::new(Semaphore::new(broker.opts.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((sock, peer)) => {
                    let Ok(permit) = limit.clone().try_acquire_owned() else {
                        tracing::warn!("kafka: refusing a connection from {peer}: {} connections are open already", broker.opts.max_connections);
                        continue;
                    };
                    let (b, stop) = (broker.clone(), stop_rx.clone());
                    conns.spawn(async move {
                        connection(&b, sock, peer, stop).await;
                        drop(permit);
                    });
                }
                Err(e) => {
                    // Out of file descriptors, usually: back off instead of spinning.
                    tracing::warn!("kafka: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!("kafka: {} connections did not finish within {grace:?}; closing them", conns.len());
        conns.shutdown().await;
    }
    Ok(())
}

/// One connection: requests one after another until the client leaves, breaks the protocol,
/// idles out, or the listener stops.
async fn connection(b: &Broker, sock: TcpStream, peer: SocketAddr, stop: watch::Receiver<bool>) {
    let _ = sock.set_nodelay(true);
    let local = match sock.local_addr() {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!("kafka: connection from {peer}: {e}");
            return;
        }
    };
    let (mut rd, mut wr) = sock.into_split();
    let auth = sasl::Auth::new(b.opts.token.as_deref());
    let mut s = Session { peer, local, stop: stop.clone(), auth, close_after: None };
    let mut stop = stop;
    loop {
        let read = frame::read_frame(&mut rd, b.opts.max_frame, b.opts.idle_timeout, b.opts.io_timeout);
        let frame = tokio::select! {
            f = read => f,
            _ = stop.wait_for(|s| *s) => return,
        };
        let frame = match frame {
            Ok(f) => f,
            Err(FrameError::Closed) => return,
            Err(e @ FrameError::Idle) => {
                tracing::debug!("kafka: closing the connection from {peer}: {e}");
                return;
            }
            Err(e) => {
                tracing::warn!("kafka: closing the connection from {peer}: {e}");
                return;
            }
        };
        let (correlation_id, outcome) = dispatch::handle(b, &mut s, frame).await;
        match outcome {
            Outcome::Reply { buf, header_version } => {
                if let Err(e) =
                    frame::write_reply(&mut wr, buf, correlation_id, header_version, b.opts.io_timeout).await
                {
                    tracing::debug!("kafka: connection from {peer}: {e}");
                    return;
                }
                if let Some(why) = s.close_after.take() {
                    tracing::warn!("kafka: closing the connection from {peer}: {why}");
                    return;
                }
            }
            Outcome::Silent => {}
            Outcome::Close(why) => {
                tracing::warn!("kafka: closing the connection from {peer}: {why}");
                return;
            }
        }
    }
}
