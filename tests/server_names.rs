//! Names from outside, against the real server on 127.0.0.1:0: a tokenless server answers only
//! requests addressed to a loopback name (DNS rebinding); group and topic names are validated
//! wherever they enter and escaped wherever they leave (URLs, `/metrics`).

mod common;

use common::raw::{addr_of, request};
use common::*;
use depot::core::*;
use depot::server::ServeOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tokenless_server_refuses_other_host_names_and_changes_nothing() {
    let h = Harness::remote().await;
    let addr = addr_of(h.url.as_deref().unwrap());
    h.engine.create_topic("secret", TopicConfig::with_partitions(1)).unwrap();
    let port = addr.port();
    let refused = tokio::task::spawn_blocking(move || {
        [
            request(addr, "GET /v1/topics HTTP/1.1\r\nHost: evil.example", ""),
            request(addr, &format!("DELETE /v1/topics/secret HTTP/1.1\r\nHost: evil.example:{port}"), ""),
            request(
                addr,
                &format!(
                    "DELETE /v1/topics/secret HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://evil.example:{port}"
                ),
                "",
            ),
        ]
    })
    .await
    .unwrap();
    for (status, body) in refused {
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("DNS rebinding") && body.contains("--token"), "{body}");
    }
    assert_eq!(h.b().list_topics().await.unwrap().len(), 1, "the topic survives");
    let allowed = tokio::task::spawn_blocking(move || {
        ["127.0.0.1", "localhost", "[::1]", "depot.localhost"]
            .map(|host| (host, request(addr, &format!("GET /v1/topics HTTP/1.1\r\nHost: {host}:{port}"), "")))
    })
    .await
    .unwrap();
    for (host, (status, body)) in allowed {
        assert_eq!(status, 200, "Host {host}: {body}");
        assert!(body.contains("secret"), "{body}");
    }
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_any_host_is_served() {
    let opts = ServeOptions { token: Some("s3cret".into()), ..ServeOptions::default() };
    let h = Harness::remote_with(opts, Some("s3cret")).await;
    let addr = addr_of(h.url.as_deref().unwrap());
    let (status, body) = tokio::task::spawn_blocking(move || {
        request(addr, "GET /v1/topics HTTP/1.1\r\nHost: depot.example\r\nAuthorization: Bearer s3cret", "")
    })
    .await
    .unwrap();
    assert_eq!((status, body.as_str()), (200, "[]"));
    h.shutdown().await;
}
