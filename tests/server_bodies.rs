//! Request bodies against the real `depot serve`: the bodies being read and handled at once fit a
//! server-wide budget, so many large bodies at once keep the server's memory bounded, and what
//! does not fit gets a clear 503 with Retry-After and is not applied at all; a body that does not
//! arrive in time gets 408.

mod common;

use common::raw::parse;
use common::serve::Served;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// `{"records":[{"value":"a"},…]}` of about `mib` MiB: the tiny records that cost most to decode
/// and acknowledge, and how many there are.
fn tiny_records(mib: usize) -> (bytes::Bytes, u64) {
    let one = r#"{"value":"a"},"#;
    let n = (mib << 20) / one.len();
    let mut s = String::with_capacity(n * one.len() + 16);
    s.push_str(r#"{"records":["#);
    for _ in 0..n {
        s.push_str(one);
    }
    s.pop();
    s.push_str("]}");
    (bytes::Bytes::from(s), n as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_large_bodies_at_once_keep_the_server_memory_bounded() {
    let server = Served::start(&[], None);
    let url = server.url();
    let c = reqwest::Client::new();
    for i in 0..8 {
        let r = c
            .post(format!("{url}/v1/topics"))
            .json(&serde_json::json!({"name": format!("t{i}")}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{:?}", r.text().await);
    }
    let (body, n) = tiny_records(14);
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..8 {
        let (c, url, body) = (c.clone(), url.clone(), body.clone());
        sends.spawn(async move {
            let r = c
                .post(format!("{url}/v1/topics/t{i}/records"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let (status, retry) = (r.status(), r.headers().get("retry-after").cloned());
            (i, status, retry, r.json::<serde_json::Value>().await.unwrap())
        });
    }
    let mut answers = Vec::new();
    while let Some(r) = sends.join_next().await {
        answers.push(r.unwrap());
    }
    // Bodies being handled may cost 256 MiB (4 × the 64 MiB budget) and bodies being read 64 MiB
    // more; an idle server holds about 30 MiB. Without the budget the peak was 916 MiB.
    let peak = server.status_kib("VmHWM");
    assert!(peak < 400 << 10, "the server peaked at {} MiB", peak >> 10);
    let mut served = 0;
    for (i, status, retry, v) in answers {
        let end = reqwest::get(format!("{url}/v1/topics/t{i}"))
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()["partitions"][0]["end_offset"]
            .as_u64()
            .unwrap();
        if status.is_success() {
            assert_eq!(v["acks"].as_array().map(Vec::len), Some(n as usize), "t{i}");
            assert_eq!(end, n, "t{i}: every record of a served body is appended");
            served += 1;
        } else {
            assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE, "t{i}: {v}");
            assert_eq!(retry.as_ref().map(|r| r.to_str().unwrap()), Some("1"), "t{i}");
            let msg = v["error"]["message"].as_str().unwrap();
            assert!(msg.contains("the server is busy") && msg.contains("--body-budget-mib"), "{msg}");
            assert_eq!(end, 0, "t{i}: a refused body is not applied at all");
        }
    }
    assert!(served >= 1, "no body was served");
}

#[test]
fn a_body_that_does_not_arrive_in_time_gets_408() {
    let server = Served::start(&["--body-timeout-ms", "1000"], None);
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    let start = Instant::now();
    s.write_all(
        b"POST /v1/topics HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":",
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let took = start.elapsed();
    let (status, body) = parse(&answer);
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("did not arrive within 1000 ms"), "{body}");
    assert!(took >= Duration::from_millis(950) && took < Duration::from_secs(5), "answered after {took:?}");
    let topics = common::raw::request(server.addr, "GET /v1/topics HTTP/1.1\r\nHost: localhost", "");
    assert_eq!(topics, (200, "[]".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordinary_bodies_at_once_all_fit_the_budget() {
    let server = Served::start(&[], None);
    let url = server.url();
    let c = reqwest::Client::new();
    let r = c.post(format!("{url}/v1/topics")).json(&serde_json::json!({"name": "t"})).send().await.unwrap();
    assert!(r.status().is_success());
    // 16 bodies of 2,000 records of 1 KiB: about 4.5 MiB each to handle, 72 MiB in all.
    let value = "v".repeat(1024);
    let records: Vec<_> = (0..2000).map(|_| serde_json::json!({"value": value})).collect();
    let body = bytes::Bytes::from(serde_json::json!({"records": records}).to_string());
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (c, url, body) = (c.clone(), url.clone(), body.clone());
        sends.spawn(async move {
            let r = c
                .post(format!("{url}/v1/topics/t/records"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        });
    }
    while let Some(r) = sends.join_next().await {
        let (status, text) = r.unwrap();
        assert_eq!(status, reqwest::StatusCode::OK, "{}", &text[..text.len().min(300)]);
    }
    let v: serde_json::Value = reqwest::get(format!("{url}/v1/topics/t")).await.unwrap().json().await.unwrap();
    assert_eq!(v["partitions"][0]["end_offset"], serde_json::json!(32_000));
}
