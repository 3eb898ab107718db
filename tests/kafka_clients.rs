//! Real Kafka clients against `depot serve --kafka-listen` (the binary, as a user starts it):
//! Debian's kcat (librdkafka). Ignored unless `DEPOT_TEST_KAFKA_CLIENTS=1` says the clients are
//! installed (`.ci/run` installs kcat and sets it):
//! `DEPOT_TEST_KAFKA_CLIENTS=1 cargo test --test kafka_clients -- --ignored`.
//!
//! Nothing waits a fixed time: children are awaited with a deadline, readiness is polled for.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_depot");
const CLIENTS_VAR: &str = "DEPOT_TEST_KAFKA_CLIENTS";
const DEADLINE: Duration = Duration::from_secs(60);

fn require_clients() {
    if std::env::var(CLIENTS_VAR).ok().as_deref() != Some("1") {
        panic!(
            "{CLIENTS_VAR} is not 1: these tests need kcat (`apt-get install kcat`); then \
             `{CLIENTS_VAR}=1 cargo test --test kafka_clients -- --ignored` (.ci/run does this)"
        );
    }
}

/// A `depot` command with none of the caller's DEPOT_* settings and an empty config directory.
fn depot(cfg: &Path) -> Command {
    let mut c = Command::new(BIN);
    for v in ["DEPOT_DATA", "DEPOT_CONNECT", "DEPOT_CONTEXT", "DEPOT_TOKEN", "DEPOT_LOG"] {
        c.env_remove(v);
    }
    c.env("DEPOT_CONFIG_DIR", cfg);
    c
}

/// Polls `f` every few ms until it returns something, failing the test after [`DEADLINE`].
fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "gave up waiting for {what} after {DEADLINE:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `cmd` to its end within [`DEADLINE`] (killed and failed otherwise).
fn run(mut cmd: Command, what: &str) -> Output {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn `{what}`: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(r) => r.unwrap_or_else(|e| panic!("wait for `{what}`: {e}")),
        Err(_) => {
            let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
            panic!("`{what}` did not finish within {DEADLINE:?}");
        }
    }
}

/// A data directory, a config directory, and `depot serve` on both with the Kafka listener on
/// 127.0.0.1:0 (its address read from the line serve prints); stopped with SIGTERM when dropped.
struct Served {
    tmp: tempfile::TempDir,
    child: Option<Child>,
    kafka: String,
}

impl Served {
    fn new() -> Served {
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(tmp.path().join("cfg")).expect("config dir");
        Served { tmp, child: None, kafka: String::new() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `depot --data DIR ARGS…`, which reaches the server through the data directory's lock file
    /// while it runs.
    fn depot(&self, args: &[&str]) -> Output {
        let mut c = depot(&self.path("cfg"));
        c.arg("--data").arg(self.path("data")).args(args);
        let out = run(c, &args.join(" "));
        assert!(out.status.success(), "depot {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        out
    }

    fn serve(&mut self, extra: &[&str]) {
        let log = std::fs::File::create(self.path("serve.log")).expect("log file");
        let mut c = depot(&self.path("cfg"));
        c.arg("--data").arg(self.path("data"));
        c.args(["serve", "--listen", "127.0.0.1:0", "--kafka-listen", "127.0.0.1:0"]).args(extra);
        let child = c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log).spawn().expect("spawn depot serve");
        self.child = Some(child);
        let log = self.path("serve.log");
        self.kafka = poll("depot serve to print its Kafka address", || {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().expect("try_wait")) {
                panic!("depot serve exited ({status}): {}", std::fs::read_to_string(&log).unwrap_or_default());
            }
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let rest = text.split("to Kafka clients on ").nth(1)?;
            Some(rest.split(' ').next()?.to_string())
        });
    }

    fn kcat(&self, args: &[&str]) -> Output {
        let mut c = Command::new("kcat");
        c.args(["-b", &self.kafka]).args(args);
        run(c, &format!("kcat {}", args.join(" ")))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let end = Instant::now() + DEADLINE;
            while child.try_wait().ok().flatten().is_none() && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
#[ignore = "needs kcat: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn kcat_lists_the_broker_and_the_topics_partitions() {
    require_clients();
    let mut s = Served::new();
    s.depot(&["topic", "create", "orders", "--partitions", "3"]);
    s.depot(&["topic", "create", "audit"]);
    s.serve(&[]);
    let out = s.kcat(&["-L", "-J"]);
    assert!(out.status.success(), "kcat -L: {}", String::from_utf8_lossy(&out.stderr));
    let md: Value = serde_json::from_slice(&out.stdout).expect("kcat -L -J prints JSON");
    let brokers = md["brokers"].as_array().expect("brokers");
    assert_eq!(brokers.len(), 1, "{md}");
    assert_eq!((brokers[0]["id"].as_i64(), brokers[0]["name"].as_str()), (Some(0), Some(s.kafka.as_str())), "{md}");
    let mut topics: Vec<(String, Vec<(i64, i64)>)> = md["topics"]
        .as_array()
        .expect("topics")
        .iter()
        .map(|t| {
            let parts = t["partitions"].as_array().expect("partitions");
            let parts =
                parts.iter().map(|p| (p["partition"].as_i64().unwrap(), p["leader"].as_i64().unwrap())).collect();
            (t["topic"].as_str().expect("name").to_string(), parts)
        })
        .collect();
    topics.sort();
    assert_eq!(
        topics,
        vec![("audit".to_string(), vec![(0, 0)]), ("orders".to_string(), vec![(0, 0), (1, 0), (2, 0)])],
        "{md}"
    );
    // A topic that does not exist is reported as such, and not created (no --kafka-auto-create).
    let out = s.kcat(&["-L", "-J", "-t", "nope"]);
    let md: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(md["topics"][0]["error"].as_str().is_some_and(|e| e.contains("Unknown topic")), "{md}");
    let topics = String::from_utf8(s.depot(&["topics"]).stdout).expect("UTF-8");
    assert!(!topics.contains("nope"), "{topics}");
}

#[test]
#[ignore = "needs kcat: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn with_auto_create_kcat_metadata_creates_the_topic_with_the_default_partitions() {
    require_clients();
    let mut s = Served::new();
    s.serve(&["--kafka-auto-create", "--kafka-default-partitions", "2"]);
    let out = s.kcat(&["-L", "-J", "-t", "fresh"]);
    let md: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(md["topics"][0]["partitions"].as_array().map(Vec::len), Some(2), "{md}");
    let described = String::from_utf8(s.depot(&["topic", "describe", "fresh"]).stdout).expect("UTF-8");
    assert!(described.contains("fresh"), "{described}");
}
