//! Plans sent back to execute, against the real server on 127.0.0.1:0: a forged reset or replay
//! plan is refused with a 4xx naming the bad row and changes nothing; a replay copies exactly
//! what its plan counted, also into its own topic; a replay whose client goes away, or whose
//! server shuts down, stops.

mod common;

use common::*;
use depot::core::*;
use depot::engine::NewRecord;
use serde_json::{Value, json};
use std::time::Duration;

async fn post(url: &str, path: &str, body: &Value) -> (reqwest::StatusCode, String) {
    let resp = reqwest::Client::new().post(format!("{url}{path}")).json(body).send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// Every group's committed offsets, and the number of journaled resets.
type GroupState = (Vec<(String, Vec<Option<u64>>)>, usize);

/// What a reset may change: every group's committed offsets and the reset journal.
fn group_state(h: &Harness) -> GroupState {
    let groups = h.engine.list_groups();
    let offsets = groups.iter().map(|g| (g.name.clone(), g.partitions.iter().map(|p| p.committed).collect())).collect();
    (offsets, groups.iter().map(|g| h.engine.reset_history(&g.name).len()).sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_reset_plans_are_refused_and_change_nothing() {
    let h = Harness::remote().await;
    let url = h.url.clone().unwrap();
    h.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    h.engine.publish("t", (0..10).map(|i| NewRecord::value(format!("r{i}"))).collect()).unwrap();
    h.engine.commit_offsets("g", &[("t".into(), 0, 5)]).unwrap();
    h.engine.commit_offsets("other", &[("t".into(), 0, 2)]).unwrap();
    let plan = h.engine.plan_reset("g", "t", None, ResetSpec::ToEarliest).unwrap();
    let forge = |f: &dyn Fn(&mut ResetPlan)| {
        let mut p = plan.clone();
        f(&mut p);
        json!({ "plan": p })
    };
    let row = plan.rows[0].clone();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("past the end", forge(&|p| p.rows[0].after = 999_999), "offset 999999 is outside t/0"),
        ("partition 7", forge(&|p| p.rows[0].partition = 7), "no partition 7"),
        ("a duplicate partition", forge(&|p| p.rows.push(row.clone())), "appears more than once"),
        ("no rows", forge(&|p| p.rows.clear()), "no rows"),
        ("another group's name", forge(&|p| p.group = "other".into()), "was sent to group"),
        ("a missing topic", forge(&|p| p.topic = "nope".into()), "nope"),
        ("a stale before", forge(&|p| p.rows[0].before = Some(4)), "changed from 4 to 5"),
        ("an undo of nothing", forge(&|p| p.undo_of = Some(99)), "reset #99"),
    ];
    let before = group_state(&h);
    for (what, body, says) in &cases {
        let (status, text) = post(&url, "/v1/groups/g/resets/execute", body).await;
        assert!(status.is_client_error(), "{what}: {status} {text}");
        assert!(text.contains(says), "{what}: {text} should say {says:?}");
        assert_eq!(group_state(&h), before, "{what} changed something");
    }
    // The other group's plan sent to its own path: its `before` is not the other group's offset.
    let (status, text) = post(&url, "/v1/groups/other/resets/execute", &forge(&|p| p.group = "other".into())).await;
    assert_eq!(status, reqwest::StatusCode::CONFLICT, "{text}");
    assert_eq!(group_state(&h), before);

    // An undo must undo exactly the reset it names.
    let (status, text) = post(&url, "/v1/groups/g/resets/execute", &json!({ "plan": plan })).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{text}");
    let undo = h.engine.plan_undo("g").unwrap();
    assert_eq!(undo.rows[0].after, 5);
    let after_reset = group_state(&h);
    for (what, f) in [
        ("another target", (|p: &mut ResetPlan| p.rows[0].after = 9) as fn(&mut ResetPlan)),
        ("another reset", |p| p.undo_of = Some(7)),
    ] {
        let mut p = undo.clone();
        f(&mut p);
        let (status, text) = post(&url, "/v1/groups/g/resets/execute", &json!({ "plan": p })).await;
        assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{what}: {text}");
        assert!(text.contains("undo plan"), "{what}: {text}");
        assert_eq!(group_state(&h), after_reset, "{what} changed something");
    }
    let (status, text) = post(&url, "/v1/groups/g/resets/execute", &json!({ "plan": undo })).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{text}");
    let (status, text) = post(&url, "/v1/groups/g/resets/execute", &json!({ "plan": undo })).await;
    assert!(status.is_client_error() && text.contains("already undid"), "{status} {text}");
    assert_eq!(h.engine.describe_group("g").unwrap().partitions[0].committed, Some(5));
    h.shutdown().await;
}

fn end(h: &Harness, topic: &str) -> u64 {
    h.engine.describe_topic(topic).unwrap().partitions[0].end_offset
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_copies_exactly_what_its_plan_counted() {
    let h = Harness::remote().await;
    let url = h.url.clone().unwrap();
    h.engine.create_topic("r", TopicConfig::with_partitions(1)).unwrap();
    h.engine.publish("r", vec![NewRecord::value("seed")]).unwrap();
    let fresh = h.engine.plan_replay("r", None, ReplayRange::Offsets { from: 0, to: u64::MAX }, None).unwrap();
    assert_eq!(fresh.total, 1);
    let forge = |f: &dyn Fn(&mut ReplayPlan)| {
        let mut p = fresh.clone();
        f(&mut p);
        json!({ "plan": p })
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("to = u64::MAX", forge(&|p| p.rows[0].to = u64::MAX), "holds"),
        (
            "to = u64::MAX, counted",
            forge(&|p| {
                p.rows[0].to = u64::MAX;
                p.rows[0].count = u64::MAX;
                p.total = u64::MAX;
            }),
            "outside r/0 now",
        ),
        ("partition 7", forge(&|p| p.rows[0].partition = 7), "no partition 7"),
        ("a duplicate partition", forge(&|p| p.rows.push(p.rows[0].clone())), "more than once"),
        ("a wrong total", forge(&|p| p.total = 1000), "add up to 1"),
        (
            "rows outside the range",
            forge(&|p| p.range = ReplayRange::Offsets { from: 5, to: 9 }),
            "outside the plan's range",
        ),
    ];
    for (what, body, says) in &cases {
        let (status, text) = post(&url, "/v1/replays/execute", body).await;
        assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{what}: {text}");
        assert!(text.contains(says), "{what}: {text} should say {says:?}");
        assert_eq!(end(&h, "r"), 1, "{what} appended");
    }
    let (status, text) = post(&url, "/v1/replays/execute", &json!({ "plan": fresh })).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["appended"], json!(1));
    assert_eq!(end(&h, "r"), 2, "a replay into its own topic copies what it counted, once");
    let copy = h.engine.fetch("r", 0, 1, 10, 1 << 20).unwrap();
    assert_eq!(copy.len(), 1);
    assert_eq!(copy[0].headers.len(), 4, "one set of origin headers: topic, partition, offset, timestamp");
    // A bigger one into its own topic: exactly the planned 2 × 1,000, never its own copies.
    h.engine.publish("r", (0..998).map(|i| NewRecord::value(format!("v{i}"))).collect()).unwrap();
    let plan = h.engine.plan_replay("r", None, ReplayRange::Offsets { from: 0, to: 1000 }, None).unwrap();
    let (status, text) = post(&url, "/v1/replays/execute", &json!({ "plan": plan })).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{text}");
    assert_eq!(end(&h, "r"), 2000);
    h.shutdown().await;
}

/// A server with `n` records in topic `big`, and a replay of all of them into `copy` under way
/// (the copy has begun), its client a task.
async fn replay_under_way(n: u64) -> (Harness, tokio::task::JoinHandle<(reqwest::StatusCode, String)>) {
    let h = Harness::remote().await;
    let url = h.url.clone().unwrap();
    h.engine.create_topic("big", TopicConfig::with_partitions(1)).unwrap();
    h.engine.create_topic("copy", TopicConfig::with_partitions(1)).unwrap();
    for chunk in 0..n / 10_000 {
        h.engine.publish("big", (0..10_000).map(|i| NewRecord::value(format!("{chunk}-{i}"))).collect()).unwrap();
    }
    let plan = h.engine.plan_replay("big", None, ReplayRange::Offsets { from: 0, to: n }, Some("copy")).unwrap();
    assert_eq!(plan.total, n);
    let body = json!({ "plan": plan });
    let client = tokio::spawn(async move { post(&url, "/v1/replays/execute", &body).await });
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    while end(&h, "copy") == 0 {
        assert!(!client.is_finished(), "the replay ended before it was seen copying: {:?}", client.await);
        tick.tick().await;
    }
    (h, client)
}

/// The end offset of `copy` once it has stopped growing: unchanged over 20 looks 10 ms apart (a
/// running copy appends a batch of 1,000 every few milliseconds).
async fn settled_copy(h: &Harness) -> u64 {
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let (mut last, mut same) = (end(h, "copy"), 0);
    while same < 20 {
        tick.tick().await;
        let now = end(h, "copy");
        (last, same) = (now, if now == last { same + 1 } else { 0 });
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_stops_when_its_client_goes_away() {
    let n = 1_000_000u64;
    let (h, client) = replay_under_way(n).await;
    client.abort();
    let last = settled_copy(&h).await;
    assert!(last < n, "the replay ran to the end ({last} records) after its client left");
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_stops_when_its_server_shuts_down() {
    let n = 2_000_000u64;
    let (mut h, client) = replay_under_way(n).await;
    let start = std::time::Instant::now();
    h.stop_server().await;
    assert!(start.elapsed() < Duration::from_secs(5), "the shutdown took {:?}", start.elapsed());
    let (status, text) = client.await.unwrap();
    assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(text.contains("shutting down"), "{text}");
    let last = settled_copy(&h).await;
    assert!(last < n, "the replay ran to the end ({last} records) after its server stopped");
    h.shutdown().await;
}
