//! Real Kafka clients consuming as groups from `depot serve --kafka-listen` (the binary, as a
//! user starts it): kcat's `-G` shows in `depot groups` while it runs; three confluent-kafka
//! processes share a stream with a member joining and one leaving mid-stream (every record
//! consumed, none by two members within a generation, commits in `depot group describe` with the
//! members' client ids and hosts); kafka-python's range and roundrobin assignors; a forced reset
//! in depot that a running consumer reads again from. Ignored unless
//! `DEPOT_TEST_KAFKA_CLIENTS=1` says the clients are installed (`.ci/run` installs them):
//! `DEPOT_TEST_KAFKA_CLIENTS=1 cargo test --test kafka_group_clients -- --ignored`.
//!
//! Nothing waits a fixed time: processes are awaited with a deadline, states are polled for.

mod served;

use serde_json::Value;
use served::{Proc, Served, poll, require_clients};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// The group as `depot --json group describe` shows it (`null` while there is no such group).
fn describe(s: &Served, group: &str) -> Value {
    s.try_json(&["group", "describe", group]).unwrap_or(Value::Null)
}

fn members(g: &Value) -> Vec<(String, String)> {
    let mut m: Vec<(String, String)> = g["members"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| (m["client_id"].as_str().unwrap_or("").into(), m["client_host"].as_str().unwrap_or("").into()))
                .collect()
        })
        .unwrap_or_default();
    m.sort();
    m
}

/// Whether every partition of the group's topics is committed up to its end.
fn caught_up(g: &Value, records: u64) -> bool {
    let parts = g["partitions"].as_array().cloned().unwrap_or_default();
    let committed: u64 = parts.iter().map(|p| p["committed"].as_u64().unwrap_or(0)).sum();
    let end: u64 = parts.iter().map(|p| p["end_offset"].as_u64().unwrap_or(0)).sum();
    end == records && committed == records
}

#[test]
#[ignore = "needs kcat: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn kcat_consumes_as_a_group_and_shows_in_depot_groups_while_it_runs() {
    require_clients();
    let mut s = Served::new();
    s.depot(&["topic", "create", "orders", "--partitions", "3"]);
    s.serve();
    let input: String = (0..30).map(|i| format!("k{i}:v{i}\n")).collect();
    s.kcat_produce(&["-t", "orders", "-K", ":"], input.as_bytes());
    let mut c = Command::new("kcat");
    c.args(["-b", &s.kafka, "-u", "-G", "kg", "orders", "-X", "auto.offset.reset=earliest", "-f", "%p %o %s\n"]);
    let mut kcat = Proc::spawn("kcat -G", c, s.path("kcat.stderr"));
    poll("kcat to consume all 30", || (kcat.lines().len() >= 30).then_some(()));
    // While it runs: a member of a stable group, with its client id and host, owning every partition.
    let g = poll("kcat's group in depot groups", || {
        let all = s.json(&["groups"]);
        all.as_array()?.iter().find(|g| g["name"] == "kg" && g["state"] == "stable").cloned()
    });
    assert_eq!(members(&g), vec![("rdkafka".to_string(), "/127.0.0.1".to_string())], "{g}");
    let owners: BTreeSet<&str> =
        g["partitions"].as_array().unwrap().iter().filter_map(|p| p["owner"].as_str()).collect();
    assert_eq!(owners.len(), 1, "one member owns every partition: {g}");
    assert_eq!(g["partitions"].as_array().unwrap().len(), 3, "{g}");
    let text = s.text(&["groups"]);
    assert!(text.lines().any(|l| l.starts_with("kg ") && l.contains("stable")), "{text}");
    let values: BTreeSet<String> = kcat.lines().iter().map(|l| l.split(' ').nth(2).unwrap_or("").to_string()).collect();
    assert_eq!(values, (0..30).map(|i| format!("v{i}")).collect::<BTreeSet<_>>());
    // kcat commits (every 5 s, and when it stops): the group catches up, and is empty once it left.
    poll("kcat's commits", || caught_up(&describe(&s, "kg"), 30).then_some(()));
    kcat.terminate();
    kcat.wait();
    poll("kcat to leave", || (describe(&s, "kg")["state"] == "empty").then_some(()));
}

/// What a confluent_group.py consumer logged: (generation, partition, offset, value) per record.
fn consumed(p: &Proc) -> Vec<(i64, i64, i64, String)> {
    p.json()
        .iter()
        .filter(|e| e["ev"] == "rec")
        .map(|e| {
            (
                e["gen"].as_i64().unwrap(),
                e["p"].as_i64().unwrap(),
                e["o"].as_i64().unwrap(),
                e["v"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn produced(p: &Proc) -> u64 {
    p.json().iter().filter_map(|e| e["produced"].as_u64().or(e["done"].as_u64())).max().unwrap_or(0)
}

#[test]
#[ignore = "needs confluent-kafka: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn three_confluent_kafka_processes_share_a_stream_while_one_joins_and_one_leaves() {
    require_clients();
    const N: u64 = 3000;
    let mut s = Served::new();
    s.depot(&["topic", "create", "orders", "--partitions", "6"]);
    s.serve();
    let consumer = |name: &str| {
        let stop = s.path(&format!("{name}.stop"));
        let p =
            s.python(name, "confluent_group.py", &["consume", &s.kafka, "cg", "orders", name, stop.to_str().unwrap()]);
        (p, stop)
    };
    let (mut a, a_stop) = consumer("member-a");
    let (mut b, b_stop) = consumer("member-b");
    poll("a and b in one stable generation", || {
        let g = describe(&s, "cg");
        (g["state"] == "stable" && members(&g).len() == 2).then_some(())
    });
    let mut producer = s.python("producer", "confluent_group.py", &["produce", &s.kafka, "orders", "3000", "400"]);
    poll("a third of the stream", || (produced(&producer) >= N / 3).then_some(()));
    let (mut c, c_stop) = consumer("member-c");
    poll("c to join", || {
        let g = describe(&s, "cg");
        (g["state"] == "stable" && members(&g).len() == 3).then_some(())
    });
    poll("two thirds of the stream", || (produced(&producer) >= 2 * N / 3).then_some(()));
    assert!(produced(&producer) < N, "b leaves mid-stream, before the producer is done");
    std::fs::write(&b_stop, b"").unwrap();
    b.wait();
    producer.wait();
    assert_eq!(produced(&producer), N, "every record acknowledged: {}", producer.stderr());
    poll("the group to commit everything", || caught_up(&describe(&s, "cg"), N).then_some(()));
    // While a and c run: their client ids and hosts, and the commits, in depot's description.
    let g = poll("a stable group of a and c", || {
        let g = describe(&s, "cg");
        (g["state"] == "stable" && members(&g).len() == 2).then_some(g)
    });
    assert_eq!(
        members(&g),
        vec![("member-a".to_string(), "/127.0.0.1".to_string()), ("member-c".to_string(), "/127.0.0.1".to_string())]
    );
    assert!(caught_up(&g, N), "{g}");
    let text = s.text(&["group", "describe", "cg"]);
    for want in ["member-a", "member-c", "/127.0.0.1", "caught up"] {
        assert!(text.contains(want), "{want} in:\n{text}");
    }
    std::fs::write(&a_stop, b"").unwrap();
    std::fs::write(&c_stop, b"").unwrap();
    a.wait();
    c.wait();
    let logs = [(&a, consumed(&a)), (&b, consumed(&b)), (&c, consumed(&c))];
    // Every record consumed (at least once).
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut by: BTreeMap<(i64, i64, i64), BTreeSet<&str>> = BTreeMap::new();
    for (p, recs) in &logs {
        assert!(!recs.is_empty(), "{} consumed nothing: {}", p.name, p.stderr());
        for (gen_, part, off, v) in recs {
            seen.insert(v.clone());
            by.entry((*gen_, *part, *off)).or_default().insert(p.name.as_str());
        }
    }
    assert_eq!(seen.len() as u64, N, "every record consumed");
    // None by two members within one generation.
    let twice: Vec<_> = by.iter().filter(|(_, who)| who.len() > 1).collect();
    assert!(twice.is_empty(), "consumed by two members in one generation: {:?}", &twice[..twice.len().min(5)]);
    // c joined and b left: at least three generations, and c was given partitions.
    let gens: BTreeSet<i64> = by.keys().map(|k| k.0).collect();
    assert!(gens.len() >= 2, "{gens:?}");
    assert!(c.json().iter().any(|e| e["ev"] == "assign" && !e["parts"].as_array().unwrap().is_empty()));
    assert!(poll("the group to empty", || (describe(&s, "cg")["state"] == "empty").then_some(true)));
}

/// kafka_python_group.py's answer.
fn kafka_python(s: &Served, topic: &str, group: &str, assignor: &str) -> Value {
    let mut p = s.python(
        &format!("kafka-python-{assignor}"),
        "kafka_python_group.py",
        &[&s.kafka, topic, group, assignor, "2", "200", "4"],
    );
    p.wait();
    let lines = p.lines();
    serde_json::from_str(lines.last().expect("a result line")).expect("JSON")
}

#[test]
#[ignore = "needs kafka-python: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn kafka_python_consumes_as_a_group_with_range_and_roundrobin() {
    require_clients();
    let mut s = Served::new();
    s.depot(&["topic", "create", "r", "--partitions", "4"]);
    s.depot(&["topic", "create", "rr", "--partitions", "4"]);
    s.serve();
    for (topic, assignor, want) in [
        ("r", "range", [("kp-0", [0, 1]), ("kp-1", [2, 3])]),
        ("rr", "roundrobin", [("kp-0", [0, 2]), ("kp-1", [1, 3])]),
    ] {
        let group = format!("kp-{assignor}");
        let got = kafka_python(&s, topic, &group, assignor);
        for (client, parts) in want {
            assert_eq!(got["assignments"][client], serde_json::json!(parts), "{assignor}: {got}");
        }
        let values: BTreeSet<&str> =
            got["consumed"].as_array().unwrap().iter().map(|r| r[2].as_str().unwrap()).collect();
        assert_eq!(values.len(), 200, "{assignor}: every record consumed");
        let g = describe(&s, &group);
        assert!(caught_up(&g, 200), "{assignor}: commits in depot: {g}");
        assert_eq!(g["state"], "empty", "{assignor}: the group is empty once they left: {g}");
    }
}

#[test]
#[ignore = "needs confluent-kafka: set DEPOT_TEST_KAFKA_CLIENTS=1 once it is installed (.ci/run installs it)"]
fn a_forced_reset_in_depot_makes_a_running_confluent_kafka_consumer_read_again_from_the_reset_offset() {
    require_clients();
    let mut s = Served::new();
    s.depot(&["topic", "create", "t"]);
    s.serve();
    let input: String = (0..100).map(|i| format!("v{i}\n")).collect();
    s.kcat_produce(&["-t", "t"], input.as_bytes());
    let stop = s.path("a.stop");
    let mut a = s.python(
        "member-a",
        "confluent_group.py",
        &["consume", &s.kafka, "rg", "t", "member-a", stop.to_str().unwrap()],
    );
    poll("the consumer to commit all 100", || caught_up(&describe(&s, "rg"), 100).then_some(()));
    let first = consumed(&a);
    assert_eq!(first.iter().map(|r| r.2).collect::<Vec<_>>(), (0..100).collect::<Vec<_>>());
    let generation = first[0].0;
    // Refused while the member runs, unless forced.
    let mut c = std::process::Command::new(served::BIN);
    c.env("DEPOT_CONFIG_DIR", s.path("cfg")).arg("--data").arg(s.path("data"));
    c.args(["reset", "rg", "--topic", "t", "--to-offset", "40", "--execute"]);
    let refused = served::run(c, "depot reset without --force");
    assert!(!refused.status.success(), "a reset of a live group needs --force");
    s.depot(&["reset", "rg", "--topic", "t", "--to-offset", "40", "--execute", "--force"]);
    // The consumer rejoins in a new generation and reads from 40 again, and commits to the end.
    poll("the consumer to read from 40 again", || (consumed(&a).len() >= 160).then_some(()));
    poll("the consumer to commit all 100 again", || caught_up(&describe(&s, "rg"), 100).then_some(()));
    let again: Vec<(i64, i64, i64, String)> = consumed(&a).into_iter().skip(100).collect();
    assert_eq!(
        again.iter().map(|r| r.2).collect::<Vec<_>>(),
        (40..100).collect::<Vec<_>>(),
        "from the reset offset on"
    );
    assert!(again.iter().all(|r| r.0 > generation), "in a later generation: {:?}", &again[..3]);
    std::fs::write(&stop, b"").unwrap();
    a.wait();
}
