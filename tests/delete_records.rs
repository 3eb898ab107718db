//! `Engine::delete_records` (Kafka's DeleteRecords): the log start moves durably, reads below it
//! are out of range, segments wholly below it are deleted, and all of it survives a reopen.

use depot::core::TopicConfig;
use depot::engine::{Engine, EngineConfig, EngineError, NewRecord, SyncMode};
use std::path::Path;
use std::time::Duration;

fn open(dir: &Path) -> Engine {
    let config =
        EngineConfig { sync: SyncMode::Never, maintenance_interval: Duration::from_secs(3600), ..Default::default() };
    Engine::open(dir, config).unwrap()
}

fn segment_files(e: &Engine) -> usize {
    let dir = e.partition_log("t", 0).unwrap().dir().to_path_buf();
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|f| f.as_ref().unwrap().file_name().to_string_lossy().ends_with(".log"))
        .count()
}

fn range(e: &Engine) -> (u64, u64) {
    let p = &e.describe_topic("t").unwrap().partitions[0];
    (p.log_start, p.end_offset)
}

fn out_of_range(r: Result<impl std::fmt::Debug, EngineError>) -> bool {
    matches!(r, Err(EngineError::OffsetOutOfRange { .. }))
}

#[test]
fn delete_records_moves_the_log_start_deletes_whole_segments_below_it_and_survives_a_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", TopicConfig { segment_bytes: Some(1024), ..TopicConfig::with_partitions(1) }).unwrap();
    for i in 0..60u8 {
        e.append("t", 0, &[NewRecord::value(vec![i; 100])], None).unwrap();
    }
    let before = segment_files(&e);
    assert!(before > 4, "the records span segments: {before}");
    // Inside a segment: that segment stays (its records below 25 unread), those below it go.
    assert_eq!(e.delete_records("t", 0, Some(25)).unwrap(), 25);
    assert_eq!(range(&e), (25, 60));
    let after = segment_files(&e);
    assert!(after < before, "segments wholly below 25 are deleted: {before} -> {after}");
    assert!(out_of_range(e.fetch("t", 0, 24, 10, 1 << 20)), "below the new start");
    assert_eq!(e.fetch("t", 0, 25, 1, 1 << 20).unwrap()[0].value.as_deref().unwrap()[0], 25);
    assert_eq!(e.partition_log("t", 0).unwrap().offset_for_time(0).unwrap(), 25, "a time lookup starts at the start");
    // At or below the start changes nothing; past the end is out of range and changes nothing.
    assert_eq!(e.delete_records("t", 0, Some(10)).unwrap(), 25);
    assert!(out_of_range(e.delete_records("t", 0, Some(61))));
    assert!(matches!(e.delete_records("t", 1, Some(0)), Err(EngineError::NotFound { .. })));
    assert!(matches!(e.delete_records("nope", 0, Some(0)), Err(EngineError::NotFound { .. })));
    assert_eq!(range(&e), (25, 60));
    e.close().unwrap();

    let e = open(tmp.path());
    assert_eq!(range(&e), (25, 60), "the start survives a reopen");
    assert_eq!(segment_files(&e), after);
    assert!(out_of_range(e.fetch("t", 0, 24, 10, 1 << 20)));
    assert_eq!(e.fetch("t", 0, 25, 1, 1 << 20).unwrap()[0].value.as_deref().unwrap()[0], 25);
    // Everything (Kafka's offset -1: the high watermark): the log is empty and goes on from 60.
    assert_eq!(e.delete_records("t", 0, None).unwrap(), 60);
    assert_eq!(segment_files(&e), 1, "only the active segment is left");
    assert!(e.fetch("t", 0, 60, 10, 1 << 20).unwrap().is_empty());
    assert!(out_of_range(e.fetch("t", 0, 59, 10, 1 << 20)));
    assert_eq!(e.append("t", 0, &[NewRecord::value("next")], None).unwrap().base_offset, 60);
    e.close().unwrap();

    let e = open(tmp.path());
    assert_eq!(range(&e), (60, 61));
    assert_eq!(e.fetch("t", 0, 60, 10, 1 << 20).unwrap()[0].value.as_deref(), Some(&b"next"[..]));
    e.close().unwrap();
}

#[test]
fn a_log_start_inside_the_active_segment_survives_a_power_loss() {
    use depot::engine::storage::{Fault, SimStorage};
    for seed in 0..16 {
        let sim = SimStorage::new(seed);
        let config = || EngineConfig {
            sync: SyncMode::Never,
            maintenance_interval: Duration::from_secs(3600),
            storage: std::sync::Arc::new(sim.clone()),
            ..Default::default()
        };
        let dir = Path::new("/data");
        let e = Engine::open(dir, config()).unwrap();
        e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
        for i in 0..10u8 {
            e.append("t", 0, &[NewRecord::value(vec![i])], None).unwrap();
        }
        // SyncMode::Never: nothing is fsynced until delete_records makes the records below the
        // new start durable, before the start itself.
        assert_eq!(e.delete_records("t", 0, Some(7)).unwrap(), 7);
        sim.inject(Fault::PowerCut { after_ops: 0 });
        drop(e);
        sim.crash(seed);
        let e = Engine::open(dir, config()).unwrap_or_else(|err| panic!("seed {seed}: reopen: {err}"));
        assert_eq!(range(&e), (7, 10), "seed {seed}");
        let values: Vec<u8> =
            e.fetch("t", 0, 7, 10, 1 << 20).unwrap().iter().map(|r| r.value.as_deref().unwrap()[0]).collect();
        assert_eq!(values, [7, 8, 9], "seed {seed}");
        e.close().unwrap();
    }
}
