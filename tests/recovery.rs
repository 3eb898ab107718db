//! Recovery on open: torn tails are cut, damage is reported (never served, never cut away), the data
//! directory is exclusive, and committed offsets, the reset journal and producer state survive.

use bytes::Bytes;
use depot::core::{ResetSpec, TopicConfig};
use depot::engine::record::parse_header;
use depot::engine::{Engine, EngineConfig, EngineError, JoinRequest, NewRecord, Record, SyncMode, lock_holder};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn config(sync: SyncMode) -> EngineConfig {
    EngineConfig { sync, ..Default::default() }
}

fn topic_config(partitions: u32, segment_bytes: Option<u64>) -> TopicConfig {
    TopicConfig { segment_bytes, ..TopicConfig::with_partitions(partitions) }
}

/// The `i`-th test record: a key, a value of varying length and a header.
fn rec(i: u64) -> NewRecord {
    NewRecord::keyed(format!("key-{i}"), vec![(i % 251) as u8; 20 + (i as usize * 7) % 90])
        .with_header("n", i.to_string())
}

fn same(stored: &Record, sent: &NewRecord) -> bool {
    stored.key == sent.key && stored.value == sent.value && stored.headers == sent.headers
}

/// Appends `batches` batches of `per` records to `topic`/`p`, numbering records from `first`.
fn append_batches(e: &Engine, topic: &str, p: u32, first: u64, batches: u64, per: u64) {
    for b in 0..batches {
        let recs: Vec<NewRecord> = (0..per).map(|i| rec(first + b * per + i)).collect();
        let a = e.append(topic, p, &recs, None).expect("append");
        assert_eq!(a.base_offset, first + b * per);
    }
}

fn read_all(e: &Engine, topic: &str, p: u32) -> Vec<Record> {
    let info = e.describe_topic(topic).expect("describe");
    let part = &info.partitions[p as usize];
    let mut out = Vec::new();
    let mut at = part.log_start;
    while at < part.end_offset {
        let recs = e.fetch(topic, p, at, 1000, 1 << 20).expect("fetch");
        assert!(!recs.is_empty());
        at = recs.last().unwrap().offset + 1;
        out.extend(recs);
    }
    out
}

/// Checks the partition holds exactly records `0..n` as written by [`rec`].
fn assert_records(e: &Engine, topic: &str, p: u32, n: u64) {
    let all = read_all(e, topic, p);
    assert_eq!(all.len() as u64, n, "record count");
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.offset, i as u64, "offsets are dense");
        assert!(same(r, &rec(i as u64)), "record {i} differs: {r:?}");
    }
}

fn partition_dir(data: &Path, topic: &str, p: u32) -> PathBuf {
    data.join("topics").join(topic).join(p.to_string())
}

/// The partition's segment files, oldest first.
fn segments(data: &Path, topic: &str, p: u32) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(partition_dir(data, topic, p))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    v.sort();
    v
}

fn base_of(segment: &Path) -> u64 {
    segment.file_stem().unwrap().to_str().unwrap().parse().unwrap()
}

/// Byte ranges of the batches in a segment file: `(start, len, base_offset, count)`.
fn frames(bytes: &[u8]) -> Vec<(usize, usize, u64, u32)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let h = parse_header(&bytes[pos..]).expect("valid frame");
        out.push((pos, h.frame_len, h.base_offset, h.count));
        pos += h.frame_len;
    }
    out
}

fn flip(path: &Path, at: usize, mask: u8) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= mask;
    std::fs::write(path, b).unwrap();
}

// ---- (a) torn tails -------------------------------------------------------------------------------

#[test]
fn torn_tail_is_cut_at_the_last_whole_batch_and_appends_continue_densely() {
    for sync in [SyncMode::Never, SyncMode::Interval(Duration::from_millis(20))] {
        for keep_checkpoint in [true, false] {
            let tmp = tempfile::tempdir().unwrap();
            let data = tmp.path();
            let e = Engine::open(data, config(sync)).unwrap();
            e.create_topic("t", topic_config(1, Some(4096))).unwrap();
            append_batches(&e, "t", 0, 0, 29, 5);
            e.close().unwrap();
            drop(e);
            // A power loss can only tear what was written after the last fsync the checkpoint
            // records: the checkpoint from before the last batch stays, as after a crash.
            let ckpt = partition_dir(data, "t", 0).join("checkpoint");
            let before_last = std::fs::read(&ckpt).unwrap();
            let e = Engine::open(data, config(sync)).unwrap();
            append_batches(&e, "t", 0, 145, 1, 5);
            e.close().unwrap();
            drop(e);
            std::fs::write(&ckpt, &before_last).unwrap();
            if !keep_checkpoint {
                std::fs::remove_file(partition_dir(data, "t", 0).join("checkpoint")).unwrap();
            }

            let segs = segments(data, "t", 0);
            assert!(segs.len() > 1, "expected several segments with 4 KiB segments");
            let active = segs.last().unwrap().clone();
            let bytes = std::fs::read(&active).unwrap();
            let fr = frames(&bytes);
            let (last_start, last_len, last_base, _) = *fr.last().unwrap();
            assert_eq!(last_base, 145);
            // Cut the last batch in the middle.
            std::fs::OpenOptions::new()
                .write(true)
                .open(&active)
                .unwrap()
                .set_len((last_start + last_len / 2) as u64)
                .unwrap();

            let e = Engine::open(data, config(sync)).unwrap();
            let p = &e.describe_topic("t").unwrap().partitions[0];
            assert_eq!((p.log_start, p.end_offset), (0, 145), "{sync} checkpoint={keep_checkpoint}");
            assert_eq!(std::fs::metadata(&active).unwrap().len(), last_start as u64, "torn tail cut on disk");
            assert_records(&e, "t", 0, 145);
            append_batches(&e, "t", 0, 145, 3, 5);
            assert_records(&e, "t", 0, 160);
            e.close().unwrap();
            drop(e);

            // Garbage zeros after the last whole batch (a file extended but never written).
            let active = segments(data, "t", 0).last().unwrap().clone();
            let len = std::fs::metadata(&active).unwrap().len();
            let mut f = std::fs::OpenOptions::new().append(true).open(&active).unwrap();
            std::io::Write::write_all(&mut f, &[0u8; 3000]).unwrap();
            drop(f);
            if !keep_checkpoint {
                std::fs::remove_file(partition_dir(data, "t", 0).join("checkpoint")).unwrap();
            }
            let e = Engine::open(data, config(sync)).unwrap();
            assert_eq!(e.describe_topic("t").unwrap().partitions[0].end_offset, 160);
            assert_eq!(std::fs::metadata(&active).unwrap().len(), len, "zeros cut");
            assert_records(&e, "t", 0, 160);
            append_batches(&e, "t", 0, 160, 2, 5);
            e.close().unwrap();
            drop(e);

            // And once more, cleanly: everything, including the appends after the cuts, is there.
            let e = Engine::open(data, config(sync)).unwrap();
            assert_records(&e, "t", 0, 170);
            e.close().unwrap();
        }
    }
}

#[test]
fn torn_header_of_the_only_batch_leaves_an_empty_log_that_still_accepts_appends() {
    let tmp = tempfile::tempdir().unwrap();
    let e = Engine::open(tmp.path(), config(SyncMode::Never)).unwrap();
    e.create_topic("t", topic_config(1, None)).unwrap();
    e.close().unwrap();
    drop(e);
    // The checkpoint of the empty log stays (a crash before it was rewritten); the batch written
    // after it is torn.
    let ckpt = partition_dir(tmp.path(), "t", 0).join("checkpoint");
    let empty = std::fs::read(&ckpt).unwrap();
    let e = Engine::open(tmp.path(), config(SyncMode::Never)).unwrap();
    append_batches(&e, "t", 0, 0, 1, 3);
    e.close().unwrap();
    drop(e);
    std::fs::write(&ckpt, &empty).unwrap();
    let seg = segments(tmp.path(), "t", 0)[0].clone();
    std::fs::OpenOptions::new().write(true).open(&seg).unwrap().set_len(10).unwrap();
    let e = Engine::open(tmp.path(), config(SyncMode::Never)).unwrap();
    let p = &e.describe_topic("t").unwrap().partitions[0];
    assert_eq!((p.log_start, p.end_offset), (0, 0));
    append_batches(&e, "t", 0, 0, 2, 3);
    assert_records(&e, "t", 0, 6);
    e.close().unwrap();
}

// ---- (b) a flipped bit in a sealed segment -----------------------------------------------------------

#[test]
fn flipped_bit_in_a_sealed_segment_is_reported_with_file_and_position_and_never_served() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let e = Engine::open(data, config(SyncMode::Never)).unwrap();
    e.create_topic("t", topic_config(1, Some(4096))).unwrap();
    append_batches(&e, "t", 0, 0, 60, 4);
    e.close().unwrap();
    drop(e);

    let segs = segments(data, "t", 0);
    assert!(segs.len() >= 4, "expected several segments, got {}", segs.len());
    let victim = segs[1].clone();
    let (lo, hi) = (base_of(&segs[1]), base_of(&segs[2]));
    let original = std::fs::read(&victim).unwrap();
    let fr = frames(&original);
    let (start, len, base, count) = fr[1];
    let damaged = base..base + u64::from(count);
    // A bit in a value, in the CRC and in the length field of the second batch.
    for (at, mask) in [(start + len - 3, 0x04u8), (start + 5, 0x80), (start + 2, 0x01)] {
        flip(&victim, at, mask);
        let e = Engine::open(data, config(SyncMode::Never)).expect("a sealed segment is not scanned on open");
        let mut reported = 0;
        for offset in 0..240u64 {
            match e.fetch("t", 0, offset, 1, 1 << 20) {
                Ok(recs) => {
                    assert!(!damaged.contains(&offset), "offset {offset} of the damaged batch was served: {recs:?}");
                    assert_eq!(recs.len(), 1);
                    assert!(same(&recs[0], &rec(offset)), "offset {offset} served different bytes");
                }
                Err(EngineError::Corrupt { file, position, .. }) => {
                    // The sparse index may put the start of a read before the damaged batch, so later
                    // offsets of the same segment can be unreachable; earlier ones and other segments never.
                    assert!(
                        (damaged.start..hi).contains(&offset),
                        "offset {offset} outside the damaged batch and what follows it in its segment reported corrupt"
                    );
                    reported += u64::from(damaged.contains(&offset));
                    assert_eq!(file, victim);
                    assert_eq!(position, start as u64, "position of the damaged batch");
                }
                Err(other) => panic!("offset {offset}: unexpected error {other}"),
            }
        }
        assert_eq!(reported, u64::from(count), "every offset of the damaged batch is reported corrupt");
        // A larger read that runs into the damage fails rather than serving it.
        let err = e.fetch("t", 0, lo, 1000, 1 << 20).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, EngineError::Corrupt { .. }), "{msg}");
        assert!(msg.contains(&victim.display().to_string()) && msg.contains(&format!("at byte {start}")), "{msg}");
        // Other segments stay readable.
        let rest = e.fetch("t", 0, hi, 1000, 1 << 20).unwrap();
        assert!(!rest.is_empty() && rest.iter().all(|r| same(r, &rec(r.offset))));
        let first = e.fetch("t", 0, 0, (lo) as usize, 1 << 20).unwrap();
        assert_eq!(first.len() as u64, lo);
        e.close().unwrap();
        drop(e);
        std::fs::write(&victim, &original).unwrap();
    }
}

// ---- (c) damage followed by valid data in the active segment -----------------------------------------

#[test]
fn damage_before_valid_batches_in_the_active_segment_fails_the_open_and_cuts_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let e = Engine::open(data, config(SyncMode::Interval(Duration::from_millis(20)))).unwrap();
    e.create_topic("t", topic_config(1, None)).unwrap();
    append_batches(&e, "t", 0, 0, 20, 3);
    e.close().unwrap();
    drop(e);

    std::fs::remove_file(partition_dir(data, "t", 0).join("checkpoint")).unwrap();
    let seg = segments(data, "t", 0)[0].clone();
    let original = std::fs::read(&seg).unwrap();
    let fr = frames(&original);
    let (start, len, _, _) = fr[2];
    flip(&seg, start + len / 2, 0x20);
    let damaged = std::fs::read(&seg).unwrap();

    let err = Engine::open(data, config(SyncMode::Interval(Duration::from_millis(20)))).unwrap_err();
    let msg = err.to_string();
    match &err {
        EngineError::Corrupt { file, position, .. } => {
            assert_eq!(file, &seg);
            assert_eq!(*position, start as u64);
        }
        other => panic!("expected Corrupt, got {other}"),
    }
    assert!(msg.contains(&seg.display().to_string()) && msg.contains(&format!("at byte {start}")), "{msg}");
    assert_eq!(std::fs::read(&seg).unwrap(), damaged, "the segment must not be truncated or changed");

    // The failed open released the directory; repairing the byte makes it open again, whole.
    std::fs::write(&seg, &original).unwrap();
    let e = Engine::open(data, config(SyncMode::Never)).unwrap();
    assert_records(&e, "t", 0, 60);
    e.close().unwrap();
}

// ---- (d) one process per data directory ----------------------------------------------------------------

#[test]
fn second_open_of_a_directory_is_locked_with_the_holders_pid_until_close() {
    let tmp = tempfile::tempdir().unwrap();
    let first = Engine::open(tmp.path(), config(SyncMode::Never)).unwrap();
    first.create_topic("t", topic_config(1, None)).unwrap();
    let pid = std::process::id().to_string();
    let err = Engine::open(tmp.path(), config(SyncMode::Never)).unwrap_err();
    match &err {
        EngineError::Locked { pid: holder, .. } => assert_eq!(holder, &pid),
        other => panic!("expected Locked, got {other}"),
    }
    assert!(err.to_string().contains(&format!("pid {pid}")), "{err}");
    assert_eq!(lock_holder(tmp.path()).map(|(p, _)| p), Some(pid.clone()));
    first.advertise(Some("127.0.0.1:7070")).unwrap();
    let err = Engine::open(tmp.path(), config(SyncMode::Never)).unwrap_err().to_string();
    assert!(err.contains(&format!("pid {pid}")) && err.contains("127.0.0.1:7070"), "{err}");

    // After close (even with the handle still around) the directory can be opened again.
    first.close().unwrap();
    // The closed handle no longer writes: the directory may belong to someone else now.
    assert!(matches!(first.append("t", 0, &[rec(0)], None), Err(EngineError::Refused(_))));
    assert!(matches!(first.advertise(Some("127.0.0.1:1")), Err(EngineError::Refused(_))));
    assert!(matches!(first.enforce_retention(), Err(EngineError::Refused(_))));
    assert!(matches!(first.delete_group("g"), Err(EngineError::Refused(_))));
    assert_eq!(lock_holder(tmp.path()), None);
    let second = Engine::open(tmp.path(), config(SyncMode::Never)).expect("open after close");
    assert_eq!(second.list_topics().len(), 1);
    second.close().unwrap();
    drop(first);
    drop(second);
    let third = Engine::open(tmp.path(), config(SyncMode::Never)).expect("open after drop");
    third.close().unwrap();
}

// ---- (e) offsets, resets and producer state survive a restart ---------------------------------------------

#[test]
fn committed_offsets_reset_journal_and_producer_state_survive_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let cfg = config(SyncMode::Interval(Duration::from_millis(50)));
    let e = Engine::open(data, cfg.clone()).unwrap();
    e.create_topic("t", topic_config(2, None)).unwrap();
    let pid = e.new_producer_id();
    let b0: Vec<NewRecord> = (0..3).map(rec).collect();
    let b1: Vec<NewRecord> = (3..5).map(rec).collect();
    assert_eq!(e.append("t", 0, &b0, Some((pid, 0))).unwrap().base_offset, 0);
    assert_eq!(e.append("t", 0, &b1, Some((pid, 3))).unwrap().base_offset, 3);
    append_batches(&e, "t", 1, 0, 2, 4);

    let m = e.join_group("g", JoinRequest::new("c", &["t"])).unwrap();
    let got = e.poll("g", &m.member_id, m.generation, 100, 1 << 20).unwrap();
    assert_eq!(got.len(), 13);
    e.commit("g", &m.member_id, m.generation, &[("t".into(), 0, 5), ("t".into(), 1, 6)]).unwrap();
    e.leave_group("g", &m.member_id).unwrap();
    let plan = e.plan_reset("g", "t", Some(&[0]), ResetSpec::ToOffset(2)).unwrap();
    let executed = e.execute_reset(&plan, false).unwrap();
    assert_eq!(executed.rows, vec![(0, Some(5), 2)]);
    e.close().unwrap();
    drop(e);

    let e = Engine::open(data, cfg.clone()).unwrap();
    let g = e.describe_group("g").unwrap();
    let committed: Vec<Option<u64>> = g.partitions.iter().map(|p| p.committed).collect();
    assert_eq!(committed, vec![Some(2), Some(6)]);
    assert_eq!(g.partitions[0].lag, 3);
    let history = e.reset_history("g");
    assert_eq!(history, vec![executed.clone()]);
    // The retried batches get their original offsets back and append nothing.
    let again = e.append("t", 0, &b0, Some((pid, 0))).unwrap();
    assert_eq!((again.base_offset, again.count, again.duplicate), (0, 3, true));
    let again = e.append("t", 0, &b1, Some((pid, 3))).unwrap();
    assert_eq!((again.base_offset, again.duplicate), (3, true));
    assert_eq!(e.describe_topic("t").unwrap().partitions[0].end_offset, 5);
    // The next sequence is appended normally; a gap is refused.
    let next = e.append("t", 0, &[rec(5)], Some((pid, 5))).unwrap();
    assert_eq!((next.base_offset, next.duplicate), (5, false));
    assert!(e.append("t", 0, &[rec(9)], Some((pid, 9))).is_err());
    // Undo survives the restart too, and is journaled.
    let undo = e.plan_undo("g").unwrap();
    assert_eq!(undo.undo_of, Some(executed.id));
    assert_eq!(undo.rows[0].after, 5);
    e.execute_reset(&undo, false).unwrap();
    e.close().unwrap();
    drop(e);

    let e = Engine::open(data, cfg).unwrap();
    assert_eq!(e.describe_group("g").unwrap().partitions[0].committed, Some(5));
    let history = e.reset_history("g");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].undo_of, Some(executed.id));
    assert_eq!(history[1].rows, vec![(0, Some(2), 5)]);
    assert!(e.plan_undo("g").is_err(), "the only reset was undone already");
    assert!(e.append("t", 0, &[rec(5)], Some((pid, 5))).unwrap().duplicate);
    e.close().unwrap();
}

#[test]
fn producer_state_is_rebuilt_from_the_log_when_the_checkpoint_is_missing_or_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let cfg = config(SyncMode::Never);
    let ckpt = partition_dir(data, "t", 0).join("checkpoint");
    let e = Engine::open(data, cfg.clone()).unwrap();
    e.create_topic("t", topic_config(1, Some(4096))).unwrap();
    e.close().unwrap();
    drop(e);
    // The checkpoint as it was before any producer wrote: what a crash between creating a new
    // segment and writing the checkpoint after that roll can leave behind.
    let stale = std::fs::read(&ckpt).unwrap();

    let e = Engine::open(data, cfg.clone()).unwrap();
    let pid = e.new_producer_id();
    let batch = |first: u64| -> Vec<NewRecord> { (first..first + 4).map(rec).collect() };
    for s in 0..4u64 {
        e.append("t", 0, &batch(s * 4), Some((pid, (s * 4) as u32))).unwrap();
    }
    e.close().unwrap();
    drop(e);

    // Without a checkpoint, the producer's batches in the active segment are found by the scan.
    std::fs::remove_file(&ckpt).unwrap();
    let e = Engine::open(data, cfg.clone()).unwrap();
    let a = e.append("t", 0, &batch(12), Some((pid, 12))).unwrap();
    assert_eq!((a.base_offset, a.count, a.duplicate), (12, 4, true));
    // Another writer fills the segment until it rolls: the producer's batches are now all in a
    // sealed segment.
    let mut n = 16u64;
    while segments(data, "t", 0).len() < 2 {
        e.append("t", 0, &batch(n), None).unwrap();
        n += 4;
    }
    e.close().unwrap();
    drop(e);

    std::fs::write(&ckpt, &stale).unwrap();
    let e = Engine::open(data, cfg).unwrap();
    assert_eq!(e.describe_topic("t").unwrap().partitions[0].end_offset, n);
    let a = e.append("t", 0, &batch(12), Some((pid, 12))).unwrap();
    assert_eq!((a.base_offset, a.duplicate), (12, true), "a retry after the restart was appended again");
    assert_eq!(e.describe_topic("t").unwrap().partitions[0].end_offset, n);
    let a = e.append("t", 0, &batch(n), Some((pid, 16))).unwrap();
    assert_eq!((a.base_offset, a.duplicate), (n, false));
    e.close().unwrap();
}

#[test]
fn missing_or_damaged_index_files_are_rebuilt_and_lookups_still_work() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    // Every ten records a millisecond passes, so the time index has something to find.
    let clock = std::sync::Arc::new(depot::engine::ManualClock::new(1_700_000_000_000));
    let cfg = EngineConfig { index_interval_bytes: 256, clock: clock.clone(), ..config(SyncMode::Never) };
    let e = Engine::open(data, cfg.clone()).unwrap();
    e.create_topic("t", topic_config(1, Some(2048))).unwrap();
    for i in 0..80u64 {
        e.append("t", 0, &[rec(i)], None).unwrap();
        if i % 10 == 9 {
            clock.advance(Duration::from_millis(1));
        }
    }
    let all = read_all(&e, "t", 0);
    let times: Vec<(i64, u64)> = all.iter().map(|r| (r.timestamp, r.offset)).collect();
    e.close().unwrap();
    drop(e);
    let segs = segments(data, "t", 0);
    assert!(segs.len() > 3);
    // Remove the indexes of one sealed segment, fill another's with junk, and drop the checkpoint.
    std::fs::remove_file(segs[0].with_extension("index")).unwrap();
    std::fs::remove_file(segs[0].with_extension("timeindex")).unwrap();
    std::fs::write(segs[1].with_extension("index"), [0xFFu8; 24]).unwrap();
    std::fs::write(segs[1].with_extension("timeindex"), [0x7Fu8; 36]).unwrap();
    // A time index pointing past its segment (the offset index is fine).
    let mut junk = 1i64.to_le_bytes().to_vec();
    junk.extend_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
    std::fs::write(segs[2].with_extension("timeindex"), junk).unwrap();
    std::fs::remove_file(partition_dir(data, "t", 0).join("checkpoint")).unwrap();

    let e = Engine::open(data, cfg).unwrap();
    assert_records(&e, "t", 0, 80);
    for (ts, _) in &times {
        let want = times.iter().find(|(t, _)| t >= ts).unwrap().1;
        assert_eq!(e.offset_for_time("t", 0, *ts).unwrap(), want, "time {ts}");
    }
    for o in [0u64, 5, 17, 33, 79] {
        assert!(same(&e.fetch("t", 0, o, 1, 1).unwrap()[0], &rec(o)));
    }
    e.close().unwrap();
}

#[test]
fn headers_and_empty_values_survive_reopen_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let e = Engine::open(tmp.path(), config(SyncMode::Always)).unwrap();
    e.create_topic("t", topic_config(1, None)).unwrap();
    let recs = vec![
        NewRecord::value(Bytes::new()),
        NewRecord::keyed(Bytes::new(), vec![0u8, 255, 0]).with_header("", Bytes::new()).with_header("é", "ü"),
        NewRecord::value(vec![7u8; 100_000]),
    ];
    e.append("t", 0, &recs, None).unwrap();
    e.close().unwrap();
    drop(e);
    let e = Engine::open(tmp.path(), config(SyncMode::Always)).unwrap();
    let got = e.fetch("t", 0, 0, 10, 10 << 20).unwrap();
    assert_eq!(got.len(), 3);
    for (g, w) in got.iter().zip(&recs) {
        assert!(same(g, w));
    }
    e.close().unwrap();
}
