//! Damaged or missing files on a real file system fail closed: the open (or the read) is refused
//! with the file and position, and nothing acknowledged is deleted or skipped by a guess.
//! (Items 1–4 of the hardening issue: topic.json, segments, index entries, journals.)

use bytes::Bytes;
use depot::core::{ResetSpec, TopicConfig};
use depot::engine::record::{encode_batch, parse_header};
use depot::engine::{Engine, EngineConfig, EngineError, JoinRequest, NewRecord, Record, SyncMode};
use std::path::{Path, PathBuf};

fn config() -> EngineConfig {
    EngineConfig { sync: SyncMode::Never, ..Default::default() }
}

fn open(dir: &Path) -> Engine {
    Engine::open(dir, config()).expect("open")
}

fn rec(i: u64) -> NewRecord {
    NewRecord::value(Bytes::from(format!("record-{i:05}-{}", "v".repeat((i % 13) as usize))))
}

fn append_batches(e: &Engine, topic: &str, batches: u64, per: u64) {
    for b in 0..batches {
        let recs: Vec<NewRecord> = (0..per).map(|i| rec(b * per + i)).collect();
        e.append(topic, 0, &recs, None).expect("append");
    }
}

fn read_all(e: &Engine, topic: &str) -> Vec<Record> {
    let info = e.describe_topic(topic).expect("describe");
    let (mut at, end) = (info.partitions[0].log_start, info.partitions[0].end_offset);
    let mut out = Vec::new();
    while at < end {
        let recs = e.fetch(topic, 0, at, 1000, 1 << 20).expect("fetch");
        assert!(!recs.is_empty(), "empty read at {at} before the end {end}");
        at = recs.last().map(|r| r.offset + 1).unwrap_or(end);
        out.extend(recs);
    }
    out
}

fn part_dir(data: &Path, topic: &str) -> PathBuf {
    data.join("topics").join(topic).join("0")
}

fn seg(data: &Path, topic: &str, base: u64) -> PathBuf {
    part_dir(data, topic).join(format!("{base:020}.log"))
}

/// The error an open returns, as text (panics when the open succeeds).
fn open_err(dir: &Path) -> (EngineError, String) {
    match Engine::open(dir, config()) {
        Ok(_) => panic!("the open of {} should have been refused", dir.display()),
        Err(e) => {
            let s = e.to_string();
            (e, s)
        }
    }
}

// ---- 1: topic.json -----------------------------------------------------------------------------

#[test]
fn a_topic_directory_without_topic_json_is_refused_by_name_and_nothing_is_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let e = open(data);
    e.create_topic("orders", TopicConfig::with_partitions(1)).unwrap();
    append_batches(&e, "orders", 10, 100);
    e.close().unwrap();
    drop(e);
    let log = seg(data, "orders", 0);
    let size = std::fs::metadata(&log).unwrap().len();
    std::fs::remove_file(data.join("topics/orders/topic.json")).unwrap();

    let (err, msg) = open_err(data);
    assert!(matches!(err, EngineError::Corrupt { .. }), "{err:?}");
    assert!(msg.contains("topics/orders"), "names the directory: {msg}");
    assert!(msg.contains("restore topic.json"), "says what to do: {msg}");
    assert_eq!(std::fs::metadata(&log).unwrap().len(), size, "the records are still there");

    // Restoring the file brings the topic back whole.
    std::fs::write(data.join("topics/orders/topic.json"), br#"{"partitions": 1}"#).unwrap();
    let e = open(data);
    assert_eq!(read_all(&e, "orders").len(), 1000);
}

#[test]
fn a_creation_left_in_staging_is_removed_on_open_and_created_topics_never_reuse_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    drop(open(data));
    let stage = data.join("topics/.creating-1-0");
    std::fs::create_dir_all(stage.join("0")).unwrap();
    std::fs::write(stage.join("topic.json"), br#"{"partitions": 1}"#).unwrap();
    let e = open(data);
    assert!(!stage.exists(), "the unfinished creation is gone");
    assert!(e.list_topics().is_empty());
    e.create_topic("t", TopicConfig::with_partitions(2)).unwrap();
    let names: Vec<String> = std::fs::read_dir(data.join("topics"))
        .unwrap()
        .map(|d| d.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["t".to_string()], "no staging directory is left behind");
    assert!(data.join("topics/t/topic.json").exists() && data.join("topics/t/1").is_dir());

    // A directory of that name that the engine does not know (old records) is never adopted.
    std::fs::create_dir_all(data.join("topics/u/0")).unwrap();
    std::fs::write(data.join("topics/u/0/00000000000000000000.log"), b"old").unwrap();
    let err = e.create_topic("u", TopicConfig::with_partitions(1)).unwrap_err().to_string();
    assert!(err.contains("topics/u") && err.contains("already exists"), "{err}");
}

// ---- 2: segments ---------------------------------------------------------------------------------

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn segments(data: &Path, topic: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(part_dir(data, topic))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    v.sort();
    v
}

/// Byte positions where the batches of a segment file end.
fn batch_ends(path: &Path) -> Vec<usize> {
    let bytes = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        pos += parse_header(&bytes[pos..]).unwrap().frame_len;
        out.push(pos);
    }
    out
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn segments_that_are_cut_missing_or_short_of_the_checkpoint_are_refused_with_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    let e = open(&base);
    e.create_topic("t", TopicConfig { segment_bytes: Some(4096), ..TopicConfig::with_partitions(1) }).unwrap();
    append_batches(&e, "t", 102, 10);
    e.close().unwrap();
    drop(e);
    let segs = segments(&base, "t");
    assert!(segs.len() >= 6, "expected several segments, got {}", segs.len());
    let rel = |p: &Path| p.strip_prefix(&base).unwrap().to_path_buf();
    let (sealed, first, active) = (rel(&segs[3]), rel(&segs[0]), rel(segs.last().unwrap()));
    let sealed_ends = batch_ends(&segs[3]);
    let active_ends = batch_ends(segs.last().unwrap());
    assert!(active_ends.len() >= 3, "the active segment needs a few batches");

    type Damage = Box<dyn Fn(&Path)>;
    let cut = |p: PathBuf, len: usize| -> Damage {
        Box::new(move |d: &Path| {
            std::fs::OpenOptions::new().write(true).open(d.join(&p)).unwrap().set_len(len as u64).unwrap()
        })
    };
    let rm = |p: PathBuf| -> Damage { Box::new(move |d: &Path| std::fs::remove_file(d.join(&p)).unwrap()) };
    let variants: Vec<(&str, Damage, &PathBuf)> = vec![
        ("A sealed cut to 0 bytes", cut(sealed.clone(), 0), &sealed),
        ("B sealed cut at a batch boundary", cut(sealed.clone(), sealed_ends[sealed_ends.len() / 2 - 1]), &sealed),
        ("C first segment deleted", rm(first.clone()), &first),
        ("D middle segment deleted", rm(sealed.clone()), &sealed),
        ("E active segment deleted", rm(active.clone()), &active),
        ("F active cut at a batch boundary below the checkpoint", cut(active.clone(), active_ends[0]), &active),
        ("G active cut mid-batch below the checkpoint", cut(active.clone(), active_ends[0] + 7), &active),
    ];
    for (i, (what, damage, named)) in variants.iter().enumerate() {
        let d = tmp.path().join(format!("v{i}"));
        copy_dir(&base, &d);
        damage(&d);
        let sizes: Vec<u64> = segments(&d, "t").iter().map(|p| std::fs::metadata(p).unwrap().len()).collect();
        let (err, msg) = open_err(&d);
        assert!(matches!(err, EngineError::Corrupt { .. }), "{what}: {err:?}");
        assert!(msg.contains(&file_name(named)), "{what}: the error names {}: {msg}", file_name(named));
        assert!(msg.contains("restore"), "{what}: says what to do: {msg}");
        let after: Vec<u64> = segments(&d, "t").iter().map(|p| std::fs::metadata(p).unwrap().len()).collect();
        assert_eq!(sizes, after, "{what}: nothing was cut or deleted");
    }
    // The undamaged directory reads every record, densely.
    let e = open(&base);
    let all = read_all(&e, "t");
    assert_eq!(all.len(), 1020);
    assert!(all.iter().enumerate().all(|(i, r)| r.offset == i as u64 && r.value == rec(i as u64).value));
}

#[test]
fn retention_keeps_the_log_start_so_a_later_missing_first_segment_is_noticed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let e = open(data);
    let cfg = TopicConfig { segment_bytes: Some(4096), retention_bytes: Some(8192), ..TopicConfig::with_partitions(1) };
    e.create_topic("t", cfg).unwrap();
    append_batches(&e, "t", 100, 10);
    assert!(e.enforce_retention().unwrap() > 0);
    let start = e.describe_topic("t").unwrap().partitions[0].log_start;
    assert!(start > 0);
    e.close().unwrap();
    drop(e);
    // Reopening keeps the start that retention chose.
    let e = open(data);
    assert_eq!(e.describe_topic("t").unwrap().partitions[0].log_start, start);
    e.close().unwrap();
    drop(e);
    // Deleting the first remaining segment by hand is not retention.
    std::fs::remove_file(segments(data, "t")[0].clone()).unwrap();
    let (_, msg) = open_err(data);
    assert!(msg.contains(&format!("{start:020}.log")) && msg.contains("missing"), "{msg}");
}

// ---- 3: index entries --------------------------------------------------------------------------

/// 40 batches of 25 records of ~170 bytes: one index entry per batch.
fn indexed_topic(data: &Path) {
    let e = open(data);
    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    for b in 0..40u64 {
        let recs: Vec<NewRecord> =
            (0..25).map(|i| NewRecord::value(format!("{:05}-{}", b * 25 + i, "x".repeat(160)))).collect();
        e.append("t", 0, &recs, None).unwrap();
    }
    e.close().unwrap();
}

fn index_entries(path: &Path) -> Vec<(u32, u32)> {
    let b = std::fs::read(path).unwrap();
    b.chunks_exact(8)
        .map(|c| (u32::from_le_bytes(c[..4].try_into().unwrap()), u32::from_le_bytes(c[4..].try_into().unwrap())))
        .collect()
}

#[test]
fn an_index_entry_pointing_at_the_wrong_batch_never_makes_a_read_skip_records() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    indexed_topic(data);
    let idx = part_dir(data, "t").join(format!("{:020}.index", 0));
    let entries = index_entries(&idx);
    assert!(entries.len() >= 10, "one entry per batch: {entries:?}");
    assert_eq!(entries[7].0, 175);
    // Entry 7 (offset 175) now points at the batch of offset 200.
    let mut bytes = std::fs::read(&idx).unwrap();
    bytes[7 * 8 + 4..7 * 8 + 8].copy_from_slice(&entries[8].1.to_le_bytes());
    std::fs::write(&idx, &bytes).unwrap();

    let e = open(data);
    let got: Vec<u64> = e.fetch("t", 0, 175, 3, 1 << 20).unwrap().iter().map(|r| r.offset).collect();
    assert_eq!(got, vec![175, 176, 177]);
    let r = e.fetch("t", 0, 180, 1, 1 << 20).unwrap();
    assert_eq!(r[0].value, Some(Bytes::from(format!("{:05}-{}", 180, "x".repeat(160)))));
    // The index was rebuilt from the log.
    assert_eq!(index_entries(&idx)[7], entries[7]);

    // A group reset to 175 is handed 175 first.
    let plan = e.plan_reset("g", "t", None, ResetSpec::ToOffset(175)).unwrap();
    e.execute_reset(&plan, false).unwrap();
    let m = e.join_group("g", JoinRequest::new("c", &["t"])).unwrap();
    let d = e.poll("g", &m.member_id, m.generation, 2, 1 << 20).unwrap();
    assert_eq!(d.iter().map(|d| d.record.offset).collect::<Vec<_>>(), vec![175, 176]);
}

#[test]
fn a_log_that_disagrees_with_itself_is_refused_after_the_index_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    indexed_topic(data);
    // Batch 8 (offsets 200..225) re-encoded, with a valid checksum, as if it started at 205.
    let seg0 = seg(data, "t", 0);
    let mut bytes = std::fs::read(&seg0).unwrap();
    let entries = index_entries(&part_dir(data, "t").join(format!("{:020}.index", 0)));
    let (start, end) = (entries[8].1 as usize, entries[9].1 as usize);
    let h = parse_header(&bytes[start..]).unwrap();
    assert_eq!(h.base_offset, 200);
    let recs: Vec<NewRecord> = (200..225).map(|i| NewRecord::value(format!("{i:05}-{}", "x".repeat(160)))).collect();
    let mut forged = Vec::new();
    encode_batch(&mut forged, &recs, 205, h.timestamp, None);
    assert_eq!(forged.len(), end - start);
    bytes[start..end].copy_from_slice(&forged);
    std::fs::write(&seg0, &bytes).unwrap();

    let e = open(data);
    let err = e.fetch("t", 0, 210, 3, 1 << 20).unwrap_err();
    assert!(matches!(err, EngineError::Corrupt { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&file_name(&seg0)) && msg.contains(&format!("at byte {start}")), "{msg}");
    // What comes before the disagreement still reads.
    assert_eq!(e.fetch("t", 0, 190, 5, 1 << 20).unwrap()[0].offset, 190);
}

// ---- 4: journals ----------------------------------------------------------------------------------

/// Start byte of every entry of a journal (`len u32 | crc u32 | body`).
fn journal_entries(path: &Path) -> Vec<usize> {
    let b = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        out.push(pos);
        pos += 8 + u32::from_le_bytes(b[pos..pos + 4].try_into().unwrap()) as usize;
    }
    out
}

#[test]
fn a_damaged_length_field_in_a_journal_fails_the_open_at_its_byte_and_a_torn_last_entry_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let e = open(data);
    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    append_batches(&e, "t", 1, 20);
    for g in ["billing", "audit", "shipping"] {
        e.commit_offsets(g, &[("t".into(), 0, 10)]).unwrap();
    }
    for (g, to) in [("billing", 5), ("audit", 3)] {
        let plan = e.plan_reset(g, "t", None, ResetSpec::ToOffset(to)).unwrap();
        e.execute_reset(&plan, false).unwrap();
    }
    e.commit_offsets("shipping", &[("t".into(), 0, 12)]).unwrap();
    e.close().unwrap();
    drop(e);
    for (file, entry) in [("offsets.log", 2usize), ("resets.log", 0)] {
        let path = data.join("groups").join(file);
        let original = std::fs::read(&path).unwrap();
        let starts = journal_entries(&path);
        assert!(starts.len() > entry + 1, "{file}: {starts:?}");
        let at = starts[entry];
        let mut bad = original.clone();
        bad[at + 3] = 0x01; // the length's high byte: 16 MiB more than the file holds
        std::fs::write(&path, &bad).unwrap();
        let (err, msg) = open_err(data);
        assert!(matches!(err, EngineError::Corrupt { .. }), "{file}: {err:?}");
        assert!(msg.contains(file) && msg.contains(&format!("at byte {at}")), "{file}: {msg}");
        assert_eq!(std::fs::read(&path).unwrap(), bad, "{file}: nothing was cut");
        std::fs::write(&path, &original).unwrap();
    }
    // A real tear (the last append cut short) opens with the entries before it.
    let path = data.join("groups/offsets.log");
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 5).unwrap();
    let e = open(data);
    let shipping = e.describe_group("shipping").unwrap();
    assert_eq!(shipping.partitions[0].committed, Some(10), "the torn last commit (12) is gone, the rest is there");
    assert_eq!(e.reset_history("billing").len(), 1);
    assert_eq!(e.reset_history("audit").len(), 1);
}
