//! Damaged data directories, opened: a fixed, valid data directory (a topic of two partitions
//! over several segments with their indexes and checkpoints, groups with commits and a journaled
//! reset) is built once on a simulated disk; each input then edits its files — overwrite, flip,
//! cut, grow, replace or remove — and the engine opens the result. It must open or refuse with an
//! error (never panic), and whatever it then serves must be readable as records with dense,
//! rising offsets inside the log it describes.

use super::Bytes;
use crate::core::{ResetSpec, TopicConfig};
use crate::engine::storage::{OpenMode, SimStorage, Storage};
use crate::engine::{Engine, EngineConfig, JoinRequest, NewRecord, SyncMode};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The data directory on the simulated disk.
const DATA: &str = "/data";

/// Every file of the fixture: path and contents.
type Files = Vec<(PathBuf, Vec<u8>)>;

fn config(storage: &SimStorage) -> EngineConfig {
    EngineConfig {
        sync: SyncMode::Always,
        segment_bytes: 2048,
        index_interval_bytes: 256,
        maintenance_interval: Duration::from_secs(3600),
        storage: Arc::new(storage.clone()),
        ..EngineConfig::default()
    }
}

/// Builds the fixture once: `t` (2 partitions, ~6 segments each, sealed and active), groups `g`
/// (a member's commits) and `h` (a reset, so the reset journal holds an entry).
fn fixture() -> Option<&'static Files> {
    static FILES: OnceLock<Option<Files>> = OnceLock::new();
    FILES
        .get_or_init(|| {
            let sim = SimStorage::new(1);
            let e = Engine::open(DATA, config(&sim)).ok()?;
            let tc = TopicConfig { segment_bytes: Some(2048), ..TopicConfig::with_partitions(2) };
            e.create_topic("t", tc).ok()?;
            for b in 0..40u64 {
                let recs: Vec<NewRecord> = (0..3)
                    .map(|i| NewRecord::keyed(format!("k{b}-{i}"), vec![b as u8; 40 + i * 13]).with_header("h", "v"))
                    .collect();
                e.append("t", (b % 2) as u32, &recs, Some((7, (b / 2) as u32 * 3))).ok()?;
            }
            let m = e.join_group("g", JoinRequest::new("fuzz", &["t"])).ok()?;
            e.commit("g", &m.member_id, m.generation, &[("t".into(), 0, 30), ("t".into(), 1, 12)]).ok()?;
            e.commit_offsets("h", &[("t".into(), 0, 50)]).ok()?;
            let plan = e.plan_reset("h", "t", None, ResetSpec::ToOffset(9)).ok()?;
            e.execute_reset(&plan, true).ok()?;
            e.close().ok()?;
            let mut files = Vec::new();
            walk(&sim, Path::new(DATA), &mut files);
            files.sort();
            Some(files)
        })
        .as_ref()
}

fn walk(sim: &SimStorage, dir: &Path, out: &mut Files) {
    for name in sim.list_dir(dir).unwrap_or_default() {
        let p = dir.join(name);
        match sim.stat(&p) {
            Ok(Some(st)) if st.is_dir => walk(sim, &p, out),
            Ok(Some(_)) => out.push((p.clone(), sim.read(&p).unwrap_or_default())),
            _ => {}
        }
    }
}

/// The fixture's files whose path contains one of `parts`, with the edits the input asks for.
fn damaged(data: &[u8], parts: &[&str]) -> Option<Files> {
    let mut files = fixture()?.clone();
    let targets: Vec<usize> =
        (0..files.len()).filter(|&i| parts.iter().any(|p| files[i].0.to_string_lossy().contains(p))).collect();
    if targets.is_empty() {
        return Some(files);
    }
    let mut b = Bytes::new(data);
    let mut removed = Vec::new();
    for _ in 0..8 {
        if b.is_empty() {
            break;
        }
        let op = b.u8();
        let i = targets[b.u8() as usize % targets.len()];
        let file = &mut files[i].1;
        let pos = b.u16() as usize % (file.len() + 1);
        match op % 7 {
            0 => {
                let bytes = b.chunk();
                let end = (pos + bytes.len()).min(file.len());
                file.splice(pos..end, bytes.iter().copied());
            }
            1 => {
                if let Some(x) = file.get_mut(pos) {
                    *x ^= 1 << (b.u8() % 8);
                }
            }
            2 => file.truncate(pos),
            3 => file.extend_from_slice(b.chunk()),
            4 => *file = b.chunk().to_vec(),
            5 => removed.push(i),
            _ => {
                // Four bytes at `pos` (a length, an offset, a position) set to a chosen number.
                let v = match b.u8() % 4 {
                    0 => u32::MAX,
                    1 => 0,
                    2 => u32::from(b.u16()),
                    _ => 1 << (b.u8() % 32),
                };
                for (k, byte) in v.to_le_bytes().iter().enumerate() {
                    if let Some(x) = file.get_mut(pos + k) {
                        *x = *byte;
                    }
                }
            }
        }
    }
    removed.sort_unstable();
    removed.dedup();
    for i in removed.into_iter().rev() {
        files.remove(i);
    }
    Some(files)
}

/// A fresh simulated disk holding `files`.
fn disk(files: &Files) -> Option<SimStorage> {
    let sim = SimStorage::new(2);
    sim.create_dir_all(Path::new(DATA)).ok()?;
    for (path, bytes) in files {
        sim.create_dir_all(path.parent()?).ok()?;
        sim.open(path, OpenMode::Truncate).ok()?.write_all_at(bytes, 0).ok()?;
    }
    Some(sim)
}

/// Reads every partition the engine describes, checking what it serves.
fn check_served(e: &Engine) {
    for t in e.list_topics() {
        for p in &t.partitions {
            assert!(p.log_start <= p.end_offset, "{}/{}: log {}..{}", t.name, p.partition, p.log_start, p.end_offset);
            let mut at = p.log_start;
            while at < p.end_offset {
                let Ok(recs) = e.fetch(&t.name, p.partition, at, 64, 4096) else { break };
                let Some(last) = recs.last() else { break };
                for (k, r) in recs.iter().enumerate() {
                    assert_eq!(r.offset, at + k as u64, "{}/{}: offsets are dense from {at}", t.name, p.partition);
                }
                assert!(
                    last.offset < p.end_offset,
                    "{}/{}: served {} past the end {}",
                    t.name,
                    p.partition,
                    last.offset,
                    p.end_offset
                );
                at = last.offset + 1;
            }
            let _ = e.offset_for_time(&t.name, p.partition, 0);
            let _ = e.append(&t.name, p.partition, &[NewRecord::value("after")], None);
        }
    }
}

/// Target `recovery`: the segments, indexes, checkpoints and topic.json of `t`, damaged.
pub fn recovery(data: &[u8]) {
    let Some(files) = damaged(data, &["/topics/"]) else { return };
    let Some(sim) = disk(&files) else { return };
    if let Ok(e) = Engine::open(DATA, config(&sim)) {
        check_served(&e);
        let _ = e.close();
    }
}

/// Target `journal`: the group journals (offsets.log, resets.log), damaged.
pub fn journal(data: &[u8]) {
    let Some(files) = damaged(data, &["offsets.log", "resets.log"]) else { return };
    let Some(sim) = disk(&files) else { return };
    if let Ok(e) = Engine::open(DATA, config(&sim)) {
        for g in e.list_groups() {
            let _ = e.describe_group(&g.name);
            let _ = e.reset_history(&g.name);
            let _ = e.plan_undo(&g.name);
            if let Ok(plan) = e.plan_reset(&g.name, "t", None, ResetSpec::ToEarliest) {
                let _ = e.execute_reset(&plan, true);
            }
        }
        let _ = e.commit_offsets("g", &[("t".into(), 0, 1)]);
        let _ = e.close();
        // What it wrote over the damage must open again.
        if let Ok(e) = Engine::open(DATA, config(&sim)) {
            let _ = e.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_builds_and_an_undamaged_copy_opens_whole() {
        let files = fixture().expect("fixture");
        assert!(files.iter().filter(|(p, _)| p.extension().is_some_and(|x| x == "log")).count() > 6, "{files:?}");
        assert!(files.iter().any(|(p, b)| p.ends_with("groups/resets.log") && !b.is_empty()), "a reset is journaled");
        let sim = disk(files).expect("disk");
        let e = Engine::open(DATA, config(&sim)).expect("open");
        assert_eq!(e.describe_topic("t").expect("t").partitions.iter().map(|p| p.end_offset).sum::<u64>(), 120);
        check_served(&e);
        assert_eq!(e.reset_history("h").len(), 1);
        e.close().expect("close");
        recovery(&[]);
        journal(&[]);
    }
}
