//! A partition of thousands of segments works in a process with few file descriptors: sealed
//! segments are opened lazily through a bounded cache (item 19 of the hardening issue). The test
//! builds the partition, then re-runs its own binary as a child under `ulimit -n 256` that
//! publishes, reopens and reads everything.

use bytes::Bytes;
use depot::core::TopicConfig;
use depot::engine::{Engine, EngineConfig, NewRecord, SyncMode};
use std::path::Path;
use std::process::Command;

const CHILD_ENV: &str = "DEPOT_FDS_CHILD";
const TEST_NAME: &str = "three_thousand_segments_open_publish_and_read_under_a_low_fd_limit";
const SEGMENTS: u64 = 3000;
const FD_LIMIT: u32 = 256;

fn config() -> EngineConfig {
    EngineConfig { sync: SyncMode::Never, ..Default::default() }
}

fn value(i: u64) -> Bytes {
    Bytes::from(format!("{i:08}-{}", "v".repeat(700)))
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn read_all(e: &Engine, end: u64) {
    let mut at = 0;
    while at < end {
        let recs = e.fetch("t", 0, at, 500, 1 << 20).unwrap_or_else(|err| panic!("fetch at {at}: {err}"));
        assert!(!recs.is_empty(), "nothing at {at} before {end}");
        for r in recs {
            assert_eq!(r.offset, at);
            assert_eq!(r.value, Some(value(at)), "record {at}");
            at += 1;
        }
    }
}

/// Under the lowered limit: open, publish past more segment rolls, reopen, read everything.
fn child(dir: &Path) {
    let e = Engine::open(dir, config()).expect("open under the fd limit");
    assert!(open_fds() < FD_LIMIT as usize, "{} fds open after open", open_fds());
    for i in SEGMENTS..SEGMENTS + 200 {
        e.append("t", 0, &[NewRecord::value(value(i))], None).unwrap_or_else(|err| panic!("append {i}: {err}"));
    }
    read_all(&e, SEGMENTS + 200);
    assert!(open_fds() < FD_LIMIT as usize, "{} fds open after reading", open_fds());
    e.close().unwrap();
    drop(e);
    let e = Engine::open(dir, config()).expect("reopen under the fd limit");
    let p = &e.describe_topic("t").unwrap().partitions[0];
    assert_eq!((p.end_offset, p.segments as u64), (SEGMENTS + 200, SEGMENTS + 200));
    read_all(&e, SEGMENTS + 200);
    e.close().unwrap();
}

#[test]
fn three_thousand_segments_open_publish_and_read_under_a_low_fd_limit() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let e = Engine::open(&dir, config()).unwrap();
    e.create_topic("t", TopicConfig { segment_bytes: Some(1024), ..TopicConfig::with_partitions(1) }).unwrap();
    for i in 0..SEGMENTS {
        e.append("t", 0, &[NewRecord::value(value(i))], None).unwrap();
    }
    assert_eq!(e.describe_topic("t").unwrap().partitions[0].segments as u64, SEGMENTS);
    e.close().unwrap();
    drop(e);
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {FD_LIMIT} && exec \"$0\" \"$@\""))
        .arg(&exe)
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the child under ulimit -n {FD_LIMIT} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"), "the child ran the test");
}
