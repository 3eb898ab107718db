//! The batch format's versions in a whole data directory: a directory written in version 1 opens
//! and reads the same, a segment mixing both versions recovers, damage in either is refused the
//! same way, and records' own timestamps are found by time and kept by retention by append time.

use super::record::{self, NewRecord, Record};
use super::{Clock, Engine, EngineConfig, EngineError, ManualClock, SyncMode};
use crate::core::{SearchRequest, TopicConfig};
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const START: i64 = 1_700_000_000_000;

fn open(dir: &Path, clock: &Arc<ManualClock>) -> crate::engine::Result<Engine> {
    let config = EngineConfig {
        sync: SyncMode::Never,
        maintenance_interval: Duration::from_secs(3600),
        clock: clock.clone(),
        ..Default::default()
    };
    Engine::open(dir, config)
}

fn part_dir(dir: &Path, topic: &str) -> PathBuf {
    dir.join("topics").join(topic).join("0")
}

fn log_file(dir: &Path, topic: &str, base: u64) -> PathBuf {
    part_dir(dir, topic).join(format!("{base:020}.log"))
}

fn all(e: &Engine, topic: &str) -> Vec<Record> {
    e.fetch(topic, 0, 0, 10_000, 64 << 20).unwrap()
}

/// A batch to write: its records, append time and producer.
type Batch = (Vec<NewRecord>, i64, Option<(u64, u32)>);

/// Version 1 batches as depot wrote them.
fn v1_batches() -> Vec<Batch> {
    vec![
        (
            vec![
                NewRecord::keyed("k", "one").with_header("h", "x"),
                NewRecord::value(vec![0u8, 255]),
                NewRecord::keyed(Bytes::new(), ""),
            ],
            START,
            None,
        ),
        (vec![NewRecord::value("four"), NewRecord::value("five")], START + 10, Some((5, 0))),
        (vec![NewRecord::keyed("k", "six").with_header("h", "y")], START + 20, None),
    ]
}

/// What reading the version 1 batches must give, offset by offset.
fn v1_records() -> Vec<Record> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (recs, ts, _) in v1_batches() {
        for r in recs {
            out.push(Record {
                offset,
                timestamp: ts,
                create_time: false,
                key: r.key,
                value: r.value,
                headers: r.headers,
            });
            offset += 1;
        }
    }
    out
}

/// A partition of topic `old` whose files are version 1 batches: the first in segment 0 (sealed),
/// the others in segment 3 (active); no index files and no checkpoint, as after a crash.
fn write_v1_dir(dir: &Path, clock: &Arc<ManualClock>) {
    let e = open(dir, clock).unwrap();
    e.create_topic("old", TopicConfig::with_partitions(1)).unwrap();
    e.close().unwrap();
    drop(e);
    let pd = part_dir(dir, "old");
    for f in std::fs::read_dir(&pd).unwrap() {
        let p = f.unwrap().path();
        if p.file_name().is_some_and(|n| n != "log-start") {
            std::fs::remove_file(p).unwrap();
        }
    }
    let (mut seg0, mut seg3) = (Vec::new(), Vec::new());
    let mut offset = 0;
    for (i, (recs, ts, producer)) in v1_batches().into_iter().enumerate() {
        let buf = if i < 1 { &mut seg0 } else { &mut seg3 };
        record::v1::encode_batch(buf, &recs, offset, ts, producer);
        offset += recs.len() as u64;
    }
    std::fs::write(log_file(dir, "old", 0), seg0).unwrap();
    std::fs::write(log_file(dir, "old", 3), seg3).unwrap();
}

#[test]
fn a_version_1_data_directory_opens_and_reads_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START + 1000));
    write_v1_dir(tmp.path(), &clock);
    let e = open(tmp.path(), &clock).unwrap();
    assert_eq!(all(&e, "old"), v1_records());
    assert_eq!(e.fetch("old", 0, 4, 10, 1 << 20).unwrap(), v1_records()[4..].to_vec(), "a read from the middle");
    assert_eq!(e.offset_for_time("old", 0, START + 5).unwrap(), 3, "the time index rebuilt from version 1");
    assert_eq!(e.offset_for_time("old", 0, START + 21).unwrap(), 6);
    let found = e.search("old", &SearchRequest { value: Some("six".into()), ..Default::default() }).unwrap();
    assert_eq!(found.matches.iter().map(|m| m.offset).collect::<Vec<_>>(), vec![5]);
    // The producer state is rebuilt from version 1 headers: a retry is not appended twice.
    let again = e.append("old", 0, &[NewRecord::value("four"), NewRecord::value("five")], Some((5, 0))).unwrap();
    assert_eq!((again.base_offset, again.duplicate), (3, true));

    // Version 2 batches follow the version 1 ones in the active segment; it recovers after a
    // clean close, after a crash (no checkpoint), and with a torn version 2 tail.
    let new = vec![NewRecord::keyed("k", "seven").at(START - 86_400_000), NewRecord::tombstone("k").at(5)];
    e.append("old", 0, &new, None).unwrap();
    e.append("old", 0, &[NewRecord::value("nine")], None).unwrap();
    let mut want = v1_records();
    let at = |r: &NewRecord, offset: u64, ts: i64, create_time: bool| Record {
        offset,
        timestamp: ts,
        create_time,
        key: r.key.clone(),
        value: r.value.clone(),
        headers: r.headers.clone(),
    };
    want.push(at(&new[0], 6, START - 86_400_000, true));
    want.push(at(&new[1], 7, 5, true));
    want.push(at(&NewRecord::value("nine"), 8, START + 1000, false));
    assert_eq!(all(&e, "old"), want);
    e.close().unwrap();
    drop(e);
    let e = open(tmp.path(), &clock).unwrap();
    assert_eq!(all(&e, "old"), want, "after a clean close");
    drop(e);
    std::fs::remove_file(part_dir(tmp.path(), "old").join("checkpoint")).unwrap();
    let e = open(tmp.path(), &clock).unwrap();
    assert_eq!(all(&e, "old"), want, "after a crash");
    drop(e);
    let active = log_file(tmp.path(), "old", 3);
    let len = std::fs::metadata(&active).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&active).unwrap().set_len(len - 3).unwrap();
    let _ = std::fs::remove_file(part_dir(tmp.path(), "old").join("checkpoint"));
    let e = open(tmp.path(), &clock).unwrap();
    want.pop();
    assert_eq!(all(&e, "old"), want, "the torn version 2 batch is cut, the rest kept");
}

#[test]
fn a_damaged_batch_is_refused_the_same_in_either_version() {
    for version in [1, 2] {
        let tmp = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(START));
        let e = open(tmp.path(), &clock).unwrap();
        e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
        e.close().unwrap();
        drop(e);
        // Segment 0: a batch of the version under test, then a valid version 2 batch.
        let mut buf = Vec::new();
        let recs = [NewRecord::keyed("k", "damaged soon")];
        if version == 1 {
            record::v1::encode_batch(&mut buf, &recs, 0, START, None);
        } else {
            record::encode_batch(&mut buf, &[NewRecord { timestamp: Some(7), ..recs[0].clone() }], 0, START, None);
        }
        let first = buf.len();
        record::encode_batch(&mut buf, &[NewRecord::value("valid")], 1, START, None);
        buf[first - 3] ^= 0x20;
        let _ = std::fs::remove_file(part_dir(tmp.path(), "t").join("checkpoint"));
        std::fs::write(log_file(tmp.path(), "t", 0), &buf).unwrap();
        let err = open(tmp.path(), &clock).err().unwrap_or_else(|| panic!("version {version}: damage was accepted"));
        assert!(
            matches!(&err, EngineError::Corrupt { position: 0, reason, .. } if reason.contains("valid batch follows at byte")),
            "version {version}: {err}"
        );
    }
}

#[test]
fn records_own_timestamps_are_found_by_time_and_retention_goes_by_the_append_time() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START));
    let e = open(tmp.path(), &clock).unwrap();
    let config =
        TopicConfig { segment_bytes: Some(1024), retention_ms: Some(60_000), ..TopicConfig::with_partitions(1) };
    e.create_topic("t", config).unwrap();
    let half_hour = 30 * 60_000;
    // One batch per segment: offset 0 stamped by a client in 2020, 1 and 2 by the engine at
    // START, 3 by a client half an hour ahead, 4..7 by the engine a second later.
    let pad = "p".repeat(600);
    let rec = || NewRecord::value(pad.clone());
    e.append("t", 0, &[rec().at(1_600_000_000_000)], None).unwrap();
    for _ in 0..2 {
        e.append("t", 0, &[rec()], None).unwrap();
    }
    e.append("t", 0, &[rec().at(START + half_hour)], None).unwrap();
    clock.advance(Duration::from_secs(1));
    for _ in 4..7 {
        e.append("t", 0, &[rec()], None).unwrap();
    }
    let ts: Vec<i64> = all(&e, "t").iter().map(|r| r.timestamp).collect();
    let later = START + 1000;
    assert_eq!(ts, vec![1_600_000_000_000, START, START, START + half_hour, later, later, later]);
    // The first offset whose own timestamp reached the time, as Kafka's ListOffsets answers.
    assert_eq!(e.offset_for_time("t", 0, START + 10 * 60_000).unwrap(), 3, "a timestamp ahead of its append time");
    assert_eq!(e.offset_for_time("t", 0, START + 1).unwrap(), 3);
    assert_eq!(e.offset_for_time("t", 0, START).unwrap(), 1, "not the 2020 record");
    assert_eq!(e.offset_for_time("t", 0, 0).unwrap(), 0);
    assert_eq!(e.offset_for_time("t", 0, START + half_hour + 1).unwrap(), 7, "none: the end");
    // Retention by the append time: the segment of the 2020 record, appended at START, is kept
    // until START is older than the limit; the one of the record half an hour ahead until that
    // is old (its largest timestamp).
    let segments = |e: &Engine| e.partition_log("t", 0).unwrap().state.lock().segments.len();
    assert_eq!(segments(&e), 7);
    let log_start = |e: &Engine| e.describe_topic("t").unwrap().partitions[0].log_start;
    assert_eq!(e.enforce_retention().unwrap(), 0, "nothing is a minute old by the append time");
    clock.set_ms(START + 60_001);
    assert_eq!(e.enforce_retention().unwrap(), 3);
    assert_eq!(log_start(&e), 3, "the segment with the record half an hour ahead is kept");
    clock.set_ms(START + half_hour + 60_001);
    assert_eq!(e.enforce_retention().unwrap(), 3);
    assert_eq!(log_start(&e), 6);

    // Timestamps before 1970 or more than an hour ahead are refused, nothing appended.
    let end = e.describe_topic("t").unwrap().partitions[0].end_offset;
    let now = clock.now_ms();
    for bad in [-2, now + record::MAX_AHEAD_MS + 1] {
        let err = e.append("t", 0, &[NewRecord::value("x").at(bad)], None).unwrap_err();
        assert!(matches!(err, EngineError::InvalidArgument(_)), "{bad}: {err}");
    }
    assert!(e.append("t", 0, &[NewRecord::value("x").at(now + record::MAX_AHEAD_MS)], None).is_ok());
    assert_eq!(e.describe_topic("t").unwrap().partitions[0].end_offset, end + 1);
}

#[test]
fn a_tombstone_is_replayed_as_a_tombstone() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(START));
    let e = open(tmp.path(), &clock).unwrap();
    for t in ["src", "dst"] {
        e.create_topic(t, TopicConfig::with_partitions(1)).unwrap();
    }
    let recs = [NewRecord::keyed("k", "v").at(5), NewRecord::tombstone("k").at(6), NewRecord::keyed("k", "")];
    e.append("src", 0, &recs, None).unwrap();
    let range = crate::core::ReplayRange::Offsets { from: 0, to: 3 };
    let plan = e.plan_replay("src", None, range, Some("dst")).unwrap();
    assert_eq!(e.execute_replay(&plan).unwrap().appended, 3);
    let values: Vec<Option<Bytes>> = all(&e, "dst").into_iter().map(|r| r.value).collect();
    assert_eq!(values, vec![Some(Bytes::from("v")), None, Some(Bytes::new())]);
}
