//! What the Kafka listener's tests share: an engine on a temp dir with the listener on
//! 127.0.0.1:0, and a raw client that speaks the protocol with the `kafka-protocol` crate's
//! client side (requests encoded, responses decoded) — or sends any bytes at all.
#![allow(dead_code)]

use bytes::{Buf, BufMut, Bytes, BytesMut};
use depot::engine::{Engine, EngineConfig, SyncMode};
use depot::server::kafka::{self, KafkaOptions, Running};
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the listener logged (warnings and above) in this test binary so far; installed as the
/// global subscriber by the first call.
pub fn logs() -> String {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    let buf = LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        buf
    });
    String::from_utf8_lossy(&buf.lock().expect("log buffer")).into_owned()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An engine with the Kafka listener in front of it.
pub struct Listener {
    pub dir: tempfile::TempDir,
    pub engine: Engine,
    pub addr: SocketAddr,
    running: Option<Running>,
}

pub fn engine_config() -> EngineConfig {
    EngineConfig { sync: SyncMode::Interval(Duration::from_millis(50)), ..EngineConfig::default() }
}

impl Listener {
    pub async fn start() -> Listener {
        Self::with(KafkaOptions::default()).await
    }

    pub async fn with(opts: KafkaOptions) -> Listener {
        logs();
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Engine::open(dir.path(), engine_config()).expect("open engine");
        Self::on(dir, engine, opts).await
    }

    /// The listener in front of an engine opened already.
    pub async fn on(dir: tempfile::TempDir, engine: Engine, opts: KafkaOptions) -> Listener {
        let running = kafka::start("127.0.0.1:0", engine.clone(), opts).await.expect("start the listener");
        Listener { dir, addr: running.addr, engine, running: Some(running) }
    }

    /// Fetches the listener has parked, waiting for records.
    pub fn parked_fetches(&self) -> usize {
        self.running.as_ref().map_or(0, Running::parked_fetches)
    }

    pub fn bootstrap(&self) -> String {
        self.addr.to_string()
    }

    pub async fn client(&self) -> Wire {
        Wire::connect(self.addr).await
    }

    pub async fn stop(mut self) -> (tempfile::TempDir, Engine) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        (dir, self.engine.clone())
    }

    /// Stops the listener and closes the engine.
    pub async fn finish(self) {
        let (_dir, engine) = self.stop().await;
        engine.close().expect("close the engine");
    }
}

/// A raw protocol client on one connection.
pub struct Wire {
    pub stream: TcpStream,
    correlation: i32,
}

impl Wire {
    pub async fn connect(addr: SocketAddr) -> Wire {
        let stream = TcpStream::connect(addr).await.expect("connect to the listener");
        stream.set_nodelay(true).expect("nodelay");
        Wire { stream, correlation: 0 }
    }

    /// The bytes of a whole request frame: size, header, body.
    pub fn frame<Req: Encodable + HeaderVersion>(&mut self, key: ApiKey, version: i16, req: &Req) -> (i32, Bytes) {
        self.correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(StrBytes::from_static_str("depot-test")));
        let mut body = BytesMut::new();
        header.encode(&mut body, Req::header_version(version)).expect("encode the header");
        req.encode(&mut body, version).expect("encode the request");
        let mut out = BytesMut::with_capacity(body.len() + 4);
        out.put_i32(body.len() as i32);
        out.extend_from_slice(&body);
        (self.correlation, out.freeze())
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Reads one response frame (without its size); `None` when the server closed the connection.
    pub async fn read_frame(&mut self) -> Option<Bytes> {
        let read = async {
            let mut size = [0u8; 4];
            self.stream.read_exact(&mut size).await.ok()?;
            let mut buf = vec![0u8; i32::from_be_bytes(size) as usize];
            self.stream.read_exact(&mut buf).await.ok()?;
            Some(Bytes::from(buf))
        };
        tokio::time::timeout(Duration::from_secs(30), read).await.expect("a response or a close within 30 s")
    }

    /// Whether the server closed this connection (it sends nothing more and reads end).
    pub async fn closed(&mut self) -> bool {
        self.read_frame().await.is_none()
    }

    /// Sends a request and decodes its response.
    pub async fn call<Req, Resp>(&mut self, key: ApiKey, version: i16, req: &Req) -> Resp
    where
        Req: Encodable + HeaderVersion,
        Resp: Decodable + HeaderVersion,
    {
        self.try_call(key, version, req)
            .await
            .unwrap_or_else(|| panic!("{key:?} v{version}: the server closed the connection"))
    }

    /// Like [`call`](Self::call); `None` when the server closed the connection instead.
    pub async fn try_call<Req, Resp>(&mut self, key: ApiKey, version: i16, req: &Req) -> Option<Resp>
    where
        Req: Encodable + HeaderVersion,
        Resp: Decodable + HeaderVersion,
    {
        let (corr, frame) = self.frame(key, version, req);
        self.send_raw(&frame).await.ok()?;
        let mut resp = self.read_frame().await?;
        assert_eq!(resp.get_i32(), corr, "correlation id");
        if Resp::header_version(version) >= 1 {
            assert_eq!(resp.get_u8(), 0, "no tagged fields in the response header");
        }
        Some(Resp::decode(&mut resp, version).unwrap_or_else(|e| panic!("{key:?} v{version} response: {e}")))
    }
}

/// Waits (up to 30 s) until `f` holds.
pub async fn poll(what: &str, mut f: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(tokio::time::Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
