//! The soak: a real `depot serve` on 127.0.0.1:0, 8 producers and 8 consumers in 2 groups over
//! HTTP (depot's own remote client) for a bounded time, the server's resident memory
//! (/proc/PID/status VmRSS) and open fds (/proc/PID/fd) sampled every few seconds. At the end
//! every acknowledged record is accounted for: each group consumed each one at least once
//! (duplicates are counted and explained). Pass: RSS flat within ±10 % after warm-up, fds not
//! growing.
//!
//! Each pull is `POST /v1/groups/G/pull`: the server joins the group as a new member, polls,
//! commits and leaves. The 4 pulls of a group take turns (a join starts a new generation, so
//! concurrent pulls used to refuse each other's commits — once for minutes, the lag standing
//! still: tests/pull_turns.rs); a duplicate would mean a record handed out by a pull that
//! committed, and then again.
//!
//! `#[ignore]`d: `DEPOT_SOAK_MINUTES=10 cargo test --test soak -- --ignored --nocapture`
//! (`.ci/run` runs 10 minutes; 1 minute by default by hand).

use depot::backend::Backend;
use depot::backend::open::{Target, open};
use depot::core::{OutRecord, PublishRequest, PullRequest, TopicConfig};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const TOPIC: &str = "soak";
const PRODUCERS: usize = 8;
const CONSUMERS_PER_GROUP: usize = 4;
const GROUPS: [&str; 2] = ["soak-a", "soak-b"];
/// Records per publish, and the pause between one producer's publishes (its pace).
const BATCH: usize = 10;
const PACE: Duration = Duration::from_millis(50);
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// How long the groups may take to catch up once the producers stopped.
const DRAIN_WITHIN: Duration = Duration::from_secs(180);

/// The server, killed if the test fails before it stops it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `depot serve` on 127.0.0.1:0 and reads the address it printed.
fn serve(data: &std::path::Path) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_depot"))
        .arg("--data")
        .arg(data)
        .args(["--sync", "interval:200", "serve", "--listen", "127.0.0.1:0"])
        .env_remove("DEPOT_CONNECT")
        .env_remove("DEPOT_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn depot serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines.next().expect("depot serve exited before it listened").expect("read stderr");
        if let Some(rest) = line.split("on http://").nth(1) {
            let addr: String = rest.chars().take_while(|c| !c.is_whitespace() && *c != ',').collect();
            break format!("http://{addr}");
        }
    };
    // Keep reading stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (Server(child), url)
}

/// One look at the server: seconds since the start, VmRSS and its anonymous part (RssAnon, the
/// heap; the rest is mapped files) in KiB, open fds.
#[derive(Clone, Copy, Debug)]
struct Sample {
    at: f64,
    rss: u64,
    anon: u64,
    fds: usize,
}

fn sample(pid: u32, at: f64) -> Sample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |field: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0);
    Sample { at, rss: kib("VmRSS:"), anon: kib("RssAnon:"), fds }
}

/// An error's kind: its text with every number masked, so one rebalance error is one kind
/// whatever the member and generation.
fn kind(e: &impl std::fmt::Display) -> String {
    let mut out = String::new();
    for c in e.to_string().chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('#') {
            out.push('#');
        }
    }
    out
}

/// What the consumers of one group saw: record id → times consumed.
type Seen = Arc<parking_lot::Mutex<HashMap<String, u32>>>;

/// Bytes on disk under `dir` by file extension (`log`, `index`, `timeindex`, ...).
fn disk_use(dir: &std::path::Path, out: &mut std::collections::BTreeMap<String, u64>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = e.path();
        match e.metadata() {
            Ok(m) if m.is_dir() => disk_use(&path, out),
            Ok(m) => {
                let ext = path.extension().map(|x| x.to_string_lossy().into_owned()).unwrap_or_default();
                *out.entry(ext).or_insert(0) += m.len();
            }
            Err(_) => {}
        }
    }
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a soak of minutes: DEPOT_SOAK_MINUTES=N cargo test --test soak -- --ignored --nocapture"]
async fn soak_over_http_keeps_memory_and_fds_flat_and_loses_nothing() {
    let minutes: f64 = std::env::var("DEPOT_SOAK_MINUTES").ok().and_then(|m| m.parse().ok()).unwrap_or(1.0);
    let run_for = Duration::from_secs_f64(minutes * 60.0);
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, url) = serve(&dir.path().join("data"));
    let pid = server.0.id();
    let b: Arc<dyn Backend> =
        open(&Target::Remote { url: url.clone(), token: None }, false).await.expect("connect").backend;
    b.create_topic(TOPIC, TopicConfig::with_partitions(8)).await.expect("create topic");
    println!(
        "soak: {minutes} min against {url} (pid {pid}), {PRODUCERS} producers, {} consumers",
        2 * CONSUMERS_PER_GROUP
    );

    let stop_producing = Arc::new(AtomicBool::new(false));
    let stop_consuming = Arc::new(AtomicBool::new(false));
    let acked: Arc<parking_lot::Mutex<Vec<String>>> = Arc::default();
    let publish_errors = Arc::new(AtomicU64::new(0));
    let pull_errors: Arc<parking_lot::Mutex<HashMap<String, u64>>> = Arc::default();
    let pulls_answered = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for p in 0..PRODUCERS {
        let (b, stop, acked, errors) = (b.clone(), stop_producing.clone(), acked.clone(), publish_errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut seq = 0u64;
            let pad = "x".repeat(100 + p * 40);
            while !stop.load(Ordering::Relaxed) {
                let ids: Vec<String> = (0..BATCH).map(|k| format!("{p}:{}", seq + k as u64)).collect();
                let records = ids.iter().map(|id| OutRecord::text(&format!("{id}:{pad}"))).collect();
                match b.publish(TOPIC, PublishRequest { records, producer: None }).await {
                    Ok(acks) if acks.len() == BATCH => acked.lock().extend(ids),
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                seq += BATCH as u64;
                tokio::time::sleep(PACE).await;
            }
        }));
    }
    let seen: Vec<Seen> = GROUPS.iter().map(|_| Seen::default()).collect();
    for (g, group) in GROUPS.iter().enumerate() {
        for _ in 0..CONSUMERS_PER_GROUP {
            let (b, stop, seen, errors) = (b.clone(), stop_consuming.clone(), seen[g].clone(), pull_errors.clone());
            let answered = pulls_answered.clone();
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let req = PullRequest { topic: TOPIC.into(), max: 200, commit: true, wait_ms: 500 };
                    match b.pull(group, req).await {
                        Ok(r) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                            let mut s = seen.lock();
                            for m in &r.messages {
                                let text = m.value.as_ref().and_then(depot::core::Payload::as_text).unwrap_or_default();
                                let id: String = text.splitn(3, ':').take(2).collect::<Vec<_>>().join(":");
                                *s.entry(id).or_insert(0) += 1;
                            }
                        }
                        Err(e) => {
                            // Mostly a rebalance by another pull of the same group (this pull's
                            // generation is gone, so its records go to the next pull): counted
                            // by kind, then tried again.
                            *errors.lock().entry(kind(&e)).or_insert(0) += 1;
                        }
                    }
                }
            }));
        }
    }

    // Sample while the producers run.
    let start = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    while start.elapsed() < run_for {
        samples.push(sample(pid, start.elapsed().as_secs_f64()));
        tokio::time::sleep(SAMPLE_EVERY.min(run_for.saturating_sub(start.elapsed()))).await;
    }
    stop_producing.store(true, Ordering::Relaxed);
    let produced_for = start.elapsed();
    // Drain: until each group's lag is zero.
    let drain_start = Instant::now();
    loop {
        let groups = b.list_groups().await.unwrap_or_default();
        let lag: u64 = groups.iter().filter(|g| GROUPS.contains(&g.name.as_str())).map(|g| g.total_lag()).sum();
        let published = acked.lock().len();
        let caught_up = seen.iter().all(|s| s.lock().len() >= published);
        if lag == 0 && caught_up && groups.iter().filter(|g| GROUPS.contains(&g.name.as_str())).count() == 2 {
            break;
        }
        assert!(
            drain_start.elapsed() < DRAIN_WITHIN,
            "the groups did not catch up within {DRAIN_WITHIN:?} (lag {lag})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop_consuming.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("task");
    }
    let end = sample(pid, start.elapsed().as_secs_f64());
    samples.push(end);

    // Accounting.
    let acked = acked.lock().clone();
    let acked_set: std::collections::HashSet<&String> = acked.iter().collect();
    let mut report = Vec::new();
    let mut missing_total = 0;
    for (g, group) in GROUPS.iter().enumerate() {
        let redeliveries: u64 =
            b.describe_group(group).await.map(|d| d.partitions.iter().map(|p| p.redeliveries).sum()).unwrap_or(0);
        let s = seen[g].lock();
        let missing = acked.iter().filter(|id| !s.contains_key(*id)).count();
        let dups: u64 = s.values().map(|&n| u64::from(n.saturating_sub(1))).sum();
        let extra = s.keys().filter(|id| !acked_set.contains(id)).count();
        report.push(format!(
            "{group}: consumed {} distinct of {} acknowledged, {missing} missing, {dups} duplicates, {extra} not acknowledged, engine counted {redeliveries} redeliveries",
            s.len(),
            acked.len()
        ));
        missing_total += missing;
    }

    // Memory and fds after warm-up (the first fifth of the run, at least 20 s).
    let warm_up = (produced_for.as_secs_f64() / 5.0).max(20.0);
    let warm: Vec<&Sample> = samples.iter().filter(|s| s.at >= warm_up).collect();
    let rss: Vec<u64> = warm.iter().map(|s| s.rss).collect();
    let base = median(rss.clone()).max(1);
    let (lo, hi) = (rss.iter().min().copied().unwrap_or(0), rss.iter().max().copied().unwrap_or(0));
    let half = warm.len() / 2;
    let fds_first = warm[..half.max(1).min(warm.len())].iter().map(|s| s.fds).max().unwrap_or(0);
    let fds_last = warm[half..].iter().map(|s| s.fds).max().unwrap_or(0);
    println!(
        "soak: produced for {:.0} s, {} records acknowledged ({} publish errors), drained in {:.1} s",
        produced_for.as_secs_f64(),
        acked.len(),
        publish_errors.load(Ordering::Relaxed),
        drain_start.elapsed().as_secs_f64(),
    );
    let mut kinds: Vec<(String, u64)> = pull_errors.lock().clone().into_iter().collect();
    kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
    println!(
        "soak: {} pulls answered, {} failed (tried again); by kind: {kinds:?}",
        pulls_answered.load(Ordering::Relaxed),
        kinds.iter().map(|k| k.1).sum::<u64>()
    );
    for r in &report {
        println!("soak: {r}");
    }
    println!(
        "soak: RSS after {warm_up:.0} s warm-up: median {base} KiB, min {lo} KiB ({:+.1} %), max {hi} KiB ({:+.1} %)",
        (lo as f64 / base as f64 - 1.0) * 100.0,
        (hi as f64 / base as f64 - 1.0) * 100.0
    );
    let at_warm = warm.first().copied().copied().unwrap_or(end);
    let first = samples.first().copied().unwrap_or(end);
    println!(
        "soak: RSS (anonymous) at the start {} ({}) KiB, after warm-up {} ({}) KiB, at the end {} ({}) KiB",
        first.rss, first.anon, at_warm.rss, at_warm.anon, end.rss, end.anon
    );
    println!(
        "soak: fds: {} at the start, max {fds_first} in the first half after warm-up, {fds_last} in the second, {} at the end",
        first.fds, end.fds
    );
    println!(
        "soak: samples (s, RSS KiB, anonymous KiB, fds): {:?}",
        samples.iter().map(|s| (s.at as u64, s.rss, s.anon, s.fds)).collect::<Vec<_>>()
    );
    // What the heap holds that grows with the log: each segment keeps its sparse offset and time
    // indexes (one entry per ~4 KiB appended) in memory; their files hold the same entries.
    let mut disk = std::collections::BTreeMap::new();
    disk_use(dir.path(), &mut disk);
    println!("soak: the data directory by file extension (bytes): {disk:?}");

    assert!(!acked.is_empty(), "nothing was published");
    assert_eq!(missing_total, 0, "records lost: {report:?}");
    assert!(warm.len() >= 2, "too few samples after warm-up: {samples:?}");
    assert!(
        lo as f64 >= base as f64 * 0.9 && hi as f64 <= base as f64 * 1.1,
        "RSS not flat within ±10 % after warm-up: {lo}..{hi} KiB around {base} KiB"
    );
    assert!(fds_last <= fds_first + 2, "fds grew: {fds_first} → {fds_last}");
    drop(server);
}
