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

/// `evil"} 1\ninjected_metric 666\n#`, percent-encoded for a path.
const INJECTION: &str = "evil\"} 1\ninjected_metric 666\n#";
const INJECTION_IN_PATH: &str = "evil%22%7D%201%0Ainjected_metric%20666%0A%23";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_name_the_rule_refuses_is_a_400_everywhere_it_enters() {
    let h = Harness::remote().await;
    let url = h.url.clone().unwrap();
    h.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    h.engine.publish("t", vec![depot::engine::NewRecord::value("a")]).unwrap();
    let plan = h
        .engine
        .plan_reset("g", "t", None, ResetSpec::ToEarliest)
        .map(|mut p| {
            p.group = INJECTION.into();
            serde_json::json!({ "plan": p })
        })
        .unwrap();
    let c = reqwest::Client::new();
    let g = INJECTION_IN_PATH;
    let calls: Vec<(reqwest::Method, String, Option<serde_json::Value>)> = vec![
        (reqwest::Method::GET, format!("/v1/groups/{g}"), None),
        (reqwest::Method::DELETE, format!("/v1/groups/{g}"), None),
        (reqwest::Method::POST, format!("/v1/groups/{g}/pull"), Some(serde_json::json!({"topic": "t"}))),
        (
            reqwest::Method::POST,
            format!("/v1/groups/{g}/commit"),
            Some(serde_json::json!({"offsets": [{"topic": "t", "partition": 0, "offset": 1}]})),
        ),
        (reqwest::Method::GET, format!("/v1/groups/{g}/resets"), None),
        (
            reqwest::Method::POST,
            format!("/v1/groups/{g}/resets/plan"),
            Some(serde_json::json!({"topic": "t", "spec": {"mode": "to-earliest"}})),
        ),
        (reqwest::Method::POST, format!("/v1/groups/{g}/resets/execute"), Some(plan.clone())),
        (reqwest::Method::POST, format!("/v1/groups/{g}/resets/undo-plan"), Some(serde_json::json!({}))),
        // The name inside the plan, sent to a valid group's path.
        (reqwest::Method::POST, "/v1/groups/g/resets/execute".into(), Some(plan)),
    ];
    for (method, path, body) in calls {
        let mut r = c.request(method.clone(), format!("{url}{path}"));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{method} {path}: {text}");
        assert!(text.contains("group name") || text.contains("was sent to group"), "{method} {path}: {text}");
    }
    assert!(h.engine.list_groups().is_empty(), "no group was created");
    let metrics = c.get(format!("{url}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("injected_metric"), "{metrics}");
    // The engine refuses the name itself too, whoever calls it.
    let mut forged = h.engine.plan_reset("g", "t", None, ResetSpec::ToEarliest).unwrap();
    forged.group = INJECTION.into();
    let e = h.engine.execute_reset(&forged, false).unwrap_err();
    assert!(matches!(e, depot::engine::EngineError::InvalidArgument(_)), "{e:?}");
    assert!(h.engine.list_groups().is_empty() && h.engine.reset_history(INJECTION).is_empty());
    h.shutdown().await;
}

/// Runs the real `depot` binary against a server; its exit status and stderr + stdout.
fn depot_cli(url: &str, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_depot"))
        .args(["--connect", url])
        .args(args)
        .output()
        .expect("run depot");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_never_become_paths_queries_or_fragments_of_a_url() {
    let h = Harness::remote().await;
    let url = h.url.clone().unwrap();
    h.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    h.engine.publish("t", vec![depot::engine::NewRecord::value("a")]).unwrap();
    h.engine.commit_offsets("billing", &[("t".into(), 0, 1)]).unwrap();
    let u = url.clone();
    let runs = tokio::task::spawn_blocking(move || {
        [
            depot_cli(&u, &["topic", "delete", "../groups/billing"]),
            depot_cli(&u, &["topic", "describe", "t?x=1"]),
            depot_cli(&u, &["topic", "describe", "t#frag"]),
            depot_cli(&u, &["group", "describe", "billing/../../topics/t"]),
        ]
    })
    .await
    .unwrap();
    for (ok, text) in runs {
        assert!(!ok, "succeeded: {text}");
        assert!(text.contains("name") && text.contains("is not allowed"), "{text}");
        assert!(!text.contains("deleted") && !text.contains("PARTITION"), "{text}");
    }
    assert_eq!(h.engine.describe_group("billing").unwrap().partitions[0].committed, Some(1), "billing survives");
    assert_eq!(h.engine.list_topics().len(), 1, "t survives");
    // The server refuses such names from any client, encoded or not.
    let addr = addr_of(&url);
    let raw = tokio::task::spawn_blocking(move || {
        [
            request(addr, "DELETE /v1/topics/..%2Fgroups%2Fbilling HTTP/1.1\r\nHost: localhost", ""),
            request(addr, "DELETE /v1/groups/%2e%2e HTTP/1.1\r\nHost: localhost", ""),
            request(addr, "GET /v1/topics/t%3Fx=1 HTTP/1.1\r\nHost: localhost", ""),
        ]
    })
    .await
    .unwrap();
    for (status, body) in raw {
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("is not allowed"), "{body}");
    }
    assert!(h.engine.describe_group("billing").is_ok());
    h.shutdown().await;
}
