//! The `depot` binary as a script sees it: every verb on an embedded data directory, `--json`
//! output parsed, error exits, and a second process on a directory that `depot serve` holds.
//!
//! Each test has its own temporary directory. Nothing waits a fixed time: children are awaited
//! with a deadline, and readiness is polled for.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_depot");
/// The longest any one command may take before the test gives up on it.
const DEADLINE: Duration = Duration::from_secs(30);

/// What a finished command left behind.
#[derive(Debug)]
struct Out {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(self, what: &str) -> Out {
        assert!(self.status.success(), "`{what}` failed ({}): {}", self.status, self.stderr);
        self
    }

    fn failed(self, what: &str) -> Out {
        assert!(!self.status.success(), "`{what}` should have failed, printed {:?}", self.stdout);
        assert!(self.stdout.is_empty(), "`{what}` failed but printed {:?}", self.stdout);
        self
    }
}

/// A bare `depot` command with none of the caller's DEPOT_* settings.
fn depot() -> Command {
    let mut c = Command::new(BIN);
    for v in ["DEPOT_DATA", "DEPOT_CONNECT", "DEPOT_TOKEN", "DEPOT_LOG"] {
        c.env_remove(v);
    }
    c
}

/// Runs `cmd` to the end, feeding it `input`, within [`DEADLINE`].
fn run(mut cmd: Command, input: Option<&[u8]>, what: &str) -> Out {
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn `{what}`: {e}"));
    if let Some(input) = input {
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
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

fn parse(line: &str, what: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("`{what}` printed {line:?}, not JSON: {e}"))
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

/// Lines a child prints on stdout, read on a thread so a test can wait for each with a deadline.
fn line_reader(out: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A temporary data directory and the verbs run against it.
struct Depot {
    tmp: tempfile::TempDir,
    data: PathBuf,
}

impl Depot {
    fn new() -> Depot {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = tmp.path().join("data");
        Depot { tmp, data }
    }

    /// A file path next to (not inside) the data directory.
    fn file(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = depot();
        c.arg("--data").arg(&self.data).args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Out {
        run(self.cmd(args), None, &args.join(" "))
    }

    fn run_stdin(&self, args: &[&str], input: &[u8]) -> Out {
        run(self.cmd(args), Some(input), &args.join(" "))
    }

    /// Runs a verb that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        self.run(args).ok(&args.join(" ")).stdout
    }

    /// Runs a verb that must fail; its stderr, checked to be depot's own error line.
    fn fail(&self, args: &[&str]) -> String {
        let what = args.join(" ");
        let out = self.run(args).failed(&what);
        assert!(out.stderr.starts_with("depot: "), "`{what}` stderr does not start with \"depot: \": {}", out.stderr);
        out.stderr
    }

    /// Runs a verb with `--json` that prints one JSON document.
    fn json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let out = self.ok(&a);
        assert_eq!(out.lines().count(), 1, "`{}` printed more than one line: {out}", args.join(" "));
        parse(out.trim_end(), &args.join(" "))
    }

    /// Runs a verb with `--json` that prints one JSON object per line.
    fn json_lines(&self, args: &[&str]) -> Vec<Value> {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        lines_of(&self.ok(&a), &args.join(" "))
    }

    fn create(&self, topic: &str, partitions: u32) {
        self.ok(&["topic", "create", topic, "--partitions", &partitions.to_string()]);
    }

    /// Publishes one record per line into an explicit partition.
    fn fill(&self, topic: &str, partition: u32, values: &[&str]) {
        let input = values.iter().map(|v| format!("{v}\n")).collect::<String>();
        let out = self.run_stdin(&["publish", topic, "--partition", &partition.to_string()], input.as_bytes());
        assert_eq!(out.ok("publish").stdout.lines().count(), values.len());
    }

    /// Every record of a topic (peek --json, up to 10,000).
    fn all(&self, topic: &str) -> Vec<Value> {
        self.json_lines(&["peek", topic, "--max", "10000"])
    }

    /// End offset per partition (topic describe --json).
    fn ends(&self, topic: &str) -> Vec<u64> {
        let d = self.json(&["topic", "describe", topic]);
        d["partitions"].as_array().unwrap().iter().map(|p| p["end_offset"].as_u64().unwrap()).collect()
    }

    /// Committed offset per partition of `topic` for `group` (group describe --json).
    fn committed(&self, group: &str, topic: &str) -> Vec<Option<u64>> {
        let d = self.json(&["group", "describe", group]);
        let mut rows: Vec<(u64, Option<u64>)> = d["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["topic"] == topic)
            .map(|p| (p["partition"].as_u64().unwrap(), p["committed"].as_u64()))
            .collect();
        rows.sort();
        rows.into_iter().map(|(_, c)| c).collect()
    }
}

fn lines_of(out: &str, what: &str) -> Vec<Value> {
    out.lines().map(|l| parse(l, what)).collect()
}

/// (partition, offset, value) of peeked or pulled messages.
fn pov(msgs: &[Value]) -> Vec<(u64, u64, String)> {
    msgs.iter()
        .map(|m| (m["partition"].as_u64().unwrap(), m["offset"].as_u64().unwrap(), m["value"].as_str().unwrap().into()))
        .collect()
}

fn values(msgs: &[Value]) -> Vec<String> {
    msgs.iter().map(|m| m["value"].as_str().unwrap().to_string()).collect()
}

/// A header's value from a message, by name.
fn header<'a>(m: &'a Value, name: &str) -> Option<&'a Value> {
    m["headers"].as_array().unwrap().iter().find(|h| h["name"] == name).map(|h| &h["value"])
}

fn lock_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("depot.lock")).unwrap_or_default()
}

// ---- topics ------------------------------------------------------------------------------------

#[test]
fn topic_lifecycle_and_listings() {
    let d = Depot::new();
    assert_eq!(d.json(&["topics"]), json!([]));
    let overview = d.json(&[]);
    assert_eq!(overview["topics"], json!([]));
    assert_eq!(overview["groups"], json!([]));

    let created = d.json(&["topic", "create", "orders", "--partitions", "3", "--retention-ms", "60000"]);
    assert_eq!(created["name"], "orders");
    assert_eq!(created["partitions"].as_array().unwrap().len(), 3);
    assert_eq!(created["config"]["retention_ms"], 60000);
    assert!(d.ok(&["topic", "create", "plain"]).contains("created topic plain with 1 partition(s)"));

    let list = d.json(&["topics"]);
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["orders", "plain"]);
    let table = d.ok(&["topics"]);
    assert!(table.starts_with("TOPIC"), "{table}");
    assert!(table.contains("orders") && table.contains("plain"), "{table}");

    let desc = d.json(&["topic", "describe", "orders"]);
    assert_eq!(desc["name"], "orders");
    let parts = desc["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    assert!(parts.iter().all(|p| p["end_offset"] == 0 && p["log_start"] == 0));
    let table = d.ok(&["topic", "describe", "orders"]);
    assert!(table.contains("topic orders: 3 partition(s)"), "{table}");

    // Creating it again fails and changes nothing.
    let err = d.fail(&["topic", "create", "orders", "--partitions", "5"]);
    assert!(err.contains("orders") && err.contains("exists"), "{err}");
    assert_eq!(d.json(&["topic", "describe", "orders"]), desc);

    assert_eq!(d.json(&["topic", "delete", "orders"]), json!({"deleted": "orders"}));
    assert!(d.fail(&["topic", "describe", "orders"]).contains("orders"));
    assert!(d.ok(&["topic", "delete", "plain"]).contains("deleted topic plain"));
    assert_eq!(d.json(&["topics"]), json!([]));
}

// ---- publish -----------------------------------------------------------------------------------

#[test]
fn publish_prints_one_ack_per_record_in_order() {
    let d = Depot::new();
    d.create("t", 3);

    let one = d.ok(&["publish", "t", "single"]);
    let fields: Vec<&str> = one.trim_end().split('\t').collect();
    assert_eq!(fields.len(), 3, "{one:?}");
    assert_eq!(fields[0], "t");

    // Several stdin lines: one `topic\tpartition\toffset` line each, in input order.
    let lines = ["l0", "l1", "l2", "l3", "l4", "l5", "l6"];
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let out = d.run_stdin(&["publish", "t"], input.as_bytes()).ok("publish t").stdout;
    let acks: Vec<(u64, u64)> = out
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "ack line {l:?}");
            assert_eq!(f[0], "t");
            (f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect();
    assert_eq!(acks.len(), lines.len());
    // The ack of line i names where line i is.
    let by_pos: BTreeMap<(u64, u64), String> = pov(&d.all("t")).into_iter().map(|(p, o, v)| ((p, o), v)).collect();
    for (i, ack) in acks.iter().enumerate() {
        assert_eq!(by_pos[ack], lines[i], "ack {i} is {ack:?}");
    }
    // Within a partition, acks come with increasing offsets.
    for p in 0..3 {
        let offs: Vec<u64> = acks.iter().filter(|a| a.0 == p).map(|a| a.1).collect();
        assert!(offs.windows(2).all(|w| w[0] < w[1]), "partition {p}: {offs:?}");
    }

    // --json: one object per acknowledged record.
    let acks = lines_of(
        &d.run_stdin(&["--json", "publish", "t", "--partition", "2"], b"x\ny\n").ok("publish --json").stdout,
        "publish --json",
    );
    assert_eq!(acks.len(), 2);
    for a in &acks {
        assert_eq!(a["topic"], "t");
        assert_eq!(a["partition"], 2);
    }
    assert_eq!(acks[1]["offset"].as_u64().unwrap(), acks[0]["offset"].as_u64().unwrap() + 1);
}

#[test]
fn publish_key_headers_and_raw_lines() {
    let d = Depot::new();
    d.create("t", 4);

    // Every record with one key lands in one partition, in order.
    let out = d.run_stdin(&["--json", "publish", "t", "--key", "customer-7"], b"a\nb\nc\nd\ne\n").ok("publish --key");
    let acks = lines_of(&out.stdout, "publish --key");
    assert_eq!(acks.len(), 5);
    let p = &acks[0]["partition"];
    assert!(acks.iter().all(|a| &a["partition"] == p), "{acks:?}");
    let offs: Vec<u64> = acks.iter().map(|a| a["offset"].as_u64().unwrap()).collect();
    assert_eq!(offs, [0, 1, 2, 3, 4]);
    let p = p.as_u64().unwrap().to_string();
    let msgs = d.json_lines(&["peek", "t", "--partition", &p]);
    assert_eq!(values(&msgs), ["a", "b", "c", "d", "e"]);
    assert!(msgs.iter().all(|m| m["key"] == "customer-7"));
    let again = d.json(&["publish", "t", "f", "--key", "customer-7"]);
    assert_eq!(again["partition"].as_u64().unwrap().to_string(), p, "the same key, the same partition");

    // Headers show up in peek --json; a value may itself contain '='.
    let ack =
        d.json(&["publish", "t", "with-headers", "--partition", "0", "--header", "trace=abc", "--header", "q=a=b"]);
    let off = ack["offset"].as_u64().unwrap().to_string();
    let m = d.json_lines(&["peek", "t", "--partition", "0", "--offset", &off, "--max", "1"]);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0]["value"], "with-headers");
    assert_eq!(m[0]["key"], Value::Null);
    assert_eq!(m[0]["headers"], json!([{"name": "trace", "value": "abc"}, {"name": "q", "value": "a=b"}]));

    d.create("raw", 1);
    // Stdin lines are bytes: CRLF ends a line too, and a line that is not UTF-8 is kept as is
    // (shown as base64); a last line without a newline is a record.
    let out = d.run_stdin(&["--json", "publish", "raw"], b"dos\r\nbin\xff\x00\nlast").ok("publish raw");
    assert_eq!(out.stdout.lines().count(), 3);
    let m = d.all("raw");
    assert_eq!(m.len(), 3);
    assert_eq!(m[0]["value"], "dos");
    assert_eq!(m[1]["value"]["base64"], "Ymlu/wA=");
    assert_eq!(m[2]["value"], "last");
}

#[test]
fn publish_acknowledges_each_line_as_it_arrives() {
    let d = Depot::new();
    d.create("t", 1);
    let mut child = d
        .cmd(&["publish", "t"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn publish");
    let mut stdin = child.stdin.take().unwrap();
    let acks = line_reader(child.stdout.take().unwrap());
    // The ack of a line comes while stdin is still open: a script knows what is durable.
    for (i, v) in ["first", "second", "third"].iter().enumerate() {
        writeln!(stdin, "{v}").unwrap();
        stdin.flush().unwrap();
        let ack = acks.recv_timeout(DEADLINE).expect("an ack before stdin is closed");
        assert_eq!(ack, format!("t\t0\t{i}"));
    }
    drop(stdin);
    let status = wait_child(&mut child, DEADLINE, "publish t");
    assert!(status.success(), "{status}");
    assert!(acks.recv_timeout(DEADLINE).is_err(), "no more acks after the three");
    assert_eq!(values(&d.all("t")), ["first", "second", "third"]);
}

// ---- peek --------------------------------------------------------------------------------------

#[test]
fn peek_from_offsets_times_and_the_end() {
    let d = Depot::new();
    d.create("t", 2);
    d.fill("t", 0, &["a0", "a1", "a2"]);
    d.fill("t", 1, &["b0", "b1"]);
    d.fill("t", 0, &["a3", "a4"]);

    let all = d.all("t");
    assert_eq!(all.len(), 7);
    for m in &all {
        assert_eq!(m["topic"], "t");
        assert!(m["timestamp"].as_i64().unwrap() > 0);
    }
    // Merged by time: never goes back in time.
    let ts: Vec<i64> = all.iter().map(|m| m["timestamp"].as_i64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "{ts:?}");

    let p0 = d.json_lines(&["peek", "t", "--partition", "0"]);
    assert_eq!(pov(&p0), [0, 1, 2, 3, 4].map(|o| (0, o, format!("a{o}"))));
    let from2 = d.json_lines(&["peek", "t", "--partition", "0", "--offset", "2"]);
    assert_eq!(values(&from2), ["a2", "a3", "a4"]);
    let max2 = d.json_lines(&["peek", "t", "--partition", "0", "--offset", "1", "--max", "2"]);
    assert_eq!(values(&max2), ["a1", "a2"]);
    assert_eq!(d.json_lines(&["peek", "t", "--max", "3"]).len(), 3);

    // --last N: the last N of each partition.
    let mut last = pov(&d.json_lines(&["peek", "t", "--last", "1"]));
    last.sort();
    assert_eq!(last, [(0, 4, "a4".to_string()), (1, 1, "b1".to_string())]);
    let last2 = d.json_lines(&["peek", "t", "--partition", "0", "--last", "2"]);
    assert_eq!(values(&last2), ["a3", "a4"]);

    // --from-time: exactly the records at or after that time (ms since the epoch).
    let t = all[all.len() - 1]["timestamp"].as_i64().unwrap();
    let mut want: Vec<_> = pov(&all).into_iter().zip(&ts).filter(|(_, ts)| **ts >= t).map(|(m, _)| m).collect();
    want.sort();
    let mut got = pov(&d.json_lines(&["peek", "t", "--from-time", &t.to_string()]));
    got.sort();
    assert_eq!(got, want);
    assert_eq!(d.json_lines(&["peek", "t", "--from-time", "-1h"]).len(), 7);
    assert_eq!(d.json_lines(&["peek", "t", "--from-time", "2000-01-01T00:00:00Z"]).len(), 7);
    let future = d.run(&["--json", "peek", "t", "--from-time", "2100-01-01T00:00:00Z"]).ok("peek future");
    assert_eq!(future.stdout, "");

    // The table: a header and one row per record.
    let table = d.ok(&["peek", "t", "--partition", "1"]);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(rows[0].contains("PARTITION") && rows[0].contains("OFFSET") && rows[0].contains("VALUE"));
    assert!(rows[1].contains("b0") && rows[2].contains("b1"));
}

#[test]
fn peek_tables_cut_huge_values_and_json_keeps_them_whole() {
    let d = Depot::new();
    d.create("t", 1);
    let big = format!("{}\n", "x".repeat(4 << 20));
    d.run_stdin(&["publish", "t", "--header", "src=shell"], big.as_bytes()).ok("publish 4 MiB");
    let small: String = (1..1000).map(|i| format!("{i}\n")).collect();
    d.run_stdin(&["publish", "t", "--header", "src=shell"], small.as_bytes()).ok("publish 999");

    // Not a terminal and COLUMNS unset: cut to 120 columns, so the output grows with the rows.
    let mut cmd = d.cmd(&["peek", "t", "--max", "1000"]);
    cmd.env_remove("COLUMNS");
    let out = run(cmd, None, "peek --max 1000").ok("peek --max 1000").stdout;
    assert_eq!(out.lines().count(), 1001, "a header and 1000 rows");
    assert!(out.len() < 1001 * 121, "{} bytes for 1000 rows", out.len());
    assert!(out.lines().all(|l| l.chars().count() <= 120), "a line over 120 columns");
    let first = out.lines().nth(1).unwrap_or_default();
    assert!(first.contains("\u{2026} (4.0 MiB)") && first.contains("src=shell"), "{first}");
    assert!(out.lines().nth(2).unwrap_or_default().contains("src=shell"));

    // COLUMNS is obeyed.
    let mut cmd = d.cmd(&["peek", "t", "--max", "3"]);
    cmd.env("COLUMNS", "80");
    let narrow = run(cmd, None, "peek COLUMNS=80").ok("peek COLUMNS=80").stdout;
    assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
    assert!(narrow.lines().nth(1).unwrap_or_default().contains("\u{2026} (4.0 MiB)"), "{narrow}");

    // --json prints the value whole.
    let json = d.json_lines(&["peek", "t", "--max", "1"]);
    assert_eq!(json[0]["value"].as_str().map(str::len), Some(4 << 20));
}

#[test]
fn peek_pages_past_the_read_bound_and_last_is_the_newest() {
    let d = Depot::new();
    d.create("t", 1);
    let input: String = (0..40).map(|i| format!("{i:02}{}\n", "x".repeat((1 << 20) - 2))).collect();
    d.run_stdin(&["publish", "t"], input.as_bytes()).ok("publish 40 MiB");
    let offsets = |m: &[Value]| m.iter().map(|m| m["offset"].as_u64().unwrap()).collect::<Vec<_>>();
    let out = d.run(&["--json", "peek", "t", "--max", "40"]).ok("peek --max 40");
    assert_eq!(offsets(&lines_of(&out.stdout, "peek")), (0..40).collect::<Vec<_>>());
    assert!(out.stderr.is_empty(), "nothing left out, nothing to say: {}", out.stderr);
    let last = d.json_lines(&["peek", "t", "--last", "20", "--max", "20"]);
    assert_eq!(offsets(&last), (20..40).collect::<Vec<_>>());
    let newest = d.json_lines(&["peek", "t", "--last", "20", "--max", "3"]);
    assert_eq!(offsets(&newest), [37, 38, 39]);
}

// ---- pull and groups ---------------------------------------------------------------------------

#[test]
fn pull_commits_unless_told_not_to() {
    let d = Depot::new();
    d.create("t", 1);
    d.fill("t", 0, &["m0", "m1", "m2"]);

    // --no-commit: the group gets the same records again.
    let first = d.json_lines(&["pull", "t", "--group", "g", "--max", "2", "--no-commit"]);
    assert_eq!(pov(&first), [(0, 0, "m0".into()), (0, 1, "m1".into())]);
    let again = d.json_lines(&["pull", "t", "--group", "g", "--max", "2", "--no-commit"]);
    assert_eq!(pov(&again), pov(&first));

    // With the commit, the next pull continues after it.
    let committed = d.json_lines(&["pull", "t", "--group", "g", "--max", "2"]);
    assert_eq!(pov(&committed), pov(&first));
    assert_eq!(d.committed("g", "t"), [Some(2)]);
    let desc = d.json(&["group", "describe", "g"]);
    assert_eq!(desc["name"], "g");
    assert_eq!(desc["partitions"][0]["lag"], 1);
    assert_eq!(desc["partitions"][0]["end_offset"], 3);

    let rest = d.json_lines(&["pull", "t", "--group", "g"]);
    assert_eq!(pov(&rest), [(0, 2, "m2".into())]);
    assert_eq!(d.committed("g", "t"), [Some(3)]);
    let none = d.run(&["--json", "pull", "t", "--group", "g"]).ok("pull at the end");
    assert_eq!(none.stdout, "");
    let none = d.run(&["pull", "t", "--group", "g"]).ok("pull at the end");
    assert!(none.stderr.contains("nothing to pull"), "{}", none.stderr);

    // Listings.
    let groups = d.json(&["groups"]);
    assert_eq!(groups.as_array().unwrap().len(), 1);
    assert_eq!(groups[0]["name"], "g");
    let table = d.ok(&["groups"]);
    assert!(table.starts_with("GROUP") && table.contains('g'), "{table}");
    let table = d.ok(&["group", "describe", "g"]);
    assert!(table.starts_with("group g:"), "{table}");

    // Delete: gone from the listings; the topic stays.
    assert_eq!(d.json(&["group", "delete", "g"]), json!({"deleted": "g"}));
    assert!(d.fail(&["group", "describe", "g"]).contains("\"g\""));
    assert_eq!(d.json(&["groups"]), json!([]));
    assert_eq!(d.ends("t"), [3]);
    // A new group named g starts from the beginning.
    assert_eq!(d.json_lines(&["pull", "t", "--group", "g", "--max", "1"]).len(), 1);
    assert_eq!(d.committed("g", "t"), [Some(1)]);
}

#[test]
fn pull_without_commit_counts_redeliveries_across_processes() {
    let d = Depot::new();
    d.create("t", 1);
    d.fill("t", 0, &["m0", "m1"]);
    d.json_lines(&["pull", "t", "--group", "g", "--no-commit"]);
    d.json_lines(&["pull", "t", "--group", "g"]);
    let desc = d.json(&["group", "describe", "g"]);
    assert_eq!(desc["partitions"][0]["redeliveries"], 2, "{desc}");
}

#[test]
fn one_shot_pulls_take_from_every_partition() {
    // Each `depot pull` is a new member in a new process; still every pull of 5 over 3 partitions
    // of 10 takes from all three (2, 2 and 1, taking turns), and nothing comes twice.
    let d = Depot::new();
    d.create("t", 3);
    let values: Vec<String> = (0..10).map(|i| format!("v{i}")).collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    for p in 0..3 {
        d.fill("t", p, &refs);
    }
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..3 {
        let got = d.json_lines(&["pull", "t", "--group", "g", "--max", "5"]);
        assert_eq!(got.len(), 5, "pull {i}");
        let parts: std::collections::BTreeSet<u64> = got.iter().map(|m| m["partition"].as_u64().unwrap()).collect();
        assert_eq!(parts.into_iter().collect::<Vec<_>>(), [0, 1, 2], "pull {i} served {:?}", pov(&got));
        for (p, o, _) in pov(&got) {
            assert!(seen.insert((p, o)), "pull {i} handed out {p}/{o} again");
        }
    }
    assert_eq!(d.committed("g", "t"), [Some(5), Some(5), Some(5)]);
}

// ---- reset and undo ----------------------------------------------------------------------------

#[test]
fn reset_every_mode_dry_run_and_execute() {
    let d = Depot::new();
    d.create("t", 2);
    d.fill("t", 0, &["a0", "a1", "a2"]);
    d.fill("t", 1, &["b0", "b1", "b2"]);
    d.fill("t", 0, &["a3", "a4"]);
    assert_eq!(d.json_lines(&["pull", "t", "--group", "g", "--max", "100"]).len(), 8);
    assert_eq!(d.committed("g", "t"), [Some(5), Some(3)]);

    // Each mode: the dry run prints the plan and changes nothing; --execute moves the offsets.
    let check = |mode: &[&str], want: [u64; 2]| {
        let what = mode.join(" ");
        let before = d.committed("g", "t");
        let mut args = vec!["reset", "g", "--topic", "t"];
        args.extend_from_slice(mode);
        let plan = d.json(&args);
        assert_eq!(plan["group"], "g", "{what}");
        let rows = plan["rows"].as_array().unwrap();
        let after: Vec<u64> = rows.iter().map(|r| r["after"].as_u64().unwrap()).collect();
        assert_eq!(after, want, "plan of {what}: {plan}");
        let before_in_plan: Vec<Option<u64>> = rows.iter().map(|r| r["before"].as_u64()).collect();
        assert_eq!(before_in_plan, before, "{what}");
        assert_eq!(d.committed("g", "t"), before, "the dry run of {what} changed offsets");
        let table = d.ok(&args);
        assert!(table.contains("dry run: nothing changed"), "{table}");
        assert_eq!(d.committed("g", "t"), before);

        args.push("--execute");
        let rec = d.json(&args);
        assert!(rec["id"].as_u64().is_some(), "{rec}");
        assert_eq!(rec["group"], "g");
        assert_eq!(d.committed("g", "t"), want.map(Some), "after {what} --execute");
    };
    check(&["--to-earliest"], [0, 0]);
    check(&["--to-latest"], [5, 3]);
    check(&["--to-offset", "2"], [2, 2]);
    check(&["--shift-by", "-1"], [1, 1]);
    check(&["--shift-by", "-5"], [0, 0]);
    check(&["--shift-by", "3"], [3, 3]);
    check(&["--to-datetime", "2000-01-01T00:00:00Z"], [0, 0]);
    check(&["--to-datetime", "2100-01-01T00:00:00Z"], [5, 3]);
    check(&["--by-duration", "1h"], [0, 0]);

    // --to-datetime T: per partition, the first record at or after T.
    let all = d.all("t");
    let t = all.iter().find(|m| m["value"] == "a3").unwrap()["timestamp"].as_i64().unwrap();
    let first_at = |p: u64| {
        all.iter()
            .filter(|m| m["partition"] == p && m["timestamp"].as_i64().unwrap() >= t)
            .map(|m| m["offset"].as_u64().unwrap())
            .min()
            .unwrap_or([5, 3][p as usize])
    };
    check(&["--to-datetime", &t.to_string()], [first_at(0), first_at(1)]);
    check(&["--to-datetime", "-1h"], [0, 0]);

    // --partition: only that one moves.
    let before = d.committed("g", "t");
    let rec = d.json(&["reset", "g", "--topic", "t", "--to-latest", "--partition", "1", "--execute"]);
    assert_eq!(rec["rows"].as_array().unwrap().len(), 1);
    assert_eq!(d.committed("g", "t"), [before[0], Some(3)]);
}

#[test]
fn undo_restores_the_previous_offsets() {
    let d = Depot::new();
    d.create("t", 2);
    d.fill("t", 0, &["a0", "a1", "a2", "a3"]);
    d.fill("t", 1, &["b0", "b1"]);
    d.json_lines(&["pull", "t", "--group", "g", "--max", "100"]);
    assert_eq!(d.committed("g", "t"), [Some(4), Some(2)]);
    assert!(d.fail(&["undo", "g"]).contains("g"), "nothing to undo yet");

    let rec = d.json(&["reset", "g", "--topic", "t", "--to-offset", "1", "--execute"]);
    assert_eq!(d.committed("g", "t"), [Some(1), Some(1)]);

    // The dry run shows the way back and changes nothing.
    let plan = d.json(&["undo", "g"]);
    assert_eq!(plan["undo_of"], rec["id"]);
    let after: Vec<u64> = plan["rows"].as_array().unwrap().iter().map(|r| r["after"].as_u64().unwrap()).collect();
    assert_eq!(after, [4, 2]);
    assert!(d.ok(&["undo", "g"]).contains("dry run: nothing changed"));
    assert_eq!(d.committed("g", "t"), [Some(1), Some(1)]);

    let undone = d.json(&["undo", "g", "--execute"]);
    assert_eq!(undone["undo_of"], rec["id"]);
    assert_eq!(d.committed("g", "t"), [Some(4), Some(2)]);
    // Pulls continue from the restored offsets: nothing is left.
    assert_eq!(d.run(&["--json", "pull", "t", "--group", "g"]).ok("pull").stdout, "");
}

// ---- times after year 9999 and absurd durations -------------------------------------------------

/// Runs a verb that may succeed or fail, but must not panic.
fn no_panic(d: &Depot, args: &[&str]) -> Out {
    let out = d.run(args);
    assert!(!out.stderr.contains("panicked"), "`{}` panicked: {}", args.join(" "), out.stderr);
    out
}

#[test]
fn times_after_year_9999_reset_peek_and_replay_without_a_panic() {
    let d = Depot::new();
    d.create("t", 1);
    d.fill("t", 0, &["a0", "a1", "a2"]);
    d.json_lines(&["pull", "t", "--group", "g", "--max", "100"]);
    d.ok(&["reset", "g", "--topic", "t", "--to-earliest", "--execute"]);
    for (t, shown) in [
        ("+10000-01-01T00:00:00Z", "to-datetime +10000-01-01T00:00:00.000Z"),
        ("253402300800000", "to-datetime +10000-01-01T00:00:00.000Z"),
        ("9223372036854775807", "to-datetime +292278994-08-17T07:12:55.807Z"),
    ] {
        // No record is that new: the plan moves to the end, and its table shows the time.
        let reset = ["reset", "g", "--topic", "t", "--to-datetime", t];
        let table = no_panic(&d, &reset).ok(&reset.join(" ")).stdout;
        assert!(table.contains(shown), "{table}");
        let plan = d.json(&reset);
        assert_eq!(plan["rows"][0]["after"], 3, "{plan}");
        assert_eq!(plan["spec"]["mode"], "to-datetime");

        // Executed, the journal holds a reset to that time; a later process reads and shows it.
        let mut execute = reset.to_vec();
        execute.push("--execute");
        let out = no_panic(&d, &execute).ok(&execute.join(" ")).stdout;
        assert!(out.contains(shown) && out.contains("executed as reset #"), "{out}");
        let undo = no_panic(&d, &["undo", "g"]).ok("undo g").stdout;
        assert!(undo.contains("undo of reset #") && undo.contains(shown), "{undo}");
        no_panic(&d, &["undo", "g", "--execute"]).ok("undo g --execute");
        assert_eq!(d.committed("g", "t"), [Some(0)]);

        // Peek from that time: nothing there, said so.
        let peek = ["peek", "t", "--from-time", t];
        let out = no_panic(&d, &peek).ok(&peek.join(" "));
        assert!(out.stderr.contains("no records there"), "{}", out.stderr);
        let peek = ["--json", "peek", "t", "--from-time", t];
        assert_eq!(no_panic(&d, &peek).ok(&peek.join(" ")).stdout, "");

        // Replay a window that starts then: nothing to copy.
        let replay = ["--json", "replay", "t", "--since", t, "--until", "9223372036854775807"];
        let plan = parse(no_panic(&d, &replay).ok(&replay.join(" ")).stdout.trim_end(), "replay");
        assert_eq!(plan["total"], 0, "{plan}");
    }
    // Later than any i64 of ms, or not a time at all: a clear error.
    for t in ["+999999999999-01-01T00:00:00Z", "9223372036854775808", "+10000-13-01T00:00:00Z"] {
        let e = d.fail(&["reset", "g", "--topic", "t", "--to-datetime", t]);
        assert!(!e.contains("panicked") && e.contains(t), "{e}");
        assert!(!d.fail(&["peek", "t", "--from-time", t]).contains("panicked"));
    }
}

#[test]
fn huge_durations_compute_and_absurd_ones_are_a_clear_error() {
    let d = Depot::new();
    d.create("t", 1);
    d.fill("t", 0, &["a0", "a1", "a2"]);
    d.json_lines(&["pull", "t", "--group", "g", "--max", "100"]);

    // 100000000000 days ago is before every record: back to the log start.
    let reset = ["reset", "g", "--topic", "t", "--by-duration", "100000000000d"];
    let table = no_panic(&d, &reset).ok(&reset.join(" ")).stdout;
    assert!(table.contains("by-duration "), "{table}");
    let plan = d.json(&reset);
    assert_eq!(plan["spec"]["value"], 8_640_000_000_000_000_000u64, "{plan}");
    assert_eq!(plan["rows"][0]["after"], 0, "{plan}");
    let mut execute = reset.to_vec();
    execute.push("--execute");
    no_panic(&d, &execute).ok(&execute.join(" "));
    assert_eq!(d.committed("g", "t"), [Some(0)]);
    assert!(no_panic(&d, &["undo", "g"]).ok("undo g").stdout.contains("by-duration "));

    // Longer than a u64 of ms, or than humantime counts: refused, saying why.
    for (dur, why) in [("300000000000d", "too long"), ("1000000000000000000000000d", "is not a duration")] {
        let e = d.fail(&["reset", "g", "--topic", "t", "--by-duration", dur]);
        assert!(e.contains(why) && !e.contains("panicked"), "{e}");
    }
    // So long ago that it is before any i64 of ms: every record.
    for ago in ["-100000000000d", "-500000000y"] {
        let peek = ["--json", "peek", "t", "--from-time", ago];
        assert_eq!(lines_of(&no_panic(&d, &peek).ok(&peek.join(" ")).stdout, ago).len(), 3, "{ago}");
    }
}

// ---- replay ------------------------------------------------------------------------------------

#[test]
fn replay_plans_then_copies_with_origin_headers() {
    let d = Depot::new();
    d.create("src", 2);
    d.create("dst", 1);
    let out = d.run_stdin(&["publish", "src", "--partition", "0", "--key", "k", "--header", "h=v"], b"a0\na1\na2\n");
    out.ok("publish");
    d.fill("src", 1, &["b0", "b1", "b2"]);

    // Dry run: the count, and nothing copied.
    let table = d.ok(&["replay", "src", "--from-offset", "1", "--to-offset", "3", "--to", "dst"]);
    assert!(table.contains("4 record(s)"), "{table}");
    assert!(table.contains("dry run"), "{table}");
    let plan = d.json(&["replay", "src", "--from-offset", "1", "--to-offset", "3", "--to", "dst"]);
    assert_eq!(plan["total"], 4);
    assert_eq!(plan["target"], "dst");
    assert_eq!(d.ends("dst"), [0]);
    let one = d.json(&["replay", "src", "--from-offset", "0", "--to-offset", "3", "--partition", "1", "--to", "dst"]);
    assert_eq!(one["total"], 3);
    let window = d.json(&["replay", "src", "--since", "-1h", "--until", "2100-01-01T00:00:00Z", "--to", "dst"]);
    assert_eq!(window["total"], 6);
    assert_eq!(d.ends("dst"), [0]);

    // Execute: copies with depot.origin.* headers next to the record's own.
    let res = d.json(&["replay", "src", "--from-offset", "1", "--to-offset", "3", "--to", "dst", "--execute"]);
    assert_eq!(res["appended"], 4);
    let copied = d.all("dst");
    assert_eq!(copied.len(), 4);
    let src = d.all("src");
    assert_eq!(src.len(), 6);
    let mut seen = Vec::new();
    for m in &copied {
        assert_eq!(header(m, "depot.origin.topic"), Some(&json!("src")), "{m}");
        let p: u64 = header(m, "depot.origin.partition").unwrap().as_str().unwrap().parse().unwrap();
        let o: u64 = header(m, "depot.origin.offset").unwrap().as_str().unwrap().parse().unwrap();
        let orig = src.iter().find(|s| s["partition"] == p && s["offset"] == o).expect("the origin exists");
        assert_eq!(m["value"], orig["value"]);
        assert_eq!(m["key"], orig["key"]);
        for h in orig["headers"].as_array().unwrap() {
            assert_eq!(header(m, h["name"].as_str().unwrap()), Some(&h["value"]), "{m}");
        }
        seen.push((p, o));
    }
    seen.sort();
    assert_eq!(seen, [(0, 1), (0, 2), (1, 1), (1, 2)]);
    assert_eq!(d.ends("src"), [3, 3], "the source is unchanged");
}

// ---- export and import -------------------------------------------------------------------------

/// (key, value, headers) of messages, sorted: what an import must preserve.
fn contents(msgs: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = msgs.iter().map(|m| json!([m["key"], m["value"], m["headers"]]).to_string()).collect();
    v.sort();
    v
}

#[test]
fn export_json_and_csv_and_import_it_back() {
    let d = Depot::new();
    d.create("src", 2);
    d.create("copy", 3);
    d.create("same", 2);
    d.run_stdin(&["publish", "src", "--key", "k1", "--header", "h=1"], b"one\ntwo\n").ok("publish");
    d.run_stdin(&["publish", "src", "--partition", "1"], "comma, here\nquote \"q\"\nünïcode\n".as_bytes())
        .ok("publish");
    d.run_stdin(&["publish", "src", "--partition", "0"], b"raw\xfe\n").ok("publish");
    let src = d.all("src");
    assert_eq!(src.len(), 6);

    let exported = d.ok(&["export", "src"]);
    let lines = lines_of(&exported, "export");
    assert_eq!(lines.len(), 6);
    assert_eq!(contents(&lines), contents(&src));
    let ranged =
        lines_of(&d.ok(&["export", "src", "--partition", "1", "--from-offset", "1", "--to-offset", "3"]), "export");
    let want: Vec<&Value> =
        src.iter().filter(|m| m["partition"] == 1 && (1..3).contains(&m["offset"].as_u64().unwrap())).collect();
    assert_eq!(ranged.len(), 2);
    assert_eq!(ranged.iter().collect::<Vec<_>>(), want);

    let file = d.file("src.jsonl");
    std::fs::write(&file, &exported).unwrap();
    let res = d.json(&["import", "copy", file.to_str().unwrap()]);
    assert_eq!(res, json!({"imported": 6, "topic": "copy"}));
    assert_eq!(contents(&d.all("copy")), contents(&src));

    // --keep-partitions keeps where each record was.
    assert!(d.ok(&["import", "same", file.to_str().unwrap(), "--keep-partitions"]).contains("imported 6 record(s)"));
    let same = d.all("same");
    let placed = |msgs: &[Value]| {
        let mut v: Vec<String> = msgs.iter().map(|m| json!([m["partition"], m["value"]]).to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(placed(&same), placed(&src));

    // From stdin too.
    let out = d.run_stdin(&["--json", "import", "copy", "-"], exported.as_bytes()).ok("import -");
    assert_eq!(parse(out.stdout.trim_end(), "import -")["imported"], 6);
    assert_eq!(d.all("copy").len(), 12);

    // CSV: a header line, then partition,offset,timestamp,key,value with quoting.
    let csv = d.ok(&["export", "src", "--format", "csv"]);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "partition,offset,timestamp,key,value");
    assert_eq!(rows.len(), 7, "{csv}");
    assert!(rows.iter().any(|r| r.starts_with("1,") && r.ends_with(",,\"comma, here\"")), "{csv}");
    assert!(rows.iter().any(|r| r.ends_with(",\"quote \"\"q\"\"\"")), "{csv}");
    assert!(rows.iter().any(|r| r.ends_with(",k1,one")), "{csv}");
}

#[test]
fn import_with_a_bad_line_names_it_and_imports_nothing() {
    let d = Depot::new();
    d.create("t", 2);
    let file = d.file("bad.jsonl");
    std::fs::write(
        &file,
        "{\"value\": \"ok\"}\n\n{\"key\": \"k\", \"value\": \"fine\"}\n{\"value\": 12}\n{\"value\": \"x\"}\n",
    )
    .unwrap();
    let err = d.fail(&["import", "t", file.to_str().unwrap()]);
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(d.ends("t"), [0, 0]);

    let file = d.file("notjson.jsonl");
    std::fs::write(&file, "{\"value\": \"ok\"}\nnot json\n").unwrap();
    assert!(d.fail(&["import", "t", file.to_str().unwrap()]).contains("line 2"));
    assert_eq!(d.ends("t"), [0, 0]);

    // A partition the topic does not have, with --keep-partitions.
    let file = d.file("part.jsonl");
    std::fs::write(&file, "{\"value\": \"a\", \"partition\": 1}\n{\"value\": \"b\", \"partition\": 7}\n").unwrap();
    let err = d.fail(&["import", "t", file.to_str().unwrap(), "--keep-partitions"]);
    assert!(err.contains("line 2") && err.contains("partition 7"), "{err}");
    assert_eq!(d.ends("t"), [0, 0]);

    let missing = d.file("missing.jsonl");
    assert!(d.fail(&["import", "t", missing.to_str().unwrap()]).contains("missing.jsonl"));
    assert_eq!(d.ends("t"), [0, 0]);
}

// ---- errors ------------------------------------------------------------------------------------

#[test]
fn unknown_topics_and_groups_are_named_in_the_error() {
    let d = Depot::new();
    d.create("t", 1);
    d.fill("t", 0, &["x"]);
    let empty = d.file("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let empty = empty.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["topic", "describe", "nope"],
        vec!["topic", "delete", "nope"],
        vec!["publish", "nope", "v"],
        vec!["peek", "nope"],
        vec!["pull", "nope", "--group", "g"],
        vec!["export", "nope"],
        vec!["import", "nope", empty],
        vec!["replay", "nope", "--from-offset", "0", "--to-offset", "1"],
        vec!["replay", "t", "--from-offset", "0", "--to-offset", "1", "--to", "nope", "--execute"],
        vec!["reset", "g", "--topic", "nope", "--to-earliest"],
    ];
    for args in &cases {
        let err = d.fail(args);
        assert!(err.contains("nope"), "`{}`: {err}", args.join(" "));
    }
    let out = d.run_stdin(&["publish", "nope"], b"a\nb\n").failed("publish nope (stdin)");
    assert!(out.stderr.starts_with("depot: ") && out.stderr.contains("nope"), "{}", out.stderr);

    for args in [["group", "describe", "nog"], ["group", "delete", "nog"]] {
        assert!(d.fail(&args).contains("nog"));
    }
    assert!(d.fail(&["undo", "nog"]).contains("nog"));
    assert!(d.fail(&["peek", "t", "--partition", "5"]).contains('5'));
    assert!(d.fail(&["export", "t", "--partition", "5", "--format", "csv"]).contains('5'));

    // Nothing was created or changed along the way.
    let topics = d.json(&["topics"]);
    assert_eq!(topics.as_array().unwrap().len(), 1);
    assert_eq!(d.ends("t"), [1]);
    assert_eq!(d.json(&["groups"]), json!([]));
}

#[test]
fn bad_flag_values_fail_and_change_nothing() {
    let d = Depot::new();
    d.create("t", 1);
    d.fill("t", 0, &["a", "b", "c"]);
    d.json_lines(&["pull", "t", "--group", "g", "--max", "2"]);
    let topics = d.json(&["topics"]);
    let group = d.committed("g", "t");

    // (arguments, words the message must contain)
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["--sync", "sometimes", "publish", "t", "x"], vec!["sometimes", "sync"]),
        (vec!["--sync", "sometimes", "topics"], vec!["sometimes"]),
        (vec!["topic", "create", "u", "--partitions", "abc"], vec!["--partitions", "abc"]),
        (vec!["topic", "create", "u", "--partitions", "0"], vec!["partitions"]),
        (vec!["reset", "g", "--topic", "t"], vec!["--to-earliest", "--shift-by"]),
        (vec!["reset", "g", "--topic", "t", "--to-earliest", "--to-latest", "--execute"], vec!["--to-latest"]),
        (vec!["reset", "g", "--topic", "t", "--to-offset", "x", "--execute"], vec!["--to-offset", "x"]),
        (vec!["reset", "g", "--topic", "t", "--to-datetime", "yesterday", "--execute"], vec!["yesterday"]),
        (vec!["reset", "g", "--topic", "t", "--by-duration", "soon", "--execute"], vec!["soon"]),
        (vec!["peek", "t", "--from-time", "garbage"], vec!["garbage"]),
        (vec!["peek", "t", "--offset", "1", "--last", "1"], vec!["--last"]),
        (vec!["peek", "t", "--max", "0"], vec!["--max"]),
        (vec!["pull", "t", "--group", "g", "--max", "0"], vec!["--max"]),
        (vec!["pull", "t"], vec!["--group"]),
        (vec!["publish", "t", "v", "--header", "novalue"], vec!["novalue", "NAME=VALUE"]),
        (vec!["publish", "t", "v", "--partition", "9"], vec!["partition 9"]),
        (vec!["export", "t", "--format", "xml"], vec!["xml", "--format"]),
        (vec!["replay", "t", "--from-offset", "3", "--to-offset", "1", "--execute"], vec!["3..1"]),
        (vec!["replay", "t", "--from-offset", "1", "--execute"], vec!["--to-offset"]),
        (vec!["serve", "--listen", "nonsense"], vec!["--listen", "nonsense"]),
        (vec!["--connect", "ftp://127.0.0.1:1", "topics"], vec!["--connect", "http://"]),
        (vec!["--read-only", "publish", "t", "x"], vec!["read-only"]),
        (vec!["--read-only", "topic", "create", "u"], vec!["read-only"]),
        (vec!["--read-only", "reset", "g", "--topic", "t", "--to-earliest", "--execute"], vec!["read-only"]),
    ];
    for (args, words) in &cases {
        let what = args.join(" ");
        let out = d.run(args).failed(&what);
        for w in words {
            assert!(out.stderr.contains(w), "`{what}`: {w:?} not in {}", out.stderr);
        }
        // depot's own errors start with "depot: "; argument errors are clap's "error: ".
        assert!(out.stderr.starts_with("depot: ") || out.stderr.starts_with("error: "), "`{what}`: {}", out.stderr);
    }
    assert_eq!(d.json(&["topics"]), topics);
    assert_eq!(d.committed("g", "t"), group);
    // --read-only still reads.
    assert_eq!(d.json_lines(&["--read-only", "peek", "t"]).len(), 3);
    assert!(d.ok(&["--read-only", "reset", "g", "--topic", "t", "--to-earliest"]).contains("dry run"));
}

#[test]
fn data_directory_from_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    // DEPOT_DATA stands for --data.
    let env_dir = tmp.path().join("from-env");
    let mut c = depot();
    c.env("DEPOT_DATA", &env_dir).args(["topic", "create", "e"]);
    run(c, None, "DEPOT_DATA topic create").ok("DEPOT_DATA topic create");
    assert!(env_dir.join("depot.lock").exists());
    // Without either, the platform data directory: $XDG_DATA_HOME/depot.
    let mut c = depot();
    c.env("XDG_DATA_HOME", tmp.path()).env("HOME", tmp.path()).args(["--json", "topics"]);
    let out = run(c, None, "topics in the default directory").ok("topics");
    assert_eq!(parse(out.stdout.trim_end(), "topics"), json!([]));
    assert!(tmp.path().join("depot").join("depot.lock").exists());
}

#[test]
fn connect_urls_are_checked() {
    for (url, words) in [("ftp://127.0.0.1:1", "http://"), ("https://127.0.0.1:1", "plain HTTP")] {
        let mut c = depot();
        c.args(["--connect", url, "topics"]);
        let out = run(c, None, url).failed(url);
        assert!(out.stderr.starts_with("depot: ") && out.stderr.contains(words), "{url}: {}", out.stderr);
    }
}

#[test]
fn connecting_to_nothing_fails_fast() {
    let started = Instant::now();
    let mut cmd = depot();
    cmd.args(["--connect", "http://127.0.0.1:1", "topics"]);
    let out = run(cmd, None, "--connect :1 topics").failed("--connect :1 topics");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert!(out.stderr.starts_with("depot: "), "{}", out.stderr);
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);
    assert!(out.stderr.contains("127.0.0.1:1"), "{}", out.stderr);
}

#[test]
fn output_into_a_closed_pipe_is_no_crash() {
    let d = Depot::new();
    d.create("t", 1);
    let input: String = (0..3000).map(|i| format!("record number {i} with some padding to fill the pipe\n")).collect();
    d.run_stdin(&["publish", "t"], input.as_bytes()).ok("publish");
    for args in
        [&["peek", "t", "--max", "3000"][..], &["export", "t"], &["topics"], &["--json", "peek", "t", "--max", "3000"]]
    {
        let mut child = d.cmd(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take()); // the reader went away (like `| head -0`)
        let mut err = child.stderr.take().unwrap();
        let status = wait_child(&mut child, DEADLINE, &args.join(" "));
        let mut text = String::new();
        std::io::Read::read_to_string(&mut err, &mut text).unwrap();
        assert!(!text.contains("panicked"), "`{}`: {text}", args.join(" "));
        assert!(status.success(), "`{}`: {status} {text}", args.join(" "));
    }
}

// ---- a second process on the same data directory -----------------------------------------------

/// `depot serve` as a child, stopped with SIGTERM when dropped (if the test did not stop it).
struct Server {
    child: Child,
}

impl Server {
    fn start(d: &Depot) -> (Server, String) {
        let log = std::fs::File::create(d.file("serve.log")).unwrap();
        let child = d
            .cmd(&["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn depot serve");
        let mut s = Server { child };
        let addr = poll(DEADLINE, "depot serve to write its address into the lock file", || {
            if let Some(status) = s.child.try_wait().unwrap() {
                panic!("depot serve exited ({status}): {}", std::fs::read_to_string(d.file("serve.log")).unwrap());
            }
            lock_text(&d.data).lines().find_map(|l| l.strip_prefix("addr=").map(str::to_string))
        });
        (s, addr)
    }

    fn stop(&mut self) -> ExitStatus {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        wait_child(&mut self.child, DEADLINE, "depot serve after SIGTERM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = Command::new("kill").arg("-KILL").arg(self.child.id().to_string()).status();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn served_directory_is_used_through_its_server() {
    let d = Depot::new();
    d.create("t", 1);
    d.fill("t", 0, &["before"]);
    let (mut server, addr) = Server::start(&d);
    assert!(lock_text(&d.data).contains(&format!("pid={}", server.child.id())));

    // Verbs on the directory go to the server instead of failing on the lock.
    let ack = d.json(&["publish", "t", "during"]);
    assert_eq!((ack["partition"].as_u64(), ack["offset"].as_u64()), (Some(0), Some(1)));
    assert_eq!(values(&d.all("t")), ["before", "during"]);
    d.create("other", 2);
    assert_eq!(d.json(&["topics"]).as_array().unwrap().len(), 2);

    // The same through --connect with the advertised address.
    let url = format!("http://{addr}");
    let mut cmd = depot();
    cmd.args(["--json", "--connect", &url, "peek", "t"]);
    let out = run(cmd, None, "--connect peek").ok("peek");
    assert_eq!(values(&lines_of(&out.stdout, "peek")), ["before", "during"]);

    // In one process, a pull without commit is a redelivery when pulled again.
    let first = d.json_lines(&["pull", "t", "--group", "g", "--no-commit"]);
    assert_eq!(values(&first), ["before", "during"]);
    let again = d.json_lines(&["pull", "t", "--group", "g"]);
    assert_eq!(pov(&again), pov(&first));
    let desc = d.json(&["group", "describe", "g"]);
    assert_eq!(desc["partitions"][0]["committed"], 2);
    assert_eq!(desc["partitions"][0]["redeliveries"], 2, "{desc}");

    // This process's --read-only and --sync hold for the server's directory too.
    let ends = d.ends("t");
    for args in [&["--read-only", "publish", "t", "x"][..], &["--read-only", "topic", "delete", "t"]] {
        assert!(d.fail(args).contains("read-only"), "{}", args.join(" "));
    }
    assert!(d.fail(&["--sync", "sometimes", "publish", "t", "x"]).contains("sometimes"));
    assert_eq!(d.ends("t"), ends);

    // A waiting pull gets a record published while it waits.
    let mut waiting = d
        .cmd(&["--json", "pull", "t", "--group", "g", "--wait", "20000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let got = line_reader(waiting.stdout.take().unwrap());
    d.ok(&["publish", "t", "late"]);
    let line = got.recv_timeout(DEADLINE).expect("the waiting pull receives the record");
    assert_eq!(parse(&line, "pull --wait")["value"], "late");
    assert!(wait_child(&mut waiting, DEADLINE, "pull --wait").success());

    // SIGTERM: a clean exit, and everything is there for the next process.
    let status = server.stop();
    assert!(status.success(), "depot serve exited with {status}");
    assert_eq!(values(&d.all("t")), ["before", "during", "late"]);
    assert_eq!(d.committed("g", "t"), [Some(3)]);
    assert_eq!(d.ends("other"), [0, 0]);
}

#[test]
fn a_directory_locked_without_a_server_names_the_holder() {
    let d = Depot::new();
    d.create("t", 1);
    // A publish reading stdin holds the directory until stdin closes.
    let mut holder = d
        .cmd(&["publish", "t"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn publish");
    let pid = holder.id();
    poll(DEADLINE, "the publish to lock the directory", || {
        lock_text(&d.data).contains(&format!("pid={pid}\n")).then_some(())
    });

    for args in [&["topics"][..], &["publish", "t", "x"], &["topic", "describe", "t"]] {
        let err = d.fail(args);
        assert!(err.contains(&pid.to_string()), "`{}`: {err}", args.join(" "));
        assert!(err.contains("in use"), "{err}");
    }
    // A second server cannot take it either.
    let err = d.fail(&["serve", "--listen", "127.0.0.1:0"]);
    assert!(err.contains(&pid.to_string()), "{err}");

    let mut stdin = holder.stdin.take().unwrap();
    stdin.write_all(b"held\n").unwrap();
    drop(stdin);
    assert!(wait_child(&mut holder, DEADLINE, "publish t").success());
    assert_eq!(values(&d.all("t")), ["held"], "nothing from the refused publish");
}

#[test]
fn numbers_past_what_a_setting_can_hold_are_refused_and_huge_retention_or_waits_mean_forever() {
    let d = Depot::new();
    let max = u64::MAX.to_string();
    let e = d.fail(&["topic", "create", "t", "--partitions", "4294967295"]);
    assert!(e.contains("between 1 and 10000 partitions"), "{e}");
    let out = d.run(&["topic", "create", "t", "--partitions", "4294967296"]).failed("4294967296 partitions");
    assert!(out.stderr.contains("4294967296 is not in"), "{}", out.stderr);
    d.ok(&["topic", "create", "t", "--retention-ms", &max, "--retention-bytes", &max]);
    d.run_stdin(&["publish", "t"], b"1\n2\n3\n").ok("publish");
    // Kept forever (the maintenance of later commands would have deleted them on a wrap).
    let out = d.ok(&["peek", "t", "--max", &max]);
    assert_eq!(out.lines().filter(|l| !l.trim().is_empty()).count(), 4, "a header and three records: {out}");
    let out = d.run(&["pull", "t", "--group", "g", "--max", &max, "--wait", &max]).ok("pull");
    assert!(out.stderr.contains("pulled 3 record(s)"), "{out:?}");
    let e = d.fail(&["reset", "g", "--topic", "t", "--by-duration", &format!("{max}sec")]);
    assert!(e.contains("too long"), "{e}");
    let out = d.ok(&["reset", "g", "--topic", "t", "--to-offset", &max]);
    assert!(out.contains("clamped to 3"), "{out}");
}
