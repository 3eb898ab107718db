//! Faults of the disk itself, on the simulated disk (`SimStorage`): a full disk, failed writes and
//! fsyncs, crashes in the middle of a topic deletion. Every error reaches the caller, the data
//! directory stays openable, and nothing acknowledged is lost or skipped.
//! (Items 5, 7, 8 and 9 of the hardening issue.)

use bytes::Bytes;
use depot::core::TopicConfig;
use depot::engine::storage::{Fault, SimStorage, Storage};
use depot::engine::{Engine, EngineConfig, EngineError, JoinRequest, NewRecord, SyncMode};
use std::path::Path;
use std::sync::Arc;

const DATA: &str = "/data";

fn open_sim(sim: &SimStorage, sync: SyncMode) -> Engine {
    let cfg = EngineConfig { sync, storage: Arc::new(sim.clone()), ..Default::default() };
    Engine::open(DATA, cfg).unwrap_or_else(|e| panic!("open on the simulated disk: {e}"))
}

fn recs(n: usize, tag: &str) -> Vec<NewRecord> {
    (0..n).map(|i| NewRecord::value(Bytes::from(format!("{tag}-{i}")))).collect()
}

fn committed(e: &Engine, group: &str, topic: &str) -> Option<u64> {
    let g = e.describe_group(group).ok()?;
    g.partitions.iter().find(|p| p.topic == topic && p.partition == 0).and_then(|p| p.committed)
}

// ---- 5: a full disk ------------------------------------------------------------------------------

#[test]
fn a_commit_that_hits_a_full_disk_is_cut_back_and_the_next_commit_starts_clean() {
    let sim = SimStorage::new(5);
    let e = open_sim(&sim, SyncMode::Always);
    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    e.append("t", 0, &recs(20, "r"), None).unwrap();
    e.commit_offsets("billing", &[("t".into(), 0, 5)]).unwrap();
    // 30 bytes of the next entry fit, then the disk is full.
    let journal = Path::new("/data/groups/offsets.log");
    let whole = sim.stat(journal).unwrap().unwrap().len;
    sim.inject_on(Fault::NoSpaceAfter { bytes: 30 }, "offsets.log");
    let err = e.commit_offsets("billing", &[("t".into(), 0, 7)]).unwrap_err().to_string();
    assert!(err.contains("offsets.log") && err.contains("No space left on device"), "{err}");
    assert_eq!(sim.stat(journal).unwrap().unwrap().len, whole, "the partial entry was cut back before the error");
    assert_eq!(committed(&e, "billing", "t"), Some(5), "a failed commit is not applied");
    // Room again: the next commits are whole entries right after the last good one.
    e.commit_offsets("billing", &[("t".into(), 0, 8)]).unwrap();
    e.commit_offsets("audit", &[("t".into(), 0, 9)]).unwrap();
    e.close().unwrap();
    drop(e);
    let e = open_sim(&sim, SyncMode::Always);
    assert_eq!(committed(&e, "billing", "t"), Some(8));
    assert_eq!(committed(&e, "audit", "t"), Some(9));
}

#[test]
fn a_journal_that_cannot_cut_back_a_failed_write_refuses_writes_until_restart() {
    let sim = SimStorage::new(6);
    let e = open_sim(&sim, SyncMode::Always);
    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    e.append("t", 0, &recs(20, "r"), None).unwrap();
    e.commit_offsets("g", &[("t".into(), 0, 3)]).unwrap();
    sim.inject_on(Fault::TornWrite { nth: 0 }, "offsets.log");
    sim.inject_on(Fault::SetLenFails { nth: 0 }, "offsets.log");
    assert!(e.commit_offsets("g", &[("t".into(), 0, 4)]).is_err());
    let err = e.commit_offsets("g", &[("t".into(), 0, 5)]).unwrap_err();
    assert!(matches!(err, EngineError::Failed(_)), "{err:?}");
    assert!(err.to_string().contains("restart"), "{err}");
    // Publishing is not affected; a restart opens with the whole entries.
    e.append("t", 0, &recs(1, "more"), None).unwrap();
    drop(e);
    let e = open_sim(&sim, SyncMode::Always);
    assert_eq!(committed(&e, "g", "t"), Some(3));
    e.commit_offsets("g", &[("t".into(), 0, 6)]).unwrap();
    assert_eq!(committed(&e, "g", "t"), Some(6));
}

#[test]
fn appends_that_hit_a_full_disk_fail_cleanly_and_the_log_stays_dense() {
    for sync in [SyncMode::Always, SyncMode::Never] {
        let sim = SimStorage::new(7);
        let e = open_sim(&sim, sync);
        e.create_topic("t", TopicConfig { segment_bytes: Some(2048), ..TopicConfig::with_partitions(1) }).unwrap();
        let mut acked = Vec::new();
        for round in 0..40 {
            if round % 7 == 3 {
                sim.inject(Fault::NoSpaceAfter { bytes: 100 });
            }
            let batch = recs(5, &format!("b{round}"));
            match e.append("t", 0, &batch, None) {
                Ok(a) => acked.push((a.base_offset, batch)),
                Err(err) => {
                    let msg = err.to_string();
                    assert!(msg.contains("No space left on device"), "{sync}: {msg}");
                    sim.clear_faults();
                }
            }
        }
        assert!(acked.len() >= 30, "{sync}: most appends succeed ({})", acked.len());
        let check = |e: &Engine| {
            let mut next = 0;
            for (base, batch) in &acked {
                assert_eq!(*base, next, "{sync}: offsets are dense across failed appends");
                let got = e.fetch("t", 0, *base, batch.len(), 1 << 20).unwrap();
                assert_eq!(
                    got.iter().map(|r| r.value.clone()).collect::<Vec<_>>(),
                    batch.iter().map(|r| r.value.clone()).collect::<Vec<_>>()
                );
                next += batch.len() as u64;
            }
            assert_eq!(e.describe_topic("t").unwrap().partitions[0].end_offset, next);
        };
        check(&e);
        e.close().unwrap();
        drop(e);
        let e = open_sim(&sim, sync);
        check(&e);
    }
}

#[test]
fn a_checkpoint_or_index_write_that_fails_never_claims_more_than_the_log_holds() {
    let sim = SimStorage::new(8);
    let e = open_sim(&sim, SyncMode::Always);
    e.create_topic("t", TopicConfig { segment_bytes: Some(1024), ..TopicConfig::with_partitions(1) }).unwrap();
    sim.inject(Fault::DiskFull { bytes: 6000 });
    let mut acked = 0u64;
    for i in 0..200 {
        match e.append("t", 0, &recs(3, &format!("x{i}")), None) {
            Ok(a) => {
                assert_eq!(a.base_offset, acked);
                acked += 3;
            }
            Err(err) => assert!(err.to_string().contains("No space left"), "{err}"),
        }
    }
    assert!(acked > 0);
    drop(e);
    // Power loss with the disk still full: the directory opens and holds every acknowledged record.
    sim.crash(81);
    let e = open_sim(&sim, SyncMode::Always);
    let end = e.describe_topic("t").unwrap().partitions[0].end_offset;
    assert!(end >= acked, "acknowledged {acked}, recovered {end}");
    let all = e.fetch("t", 0, 0, 10_000, 16 << 20).unwrap();
    assert_eq!(all.len() as u64, end);
}

fn join(e: &Engine, group: &str, topic: &str) -> depot::engine::Membership {
    e.join_group(group, JoinRequest::new("c", &[topic])).unwrap()
}

fn leftovers(sim: &SimStorage) -> Vec<String> {
    let mut v: Vec<String> =
        sim.list_dir(Path::new("/data/topics")).unwrap().into_iter().filter(|n| n.starts_with('.')).collect();
    v.sort();
    v
}

// ---- 7: a delete cut off midway ----------------------------------------------------------------

#[test]
fn a_topic_delete_cut_off_at_any_step_is_finished_or_not_done_and_never_skips_a_new_topic() {
    let (mut finished, mut undone) = (0, 0);
    for k in 0..24u64 {
        for seed in 0..3u64 {
            let sim = SimStorage::new(k * 10 + seed);
            let e = open_sim(&sim, SyncMode::Always);
            e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
            for b in 0..5 {
                e.append("t", 0, &recs(100, &format!("old{b}")), None).unwrap();
            }
            e.commit_offsets("billing", &[("t".into(), 0, 500)]).unwrap();
            sim.inject(Fault::PowerCut { after_ops: k });
            let r = e.delete_topic("t");
            drop(e);
            sim.crash(seed);
            let e = open_sim(&sim, SyncMode::Always);
            let what = format!("power cut after {k} changes, crash seed {seed}");
            assert_eq!(leftovers(&sim), Vec::<String>::new(), "{what}: open finishes graves");
            match e.describe_topic("t") {
                Ok(info) => {
                    assert!(r.is_err(), "{what}: an acknowledged delete left the topic");
                    assert_eq!(info.partitions[0].end_offset, 500, "{what}");
                    assert_eq!(committed(&e, "billing", "t"), Some(500), "{what}");
                    undone += 1;
                }
                Err(_) => {
                    assert_eq!(committed(&e, "billing", "t"), None, "{what}: the old topic's offsets are gone");
                    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
                    e.append("t", 0, &recs(100, "new"), None).unwrap();
                    let m = join(&e, "billing", "t");
                    let d = e.poll("billing", &m.member_id, m.generation, 1, 1 << 20).unwrap();
                    assert_eq!(d.first().map(|d| d.record.offset), Some(0), "{what}: the new topic is read from 0");
                    finished += 1;
                }
            }
        }
    }
    assert!(finished > 0 && undone > 0, "both outcomes were exercised: {finished} finished, {undone} not done");
}

#[test]
fn a_grave_left_by_a_crash_drops_the_groups_offsets_before_it_is_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let e = Engine::open(data, EngineConfig { sync: SyncMode::Never, ..Default::default() }).unwrap();
    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    e.append("t", 0, &recs(500, "old"), None).unwrap();
    e.commit_offsets("billing", &[("t".into(), 0, 500)]).unwrap();
    e.close().unwrap();
    drop(e);
    // A crash between the rename and the journal entry (the grave name of an older depot).
    std::fs::rename(data.join("topics/t"), data.join("topics/.deleted-t-1")).unwrap();
    let e = Engine::open(data, EngineConfig { sync: SyncMode::Never, ..Default::default() }).unwrap();
    assert!(!data.join("topics/.deleted-t-1").exists());
    assert_eq!(committed(&e, "billing", "t"), None);
    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    e.append("t", 0, &recs(100, "new"), None).unwrap();
    let m = join(&e, "billing", "t");
    let d = e.poll("billing", &m.member_id, m.generation, 1, 1 << 20).unwrap();
    assert_eq!(d[0].record.offset, 0);
}

// ---- 8: long names ------------------------------------------------------------------------------

#[test]
fn the_longest_topic_name_is_created_deleted_and_gone_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let name = "t".repeat(249);
    let e = Engine::open(data, EngineConfig::default()).unwrap();
    e.create_topic(&name, TopicConfig::with_partitions(2)).unwrap();
    e.append(&name, 1, &recs(2, "x"), None).unwrap();
    e.delete_topic(&name).unwrap();
    assert!(e.list_topics().is_empty());
    e.close().unwrap();
    drop(e);
    let e = Engine::open(data, EngineConfig::default()).unwrap();
    assert!(e.list_topics().is_empty());
    assert_eq!(std::fs::read_dir(data.join("topics")).unwrap().count(), 0, "no leftovers in topics/");
}

#[test]
fn a_delete_that_fails_before_its_rename_leaves_the_topic_listed_and_usable() {
    let sim = SimStorage::new(9);
    let e = open_sim(&sim, SyncMode::Always);
    let name = "n".repeat(249);
    e.create_topic(&name, TopicConfig::with_partitions(1)).unwrap();
    e.append(&name, 0, &recs(3, "a"), None).unwrap();
    sim.inject(Fault::RenameFails { nth: 0 });
    let err = e.delete_topic(&name).unwrap_err().to_string();
    assert!(err.contains("Input/output error"), "{err}");
    assert_eq!(e.list_topics().len(), 1);
    e.append(&name, 0, &recs(2, "b"), None).unwrap();
    assert_eq!(e.fetch(&name, 0, 0, 10, 1 << 20).unwrap().len(), 5);
    e.close().unwrap();
    drop(e);
    let e = open_sim(&sim, SyncMode::Always);
    assert_eq!(e.describe_topic(&name).unwrap().partitions[0].end_offset, 5);
    e.delete_topic(&name).unwrap();
    assert!(e.list_topics().is_empty());
}

// ---- 9: producer id 0 ---------------------------------------------------------------------------

#[test]
fn producer_id_0_is_refused_and_a_real_ids_retry_after_a_crash_is_recognised() {
    let sim = SimStorage::new(10);
    let e = open_sim(&sim, SyncMode::Always);
    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let err = e.append("t", 0, &recs(2, "p0"), Some((0, 0))).unwrap_err();
    assert!(matches!(err, EngineError::InvalidArgument(_)), "{err:?}");
    assert!(err.to_string().contains("producer id 0 is reserved"), "{err}");
    assert_eq!(e.describe_topic("t").unwrap().partitions[0].end_offset, 0);
    let first = e.append("t", 0, &recs(2, "p5"), Some((5, 0))).unwrap();
    assert!(!first.duplicate);
    drop(e);
    sim.crash(3);
    let e = open_sim(&sim, SyncMode::Always);
    let retry = e.append("t", 0, &recs(2, "p5"), Some((5, 0))).unwrap();
    assert!(retry.duplicate, "the retry after a crash is recognised: {retry:?}");
    assert_eq!(retry.base_offset, first.base_offset);
    assert_eq!(e.describe_topic("t").unwrap().partitions[0].end_offset, 2);
}
