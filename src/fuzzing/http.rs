//! Target `http_bodies`: arbitrary bytes as the body and query string of every route, first
//! deserialised into each request type the routes take, then sent through the real router in
//! process (`tower::ServiceExt::oneshot`) against an embedded engine in a temporary directory.
//! Whatever comes in, the answer is never a panic and never a 5xx other than 503.

use super::Bytes;
use crate::backend::open::{Target, open};
use crate::backend::{Backend, wire};
use crate::core::{PublishRequest, PullRequest, ReplayRequest, ResetRequest, TopicConfig};
use crate::engine::{Engine, EngineConfig, NewRecord, SyncMode};
use crate::server::{ROUTES, ServeOptions, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

/// The engine, its backend and the runtime, shared by every input of one fuzzing process.
struct World {
    _dir: tempfile::TempDir,
    engine: Engine,
    backend: Arc<dyn Backend>,
    rt: tokio::runtime::Runtime,
}

/// When the data directory grows past this, the fixture is built again from scratch.
const MAX_DATA_BYTES: u64 = 32 << 20;

fn world() -> Option<&'static World> {
    static WORLD: OnceLock<Option<World>> = OnceLock::new();
    WORLD
        .get_or_init(|| {
            let dir = tempfile::tempdir().ok()?;
            let config = EngineConfig { sync: SyncMode::Never, ..EngineConfig::default() };
            let engine = Engine::open(dir.path(), config).ok()?;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            let backend = rt.block_on(open(&Target::Engine(engine.clone()), false)).ok()?.backend;
            Some(World { _dir: dir, engine, backend, rt })
        })
        .as_ref()
}

/// Topic `t` (2 partitions, 10 records) and group `g` (committed), there again before each input.
fn fixture(e: &Engine) {
    let size: u64 = e.list_topics().iter().flat_map(|t| t.partitions.iter().map(|p| p.size_bytes)).sum();
    if size > MAX_DATA_BYTES {
        for t in e.list_topics() {
            let _ = e.delete_topic(&t.name);
        }
    }
    if e.describe_topic("t").is_err() {
        let _ = e.create_topic("t", TopicConfig::with_partitions(2));
        for p in 0..2 {
            let recs: Vec<NewRecord> = (0..5).map(|i| NewRecord::keyed(format!("k{i}"), format!("v{i}"))).collect();
            let _ = e.append("t", p, &recs, None);
        }
    }
    let _ = e.commit_offsets("g", &[("t".into(), 0, 2)]);
}

/// Path segments: the fixture's names, names from the input (percent-encoded), or known tricks.
fn name(b: &mut Bytes, fixture_name: &str) -> String {
    match b.u8() % 4 {
        0 | 1 => fixture_name.to_string(),
        2 => {
            let raw = b.chunk();
            raw.iter()
                .map(|&c| {
                    if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                        (c as char).to_string()
                    } else {
                        format!("%{c:02X}")
                    }
                })
                .collect()
        }
        _ => ["..", "%2e%2e", "a%2Fb", "%00", "t%3Fx=1", &"x".repeat(300), "%FF%FE", "g%0Ainjected"]
            [b.u8() as usize % 8]
            .to_string(),
    }
}

/// Deserialises `body` into every request type a route takes; the results do not matter, only
/// that none panics.
fn parse_all(body: &[u8]) {
    let _ = serde_json::from_slice::<PublishRequest>(body);
    let _ = serde_json::from_slice::<wire::CreateTopic>(body);
    let _ = serde_json::from_slice::<PullRequest>(body);
    let _ = serde_json::from_slice::<wire::Commit>(body);
    let _ = serde_json::from_slice::<ResetRequest>(body);
    let _ = serde_json::from_slice::<wire::ExecuteReset>(body);
    let _ = serde_json::from_slice::<ReplayRequest>(body);
    let _ = serde_json::from_slice::<wire::ExecuteReplay>(body);
}

pub fn http_bodies(data: &[u8]) {
    let mut b = Bytes::new(data);
    let (method, template, _) = ROUTES[b.u8() as usize % ROUTES.len()];
    let mut path = template.to_string();
    for (slot, fixture_name) in [("{topic}", "t"), ("{group}", "g"), ("{partition}", "0")] {
        if path.contains(slot) {
            let n = name(&mut b, fixture_name);
            path = path.replace(slot, &n);
        }
    }
    let query = String::from_utf8_lossy(b.chunk()).into_owned();
    let body = b.rest();
    parse_all(body);
    // A waiting pull or fetch would hold the fuzzer for up to a minute of real time: those waits
    // are tested elsewhere.
    let text = String::from_utf8_lossy(body);
    if query.contains("wait") || text.contains("wait") {
        return;
    }
    let uri = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
    let Some(w) = world() else { return };
    fixture(&w.engine);
    let Ok(req) = Request::builder()
        .method(method)
        .uri(&uri)
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
    else {
        return;
    };
    let app = router(w.backend.clone(), ServeOptions::default());
    let (status, answer) = w.rt.block_on(async {
        let Ok(resp) = app.oneshot(req).await;
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap_or_default();
        (status, bytes)
    });
    assert!(
        !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
        "{method} {uri} with {} body bytes: {status} {}",
        body.len(),
        String::from_utf8_lossy(&answer)
    );
}
