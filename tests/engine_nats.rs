//! The NATS JetStream backend against a real nats-server with JetStream: the mapping of topics,
//! offsets, groups, pulls, resets and replays (see src/backend/nats/), checked with depot's
//! calls and, where the issue asks for it, with plain async-nats calls beside them.
//!
//! Every test needs a server, so every test is ignored unless asked for:
//! `DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 cargo test --test engine_nats -- --ignored`
//! (start one with `nats-server -js -a 127.0.0.1 -p 4222 -sd /tmp/nats-js`). Names are unique per
//! run, so tests run concurrently and repeatedly against one server.

#[macro_use]
mod common;

use async_nats::jetstream;
use depot::backend::nats::{self, KEY_HEADER, Nats, NatsConfig};
use depot::backend::*;
use depot::core::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ENV: &str = "DEPOT_TEST_NATS_URL";

fn url() -> String {
    std::env::var(ENV).unwrap_or_else(|_| {
        panic!(
            "{ENV} is not set: these tests need a nats-server with JetStream, e.g. `nats-server -js -a 127.0.0.1 -p 4222 -sd /tmp/nats-js` and {ENV}=nats://127.0.0.1:4222"
        )
    })
}

/// The shared backend conformance checks (tests/common/conformance.rs), against JetStream.
mod conformance {
    use super::*;
    conformance_suite!(
        #[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
        "nats",
        common::External(std::sync::Arc::new(Env::new().await.b.clone()))
    );
}

/// A unique name per test and run (letters, digits, '-' and '_' only: valid in depot and NATS).
fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() % 1_000_000_000_000;
    format!("{prefix}-{}-{t}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// The backend plus the streams a test made; they are deleted when the test ends (even on panic).
struct Env {
    b: Nats,
    topics: Vec<String>,
}

impl Env {
    async fn new() -> Env {
        let cfg = NatsConfig { url: url(), ..NatsConfig::default() };
        let b = nats::connect(&cfg).await.unwrap_or_else(|e| panic!("connect to {}: {e}", cfg.url));
        Env { b, topics: Vec::new() }
    }

    async fn topic(&mut self, prefix: &str) -> String {
        let name = unique(prefix);
        self.b.create_topic(&name, TopicConfig::with_partitions(1)).await.unwrap();
        self.topics.push(name.clone());
        name
    }

    fn js(&self) -> jetstream::Context {
        jetstream::new(self.b.client().clone())
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let topics = std::mem::take(&mut self.topics);
        let client = self.b.client().clone();
        // A fresh runtime on its own thread: Drop cannot await on the test's runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let js = jetstream::new(client);
                for t in topics {
                    let _ = js.delete_stream(&t).await;
                }
            });
        })
        .join();
    }
}

fn text(m: &Message) -> &str {
    m.value.as_ref().and_then(Payload::as_text).unwrap()
}

fn offsets(ms: &[Message]) -> Vec<u64> {
    ms.iter().map(|m| m.offset).collect()
}

async fn publish_texts(b: &Nats, topic: &str, values: &[&str]) -> Vec<Ack> {
    let records = values.iter().map(|v| OutRecord::text(v)).collect();
    b.publish(topic, PublishRequest { records, producer: None }).await.unwrap()
}

fn peek_req(from: PeekFrom, max: usize) -> PeekRequest {
    PeekRequest { partition: Some(0), from, max }
}

/// A pull by a plain NATS client (no depot code): one message from a durable, acked.
async fn plain_pull_one(env: &Env, topic: &str, group: &str) -> Option<(u64, String)> {
    let subject = format!("$JS.API.CONSUMER.MSG.NEXT.{topic}.{group}");
    // Its own inbox: the message arrives under the stream's subject, not the request's.
    let req =
        async_nats::Request::new().payload(r#"{"batch":1,"no_wait":true}"#.into()).inbox(env.b.client().new_inbox());
    let m = env.b.client().send_request(subject, req).await.unwrap();
    if m.status.is_some_and(|s| s != async_nats::StatusCode::OK) {
        return None;
    }
    let m = jetstream::Message { message: m, context: env.js() };
    let seq = m.info().unwrap().stream_sequence;
    let value = String::from_utf8(m.payload.to_vec()).unwrap();
    m.double_ack().await.unwrap();
    Some((seq, value))
}

/// What JetStream itself says about a durable (plain async-nats).
async fn plain_consumer_info(env: &Env, topic: &str, group: &str) -> jetstream::consumer::Info {
    let stream = env.js().get_stream(topic).await.unwrap();
    stream.consumer_info(group).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn topics_are_streams_with_one_partition() {
    let mut env = Env::new().await;
    let b = env.b.clone();
    let name = unique("topics");
    let cfg = TopicConfig {
        retention_ms: Some(3_600_000),
        retention_bytes: Some(1 << 20),
        ..TopicConfig::with_partitions(1)
    };
    let t = b.create_topic(&name, cfg).await.unwrap();
    env.topics.push(name.clone());
    assert_eq!(t.partitions.len(), 1);
    assert_eq!(t.config.retention_ms, Some(3_600_000), "max_age");
    assert_eq!(t.config.retention_bytes, Some(1 << 20), "max_bytes");
    let d = b.describe_topic(&name).await.unwrap();
    assert_eq!((d.partitions[0].log_start, d.partitions[0].end_offset), (1, 1), "an empty stream: both last_seq + 1");
    // JetStream itself sees a stream whose subject is the topic name, with the limits.
    let s = env.js().get_stream(&name).await.unwrap();
    let c = &s.cached_info().config;
    assert_eq!(c.subjects, vec![name.clone()]);
    assert_eq!(c.max_age, Duration::from_secs(3600));
    assert_eq!(c.max_bytes, 1 << 20);
    assert!(b.list_topics().await.unwrap().iter().any(|t| t.name == name));

    let dup = b.create_topic(&name, TopicConfig::with_partitions(1)).await.unwrap_err();
    assert!(matches!(dup, BackendError::Conflict(_)), "{dup:?}");
    let many = b.create_topic(&unique("many"), TopicConfig::with_partitions(3)).await.unwrap_err();
    assert!(matches!(many, BackendError::BadRequest(_)) && many.to_string().contains("one partition"), "{many:?}");
    for bad in ["no/slashes", "dots.in.name", ""] {
        let e = b.create_topic(bad, TopicConfig::with_partitions(1)).await.unwrap_err();
        assert!(matches!(e, BackendError::BadRequest(_)), "{bad:?}: {e:?}");
    }
    let zero = b.create_topic(&unique("zero"), TopicConfig::with_partitions(0)).await.unwrap_err();
    assert!(matches!(zero, BackendError::BadRequest(_)), "{zero:?}");
    let seg = TopicConfig { segment_bytes: Some(1 << 20), ..TopicConfig::with_partitions(1) };
    let seg = b.create_topic(&unique("seg"), seg).await.unwrap_err();
    assert!(matches!(seg, BackendError::Unsupported(_)), "{seg:?}");

    publish_texts(&b, &name, &["one", "two"]).await;
    let d = b.describe_topic(&name).await.unwrap();
    assert_eq!((d.partitions[0].log_start, d.partitions[0].end_offset), (1, 3), "first_seq .. last_seq + 1");
    assert_eq!(d.backlog(), 2);
    assert!(d.size_bytes() > 0, "sizes are the stream's bytes");

    b.delete_topic(&name).await.unwrap();
    let gone = b.describe_topic(&name).await.unwrap_err();
    assert!(matches!(gone, BackendError::NotFound(_)) && gone.to_string().contains(&name), "{gone:?}");
    let again = b.delete_topic(&name).await.unwrap_err();
    assert!(matches!(again, BackendError::NotFound(_)), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn publish_with_key_and_headers_then_peek_byte_for_byte() {
    let mut env = Env::new().await;
    let b = env.b.clone();
    let t = env.topic("pub").await;
    let binary = Payload(bytes::Bytes::from_static(&[0, 159, 146, 150, 255, b'\r', b'\n']));
    let headers =
        vec![Header::text("content-type", "application/json"), Header::text("trace", "a"), Header::text("trace", "b")];
    let req = PublishRequest {
        records: vec![
            OutRecord {
                key: Some(Payload::text("customer-7")),
                value: Some(Payload::text("{\"n\":1}")),
                headers: headers.clone(),
                partition: None,
            },
            OutRecord { value: Some(binary.clone()), partition: Some(0), ..OutRecord::default() },
            OutRecord::text("third"),
        ],
        producer: None,
    };
    let acks = b.publish(&t, req).await.unwrap();
    assert_eq!(acks.iter().map(|a| (a.partition, a.offset)).collect::<Vec<_>>(), vec![(0, 1), (0, 2), (0, 3)]);

    let got = b.peek(&t, peek_req(PeekFrom::Earliest, 10)).await.unwrap();
    assert_eq!(offsets(&got), vec![1, 2, 3], "offsets are stream sequences");
    assert_eq!(got[0].key, Some(Payload::text("customer-7")));
    assert_eq!(got[0].value, Some(Payload::text("{\"n\":1}")));
    assert_eq!(got[0].headers, headers, "headers come back (sorted by name, values in order)");
    assert_eq!(got[1].value, Some(binary.clone()), "binary values survive byte for byte");
    assert_eq!((got[1].key.clone(), got[1].headers.clone()), (None, vec![]));
    assert!((now_ms() - got[0].timestamp).abs() < 60_000, "timestamps are the stream's, in ms");

    // A plain NATS reader sees the key in Depot-Key and the headers as NATS headers. (Read as
    // JSON: async-nats' own parser for stored messages keeps only the last value of a name.)
    let raw: serde_json::Value =
        env.js().request(format!("STREAM.MSG.GET.{t}"), &serde_json::json!({ "seq": 1 })).await.unwrap();
    let b64 = |k: &str| {
        use base64::Engine as _;
        let s = raw["message"][k].as_str().unwrap_or_else(|| panic!("{k} in {raw}"));
        base64::engine::general_purpose::STANDARD.decode(s).unwrap()
    };
    let block = String::from_utf8(b64("hdrs")).unwrap();
    let lines: Vec<&str> = block.split("\r\n").collect();
    assert_eq!(lines[0], "NATS/1.0");
    for want in [
        format!("{KEY_HEADER}: customer-7"),
        "trace: a".into(),
        "trace: b".into(),
        "content-type: application/json".into(),
    ] {
        assert!(lines.contains(&want.as_str()), "{want:?} in {lines:?}");
    }
    assert_eq!(b64("data"), b"{\"n\":1}");
    let plain = env.js().get_stream(&t).await.unwrap().get_raw_message(1).await.unwrap();
    assert_eq!(plain.headers.get(KEY_HEADER).map(|v| v.as_str()), Some("customer-7"));

    let from2 = b.peek(&t, peek_req(PeekFrom::Offset(2), 10)).await.unwrap();
    assert_eq!(offsets(&from2), vec![2, 3]);
    let last = b.peek(&t, PeekRequest { partition: None, from: PeekFrom::Latest(1), max: 10 }).await.unwrap();
    assert_eq!(offsets(&last), vec![3]);
    let capped = b.peek(&t, peek_req(PeekFrom::Earliest, 2)).await.unwrap();
    assert_eq!(offsets(&capped), vec![1, 2]);
    let beyond = b.peek(&t, peek_req(PeekFrom::Offset(99), 1)).await.unwrap_err();
    assert!(matches!(beyond, BackendError::BadRequest(_)) && beyond.to_string().contains("1..4"), "{beyond:?}");
    let nopart = b.peek(&t, PeekRequest { partition: Some(7), from: PeekFrom::Earliest, max: 1 }).await.unwrap_err();
    assert!(matches!(nopart, BackendError::NotFound(_)), "{nopart:?}");

    // Refused before anything is sent: the stream is unchanged.
    let bad_part =
        PublishRequest { records: vec![OutRecord { partition: Some(3), ..OutRecord::text("x") }], producer: None };
    let e = b.publish(&t, bad_part).await.unwrap_err();
    assert!(matches!(e, BackendError::BadRequest(_)) && e.to_string().contains("0..1"), "{e:?}");
    let bin_key = PublishRequest {
        records: vec![OutRecord::text("ok"), OutRecord { key: Some(binary.clone()), ..OutRecord::text("x") }],
        producer: None,
    };
    let e = b.publish(&t, bin_key).await.unwrap_err();
    assert!(matches!(e, BackendError::Unsupported(_)) && e.to_string().contains("key"), "{e:?}");
    let bin_header = PublishRequest {
        records: vec![OutRecord {
            headers: vec![Header { name: "h".into(), value: Some(binary) }],
            ..OutRecord::text("x")
        }],
        producer: None,
    };
    assert!(matches!(b.publish(&t, bin_header).await, Err(BackendError::Unsupported(_))));
    let e = b.publish(&t, PublishRequest::default()).await.unwrap_err();
    assert!(matches!(e, BackendError::BadRequest(_)), "{e:?}");
    assert_eq!(b.describe_topic(&t).await.unwrap().partitions[0].end_offset, 4, "failed publishes leave nothing");
    let e = b.publish(&unique("missing"), PublishRequest { records: vec![OutRecord::text("x")], producer: None }).await;
    assert!(matches!(e, Err(BackendError::NotFound(_))), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn peek_by_time_starts_at_the_first_message_at_or_after_it() {
    let mut env = Env::new().await;
    let b = env.b.clone();
    let t = env.topic("time").await;
    publish_texts(&b, &t, &["early-1", "early-2"]).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let between = now_ms();
    tokio::time::sleep(Duration::from_millis(30)).await;
    publish_texts(&b, &t, &["late-1", "late-2"]).await;

    let late = b.peek(&t, peek_req(PeekFrom::Time(between), 10)).await.unwrap();
    assert_eq!(late.iter().map(text).collect::<Vec<_>>(), vec!["late-1", "late-2"]);
    assert_eq!(late[0].offset, 3);
    let all = b.peek(&t, peek_req(PeekFrom::Time(0), 10)).await.unwrap();
    assert_eq!(offsets(&all), vec![1, 2, 3, 4]);
    let exact = b.peek(&t, peek_req(PeekFrom::Time(all[1].timestamp), 1)).await.unwrap();
    assert!(exact[0].offset <= 2, "a message's own timestamp finds it (or an earlier one in the same ms)");
    let future = b.peek(&t, peek_req(PeekFrom::Time(now_ms() + 3_600_000), 5)).await.unwrap();
    assert!(future.is_empty());
    let empty = env.topic("time-empty").await;
    assert!(b.peek(&empty, peek_req(PeekFrom::Time(0), 5)).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn long_poll_fetch_wakes_on_publish() {
    let mut env = Env::new().await;
    let b = env.b.clone();
    let t = env.topic("poll").await;
    let started = Instant::now();
    assert!(b.fetch(&t, 0, 1, 10, 100).await.unwrap().is_empty(), "nothing arrives: empty after the wait");
    assert!(started.elapsed() < Duration::from_secs(3));

    let started = Instant::now();
    let (got, _) = tokio::join!(b.fetch(&t, 0, 1, 10, 10_000), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        publish_texts(&b, &t, &["wake"]).await
    });
    let got = got.unwrap();
    assert_eq!(got.iter().map(text).collect::<Vec<_>>(), vec!["wake"]);
    assert_eq!(got[0].offset, 1);
    assert!(started.elapsed() < Duration::from_secs(5), "woken by the publish, not by the timeout");

    publish_texts(&b, &t, &["a", "b", "c"]).await;
    let from3 = b.fetch(&t, 0, 3, 2, 0).await.unwrap();
    assert_eq!(offsets(&from3), vec![3, 4]);
    let e = b.fetch(&t, 0, 9, 1, 0).await.unwrap_err();
    assert!(matches!(e, BackendError::BadRequest(_)) && e.to_string().contains("1..5"), "{e:?}");
    let e = b.fetch(&t, 1, 1, 1, 0).await.unwrap_err();
    assert!(matches!(e, BackendError::NotFound(_)), "{e:?}");
    // The long poll's reader is gone afterwards: no consumer is left on the stream.
    assert!(b.list_groups().await.unwrap().iter().all(|g| g.partitions.iter().all(|p| p.topic != t)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn pull_with_and_without_commit_lag_and_redeliveries() {
    let mut env = Env::new().await;
    let b = env.b.clone();
    let t = env.topic("jobs").await;
    let g = unique("workers");
    let values: Vec<String> = (0..10).map(|i| format!("job-{i}")).collect();
    publish_texts(&b, &t, &values.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let req = |max, commit| PullRequest { topic: t.clone(), max, commit, wait_ms: 0 };

    let first = b.pull(&g, req(4, true)).await.unwrap();
    assert_eq!(offsets(&first.messages), vec![1, 2, 3, 4]);
    assert_eq!(first.offsets, vec![CommitOffset { topic: t.clone(), partition: 0, offset: 5 }]);
    assert!(first.committed);
    let info = b.describe_group(&g).await.unwrap();
    assert_eq!(info.partitions.len(), 1);
    let p = &info.partitions[0];
    assert_eq!((p.topic.as_str(), p.committed, p.lag, p.log_start, p.end_offset), (t.as_str(), Some(5), 6, 1, 11));
    assert!(p.lag_ms < 60_000);
    assert_eq!((info.state.as_str(), info.members.len()), ("empty", 0), "no member list in JetStream");
    // JetStream's own view: a durable pull consumer with explicit acks, ack floor at 4.
    let ci = plain_consumer_info(&env, &t, &g).await;
    assert_eq!(ci.config.durable_name.as_deref(), Some(g.as_str()));
    assert_eq!(ci.config.ack_policy, jetstream::consumer::AckPolicy::Explicit);
    assert_eq!(ci.ack_floor.stream_sequence, 4);

    let peeked = b.pull(&g, req(3, false)).await.unwrap();
    assert_eq!(offsets(&peeked.messages), vec![5, 6, 7]);
    assert!(!peeked.committed);
    assert_eq!(peeked.offsets[0].offset, 8, "the offsets that would commit them");
    let info = b.describe_group(&g).await.unwrap();
    assert_eq!((info.total_lag(), info.partitions[0].committed), (6, Some(5)), "not committed: lag unchanged");
    let again = b.pull(&g, req(3, false)).await.unwrap();
    assert_eq!(offsets(&again.messages), vec![5, 6, 7], "handed back, so redelivered");
    assert_eq!(b.describe_group(&g).await.unwrap().redeliveries(), 3);

    let e = b.commit(&g, again.offsets.clone()).await.unwrap_err();
    assert!(matches!(e, BackendError::Unsupported(_)) && e.to_string().contains("reset"), "{e:?}");

    let rest = b.pull(&g, req(100, true)).await.unwrap();
    assert_eq!(offsets(&rest.messages), vec![5, 6, 7, 8, 9, 10]);
    let info = b.describe_group(&g).await.unwrap();
    assert_eq!((info.total_lag(), info.partitions[0].committed, info.max_lag_ms()), (0, Some(11), 0));
    assert!(b.pull(&g, req(5, true)).await.unwrap().messages.is_empty());
    assert!(b.list_groups().await.unwrap().iter().any(|x| x.name == g));

    // A pull that waits is woken by a publish.
    let started = Instant::now();
    let (woken, _) =
        tokio::join!(b.pull(&g, PullRequest { topic: t.clone(), max: 5, commit: true, wait_ms: 10_000 }), async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            publish_texts(&b, &t, &["late"]).await
        });
    assert_eq!(woken.unwrap().messages.iter().map(text).collect::<Vec<_>>(), vec!["late"]);
    assert!(started.elapsed() < Duration::from_secs(5));

    let missing = b.describe_group(&unique("nobody")).await.unwrap_err();
    assert!(matches!(missing, BackendError::NotFound(_)), "{missing:?}");
    b.delete_group(&g).await.unwrap();
    assert!(matches!(b.describe_group(&g).await, Err(BackendError::NotFound(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn resets_are_seen_by_plain_nats_consumers() {
    let mut env = Env::new().await;
    let b = env.b.clone();
    let t = env.topic("reset").await;
    let g = unique("billing");
    publish_texts(&b, &t, &["m1", "m2", "m3", "m4", "m5"]).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let between = now_ms();
    tokio::time::sleep(Duration::from_millis(30)).await;
    publish_texts(&b, &t, &["m6", "m7", "m8", "m9", "m10"]).await;
    b.pull(&g, PullRequest { topic: t.clone(), max: 100, commit: true, wait_ms: 0 }).await.unwrap();
    let plan = |spec| ResetRequest { topic: t.clone(), partitions: vec![], spec };

    // Plans follow kafka-consumer-groups' rules over sequences 1..11 (committed 11).
    for (spec, want) in [
        (ResetSpec::ToEarliest, 1),
        (ResetSpec::ToLatest, 11),
        (ResetSpec::ToOffset(3), 3),
        (ResetSpec::ShiftBy(-4), 7),
        (ResetSpec::ToDatetime(between), 6),
        (ResetSpec::ToDatetime(0), 1),
        (ResetSpec::ByDuration(3_600_000), 1),
    ] {
        let p = b.plan_reset(&g, plan(spec.clone())).await.unwrap();
        let r = &p.rows[0];
        assert_eq!((r.partition, r.before, r.after, r.log_start, r.end_offset), (0, Some(11), want, 1, 11), "{spec}");
    }
    let clamped = b.plan_reset(&g, plan(ResetSpec::ToOffset(500))).await.unwrap();
    assert_eq!(clamped.rows[0].after, 11);
    assert!(clamped.rows[0].note.as_deref().unwrap_or("").contains("clamped"));
    assert_eq!(b.describe_group(&g).await.unwrap().total_lag(), 0, "planning changes nothing");
    let e = b.plan_reset(&g, ResetRequest { topic: t.clone(), partitions: vec![1], spec: ResetSpec::ToEarliest }).await;
    assert!(matches!(e, Err(BackendError::NotFound(_))), "{e:?}");

    // to-earliest: a plain NATS pull from the durable starts again at sequence 1.
    let p = b.plan_reset(&g, plan(ResetSpec::ToEarliest)).await.unwrap();
    let rec = b.execute_reset(p.clone(), false).await.unwrap();
    assert_eq!((rec.rows.clone(), rec.forced), (vec![(0, Some(11), 1)], false));
    let ci = plain_consumer_info(&env, &t, &g).await;
    assert_eq!((ci.ack_floor.stream_sequence, ci.num_pending), (0, 10));
    assert_eq!(ci.config.ack_policy, jetstream::consumer::AckPolicy::Explicit, "settings kept");
    assert_eq!(plain_pull_one(&env, &t, &g).await, Some((1, "m1".into())));
    let info = b.describe_group(&g).await.unwrap();
    assert_eq!((info.partitions[0].committed, info.total_lag()), (Some(2), 9));
    assert!(info.max_lag_ms() > 0, "the oldest unconsumed message has an age");
    let stale = b.execute_reset(p, false).await.unwrap_err();
    assert!(matches!(stale, BackendError::Conflict(_)), "a plan made before a change is refused: {stale:?}");

    // shift-by +3 from committed 2: the next plain pull gets sequence 5.
    let p = b.plan_reset(&g, plan(ResetSpec::ShiftBy(3))).await.unwrap();
    assert_eq!((p.rows[0].before, p.rows[0].after), (Some(2), 5));
    b.execute_reset(p, false).await.unwrap();
    assert_eq!(plain_pull_one(&env, &t, &g).await, Some((5, "m5".into())));

    // to-datetime between the two bursts: the next plain pull gets m6.
    let p = b.plan_reset(&g, plan(ResetSpec::ToDatetime(between))).await.unwrap();
    assert_eq!(p.rows[0].after, 6);
    b.execute_reset(p, false).await.unwrap();
    assert_eq!(plain_pull_one(&env, &t, &g).await, Some((6, "m6".into())));

    // Refused while a pull request waits on the consumer, unless forced.
    let waiting = format!("$JS.API.CONSUMER.MSG.NEXT.{t}.{g}");
    let inbox = env.b.client().new_inbox();
    let _sub = env.b.client().subscribe(inbox.clone()).await.unwrap();
    let body = format!(r#"{{"batch":1,"expires":{}}}"#, Duration::from_secs(30).as_nanos());
    // Nothing is pending after a to-latest, so the request stays waiting.
    let p = b.plan_reset(&g, plan(ResetSpec::ToLatest)).await.unwrap();
    b.execute_reset(p, false).await.unwrap();
    env.b.client().publish_with_reply(waiting, inbox, body.into()).await.unwrap();
    env.b.client().flush().await.unwrap();
    let mut live = Vec::new();
    for _ in 0..50 {
        live = b.plan_reset(&g, plan(ResetSpec::ToEarliest)).await.unwrap().live_members;
        if !live.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!live.is_empty(), "a waiting pull request counts as live");
    assert_eq!(b.describe_group(&g).await.unwrap().state, "stable");
    let p = b.plan_reset(&g, plan(ResetSpec::ToEarliest)).await.unwrap();
    let refused = b.execute_reset(p.clone(), false).await.unwrap_err();
    assert!(matches!(refused, BackendError::Refused(_)), "{refused:?}");
    let forced = b.execute_reset(p, true).await.unwrap();
    assert!(forced.forced);
    assert_eq!(plain_consumer_info(&env, &t, &g).await.num_pending, 10);

    // No journal in JetStream: no undo, no history.
    assert!(matches!(b.plan_undo(&g).await, Err(BackendError::Unsupported(_))));
    assert!(matches!(b.reset_history(&g).await, Err(BackendError::Unsupported(_))));

    // A reset of a group that does not exist yet creates its durable at the target.
    let fresh = unique("fresh");
    let p = b.plan_reset(&fresh, plan(ResetSpec::ToOffset(8))).await.unwrap();
    assert_eq!((p.rows[0].before, p.rows[0].after), (None, 8));
    b.execute_reset(p, false).await.unwrap();
    assert_eq!(plain_pull_one(&env, &t, &fresh).await, Some((8, "m8".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn replay_republishes_with_origin_headers() {
    let mut env = Env::new().await;
    let b = env.b.clone();
    let src = env.topic("src").await;
    let dst = env.topic("dst").await;
    let recs = vec![
        OutRecord::text("a"),
        OutRecord { key: Some(Payload::text("k-b")), headers: vec![Header::text("h", "v")], ..OutRecord::text("b") },
        OutRecord::text("c"),
        OutRecord::text("d"),
    ];
    b.publish(&src, PublishRequest { records: recs, producer: None }).await.unwrap();
    let req = ReplayRequest {
        source: src.clone(),
        partitions: vec![],
        range: ReplayRange::Offsets { from: 2, to: 4 },
        target: Some(dst.clone()),
    };
    let plan = b.plan_replay(req).await.unwrap();
    assert_eq!((plan.total, plan.rows[0].from, plan.rows[0].to), (2, 2, 4));
    assert_eq!(b.describe_topic(&dst).await.unwrap().backlog(), 0, "planning copies nothing");
    let r = b.execute_replay(plan).await.unwrap();
    assert_eq!((r.target.as_str(), r.appended), (dst.as_str(), 2));
    let got = b.peek(&dst, peek_req(PeekFrom::Earliest, 10)).await.unwrap();
    assert_eq!(got.iter().map(text).collect::<Vec<_>>(), vec!["b", "c"]);
    assert_eq!(got[0].key, Some(Payload::text("k-b")), "keys are kept");
    let h: Vec<(&str, String)> = got[0].headers.iter().map(|h| (h.name.as_str(), h.display())).collect();
    assert!(h.contains(&("h", "v".into())), "{h:?}");
    assert!(h.contains(&("depot.origin.topic", src.clone())), "{h:?}");
    assert!(h.contains(&("depot.origin.partition", "0".into())), "{h:?}");
    assert!(h.contains(&("depot.origin.offset", "2".into())), "{h:?}");

    // A time window replayed into the same stream appends copies after the originals.
    let since = got[0].timestamp - 60_000;
    let req = ReplayRequest {
        source: src.clone(),
        partitions: vec![],
        range: ReplayRange::Time { since_ms: since, until_ms: now_ms() + 1 },
        target: None,
    };
    let plan = b.plan_replay(req).await.unwrap();
    assert_eq!((plan.target.as_str(), plan.total), (src.as_str(), 4));
    assert_eq!(b.execute_replay(plan).await.unwrap().appended, 4);
    let copies = b.peek(&src, peek_req(PeekFrom::Offset(5), 10)).await.unwrap();
    assert_eq!(copies.iter().map(text).collect::<Vec<_>>(), vec!["a", "b", "c", "d"]);
    let bad = ReplayRequest {
        source: src.clone(),
        partitions: vec![],
        range: ReplayRange::Offsets { from: 3, to: 1 },
        target: None,
    };
    assert!(matches!(b.plan_replay(bad).await, Err(BackendError::BadRequest(_))));
    let missing = ReplayRequest {
        source: src.clone(),
        partitions: vec![],
        range: ReplayRange::Offsets { from: 1, to: 2 },
        target: Some(unique("nowhere")),
    };
    assert!(matches!(b.plan_replay(missing).await, Err(BackendError::NotFound(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn idempotent_producers_map_to_nats_msg_id() {
    let mut env = Env::new().await;
    let b = env.b.clone();
    let t = env.topic("idem").await;
    let req = PublishRequest {
        records: vec![
            OutRecord { partition: Some(0), ..OutRecord::text("once") },
            OutRecord { partition: Some(0), ..OutRecord::text("twice") },
        ],
        producer: Some(ProducerTag { id: 42, sequence: 0 }),
    };
    let first = b.publish(&t, req.clone()).await.unwrap();
    let retry = b.publish(&t, req).await.unwrap();
    assert_eq!(offsets_of(&first), vec![1, 2]);
    assert_eq!(offsets_of(&retry), vec![1, 2], "a retry acks the original sequences");
    assert!(first.iter().all(|a| !a.duplicate) && retry.iter().all(|a| a.duplicate));
    assert_eq!(b.describe_topic(&t).await.unwrap().partitions[0].end_offset, 3);
    let raw = env.js().get_stream(&t).await.unwrap().get_raw_message(2).await.unwrap();
    assert_eq!(raw.headers.get("Nats-Msg-Id").map(|v| v.as_str()), Some("depot-42-1"));
    let no_partition =
        PublishRequest { records: vec![OutRecord::text("x")], producer: Some(ProducerTag { id: 1, sequence: 0 }) };
    assert!(matches!(b.publish(&t, no_partition).await, Err(BackendError::BadRequest(_))));
}

fn offsets_of(acks: &[Ack]) -> Vec<u64> {
    acks.iter().map(|a| a.offset).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn capabilities_and_unsupported_operations_say_why() {
    let mut env = Env::new().await;
    let b = env.b.clone();
    let c = b.capabilities().await.unwrap();
    assert_eq!(c.kind, "nats");
    assert!(!c.partitions && !c.commit && !c.undo, "{c:?}");
    assert!(c.create_topics && c.publish && c.headers && c.peek_by_time && c.pull && c.replay && c.sizes, "{c:?}");
    assert!(c.redeliveries && c.idempotent_producers && !c.read_only, "{c:?}");
    assert_eq!(c.reset_modes.len(), 6);
    assert!(b.target().contains(&url()), "{}", b.target());

    let t = env.topic("unsup").await;
    let g = unique("g");
    for e in [
        b.commit(&g, vec![CommitOffset { topic: t.clone(), partition: 0, offset: 1 }]).await.unwrap_err(),
        b.plan_undo(&g).await.unwrap_err(),
        b.reset_history(&g).await.unwrap_err(),
    ] {
        assert!(matches!(e, BackendError::Unsupported(_)), "{e:?}");
        assert!(e.to_string().len() > 40, "says why and what to do instead: {e}");
    }

    // A push consumer made with plain async-nats is a group depot can show but not pull from.
    let push = unique("push");
    let stream = env.js().get_stream(&t).await.unwrap();
    stream
        .create_consumer(jetstream::consumer::push::Config {
            durable_name: Some(push.clone()),
            deliver_subject: format!("deliver-{push}"),
            ..Default::default()
        })
        .await
        .unwrap();
    publish_texts(&b, &t, &["x"]).await;
    let g = b.describe_group(&push).await.unwrap();
    assert_eq!((g.assignor.as_str(), g.total_lag()), ("push", 1));
    let e = b.pull(&push, PullRequest { topic: t.clone(), max: 1, commit: true, wait_ms: 0 }).await.unwrap_err();
    assert!(matches!(e, BackendError::Unsupported(_)) && e.to_string().contains("push"), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn wrong_credentials_and_dead_servers_are_named() {
    // The test server runs without auth, so a creds file that does not exist is the local failure;
    // a closed port is the remote one (refused at once, or within the connect timeout).
    let cfg = NatsConfig { url: url(), creds_file: Some("/nonexistent/depot.creds".into()), ..NatsConfig::default() };
    let e = nats::connect(&cfg).await.unwrap_err();
    assert!(matches!(e, BackendError::BadRequest(_)) && e.to_string().contains("/nonexistent/depot.creds"), "{e:?}");
    let half = NatsConfig { url: url(), user: Some("u".into()), ..NatsConfig::default() };
    assert!(matches!(nats::connect(&half).await, Err(BackendError::BadRequest(_))));
    let dead = NatsConfig { url: "nats://127.0.0.1:1".into(), ..NatsConfig::default() };
    let started = Instant::now();
    let e = nats::connect(&dead).await.unwrap_err();
    assert!(matches!(e, BackendError::Unavailable(_)) && e.to_string().contains("nats://127.0.0.1:1"), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(8), "a dead server never hangs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
async fn pulls_stop_promptly_at_max_ack_pending() {
    let mut env = Env::new().await;
    let b = env.b.clone();
    let t = env.topic("full").await;
    let g = unique("full");
    // A durable made by a plain client, with room for 3 unacknowledged messages.
    let stream = env.js().get_stream(&t).await.unwrap();
    let cfg =
        jetstream::consumer::pull::Config { durable_name: Some(g.clone()), max_ack_pending: 3, ..Default::default() };
    stream.create_consumer(cfg).await.unwrap();
    publish_texts(&b, &t, &["1", "2", "3", "4", "5"]).await;
    let req = PullRequest { topic: t.clone(), max: 10, commit: false, wait_ms: 0 };
    let started = Instant::now();
    let first = b.pull(&g, req.clone()).await.unwrap();
    assert_eq!(offsets(&first.messages), vec![1, 2, 3], "no more than max_ack_pending in flight");
    let again = b.pull(&g, req).await.unwrap();
    assert_eq!(offsets(&again.messages), vec![1, 2, 3], "handed back, then redelivered");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    let all = b.pull(&g, PullRequest { topic: t.clone(), max: 10, commit: true, wait_ms: 0 }).await.unwrap();
    assert_eq!(offsets(&all.messages), vec![1, 2, 3]);
    let rest = b.pull(&g, PullRequest { topic: t.clone(), max: 10, commit: true, wait_ms: 0 }).await.unwrap();
    assert_eq!(offsets(&rest.messages), vec![4, 5]);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}
