//! The Redis Streams backend against a real redis-server 7: the mapping of streams, entries,
//! consumer groups and resets onto depot's vocabulary, checked from both sides — through depot
//! and with Redis's own client (`redis-cli` or the `redis` crate).
//!
//! Every test that needs a server is `#[ignore]`d with the reason, so a plain `cargo test` lists
//! them as ignored (never as passed). Run them with a server:
//! `DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 cargo test --test engine_redis -- --ignored`

#[macro_use]
mod common;

use ::redis::AsyncCommands;
use ::redis::streams::{StreamReadOptions, StreamReadReply};
use depot::backend::redis::{RedisConfig, RedisStreams, connect};
use depot::backend::*;
use depot::core::*;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

fn url() -> String {
    common::server_env("DEPOT_TEST_REDIS_URL", "a real redis-server 7")
}

/// The shared backend conformance checks (tests/common/conformance.rs), against Redis.
mod conformance {
    use super::*;
    conformance_suite!(
        #[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
        "redis",
        common::External(std::sync::Arc::new(backend().await))
    );
}

async fn backend() -> RedisStreams {
    connect(&RedisConfig { url: url() }).await.unwrap_or_else(|e| panic!("connecting to {}: {e}", url()))
}

/// Redis's own client, for checking what depot did from the engine's side.
async fn raw() -> ::redis::aio::MultiplexedConnection {
    ::redis::Client::open(url()).unwrap().get_multiplexed_async_connection().await.unwrap()
}

/// A name no other test (or earlier run) uses.
fn name(base: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    format!("dt{:x}{}-{base}", t ^ (u64::from(std::process::id()) << 40), N.fetch_add(1, Ordering::Relaxed))
}

fn text(m: &Message) -> String {
    depot::core::display_value(m.value.as_ref())
}

fn offsets(ms: &[Message]) -> Vec<u64> {
    ms.iter().map(|m| m.offset).collect()
}

async fn publish(b: &RedisStreams, topic: &str, values: &[&str]) -> Vec<Ack> {
    let records = values.iter().map(|v| OutRecord::text(v)).collect();
    b.publish(topic, PublishRequest { records, producer: None }).await.unwrap()
}

fn pull_req(topic: &str, max: usize, commit: bool) -> PullRequest {
    PullRequest { topic: topic.into(), max, commit, wait_ms: 0 }
}

fn field(e: &::redis::streams::StreamId, f: &str) -> Vec<u8> {
    match e.map.get(f) {
        Some(::redis::Value::BulkString(b)) => b.clone(),
        other => panic!("field {f} of {}: {other:?}", e.id),
    }
}

/// What a plain consumer of the group reads next (`XREADGROUP … >`), as values.
async fn engine_consumer_reads(topic: &str, group: &str, consumer: &str, count: usize) -> Vec<String> {
    let mut con = raw().await;
    let opts = StreamReadOptions::default().group(group, consumer).count(count);
    let r: Option<StreamReadReply> = con.xread_options(&[topic], &[">"], &opts).await.unwrap();
    r.map(|r| r.keys.into_iter().flat_map(|k| k.ids).map(|e| String::from_utf8(field(&e, "value")).unwrap()).collect())
        .unwrap_or_default()
}

async fn cleanup(b: &RedisStreams, topics: &[&str], groups: &[&str]) {
    for t in topics {
        let _ = b.delete_topic(t).await;
    }
    let mut con = raw().await;
    for g in groups {
        let _: () = con.del(format!("depot:reset-journal:{g}")).await.unwrap();
    }
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_and_named_quickly() {
    let started = Instant::now();
    let e = connect(&RedisConfig { url: "redis://u:secret@127.0.0.1:1".into() }).await.unwrap_err();
    assert!(matches!(e, BackendError::Unavailable(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("127.0.0.1:1"), "names the server: {msg}");
    assert!(!msg.contains("secret"), "never shows the password: {msg}");
    assert!(started.elapsed() < Duration::from_secs(8), "a dead server never hangs");
    let e = connect(&RedisConfig { url: "http://nope".into() }).await.unwrap_err();
    assert!(matches!(e, BackendError::BadRequest(_)), "{e:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // Accepts connections and never says a word.
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    let started = Instant::now();
    let e = connect(&RedisConfig { url: format!("redis://{addr}") }).await.unwrap_err();
    assert!(matches!(e, BackendError::Unavailable(_)) && e.to_string().contains(&addr.to_string()), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "gave up after {:?}", started.elapsed());
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn wrong_credentials_are_unauthorized() {
    let u = url();
    let with_user = u.replacen("redis://", "redis://nobody-here:wrong@", 1);
    let e = connect(&RedisConfig { url: with_user }).await.unwrap_err();
    assert!(matches!(e, BackendError::Unauthorized(_)), "{e:?}");
    assert!(!e.to_string().contains("wrong@"), "{e}");
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn topics_are_streams_created_listed_described_and_deleted() {
    let b = backend().await;
    let t = name("orders");
    let info = b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    assert_eq!(info.partitions.len(), 1);
    assert_eq!((info.partitions[0].log_start, info.partitions[0].end_offset), (0, 0));
    let mut con = raw().await;
    let kind: String = ::redis::cmd("TYPE").arg(&t).query_async(&mut con).await.unwrap();
    assert_eq!(kind, "stream", "a topic is a stream key");
    let groups: ::redis::streams::StreamInfoGroupsReply = con.xinfo_groups(&t).await.unwrap();
    assert!(groups.groups.is_empty(), "the throw-away group used to create it is gone");
    assert!(b.list_topics().await.unwrap().iter().any(|x| x.name == t));
    let d = b.describe_topic(&t).await.unwrap();
    assert_eq!(d.backlog(), 0);
    assert!(d.partitions[0].size_bytes > 0, "MEMORY USAGE of the key");

    let dup = b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap_err();
    assert!(matches!(dup, BackendError::Conflict(_)), "{dup:?}");
    let bad = b.create_topic("no/slashes here", TopicConfig::with_partitions(1)).await.unwrap_err();
    assert!(matches!(bad, BackendError::BadRequest(_)), "{bad:?}");
    let many = b.create_topic(&name("many"), TopicConfig::with_partitions(3)).await.unwrap_err();
    assert!(matches!(many, BackendError::BadRequest(_)) && many.to_string().contains("one partition"), "{many:?}");
    let zero = b.create_topic(&name("zero"), TopicConfig::with_partitions(0)).await.unwrap_err();
    assert!(matches!(zero, BackendError::BadRequest(_)), "{zero:?}");
    let retention = TopicConfig { retention_ms: Some(60_000), ..TopicConfig::with_partitions(1) };
    let e = b.create_topic(&name("ret"), retention).await.unwrap_err();
    assert!(matches!(e, BackendError::Unsupported(_)) && e.to_string().contains("XTRIM"), "{e:?}");

    // Keys of other types are neither topics nor deletable through depot.
    let s = name("plain-string");
    let _: () = con.set(&s, "x").await.unwrap();
    assert!(!b.list_topics().await.unwrap().iter().any(|x| x.name == s));
    assert!(matches!(b.describe_topic(&s).await, Err(BackendError::NotFound(_))));
    assert!(matches!(b.delete_topic(&s).await, Err(BackendError::Refused(_))));
    assert!(matches!(b.create_topic(&s, TopicConfig::with_partitions(1)).await, Err(BackendError::Conflict(_))));
    let _: () = con.del(&s).await.unwrap();

    b.delete_topic(&t).await.unwrap();
    let exists: bool = con.exists(&t).await.unwrap();
    assert!(!exists, "deleting is DEL");
    let gone = b.describe_topic(&t).await.unwrap_err();
    assert!(matches!(gone, BackendError::NotFound(_)) && gone.to_string().contains(&t), "{gone:?}");
    assert!(matches!(b.delete_topic(&t).await, Err(BackendError::NotFound(_))));
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn publish_with_key_headers_and_binary_value_peeks_back_byte_for_byte() {
    let b = backend().await;
    let t = name("bin");
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let binary = Payload(bytes::Bytes::from_static(&[0, 159, 146, 150, 255, b'\r', b'\n']));
    let req = PublishRequest {
        records: vec![
            OutRecord {
                key: Some(Payload::text("customer-7")),
                value: Some(Payload::text("first")),
                headers: vec![Header::text("trace", "abc"), Header { name: "raw".into(), value: Some(binary.clone()) }],
                partition: Some(0),
            },
            OutRecord { value: Some(binary.clone()), ..OutRecord::default() },
        ],
        producer: None,
    };
    let acks = b.publish(&t, req).await.unwrap();
    assert_eq!(offsets_of_acks(&acks), vec![0, 1]);
    let got = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Earliest, max: 10 }).await.unwrap();
    assert_eq!(offsets(&got), vec![0, 1]);
    assert_eq!(got[0].key, Some(Payload::text("customer-7")));
    assert_eq!(text(&got[0]), "first");
    assert_eq!(
        got[0].headers,
        vec![Header::text("trace", "abc"), Header { name: "raw".into(), value: Some(binary.clone()) }]
    );
    assert_eq!(got[1].value, Some(binary.clone()), "binary values survive byte for byte");
    assert_eq!(got[1].key, None);
    assert!(got[1].headers.is_empty());

    // The entry as Redis stores it: fields key, value and h:<header>.
    let mut con = raw().await;
    let r: ::redis::streams::StreamRangeReply = con.xrange_all(&t).await.unwrap();
    assert_eq!(r.ids.len(), 2);
    assert_eq!(field(&r.ids[0], "key"), b"customer-7");
    assert_eq!(field(&r.ids[0], "value"), b"first");
    assert_eq!(field(&r.ids[0], "h:trace"), b"abc");
    assert_eq!(field(&r.ids[1], "value"), binary.0.to_vec());
    let ms: i64 = r.ids[0].id.split('-').next().unwrap().parse().unwrap();
    assert_eq!(got[0].timestamp, ms, "the timestamp is the id's milliseconds");

    let last = b.peek(&t, PeekRequest { partition: None, from: PeekFrom::Latest(1), max: 10 }).await.unwrap();
    assert_eq!(offsets(&last), vec![1]);
    let from1 = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Offset(1), max: 10 }).await.unwrap();
    assert_eq!(offsets(&from1), vec![1]);
    let at_end = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Offset(2), max: 10 }).await.unwrap();
    assert!(at_end.is_empty());
    let beyond = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Offset(99), max: 1 }).await.unwrap_err();
    assert!(matches!(beyond, BackendError::BadRequest(_)) && beyond.to_string().contains("0..2"), "{beyond:?}");
    let nopart = b.peek(&t, PeekRequest { partition: Some(7), from: PeekFrom::Earliest, max: 1 }).await.unwrap_err();
    assert!(matches!(nopart, BackendError::NotFound(_)), "{nopart:?}");

    let idem =
        PublishRequest { records: vec![OutRecord::text("x")], producer: Some(ProducerTag { id: 1, sequence: 0 }) };
    let e = b.publish(&t, idem).await.unwrap_err();
    assert!(matches!(e, BackendError::Unsupported(_)) && e.to_string().contains("idempotent"), "{e:?}");
    let bad_part =
        PublishRequest { records: vec![OutRecord { partition: Some(3), ..OutRecord::text("x") }], producer: None };
    let e = b.publish(&t, bad_part).await.unwrap_err();
    assert!(matches!(e, BackendError::BadRequest(_)) && e.to_string().contains("0..1"), "{e:?}");
    assert!(matches!(b.publish(&t, PublishRequest::default()).await, Err(BackendError::BadRequest(_))));
    let missing = name("missing");
    let e =
        b.publish(&missing, PublishRequest { records: vec![OutRecord::text("x")], producer: None }).await.unwrap_err();
    assert!(matches!(e, BackendError::NotFound(_)) && e.to_string().contains(&missing), "{e:?}");
    let exists: bool = con.exists(&missing).await.unwrap();
    assert!(!exists, "publishing to a missing topic creates nothing (NOMKSTREAM)");
    assert_eq!(b.describe_topic(&t).await.unwrap().partitions[0].end_offset, 2, "failed publishes add nothing");
    cleanup(&b, &[&t], &[]).await;
}

fn offsets_of_acks(acks: &[Ack]) -> Vec<u64> {
    acks.iter().map(|a| a.offset).collect()
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn offsets_are_dense_ordinals_that_survive_trimming() {
    let b = backend().await;
    let t = name("dense");
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let values: Vec<String> = (0..2500).map(|i| format!("v{i}")).collect();
    let mut acks = Vec::new();
    for chunk in values.chunks(500) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        acks.extend(publish(&b, &t, &refs).await);
    }
    assert_eq!(offsets_of_acks(&acks), (0..2500).collect::<Vec<_>>(), "acks carry ordinals");
    // Far from both ends: walks of several pages.
    for o in [0u64, 1, 999, 1000, 1234, 1999, 2499] {
        let got = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Offset(o), max: 2 }).await.unwrap();
        assert_eq!(got[0].offset, o);
        assert_eq!(text(&got[0]), format!("v{o}"), "offset {o} is the {o}-th entry");
    }
    let fetched = b.fetch(&t, 0, 1500, 3, 0).await.unwrap();
    assert_eq!(fetched.iter().map(text).collect::<Vec<_>>(), vec!["v1500", "v1501", "v1502"]);

    // Trimming at the head moves the log start; offsets of what remains do not change.
    let mut con = raw().await;
    let _: usize = con.xtrim(&t, ::redis::streams::StreamMaxlen::Equals(1000)).await.unwrap();
    let d = b.describe_topic(&t).await.unwrap();
    assert_eq!((d.partitions[0].log_start, d.partitions[0].end_offset), (1500, 2500));
    let first = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Earliest, max: 1 }).await.unwrap();
    assert_eq!((first[0].offset, text(&first[0])), (1500, "v1500".to_string()));
    let mid = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Offset(2100), max: 1 }).await.unwrap();
    assert_eq!(text(&mid[0]), "v2100");
    let trimmed = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Offset(10), max: 1 }).await.unwrap_err();
    assert!(matches!(trimmed, BackendError::BadRequest(_)) && trimmed.to_string().contains("1500..2500"), "{trimmed}");
    let more = publish(&b, &t, &["after-trim"]).await;
    assert_eq!(more[0].offset, 2500, "new entries continue the count");
    let latest = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Latest(2), max: 10 }).await.unwrap();
    assert_eq!(offsets(&latest), vec![2499, 2500]);
    assert_eq!(text(&latest[1]), "after-trim");
    cleanup(&b, &[&t], &[]).await;
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn peek_by_time_uses_the_ids_milliseconds() {
    let b = backend().await;
    let t = name("time");
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    publish(&b, &t, &["a", "b"]).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    publish(&b, &t, &["c", "d"]).await;
    let all = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Earliest, max: 10 }).await.unwrap();
    let ts_c = all[2].timestamp;
    assert!(ts_c > all[1].timestamp);
    let from_c = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Time(ts_c), max: 10 }).await.unwrap();
    assert_eq!(from_c.iter().map(text).collect::<Vec<_>>(), vec!["c", "d"]);
    assert_eq!(from_c[0].offset, 2);
    let between = b
        .peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Time(all[1].timestamp + 1), max: 1 })
        .await
        .unwrap();
    assert_eq!(between[0].offset, 2, "the first entry at or after the time");
    let early = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Time(0), max: 1 }).await.unwrap();
    assert_eq!(early[0].offset, 0);
    let future =
        b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Time(ts_c + 3_600_000), max: 5 }).await.unwrap();
    assert!(future.is_empty());
    cleanup(&b, &[&t], &[]).await;
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn long_poll_fetch_is_woken_by_a_publish() {
    let b = backend().await;
    let t = name("lp");
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    publish(&b, &t, &["old"]).await;
    let started = Instant::now();
    let empty = b.fetch(&t, 0, 1, 10, 50).await.unwrap();
    assert!(empty.is_empty(), "nothing arrives: empty after the wait");
    assert!(started.elapsed() < Duration::from_secs(2));
    let started = Instant::now();
    let (got, _) = tokio::join!(b.fetch(&t, 0, 1, 10, 10_000), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        publish(&b, &t, &["wake"]).await
    });
    let got = got.unwrap();
    assert_eq!(got.iter().map(text).collect::<Vec<_>>(), vec!["wake"]);
    assert_eq!(got[0].offset, 1);
    assert!(started.elapsed() < Duration::from_secs(5), "woken by the publish, not the timeout");
    // Other calls are not stuck behind a blocked read.
    let (slow, quick) = tokio::join!(b.fetch(&t, 0, 2, 10, 1_500), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t0 = Instant::now();
        b.describe_topic(&t).await.unwrap();
        t0.elapsed()
    });
    assert!(slow.unwrap().is_empty());
    assert!(quick < Duration::from_millis(1_000), "describe ran while a fetch was blocked: {quick:?}");
    let e = b.fetch(&t, 0, 5, 1, 0).await.unwrap_err();
    assert!(matches!(e, BackendError::BadRequest(_)) && e.to_string().contains("0..2"), "{e:?}");
    cleanup(&b, &[&t], &[]).await;
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn pulls_commit_count_redeliveries_and_show_lag_committed_and_members() {
    let b = backend().await;
    let (t, g) = (name("jobs"), name("workers"));
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let values: Vec<String> = (0..10).map(|i| format!("job-{i}")).collect();
    publish(&b, &t, &values.iter().map(String::as_str).collect::<Vec<_>>()).await;

    let first = b.pull(&g, pull_req(&t, 4, true)).await.unwrap();
    assert_eq!(offsets(&first.messages), vec![0, 1, 2, 3]);
    assert_eq!(first.offsets, vec![CommitOffset { topic: t.clone(), partition: 0, offset: 4 }]);
    let gi = b.describe_group(&g).await.unwrap();
    assert_eq!(gi.partitions[0].committed, Some(4));
    assert_eq!((gi.total_lag(), gi.redeliveries()), (6, 0));
    assert!(gi.max_lag_ms() > 0 && gi.max_lag_ms() < 60_000, "age of job-4: {}", gi.max_lag_ms());
    assert_eq!(gi.state, "empty", "depot's one-off pull is not a live member");
    assert!(gi.members.is_empty(), "{:?}", gi.members);

    // Without commit the entries stay pending: delivered, not committed.
    let peeked = b.pull(&g, pull_req(&t, 3, false)).await.unwrap();
    assert_eq!(offsets(&peeked.messages), vec![4, 5, 6]);
    let gi = b.describe_group(&g).await.unwrap();
    assert_eq!(gi.total_lag(), 6, "not committed: lag unchanged");
    assert_eq!(gi.partitions[0].committed, Some(4));
    let m = gi.members.iter().find(|m| m.member_id == "depot-pull").expect("depot-pull holds the pending entries");
    assert_eq!(m.client_id, "3 in flight");
    assert_eq!(m.assignment, vec![(t.clone(), 0)]);
    let mut con = raw().await;
    let pending: ::redis::streams::StreamPendingReply = con.xpending(&t, &g).await.unwrap();
    assert_eq!(pending.count(), 3, "XPENDING agrees");

    // A later pull delivers them again, and their delivery count goes up.
    let again = b.pull(&g, pull_req(&t, 3, false)).await.unwrap();
    assert_eq!(offsets(&again.messages), vec![4, 5, 6], "redelivered");
    assert_eq!(again.messages.iter().map(text).collect::<Vec<_>>(), vec!["job-4", "job-5", "job-6"]);
    let gi = b.describe_group(&g).await.unwrap();
    assert_eq!(gi.redeliveries(), 3);
    assert_eq!(gi.partitions[0].committed, Some(4));

    // Commit acknowledges them; it never moves backwards.
    b.commit(&g, again.offsets.clone()).await.unwrap();
    let gi = b.describe_group(&g).await.unwrap();
    assert_eq!((gi.total_lag(), gi.partitions[0].committed, gi.redeliveries()), (3, Some(7), 0));
    let pending: ::redis::streams::StreamPendingReply = con.xpending(&t, &g).await.unwrap();
    assert_eq!(pending.count(), 0, "committing acknowledged (XACK) the pending entries");
    let back = b.commit(&g, vec![CommitOffset { topic: t.clone(), partition: 0, offset: 1 }]).await;
    assert!(matches!(back, Err(BackendError::Refused(_))), "commits only move forward: {back:?}");
    let past = b.commit(&g, vec![CommitOffset { topic: t.clone(), partition: 0, offset: 99 }]).await;
    assert!(matches!(past, Err(BackendError::BadRequest(_))), "{past:?}");

    // A commit ahead of what was delivered moves the group's position (SETID … ENTRIESREAD).
    b.commit(&g, vec![CommitOffset { topic: t.clone(), partition: 0, offset: 8 }]).await.unwrap();
    let gi = b.describe_group(&g).await.unwrap();
    assert_eq!((gi.total_lag(), gi.partitions[0].committed), (2, Some(8)));
    let rows: ::redis::streams::StreamInfoGroupsReply = con.xinfo_groups(&t).await.unwrap();
    let row = rows.groups.iter().find(|r| r.name == g).unwrap();
    assert_eq!((row.entries_read, row.lag), (Some(8), Some(2)), "Redis's own counters agree");

    // A consumer of the engine's own is a live member: the group is stable.
    assert_eq!(engine_consumer_reads(&t, &g, "worker-1", 1).await, vec!["job-8"]);
    let gi = b.describe_group(&g).await.unwrap();
    assert_eq!(gi.state, "stable");
    let w = gi.members.iter().find(|m| m.member_id == "worker-1").expect("worker-1 is a member");
    assert_eq!(w.client_id, "1 in flight");
    assert!(w.last_seen_ms < 30_000);
    assert_eq!(gi.partitions[0].owner.as_deref(), Some("worker-1"));
    let e = b.commit(&g, vec![CommitOffset { topic: t.clone(), partition: 0, offset: 9 }]).await.unwrap_err();
    assert!(matches!(e, BackendError::Refused(_)) && e.to_string().contains("worker-1"), "{e:?}");
    let e = b.delete_group(&g).await.unwrap_err();
    assert!(matches!(e, BackendError::Refused(_)), "{e:?}");

    let rest = b.pull(&g, pull_req(&t, 100, true)).await.unwrap();
    assert_eq!(offsets(&rest.messages), vec![9]);
    let none = b.pull(&g, pull_req(&t, 5, true)).await.unwrap();
    assert!(none.messages.is_empty() && none.offsets.is_empty());
    assert!(b.list_groups().await.unwrap().iter().any(|x| x.name == g && x.partitions[0].topic == t));
    assert!(matches!(b.describe_group(&name("nobody")).await, Err(BackendError::NotFound(_))));
    cleanup(&b, &[&t], &[&g]).await;
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn a_pull_after_a_reset_backwards_delivers_each_entry_once() {
    let b = backend().await;
    let (t, g) = (name("back"), name("rewinders"));
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    publish(&b, &t, &["0", "1", "2", "3", "4", "5"]).await;
    b.pull(&g, pull_req(&t, 4, true)).await.unwrap();
    let pending = b.pull(&g, pull_req(&t, 2, false)).await.unwrap();
    assert_eq!(offsets(&pending.messages), vec![4, 5]);
    let plan = b
        .plan_reset(&g, ResetRequest { topic: t.clone(), partitions: vec![], spec: ResetSpec::ToOffset(2) })
        .await
        .unwrap();
    assert_eq!((plan.rows[0].before, plan.rows[0].after), (Some(4), 2), "4 and 5 are pending: committed is 4");
    b.execute_reset(plan, false).await.unwrap();
    // 4 and 5 are both pending for depot-pull and after the group's new position.
    let got = b.pull(&g, pull_req(&t, 10, true)).await.unwrap();
    assert_eq!(offsets(&got.messages), vec![2, 3, 4, 5]);
    assert_eq!(got.messages.iter().map(text).collect::<Vec<_>>(), vec!["2", "3", "4", "5"]);
    let gi = b.describe_group(&g).await.unwrap();
    assert_eq!((gi.partitions[0].committed, gi.total_lag(), gi.redeliveries()), (Some(6), 0, 0));
    cleanup(&b, &[&t], &[&g]).await;
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn a_long_poll_pull_waits_for_a_publish() {
    let b = backend().await;
    let (t, g) = (name("wait"), name("waiters"));
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let started = Instant::now();
    let (got, _) = tokio::join!(b.pull(&g, PullRequest { wait_ms: 10_000, ..pull_req(&t, 5, true) }), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        publish(&b, &t, &["late"]).await
    });
    let got = got.unwrap();
    assert_eq!(got.messages.iter().map(text).collect::<Vec<_>>(), vec!["late"]);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(b.describe_group(&g).await.unwrap().total_lag(), 0);
    cleanup(&b, &[&t], &[&g]).await;
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn groups_made_by_other_clients_are_read_right() {
    let b = backend().await;
    let t = name("foreign");
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let mut con = raw().await;
    for i in 0..6 {
        let _: String = con.xadd(&t, "*", &[("temp", format!("2{i}")), ("hum", "40".into())]).await.unwrap();
    }
    // Fields other than key/value/h:* are shown as headers.
    let got = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Earliest, max: 1 }).await.unwrap();
    assert_eq!(got[0].value, Some(Payload::default()));
    assert_eq!(got[0].headers.iter().map(|h| h.name.as_str()).collect::<Vec<_>>(), vec!["temp", "hum"]);
    // Created at "$" and at "0" without ENTRIESREAD: Redis 7.0 reports entries-read as nil.
    let (at_end, at_start, mid) = (name("g-end"), name("g-start"), name("g-mid"));
    let _: () = con.xgroup_create(&t, &at_end, "$").await.unwrap();
    let _: () = con.xgroup_create(&t, &at_start, "0").await.unwrap();
    let _: () = con.xgroup_create(&t, &mid, "0").await.unwrap();
    let r: ::redis::streams::StreamRangeReply = con.xrange_all(&t).await.unwrap();
    let _: () = con.xgroup_setid(&t, &mid, &r.ids[2].id).await.unwrap();
    let gi = b.describe_group(&at_end).await.unwrap();
    assert_eq!((gi.partitions[0].committed, gi.total_lag()), (Some(6), 0));
    let gi = b.describe_group(&at_start).await.unwrap();
    assert_eq!((gi.partitions[0].committed, gi.total_lag()), (Some(0), 6));
    let gi = b.describe_group(&mid).await.unwrap();
    assert_eq!((gi.partitions[0].committed, gi.total_lag()), (Some(3), 3), "last delivered = the 3rd entry");
    let pulled = b.pull(&mid, pull_req(&t, 10, true)).await.unwrap();
    assert_eq!(offsets(&pulled.messages), vec![3, 4, 5]);
    cleanup(&b, &[&t], &[]).await;
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn resets_are_visible_to_the_engines_own_consumers() {
    let b = backend().await;
    let (t, g) = (name("r"), name("g"));
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    publish(&b, &t, &["0", "1", "2", "3", "4"]).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let later = publish(&b, &t, &["5", "6", "7", "8", "9"]).await;
    b.pull(&g, pull_req(&t, 100, true)).await.unwrap();
    let plan = |spec| ResetRequest { topic: t.clone(), partitions: vec![], spec };
    let ts5 =
        b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Offset(later[0].offset), max: 1 }).await.unwrap()
            [0]
        .timestamp;
    for (spec, want) in [
        (ResetSpec::ToEarliest, 0),
        (ResetSpec::ToLatest, 10),
        (ResetSpec::ToOffset(3), 3),
        (ResetSpec::ShiftBy(-4), 6),
        (ResetSpec::ToDatetime(ts5), 5),
        (ResetSpec::ToDatetime(0), 0),
        (ResetSpec::ByDuration(3_600_000), 0),
    ] {
        let p = b.plan_reset(&g, plan(spec.clone())).await.unwrap();
        assert_eq!((p.rows[0].before, p.rows[0].after), (Some(10), want), "{spec}");
    }
    let clamped = b.plan_reset(&g, plan(ResetSpec::ToOffset(500))).await.unwrap();
    assert!(clamped.rows[0].note.as_deref().unwrap_or("").contains("clamped to 10"));
    assert_eq!(b.describe_group(&g).await.unwrap().total_lag(), 0, "planning changes nothing");
    let bad = b.plan_reset(&g, ResetRequest { partitions: vec![1], ..plan(ResetSpec::ToEarliest) }).await;
    assert!(matches!(bad, Err(BackendError::NotFound(_))), "{bad:?}");

    // shift-by: a plain XREADGROUP resumes at the reset offset.
    let p = b.plan_reset(&g, plan(ResetSpec::ShiftBy(-4))).await.unwrap();
    let rec = b.execute_reset(p.clone(), false).await.unwrap();
    assert_eq!(b.describe_group(&g).await.unwrap().total_lag(), 4);
    let stale = b.execute_reset(p, false).await.unwrap_err();
    assert!(matches!(stale, BackendError::Conflict(_)), "a plan made before a change is refused: {stale:?}");
    let mut con = raw().await;
    let rows: ::redis::streams::StreamInfoGroupsReply = con.xinfo_groups(&t).await.unwrap();
    let row = rows.groups.iter().find(|r| r.name == g).unwrap();
    assert_eq!((row.entries_read, row.lag), (Some(6), Some(4)), "SETID … ENTRIESREAD 6");
    assert_eq!(engine_consumer_reads(&t, &g, "app-1", 2).await, vec!["6", "7"]);

    // A live consumer (app-1 just read) blocks a reset unless it is forced.
    let p = b.plan_reset(&g, plan(ResetSpec::ToEarliest)).await.unwrap();
    assert_eq!(p.live_members, vec!["app-1".to_string()]);
    let refused = b.execute_reset(p.clone(), false).await.unwrap_err();
    assert!(matches!(refused, BackendError::Refused(_)) && refused.to_string().contains("app-1"), "{refused:?}");
    let forced = b.execute_reset(p, true).await.unwrap();
    assert!(forced.forced);
    assert_eq!(forced.rows, vec![(0, Some(6), 0)], "app-1's pending entries 6, 7 counted as not committed");
    assert_eq!(engine_consumer_reads(&t, &g, "app-2", 3).await, vec!["0", "1", "2"], "to-earliest");
    let rows: ::redis::streams::StreamInfoGroupsReply = con.xinfo_groups(&t).await.unwrap();
    let row = rows.groups.iter().find(|r| r.name == g).unwrap();
    assert_eq!(row.last_delivered_id.split('-').count(), 2);

    // to-datetime (forced: app-1 and app-2 are still live).
    let p = b.plan_reset(&g, plan(ResetSpec::ToDatetime(ts5))).await.unwrap();
    assert_eq!(p.rows[0].after, 5);
    b.execute_reset(p, true).await.unwrap();
    assert_eq!(engine_consumer_reads(&t, &g, "app-3", 10).await, vec!["5", "6", "7", "8", "9"], "to-datetime");
    let gi = b.describe_group(&g).await.unwrap();
    assert_eq!(gi.state, "stable");
    assert!(gi.members.iter().any(|m| m.member_id == "app-3" && m.client_id == "5 in flight"));

    // The journal: history and undo of the last reset that was not undone.
    let history = b.reset_history(&g).await.unwrap();
    assert_eq!(history.iter().map(|h| h.id).collect::<Vec<_>>(), vec![rec.id, rec.id + 1, rec.id + 2]);
    assert_eq!(history[0].spec, ResetSpec::ShiftBy(-4));
    let undo = b.plan_undo(&g).await.unwrap();
    assert_eq!(undo.undo_of, Some(rec.id + 2));
    assert_eq!(undo.rows[0].after, 0, "back to before the to-datetime reset");
    let done = b.execute_reset(undo, true).await.unwrap();
    assert_eq!(done.undo_of, Some(rec.id + 2));
    let undo2 = b.plan_undo(&g).await.unwrap();
    assert_eq!(undo2.undo_of, Some(rec.id + 1), "the next one back");
    let journal: Vec<String> = con.lrange(format!("depot:reset-journal:{g}"), 0, -1).await.unwrap();
    assert_eq!(journal.len(), 4, "kept in Redis, so any depot can undo");

    // A reset of a group that does not exist yet creates it at the target.
    let fresh = name("fresh");
    let p = b.plan_reset(&fresh, plan(ResetSpec::ToOffset(7))).await.unwrap();
    assert_eq!((p.rows[0].before, p.rows[0].after), (None, 7));
    b.execute_reset(p, false).await.unwrap();
    assert_eq!(engine_consumer_reads(&t, &fresh, "app-x", 1).await, vec!["7"]);
    cleanup(&b, &[&t], &[&g, &fresh]).await;
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn replay_copies_entries_with_origin_headers() {
    let b = backend().await;
    let (src, dst) = (name("src"), name("dst"));
    b.create_topic(&src, TopicConfig::with_partitions(1)).await.unwrap();
    b.create_topic(&dst, TopicConfig::with_partitions(1)).await.unwrap();
    let req = PublishRequest {
        records: ["a", "b", "c", "d"]
            .iter()
            .map(|v| OutRecord {
                key: Some(Payload::text("k")),
                headers: vec![Header::text("trace", v)],
                ..OutRecord::text(v)
            })
            .collect(),
        producer: None,
    };
    b.publish(&src, req).await.unwrap();
    let plan = b
        .plan_replay(ReplayRequest {
            source: src.clone(),
            partitions: vec![],
            range: ReplayRange::Offsets { from: 1, to: 3 },
            target: Some(dst.clone()),
        })
        .await
        .unwrap();
    assert_eq!((plan.total, plan.rows[0].from, plan.rows[0].to), (2, 1, 3));
    assert_eq!(b.describe_topic(&dst).await.unwrap().backlog(), 0, "planning copies nothing");
    assert_eq!(b.execute_replay(plan).await.unwrap().appended, 2);
    let got = b.peek(&dst, PeekRequest { partition: Some(0), from: PeekFrom::Earliest, max: 10 }).await.unwrap();
    assert_eq!(got.iter().map(text).collect::<Vec<_>>(), vec!["b", "c"]);
    assert_eq!(got[0].key, Some(Payload::text("k")));
    let one = PeekRequest { partition: Some(0), from: PeekFrom::Offset(1), max: 1 };
    let original = b.peek(&src, one).await.unwrap()[0].timestamp;
    let h: Vec<(&str, String)> = got[0].headers.iter().map(|h| (h.name.as_str(), h.display())).collect();
    assert_eq!(
        h,
        vec![
            ("trace", "b".to_string()),
            ("depot.origin.topic", src.clone()),
            ("depot.origin.partition", "0".into()),
            ("depot.origin.offset", "1".into()),
            ("depot.origin.timestamp", original.to_string())
        ]
    );
    let mut con = raw().await;
    let r: ::redis::streams::StreamRangeReply = con.xrange_all(&dst).await.unwrap();
    assert_eq!(field(&r.ids[1], "h:depot.origin.offset"), b"2", "origin headers are h: fields");

    // Into the same stream, by time: appended after the end, the range read only once.
    let all = b.peek(&src, PeekRequest { partition: Some(0), from: PeekFrom::Earliest, max: 10 }).await.unwrap();
    let same = b
        .plan_replay(ReplayRequest {
            source: src.clone(),
            partitions: vec![0],
            range: ReplayRange::Time { since_ms: all[0].timestamp, until_ms: all[3].timestamp + 1 },
            target: None,
        })
        .await
        .unwrap();
    assert_eq!((same.target.as_str(), same.total), (src.as_str(), 4));
    assert_eq!(b.execute_replay(same).await.unwrap().appended, 4);
    let copies = b.peek(&src, PeekRequest { partition: Some(0), from: PeekFrom::Offset(4), max: 10 }).await.unwrap();
    assert_eq!(copies.iter().map(text).collect::<Vec<_>>(), vec!["a", "b", "c", "d"]);
    let bad = b
        .plan_replay(ReplayRequest {
            source: src.clone(),
            partitions: vec![],
            range: ReplayRange::Offsets { from: 0, to: 1 },
            target: Some(name("nowhere")),
        })
        .await;
    assert!(matches!(bad, Err(BackendError::NotFound(_))), "{bad:?}");
    cleanup(&b, &[&src, &dst], &[]).await;
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn a_publish_in_depot_shows_up_in_redis_cli() {
    let b = backend().await;
    let t = name("cli");
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let req = PublishRequest {
        records: vec![OutRecord {
            key: Some(Payload::text("k1")),
            headers: vec![Header::text("source", "depot")],
            ..OutRecord::text("hello from depot")
        }],
        producer: None,
    };
    b.publish(&t, req).await.unwrap();
    let out = std::process::Command::new("redis-cli")
        .args(["-u", &url(), "--no-auth-warning", "XRANGE", &t, "-", "+"])
        .output();
    let lines: Vec<String> = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect(),
        _ => {
            eprintln!("redis-cli is not installed: checking with the redis crate instead");
            let mut con = raw().await;
            let r: ::redis::streams::StreamRangeReply = con.xrange_all(&t).await.unwrap();
            let e = &r.ids[0];
            let mut v = vec![e.id.clone()];
            for f in ["key", "value", "h:source"] {
                v.push(f.to_string());
                v.push(String::from_utf8(field(e, f)).unwrap());
            }
            v
        }
    };
    for want in ["key", "k1", "value", "hello from depot", "h:source", "depot"] {
        assert!(lines.iter().any(|l| l == want), "{want} in {lines:?}");
    }
    cleanup(&b, &[&t], &[]).await;
}

#[tokio::test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
async fn capabilities_are_declared_honestly() {
    let b = backend().await;
    let c = b.capabilities().await.unwrap();
    assert_eq!(c.kind, "redis");
    assert!(!c.partitions && !c.idempotent_producers && !c.sizes);
    assert!(c.publish && c.headers && c.peek_by_time && c.pull && c.commit && c.replay && c.undo && c.redeliveries);
    assert_eq!(c.reset_modes.len(), 6);
    assert!(b.target().starts_with("redis redis://"), "{}", b.target());
}
