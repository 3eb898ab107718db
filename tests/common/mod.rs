//! Shared test harness: an embedded backend on a temp dir, or the real HTTP server on 127.0.0.1:0
//! with the remote backend talking to it.
#![allow(dead_code)]

pub mod conformance;
pub mod raw;
pub mod serve;

use depot::backend::embedded::Embedded;
use depot::backend::remote::Remote;
use depot::backend::*;
use depot::core::*;
use depot::engine::{Engine, EngineConfig, SyncMode};
use depot::server::{self, ServeOptions};
use std::sync::Arc;
use std::time::Duration;

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub engine: Engine,
    pub backend: Arc<dyn Backend>,
    pub url: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub fn config() -> EngineConfig {
    EngineConfig { sync: SyncMode::Interval(Duration::from_millis(50)), ..EngineConfig::default() }
}

impl Harness {
    pub fn embedded() -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Engine::open(dir.path(), config()).expect("open engine");
        let backend = Arc::new(Embedded::new(engine.clone()));
        Harness { dir, engine, backend, url: None, stop: None, server: None }
    }

    /// The real server on 127.0.0.1:0 over an embedded engine, and a remote backend for it.
    pub async fn remote_with(opts: ServeOptions, token: Option<&str>) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let engine = Engine::open(dir.path(), config()).expect("open engine");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = server::router(Arc::new(Embedded::new(engine.clone())), opts);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(server::serve(listener, app, async {
            let _ = rx.await;
        }));
        let url = format!("http://{addr}");
        let backend = Arc::new(Remote::new(&url, token.map(str::to_string)).expect("remote"));
        Harness { dir, engine, backend, url: Some(url), stop: Some(tx), server: Some(server) }
    }

    pub async fn remote() -> Harness {
        Self::remote_with(ServeOptions::default(), None).await
    }

    pub fn b(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    pub async fn finish(self) {
        self.shutdown().await
    }

    pub async fn shutdown(mut self) {
        self.stop_server().await;
        self.engine.close().expect("close");
    }

    /// Shuts the server down (as SIGTERM does) and waits until it has stopped; the engine stays open.
    pub async fn stop_server(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            s.await.expect("server task").expect("server result");
        }
    }
}

pub fn text(m: &Message) -> &str {
    m.value.as_ref().and_then(Payload::as_text).expect("text value")
}

pub fn out(v: &str) -> OutRecord {
    OutRecord::text(v)
}

pub fn publish_req(values: &[&str]) -> PublishRequest {
    PublishRequest { records: values.iter().map(|v| out(v)).collect(), producer: None }
}

/// A backend on an external server (nothing to shut down).
pub struct External(pub Arc<dyn Backend>);

impl External {
    pub fn b(&self) -> &dyn Backend {
        self.0.as_ref()
    }
    pub async fn finish(self) {}
}

/// The value of a required environment variable for tests that need a real server.
pub fn server_env(var: &str, what: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("{var} is not set: this test needs {what}; .ci/run starts one and sets {var}"),
    }
}
