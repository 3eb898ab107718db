//! The engine façade as a user sees it: topics, partitioning, fetch, long-poll, time lookups,
//! retention, replay, offset resets, lag and rates. Time is a manual clock the tests move.

use bytes::Bytes;
use depot::core::{ReplayRange, ResetSpec, TopicConfig};
use depot::engine::partitioner::partition_for_key;
use depot::engine::{Clock, Engine, EngineConfig, EngineError, JoinRequest, ManualClock, NewRecord, Record, SyncMode};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the tests' clocks start: 2023-11-14T22:13:20Z.
const START_MS: i64 = 1_700_000_000_000;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(START_MS))
}

/// An engine on `clock` whose background maintenance never runs during a test (tests call it
/// explicitly).
fn open_on(dir: &std::path::Path, clock: &Arc<ManualClock>) -> Engine {
    let config = EngineConfig {
        sync: SyncMode::Never,
        maintenance_interval: Duration::from_secs(3600),
        clock: clock.clone(),
        ..Default::default()
    };
    Engine::open(dir, config).unwrap()
}

/// An engine on a clock of its own that nothing moves.
fn open(dir: &std::path::Path) -> Engine {
    open_on(dir, &clock())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn topic(partitions: u32) -> TopicConfig {
    TopicConfig::with_partitions(partitions)
}

fn val(i: u64) -> NewRecord {
    NewRecord::value(format!("value-{i}")).with_header("i", i.to_string())
}

fn fetch_all(e: &Engine, t: &str, p: u32) -> Vec<Record> {
    let info = e.describe_topic(t).unwrap();
    let part = &info.partitions[p as usize];
    let mut out = Vec::new();
    let mut at = part.log_start;
    while at < part.end_offset {
        let recs = e.fetch(t, p, at, 1000, 1 << 20).unwrap();
        at = recs.last().unwrap().offset + 1;
        out.extend(recs);
    }
    out
}

fn header<'a>(r: &'a Record, name: &str) -> Option<&'a [u8]> {
    r.headers.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.as_deref())
}

// ---- topics ---------------------------------------------------------------------------------------------

#[test]
fn topics_are_created_listed_described_and_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    let info = e.create_topic("orders.v2_eu-1", topic(3)).unwrap();
    assert_eq!(info.name, "orders.v2_eu-1");
    assert_eq!(info.partitions.len(), 3);
    assert!(info.partitions.iter().enumerate().all(|(i, p)| p.partition == i as u32 && p.end_offset == 0));
    e.create_topic("audit", TopicConfig { retention_ms: Some(60_000), ..topic(1) }).unwrap();

    let names: Vec<String> = e.list_topics().into_iter().map(|t| t.name).collect();
    assert_eq!(names, vec!["audit", "orders.v2_eu-1"]);
    e.publish("orders.v2_eu-1", (0..5).map(val).collect()).unwrap();
    let d = e.describe_topic("orders.v2_eu-1").unwrap();
    assert_eq!(d.backlog(), 5);
    assert!(d.size_bytes() > 0);
    assert_eq!(e.describe_topic("audit").unwrap().config.retention_ms, Some(60_000));

    // Duplicates, bad names, bad settings and unknown topics are clear errors.
    assert!(matches!(e.create_topic("audit", topic(1)), Err(EngineError::AlreadyExists { .. })));
    for bad in ["", ".", "..", ".hidden", "a/b", "a b", "ü", &"x".repeat(250)] {
        let err = e.create_topic(bad, topic(1)).unwrap_err();
        assert!(matches!(err, EngineError::InvalidArgument(_)), "{bad:?}: {err}");
    }
    assert!(matches!(e.create_topic("zero", topic(0)), Err(EngineError::InvalidArgument(_))));
    let tiny = TopicConfig { segment_bytes: Some(10), ..topic(1) };
    assert!(matches!(e.create_topic("tiny", tiny), Err(EngineError::InvalidArgument(_))));
    let err = e.describe_topic("nope").unwrap_err();
    assert!(matches!(err, EngineError::NotFound { .. }) && err.to_string().contains("\"nope\""), "{err}");
    assert!(matches!(e.append("nope", 0, &[val(0)], None), Err(EngineError::NotFound { .. })));
    assert!(matches!(e.fetch("audit", 7, 0, 1, 1), Err(EngineError::NotFound { .. })));
    assert!(matches!(e.append("audit", 0, &[], None), Err(EngineError::InvalidArgument(_))));
    assert!(matches!(e.delete_topic("nope"), Err(EngineError::NotFound { .. })));

    // Deleting removes the data; the name can be reused, starting empty.
    let dir = tmp.path().join("topics").join("orders.v2_eu-1");
    assert!(dir.exists());
    e.delete_topic("orders.v2_eu-1").unwrap();
    assert!(!dir.exists());
    assert!(matches!(e.describe_topic("orders.v2_eu-1"), Err(EngineError::NotFound { .. })));
    assert_eq!(e.list_topics().len(), 1);
    e.create_topic("orders.v2_eu-1", topic(2)).unwrap();
    assert_eq!(e.describe_topic("orders.v2_eu-1").unwrap().backlog(), 0);

    // Topics survive a restart with their settings.
    e.close().unwrap();
    drop(e);
    let e = open(tmp.path());
    let names: Vec<(String, usize)> = e.list_topics().into_iter().map(|t| (t.name, t.partitions.len())).collect();
    assert_eq!(names, vec![("audit".to_string(), 1), ("orders.v2_eu-1".to_string(), 2)]);
    assert_eq!(e.describe_topic("audit").unwrap().config.retention_ms, Some(60_000));
    e.close().unwrap();
}

// ---- partitioning ------------------------------------------------------------------------------------------

#[test]
fn keyed_records_go_to_the_murmur2_partition_and_keep_their_order() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", topic(4)).unwrap();
    // Kafka's murmur2 of "21" is -973932308; Kafka picks toPositive(hash) % partitions.
    assert_eq!(e.partition_for("t", b"21").unwrap(), ((-973932308i32 as u32) & 0x7fff_ffff) % 4);

    let keys = ["alice", "bob", "carol", "dave", "erin", "frank"];
    let mut sent = Vec::new();
    for round in 0..5 {
        let batch: Vec<NewRecord> =
            keys.iter().map(|k| NewRecord::keyed(k.to_string(), format!("{k}-{round}"))).collect();
        let placed = e.publish("t", batch).unwrap();
        for (k, (p, off)) in keys.iter().zip(placed) {
            assert_eq!(p, partition_for_key(k.as_bytes(), 4), "{k}");
            sent.push((k.to_string(), p, off, round));
        }
    }
    for k in keys {
        let mine: Vec<_> = sent.iter().filter(|s| s.0 == k).collect();
        assert!(mine.iter().all(|s| s.1 == mine[0].1), "{k} changed partition");
        assert!(mine.windows(2).all(|w| w[0].2 < w[1].2), "{k} out of order");
        let stored: Vec<String> = fetch_all(&e, "t", mine[0].1)
            .into_iter()
            .filter(|r| r.key.as_deref() == Some(k.as_bytes()))
            .map(|r| String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
            .collect();
        assert_eq!(stored, (0..5).map(|r| format!("{k}-{r}")).collect::<Vec<_>>());
    }
    let used: std::collections::BTreeSet<u32> = sent.iter().map(|s| s.1).collect();
    assert!(used.len() > 1, "six keys all hashed to one partition");
    e.close().unwrap();
}

#[test]
fn keyless_records_are_spread_over_partitions() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", topic(3)).unwrap();
    for i in 0..12 {
        let placed = e.publish("t", vec![val(i), val(i + 100)]).unwrap();
        // Sticky per call: one call's keyless records share a partition, in order.
        assert_eq!(placed[0].0, placed[1].0);
        assert_eq!(placed[0].1 + 1, placed[1].1);
    }
    let ends: Vec<u64> = e.describe_topic("t").unwrap().partitions.iter().map(|p| p.end_offset).collect();
    assert_eq!(ends, vec![8, 8, 8], "round-robin per call");
    e.close().unwrap();
}

// ---- fetch -------------------------------------------------------------------------------------------------

#[test]
fn fetch_is_bounded_by_records_and_bytes_but_returns_at_least_one_record() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", topic(1)).unwrap();
    // One batch of ten 100-byte records, then ten batches of one.
    let big: Vec<NewRecord> = (0..10).map(|i| NewRecord::value(vec![i as u8; 100])).collect();
    e.append("t", 0, &big, None).unwrap();
    for i in 10..20 {
        e.append("t", 0, &[NewRecord::value(vec![i as u8; 100])], None).unwrap();
    }
    let got = e.fetch("t", 0, 0, 3, 1 << 20).unwrap();
    assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![0, 1, 2]);
    let got = e.fetch("t", 0, 8, 5, 1 << 20).unwrap();
    assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![8, 9, 10, 11, 12], "reads across batches");
    assert_eq!(e.fetch("t", 0, 0, 1000, 1 << 20).unwrap().len(), 20);

    let one = got[0].encoded_len();
    for (start, max_bytes) in [(0u64, 250usize), (3, 450), (9, 250), (12, 350), (0, 1)] {
        let got = e.fetch("t", 0, start, 1000, max_bytes).unwrap();
        let bytes: usize = got.iter().map(Record::encoded_len).sum();
        assert!(!got.is_empty(), "at least one record");
        assert!(
            bytes <= max_bytes.max(one),
            "fetch from {start} with max_bytes {max_bytes} returned {} records of {bytes} bytes",
            got.len()
        );
        assert_eq!(got.len(), (max_bytes / one).max(1), "from {start} with max_bytes {max_bytes}");
        assert_eq!(got[0].offset, start);
        assert!(got.iter().all(|r| r.value.as_deref() == Some(&vec![r.offset as u8; 100][..])));
    }
    // A record bigger than max_bytes still comes back alone.
    e.append("t", 0, &[NewRecord::value(vec![1u8; 5000])], None).unwrap();
    assert_eq!(e.fetch("t", 0, 20, 10, 100).unwrap().len(), 1);
    e.close().unwrap();
}

#[test]
fn fetch_outside_the_log_names_the_valid_range() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", TopicConfig { segment_bytes: Some(1024), retention_bytes: Some(2048), ..topic(1) }).unwrap();
    for i in 0..60 {
        e.append("t", 0, &[NewRecord::value(vec![i as u8; 100])], None).unwrap();
    }
    assert!(e.enforce_retention().unwrap() > 0);
    let p = e.describe_topic("t").unwrap().partitions[0].clone();
    assert!(p.log_start > 0);
    assert_eq!(p.end_offset, 60);
    // At the end: nothing, no error. Past the end and below the start: the valid range.
    assert!(e.fetch("t", 0, 60, 10, 1 << 20).unwrap().is_empty());
    for bad in [61, 1000, 0, p.log_start - 1] {
        match e.fetch("t", 0, bad, 10, 1 << 20) {
            Err(err @ EngineError::OffsetOutOfRange { .. }) => {
                let msg = err.to_string();
                assert!(msg.contains(&format!("valid offsets are {}..60", p.log_start)), "{msg}");
                assert!(msg.contains(&format!("offset {bad} ")), "{msg}");
            }
            other => panic!("fetch at {bad}: expected OffsetOutOfRange, got {other:?}"),
        }
    }
    assert_eq!(e.fetch("t", 0, p.log_start, 1, 1 << 20).unwrap()[0].offset, p.log_start);
    e.close().unwrap();
}

#[test]
fn fetch_wait_returns_as_soon_as_a_record_arrives_and_empty_after_its_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", topic(2)).unwrap();

    let started = Instant::now();
    let got = e.fetch_wait("t", 0, 0, 10, 1 << 20, Duration::from_millis(200)).unwrap();
    assert!(got.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(200), "returned before its timeout: {:?}", started.elapsed());

    let waiter = {
        let e = e.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let got = e.fetch_wait("t", 1, 0, 10, 1 << 20, Duration::from_secs(20)).unwrap();
            (got, started.elapsed())
        })
    };
    // Appends to another partition must not wake the waiter with nothing: append there once the
    // waiter is listening, and give a wrong wake-up a moment to show.
    let p1 = e.partition_log("t", 1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while p1.appended.total_listeners() == 0 {
        assert!(Instant::now() < deadline, "the waiter never started waiting");
        std::thread::yield_now();
    }
    e.append("t", 0, &[val(0)], None).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert!(!waiter.is_finished(), "an append to partition 0 ended a wait on partition 1");
    e.append("t", 1, &[val(1)], None).unwrap();
    let (got, waited) = waiter.join().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].value, Some(Bytes::from("value-1")));
    assert!(waited < Duration::from_secs(5), "fetch_wait did not return promptly: {waited:?}");
    // Data already there: no waiting at all.
    let started = Instant::now();
    assert_eq!(e.fetch_wait("t", 0, 0, 10, 1 << 20, Duration::from_secs(20)).unwrap().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
    e.close().unwrap();
}

// ---- time ----------------------------------------------------------------------------------------------------

#[test]
fn offset_for_time_finds_the_first_record_at_or_after_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let e = open_on(tmp.path(), &clock);
    // Small segments and a small index interval, so the lookup crosses segments and index entries.
    e.create_topic("t", TopicConfig { segment_bytes: Some(1024), ..topic(1) }).unwrap();
    let before = clock.now_ms();
    clock.advance(ms(1));
    for i in 0..40u64 {
        e.append("t", 0, &[val(2 * i), val(2 * i + 1)], None).unwrap();
        if i % 3 == 0 {
            clock.advance(ms(1));
        }
    }
    assert!(e.describe_topic("t").unwrap().partitions[0].segments > 2);
    let all = fetch_all(&e, "t", 0);
    assert_eq!(all.len(), 80);
    assert!(all.windows(2).all(|w| w[0].timestamp <= w[1].timestamp), "timestamps never go back");
    assert_eq!((all[0].timestamp, all[79].timestamp), (before + 1, before + 14), "appends are stamped by the clock");
    assert_eq!(e.offset_for_time("t", 0, before).unwrap(), 0);
    for r in &all {
        let want = all.iter().find(|x| x.timestamp >= r.timestamp).unwrap().offset;
        assert_eq!(e.offset_for_time("t", 0, r.timestamp).unwrap(), want, "time {}", r.timestamp);
        let want = all.iter().find(|x| x.timestamp > r.timestamp).map_or(80, |x| x.offset);
        assert_eq!(e.offset_for_time("t", 0, r.timestamp + 1).unwrap(), want, "time {} + 1", r.timestamp);
    }
    let last = all.last().unwrap().timestamp;
    assert_eq!(e.offset_for_time("t", 0, last + 60_000).unwrap(), 80, "after everything: the end");
    // The same answers after a restart (indexes read back from disk).
    e.close().unwrap();
    drop(e);
    let e = open_on(tmp.path(), &clock);
    for r in all.iter().step_by(7) {
        let want = all.iter().find(|x| x.timestamp >= r.timestamp).unwrap().offset;
        assert_eq!(e.offset_for_time("t", 0, r.timestamp).unwrap(), want);
    }
    e.close().unwrap();
}

// ---- retention -----------------------------------------------------------------------------------------------

#[test]
fn retention_by_bytes_removes_whole_old_segments_and_moves_the_log_start() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", TopicConfig { segment_bytes: Some(2048), retention_bytes: Some(6000), ..topic(1) }).unwrap();
    e.create_topic("keep", TopicConfig { segment_bytes: Some(2048), ..topic(1) }).unwrap();
    for i in 0..200u64 {
        e.append("t", 0, &[val(i)], None).unwrap();
        e.append("keep", 0, &[val(i)], None).unwrap();
    }
    let before = e.describe_topic("t").unwrap().partitions[0].clone();
    assert!(before.segments > 4 && before.size_bytes > 6000);
    let deleted = e.enforce_retention().unwrap();
    assert!(deleted > 0);
    let after = e.describe_topic("t").unwrap().partitions[0].clone();
    assert_eq!(after.segments, before.segments - deleted);
    assert_eq!(after.end_offset, 200);
    assert!(after.log_start > 0);
    assert!(after.size_bytes >= 6000 - 2048 && after.size_bytes <= 6000 + 2048, "{}", after.size_bytes);
    // The new log start is a segment boundary and everything from it on is intact.
    let recs = fetch_all(&e, "t", 0);
    assert_eq!(recs.first().unwrap().offset, after.log_start);
    assert_eq!(recs.len() as u64, 200 - after.log_start);
    assert!(recs.iter().all(|r| header(r, "i") == Some(r.offset.to_string().as_bytes())));
    let files = std::fs::read_dir(tmp.path().join("topics/t/0")).unwrap().count();
    assert_eq!(
        files,
        after.segments * 3 + 2,
        "each segment has .log, .index, .timeindex; plus the checkpoint and the log start"
    );
    // A second pass has nothing to do; the topic without retention keeps everything.
    assert_eq!(e.enforce_retention().unwrap(), 0);
    assert_eq!(e.describe_topic("keep").unwrap().partitions[0].log_start, 0);
    // The log start survives a restart.
    e.close().unwrap();
    drop(e);
    let e = open(tmp.path());
    assert_eq!(e.describe_topic("t").unwrap().partitions[0].log_start, after.log_start);
    e.close().unwrap();
}

#[test]
fn retention_by_age_removes_old_segments_but_never_the_active_one() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let e = open_on(tmp.path(), &clock);
    e.create_topic("t", TopicConfig { segment_bytes: Some(1024), retention_ms: Some(300), ..topic(1) }).unwrap();
    for i in 0..50u64 {
        e.append("t", 0, &[val(i)], None).unwrap();
    }
    // Nothing is old enough yet.
    assert_eq!(e.enforce_retention().unwrap(), 0);
    let old_end = e.describe_topic("t").unwrap().partitions[0].end_offset;
    clock.advance(ms(350));
    // New records in new segments are young and stay.
    for i in 50..70u64 {
        e.append("t", 0, &[NewRecord::value(vec![0u8; 300]).with_header("i", i.to_string())], None).unwrap();
    }
    let before = e.describe_topic("t").unwrap().partitions[0].clone();
    let deleted = e.enforce_retention().unwrap();
    assert!(deleted > 0);
    let after = e.describe_topic("t").unwrap().partitions[0].clone();
    assert_eq!(after.segments, before.segments - deleted);
    assert!(after.log_start >= old_end.min(50) - 5 && after.log_start <= 50, "log start {}", after.log_start);
    let recs = fetch_all(&e, "t", 0);
    assert!(recs.iter().all(|r| header(r, "i") == Some(r.offset.to_string().as_bytes())));
    assert!(recs.iter().any(|r| r.offset == 69));

    // When everything is old, the active segment still stays (the log never loses its end).
    clock.advance(ms(350));
    e.enforce_retention().unwrap();
    let p = e.describe_topic("t").unwrap().partitions[0].clone();
    assert_eq!(p.segments, 1);
    assert_eq!(p.end_offset, 70);
    e.close().unwrap();
}

/// Appends one record of about 1000 bytes: with 1024-byte segments, each gets a segment of its own.
fn append_big(e: &Engine, i: u64) {
    e.append("t", 0, &[NewRecord::value(vec![i as u8; 1000]).with_header("i", i.to_string())], None).unwrap();
}

#[test]
fn retention_by_age_deletes_a_segment_the_millisecond_its_newest_record_is_older_than_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let e = open_on(tmp.path(), &clock);
    let retention = 60_000u64;
    e.create_topic("t", TopicConfig { segment_bytes: Some(1024), retention_ms: Some(retention), ..topic(1) }).unwrap();
    // Segments of offsets 0 and 1 at t0, 2 at t0 + 100, 3 at t0 + 250, and the active one (4).
    let t0 = clock.now_ms();
    append_big(&e, 0);
    append_big(&e, 1);
    clock.advance(ms(100));
    append_big(&e, 2);
    clock.advance(ms(150));
    append_big(&e, 3);
    append_big(&e, 4);
    let segments = |e: &Engine| e.describe_topic("t").unwrap().partitions[0].segments;
    let log_start = |e: &Engine| e.describe_topic("t").unwrap().partitions[0].log_start;
    assert_eq!(segments(&e), 5);
    let r = retention as i64;
    // (clock, segments deleted by this pass, log start after it)
    for (at, deleted, start) in [
        (t0 + r, 0, 0),
        (t0 + r + 1, 2, 2),
        (t0 + 100 + r, 0, 2),
        (t0 + 100 + r + 1, 1, 3),
        (t0 + 250 + r, 0, 3),
        // Offset 3's segment goes; the active segment (offset 4, as old) never does.
        (t0 + 250 + r + 1, 1, 4),
        (t0 + 10 * r, 0, 4),
    ] {
        clock.set_ms(at);
        assert_eq!(e.enforce_retention().unwrap(), deleted, "at t0 + {}", at - t0);
        assert_eq!(log_start(&e), start, "at t0 + {}", at - t0);
    }
    assert_eq!(segments(&e), 1);
    assert_eq!(e.fetch("t", 0, 4, 10, 1 << 20).unwrap().len(), 1);
    e.close().unwrap();
}

#[test]
fn background_maintenance_enforces_retention_by_the_engine_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let config = EngineConfig {
        sync: SyncMode::Never,
        maintenance_interval: ms(10),
        clock: clock.clone(),
        ..Default::default()
    };
    let e = Engine::open(tmp.path(), config).unwrap();
    e.create_topic("t", TopicConfig { segment_bytes: Some(1024), retention_ms: Some(3_600_000), ..topic(1) }).unwrap();
    for i in 0..3 {
        append_big(&e, i);
    }
    // An hour passes on the engine's clock (not on the wall clock): the maintenance thread,
    // which wakes on real time, deletes the two sealed segments.
    clock.advance(Duration::from_secs(3600) + ms(1));
    let deadline = Instant::now() + Duration::from_secs(20);
    while e.describe_topic("t").unwrap().partitions[0].log_start < 2 {
        assert!(Instant::now() < deadline, "the maintenance thread did not enforce retention");
        std::thread::yield_now();
    }
    assert_eq!(e.describe_topic("t").unwrap().partitions[0].segments, 1);
    e.close().unwrap();
}

#[test]
fn retention_longer_than_any_clock_keeps_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    for (name, ms) in [("max", u64::MAX), ("past-i64", i64::MAX as u64 + 1), ("i64", i64::MAX as u64)] {
        e.create_topic(name, TopicConfig { segment_bytes: Some(1024), retention_ms: Some(ms), ..topic(1) }).unwrap();
        for i in 0..50u64 {
            e.append(name, 0, &[val(i)], None).unwrap();
        }
    }
    assert_eq!(e.enforce_retention().unwrap(), 0, "now − retention saturates instead of wrapping into the future");
    for name in ["max", "past-i64", "i64"] {
        let p = e.describe_topic(name).unwrap().partitions[0].clone();
        assert!(p.segments > 1 && p.log_start == 0, "{name}: {p:?}");
    }
    e.close().unwrap();
}

#[test]
fn reads_racing_with_retention_never_skip_records_silently() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", TopicConfig { segment_bytes: Some(1024), retention_bytes: Some(3000), ..topic(1) }).unwrap();
    e.append("t", 0, &[val(0)], None).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (e, stop) = (e.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 1;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                e.append("t", 0, &[val(i)], None).unwrap();
                e.enforce_retention().unwrap();
                i += 1;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_millis(800);
    let (mut served, mut out_of_range) = (0, 0);
    while Instant::now() < deadline {
        let start = e.describe_topic("t").unwrap().partitions[0].log_start;
        match e.fetch("t", 0, start, 5, 1 << 20) {
            Ok(recs) => {
                // Whatever comes back starts exactly where it was asked to.
                assert_eq!(recs.first().map(|r| r.offset), Some(start), "asked for {start}");
                assert!(recs.iter().all(|r| header(r, "i") == Some(r.offset.to_string().as_bytes())));
                served += 1;
            }
            Err(EngineError::OffsetOutOfRange { requested, start: now_start, .. }) => {
                assert!(requested < now_start);
                out_of_range += 1;
            }
            Err(other) => panic!("{other}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert!(served > 0, "served {served}, out of range {out_of_range}");
    assert!(e.describe_topic("t").unwrap().partitions[0].log_start > 0);
    e.close().unwrap();
}

// ---- replay --------------------------------------------------------------------------------------------------

#[test]
fn replay_copies_records_with_origin_headers_to_another_topic_and_to_the_same_topic() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let e = open_on(tmp.path(), &clock);
    e.create_topic("src", topic(2)).unwrap();
    e.create_topic("dst", topic(3)).unwrap();
    for i in 0..10u64 {
        let key = if i % 2 == 0 { Some(Bytes::from(format!("k{i}"))) } else { None };
        let r = NewRecord { key, ..NewRecord::value(format!("v{i}")).with_header("orig", "yes") };
        e.append("src", (i % 2) as u32, &[r], None).unwrap();
    }
    let plan = e.plan_replay("src", None, ReplayRange::Offsets { from: 1, to: 4 }, Some("dst")).unwrap();
    assert_eq!(
        plan.rows.iter().map(|r| (r.partition, r.from, r.to, r.count)).collect::<Vec<_>>(),
        vec![(0, 1, 4, 3), (1, 1, 4, 3)]
    );
    assert_eq!(plan.total, 6);
    // Planning changes nothing.
    assert_eq!(e.describe_topic("dst").unwrap().backlog(), 0);
    let done = e.execute_replay(&plan).unwrap();
    assert_eq!(done.appended, 6);
    let copies: Vec<Record> = (0..3).flat_map(|p| fetch_all(&e, "dst", p)).collect();
    assert_eq!(copies.len(), 6);
    for (p, copy) in (0..3).flat_map(|p| fetch_all(&e, "dst", p).into_iter().map(move |r| (p, r))) {
        let origin_p: u32 =
            std::str::from_utf8(header(&copy, "depot.origin.partition").unwrap()).unwrap().parse().unwrap();
        let origin_o: u64 =
            std::str::from_utf8(header(&copy, "depot.origin.offset").unwrap()).unwrap().parse().unwrap();
        assert_eq!(header(&copy, "depot.origin.topic"), Some(&b"src"[..]));
        assert!((1..4).contains(&origin_o));
        let original = &e.fetch("src", origin_p, origin_o, 1, 1 << 20).unwrap()[0];
        assert_eq!((&copy.key, &copy.value), (&original.key, &original.value));
        let ts = original.timestamp.to_string();
        assert_eq!(header(&copy, "depot.origin.timestamp"), Some(ts.as_bytes()), "the original's time travels");
        assert_eq!(header(&copy, "orig"), Some(&b"yes"[..]));
        if let Some(k) = &copy.key {
            assert_eq!(p, partition_for_key(k, 3), "a keyed copy goes to its key's partition in the target");
        }
    }

    // To the same topic, one partition: copies are appended at its end; the range is clamped.
    let plan = e.plan_replay("src", Some(&[0]), ReplayRange::Offsets { from: 3, to: 100 }, None).unwrap();
    assert_eq!((plan.target.as_str(), plan.rows.len(), plan.rows[0].from, plan.rows[0].to), ("src", 1, 3, 5));
    assert_eq!(e.execute_replay(&plan).unwrap().appended, 2);
    let p0 = fetch_all(&e, "src", 0);
    assert_eq!(p0.len(), 7);
    for (copy, origin) in p0[5..].iter().zip(&p0[3..5]) {
        assert_eq!((&copy.key, &copy.value), (&origin.key, &origin.value));
        assert_eq!(header(copy, "depot.origin.offset"), Some(origin.offset.to_string().as_bytes()));
        assert_eq!(header(copy, "depot.origin.partition"), Some(&b"0"[..]));
    }
    assert_eq!(e.describe_topic("src").unwrap().partitions[1].end_offset, 5, "other partitions untouched");

    // A time window: everything up to now is in it; the future is empty.
    let now = clock.now_ms();
    let plan = e.plan_replay("src", None, ReplayRange::Time { since_ms: 0, until_ms: now + 1 }, Some("dst")).unwrap();
    assert_eq!(plan.total, 12);
    let plan = e
        .plan_replay("src", None, ReplayRange::Time { since_ms: now + 1000, until_ms: now + 2000 }, Some("dst"))
        .unwrap();
    assert_eq!(plan.total, 0);
    assert!(matches!(
        e.plan_replay("src", None, ReplayRange::Offsets { from: 5, to: 1 }, None),
        Err(EngineError::InvalidArgument(_))
    ));
    assert!(matches!(
        e.plan_replay("src", None, ReplayRange::Offsets { from: 0, to: 1 }, Some("nope")),
        Err(EngineError::NotFound { .. })
    ));
    e.close().unwrap();
}

// ---- resets --------------------------------------------------------------------------------------------------

/// A group "g" on topic "t" (2 partitions of 10 records, appended in two halves a second apart)
/// with committed offsets 6 and 4 and no live members; the clock ends 2.5 s after the second
/// half. Returns the timestamp of the second half.
fn reset_fixture(e: &Engine, clock: &ManualClock) -> i64 {
    e.create_topic("t", topic(2)).unwrap();
    for p in 0..2 {
        e.append("t", p, &(0..5).map(val).collect::<Vec<_>>(), None).unwrap();
    }
    clock.advance(Duration::from_secs(1));
    let second = clock.now_ms();
    for p in 0..2 {
        e.append("t", p, &(5..10).map(val).collect::<Vec<_>>(), None).unwrap();
    }
    let m = e.join_group("g", JoinRequest::new("c", &["t"])).unwrap();
    e.poll("g", &m.member_id, m.generation, 100, 1 << 20).unwrap();
    e.commit("g", &m.member_id, m.generation, &[("t".into(), 0, 6), ("t".into(), 1, 4)]).unwrap();
    e.leave_group("g", &m.member_id).unwrap();
    assert_eq!(e.fetch("t", 0, 5, 1, 1 << 20).unwrap()[0].timestamp, second);
    clock.advance(ms(2500));
    second
}

#[test]
fn reset_plans_cover_all_six_modes_and_clamp_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let e = open_on(tmp.path(), &clock);
    let second_half = reset_fixture(&e, &clock);
    let now = clock.now_ms();
    let ms_since_second = (now - second_half) as u64;
    assert_eq!(ms_since_second, 2500);
    let cases: Vec<(ResetSpec, Vec<u64>)> = vec![
        (ResetSpec::ToEarliest, vec![0, 0]),
        (ResetSpec::ToLatest, vec![10, 10]),
        (ResetSpec::ToOffset(3), vec![3, 3]),
        (ResetSpec::ShiftBy(-2), vec![4, 2]),
        (ResetSpec::ShiftBy(3), vec![9, 7]),
        (ResetSpec::ToDatetime(second_half), vec![5, 5]),
        (ResetSpec::ToDatetime(now + 60_000), vec![10, 10]),
        (ResetSpec::ByDuration(ms_since_second), vec![5, 5]),
        (ResetSpec::ByDuration(ms_since_second + 1), vec![5, 5]),
        (ResetSpec::ByDuration(ms_since_second - 1), vec![10, 10]),
        (ResetSpec::ByDuration(3_600_000), vec![0, 0]),
    ];
    for (spec, want) in cases {
        let plan = e.plan_reset("g", "t", None, spec.clone()).unwrap();
        let rows: Vec<(u32, Option<u64>, u64)> = plan.rows.iter().map(|r| (r.partition, r.before, r.after)).collect();
        assert_eq!(rows, vec![(0, Some(6), want[0]), (1, Some(4), want[1])], "{spec}");
        assert!(plan.rows.iter().all(|r| r.note.is_none() && r.log_start == 0 && r.end_offset == 10), "{spec}");
        assert!(plan.live_members.is_empty());
    }
    // Planning is a dry run.
    assert_eq!(
        e.describe_group("g").unwrap().partitions.iter().map(|p| p.committed).collect::<Vec<_>>(),
        vec![Some(6), Some(4)]
    );

    // Out of range targets are clamped and the plan says so.
    let plan = e.plan_reset("g", "t", Some(&[1]), ResetSpec::ToOffset(50)).unwrap();
    assert_eq!((plan.rows.len(), plan.rows[0].after), (1, 10));
    assert!(plan.rows[0].note.as_deref().unwrap().contains("clamped to 10"), "{:?}", plan.rows[0].note);
    let plan = e.plan_reset("g", "t", None, ResetSpec::ShiftBy(-100)).unwrap();
    assert!(plan.rows.iter().all(|r| r.after == 0 && r.note.as_deref().unwrap().contains("before the log start")));
    // A group that never committed shifts from the log start.
    let plan = e.plan_reset("fresh", "t", None, ResetSpec::ShiftBy(2)).unwrap();
    assert!(plan.rows.iter().all(|r| r.before.is_none() && r.after == 2));
    assert!(matches!(e.plan_reset("g", "t", Some(&[5]), ResetSpec::ToEarliest), Err(EngineError::NotFound { .. })));
    assert!(matches!(e.plan_reset("g", "nope", None, ResetSpec::ToEarliest), Err(EngineError::NotFound { .. })));
    e.close().unwrap();
}

#[test]
fn resets_are_refused_with_live_members_unless_forced_conflict_when_stale_and_undo_from_the_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let e = open_on(tmp.path(), &clock);
    reset_fixture(&e, &clock);

    // Executing applies exactly the plan, and it is journaled.
    let plan = e.plan_reset("g", "t", None, ResetSpec::ToEarliest).unwrap();
    let r1 = e.execute_reset(&plan, false).unwrap();
    assert_eq!(r1.at_ms, clock.now_ms(), "journaled at the engine clock's time");
    assert_eq!(r1.rows, vec![(0, Some(6), 0), (1, Some(4), 0)]);
    assert!(!r1.forced);
    let committed = |e: &Engine| -> Vec<Option<u64>> {
        e.describe_group("g").unwrap().partitions.iter().map(|p| p.committed).collect()
    };
    assert_eq!(committed(&e), vec![Some(0), Some(0)]);

    // A live member: refused (naming it) unless forced.
    let m = e.join_group("g", JoinRequest::new("live", &["t"])).unwrap();
    let plan = e.plan_reset("g", "t", None, ResetSpec::ToOffset(8)).unwrap();
    assert_eq!(plan.live_members, vec![m.member_id.clone()]);
    let err = e.execute_reset(&plan, false).unwrap_err();
    assert!(matches!(err, EngineError::Refused(_)) && err.to_string().contains(&m.member_id), "{err}");
    assert_eq!(committed(&e), vec![Some(0), Some(0)], "a refused reset changes nothing");
    let r2 = e.execute_reset(&plan, true).unwrap();
    assert!(r2.forced);
    assert_eq!(committed(&e), vec![Some(8), Some(8)]);
    // The live member continues from the reset position.
    let m = e.heartbeat("g", &m.member_id).unwrap();
    let got = e.poll("g", &m.member_id, m.generation, 100, 1 << 20).unwrap();
    assert_eq!(
        got.iter().map(|d| (d.partition, d.record.offset)).collect::<Vec<_>>(),
        vec![(0, 8), (0, 9), (1, 8), (1, 9)]
    );

    // Offsets that moved after planning: conflict, and nothing changes.
    let plan = e.plan_reset("g", "t", None, ResetSpec::ShiftBy(-3)).unwrap();
    e.commit_delivered("g", &m.member_id, m.generation).unwrap();
    let err = e.execute_reset(&plan, true).unwrap_err();
    assert!(matches!(err, EngineError::Conflict(_)) && err.to_string().contains("plan again"), "{err}");
    assert_eq!(committed(&e), vec![Some(10), Some(10)]);
    e.leave_group("g", &m.member_id).unwrap();

    // Undo restores the offsets before the last reset (8, 8) and is journaled as an undo.
    let undo = e.plan_undo("g").unwrap();
    assert_eq!(undo.undo_of, Some(r2.id));
    assert_eq!(undo.rows.iter().map(|r| (r.before, r.after)).collect::<Vec<_>>(), vec![(Some(10), 0), (Some(10), 0)]);
    let u = e.execute_reset(&undo, false).unwrap();
    assert_eq!(u.undo_of, Some(r2.id));
    assert_eq!(committed(&e), vec![Some(0), Some(0)]);
    // The next undo goes one further back: the first reset (to 6 and 4).
    let undo = e.plan_undo("g").unwrap();
    assert_eq!(undo.undo_of, Some(r1.id));
    e.execute_reset(&undo, false).unwrap();
    assert_eq!(committed(&e), vec![Some(6), Some(4)]);
    assert!(matches!(e.plan_undo("g"), Err(EngineError::NotFound { .. })));
    let history = e.reset_history("g");
    assert_eq!(
        history.iter().map(|h| (h.id, h.undo_of)).collect::<Vec<_>>(),
        vec![(r1.id, None), (r2.id, None), (u.id, Some(r2.id)), (u.id + 1, Some(r1.id))]
    );
    e.close().unwrap();
}

// ---- lag -------------------------------------------------------------------------------------------------------

#[test]
fn lag_is_reported_in_messages_and_in_time() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let e = open_on(tmp.path(), &clock);
    e.create_topic("t", topic(2)).unwrap();
    e.append("t", 0, &(0..10).map(val).collect::<Vec<_>>(), None).unwrap();
    e.append("t", 1, &(0..4).map(val).collect::<Vec<_>>(), None).unwrap();
    clock.advance(ms(20));

    let m = e.join_group("g", JoinRequest::new("c", &["t"])).unwrap();
    // Nothing committed yet: lag counts from the log start.
    let g = e.describe_group("g").unwrap();
    assert_eq!(g.partitions.iter().map(|p| (p.committed, p.lag)).collect::<Vec<_>>(), vec![(None, 10), (None, 4)]);
    assert_eq!(g.total_lag(), 14);
    assert!(g.partitions.iter().all(|p| p.lag_ms == 20), "{:?}", g.partitions);

    e.commit("g", &m.member_id, m.generation, &[("t".into(), 0, 3), ("t".into(), 1, 4)]).unwrap();
    let g = e.describe_group("g").unwrap();
    let p0 = &g.partitions[0];
    assert_eq!((p0.committed, p0.lag, p0.end_offset), (Some(3), 7, 10));
    assert_eq!(p0.lag_ms, 20, "behind: the age of the first unconsumed record");
    let p1 = &g.partitions[1];
    assert_eq!((p1.lag, p1.lag_ms), (0, 0), "caught up");
    assert_eq!(g.total_lag(), 7);
    assert_eq!(g.max_lag_ms(), p0.lag_ms);
    assert!(p0.owner.as_deref() == Some(m.member_id.as_str()));

    e.commit("g", &m.member_id, m.generation, &[("t".into(), 0, 10)]).unwrap();
    let g = e.describe_group("g").unwrap();
    assert_eq!((g.total_lag(), g.max_lag_ms()), (0, 0));
    e.close().unwrap();
}

#[test]
fn lag_in_time_is_the_clock_now_minus_the_oldest_unconsumed_records_timestamp() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let e = open_on(tmp.path(), &clock);
    e.create_topic("t", topic(1)).unwrap();
    // Offsets 0..3 at t0, t0 + 100, t0 + 350.
    let t0 = clock.now_ms();
    for step in [0, 100, 250] {
        clock.advance(ms(step));
        e.append("t", 0, &[val(0)], None).unwrap();
    }
    clock.advance(ms(1000));
    let lag_ms = |e: &Engine| e.describe_group("g").unwrap().partitions[0].lag_ms;
    e.commit_offsets("g", &[("t".into(), 0, 0)]).unwrap();
    assert_eq!(lag_ms(&e), (clock.now_ms() - t0) as u64);
    assert_eq!(lag_ms(&e), 1350);
    // It grows with the clock while nothing is consumed, and drops as the group moves on.
    clock.advance(ms(650));
    assert_eq!(lag_ms(&e), 2000);
    e.commit_offsets("g", &[("t".into(), 0, 1)]).unwrap();
    assert_eq!(lag_ms(&e), (clock.now_ms() - (t0 + 100)) as u64);
    e.commit_offsets("g", &[("t".into(), 0, 2)]).unwrap();
    assert_eq!(lag_ms(&e), 1650);
    e.commit_offsets("g", &[("t".into(), 0, 3)]).unwrap();
    assert_eq!(lag_ms(&e), 0, "caught up");
    e.close().unwrap();
}

#[test]
fn rates_are_records_per_second_of_the_engine_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let e = open_on(tmp.path(), &clock);
    e.create_topic("t", topic(1)).unwrap();
    let m = e.join_group("g", JoinRequest::new("c", &["t"])).unwrap();
    // Twelve simulated seconds of 25 records in and 10 out per second.
    for _ in 0..12 {
        e.append("t", 0, &(0..25).map(val).collect::<Vec<_>>(), None).unwrap();
        assert_eq!(e.poll("g", &m.member_id, m.generation, 10, 1 << 20).unwrap().len(), 10);
        clock.advance(Duration::from_secs(1));
        e.heartbeat("g", &m.member_id).unwrap();
    }
    let p = e.describe_topic("t").unwrap().partitions[0].clone();
    assert_eq!((p.rate_in, p.rate_out), (25.0, 10.0));
    assert_eq!(e.describe_group("g").unwrap().consume_rate, 10.0);
    // Ten quiet seconds later the window holds nothing.
    clock.advance(Duration::from_secs(10));
    let p = e.describe_topic("t").unwrap().partitions[0].clone();
    assert_eq!((p.rate_in, p.rate_out), (0.0, 0.0));
    e.close().unwrap();
}

#[test]
fn waits_longer_than_the_clock_can_count_wait_for_a_record_instead_of_panicking() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", topic(1)).unwrap();
    e.append("t", 0, &[val(0)], None).unwrap();
    let got = e.fetch_wait("t", 0, 0, 10, 1 << 20, Duration::MAX).unwrap();
    assert_eq!(got.len(), 1);
    let m = e.join_group("g", JoinRequest::new("c", &["t"])).unwrap();
    let d = e.poll_wait("g", &m.member_id, m.generation, 10, 1 << 20, Duration::MAX).unwrap();
    assert_eq!(d.len(), 1);
    // At the end of the log, a wait without a deadline returns when a record arrives.
    let (tx, rx) = std::sync::mpsc::channel();
    let e2 = e.clone();
    let waiter = std::thread::spawn(move || {
        tx.send(()).unwrap();
        e2.fetch_wait("t", 0, 1, 10, 1 << 20, Duration::MAX).map(|r| r.len())
    });
    rx.recv().unwrap();
    e.append("t", 0, &[val(1)], None).unwrap();
    assert_eq!(waiter.join().unwrap().unwrap(), 1);
}

#[test]
fn search_stops_at_its_bounds_says_so_and_continues_where_it_stopped() {
    use depot::core::{HeaderMatch, SearchBound, SearchRequest};
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path());
    e.create_topic("s", topic(2)).unwrap();
    // 600 records per partition; every 7th value says "error"; values are 12 bytes or so.
    for p in 0..2u32 {
        let recs: Vec<NewRecord> = (0..600u64)
            .map(|i| {
                let v = if i % 7 == 0 { format!("error {i:05}") } else { format!("fine  {i:05}") };
                NewRecord::value(v).with_header("trace", format!("t{}", i % 10))
            })
            .collect();
        e.append("s", p, &recs, None).unwrap();
    }
    let want: usize = 2 * (0..600).filter(|i| i % 7 == 0).count();
    let base = SearchRequest { value: Some("error".into()), max_bytes: 1 << 30, ..SearchRequest::default() };

    // Unbounded enough: every match, the whole range, nothing cut short.
    let all = e.search("s", &SearchRequest { max_matches: 10_000, ..base.clone() }).unwrap();
    assert_eq!(all.matches.len(), want);
    assert_eq!(all.stopped, None);
    assert_eq!(all.scanned, 1200);
    assert!(all.next.iter().all(|c| c.done && c.offset == 600), "{:?}", all.next);

    // M matches: cut short, says so; continuing from its cursors finds the rest, none twice.
    let mut seen = Vec::new();
    let mut req = SearchRequest { max_matches: 25, ..base.clone() };
    let mut rounds = 0;
    loop {
        let r = e.search("s", &req).unwrap();
        rounds += 1;
        seen.extend(r.matches.iter().map(|m| (m.partition, m.offset)));
        if r.stopped.is_none() {
            break;
        }
        assert_eq!(r.stopped, Some(SearchBound::Matches));
        assert_eq!(r.matches.len(), 25);
        req.resume = r.next;
        assert!(rounds < 20, "the search makes progress");
    }
    let mut expect: Vec<(u32, u64)> = all.matches.iter().map(|m| (m.partition, m.offset)).collect();
    expect.sort();
    seen.sort();
    assert_eq!(seen, expect, "continued searches find each match exactly once");
    assert_eq!(rounds, want.div_ceil(25));

    // S bytes on one partition: stops once that much was scanned, and says where it stands.
    let one = SearchRequest { partition: Some(1), max_bytes: 1000, ..base.clone() };
    let r = e.search("s", &one).unwrap();
    assert_eq!(r.stopped, Some(SearchBound::Bytes));
    assert!(r.scanned_bytes >= 1000 && r.scanned_bytes < 1000 + 40, "{}", r.scanned_bytes);
    assert_eq!(r.next.len(), 1);
    let next = r.next[0];
    assert_eq!((next.partition, next.offset, next.done), (1, r.scanned, false));
    assert!(r.matches.iter().all(|m| m.partition == 1 && m.offset < next.offset));
    let rest = e.search("s", &SearchRequest { resume: r.next.clone(), max_bytes: 1 << 30, ..one.clone() }).unwrap();
    assert_eq!(r.matches.len() + rest.matches.len(), want / 2);
    assert_eq!(rest.matches.first().map(|m| m.offset), Some(next.offset.div_ceil(7) * 7));

    // Backwards from a cursor: the nearest match below it first.
    let back = SearchRequest {
        partition: Some(0),
        backward: true,
        max_matches: 2,
        resume: vec![depot::core::SearchCursor { partition: 0, offset: 100, done: false }],
        ..base.clone()
    };
    let r = e.search("s", &back).unwrap();
    assert_eq!(r.matches.iter().map(|m| m.offset).collect::<Vec<_>>(), [98, 91]);
    assert_eq!((r.next[0].offset, r.stopped), (91, Some(SearchBound::Matches)));

    // Header and key criteria, an offset range, and a refused regex.
    let hdr = SearchRequest {
        partition: Some(0),
        header: Some(HeaderMatch::parse("trace=t3").unwrap()),
        from_offset: Some(100),
        to_offset: Some(200),
        ..SearchRequest::default()
    };
    let r = e.search("s", &hdr).unwrap();
    assert_eq!(r.matches.iter().map(|m| m.offset).collect::<Vec<_>>(), (103..200).step_by(10).collect::<Vec<_>>());
    assert_eq!(r.scanned, 100, "only the range is scanned");
    let bad = e.search("s", &SearchRequest { regex: Some("(".into()), ..SearchRequest::default() }).unwrap_err();
    assert!(matches!(bad, EngineError::InvalidArgument(_)), "{bad:?}");
    assert!(e.search("s", &SearchRequest { partition: Some(2), ..base }).is_err());
}

#[test]
fn a_search_resumed_below_the_log_start_says_what_retention_deleted_before_it_got_there() {
    use depot::core::{GoneRange, SearchCursor, SearchRequest};
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", TopicConfig { segment_bytes: Some(2048), retention_bytes: Some(6000), ..topic(1) }).unwrap();
    for i in 0..200u64 {
        e.append("t", 0, &[val(i)], None).unwrap();
    }
    // A search that scanned up to offset 10, then retention deleted the oldest segments.
    let req = SearchRequest {
        value: Some("value-".into()),
        resume: vec![SearchCursor { partition: 0, offset: 10, done: false }],
        max_matches: 10_000,
        ..SearchRequest::default()
    };
    assert!(e.enforce_retention().unwrap() > 0);
    let start = e.describe_topic("t").unwrap().partitions[0].log_start;
    assert!(start > 10);
    let r = e.search("t", &req).unwrap();
    assert_eq!(r.gone, [GoneRange { partition: 0, from: 10, to: start }], "offsets 10..{start} were never scanned");
    assert_eq!(r.matches.len() as u64, 200 - start, "the rest was searched");
    assert!(r.complete());
    // A search that starts now, from the log start, lost nothing.
    let fresh = e.search("t", &SearchRequest { resume: Vec::new(), ..req }).unwrap();
    assert!(fresh.gone.is_empty());
}
