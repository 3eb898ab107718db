//! The backend conformance suite: the same checks, written once, run against every backend —
//! the embedded engine and a real `depot serve` on 127.0.0.1:0 through the remote backend.

mod common;

use common::*;
use depot::backend::*;
use std::time::Duration;

/// Each check gets a fresh backend.
mod checks {
    use super::*;

    pub async fn topics_lifecycle(b: &dyn Backend) {
        let t = b.create_topic("orders", TopicConfig::with_partitions(2)).await.unwrap();
        assert_eq!(t.partitions.len(), 2);
        assert!(b.list_topics().await.unwrap().iter().any(|t| t.name == "orders"));
        let d = b.describe_topic("orders").await.unwrap();
        assert_eq!((d.partitions[1].log_start, d.partitions[1].end_offset), (0, 0));
        let dup = b.create_topic("orders", TopicConfig::with_partitions(1)).await.unwrap_err();
        assert!(matches!(dup, BackendError::Conflict(_)), "{dup:?}");
        let bad = b.create_topic("no/slashes", TopicConfig::with_partitions(1)).await.unwrap_err();
        assert!(matches!(bad, BackendError::BadRequest(_)), "{bad:?}");
        let zero = b.create_topic("zero", TopicConfig::with_partitions(0)).await.unwrap_err();
        assert!(matches!(zero, BackendError::BadRequest(_)), "{zero:?}");
        b.delete_topic("orders").await.unwrap();
        let gone = b.describe_topic("orders").await.unwrap_err();
        assert!(matches!(gone, BackendError::NotFound(_)), "{gone:?}");
        assert!(gone.to_string().contains("orders"), "{gone}");
    }

    pub async fn publish_and_peek_roundtrip(b: &dyn Backend) {
        b.create_topic("t", TopicConfig::with_partitions(1)).await.unwrap();
        let binary = Payload(bytes::Bytes::from_static(&[0, 159, 146, 150, 255]));
        let req = PublishRequest {
            records: vec![
                OutRecord {
                    key: Some(Payload::text("k")),
                    value: Payload::text("first"),
                    headers: vec![Header { name: "h".into(), value: Payload::text("v") }],
                    partition: None,
                },
                OutRecord { value: binary.clone(), ..OutRecord::default() },
            ],
            producer: None,
        };
        let acks = b.publish("t", req).await.unwrap();
        assert_eq!(acks.iter().map(|a| a.offset).collect::<Vec<_>>(), vec![0, 1]);
        let got = b.peek("t", PeekRequest { partition: Some(0), from: PeekFrom::Earliest, max: 10 }).await.unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].key, Some(Payload::text("k")));
        assert_eq!(text(&got[0]), "first");
        assert_eq!(got[0].headers, vec![Header { name: "h".into(), value: Payload::text("v") }]);
        assert_eq!(got[1].value, binary, "binary values survive byte for byte");
        let from1 = b.peek("t", PeekRequest { partition: Some(0), from: PeekFrom::Offset(1), max: 10 }).await.unwrap();
        assert_eq!(from1.iter().map(|m| m.offset).collect::<Vec<_>>(), vec![1]);
        let last = b.peek("t", PeekRequest { partition: None, from: PeekFrom::Latest(1), max: 10 }).await.unwrap();
        assert_eq!(last.iter().map(|m| m.offset).collect::<Vec<_>>(), vec![1]);
        let ts = got[0].timestamp;
        let by_time = b.peek("t", PeekRequest { partition: Some(0), from: PeekFrom::Time(ts), max: 1 }).await.unwrap();
        assert_eq!(by_time[0].offset, 0);
        let future =
            b.peek("t", PeekRequest { partition: Some(0), from: PeekFrom::Time(ts + 3_600_000), max: 5 }).await;
        assert!(future.unwrap().is_empty());
        let beyond =
            b.peek("t", PeekRequest { partition: Some(0), from: PeekFrom::Offset(99), max: 1 }).await.unwrap_err();
        assert!(matches!(beyond, BackendError::BadRequest(_)), "{beyond:?}");
        assert!(beyond.to_string().contains("0..2"), "the error names the valid range: {beyond}");
        let nopart =
            b.peek("t", PeekRequest { partition: Some(7), from: PeekFrom::Earliest, max: 1 }).await.unwrap_err();
        assert!(matches!(nopart, BackendError::NotFound(_)), "{nopart:?}");
    }

    pub async fn keyed_records_stay_in_order_on_one_partition(b: &dyn Backend) {
        b.create_topic("k", TopicConfig::with_partitions(4)).await.unwrap();
        let records: Vec<OutRecord> = (0..20)
            .map(|i| OutRecord { key: Some(Payload::text("customer-7")), ..OutRecord::text(&i.to_string()) })
            .collect();
        let acks = b.publish("k", PublishRequest { records, producer: None }).await.unwrap();
        let p = acks[0].partition;
        assert!(acks.iter().all(|a| a.partition == p));
        assert_eq!(p, depot::engine::partitioner::partition_for_key(b"customer-7", 4), "Kafka's partition for the key");
        let got = b.peek("k", PeekRequest { partition: Some(p), from: PeekFrom::Earliest, max: 100 }).await.unwrap();
        let values: Vec<String> = got.iter().map(|m| text(m).to_string()).collect();
        assert_eq!(values, (0..20).map(|i| i.to_string()).collect::<Vec<_>>());
    }

    pub async fn long_poll_fetch_wakes_on_publish(b: &dyn Backend) {
        b.create_topic("lp", TopicConfig::with_partitions(1)).await.unwrap();
        let empty = b.fetch("lp", 0, 0, 10, 50).await.unwrap();
        assert!(empty.is_empty(), "nothing arrives: empty after the wait");
        let (got, _) = tokio::join!(b.fetch("lp", 0, 0, 10, 10_000), async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            b.publish("lp", publish_req(&["wake"])).await.unwrap()
        });
        let got = got.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(text(&got[0]), "wake");
    }

    pub async fn pull_commit_lag_and_redelivery(b: &dyn Backend) {
        b.create_topic("jobs", TopicConfig::with_partitions(1)).await.unwrap();
        let values: Vec<String> = (0..10).map(|i| format!("job-{i}")).collect();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        b.publish("jobs", publish_req(&refs)).await.unwrap();
        let req = |max, commit| PullRequest { topic: "jobs".into(), max, commit, wait_ms: 0 };
        let first = b.pull("workers", req(4, true)).await.unwrap();
        assert_eq!(first.messages.iter().map(|m| m.offset).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        let g = b.describe_group("workers").await.unwrap();
        assert_eq!(g.partitions[0].committed, Some(4));
        assert_eq!(g.total_lag(), 6);
        assert!(g.max_lag_ms() < 60_000);
        let peeked = b.pull("workers", req(3, false)).await.unwrap();
        assert_eq!(peeked.messages.iter().map(|m| m.offset).collect::<Vec<_>>(), vec![4, 5, 6]);
        assert_eq!(b.describe_group("workers").await.unwrap().total_lag(), 6, "not committed: lag unchanged");
        let again = b.pull("workers", req(3, false)).await.unwrap();
        assert_eq!(again.messages.iter().map(|m| m.offset).collect::<Vec<_>>(), vec![4, 5, 6], "redelivered");
        let g = b.describe_group("workers").await.unwrap();
        assert_eq!(g.redeliveries(), 3);
        b.commit("workers", again.offsets.clone()).await.unwrap();
        assert_eq!(b.describe_group("workers").await.unwrap().total_lag(), 3);
        let back = b.commit("workers", vec![CommitOffset { topic: "jobs".into(), partition: 0, offset: 1 }]).await;
        assert!(matches!(back, Err(BackendError::Refused(_))), "commits only move forward: {back:?}");
        let rest = b.pull("workers", req(100, true)).await.unwrap();
        assert_eq!(rest.messages.len(), 3);
        assert_eq!(b.describe_group("workers").await.unwrap().total_lag(), 0);
        let none = b.pull("workers", req(5, true)).await.unwrap();
        assert!(none.messages.is_empty());
        assert!(b.list_groups().await.unwrap().iter().any(|g| g.name == "workers"));
    }

    pub async fn resets_plan_execute_and_undo(b: &dyn Backend) {
        b.create_topic("r", TopicConfig::with_partitions(2)).await.unwrap();
        let recs: Vec<OutRecord> =
            (0..20).map(|i| OutRecord { partition: Some(i % 2), ..OutRecord::text("x") }).collect();
        b.publish("r", PublishRequest { records: recs, producer: None }).await.unwrap();
        b.pull("g", PullRequest { topic: "r".into(), max: 100, commit: true, wait_ms: 0 }).await.unwrap();
        let plan = |spec| ResetRequest { topic: "r".into(), partitions: vec![], spec };
        for (spec, want) in [
            (ResetSpec::ToEarliest, 0),
            (ResetSpec::ToLatest, 10),
            (ResetSpec::ToOffset(3), 3),
            (ResetSpec::ShiftBy(-4), 6),
            (ResetSpec::ToDatetime(0), 0),
            (ResetSpec::ByDuration(3_600_000), 0),
        ] {
            let p = b.plan_reset("g", plan(spec.clone())).await.unwrap();
            assert!(p.rows.iter().all(|r| r.after == want && r.before == Some(10)), "{spec}: {:?}", p.rows);
        }
        let clamped = b.plan_reset("g", plan(ResetSpec::ToOffset(500))).await.unwrap();
        assert!(clamped.rows[0].note.as_deref().unwrap_or("").contains("clamped"));
        let dry = b.describe_group("g").await.unwrap();
        assert_eq!(dry.total_lag(), 0, "planning changes nothing");
        let p = b.plan_reset("g", plan(ResetSpec::ShiftBy(-4))).await.unwrap();
        let rec = b.execute_reset(p.clone(), false).await.unwrap();
        assert_eq!(b.describe_group("g").await.unwrap().total_lag(), 8);
        let stale = b.execute_reset(p, false).await.unwrap_err();
        assert!(matches!(stale, BackendError::Conflict(_)), "a plan made before a change is refused: {stale:?}");
        let history = b.reset_history("g").await.unwrap();
        assert_eq!(history.last().map(|h| h.id), Some(rec.id));
        let undo = b.plan_undo("g").await.unwrap();
        assert_eq!(undo.undo_of, Some(rec.id));
        assert!(undo.rows.iter().all(|r| r.after == 10));
        b.execute_reset(undo, false).await.unwrap();
        assert_eq!(b.describe_group("g").await.unwrap().total_lag(), 0);
        let nothing = b.plan_undo("g").await.unwrap_err();
        assert!(matches!(nothing, BackendError::NotFound(_)), "{nothing:?}");
    }

    pub async fn replay_copies_with_origin_headers(b: &dyn Backend) {
        b.create_topic("src", TopicConfig::with_partitions(1)).await.unwrap();
        b.create_topic("dst", TopicConfig::with_partitions(1)).await.unwrap();
        b.publish("src", publish_req(&["a", "b", "c", "d"])).await.unwrap();
        let req = ReplayRequest {
            source: "src".into(),
            partitions: vec![],
            range: ReplayRange::Offsets { from: 1, to: 3 },
            target: Some("dst".into()),
        };
        let plan = b.plan_replay(req).await.unwrap();
        assert_eq!(plan.total, 2);
        assert_eq!(b.describe_topic("dst").await.unwrap().backlog(), 0, "planning copies nothing");
        let r = b.execute_replay(plan).await.unwrap();
        assert_eq!(r.appended, 2);
        let got = b.peek("dst", PeekRequest { partition: Some(0), from: PeekFrom::Earliest, max: 10 }).await.unwrap();
        assert_eq!(got.iter().map(text).collect::<Vec<_>>(), vec!["b", "c"]);
        let origin: Vec<_> = got[0].headers.iter().map(|h| (h.name.as_str(), h.value.display())).collect();
        assert!(origin.contains(&("depot.origin.topic", "src".into())), "{origin:?}");
        assert!(origin.contains(&("depot.origin.offset", "1".into())), "{origin:?}");
    }

    pub async fn idempotent_producer_retries_are_not_duplicated(b: &dyn Backend) {
        b.create_topic("idem", TopicConfig::with_partitions(2)).await.unwrap();
        let req = PublishRequest {
            records: vec![OutRecord { partition: Some(1), ..OutRecord::text("once") }],
            producer: Some(ProducerTag { id: 42, sequence: 0 }),
        };
        let first = b.publish("idem", req.clone()).await.unwrap();
        let retry = b.publish("idem", req).await.unwrap();
        assert_eq!(first[0].offset, retry[0].offset);
        assert!(!first[0].duplicate && retry[0].duplicate);
        assert_eq!(b.describe_topic("idem").await.unwrap().partitions[1].end_offset, 1);
        let gap = PublishRequest {
            records: vec![OutRecord { partition: Some(1), ..OutRecord::text("gap") }],
            producer: Some(ProducerTag { id: 42, sequence: 5 }),
        };
        assert!(matches!(b.publish("idem", gap).await, Err(BackendError::Refused(_))));
        let no_partition =
            PublishRequest { records: vec![OutRecord::text("x")], producer: Some(ProducerTag { id: 1, sequence: 0 }) };
        assert!(matches!(b.publish("idem", no_partition).await, Err(BackendError::BadRequest(_))));
    }

    pub async fn errors_are_typed_and_say_what_to_do(b: &dyn Backend) {
        let e = b.publish("missing", publish_req(&["x"])).await.unwrap_err();
        assert!(matches!(e, BackendError::NotFound(_)) && e.to_string().contains("missing"), "{e:?}");
        let e = b.describe_group("nobody").await.unwrap_err();
        assert!(matches!(e, BackendError::NotFound(_)), "{e:?}");
        b.create_topic("e", TopicConfig::with_partitions(1)).await.unwrap();
        let e = b.publish("e", PublishRequest::default()).await.unwrap_err();
        assert!(matches!(e, BackendError::BadRequest(_)), "{e:?}");
        let e = b.fetch("e", 0, 5, 1, 0).await.unwrap_err();
        assert!(matches!(e, BackendError::BadRequest(_)) && e.to_string().contains("0..0"), "{e:?}");
        let bad_part =
            PublishRequest { records: vec![OutRecord { partition: Some(3), ..OutRecord::text("x") }], producer: None };
        let e = b.publish("e", bad_part).await.unwrap_err();
        assert!(matches!(e, BackendError::BadRequest(_)) && e.to_string().contains("0..1"), "{e:?}");
        assert_eq!(b.describe_topic("e").await.unwrap().backlog(), 0, "failed publishes leave nothing behind");
    }

    pub async fn capabilities_are_declared(b: &dyn Backend) {
        let c = b.capabilities().await.unwrap();
        assert_eq!(c.kind, "depot");
        assert!(c.partitions && c.publish && c.pull && c.undo && c.replay);
        assert_eq!(c.reset_modes.len(), 6);
        assert!(!c.read_only);
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = super::Harness::embedded();
                    super::checks::$name(h.b()).await;
                    h.shutdown().await;
                }
            )*
        }
        mod remote {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let h = super::Harness::remote().await;
                    super::checks::$name(h.b()).await;
                    h.shutdown().await;
                }
            )*
        }
    };
}

conformance!(
    topics_lifecycle,
    publish_and_peek_roundtrip,
    keyed_records_stay_in_order_on_one_partition,
    long_poll_fetch_wakes_on_publish,
    pull_commit_lag_and_redelivery,
    resets_plan_execute_and_undo,
    replay_copies_with_origin_headers,
    idempotent_producer_retries_are_not_duplicated,
    errors_are_typed_and_say_what_to_do,
    capabilities_are_declared,
);
