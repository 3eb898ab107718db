//! Real Kafka clients against `depot serve --kafka-listen` (the binary, as a user starts it):
//! Debian's kcat (librdkafka) lists metadata, produces (keys, headers, compressed batches) what
//! `depot peek` and kcat read back, keeps a tombstone and kcat's own timestamps, and queries
//! offsets by time; with `--token` it does so over SASL/PLAIN and fails without it; from PyPI
//! (scripts in tests/kafka_clients/), confluent-kafka's idempotent producer and its AdminClient
//! (creating and deleting topics, deleting records), and kafka-python. Ignored unless
//! `DEPOT_TEST_KAFKA_CLIENTS=1` says the clients are installed (`.ci/run` installs kcat,
//! confluent-kafka and kafka-python, and sets it):
//! `DEPOT_TEST_KAFKA_CLIENTS=1 cargo test --test kafka_clients -- --ignored`.
//!
//! Nothing waits a fixed time: children are awaited with a deadline, readiness is polled for.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

// The process helpers the group-client tests use too (deadline, polling, running a command).
#[allow(dead_code)]
#[path = "kafka_group_clients/served.rs"]
mod served;

use served::{BIN, CLIENTS_VAR, DEADLINE, poll, run};

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

impl Served {
    /// `kcat -P` of `input` (one record per line), which must succeed.
    fn produce(&self, args: &[&str], input: &[u8]) {
        let mut c = Command::new("kcat");
        c.args(["-b", &self.kafka, "-P"]).args(args);
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn kcat -P");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), input).expect("write to kcat");
        let out = child.wait_with_output().expect("kcat -P");
        assert!(out.status.success(), "kcat -P {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        assert!(!String::from_utf8_lossy(&out.stderr).contains("ERROR"), "{}", String::from_utf8_lossy(&out.stderr));
    }

    /// What `depot --json peek TOPIC` reads: (partition, offset, key, value, headers) per record,
    /// keys and values as the JSON depot prints (a string, or {"base64": …} for bytes).
    fn peek(&self, topic: &str) -> Vec<Value> {
        let out = self.depot(&["--json", "peek", topic, "--max", "1000"]);
        String::from_utf8(out.stdout)
            .expect("UTF-8")
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("a JSON line");
                serde_json::json!([v["partition"], v["offset"], v["key"], v["value"], v["headers"]])
            })
            .collect()
    }
}

fn b64(b: &[u8]) -> Value {
    use base64::Engine as _;
    serde_json::json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) })
}

#[test]
#[ignore = "needs kcat: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn what_kcat_produces_with_keys_and_headers_depot_peek_and_kcat_read_back_byte_for_byte() {
    require_clients();
    let mut s = Served::new();
    s.depot(&["topic", "create", "orders"]);
    s.serve(&[]);
    // Binary keys and header values (not UTF-8), a record without a key, an empty value.
    s.produce(
        &["-t", "orders", "-K", ":", "-H", "trace=t-1", "-H", "raw=\u{7f}\u{1}"],
        b"k1:hello\n\xff\xfe:binary key\n:no key\nk4:\n",
    );
    let got = s.peek("orders");
    let headers = serde_json::json!([{"name": "trace", "value": "t-1"}, {"name": "raw", "value": "\u{7f}\u{1}"}]);
    assert_eq!(
        got,
        vec![
            serde_json::json!([0, 0, "k1", "hello", headers]),
            serde_json::json!([0, 1, b64(b"\xff\xfe"), "binary key", headers]),
            // kcat sends an empty key (not a null one) for a line that starts with the delimiter.
            serde_json::json!([0, 2, "", "no key", headers]),
            serde_json::json!([0, 3, "k4", "", headers]),
        ]
    );
    // kcat reads them back from the beginning (Fetch and ListOffsets), and stops at the end.
    let out = s.kcat(&["-C", "-t", "orders", "-o", "beginning", "-e", "-f", "%o|%k|%s|%h\n"]);
    assert!(out.status.success(), "kcat -C: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        out.stdout,
        b"0|k1|hello|trace=t-1,raw=\x7f\x01\n1|\xff\xfe|binary key|trace=t-1,raw=\x7f\x01\n2||no key|trace=t-1,raw=\x7f\x01\n3|k4||trace=t-1,raw=\x7f\x01\n"
    );
    // From the middle: the records from that offset on.
    let out = s.kcat(&["-C", "-t", "orders", "-p", "0", "-o", "2", "-e", "-f", "%o %s\n"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2 no key\n3 \n");
}

#[test]
#[ignore = "needs kcat: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn kcat_compressed_batches_are_decompressed_and_stored() {
    require_clients();
    let mut s = Served::new();
    s.depot(&["topic", "create", "zipped"]);
    s.serve(&[]);
    let mut want = Vec::new();
    // Debian's kcat 1.7.1 is built without libzstd; zstd is checked in tests/kafka_wire.rs.
    for codec in ["gzip", "snappy", "lz4"] {
        let lines: String = (0..50).map(|i| format!("{codec}-{i} {}\n", "x".repeat(200))).collect();
        s.produce(&["-t", "zipped", "-z", codec, "-X", "linger.ms=100"], lines.as_bytes());
        want.extend(lines.lines().map(str::to_string));
    }
    let got: Vec<String> = s.peek("zipped").iter().map(|r| r[3].as_str().expect("text").to_string()).collect();
    assert_eq!(got, want);
}

#[test]
#[ignore = "needs kcat: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn confluent_kafka_batches_in_every_codec_with_repeated_header_names_are_kept_byte_for_byte() {
    require_clients();
    let mut s = Served::new();
    s.depot(&["topic", "create", "codecs", "--partitions", "4"]);
    s.serve(&[]);
    // zstd too: the current librdkafka confluent-kafka bundles has it (Debian's kcat does not).
    let r = python("confluent_compressed.py", &[&s.kafka, "codecs"]);
    for codec in ["gzip", "snappy", "lz4", "zstd"] {
        let c = &r[codec];
        assert_eq!(c["errors"], serde_json::json!([]), "{codec}");
        assert_eq!(c["unflushed"], 0, "{codec}");
        let sent = c["sent"].as_array().expect("sent");
        let acks: Vec<u64> = c["acks"].as_array().expect("acks").iter().filter_map(Value::as_u64).collect();
        assert_eq!(acks, (0..sent.len() as u64).collect::<Vec<_>>(), "{codec}: every record acknowledged once");
        let read = c["read"].as_array().expect("read");
        assert_eq!(read.len(), sent.len(), "{codec}");
        for (i, (got, want)) in read.iter().zip(sent).enumerate() {
            assert_eq!(got["offset"].as_u64(), Some(i as u64), "{codec}");
            for field in ["key", "value", "headers"] {
                assert_eq!(got[field], want[field], "{codec} record {i}: {field}");
            }
        }
    }
    // depot stored each record's three headers, the repeated name twice (the zstd partition).
    let out = s.depot(&["--json", "peek", "codecs", "--partition", "3", "--max", "1"]);
    let first: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    let headers = first["headers"].as_array().expect("headers");
    assert_eq!(headers.len(), 3, "{first}");
    let names: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    assert_eq!(names.iter().filter(|n| n.contains("\"h\"")).count(), 2, "{first}");
}

#[test]
#[ignore = "needs kcat: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn a_tombstone_and_kcats_own_timestamps_are_kept_and_read_back() {
    require_clients();
    let mut s = Served::new();
    s.depot(&["topic", "create", "t"]);
    s.serve(&[]);
    // -Z: an empty value is sent as null (a tombstone).
    s.produce(&["-t", "t", "-K", ":", "-Z"], b"k:v\ngone:\nk2:after\n");
    let out = s.depot(&["--json", "peek", "t", "--partition", "0", "--max", "10"]);
    let peeked: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let values: Vec<&Value> = peeked.iter().map(|m| &m["value"]).collect();
    assert_eq!(values, [&serde_json::json!("v"), &Value::Null, &serde_json::json!("after")]);
    // kcat reads the timestamps librdkafka stamped (CreateTime, as depot stored them) and the
    // null value (%S: -1 for null).
    let out = s.kcat(&["-C", "-t", "t", "-o", "beginning", "-e", "-f", "%T %k %S\n"]);
    assert!(out.status.success(), "kcat -C: {}", String::from_utf8_lossy(&out.stderr));
    let want: String = peeked
        .iter()
        .zip([("k", 1), ("gone", -1), ("k2", 5)])
        .map(|(m, (k, size))| format!("{} {k} {size}\n", m["timestamp"]))
        .collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    let log = std::fs::read_to_string(s.path("serve.log")).expect("serve log");
    assert!(!log.contains("refused"), "{log}");
}

#[test]
#[ignore = "needs kcat: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn kcat_queries_offsets_by_time() {
    require_clients();
    let mut s = Served::new();
    s.depot(&["topic", "create", "t"]);
    s.depot(&["publish", "t", "first"]);
    s.serve(&[]);
    let ts = s.peek("t").len();
    assert_eq!(ts, 1);
    // A time before everything: offset 0; a time after everything: the end, which Kafka calls -1.
    let out = s.kcat(&["-Q", "-t", "t:0:0"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("offset 0"), "{}", String::from_utf8_lossy(&out.stdout));
    let later = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 3_600_000)
        .to_string();
    let out = s.kcat(&["-Q", "-t", &format!("t:0:{later}")]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("offset -1"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
#[ignore = "needs kcat: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn keyed_records_from_librdkafkas_murmur2_partitioner_land_where_depots_own_partitioner_puts_them() {
    require_clients();
    let mut s = Served::new();
    s.depot(&["topic", "create", "keyed", "--partitions", "6"]);
    s.serve(&[]);
    let keys: Vec<String> = (0..40).map(|i| format!("customer-{i}")).collect();
    let input: String = keys.iter().map(|k| format!("{k}:v\n")).collect();
    s.produce(&["-t", "keyed", "-K", ":", "-X", "partitioner=murmur2"], input.as_bytes());
    let got = s.peek("keyed");
    assert_eq!(got.len(), keys.len());
    let mut used = std::collections::BTreeSet::new();
    for r in &got {
        let key = r[2].as_str().expect("text key");
        let want = depot::engine::partitioner::partition_for_key(key.as_bytes(), 6);
        assert_eq!(r[0].as_u64(), Some(u64::from(want)), "key {key}");
        used.insert(want);
    }
    assert!(used.len() > 1, "the keys spread over partitions: {used:?}");
}

/// Runs `tests/kafka_clients/SCRIPT` with python3 and parses the JSON it prints.
fn python(script: &str, args: &[&str]) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kafka_clients").join(script);
    let mut c = Command::new("python3");
    c.arg(&path).args(args);
    let out = run(c, &format!("python3 {script} {}", args.join(" ")));
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{script} prints JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Runs the idempotent producer script (`drop`: which Produce answers its proxy withholds) with
/// 20,000 records on a 6-partition topic, and checks that every record was acknowledged once,
/// is stored once where it was acknowledged, in its murmur2 partition, in order per key.
fn idempotent_producer(drop: Option<&str>) -> Value {
    let mut s = Served::new();
    s.depot(&["topic", "create", "orders", "--partitions", "6"]);
    s.serve(&[]);
    const N: usize = 20_000;
    let n = N.to_string();
    let mut args = vec![s.kafka.as_str(), "orders", &n, "2000"];
    args.extend(drop);
    let r = python("idempotent_producer.py", &args);
    assert_eq!((r["error_count"].as_u64(), r["unflushed"].as_u64()), (Some(0), Some(0)), "{}", r["errors"]);
    assert_eq!(r["reports"].as_u64(), Some(N as u64), "one delivery report per record");
    assert_eq!(r["reported_twice"].as_array().map(Vec::len), Some(0), "{}", r["reported_twice"]);
    assert!(s.path("data/producer-ids").exists(), "the producer asked InitProducerId for its id");
    let ends: u64 = r["ends"].as_object().expect("ends").values().map(|v| v.as_u64().expect("end")).sum();
    assert_eq!(ends, N as u64, "the partitions hold each record once");
    let read = r["read"].as_array().expect("read");
    assert_eq!(read.len(), N);
    let reports = r["reports_by_value"].as_object().expect("reports");
    let mut seen = std::collections::HashSet::new();
    let mut last_per_key: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for rec in read {
        let (key, value) = (rec[0].as_str().expect("key"), rec[1].as_str().expect("value"));
        let (partition, offset) = (rec[2].as_u64().expect("partition"), rec[3].as_u64().expect("offset"));
        assert!(seen.insert(value), "{value} read twice");
        assert_eq!(reports[value], serde_json::json!([partition, offset]), "{value}: read where it was acknowledged");
        let want = depot::engine::partitioner::partition_for_key(key.as_bytes(), 6);
        assert_eq!(partition, u64::from(want), "key {key}: where Kafka's murmur2 and depot put it");
        let n: u64 = value.trim_start_matches("v-").parse().expect("v-<i>");
        // A partition is read in offset order, so one key's records come in the order sent.
        if let Some(prev) = last_per_key.insert(key, n) {
            assert!(prev < n, "key {key}: v-{prev} stored after v-{n}");
        }
    }
    assert_eq!(seen.len(), N);
    eprintln!(
        "confluent-kafka idempotent producer: {N} records in {:.2} s ({} Produce requests, {} answers withheld)",
        r["produce_seconds"].as_f64().unwrap_or(0.0),
        r["produce_requests"],
        r["dropped_answers"]
    );
    r
}

#[test]
#[ignore = "needs confluent-kafka from PyPI: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn an_idempotent_confluent_kafka_producer_gets_every_record_acknowledged_once_and_stored_once() {
    require_clients();
    idempotent_producer(None);
}

#[test]
#[ignore = "needs confluent-kafka from PyPI: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn when_produce_answers_are_lost_confluent_kafka_sends_the_batches_again_and_depot_stores_them_once() {
    require_clients();
    // The proxy lets the 2nd, 4th and 6th Produce reach depot (which appends them) and cuts the
    // connection instead of passing the answer on; librdkafka retries them with their sequences.
    let r = idempotent_producer(Some("2,4,6"));
    assert!(r["dropped_answers"].as_u64().is_some_and(|n| n >= 1), "an answer was withheld: {}", r["dropped_answers"]);
}

#[test]
#[ignore = "needs kafka-python from PyPI: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn kafka_python_produces_and_reads_back_without_a_group_keys_values_and_headers_byte_for_byte() {
    require_clients();
    let mut s = Served::new();
    s.depot(&["topic", "create", "kp"]);
    s.serve(&[]);
    let r = python("kafka_python_roundtrip.py", &[&s.kafka, "kp"]);
    let sent = r["sent"].as_array().expect("sent");
    let acks: Vec<(u64, u64)> = r["acks"]
        .as_array()
        .expect("acks")
        .iter()
        .map(|a| (a[0].as_u64().expect("partition"), a[1].as_u64().expect("offset")))
        .collect();
    assert_eq!(acks, (0..sent.len() as u64).map(|o| (0, o)).collect::<Vec<_>>());
    let read = r["read"].as_array().expect("read");
    assert_eq!(read.len(), sent.len());
    for (i, (got, want)) in read.iter().zip(sent).enumerate() {
        assert_eq!(got["offset"].as_u64(), Some(i as u64));
        for field in ["key", "value", "headers"] {
            assert_eq!(got[field], want[field], "record {i}: {field}");
        }
    }
    // What depot itself stored: the same bytes (a record of the script: key 00 ff 01 "key-1").
    let peeked = s.peek("kp");
    assert_eq!(peeked[1][2], b64(b"\x00\xff\x01key-1"), "{}", peeked[1]);
}

/// kcat's settings for SASL/PLAIN with `password` (README: "Kafka clients").
fn sasl(password: &str) -> Vec<String> {
    ["security.protocol=SASL_PLAINTEXT", "sasl.mechanisms=PLAIN", "sasl.username=depot"]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("sasl.password={password}")])
        .flat_map(|x| ["-X".to_string(), x])
        .collect()
}

#[test]
#[ignore = "needs kcat: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn with_a_token_kcat_lists_produces_and_consumes_over_sasl_plain_and_fails_without_it() {
    require_clients();
    let token = "kcat-s3cret";
    let mut s = Served::new();
    s.depot(&["topic", "create", "orders"]);
    s.serve(&["--token", token]);
    let with = sasl(token);
    let with: Vec<&str> = with.iter().map(String::as_str).collect();
    let out = s.kcat(&[&with[..], &["-L", "-J"]].concat());
    assert!(out.status.success(), "kcat -L with the token: {}", String::from_utf8_lossy(&out.stderr));
    let md: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(md["topics"][0]["topic"].as_str(), Some("orders"), "{md}");
    s.produce(&[&with[..], &["-t", "orders", "-K", ":"]].concat(), b"k1:one\nk2:two\n");
    let out = s.kcat(&[&with[..], &["-C", "-t", "orders", "-o", "beginning", "-e", "-f", "%k=%s\n"]].concat());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "k1=one\nk2=two\n", "{}", String::from_utf8_lossy(&out.stderr));
    // Without SASL, and with a wrong password: nothing is listed, produced or read.
    let wrong = sasl("not-it");
    let wrong: Vec<&str> = wrong.iter().map(String::as_str).collect();
    for (what, args) in [("no SASL", &[][..]), ("a wrong password", &wrong[..])] {
        let out = s.kcat(&[args, &["-L", "-J", "-m", "3"]].concat());
        assert!(!out.status.success(), "kcat -L with {what}: {}", String::from_utf8_lossy(&out.stdout));
        let mut c = Command::new("kcat");
        c.args(["-b", &s.kafka, "-P", "-t", "orders", "-X", "message.timeout.ms=3000"]).args(args);
        c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn kcat -P");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"sneaky\n").expect("write");
        let out = child.wait_with_output().expect("kcat -P");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() || err.contains("ERROR"), "kcat -P with {what} must fail: {err}");
    }
    let log = std::fs::read_to_string(s.path("serve.log")).expect("serve log");
    assert!(log.contains("SASL/PLAIN authentication failed"), "{log}");
    assert!(log.contains("before SASL authentication"), "{log}");
    let peek = s.depot(&["--token", token, "--json", "peek", "orders", "--max", "100"]);
    assert_eq!(String::from_utf8_lossy(&peek.stdout).lines().count(), 2, "only the authenticated records");
}

impl Served {
    /// `python3 tests/kafka_clients/SCRIPT BOOTSTRAP ARGS…`, which prints one JSON object.
    fn python(&self, script: &str, args: &[&str]) -> Value {
        let mut all = vec![self.kafka.as_str()];
        all.extend_from_slice(args);
        python(script, &all)
    }
}

#[test]
#[ignore = "needs kcat and confluent-kafka: set DEPOT_TEST_KAFKA_CLIENTS=1 once they are installed (.ci/run installs them)"]
fn confluent_kafkas_admin_client_creates_and_deletes_topics_and_deletes_records() {
    require_clients();
    let mut s = Served::new();
    s.serve(&["--kafka-default-partitions", "2"]);
    let got = s.python("admin.py", &["create"]);
    assert_eq!(got["create made"], "ok", "{got}");
    assert_eq!(got["create fallback"], "ok", "{got}");
    // librdkafka's name for INVALID_TOPIC_EXCEPTION (17).
    assert_eq!(got["create bad/name"], "TOPIC_EXCEPTION", "{got}");
    assert_eq!(got["create replicated"], "INVALID_REPLICATION_FACTOR", "{got}");
    assert_eq!(got["create made again"], "TOPIC_ALREADY_EXISTS", "{got}");
    assert_eq!(got["partitions"], serde_json::json!({"made": 3, "fallback": 2}), "{got}");
    assert_eq!(got["unflushed"], 0, "{got}");
    assert_eq!(got["delete_records low_watermark"], 4, "{got}");
    assert_eq!(got["delete_records past the end"], "OFFSET_OUT_OF_RANGE", "{got}");
    assert_eq!(
        (&got["list_offsets earliest"], &got["list_offsets latest"]),
        (&serde_json::json!(4), &serde_json::json!(10))
    );
    // kcat reads from the new log start; depot sees it too.
    let out = s.kcat(&["-C", "-t", "made", "-p", "0", "-o", "beginning", "-e", "-f", "%o=%s\n"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "4=v4\n5=v5\n6=v6\n7=v7\n8=v8\n9=v9\n");
    let described = String::from_utf8(s.depot(&["--json", "topic", "describe", "made"]).stdout).expect("UTF-8");
    assert!(described.contains("\"log_start\":4"), "{described}");
    let got = s.python("admin.py", &["delete"]);
    assert_eq!(got["delete made"], "ok", "{got}");
    assert_eq!(got["delete never-was"], "UNKNOWN_TOPIC_OR_PART", "{got}");
    let topics = String::from_utf8(s.depot(&["topics"]).stdout).expect("UTF-8");
    assert!(!topics.contains("made") && topics.contains("fallback"), "{topics}");
}
