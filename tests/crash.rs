//! Crash recovery, in the style of sled's `test_crash_recovery`: this test re-runs its own binary
//! as a child that appends with `sync=always` from several threads and reports every acknowledged
//! batch on stdout; the parent kills the child with SIGKILL at a pseudo-random moment, reopens the
//! data directory and checks that every acknowledged record is there, byte for byte, and that the
//! offsets of every partition are dense. Rounds continue on the same directory, so recovery also
//! runs on top of earlier recoveries (and sometimes a kill interrupts a recovery).

use bytes::Bytes;
use depot::core::TopicConfig;
use depot::engine::checkpoint;
use depot::engine::record::check_frame;
use depot::engine::{Engine, EngineConfig, EngineError, NewRecord, Record, SyncMode};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "DEPOT_CRASH_CHILD";
const ROUND_ENV: &str = "DEPOT_CRASH_ROUND";
const TEST_NAME: &str = "crash_recovery_keeps_every_acknowledged_record";
const TOPIC: &str = "crash";
const PARTITIONS: u32 = 2;
const ROUNDS: u64 = 24;
const SEGMENT_BYTES: u64 = 64 * 1024;

/// xorshift64*: deterministic, good enough to pick sizes and delays.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn config() -> EngineConfig {
    EngineConfig { sync: SyncMode::Always, segment_bytes: SEGMENT_BYTES, ..Default::default() }
}

/// The batch a child thread sends as its `seq`-th append in `round`: 1..50 records of varying
/// shape, everything derived from `(round, thread, seq)` so the parent can rebuild it.
fn batch(round: u64, thread: u64, seq: u64) -> (u32, Vec<NewRecord>) {
    let mut rng = Rng::new((round << 40) ^ (thread << 32) ^ seq ^ 0xC0FFEE);
    let partition = rng.below(u64::from(PARTITIONS)) as u32;
    let n = 1 + rng.below(49) as usize;
    let recs = (0..n).map(|i| record(round, thread, seq, i as u64)).collect();
    (partition, recs)
}

/// Record `i` of a batch. The `id` header names the record, so every record found in the log
/// (acknowledged or not) can be checked against what the child could have written.
fn record(round: u64, thread: u64, seq: u64, i: u64) -> NewRecord {
    let mut rng = Rng::new((round << 48) ^ (thread << 40) ^ (seq << 8) ^ i);
    let len = rng.below(160) as usize;
    let value: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    let key = match rng.below(3) {
        0 => None,
        1 => Some(Bytes::new()),
        _ => Some(Bytes::from(format!("key-{round}-{thread}-{}", seq % 7))),
    };
    let mut headers = vec![("id".to_string(), Some(Bytes::from(format!("{round}/{thread}/{seq}/{i}"))))];
    match rng.below(4) {
        0 | 1 => headers.push(("h".to_string(), Some(Bytes::from(vec![rng.next() as u8; rng.below(20) as usize])))),
        2 => headers.push(("h".to_string(), None)),
        _ => {}
    }
    // Tombstones, and clients' own timestamps (going back and forth), are kept across crashes too.
    let value = (rng.below(8) != 0).then(|| Bytes::from(value));
    let timestamp = (rng.below(3) == 0).then(|| 1_600_000_000_000 + rng.below(1 << 30) as i64);
    NewRecord { key, value, headers, timestamp }
}

fn same(stored: &Record, sent: &NewRecord) -> bool {
    stored.key == sent.key
        && stored.value == sent.value
        && stored.headers == sent.headers
        && sent.timestamp.is_none_or(|t| t == stored.timestamp)
}

/// The child: append forever (until SIGKILL), printing one `ack` line per acknowledged batch.
fn run_child(dir: &Path, round: u64) -> ! {
    let engine = Engine::open(dir, config()).expect("child: open");
    match engine.create_topic(TOPIC, TopicConfig::with_partitions(PARTITIONS)) {
        Ok(_) | Err(EngineError::AlreadyExists { .. }) => {}
        Err(e) => panic!("child: create topic: {e}"),
    }
    let threads = 2 + round % 3;
    let handles: Vec<_> = (0..threads)
        .map(|thread| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                for seq in 0.. {
                    let (partition, recs) = batch(round, thread, seq);
                    let a = engine.append(TOPIC, partition, &recs, None).expect("child: append");
                    assert_eq!(a.count as usize, recs.len());
                    let line = format!("ack {partition} {} {} {round} {thread} {seq}\n", a.base_offset, a.count);
                    let mut out = std::io::stdout().lock();
                    out.write_all(line.as_bytes()).expect("child: stdout");
                    out.flush().expect("child: flush");
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    // Appending never ends on its own; getting here means a thread panicked.
    std::process::exit(3);
}

/// The batches the children sent, built once each.
#[derive(Default)]
struct BatchCache(HashMap<(u64, u64, u64), (u32, Vec<NewRecord>)>);

impl BatchCache {
    fn get(&mut self, round: u64, thread: u64, seq: u64) -> &(u32, Vec<NewRecord>) {
        self.0.entry((round, thread, seq)).or_insert_with(|| batch(round, thread, seq))
    }
}

#[derive(Debug, Clone, Copy)]
struct Ack {
    partition: u32,
    base: u64,
    count: u32,
    round: u64,
    thread: u64,
    seq: u64,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut it = line.strip_prefix("ack ")?.split(' ');
    let mut n = || it.next()?.trim().parse::<u64>().ok();
    let ack = Ack { partition: n()? as u32, base: n()?, count: n()? as u32, round: n()?, thread: n()?, seq: n()? };
    Some(ack)
}

/// Runs one child and kills it; returns the acknowledgements it printed.
fn crash_round(dir: &Path, round: u64, rng: &mut Rng) -> Vec<Ack> {
    let exe = std::env::current_exe().expect("current_exe");
    let stderr_path = dir.with_extension(format!("stderr-{round}"));
    let mut child = Command::new(exe)
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .env(ROUND_ENV, round.to_string())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    // Every fourth round kills early, often while the child is still opening (and recovering);
    // the others wait for the first acknowledgement and then let it write for 20..150 ms.
    let delay = Duration::from_millis(20 + rng.below(131));
    if round % 4 == 3 {
        std::thread::sleep(Duration::from_millis(rng.below(40)));
    } else {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(l) => {
                    let is_ack = l.starts_with("ack ");
                    lines.push(l);
                    if is_ack {
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(status) = child.try_wait().expect("try_wait") {
                        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                        panic!(
                            "round {round}: child exited on its own ({status}) before acknowledging anything:\n{err}"
                        );
                    }
                    assert!(Instant::now() < deadline, "round {round}: child acknowledged nothing within 20 s");
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait");
                    let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                    panic!("round {round}: child closed stdout ({status}) before acknowledging anything:\n{err}");
                }
            }
        }
        std::thread::sleep(delay);
    }
    if let Some(status) = child.try_wait().expect("try_wait") {
        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        panic!("round {round}: child exited on its own ({status}) before it was killed:\n{err}");
    }
    child.kill().expect("SIGKILL child");
    child.wait().expect("reap child");
    reader.join().expect("reader thread");
    lines.extend(rx.try_iter());
    let _ = std::fs::remove_file(&stderr_path);
    // A line cut short by the kill is simply not counted (it is still an acknowledged batch, so
    // ignoring it only checks less).
    lines.iter().filter_map(|l| parse_ack(l)).collect()
}

/// Reopens the directory and checks every acknowledgement so far and the density of the logs.
fn verify(dir: &Path, round: u64, acks: &[Ack], cache: &mut BatchCache) -> [u64; PARTITIONS as usize] {
    let engine = Engine::open(dir, config()).unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
    let mut ends = [0u64; PARTITIONS as usize];
    let Ok(info) = engine.describe_topic(TOPIC) else {
        assert!(acks.is_empty(), "round {round}: topic is gone but {} batches were acknowledged", acks.len());
        engine.close().expect("close");
        return ends;
    };
    assert_eq!(info.partitions.len(), PARTITIONS as usize);
    for p in &info.partitions {
        assert_eq!(p.log_start, 0, "round {round}: partition {} lost its start (no retention configured)", p.partition);
        // Read the whole partition: offsets must be dense, and every record must be one the
        // child could have written (its `id` header names it), byte for byte.
        let mut log: Vec<Record> = Vec::with_capacity(p.end_offset as usize);
        let mut at = p.log_start;
        while at < p.end_offset {
            let recs = engine
                .fetch(TOPIC, p.partition, at, 10_000, 8 << 20)
                .unwrap_or_else(|e| panic!("round {round}: fetch {}/{at}: {e}", p.partition));
            assert!(!recs.is_empty(), "round {round}: fetch at {at} below end {} returned nothing", p.end_offset);
            for r in recs {
                assert_eq!(r.offset, at, "round {round}: partition {} offsets are not dense", p.partition);
                at += 1;
                log.push(r);
            }
        }
        assert_eq!(log.len() as u64, p.end_offset - p.log_start);
        let past_end = engine.fetch(TOPIC, p.partition, p.end_offset, 10, 1 << 20).expect("fetch at end");
        assert!(past_end.is_empty());
        for r in &log {
            let id = r
                .headers
                .first()
                .filter(|(k, _)| k == "id")
                .map(|(_, v)| String::from_utf8_lossy(v.as_deref().unwrap_or_default()).to_string());
            let id = id.unwrap_or_else(|| panic!("round {round}: record {} has no id header: {r:?}", r.offset));
            let parts: Vec<u64> = id.split('/').map(|s| s.parse().expect("id part")).collect();
            let (_, sent) = cache.get(parts[0], parts[1], parts[2]);
            let want =
                sent.get(parts[3] as usize).unwrap_or_else(|| panic!("round {round}: no record {id} was ever sent"));
            assert!(
                same(r, want),
                "round {round}: record {}/{} does not match what was written as {id}",
                p.partition,
                r.offset
            );
        }
        ends[p.partition as usize] = p.end_offset;
        // Every acknowledged batch is present where its acknowledgement said, byte for byte.
        for a in acks.iter().filter(|a| a.partition == p.partition) {
            let (partition, sent) = cache.get(a.round, a.thread, a.seq);
            assert_eq!(*partition, a.partition);
            assert_eq!(sent.len(), a.count as usize, "round {round}: ack {a:?} has the wrong count");
            assert!(
                a.base + u64::from(a.count) <= p.end_offset,
                "round {round}: acknowledged batch {a:?} is beyond the recovered end {} of partition {}",
                p.end_offset,
                p.partition
            );
            for (i, want) in sent.iter().enumerate() {
                let got = &log[(a.base + i as u64 - p.log_start) as usize];
                assert!(
                    same(got, want),
                    "round {round}: acknowledged record {}/{} ({a:?} #{i}) differs after recovery: {got:?}",
                    p.partition,
                    a.base + i as u64
                );
            }
        }
    }
    engine.close().expect("close");
    ends
}

/// Truncates partition `p`'s active segment at a random byte after its last acknowledged batch
/// and after its checkpoint's fsynced position (what a power loss can lose).
fn lose_unacknowledged_tail(dir: &Path, p: u32, acks: &[Ack], rng: &mut Rng) {
    let pdir = dir.join("topics").join(TOPIC).join(p.to_string());
    let Ok(entries) = std::fs::read_dir(&pdir) else { return };
    let Some(active) =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|f| f.extension().is_some_and(|x| x == "log")).max()
    else {
        return;
    };
    let base: u64 = active.file_stem().unwrap().to_str().unwrap().parse().unwrap();
    let acked_end = acks.iter().filter(|a| a.partition == p).map(|a| a.base + u64::from(a.count)).max().unwrap_or(0);
    let bytes = std::fs::read(&active).unwrap();
    // Walk the whole batches; keep everything up to the end of the last acknowledged one.
    let mut keep = 0usize;
    let mut pos = 0usize;
    while let Ok(h) = check_frame(&bytes[pos..]) {
        pos += h.frame_len;
        if h.base_offset < acked_end {
            keep = pos;
        }
    }
    if acked_end > base && keep == 0 {
        panic!("partition {p}: acknowledged offsets up to {acked_end} but the active segment from {base} holds none");
    }
    // A power loss keeps what was fsynced: never cut below the checkpoint's fsynced position
    // (the engine refuses a segment shorter than that as damage).
    let fsynced = std::fs::read(pdir.join("checkpoint"))
        .ok()
        .and_then(|b| checkpoint::decode(&b))
        .filter(|c| c.base == base)
        .map_or(0, |c| c.pos as usize);
    let keep = keep.max(fsynced.min(bytes.len()));
    if bytes.len() > keep {
        let cut = keep + rng.below((bytes.len() - keep) as u64 + 1) as usize;
        std::fs::OpenOptions::new().write(true).open(&active).unwrap().set_len(cut as u64).unwrap();
    }
}

#[test]
fn crash_recovery_keeps_every_acknowledged_record() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        let round = std::env::var(ROUND_ENV).ok().and_then(|r| r.parse().ok()).unwrap_or(0);
        run_child(Path::new(&dir), round);
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let mut rng = Rng::new(0x5EED_0FDE);
    let mut acks: Vec<Ack> = Vec::new();
    let mut ends_before = [0u64; PARTITIONS as usize];
    let mut cache = BatchCache::default();
    for round in 0..ROUNDS {
        let new = crash_round(&dir, round, &mut rng);
        // Two acknowledgements never claim the same offsets.
        let mut claimed: BTreeMap<(u32, u64), Ack> = BTreeMap::new();
        for a in acks.iter().chain(&new) {
            for o in a.base..a.base + u64::from(a.count) {
                if let Some(prev) = claimed.insert((a.partition, o), *a) {
                    panic!("round {round}: offset {}/{o} acknowledged twice: {prev:?} and {a:?}", a.partition);
                }
            }
        }
        // Batches acknowledged in this round start at or after where the previous round's log ended.
        for a in &new {
            assert!(a.base >= ends_before[a.partition as usize], "round {round}: {a:?} overwrote earlier records");
        }
        acks.extend(new);
        // Some rounds also lose the unacknowledged tail of the active segments, cut at a random
        // byte (often mid-batch), as when the machine, not just the process, goes down.
        if round % 3 == 1 {
            for p in 0..PARTITIONS {
                lose_unacknowledged_tail(&dir, p, &acks, &mut rng);
            }
        }
        ends_before = verify(&dir, round, &acks, &mut cache);
    }
    let total: u64 = acks.iter().map(|a| u64::from(a.count)).sum();
    assert!(total > 0, "no batch was acknowledged in {ROUNDS} rounds");
    let segments = std::fs::read_dir(dir.join("topics").join(TOPIC).join("0"))
        .expect("partition dir")
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".log")))
        .count();
    assert!(segments > 1, "segments never rolled during the test");
    eprintln!(
        "crash test: {ROUNDS} rounds, {} acknowledged batches ({total} records), logs end at {ends_before:?}, {segments} segments in partition 0, {:?}",
        acks.len(),
        started.elapsed()
    );
}
