//! `depot serve` with the Kafka listener, as a user starts it, and the client processes the
//! tests run against it: their output lines collected as they come, waited for with a deadline.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_depot");
pub const CLIENTS_VAR: &str = "DEPOT_TEST_KAFKA_CLIENTS";
pub const DEADLINE: Duration = Duration::from_secs(90);

pub fn require_clients() {
    if std::env::var(CLIENTS_VAR).ok().as_deref() != Some("1") {
        panic!(
            "{CLIENTS_VAR} is not 1: these tests need kcat, confluent-kafka and kafka-python \
             (`apt-get install kcat`, `pip install confluent-kafka kafka-python`); then \
             `{CLIENTS_VAR}=1 cargo test --test kafka_group_clients -- --ignored` (.ci/run does this)"
        );
    }
}

/// A script of tests/kafka_clients/.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kafka_clients").join(name)
}

/// Polls `f` every few ms until it returns something, failing the test after [`DEADLINE`].
pub fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
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
pub fn run(mut cmd: Command, what: &str) -> Output {
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

/// A running client process whose stdout lines are collected as they come.
pub struct Proc {
    pub name: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: PathBuf,
}

impl Proc {
    pub fn spawn(name: &str, mut cmd: Command, stderr: PathBuf) -> Proc {
        let err = std::fs::File::create(&stderr).expect("stderr file");
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(err);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        let out = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                sink.lock().expect("lines").push(l);
            }
        });
        Proc { name: name.to_string(), child, lines, stderr }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    /// Its lines parsed as JSON.
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.lines().iter().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits for the process to end by itself; fails the test if it does not or fails.
    pub fn wait(&mut self) {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(status.success(), "{} exited with {status}: {}", self.name, self.stderr());
                // Let the reader thread take the last lines.
                poll("the output to end", || Arc::strong_count(&self.lines).eq(&1).then_some(()));
                return;
            }
            assert!(Instant::now() < end, "{} did not finish within {DEADLINE:?}: {}", self.name, self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn terminate(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A data directory, a config directory, and `depot serve` on both with the Kafka listener on
/// 127.0.0.1:0 (its address read from the line serve prints); stopped with SIGTERM when dropped.
pub struct Served {
    pub tmp: tempfile::TempDir,
    child: Option<Child>,
    pub kafka: String,
}

fn depot_cmd(cfg: &Path) -> Command {
    let mut c = Command::new(BIN);
    for v in ["DEPOT_DATA", "DEPOT_CONNECT", "DEPOT_CONTEXT", "DEPOT_TOKEN", "DEPOT_LOG"] {
        c.env_remove(v);
    }
    c.env("DEPOT_CONFIG_DIR", cfg);
    c
}

impl Served {
    pub fn new() -> Served {
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(tmp.path().join("cfg")).expect("config dir");
        Served { tmp, child: None, kafka: String::new() }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `depot --data DIR ARGS…` (through the server while it runs), which must succeed.
    pub fn depot(&self, args: &[&str]) -> Output {
        let mut c = depot_cmd(&self.path("cfg"));
        c.arg("--data").arg(self.path("data")).args(args);
        let out = run(c, &args.join(" "));
        assert!(out.status.success(), "depot {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        out
    }

    pub fn text(&self, args: &[&str]) -> String {
        String::from_utf8(self.depot(args).stdout).expect("UTF-8")
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_slice(&self.depot(&all).stdout).expect("depot --json prints JSON")
    }

    /// Like [`json`](Self::json), `None` when depot fails (a group that does not exist yet).
    pub fn try_json(&self, args: &[&str]) -> Option<serde_json::Value> {
        let mut c = depot_cmd(&self.path("cfg"));
        c.arg("--data").arg(self.path("data")).arg("--json").args(args);
        let out = run(c, &args.join(" "));
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    pub fn serve(&mut self) {
        let log = std::fs::File::create(self.path("serve.log")).expect("log file");
        let mut c = depot_cmd(&self.path("cfg"));
        c.arg("--data").arg(self.path("data"));
        c.args(["serve", "--listen", "127.0.0.1:0", "--kafka-listen", "127.0.0.1:0"]);
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

    /// A Python client script of tests/kafka_clients/ with these arguments.
    pub fn python(&self, name: &str, script_name: &str, args: &[&str]) -> Proc {
        let mut c = Command::new("python3");
        c.arg("-u").arg(script(script_name)).args(args);
        Proc::spawn(name, c, self.path(&format!("{name}.stderr")))
    }

    /// `kcat -P` of `input`, which must succeed.
    pub fn kcat_produce(&self, args: &[&str], input: &[u8]) {
        let mut c = Command::new("kcat");
        c.args(["-b", &self.kafka, "-P"]).args(args);
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn kcat -P");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), input).expect("write to kcat");
        let out = child.wait_with_output().expect("kcat -P");
        assert!(out.status.success(), "kcat -P: {}", String::from_utf8_lossy(&out.stderr));
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
