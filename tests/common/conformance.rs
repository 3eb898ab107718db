//! The backend conformance checks, written once for every engine. Each check adapts to what the
//! backend declares in its `Capabilities` — and asserts that what it cannot do is refused with
//! `Unsupported`, never silently skipped. Names get a per-run prefix, so the checks can run against
//! shared servers (NATS, Redis, Kafka) again and again.

use super::*;
use depot::backend::*;
use depot::core::*;
use std::time::Duration;

/// Unique names for one check.
pub struct Names(String);

impl Names {
    pub fn new() -> Names {
        let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        Names(format!("c{:x}", (n as u64) ^ u64::from(std::process::id()).rotate_left(32)))
    }
    pub fn t(&self, base: &str) -> String {
        format!("{}-{base}", self.0)
    }
}

fn parts(c: &Capabilities, want: u32) -> u32 {
    if c.partitions { want } else { 1 }
}

async fn offsets_of(b: &dyn Backend, topic: &str, p: u32) -> (u64, u64) {
    let d = b.describe_topic(topic).await.unwrap();
    let pi = &d.partitions[p as usize];
    (pi.log_start, pi.end_offset)
}

pub async fn topics_lifecycle(b: &dyn Backend) {
    let n = Names::new();
    let c = b.capabilities().await.unwrap();
    let name = n.t("orders");
    let want = parts(&c, 2);
    let t = b.create_topic(&name, TopicConfig::with_partitions(want)).await.unwrap();
    assert_eq!(t.partitions.len() as u32, want);
    assert!(b.list_topics().await.unwrap().iter().any(|t| t.name == name));
    let (start, end) = offsets_of(b, &name, want - 1).await;
    assert_eq!(start, end, "a new topic is empty");
    if !c.partitions {
        let e = b.create_topic(&n.t("many"), TopicConfig::with_partitions(3)).await.unwrap_err();
        assert!(matches!(e, BackendError::BadRequest(_) | BackendError::Unsupported(_)), "{e:?}");
    }
    let dup = b.create_topic(&name, TopicConfig::with_partitions(1)).await.unwrap_err();
    assert!(matches!(dup, BackendError::Conflict(_)), "{dup:?}");
    let bad = b.create_topic("no/slashes here", TopicConfig::with_partitions(1)).await.unwrap_err();
    assert!(matches!(bad, BackendError::BadRequest(_)), "{bad:?}");
    b.delete_topic(&name).await.unwrap();
    let gone = b.describe_topic(&name).await.unwrap_err();
    assert!(matches!(gone, BackendError::NotFound(_)), "{gone:?}");
    assert!(gone.to_string().contains(&name), "{gone}");
}

pub async fn publish_and_peek_roundtrip(b: &dyn Backend) {
    let n = Names::new();
    let c = b.capabilities().await.unwrap();
    let t = n.t("t");
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let binary = Payload(bytes::Bytes::from_static(&[0, 159, 146, 150, 255]));
    let headers = if c.headers { vec![Header::text("h", "v")] } else { Vec::new() };
    let req = PublishRequest {
        records: vec![
            OutRecord {
                key: Some(Payload::text("k")),
                value: Some(Payload::text("first")),
                headers: headers.clone(),
                partition: None,
            },
            OutRecord { value: Some(binary.clone()), ..OutRecord::default() },
        ],
        producer: None,
    };
    let acks = b.publish(&t, req).await.unwrap();
    assert_eq!(acks.len(), 2);
    assert!(acks[1].offset > acks[0].offset, "offsets increase: {acks:?}");
    let got = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Earliest, max: 10 }).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got.iter().map(|m| m.offset).collect::<Vec<_>>(), acks.iter().map(|a| a.offset).collect::<Vec<_>>());
    assert_eq!(got[0].key, Some(Payload::text("k")));
    assert_eq!(text(&got[0]), "first");
    for h in &headers {
        assert!(got[0].headers.contains(h), "header {h:?} in {:?}", got[0].headers);
    }
    assert_eq!(got[1].value, Some(binary), "binary values survive byte for byte");
    let second =
        b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Offset(acks[1].offset), max: 10 }).await.unwrap();
    assert_eq!(second.iter().map(|m| m.offset).collect::<Vec<_>>(), vec![acks[1].offset]);
    let last = b.peek(&t, PeekRequest { partition: None, from: PeekFrom::Latest(1), max: 10 }).await.unwrap();
    assert_eq!(last.iter().map(|m| m.offset).collect::<Vec<_>>(), vec![acks[1].offset]);
    if c.peek_by_time {
        let ts = got[0].timestamp;
        let by_time = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Time(ts), max: 1 }).await.unwrap();
        assert_eq!(by_time[0].offset, acks[0].offset);
        let future = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Time(ts + 3_600_000), max: 5 }).await;
        assert!(future.unwrap().is_empty());
    }
    let (_, end) = offsets_of(b, &t, 0).await;
    let beyond = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Offset(end + 50), max: 1 }).await;
    match beyond {
        Err(BackendError::BadRequest(m)) => {
            assert!(m.contains(&end.to_string()), "the error names the valid range: {m}")
        }
        Ok(v) => assert!(v.is_empty(), "nothing beyond the end"),
        Err(e) => panic!("peek past the end: {e:?}"),
    }
    let nopart = b.peek(&t, PeekRequest { partition: Some(7), from: PeekFrom::Earliest, max: 1 }).await.unwrap_err();
    assert!(matches!(nopart, BackendError::NotFound(_) | BackendError::BadRequest(_)), "{nopart:?}");
    // A tombstone (a null value) is kept as one where the engine has null values (depot, Kafka);
    // NATS and Redis have none and refuse it, publishing nothing.
    let tombstone = OutRecord { key: Some(Payload::text("k")), value: None, ..OutRecord::default() };
    let sent = b.publish(&t, PublishRequest { records: vec![tombstone], producer: None }).await;
    let after = b.peek(&t, PeekRequest { partition: Some(0), from: PeekFrom::Earliest, max: 10 }).await.unwrap();
    match c.kind.as_str() {
        "nats" | "redis" => {
            assert!(matches!(sent, Err(BackendError::Unsupported(_))), "{}: {sent:?}", c.kind);
            assert_eq!(after.len(), 2, "nothing published");
        }
        _ => {
            let ack = sent.unwrap_or_else(|e| panic!("{}: a tombstone: {e}", c.kind));
            assert_eq!(after.len(), 3);
            assert_eq!(
                (after[2].offset, &after[2].key, &after[2].value),
                (ack[0].offset, &Some(Payload::text("k")), &None)
            );
        }
    }
}

/// A peek pages past any one read's byte bound: 40 records of 300 KiB (12 MiB) come back whole
/// for `max 40`, and `last 20` are the newest 20, not the first 20 after the cut.
pub async fn large_peeks_page_to_max_and_last_is_the_newest(b: &dyn Backend) {
    let n = Names::new();
    let t = n.t("big");
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let value = |i: usize| format!("{i:02}{}", "x".repeat(300 << 10));
    let mut offsets = Vec::new();
    for i in 0..40 {
        let req = PublishRequest { records: vec![OutRecord::text(&value(i))], producer: None };
        offsets.push(b.publish(&t, req).await.unwrap()[0].offset);
    }
    let got = |m: &[Message]| m.iter().map(|m| m.offset).collect::<Vec<_>>();
    for partition in [Some(0), None] {
        let all = b.peek(&t, PeekRequest { partition, from: PeekFrom::Earliest, max: 40 }).await.unwrap();
        assert_eq!(got(&all), offsets, "max 40 over 12 MiB ({partition:?})");
        for (i, m) in all.iter().enumerate() {
            assert_eq!(m.value.as_ref().and_then(Payload::as_text), Some(value(i).as_str()), "record {i} whole");
        }
        let last = b.peek(&t, PeekRequest { partition, from: PeekFrom::Latest(20), max: 20 }).await.unwrap();
        assert_eq!(got(&last), offsets[20..], "last 20 ({partition:?})");
        let newest = b.peek(&t, PeekRequest { partition, from: PeekFrom::Latest(20), max: 5 }).await.unwrap();
        assert_eq!(got(&newest), offsets[35..], "last 20 cut to max 5 ({partition:?})");
    }
    b.delete_topic(&t).await.unwrap();
}

pub async fn keyed_records_stay_in_order_on_one_partition(b: &dyn Backend) {
    let n = Names::new();
    let c = b.capabilities().await.unwrap();
    let t = n.t("k");
    let np = parts(&c, 4);
    b.create_topic(&t, TopicConfig::with_partitions(np)).await.unwrap();
    let records: Vec<OutRecord> = (0..20)
        .map(|i| OutRecord { key: Some(Payload::text("customer-7")), ..OutRecord::text(&i.to_string()) })
        .collect();
    let acks = b.publish(&t, PublishRequest { records, producer: None }).await.unwrap();
    let p = acks[0].partition;
    assert!(acks.iter().all(|a| a.partition == p));
    assert_eq!(p, depot::engine::partitioner::partition_for_key(b"customer-7", np), "Kafka's partition for the key");
    let got = b.peek(&t, PeekRequest { partition: Some(p), from: PeekFrom::Earliest, max: 100 }).await.unwrap();
    let values: Vec<String> = got.iter().map(|m| text(m).to_string()).collect();
    assert_eq!(values, (0..20).map(|i| i.to_string()).collect::<Vec<_>>());
}

pub async fn long_poll_fetch_wakes_on_publish(b: &dyn Backend) {
    let n = Names::new();
    let t = n.t("lp");
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let (_, end) = offsets_of(b, &t, 0).await;
    let empty = b.fetch(&t, 0, end, 10, 50).await.unwrap();
    assert!(empty.is_empty(), "nothing arrives: empty after the wait");
    let (got, _) = tokio::join!(b.fetch(&t, 0, end, 10, 10_000), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        b.publish(&t, publish_req(&["wake"])).await.unwrap()
    });
    let got = got.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(text(&got[0]), "wake");
}

pub async fn pull_commit_lag_and_redelivery(b: &dyn Backend) {
    let n = Names::new();
    let c = b.capabilities().await.unwrap();
    let (t, g) = (n.t("jobs"), n.t("workers"));
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let values: Vec<String> = (0..10).map(|i| format!("job-{i}")).collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    let acks = b.publish(&t, publish_req(&refs)).await.unwrap();
    let off = |i: usize| acks[i].offset;
    let req = |max, commit| PullRequest { topic: t.clone(), max, commit, wait_ms: 5_000 };
    let first = b.pull(&g, req(4, true)).await.unwrap();
    assert_eq!(first.messages.iter().map(|m| m.offset).collect::<Vec<_>>(), (0..4).map(off).collect::<Vec<_>>());
    let gi = b.describe_group(&g).await.unwrap();
    assert_eq!(gi.partitions[0].committed, Some(off(4)));
    assert_eq!(gi.total_lag(), 6);
    let peeked = b.pull(&g, req(3, false)).await.unwrap();
    assert_eq!(peeked.messages.iter().map(|m| m.offset).collect::<Vec<_>>(), (4..7).map(off).collect::<Vec<_>>());
    assert_eq!(b.describe_group(&g).await.unwrap().total_lag(), 6, "not committed: lag unchanged");
    let again = b.pull(&g, req(3, false)).await.unwrap();
    assert_eq!(
        again.messages.iter().map(|m| m.offset).collect::<Vec<_>>(),
        (4..7).map(off).collect::<Vec<_>>(),
        "redelivered"
    );
    if c.redeliveries {
        assert!(b.describe_group(&g).await.unwrap().redeliveries() >= 3);
    }
    if c.commit {
        b.commit(&g, again.offsets.clone()).await.unwrap();
        assert_eq!(b.describe_group(&g).await.unwrap().total_lag(), 3);
        let back = b.commit(&g, vec![CommitOffset { topic: t.clone(), partition: 0, offset: off(1) }]).await;
        assert!(matches!(back, Err(BackendError::Refused(_))), "commits only move forward: {back:?}");
    } else {
        let e = b.commit(&g, again.offsets.clone()).await.unwrap_err();
        assert!(matches!(e, BackendError::Unsupported(_)), "{e:?}");
        b.pull(&g, req(3, true)).await.unwrap();
    }
    let rest = b.pull(&g, req(100, true)).await.unwrap();
    assert_eq!(rest.messages.len(), 3);
    assert_eq!(b.describe_group(&g).await.unwrap().total_lag(), 0);
    let none = b.pull(&g, PullRequest { wait_ms: 0, ..req(5, true) }).await.unwrap();
    assert!(none.messages.is_empty());
    assert!(b.list_groups().await.unwrap().iter().any(|x| x.name == g));
}

/// A pull of N shares N out over the partitions with records (like a Kafka fetch): three pulls of
/// 5 over 3 partitions × 10 records each take from every partition and never hand a record out
/// twice. One-partition engines get the same 30 records in their one partition.
pub async fn pulls_take_from_every_partition(b: &dyn Backend) {
    let n = Names::new();
    let c = b.capabilities().await.unwrap();
    let (t, g) = (n.t("fair"), n.t("fair-g"));
    let np = parts(&c, 3);
    b.create_topic(&t, TopicConfig::with_partitions(np)).await.unwrap();
    for p in 0..np {
        let records = (0..30 / np).map(|i| OutRecord { partition: Some(p), ..OutRecord::text(&format!("{p}-{i}")) });
        b.publish(&t, PublishRequest { records: records.collect(), producer: None }).await.unwrap();
    }
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..3 {
        let got = b.pull(&g, PullRequest { topic: t.clone(), max: 5, commit: true, wait_ms: 5_000 }).await.unwrap();
        assert_eq!(got.messages.len(), 5, "pull {i}: {:?}", got.messages);
        let touched: std::collections::BTreeSet<u32> = got.messages.iter().map(|m| m.partition).collect();
        assert_eq!(touched, (0..np).collect(), "pull {i} takes from every partition with records");
        for m in &got.messages {
            assert!(seen.insert((m.partition, m.offset)), "pull {i} handed out {}/{} again", m.partition, m.offset);
        }
    }
    assert_eq!(b.describe_group(&g).await.unwrap().total_lag(), 15, "every pulled record is committed");
}

pub async fn resets_plan_execute_and_undo(b: &dyn Backend) {
    let n = Names::new();
    let c = b.capabilities().await.unwrap();
    let (t, g) = (n.t("r"), n.t("g"));
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let refs: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let acks = b.publish(&t, publish_req(&refs.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap();
    let (start, end) = (acks[0].offset, acks[9].offset + 1);
    b.pull(&g, PullRequest { topic: t.clone(), max: 100, commit: true, wait_ms: 5_000 }).await.unwrap();
    let plan = |spec| ResetRequest { topic: t.clone(), partitions: vec![], spec };
    for mode in ResetMode::ALL {
        let (spec, want) = match mode {
            ResetMode::ToEarliest => (ResetSpec::ToEarliest, start),
            ResetMode::ToLatest => (ResetSpec::ToLatest, end),
            ResetMode::ToOffset => (ResetSpec::ToOffset(start + 3), start + 3),
            ResetMode::ShiftBy => (ResetSpec::ShiftBy(-4), end - 4),
            ResetMode::ToDatetime => (ResetSpec::ToDatetime(0), start),
            ResetMode::ByDuration => (ResetSpec::ByDuration(3_600_000), start),
        };
        let r = b.plan_reset(&g, plan(spec.clone())).await;
        if !c.reset_modes.contains(&mode) {
            assert!(matches!(r, Err(BackendError::Unsupported(_))), "{mode}: {r:?}");
            continue;
        }
        let p = r.unwrap();
        assert!(p.rows.iter().all(|r| r.after == want && r.before == Some(end)), "{spec}: {:?}", p.rows);
    }
    let clamped = b.plan_reset(&g, plan(ResetSpec::ToOffset(end + 500))).await.unwrap();
    assert!(clamped.rows[0].note.as_deref().unwrap_or("").contains("clamped"));
    assert_eq!(b.describe_group(&g).await.unwrap().total_lag(), 0, "planning changes nothing");
    let p = b.plan_reset(&g, plan(ResetSpec::ShiftBy(-4))).await.unwrap();
    let rec = b.execute_reset(p, false).await.unwrap();
    assert_eq!(b.describe_group(&g).await.unwrap().total_lag(), 4);
    let again = b.pull(&g, PullRequest { topic: t.clone(), max: 100, commit: false, wait_ms: 5_000 }).await.unwrap();
    assert_eq!(again.messages.first().map(|m| m.offset), Some(end - 4), "consumers resume at the reset offset");
    if c.undo {
        let history = b.reset_history(&g).await.unwrap();
        assert_eq!(history.last().map(|h| h.id), Some(rec.id));
        let undo = b.plan_undo(&g).await.unwrap();
        assert_eq!(undo.undo_of, Some(rec.id));
        assert!(undo.rows.iter().all(|r| r.after == end));
        b.execute_reset(undo, false).await.unwrap();
        assert_eq!(b.describe_group(&g).await.unwrap().total_lag(), 0);
    } else {
        let e = b.plan_undo(&g).await.unwrap_err();
        assert!(matches!(e, BackendError::Unsupported(_)), "{e:?}");
    }
}

pub async fn replay_copies_with_origin_headers(b: &dyn Backend) {
    let n = Names::new();
    let (src, dst) = (n.t("src"), n.t("dst"));
    b.create_topic(&src, TopicConfig::with_partitions(1)).await.unwrap();
    b.create_topic(&dst, TopicConfig::with_partitions(1)).await.unwrap();
    let acks = b.publish(&src, publish_req(&["a", "b", "c", "d"])).await.unwrap();
    let req = ReplayRequest {
        source: src.clone(),
        partitions: vec![],
        range: ReplayRange::Offsets { from: acks[1].offset, to: acks[3].offset },
        target: Some(dst.clone()),
    };
    let plan = b.plan_replay(req).await.unwrap();
    assert_eq!(plan.total, 2);
    assert_eq!(
        b.peek(&dst, PeekRequest { partition: None, from: PeekFrom::Earliest, max: 10 }).await.unwrap().len(),
        0
    );
    let r = b.execute_replay(plan).await.unwrap();
    assert_eq!(r.appended, 2);
    let got = b.peek(&dst, PeekRequest { partition: Some(0), from: PeekFrom::Earliest, max: 10 }).await.unwrap();
    assert_eq!(got.iter().map(text).collect::<Vec<_>>(), vec!["b", "c"]);
    let origin: Vec<_> = got[0].headers.iter().map(|h| (h.name.as_str(), h.display())).collect();
    assert!(origin.contains(&("depot.origin.topic", src.clone())), "{origin:?}");
    assert!(origin.contains(&("depot.origin.offset", acks[1].offset.to_string())), "{origin:?}");
    let original =
        b.peek(&src, PeekRequest { partition: Some(0), from: PeekFrom::Offset(acks[1].offset), max: 1 }).await.unwrap();
    assert!(origin.contains(&("depot.origin.timestamp", original[0].timestamp.to_string())), "{origin:?}");
}

/// Search finds the same records on every engine (or is refused as Unsupported where declared),
/// stops at its match bound, and continues from its cursors.
pub async fn search_finds_the_same_records_and_continues(b: &dyn Backend) {
    let n = Names::new();
    let c = b.capabilities().await.unwrap();
    let t = n.t("search");
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let records: Vec<OutRecord> = (0..40)
        .map(|i| OutRecord {
            key: Some(Payload::text(&format!("k{}", i % 4))),
            value: Some(Payload::text(&if i % 5 == 0 { format!("order {i} failed") } else { format!("order {i} ok") })),
            headers: if c.headers {
                vec![Header::text("tenant", if i % 2 == 0 { "acme" } else { "globex" })]
            } else {
                Vec::new()
            },
            partition: None,
        })
        .collect();
    let acks = b.publish(&t, PublishRequest { records, producer: None }).await.unwrap();
    let first = acks[0].offset;
    let req = SearchRequest { value: Some("failed".into()), ..SearchRequest::default() };
    let r = b.search(&t, req.clone()).await;
    if !c.search {
        assert!(matches!(r, Err(BackendError::Unsupported(_))), "{r:?}");
        return;
    }
    let r = r.unwrap();
    let rel = |r: &SearchResult| r.matches.iter().map(|m| m.offset - first).collect::<Vec<_>>();
    assert_eq!(rel(&r), [0, 5, 10, 15, 20, 25, 30, 35]);
    assert_eq!((r.scanned, r.stopped), (40, None));
    assert_eq!(text(&r.matches[1]), "order 5 failed");

    let by_key = SearchRequest { key: Some("k2".into()), regex: Some("^order [0-9]*0 ".into()), ..Default::default() };
    assert_eq!(rel(&b.search(&t, by_key).await.unwrap()), [10, 30]);
    if c.headers {
        let hdr = SearchRequest { header: Some(HeaderMatch::parse("tenant=glob").unwrap()), ..req.clone() };
        assert_eq!(rel(&b.search(&t, hdr).await.unwrap()), [5, 15, 25, 35]);
    }
    let ranged = SearchRequest { from_offset: Some(first + 6), to_offset: Some(first + 21), ..req.clone() };
    let r = b.search(&t, ranged).await.unwrap();
    assert_eq!((rel(&r), r.scanned), (vec![10, 15, 20], 15));

    // Bounded by matches: says so, and the cursors continue it without a gap or a repeat.
    let r = b.search(&t, SearchRequest { max_matches: 3, ..req.clone() }).await.unwrap();
    assert_eq!((rel(&r), r.stopped), (vec![0, 5, 10], Some(SearchBound::Matches)));
    assert_eq!(r.next[0].offset, first + 11);
    let rest = b.search(&t, SearchRequest { resume: r.next, ..req.clone() }).await.unwrap();
    assert_eq!((rel(&rest), rest.stopped), (vec![15, 20, 25, 30, 35], None));
    // Backwards from offset 25: the nearest first.
    let back = SearchRequest {
        backward: true,
        max_matches: 2,
        resume: vec![SearchCursor { partition: 0, offset: first + 25, done: false }],
        ..req.clone()
    };
    assert_eq!(rel(&b.search(&t, back).await.unwrap()), [20, 15]);
    let e = b.search(&t, SearchRequest { regex: Some("(".into()), ..Default::default() }).await.unwrap_err();
    assert!(matches!(e, BackendError::BadRequest(_)), "{e:?}");
    let e = b.search(&n.t("missing"), req).await.unwrap_err();
    assert!(matches!(e, BackendError::NotFound(_)), "{e:?}");
}

pub async fn idempotent_producer_retries_are_not_duplicated(b: &dyn Backend) {
    let n = Names::new();
    let c = b.capabilities().await.unwrap();
    let t = n.t("idem");
    let np = parts(&c, 2);
    b.create_topic(&t, TopicConfig::with_partitions(np)).await.unwrap();
    let p = np - 1;
    let req = PublishRequest {
        records: vec![OutRecord { partition: Some(p), ..OutRecord::text("once") }],
        producer: Some(ProducerTag { id: 42, sequence: 0 }),
    };
    let first = b.publish(&t, req.clone()).await;
    if !c.idempotent_producers {
        assert!(matches!(first, Err(BackendError::Unsupported(_))), "{first:?}");
        return;
    }
    let first = first.unwrap();
    let retry = b.publish(&t, req).await.unwrap();
    assert_eq!(first[0].offset, retry[0].offset);
    let (start, end) = offsets_of(b, &t, p).await;
    assert_eq!(end - start, 1);
}

pub async fn errors_are_typed_and_say_what_to_do(b: &dyn Backend) {
    let n = Names::new();
    let missing = n.t("missing");
    let e = b.publish(&missing, publish_req(&["x"])).await.unwrap_err();
    assert!(matches!(e, BackendError::NotFound(_)) && e.to_string().contains(&missing), "{e:?}");
    let e = b.describe_group(&n.t("nobody")).await.unwrap_err();
    assert!(matches!(e, BackendError::NotFound(_)), "{e:?}");
    let t = n.t("e");
    b.create_topic(&t, TopicConfig::with_partitions(1)).await.unwrap();
    let e = b.publish(&t, PublishRequest::default()).await.unwrap_err();
    assert!(matches!(e, BackendError::BadRequest(_)), "{e:?}");
    let bad_part =
        PublishRequest { records: vec![OutRecord { partition: Some(3), ..OutRecord::text("x") }], producer: None };
    let e = b.publish(&t, bad_part).await.unwrap_err();
    assert!(matches!(e, BackendError::BadRequest(_) | BackendError::NotFound(_)), "{e:?}");
    let (start, end) = offsets_of(b, &t, 0).await;
    assert_eq!(start, end, "failed publishes leave nothing behind");
}

pub async fn capabilities_are_declared(b: &dyn Backend, kind: &str) {
    let c = b.capabilities().await.unwrap();
    assert_eq!(c.kind, kind);
    assert!(c.publish, "every engine publishes");
    let json = serde_json::to_value(&c).unwrap();
    for (m, name) in c.reset_modes.iter().zip(json["reset_modes"].as_array().unwrap()) {
        assert!(
            ["to-earliest", "to-latest", "to-offset", "shift-by", "to-datetime", "by-duration"].contains(&m.name()),
            "unknown reset mode {m}"
        );
        assert_eq!(name.as_str(), Some(m.name()), "a mode travels as its kafka-consumer-groups name");
    }
}

/// Generates one test per check for a backend. `$make` is an async expression giving a value
/// with `.b()` (the backend) and `.finish()`.
#[macro_export]
macro_rules! conformance_suite {
    ($(#[$attr:meta])* $kind:literal, $make:expr) => {
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, topics_lifecycle);
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, publish_and_peek_roundtrip);
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, large_peeks_page_to_max_and_last_is_the_newest);
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, keyed_records_stay_in_order_on_one_partition);
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, long_poll_fetch_wakes_on_publish);
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, pull_commit_lag_and_redelivery);
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, pulls_take_from_every_partition);
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, resets_plan_execute_and_undo);
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, replay_copies_with_origin_headers);
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, search_finds_the_same_records_and_continues);
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, idempotent_producer_retries_are_not_duplicated);
        $crate::conformance_suite!(@one [$(#[$attr])*] $make, errors_are_typed_and_say_what_to_do);
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[$attr])*
        async fn capabilities_are_declared() {
            let h = $make;
            common::conformance::capabilities_are_declared(h.b(), $kind).await;
            h.finish().await;
        }
    };
    (@one [$($attrs:tt)*] $make:expr, $check:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $($attrs)*
        async fn $check() {
            let h = $make;
            common::conformance::$check(h.b()).await;
            h.finish().await;
        }
    };
}
