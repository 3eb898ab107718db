//! The HTTP server from the outside: bad requests get a 4xx JSON error and change nothing; tokens
//! and read-only mode are enforced on the server side; the OpenAPI document matches the routes;
//! /metrics and /healthz answer; `depot serve` shuts down gracefully.

mod common;

use common::*;
use depot::backend::*;
use depot::core::*;
use depot::server::{ROUTES, ServeOptions, check_bind};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn send(method: &str, url: &str, body: Option<&str>, token: Option<&str>) -> (StatusCode, Value) {
    let c = reqwest::Client::new();
    let mut r = c.request(method.parse().unwrap(), url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.header("content-type", "application/json").body(b.to_string());
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn error_kind(v: &Value) -> &str {
    v["error"]["kind"].as_str().unwrap_or_else(|| panic!("not a JSON error: {v}"))
}

fn error_message(v: &Value) -> &str {
    v["error"]["message"].as_str().unwrap_or("")
}

async fn ends(b: &dyn Backend) -> Vec<(String, Vec<u64>)> {
    b.list_topics()
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.name, t.partitions.iter().map(|p| p.end_offset).collect()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_4xx_json_errors_and_change_nothing() {
    let h = Harness::remote().await;
    let url = h.url.clone().unwrap();
    h.b().create_topic("t", TopicConfig::with_partitions(2)).await.unwrap();
    h.b().publish("t", publish_req(&["a", "b"])).await.unwrap();
    let before = ends(h.b()).await;
    let big = format!(r#"{{"records":[{{"value":"{}"}}]}}"#, "x".repeat(17 << 20));
    let cases: Vec<(&str, String, Option<String>, StatusCode, &str)> = vec![
        ("POST", "/v1/topics/t/records".into(), Some("{not json".into()), StatusCode::BAD_REQUEST, "invalid JSON"),
        (
            "POST",
            "/v1/topics/t/records".into(),
            Some(r#"{"records":[{"value":5}]}"#.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "expected a string",
        ),
        (
            "POST",
            "/v1/topics/t/records".into(),
            Some(r#"{"records":[]}"#.into()),
            StatusCode::BAD_REQUEST,
            "no records",
        ),
        (
            "POST",
            "/v1/topics/t/records".into(),
            Some(r#"{"records":[{"value":"x","partition":9}]}"#.into()),
            StatusCode::BAD_REQUEST,
            "partition 9",
        ),
        (
            "POST",
            "/v1/topics/t/records".into(),
            Some(r#"{"records":[{"value":"x"}],"extra":1}"#.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown field",
        ),
        ("POST", "/v1/topics/t/records".into(), Some(big), StatusCode::PAYLOAD_TOO_LARGE, "MiB limit"),
        (
            "POST",
            "/v1/topics/nope/records".into(),
            Some(r#"{"records":[{"value":"x"}]}"#.into()),
            StatusCode::NOT_FOUND,
            "nope",
        ),
        (
            "POST",
            "/v1/topics".into(),
            Some(r#"{"name":"u","partitions":"three"}"#.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid type",
        ),
        ("POST", "/v1/topics".into(), Some(r#"{"name":"a b"}"#.into()), StatusCode::BAD_REQUEST, "not allowed"),
        (
            "GET",
            "/v1/topics/t/partitions/0/records?offset=99".into(),
            None,
            StatusCode::BAD_REQUEST,
            "valid offsets are 0..2",
        ),
        ("GET", "/v1/topics/t/partitions/x/records?offset=0".into(), None, StatusCode::BAD_REQUEST, "invalid path"),
        ("GET", "/v1/topics/t/partitions/0/records".into(), None, StatusCode::BAD_REQUEST, "offset"),
        ("GET", "/v1/topics/t/records?offset=-1".into(), None, StatusCode::BAD_REQUEST, "invalid query"),
        ("GET", "/v1/topics/t/records?offset=0&last=1".into(), None, StatusCode::BAD_REQUEST, "at most one"),
        ("GET", "/v1/topics/t/records?max=0".into(), None, StatusCode::BAD_REQUEST, "1 to 10000"),
        (
            "POST",
            "/v1/groups/g/resets/plan".into(),
            Some(r#"{"topic":"t","spec":{"mode":"sideways"}}"#.into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "sideways",
        ),
        (
            "POST",
            "/v1/groups/g/pull".into(),
            Some(r#"{"topic":"t","max":0}"#.into()),
            StatusCode::BAD_REQUEST,
            "1 to 10000",
        ),
        (
            "POST",
            "/v1/groups/g/commit".into(),
            Some(r#"{"offsets":[{"topic":"t","partition":0,"offset":50}]}"#.into()),
            StatusCode::BAD_REQUEST,
            "out of range",
        ),
        ("DELETE", "/v1/topics".into(), None, StatusCode::METHOD_NOT_ALLOWED, "not allowed"),
        ("GET", "/v2/nothing".into(), None, StatusCode::NOT_FOUND, "no such endpoint"),
    ];
    for (method, path, body, want, says) in cases {
        let (status, v) = send(method, &format!("{url}{path}"), body.as_deref(), None).await;
        assert_eq!(status, want, "{method} {path}: {v}");
        let msg = error_message(&v);
        assert!(msg.contains(says), "{method} {path}: message {msg:?} should mention {says:?}");
        assert_eq!(ends(h.b()).await, before, "{method} {path} changed data");
    }
    let (status, v) = send("POST", &format!("{url}/v1/topics/t/records"), Some("{}"), None).await;
    assert!(status.is_client_error(), "{v}");
    let c = reqwest::Client::new();
    let resp =
        c.post(format!("{url}/v1/topics/t/records")).body(r#"{"records":[{"value":"x"}]}"#).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let v: Value = resp.json().await.unwrap();
    assert!(error_message(&v).contains("Content-Type"), "{v}");
    assert_eq!(ends(h.b()).await, before);
    h.shutdown().await;
}

#[test]
fn listening_beyond_loopback_needs_a_token() {
    let any: std::net::SocketAddr = "0.0.0.0:7878".parse().unwrap();
    let err = check_bind(&any, None).unwrap_err();
    assert!(err.contains("--token"), "{err}");
    assert!(check_bind(&any, Some("")).is_err());
    assert!(check_bind(&any, Some("s3cret")).is_ok());
    assert!(check_bind(&"127.0.0.1:0".parse().unwrap(), None).is_ok());
    assert!(check_bind(&"[::1]:0".parse().unwrap(), None).is_ok());
}

#[test]
fn serve_refuses_a_public_address_without_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_depot"))
        .args(["serve", "--listen", "0.0.0.0:0", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to listen on 0.0.0.0:0 without a token"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_required_on_every_request() {
    let opts = ServeOptions { token: Some("s3cret".into()), ..ServeOptions::default() };
    let h = Harness::remote_with(opts, Some("s3cret")).await;
    let url = h.url.clone().unwrap();
    for (method, path, _) in ROUTES {
        let path = path.replace("{topic}", "t").replace("{group}", "g").replace("{partition}", "0");
        for token in [None, Some("wrong")] {
            let (status, v) = send(method, &format!("{url}{path}"), Some("{}"), token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with {token:?}: {v}");
            assert_eq!(error_kind(&v), "unauthorized");
        }
    }
    h.b().create_topic("t", TopicConfig::with_partitions(1)).await.expect("the right token works");
    let (status, _) = send("GET", &format!("{url}/healthz"), None, Some("s3cret")).await;
    assert_eq!(status, StatusCode::OK);
    let remote_without = depot::backend::remote::Remote::new(&url, None).unwrap();
    let e = remote_without.list_topics().await.unwrap_err();
    assert!(matches!(e, BackendError::Unauthorized(_)), "{e:?}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_every_write_with_403() {
    let h = Harness::remote_with(ServeOptions { read_only: true, ..ServeOptions::default() }, None).await;
    let url = h.url.clone().unwrap();
    // Seed data directly in the engine (the server refuses writes).
    h.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    h.engine.publish("t", vec![depot::engine::NewRecord::value("a")]).unwrap();
    let before = ends(h.b()).await;
    let writes: &[(&str, &str, &str)] = &[
        ("POST", "/v1/topics", r#"{"name":"new"}"#),
        ("DELETE", "/v1/topics/t", ""),
        ("POST", "/v1/topics/t/records", r#"{"records":[{"value":"x"}]}"#),
        ("POST", "/v1/groups/g/pull", r#"{"topic":"t"}"#),
        ("POST", "/v1/groups/g/commit", r#"{"offsets":[]}"#),
        ("DELETE", "/v1/groups/g", ""),
        ("POST", "/v1/groups/g/resets/execute", "{}"),
        ("POST", "/v1/replays/execute", "{}"),
    ];
    for (method, path, body) in writes {
        let (status, v) = send(method, &format!("{url}{path}"), Some(body), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {v}");
        assert!(error_message(&v).contains("read-only"), "{v}");
    }
    assert_eq!(ends(h.b()).await, before);
    // Dry runs and reads still work.
    let plan = h
        .b()
        .plan_reset("g", ResetRequest { topic: "t".into(), partitions: vec![], spec: ResetSpec::ToEarliest })
        .await;
    assert!(plan.is_ok(), "{plan:?}");
    assert!(h.b().capabilities().await.unwrap().read_only);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_names_exactly_the_served_routes() {
    let h = Harness::remote().await;
    let url = h.url.clone().unwrap();
    let (status, doc) = send("GET", &format!("{url}/v1/openapi.json"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], json!("3.1.0"));
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    let mut served: Vec<(String, String)> = ROUTES.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    documented.sort();
    served.sort();
    assert_eq!(documented, served);
    // Every documented route exists on the server (no 404 "no such endpoint", no 405).
    for (method, path) in &served {
        let p = path.replace("{topic}", "t").replace("{group}", "g").replace("{partition}", "0");
        let (status, v) = send(method, &format!("{url}{p}"), Some("{}"), None).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if status == StatusCode::NOT_FOUND {
            assert!(!error_message(&v).contains("no such endpoint"), "{method} {path} is documented but not served");
        }
    }
    // Bodies shaped like the document's schemas are accepted.
    let create = json!({"name": "doc", "partitions": 2, "retention_ms": 60000});
    let (status, _) = send("POST", &format!("{url}/v1/topics"), Some(&create.to_string()), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let publish = json!({"records": [{"key": "k", "value": {"base64": "AAE="}, "headers": [{"name": "h", "value": "v"}], "partition": 1}]});
    let (status, v) = send("POST", &format!("{url}/v1/topics/doc/records"), Some(&publish.to_string()), None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["acks"][0]["partition"], json!(1));
    let reset = json!({"topic": "doc", "spec": {"mode": "shift-by", "value": -1}});
    let (status, v) = send("POST", &format!("{url}/v1/groups/g/resets/plan"), Some(&reset.to_string()), None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let replay = json!({"source": "doc", "range": {"kind": "offsets", "from": 0, "to": 1}});
    let (status, v) = send("POST", &format!("{url}/v1/replays/plan"), Some(&replay.to_string()), None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_describe_the_engine() {
    let h = Harness::remote().await;
    let url = h.url.clone().unwrap();
    h.b().create_topic("m", TopicConfig::with_partitions(1)).await.unwrap();
    h.b().publish("m", publish_req(&["a", "b", "c"])).await.unwrap();
    h.b().pull("g", PullRequest { topic: "m".into(), max: 1, commit: true, wait_ms: 0 }).await.unwrap();
    let (status, v) = send("GET", &format!("{url}/healthz"), None, None).await;
    assert_eq!((status, v), (StatusCode::OK, json!({"status": "ok"})));
    let text = reqwest::get(format!("{url}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"depot_partition_end_offset{topic="m",partition="0"} 3"#), "{text}");
    assert!(text.contains(r#"depot_group_lag_messages{group="g",topic="m",partition="0"} 2"#), "{text}");
    assert!(text.contains(r#"depot_group_lag_seconds{group="g",topic="m",partition="0"}"#), "{text}");
    assert!(
        text.contains(r#"depot_http_requests_total{method="POST",route="/v1/topics/{topic}/records",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains("depot_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/groups/{group}/pull\",le=\"+Inf\"} 1"), "{text}");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_gives_a_clear_error_not_a_hang() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let r = depot::backend::remote::Remote::new(&format!("http://{addr}"), None).unwrap();
    let start = std::time::Instant::now();
    let e = r.list_topics().await.unwrap_err();
    assert!(matches!(e, BackendError::Unavailable(_)), "{e:?}");
    assert!(e.to_string().contains("cannot connect"), "{e}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    let https = depot::backend::remote::Remote::new("https://example.invalid", None).unwrap_err();
    assert!(https.to_string().contains("plain HTTP"), "{https}");
}

#[test]
fn serve_shuts_down_gracefully_on_sigterm_and_releases_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_depot"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Ready once the lock file records the address.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let addr = loop {
        let text = std::fs::read_to_string(dir.path().join("depot.lock")).unwrap_or_default();
        if let Some(a) = text.lines().find_map(|l| l.strip_prefix("addr=")) {
            break a.to_string();
        }
        assert!(std::time::Instant::now() < deadline, "server did not start");
        std::thread::yield_now();
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = depot::backend::remote::Remote::new(&addr, None).unwrap();
        r.create_topic("kept", TopicConfig::with_partitions(1)).await.unwrap();
        r.publish("kept", publish_req(&["survives"])).await.unwrap();
    });
    let st = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "depot serve exited with {status}");
    let engine = depot::engine::Engine::open(dir.path(), config()).expect("the lock is released");
    let recs = engine.fetch("kept", 0, 0, 10, 1 << 20).unwrap();
    assert_eq!(recs[0].value.as_deref(), Some(&b"survives"[..]));
    engine.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_checks_its_numbers_and_names_and_is_a_read() {
    let h = Harness::remote_with(ServeOptions { read_only: true, ..ServeOptions::default() }, None).await;
    let url = h.url.clone().unwrap();
    h.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    h.engine
        .publish("t", vec![depot::engine::NewRecord::value("a needle"), depot::engine::NewRecord::value("hay")])
        .unwrap();
    let (status, v) = send("POST", &format!("{url}/v1/topics/t/search"), Some(r#"{"value":"needle"}"#), None).await;
    assert_eq!(status, StatusCode::OK, "a search is a read, allowed on a read-only server: {v}");
    assert_eq!((v["matches"][0]["value"].as_str(), v["scanned"].as_u64()), (Some("a needle"), Some(2)), "{v}");
    assert!(v["stopped"].is_null() && v["next"][0]["done"] == true, "{v}");
    let cases = [
        ("t", r#"{"max_matches":10001}"#, "at most 10000"),
        ("t", r#"{"max_ms":600000}"#, "at most 60000 ms"),
        ("t", r#"{"regex":"("}"#, "not a usable regex"),
        ("t", r#"{"value":"a","regex":"b"}"#, "not both"),
        ("t", r#"{"wat":1}"#, "unknown field"),
        ("a%20b", r#"{}"#, "topic"),
    ];
    for (topic, body, words) in cases {
        let (status, v) = send("POST", &format!("{url}/v1/topics/{topic}/search"), Some(body), None).await;
        assert!(status.is_client_error(), "{topic} {body}: {status} {v}");
        assert!(error_message(&v).contains(words), "{topic} {body}: {v}");
    }
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_null_value_publishes_a_tombstone_and_reads_back_as_null() {
    let h = Harness::remote().await;
    let url = h.url.clone().unwrap();
    let create = json!({"name": "tomb"});
    let (status, _) = send("POST", &format!("{url}/v1/topics"), Some(&create.to_string()), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let publish = json!({"records": [{"key": "k", "value": null}, {"key": "k", "value": ""}]});
    let (status, v) = send("POST", &format!("{url}/v1/topics/tomb/records"), Some(&publish.to_string()), None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // A forgotten value is still an error, not a tombstone; nothing is published.
    let missing = json!({"records": [{"key": "k"}]});
    let (status, v) = send("POST", &format!("{url}/v1/topics/tomb/records"), Some(&missing.to_string()), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(error_message(&v).contains("missing field `value`"), "{v}");
    let (status, v) = send("GET", &format!("{url}/v1/topics/tomb/records?offset=0"), None, None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let msgs = v["messages"].as_array().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(msgs.len(), 2, "{v}");
    assert_eq!(msgs[0]["value"], Value::Null, "the tombstone: {v}");
    assert_eq!(msgs[1]["value"], json!(""), "an empty value stays empty: {v}");
    h.shutdown().await;
}
