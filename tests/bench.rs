//! `depot bench run` as a real binary: against the embedded engine and a real `depot serve` on
//! 127.0.0.1:0 (every record it sent counted exactly once on the consume side, its JSON and SVG),
//! against nats-server and redis-server (ignored without them, as the other external-engine
//! tests), an unreachable context and a topic that cannot be created (a failed row, the other
//! targets still measured), and ctrl-c (the partial table, no topic left behind).
//!
//! External engines: `DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379
//! DEPOT_TEST_KAFKA_BROKERS=127.0.0.1:9092 cargo test --test bench -- --ignored` (`.ci/run` starts
//! all three; its Kafka is tansu).
//!
//! Nothing waits a fixed time: children are awaited with a deadline, readiness is polled for.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_depot");
/// The longest a bench run may take before the test gives up on it (a debug build).
const DEADLINE: Duration = Duration::from_secs(180);

/// A `depot` command with none of the caller's DEPOT_* settings and an empty config directory.
fn depot(cfg: &Path) -> Command {
    let mut c = Command::new(BIN);
    for v in ["DEPOT_DATA", "DEPOT_CONNECT", "DEPOT_CONTEXT", "DEPOT_TOKEN", "DEPOT_LOG"] {
        c.env_remove(v);
    }
    c.env("DEPOT_CONFIG_DIR", cfg);
    c
}

struct Out {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Waits for `child` within `within`; kills it and fails the test when it does not exit.
fn wait_child(child: &mut Child, within: Duration, what: &str) -> ExitStatus {
    let end = Instant::now() + within;
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `cmd` to the end within [`DEADLINE`].
fn run(mut cmd: Command, what: &str) -> Out {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn `{what}`: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(DEADLINE) {
        Ok(r) => r.unwrap_or_else(|e| panic!("wait for `{what}`: {e}")),
        Err(_) => {
            let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
            panic!("`{what}` did not finish within {DEADLINE:?}");
        }
    };
    Out {
        status: out.status,
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Polls `f` every few ms until it returns something, failing the test after `within`.
fn poll<T>(within: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "gave up waiting for {what} after {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A temp directory with a config directory (for contexts) and room for data directories.
struct Dirs {
    tmp: tempfile::TempDir,
}

impl Dirs {
    fn new() -> Dirs {
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(tmp.path().join("cfg")).expect("config dir");
        Dirs { tmp }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn cfg(&self) -> PathBuf {
        self.path("cfg")
    }

    fn contexts(&self, toml: &str) {
        std::fs::write(self.cfg().join("config.toml"), toml).expect("write config.toml");
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = depot(&self.cfg());
        c.args(args);
        c
    }
}

/// `depot serve` on its own data directory and 127.0.0.1:0, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(d: &Dirs, name: &str, extra: &[&str]) -> Server {
        let data = d.path(name);
        let log = std::fs::File::create(d.path(&format!("{name}.log"))).expect("log file");
        let mut c = depot(&d.cfg());
        c.arg("--data").arg(&data).args(extra).args(["serve", "--listen", "127.0.0.1:0"]);
        let child = c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log).spawn().expect("spawn depot serve");
        let mut s = Server { child, url: String::new() };
        let addr = poll(Duration::from_secs(30), "depot serve to write its address into the lock file", || {
            if let Some(status) = s.child.try_wait().expect("try_wait") {
                panic!("depot serve exited ({status})");
            }
            let lock = std::fs::read_to_string(data.join("depot.lock")).unwrap_or_default();
            lock.lines().find_map(|l| l.strip_prefix("addr=").map(str::to_string))
        });
        s.url = format!("http://{addr}");
        s
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        if wait_child_quietly(&mut self.child, Duration::from_secs(30)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn wait_child_quietly(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// The small workload of these tests: 20,000 records, 2 producers, 2 consumers, 3 partitions,
/// 2 rounds, a one-second latency phase at 500 records/s.
const SMALL: &[&str] = &[
    "--count",
    "20000",
    "--producers",
    "2",
    "--consumers",
    "2",
    "--partitions",
    "3",
    "--rounds",
    "2",
    "--rate",
    "500",
    "--seconds",
    "1",
];

fn bench(d: &Dirs, targets: &[&str], extra: &[&str]) -> Out {
    let mut args = vec!["--json"];
    args.extend_from_slice(targets);
    args.extend_from_slice(&["bench", "run"]);
    args.extend_from_slice(SMALL);
    args.extend_from_slice(extra);
    run(d.cmd(&args), &args.join(" "))
}

fn json(out: &Out) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("bench run printed {:?}, not JSON ({e}); stderr: {}", out.stdout, out.stderr))
}

fn n(v: &Value, path: &[&str]) -> u64 {
    let mut at = v;
    for p in path {
        at = &at[*p];
    }
    at.as_u64().unwrap_or_else(|| panic!("{path:?} is not a count in {v}"))
}

/// Every round of `target` completed, and its consumers got every record it sent exactly once
/// (duplicates only as far as the engine says it redelivered).
fn assert_exactly_once(report: &Value, target: &str, rounds: usize) {
    let runs: Vec<&Value> = report["runs"].as_array().expect("runs").iter().filter(|r| r["target"] == target).collect();
    assert_eq!(runs.len(), rounds, "{target}: one result per round: {report}");
    for r in runs {
        assert_eq!(r["ok"], true, "{target} round {}: {}", r["round"], r["error"]);
        assert_eq!(n(r, &["publish", "records"]), 20_000, "{r}");
        assert!(r["publish"]["records_per_s"].as_f64().is_some_and(|x| x > 0.0), "{r}");
        let c = &r["consume"];
        assert_eq!(n(c, &["sent"]), 20_000, "{r}");
        assert_eq!(n(c, &["sent"]), n(c, &["received_unique"]), "{target}: every record, once: {r}");
        let l = &r["latency"];
        assert_eq!(n(l, &["sent"]), 500, "{r}");
        assert_eq!(n(l, &["sent"]), n(l, &["received_unique"]), "{target}: every latency record, once: {r}");
        assert_eq!(n(l, &["count"]), 500, "one latency per record: {r}");
        let dups = n(c, &["duplicates"]) + n(l, &["duplicates"]);
        assert!(dups <= n(c, &["redelivered"]), "{target}: duplicates beyond what the engine redelivered: {r}");
        assert_eq!(n(c, &["foreign"]), 0, "{r}");
        let p = |k: &str| l[k].as_f64().unwrap_or_else(|| panic!("{k} in {l}"));
        assert!(p("p50_ms") <= p("p99_ms") && p("p99_ms") <= p("p999_ms") && p("p999_ms") <= p("max_ms"), "{l}");
        assert!(r["cleanup_error"].is_null(), "{r}");
    }
}

/// The rows of the text report's table (after its header, up to the first blank line).
fn table_rows(stdout: &str) -> Vec<&str> {
    stdout.lines().skip_while(|l| !l.starts_with("TARGET")).skip(1).take_while(|l| !l.is_empty()).collect()
}

fn bench_topics(listing: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(listing).unwrap_or_else(|e| panic!("topics --json printed {listing:?}: {e}"));
    v.as_array()
        .expect("a list of topics")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .filter(|n| n.starts_with("depot-bench-"))
        .map(str::to_string)
        .collect()
}

fn topics(d: &Dirs, target: &[&str]) -> Vec<String> {
    let mut args = target.to_vec();
    args.extend_from_slice(&["--json", "topics"]);
    let out = run(d.cmd(&args), &args.join(" "));
    assert!(out.status.success(), "topics: {}", out.stderr);
    bench_topics(&out.stdout)
}

#[test]
fn bench_run_counts_every_record_once_on_the_engine_and_a_real_server() {
    let d = Dirs::new();
    let server = Server::start(&d, "served", &[]);
    let data = d.path("embedded").display().to_string();
    let plot = d.path("bench.svg").display().to_string();
    let pid = format!("depot-http={}", server.pid());
    let out = bench(&d, &["--data", &data, "--connect", &server.url], &["--server-pid", &pid, "--plot", &plot]);
    assert!(out.status.success(), "bench run failed: {}", out.stderr);
    let report = json(&out);
    assert_exactly_once(&report, "embedded", 2);
    assert_exactly_once(&report, "depot-http", 2);
    // The method of each target is in the report, and so are the medians and ratios.
    let targets = report["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 2);
    for t in targets {
        for k in ["client", "topic", "publish", "consume"] {
            assert!(t["method"][k].as_str().is_some_and(|s| !s.is_empty()), "{t}");
        }
    }
    assert!(targets[1]["method"]["client"].as_str().is_some_and(|s| s.contains(&server.url)), "{}", targets[1]);
    let summary = report["summary"].as_array().expect("summary");
    assert_eq!(summary[0]["vs_first"]["publish"], 1.0, "the first target is the yardstick");
    assert!(summary[1]["vs_first"]["publish"].as_f64().is_some_and(|x| x > 0.0), "{}", summary[1]);
    // The server's CPU is measured where --server-pid names it, and only there.
    for r in report["runs"].as_array().expect("runs") {
        let server_cpu = &r["publish"]["cpu"]["server_pct"];
        match r["target"].as_str() {
            Some("depot-http") => assert!(server_cpu.as_f64().is_some_and(|x| x > 0.0), "{r}"),
            _ => assert!(server_cpu.is_null(), "{r}"),
        }
        assert!(r["publish"]["cpu"]["client_pct"].as_f64().is_some_and(|x| x > 0.0), "{r}");
    }
    // The plot names both targets.
    let svg = std::fs::read_to_string(&plot).expect("the SVG was written");
    assert!(svg.starts_with("<svg") && svg.contains("embedded") && svg.contains("depot-http"), "{}", &svg[..200]);
    // No temporary topic is left on either.
    assert_eq!(topics(&d, &["--data", &data]), Vec::<String>::new());
    assert_eq!(topics(&d, &["--connect", &server.url]), Vec::<String>::new());
}

#[test]
fn the_text_report_prints_the_methods_above_one_table() {
    let d = Dirs::new();
    let data = d.path("embedded").display().to_string();
    let args =
        ["--data", &data, "bench", "run", "--count", "2000", "--rounds", "2", "--seconds", "0.5", "--rate", "200"];
    let out = run(d.cmd(&args), "bench run (text)");
    assert!(out.status.success(), "{}", out.stderr);
    let text = &out.stdout;
    let table = text.find("TARGET").expect("a table");
    assert!(
        text[..table].contains("publish: 2 producers") && text[..table].contains("latency: 200 records/s"),
        "{text}"
    );
    let rows = table_rows(text);
    assert_eq!(rows.len(), 3, "two rounds and their median: {text}");
    assert!(rows[0].starts_with("embedded  1") && rows[2].starts_with("embedded  median"), "{text}");
    assert!(out.stderr.contains("embedded round 1/2 publish"), "progress lines on stderr: {}", out.stderr);
}

#[test]
fn an_unreachable_context_is_a_failed_row_and_the_other_targets_still_run() {
    let d = Dirs::new();
    d.contexts(
        "[contexts.gone-nats]\nkind = \"nats\"\nurl = \"nats://127.0.0.1:1\"\n\n\
         [contexts.gone-redis]\nkind = \"redis\"\nurl = \"redis://127.0.0.1:1\"\n\n\
         [contexts.look-only]\nkind = \"redis\"\nurl = \"redis://127.0.0.1:1\"\nread_only = true\n",
    );
    let data = d.path("embedded").display().to_string();
    let targets = [
        "--data",
        &data,
        "--context",
        "gone-nats",
        "--context",
        "gone-redis",
        "--context",
        "missing",
        "--context",
        "look-only",
    ];
    let out = bench(&d, &targets, &[]);
    assert!(!out.status.success(), "failed targets make the run fail");
    let report = json(&out);
    assert_exactly_once(&report, "embedded", 2);
    let t = report["targets"].as_array().expect("targets");
    let err = |i: usize| t[i]["error"].as_str().unwrap_or_default().to_string();
    assert!(err(1).contains("context gone-nats") && err(1).contains("127.0.0.1:1"), "{}", err(1));
    assert!(err(2).contains("context gone-redis") && err(2).contains("127.0.0.1:1"), "{}", err(2));
    assert!(err(3).contains("no context named missing"), "{}", err(3));
    assert!(err(4).contains("context look-only is read-only"), "{}", err(4));
    assert!(out.stderr.contains("gone-nats: not measured"), "said while running: {}", out.stderr);
    // The text table shows them as failed rows with the reason below.
    let targets = ["--data", &data, "--context", "gone-nats"];
    let mut args = targets.to_vec();
    args.extend_from_slice(&["bench", "run", "--count", "1000", "--seconds", "0"]);
    let out = run(d.cmd(&args), "bench run (text)");
    assert!(!out.status.success());
    let row = table_rows(&out.stdout).into_iter().find(|l| l.starts_with("gone-nats")).unwrap_or_default();
    assert!(row.contains("failed (1)"), "{}", out.stdout);
    assert!(out.stdout.contains("(1) gone-nats: context gone-nats:"), "{}", out.stdout);
    assert!(out.stderr.contains("see the notes under the table"), "{}", out.stderr);
}

#[test]
fn a_topic_that_cannot_be_created_fails_its_rounds_only() {
    let d = Dirs::new();
    let server = Server::start(&d, "served", &["--read-only"]);
    let data = d.path("embedded").display().to_string();
    let out = bench(&d, &["--data", &data, "--connect", &server.url], &[]);
    assert!(!out.status.success());
    let report = json(&out);
    assert_exactly_once(&report, "embedded", 2);
    for r in report["runs"].as_array().expect("runs").iter().filter(|r| r["target"] == "depot-http") {
        let e = r["error"].as_str().unwrap_or_default();
        assert!(r["ok"] == false && e.contains("cannot create topic depot-bench-") && e.contains("read-only"), "{r}");
        assert!(r["publish"].is_null(), "{r}");
    }
}

#[test]
fn bad_numbers_are_refused_before_anything_runs() {
    let d = Dirs::new();
    let data = d.path("embedded").display().to_string();
    for (flag, value, says) in [
        ("--size", "8", "--size must be 32 B"),
        ("--batch", "0", "--batch must be"),
        ("--seconds=-1", "", "--seconds must be"),
        ("--rounds", "0", "--rounds must be"),
        ("--server-pid", "1", "--server-pid 1: say which target"),
    ] {
        let mut args = vec!["--data", &data, "bench", "run", flag];
        if !value.is_empty() {
            args.push(value);
        }
        let out = run(d.cmd(&args), flag);
        assert!(!out.status.success() && out.stderr.contains(says), "{flag} {value}: {}", out.stderr);
    }
    let out = run(d.cmd(&["--read-only", "--data", &data, "bench", "run"]), "bench run --read-only");
    assert!(!out.status.success() && out.stderr.contains("drop --read-only"), "{}", out.stderr);
    let out = run(d.cmd(&["bench", "run"]), "bench run without targets");
    assert!(!out.status.success() && out.stderr.contains("name what to measure"), "{}", out.stderr);
    assert!(!d.path("embedded").exists(), "nothing was opened");
}

/// Starts a long run on `targets`, interrupts it with SIGINT once publishing has made progress,
/// and checks the partial table; the caller then checks no topic is left behind.
fn interrupt(d: &Dirs, targets: &[&str], row: &str) {
    let mut args = targets.to_vec();
    // Far more than a test waits for: the run is interrupted while publishing.
    args.extend_from_slice(&["bench", "run", "--count", "100000000", "--seconds", "0"]);
    let mut child = d
        .cmd(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bench run");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let end = Instant::now() + Duration::from_secs(60);
    // Publishing has started and made progress (the once-a-second line).
    while !seen.iter().any(|l: &String| l.contains("publish:") && l.contains(" of ")) {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => seen.push(l),
            Err(_) => panic!("no publish progress within 60 s: {seen:?}"),
        }
    }
    let status = Command::new("kill").arg("-INT").arg(child.id().to_string()).status().expect("kill -INT");
    assert!(status.success());
    let status = wait_child(&mut child, Duration::from_secs(60), "bench run after SIGINT");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut stdout).expect("read stdout");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(!status.success(), "an interrupted run is no success");
    assert!(rest.iter().any(|l| l.contains("interrupted")), "{rest:?}");
    assert!(!rest.iter().any(|l| l.contains("may be left behind")), "{rest:?}");
    let line = table_rows(&stdout).into_iter().find(|l| l.starts_with(row)).unwrap_or_default();
    assert!(line.contains("interrupted"), "the partial table: {stdout}");
    assert!(stdout.contains("interrupted: the figures above are what was finished"), "{stdout}");
}

#[test]
fn ctrl_c_prints_the_partial_table_and_removes_the_topic() {
    let d = Dirs::new();
    let data = d.path("embedded").display().to_string();
    interrupt(&d, &["--data", &data], "embedded");
    assert_eq!(topics(&d, &["--data", &data]), Vec::<String>::new(), "the temporary topic is gone");
}

#[test]
fn ctrl_c_removes_the_topic_from_a_depot_server_too() {
    let d = Dirs::new();
    let server = Server::start(&d, "served", &[]);
    interrupt(&d, &["--connect", &server.url], "depot-http");
    assert_eq!(topics(&d, &["--connect", &server.url]), Vec::<String>::new(), "the temporary topic is gone");
}

// ---- external engines ---------------------------------------------------------------------------

fn env_or_skip(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("set {var} (see the module doc), or run without --ignored"))
}

/// The embedded engine beside the engine of `kind`, whose context's `field` comes from `var`;
/// then a run on it alone interrupted by ctrl-c.
fn external(kind: &str, field: &str, var: &str) {
    let d = Dirs::new();
    let url = env_or_skip(var);
    d.contexts(&format!("[contexts.{kind}]\nkind = \"{kind}\"\n{field} = \"{url}\"\n"));
    let data = d.path("embedded").display().to_string();
    let out = bench(&d, &["--data", &data, "--context", kind], &[]);
    assert!(out.status.success(), "bench run failed: {}", out.stderr);
    let report = json(&out);
    assert_exactly_once(&report, "embedded", 2);
    assert_exactly_once(&report, kind, 2);
    assert_eq!(topics(&d, &["--context", kind]), Vec::<String>::new(), "no stream is left behind");
    // Nor after ctrl-c.
    interrupt(&d, &["--context", kind], kind);
    assert_eq!(topics(&d, &["--context", kind]), Vec::<String>::new(), "no stream is left behind after ctrl-c");
}

#[test]
#[ignore = "needs nats-server with JetStream: set DEPOT_TEST_NATS_URL=nats://127.0.0.1:4222 (.ci/run starts one)"]
fn bench_run_counts_every_record_once_on_nats_jetstream() {
    external("nats", "url", "DEPOT_TEST_NATS_URL");
}

#[test]
#[ignore = "needs redis-server 7: set DEPOT_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run starts one)"]
fn bench_run_counts_every_record_once_on_redis_streams() {
    external("redis", "url", "DEPOT_TEST_REDIS_URL");
}

#[test]
#[ignore = "needs a Kafka-protocol broker: set DEPOT_TEST_KAFKA_BROKERS=127.0.0.1:19092 (.ci/run starts tansu)"]
fn bench_run_counts_every_record_once_on_kafka() {
    external("kafka", "brokers", "DEPOT_TEST_KAFKA_BROKERS");
}
