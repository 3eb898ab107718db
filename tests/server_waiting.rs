//! Requests that wait for records, against the real server on 127.0.0.1:0: hundreds of waiting
//! pulls hold no thread (the server keeps answering), the waiter beyond the limit gets a 503 with
//! Retry-After at once, and every waiter gets its records when they are published.

mod common;

use common::*;
use depot::core::*;
use depot::server::{Limits, ServeOptions};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WAITERS: usize = 600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_waiting_pulls_hold_no_thread_and_the_next_gets_503() {
    // 600 client and 600 server sockets in this one process.
    depot::server::raise_open_file_limit();
    let limits = Limits { max_waiters: WAITERS, ..Limits::default() };
    let h = Harness::remote_with(ServeOptions { limits, ..ServeOptions::default() }, None).await;
    let url = h.url.clone().unwrap();
    h.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let c = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let mut pulls = tokio::task::JoinSet::new();
    for i in 0..WAITERS {
        let (c, url) = (c.clone(), url.clone());
        pulls.spawn(async move {
            let r = c
                .post(format!("{url}/v1/groups/w{i}/pull"))
                .json(&json!({"topic": "t", "wait_ms": 60_000, "commit": true}))
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        });
    }
    // Every pull holds its place once it has joined its group.
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.engine.list_groups().len() < WAITERS {
        assert!(Instant::now() < deadline, "only {} pulls joined", h.engine.list_groups().len());
        tick.tick().await;
    }
    // The server answers at once while they wait.
    let start = Instant::now();
    let health = c.get(format!("{url}/healthz")).send().await.unwrap();
    let took = start.elapsed();
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    assert!(took < Duration::from_secs(1), "/healthz took {took:?} with {WAITERS} pulls waiting");
    let start = Instant::now();
    let topics = c.get(format!("{url}/v1/topics")).send().await.unwrap();
    assert_eq!(topics.status(), reqwest::StatusCode::OK);
    assert!(start.elapsed() < Duration::from_secs(1), "listing topics took {:?}", start.elapsed());
    // One more waiter, a pull or a fetch, is answered at once with 503 and Retry-After.
    let extra = [
        c.post(format!("{url}/v1/groups/extra/pull")).json(&json!({"topic": "t", "wait_ms": 60_000})),
        c.get(format!("{url}/v1/topics/t/partitions/0/records?offset=0&wait_ms=60000")),
    ];
    for req in extra {
        let start = Instant::now();
        let r = req.send().await.unwrap();
        assert!(start.elapsed() < Duration::from_secs(1), "the refusal took {:?}", start.elapsed());
        assert_eq!(r.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string()), Some("1".into()));
        let text = r.text().await.unwrap();
        assert!(text.contains("600 requests are already waiting") && text.contains("--max-waiters"), "{text}");
    }
    assert!(h.engine.describe_group("extra").is_err(), "the refused pull joined no group");
    // A request that does not wait is still served.
    let r = c.post(format!("{url}/v1/groups/extra/pull")).json(&json!({"topic": "t"})).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    // One record published: every waiter gets it.
    h.engine.publish("t", vec![depot::engine::NewRecord::value("wake")]).unwrap();
    let mut woken = 0;
    while let Some(r) = pulls.join_next().await {
        let (status, v) = r.unwrap();
        assert_eq!(status, reqwest::StatusCode::OK, "{v}");
        assert_eq!(v["messages"][0]["value"], json!("wake"), "{v}");
        woken += 1;
    }
    assert_eq!(woken, WAITERS);
    assert_eq!(h.engine.describe_group("w599").unwrap().partitions[0].committed, Some(1));
    // Their places are free again.
    let r = c
        .post(format!("{url}/v1/groups/after/pull"))
        .json(&json!({"topic": "t", "wait_ms": 60_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    h.shutdown().await;
}
