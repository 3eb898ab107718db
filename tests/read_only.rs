//! Read-only, whatever serves it: the factory's `ReadOnly` wrapper refuses every write — create and
//! delete topic, publish, pull (it joins the group and commits), commit, delete group, execute a
//! reset, execute a replay — on the embedded engine, on a depot server over HTTP, and on Kafka,
//! NATS and Redis; nothing changes (topic list, end offsets, committed offsets); dry runs (reset,
//! undo and replay plans) and reads still work. A read-only server refuses the same writes itself.
//!
//! The external engines' tests are ignored unless their server is given, with the variables of
//! tests/engine_*.rs (`.ci/run` starts the servers and sets them):
//! `DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379
//! DEPOT_TEST_KAFKA_BROKERS=127.0.0.1:9092 cargo test --test read_only -- --ignored`

#[macro_use]
mod common;

use common::{Harness, out, server_env};
use depot::backend::context::{self, Context};
use depot::backend::open::{Opened, SyncMode, Target, open};
use depot::backend::read_only::Why;
use depot::backend::*;
use depot::core::*;
use depot::server::ServeOptions;
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// A name no earlier run on the same server used (valid on every engine).
fn unique(prefix: &str) -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_000_000;
    format!("{prefix}-{}-{t}", std::process::id())
}

/// What a user would see change: every topic with its end offsets, and the group's commits.
async fn state_of(b: &dyn Backend, group: &str) -> (Vec<(String, Vec<u64>)>, Vec<(String, u32, Option<u64>)>) {
    let mut topics: Vec<(String, Vec<u64>)> = b
        .list_topics()
        .await
        .expect("list topics")
        .into_iter()
        .map(|t| (t.name, t.partitions.iter().map(|p| p.end_offset).collect()))
        .collect();
    topics.sort();
    let g = b.describe_group(group).await.expect("describe the group");
    let committed = g.partitions.into_iter().map(|p| (p.topic, p.partition, p.committed)).collect();
    (topics, committed)
}

/// A topic of three records, and a group that committed the first two.
async fn seed(rw: &dyn Backend, topic: &str, group: &str) {
    rw.create_topic(topic, TopicConfig::with_partitions(1)).await.expect("create the topic");
    let records = ["a", "b", "c"].map(|v| OutRecord { partition: Some(0), ..out(v) }).to_vec();
    rw.publish(topic, PublishRequest { records, producer: None }).await.expect("publish");
    let got = rw.pull(group, PullRequest { topic: topic.into(), max: 2, commit: true, wait_ms: 5_000 }).await;
    assert_eq!(got.expect("pull").messages.len(), 2, "the group committed two records");
}

/// Every write through `ro` gets `why`'s refusal and changes nothing; plans and reads still work.
async fn refuses_every_write(ro: &dyn Backend, topic: &str, group: &str, why: &Why) {
    let before = state_of(ro, group).await;
    assert!(before.0.iter().any(|(t, _)| t == topic), "reads pass through: {before:?}");
    let reset = ResetRequest { topic: topic.into(), partitions: vec![], spec: ResetSpec::ToEarliest };
    let plan = ro.plan_reset(group, reset).await.expect("a reset plan is a dry run");
    let replay = ReplayRequest {
        source: topic.into(),
        partitions: vec![],
        range: ReplayRange::Offsets { from: 0, to: u64::MAX },
        target: None,
    };
    let replay = ro.plan_replay(replay).await.expect("a replay plan is a dry run");
    assert!(replay.total > 0, "{replay:?}");
    // No reset to undo yet, or no journal on this engine: either way the engine answers.
    if let Err(BackendError::Refused(m)) = ro.plan_undo(group).await {
        panic!("an undo plan is a dry run, yet it was refused: {m}");
    }
    let end = plan.rows[0].end_offset;
    let one = PublishRequest { records: vec![out("x")], producer: None };
    let pull = PullRequest { topic: topic.into(), max: 10, commit: true, wait_ms: 0 };
    let commit = vec![CommitOffset { topic: topic.into(), partition: 0, offset: end }];
    let new_topic = format!("{topic}-new");
    let writes: Vec<(&str, BResult<()>)> = vec![
        ("create topic", ro.create_topic(&new_topic, TopicConfig::with_partitions(1)).await.map(drop)),
        ("delete topic", ro.delete_topic(topic).await),
        ("publish", ro.publish(topic, one).await.map(drop)),
        ("pull", ro.pull(group, pull).await.map(drop)),
        ("commit", ro.commit(group, commit).await),
        ("delete group", ro.delete_group(group).await),
        ("execute reset", ro.execute_reset(plan, true).await.map(drop)),
        ("execute replay", ro.execute_replay(replay).await.map(drop)),
    ];
    for (what, got) in writes {
        assert_eq!(got, Err(why.refusal()), "{what}");
    }
    assert_eq!(state_of(ro, group).await, before, "nothing changed");
    assert!(matches!(ro.describe_topic(&new_topic).await, Err(BackendError::NotFound(_))));
    assert!(ro.capabilities().await.expect("capabilities").read_only, "the console greys out writes from this");
}

fn context_of(toml_text: &str) -> Context {
    let tables: BTreeMap<String, toml::Table> = toml::from_str(toml_text).expect("a context table");
    let mut all = context::parse(&tables, &|_| None).expect("a valid context");
    all.remove("it").expect("the context is named it")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_engine_refuses_writes_under_the_flag_and_a_read_only_context() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::Data { dir: dir.path().into(), sync: SyncMode::Never, token: None };
    let rw = open(&target, false).await.expect("open the engine");
    seed(rw.backend.as_ref(), "t", "g").await;
    rw.engine.expect("an engine of its own").close().unwrap();

    let Opened { backend, engine, read_only, .. } = open(&target, true).await.expect("open read-only");
    assert_eq!(read_only, Some(Why::Flag));
    refuses_every_write(backend.as_ref(), "t", "g", &Why::Flag).await;
    drop(backend);
    engine.expect("an engine of its own").close().unwrap();

    let c = context_of(&format!("[it]\nkind = \"depot\"\ndata = \"{}\"\nread_only = true\n", dir.path().display()));
    let opened = open(&Target::Context { context: c, sync: SyncMode::Never }, false).await.expect("open the context");
    let why = Why::Context("it".into());
    assert_eq!(opened.read_only.as_ref(), Some(&why));
    refuses_every_write(opened.backend.as_ref(), "t", "g", &why).await;
    drop(opened.backend);
    opened.engine.expect("an engine of its own").close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_depot_server_refuses_writes_under_the_flag_and_when_it_is_read_only_itself() {
    let h = Harness::remote().await;
    seed(h.b(), "t", "g").await;
    let url = h.url.clone().unwrap();
    let ro = open(&Target::Remote { url, token: None }, true).await.expect("a remote backend");
    refuses_every_write(ro.backend.as_ref(), "t", "g", &Why::Flag).await;
    h.finish().await;

    // The server itself read-only: no flag here, the server says no (a 403 naming the server).
    let h = Harness::remote_with(ServeOptions { read_only: true, ..ServeOptions::default() }, None).await;
    let engine_side = depot::backend::embedded::Embedded::new(h.engine.clone());
    seed(&engine_side, "t", "g").await;
    refuses_every_write(h.b(), "t", "g", &Why::Server).await;
    h.finish().await;
}

/// Seeds through a writable backend of `context`, checks a read-only one, and cleans up.
async fn external(context: Context) {
    let target = Target::Context { context, sync: SyncMode::Never };
    let (topic, group) = (unique("ro"), unique("ro-g"));
    let rw = open(&target, false).await.expect("connect");
    seed(rw.backend.as_ref(), &topic, &group).await;
    let ro = open(&target, true).await.expect("connect read-only");
    refuses_every_write(ro.backend.as_ref(), &topic, &group, &Why::Flag).await;
    if let Err(e) = rw.backend.delete_group(&group).await {
        eprintln!("cleanup: deleting group {group}: {e}");
    }
    if let Err(e) = rw.backend.delete_topic(&topic).await {
        eprintln!("cleanup: deleting topic {topic}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn nats_refuses_writes_when_read_only() {
    let url = server_env("DEPOT_TEST_NATS_URL", "a nats-server with JetStream");
    external(context_of(&format!("[it]\nkind = \"nats\"\nurl = \"{url}\"\n"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server 7+: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn redis_refuses_writes_when_read_only() {
    let url = server_env("DEPOT_TEST_REDIS_URL", "a redis-server 7 or newer");
    external(context_of(&format!("[it]\nkind = \"redis\"\nurl = \"{url}\"\n"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka-protocol broker: set DEPOT_TEST_KAFKA_BROKERS=127.0.0.1:19092 (.ci/run starts tansu)"]
async fn kafka_refuses_writes_when_read_only() {
    let brokers = server_env("DEPOT_TEST_KAFKA_BROKERS", "a Kafka-protocol broker");
    // One record per batch: tansu 0.6 misreports the end of multi-record batches.
    external(context_of(&format!("[it]\nkind = \"kafka\"\nbrokers = \"{brokers}\"\nbatch_records = 1\n"))).await;
}
