//! Consumer groups: membership and generations, exclusive assignment, commits, session timeouts,
//! at-least-once redelivery, and many producers and members at once. Session timeouts run on a
//! manual clock the tests move.

use depot::core::{GroupInfo, TopicConfig};
use depot::engine::{
    Assignor, Delivery, Engine, EngineConfig, EngineError, JoinRequest, ManualClock, Membership, NewRecord, SyncMode,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

type Tp = (String, u32);

/// An engine on `clock` whose background maintenance never runs during a test (tests call it
/// explicitly).
fn open_on(dir: &std::path::Path, clock: &Arc<ManualClock>) -> Engine {
    Engine::open(
        dir,
        EngineConfig {
            sync: SyncMode::Interval(Duration::from_millis(50)),
            maintenance_interval: Duration::from_secs(3600),
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .unwrap()
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(1_700_000_000_000))
}

/// An engine on a manual clock of its own that nothing moves: no session ever times out.
fn open(dir: &std::path::Path) -> Engine {
    open_on(dir, &clock())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn join(e: &Engine, group: &str, client: &str, topics: &[&str], timeout: Duration) -> Membership {
    let mut req = JoinRequest::new(client, topics);
    req.session_timeout = timeout;
    e.join_group(group, req).unwrap()
}

fn produce(e: &Engine, topic: &str, n: u64) {
    let recs: Vec<NewRecord> = (0..n).map(|i| NewRecord::value(format!("r{i}"))).collect();
    for (i, chunk) in recs.chunks(7).enumerate() {
        let p = i as u32 % e.describe_topic(topic).unwrap().partitions.len() as u32;
        e.append(topic, p, chunk, None).unwrap();
    }
}

/// Checks that no partition has two owners in a snapshot, and returns the owners.
fn owners(g: &GroupInfo) -> BTreeMap<Tp, String> {
    let mut seen: BTreeMap<Tp, String> = BTreeMap::new();
    for m in &g.members {
        for tp in &m.assignment {
            if let Some(other) = seen.insert(tp.clone(), m.member_id.clone()) {
                panic!("generation {}: {tp:?} owned by {other} and {}", g.generation, m.member_id);
            }
        }
    }
    for p in &g.partitions {
        assert_eq!(p.owner.as_ref(), seen.get(&(p.topic.clone(), p.partition)), "owner column of {p:?}");
    }
    seen
}

fn all_partitions(topic: &str, n: u32) -> BTreeSet<Tp> {
    (0..n).map(|p| (topic.to_string(), p)).collect()
}

// ---- membership --------------------------------------------------------------------------------------------

#[test]
fn join_heartbeat_and_leave_rebalance_into_new_generations() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", TopicConfig::with_partitions(4)).unwrap();
    e.create_topic("u", TopicConfig::with_partitions(2)).unwrap();
    let long = Duration::from_secs(30);

    let a = join(&e, "g", "a", &["t"], long);
    assert_eq!(a.generation, 1);
    assert_eq!(a.assignment.iter().cloned().collect::<BTreeSet<_>>(), all_partitions("t", 4));

    let b = join(&e, "g", "b", &["t", "u"], long);
    assert_eq!(b.generation, 2);
    assert_ne!(a.member_id, b.member_id);
    let a2 = e.heartbeat("g", &a.member_id).unwrap();
    assert_eq!(a2.generation, 2, "heartbeat reports the new generation");
    let mine: BTreeSet<Tp> = a2.assignment.iter().cloned().collect();
    let theirs: BTreeSet<Tp> = b.assignment.iter().cloned().collect();
    assert!(mine.is_disjoint(&theirs));
    assert_eq!(mine.len(), 2, "range gives each of two members two of t's four partitions");
    assert!(all_partitions("u", 2).is_subset(&theirs), "only b subscribes to u");
    let g = e.describe_group("g").unwrap();
    assert_eq!((g.state.as_str(), g.generation, g.members.len()), ("stable", 2, 2));
    assert_eq!(owners(&g).len(), 6);

    // A heartbeat changes nothing; rejoining with the same id keeps the id but rebalances.
    assert_eq!(e.heartbeat("g", &b.member_id).unwrap().generation, 2);
    let mut req = JoinRequest::new("b", &["t", "u"]);
    req.member_id = Some(b.member_id.clone());
    let b2 = e.join_group("g", req).unwrap();
    assert_eq!((b2.member_id.as_str(), b2.generation), (b.member_id.as_str(), 3));

    e.leave_group("g", &b.member_id).unwrap();
    let a3 = e.heartbeat("g", &a.member_id).unwrap();
    assert_eq!(a3.generation, 4);
    assert_eq!(a3.assignment.iter().cloned().collect::<BTreeSet<_>>(), all_partitions("t", 4));
    assert!(matches!(e.heartbeat("g", &b.member_id), Err(EngineError::NotFound { .. })));
    assert!(matches!(e.leave_group("g", &b.member_id), Err(EngineError::NotFound { .. })));
    assert!(matches!(e.heartbeat("nope", &a.member_id), Err(EngineError::NotFound { .. })));

    e.leave_group("g", &a.member_id).unwrap();
    let g = e.describe_group("g").unwrap();
    assert_eq!((g.state.as_str(), g.members.len()), ("empty", 0));
    assert!(g.partitions.iter().all(|p| p.owner.is_none()));

    // Bad joins.
    assert!(matches!(e.join_group("g", JoinRequest::new("x", &[])), Err(EngineError::InvalidArgument(_))));
    assert!(matches!(e.join_group("g", JoinRequest::new("x", &["nope"])), Err(EngineError::NotFound { .. })));
    assert!(matches!(e.join_group("bad group", JoinRequest::new("x", &["t"])), Err(EngineError::InvalidArgument(_))));
    let mut req = JoinRequest::new("x", &["t"]);
    req.session_timeout = Duration::from_millis(1);
    assert!(matches!(e.join_group("g", req), Err(EngineError::InvalidArgument(_))));
    e.close().unwrap();
}

#[test]
fn round_robin_assignor_deals_partitions_in_turn() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", TopicConfig::with_partitions(5)).unwrap();
    let mut req = JoinRequest::new("a", &["t"]);
    req.assignor = Some(Assignor::RoundRobin);
    let a = e.join_group("g", req).unwrap();
    let b = join(&e, "g", "b", &["t"], Duration::from_secs(30));
    let g = e.describe_group("g").unwrap();
    assert_eq!(g.assignor, "round-robin");
    let a = e.heartbeat("g", &a.member_id).unwrap();
    let parts = |m: &Membership| m.assignment.iter().map(|tp| tp.1).collect::<Vec<_>>();
    assert_eq!((parts(&a), parts(&b)), (vec![0, 2, 4], vec![1, 3]));
    e.close().unwrap();
}

// ---- commits ------------------------------------------------------------------------------------------------

#[test]
fn stale_generations_are_rejected_and_commits_only_move_forward() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    produce(&e, "t", 20);
    let long = Duration::from_secs(30);
    let a = join(&e, "g", "a", &["t"], long);
    e.commit("g", &a.member_id, a.generation, &[("t".into(), 0, 5)]).unwrap();

    // b joins: a's generation is stale for commits and polls, with a clear error.
    let b = join(&e, "g", "b", &["t"], long);
    let err = e.commit("g", &a.member_id, a.generation, &[("t".into(), 0, 8)]).unwrap_err();
    match &err {
        EngineError::IllegalGeneration { given, current, member, .. } => {
            assert_eq!((*given, *current, member.as_str()), (a.generation, b.generation, a.member_id.as_str()));
        }
        other => panic!("expected IllegalGeneration, got {other}"),
    }
    assert!(matches!(e.poll("g", &a.member_id, a.generation, 10, 1 << 20), Err(EngineError::IllegalGeneration { .. })));
    let g = e.describe_group("g").unwrap();
    assert_eq!(g.partitions[0].committed, Some(5), "the stale commit changed nothing");

    // The owner of the only partition in the new generation commits; only forward.
    let a = e.heartbeat("g", &a.member_id).unwrap();
    let (owner, other) = if a.assignment.is_empty() { (e.heartbeat("g", &b.member_id).unwrap(), a) } else { (a, b) };
    let err = e.commit("g", &other.member_id, owner.generation, &[("t".into(), 0, 9)]).unwrap_err();
    assert!(matches!(err, EngineError::Refused(_)) && err.to_string().contains("not assigned"), "{err}");
    e.commit("g", &owner.member_id, owner.generation, &[("t".into(), 0, 9)]).unwrap();
    e.commit("g", &owner.member_id, owner.generation, &[("t".into(), 0, 9)]).unwrap();
    let err = e.commit("g", &owner.member_id, owner.generation, &[("t".into(), 0, 3)]).unwrap_err();
    assert!(matches!(err, EngineError::Refused(_)) && err.to_string().contains("only move forward"), "{err}");
    let err = e.commit("g", &owner.member_id, owner.generation, &[("t".into(), 0, 21)]).unwrap_err();
    assert!(matches!(err, EngineError::OffsetOutOfRange { .. }), "{err}");
    assert_eq!(e.describe_group("g").unwrap().partitions[0].committed, Some(9));

    // After the rebalance the owner resumes from the committed offset.
    let got = e.poll("g", &owner.member_id, owner.generation, 100, 1 << 20).unwrap();
    assert_eq!(got.first().map(|d| d.record.offset), Some(9));
    assert_eq!(got.len(), 11);
    let committed = e.commit_delivered("g", &owner.member_id, owner.generation).unwrap();
    assert_eq!(committed, vec![("t".to_string(), 0, 20)]);
    assert!(e.commit_delivered("g", &owner.member_id, owner.generation).unwrap().is_empty());
    assert!(e.poll("g", &owner.member_id, owner.generation, 100, 1 << 20).unwrap().is_empty());
    e.close().unwrap();
}

#[test]
fn a_member_that_stops_heartbeating_is_evicted_after_its_session_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let e = open_on(tmp.path(), &clock);
    e.create_topic("t", TopicConfig::with_partitions(4)).unwrap();
    let short = ms(300);
    let a = join(&e, "g", "short", &["t"], short);
    let b = join(&e, "g", "long", &["t"], Duration::from_secs(30));
    let g = e.describe_group("g").unwrap();
    assert_eq!(g.members.len(), 2);
    assert_eq!(g.members.iter().find(|m| m.member_id == a.member_id).unwrap().session_timeout_ms, 300);

    // Not one millisecond before the session timeout has passed on the clock...
    clock.advance(ms(120));
    let g = e.describe_group("g").unwrap();
    assert!(g.members.iter().all(|m| m.last_seen_ms == 120), "last seen on the clock: {:?}", g.members);
    clock.advance(ms(180));
    assert_eq!(e.expire_members(), 0, "exactly at the session timeout the member is still in");
    assert_eq!(e.describe_group("g").unwrap().members.len(), 2);
    // ...and at once after it.
    clock.advance(ms(1));
    assert_eq!(e.expire_members(), 1);
    let g = e.describe_group("g").unwrap();
    assert_eq!(g.members.iter().map(|m| m.member_id.clone()).collect::<Vec<_>>(), vec![b.member_id.clone()]);
    assert_eq!(g.generation, b.generation + 1, "eviction is a membership change");
    assert_eq!(owners(&g).len(), 4, "the survivor owns everything");
    assert!(matches!(e.heartbeat("g", &a.member_id), Err(EngineError::NotFound { .. })));
    assert!(matches!(e.poll("g", &a.member_id, a.generation, 1, 1), Err(EngineError::NotFound { .. })));

    // A member that keeps heartbeating stays, well past its own timeout.
    let c = join(&e, "g", "c", &["t"], short);
    for _ in 0..9 {
        clock.advance(ms(100));
        e.heartbeat("g", &c.member_id).unwrap();
    }
    clock.advance(ms(300));
    assert_eq!(e.expire_members(), 0);
    assert_eq!(e.describe_group("g").unwrap().members.len(), 2);
    // Describing the group evicts too: the clock decides, not who asks.
    clock.advance(ms(1));
    let g = e.describe_group("g").unwrap();
    assert_eq!(g.members.iter().map(|m| m.member_id.clone()).collect::<Vec<_>>(), vec![b.member_id.clone()]);
    e.close().unwrap();
}

#[test]
fn uncommitted_records_of_a_dead_member_are_redelivered_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let clock = clock();
    let e = open_on(tmp.path(), &clock);
    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    produce(&e, "t", 10);
    let a = join(&e, "g", "a", &["t"], ms(200));
    let seen_by_a = e.poll("g", &a.member_id, a.generation, 6, 1 << 20).unwrap();
    assert_eq!(seen_by_a.len(), 6);
    // a "dies" without committing: no more heartbeats, and its session times out.
    clock.advance(ms(201));
    assert_eq!(e.expire_members(), 1, "a was not evicted");
    let b = join(&e, "g", "b", &["t"], Duration::from_secs(30));
    let seen_by_b = e.poll("g", &b.member_id, b.generation, 100, 1 << 20).unwrap();
    assert_eq!(seen_by_b.len(), 10);
    assert_eq!(&seen_by_b[..6], &seen_by_a[..], "b gets exactly what a had, byte for byte");
    let g = e.describe_group("g").unwrap();
    assert_eq!(g.redeliveries(), 6);
    assert_eq!(g.partitions[0].redeliveries, 6);
    e.commit_delivered("g", &b.member_id, b.generation).unwrap();
    e.leave_group("g", &b.member_id).unwrap();

    // The count is durable with the committed offsets.
    e.close().unwrap();
    drop(e);
    let e = open_on(tmp.path(), &clock);
    let g = e.describe_group("g").unwrap();
    assert_eq!((g.redeliveries(), g.partitions[0].committed), (6, Some(10)));
    // A new member after the restart continues after the committed offset: nothing redelivered.
    produce(&e, "t", 3);
    let c = join(&e, "g", "c", &["t"], Duration::from_secs(30));
    let got = e.poll("g", &c.member_id, c.generation, 100, 1 << 20).unwrap();
    assert_eq!(got.iter().map(|d| d.record.offset).collect::<Vec<_>>(), vec![10, 11, 12]);
    assert_eq!(e.describe_group("g").unwrap().redeliveries(), 6);
    e.close().unwrap();
}

#[test]
fn a_group_whose_committed_offset_fell_off_the_log_continues_from_the_log_start() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    let cfg = TopicConfig { segment_bytes: Some(1024), retention_bytes: Some(2048), ..TopicConfig::with_partitions(1) };
    e.create_topic("t", cfg).unwrap();
    produce(&e, "t", 7);
    let a = join(&e, "g", "a", &["t"], Duration::from_secs(30));
    e.poll("g", &a.member_id, a.generation, 3, 1 << 20).unwrap();
    e.commit_delivered("g", &a.member_id, a.generation).unwrap();
    for i in 0..100 {
        e.append("t", 0, &[NewRecord::value(vec![i as u8; 100])], None).unwrap();
    }
    assert!(e.enforce_retention().unwrap() > 0);
    let start = e.describe_topic("t").unwrap().partitions[0].log_start;
    assert!(start > 3);
    let g = e.describe_group("g").unwrap();
    assert_eq!(g.partitions[0].committed, Some(3));
    assert_eq!(g.partitions[0].lag, 107 - start, "lag counts what is still in the log");
    let a = e.heartbeat("g", &a.member_id).unwrap();
    let got = e.poll("g", &a.member_id, a.generation, 1000, 1 << 20).unwrap();
    assert_eq!(got.first().map(|d| d.record.offset), Some(start));
    assert_eq!(got.len() as u64, 107 - start);
    e.close().unwrap();
}

// ---- concurrency ----------------------------------------------------------------------------------------------

/// Everything the members of a concurrent test saw.
#[derive(Default)]
struct Seen {
    /// (topic, partition, offset) → how many times it was delivered.
    deliveries: HashMap<(u32, u64), u32>,
    values: HashMap<(u32, u64), Vec<u8>>,
    /// (generation, member, assignment) as members learned them.
    assignments: Vec<(u64, String, Vec<Tp>)>,
}

impl Seen {
    fn note(&mut self, got: &[Delivery]) {
        for d in got {
            *self.deliveries.entry((d.partition, d.record.offset)).or_insert(0) += 1;
            let v = self
                .values
                .entry((d.partition, d.record.offset))
                .or_insert_with(|| d.record.value.clone().unwrap().to_vec());
            assert_eq!(&v[..], d.record.value.as_deref().unwrap(), "a redelivery carried different bytes");
        }
    }
}

/// Runs a consumer loop until `stop`: poll, commit what was delivered, heartbeat now and then,
/// and follow rebalances (a stale generation means: heartbeat and carry on).
fn consume(e: &Engine, group: &str, mut m: Membership, seen: &Mutex<Seen>, stop: &AtomicBool) {
    seen.lock().unwrap().assignments.push((m.generation, m.member_id.clone(), m.assignment.clone()));
    let mut n = 0u64;
    while !stop.load(Ordering::Acquire) {
        n += 1;
        let result = e.poll(group, &m.member_id, m.generation, 37, 1 << 20).and_then(|got| {
            seen.lock().unwrap().note(&got);
            e.commit_delivered(group, &m.member_id, m.generation).map(|_| got.len())
        });
        let idle = match result {
            Ok(k) => k == 0,
            Err(EngineError::IllegalGeneration { .. }) => true,
            Err(other) => panic!("{}: {other}", m.member_id),
        };
        if idle || n.is_multiple_of(10) {
            let hb = e.heartbeat(group, &m.member_id).unwrap();
            if hb.generation != m.generation {
                m = hb;
                seen.lock().unwrap().assignments.push((m.generation, m.member_id.clone(), m.assignment.clone()));
            }
        }
        if idle {
            std::thread::yield_now();
        }
    }
}

/// Checks that within each generation no partition was assigned to two members.
fn assert_exclusive_per_generation(assignments: &[(u64, String, Vec<Tp>)]) {
    let mut by_gen: BTreeMap<u64, BTreeMap<Tp, String>> = BTreeMap::new();
    for (generation, member, tps) in assignments {
        let owners = by_gen.entry(*generation).or_default();
        for tp in tps {
            if let Some(prev) = owners.insert(tp.clone(), member.clone())
                && &prev != member
            {
                panic!("generation {generation}: {tp:?} assigned to {prev} and to {member}");
            }
        }
    }
}

fn run_producers(e: &Engine, producers: u32, per: u32) -> Vec<std::thread::JoinHandle<()>> {
    (0..producers)
        .map(|p| {
            let e = e.clone();
            std::thread::spawn(move || {
                let mut i = 0;
                while i < per {
                    let n = (1 + (i * 7 + p) % 9).min(per - i);
                    let batch: Vec<NewRecord> = (i..i + n)
                        .map(|k| {
                            let r = NewRecord::value(format!("p{p}-{k}"));
                            // Half keyed (murmur2), half keyless (round-robin).
                            if k % 2 == 0 { NewRecord { key: Some(format!("key{}", k % 13).into()), ..r } } else { r }
                        })
                        .collect();
                    e.publish("t", batch).unwrap();
                    i += n;
                }
            })
        })
        .collect()
}

/// What the snapshots taken while a test runs showed (each is checked for exclusive owners).
#[derive(Default)]
struct Snapshots {
    taken: usize,
    generations: BTreeSet<u64>,
    last: Option<GroupInfo>,
}

impl Snapshots {
    fn take(&mut self, e: &Engine, group: &str) -> Option<&GroupInfo> {
        // (The group exists once the first member has joined.)
        let g = e.describe_group(group).ok()?;
        owners(&g);
        self.taken += 1;
        self.generations.insert(g.generation);
        self.last = Some(g);
        self.last.as_ref()
    }
}

fn wait_until_consumed(e: &Engine, group: &str, total: u64, snapshots: &mut Snapshots) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let g = snapshots.take(e, group).expect("the group exists");
        let end: u64 = g.partitions.iter().map(|p| p.end_offset).sum();
        if end == total && g.total_lag() == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the group did not catch up: {:?}", snapshots.last);
        std::thread::yield_now();
    }
}

fn produced_values(producers: u32, per: u32) -> BTreeSet<String> {
    (0..producers).flat_map(|p| (0..per).map(move |k| format!("p{p}-{k}"))).collect()
}

#[test]
fn concurrent_producers_and_members_consume_every_record_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", TopicConfig::with_partitions(6)).unwrap();
    let (producers, per) = (3u32, 3000u32);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    // The three members join at the same time; they start consuming once all are in, so the
    // group is stable while records flow (a rebalance would redeliver uncommitted records).
    let barrier = Arc::new(Barrier::new(3));
    let members: Vec<_> = (0..3)
        .map(|i| {
            let (e, seen, stop, barrier) = (e.clone(), seen.clone(), stop.clone(), barrier.clone());
            std::thread::spawn(move || {
                let m = join(&e, "g", &format!("m{i}"), &["t"], Duration::from_secs(30));
                barrier.wait();
                let m = e.heartbeat("g", &m.member_id).unwrap();
                consume(&e, "g", m, &seen, &stop);
            })
        })
        .collect();
    let prod = run_producers(&e, producers, per);
    let total = u64::from(producers * per);
    let mut snapshots = Snapshots::default();
    for p in prod {
        p.join().unwrap();
    }
    wait_until_consumed(&e, "g", total, &mut snapshots);
    stop.store(true, Ordering::Release);
    for m in members {
        m.join().unwrap();
    }

    let seen = seen.lock().unwrap();
    let dupes: Vec<_> = seen.deliveries.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "{} records delivered more than once, e.g. {:?}", dupes.len(), dupes.first());
    assert_eq!(seen.deliveries.len() as u64, total, "records lost");
    let values: BTreeSet<String> = seen.values.values().map(|v| String::from_utf8(v.clone()).unwrap()).collect();
    assert_eq!(values, produced_values(producers, per));
    assert_exclusive_per_generation(&seen.assignments);
    let g = e.describe_group("g").unwrap();
    assert_eq!(g.redeliveries(), 0);
    assert_eq!(g.members.len(), 3);
    assert_eq!(owners(&g).len(), 6);
    assert!(snapshots.taken > 1, "snapshots were taken while running");
    assert!(g.partitions.iter().all(|p| p.committed == Some(p.end_offset)));
    e.close().unwrap();
}

#[test]
fn members_coming_and_going_lose_nothing_and_every_redelivery_is_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let e = open(tmp.path());
    e.create_topic("t", TopicConfig::with_partitions(6)).unwrap();
    let (producers, per) = (3u32, 2000u32);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let members: Vec<_> = (0..3)
        .map(|i| {
            let (e, seen, stop) = (e.clone(), seen.clone(), stop.clone());
            std::thread::spawn(move || {
                let m = join(&e, "g", &format!("m{i}"), &["t"], Duration::from_secs(30));
                consume(&e, "g", m, &seen, &stop);
            })
        })
        .collect();
    // A fourth member keeps joining, consuming a little, and leaving: every change is a new
    // generation, and whatever was delivered but not committed is delivered again.
    let churn_stop = Arc::new(AtomicBool::new(false));
    let churner = {
        let (e, seen, churn_stop) = (e.clone(), seen.clone(), churn_stop.clone());
        std::thread::spawn(move || {
            let mut rounds = 0u64;
            while !churn_stop.load(Ordering::Acquire) || rounds < 5 {
                rounds += 1;
                let m = join(&e, "g", "churn", &["t"], Duration::from_secs(30));
                seen.lock().unwrap().assignments.push((m.generation, m.member_id.clone(), m.assignment.clone()));
                if let Ok(got) = e.poll("g", &m.member_id, m.generation, 20, 1 << 20) {
                    seen.lock().unwrap().note(&got);
                    if rounds.is_multiple_of(2) {
                        let _ = e.commit_delivered("g", &m.member_id, m.generation);
                    }
                }
                std::thread::yield_now();
                e.leave_group("g", &m.member_id).unwrap();
                std::thread::yield_now();
            }
            rounds
        })
    };
    let mut snapshots = Snapshots::default();
    let prod = run_producers(&e, producers, per);
    // Snapshots while records flow and members come and go.
    while !churner.is_finished() {
        if prod.iter().all(|p| p.is_finished()) {
            churn_stop.store(true, Ordering::Release);
        }
        snapshots.take(&e, "g");
        std::thread::yield_now();
    }
    for p in prod {
        p.join().unwrap();
    }
    let rounds = churner.join().unwrap();
    let total = u64::from(producers * per);
    wait_until_consumed(&e, "g", total, &mut snapshots);
    stop.store(true, Ordering::Release);
    for m in members {
        m.join().unwrap();
    }

    let seen = seen.lock().unwrap();
    assert_eq!(seen.deliveries.len() as u64, total, "records lost");
    let values: BTreeSet<String> = seen.values.values().map(|v| String::from_utf8(v.clone()).unwrap()).collect();
    assert_eq!(values, produced_values(producers, per));
    let delivered: u64 = seen.deliveries.values().map(|n| u64::from(*n)).sum();
    let g = e.describe_group("g").unwrap();
    assert_eq!(delivered - total, g.redeliveries(), "every second delivery is counted as a redelivery, and only those");
    assert_exclusive_per_generation(&seen.assignments);
    let gens = &snapshots.generations;
    assert!(gens.len() >= 3, "expected many generations, saw {gens:?} ({rounds} churn rounds)");
    assert!(g.generation >= 3 + 2 * rounds);
    e.close().unwrap();
}
