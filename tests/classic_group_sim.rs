//! A deterministic simulation of Kafka-style (client-assigned) members on the engine: seeded
//! random joins, waits, leader syncs, heartbeats, commits, leaves, silent members and clock
//! moves on a manual clock. After every step: no partition is owned by two members, no two
//! clients believe they own one partition in the same generation, and committed offsets never
//! move back (there are no resets here).

use depot::core::TopicConfig;
use depot::engine::{
    ClassicError, ClassicJoin, Engine, EngineConfig, JoinStep, Joining, ManualClock, NewRecord, SyncMode, Wait,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

const PARTS: u32 = 5;

/// A small xorshift generator: the same seed, the same run.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[derive(Default, Debug)]
struct Client {
    id: Option<String>,
    waiting_join: bool,
    generation: Option<u64>,
    leader: bool,
    members: Vec<String>,
    owned: Option<(u64, Vec<u32>)>,
    /// Told by a heartbeat, sync or commit that the group rebalances: it rejoins next.
    must_rejoin: bool,
}

fn joining(name: &str) -> Joining {
    Joining {
        client_id: name.into(),
        client_host: "/127.0.0.1".into(),
        topics: vec!["t".into()],
        session_timeout: Duration::from_secs(3),
        rebalance_timeout: Duration::from_secs(5),
        protocol_type: "consumer".into(),
        protocols: vec![("range".into(), vec![])],
    }
}

fn encode(ps: &[u32]) -> Vec<u8> {
    ps.iter().map(|p| *p as u8).collect()
}

/// Runs one seed; returns how many syncs handed out partitions and how many commits succeeded.
fn run(seed: u64) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let e = Engine::open(
        dir.path(),
        EngineConfig {
            sync: SyncMode::Never,
            maintenance_interval: Duration::from_secs(3600),
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    e.create_topic("t", TopicConfig::with_partitions(PARTS)).unwrap();
    for p in 0..PARTS {
        let recs: Vec<NewRecord> = (0..50).map(|i| NewRecord::value(format!("r{i}"))).collect();
        e.append("t", p, &recs, None).unwrap();
    }
    let mut rng = Rng(seed * 2654435761 + 1);
    let names = ["a", "b", "c", "d"];
    let mut clients: BTreeMap<&str, Client> = names.iter().map(|n| (*n, Client::default())).collect();
    let mut last_committed: BTreeMap<u32, u64> = BTreeMap::new();
    let (mut synced, mut committed) = (0, 0);
    for step in 0..1500 {
        let name = names[rng.next(names.len() as u64) as usize];
        let c = clients.get_mut(name).unwrap();
        let ctx = format!("seed {seed} step {step} client {name}: {c:?}");
        let op = if c.must_rejoin { 0 } else { rng.next(8) };
        match op {
            // Join (a new client), or rejoin when told to (or now and then unprompted).
            0 | 1 if c.id.is_none() || c.must_rejoin || rng.next(64) == 0 => {
                c.must_rejoin = false;
                let req = ClassicJoin {
                    member_id: c.id.clone().unwrap_or_default(),
                    require_known_member: false,
                    joining: joining(name),
                };
                match e.classic_join("g", req) {
                    Ok(JoinStep::Joined(a)) => {
                        c.id = Some(a.member_id.clone());
                        c.waiting_join = false;
                        c.generation = Some(a.generation);
                        c.leader = a.leader == a.member_id;
                        c.members = a.members.iter().map(|(id, _)| id.clone()).collect();
                        c.owned = None;
                    }
                    Ok(JoinStep::Pending(id)) => {
                        c.id = Some(id);
                        c.waiting_join = true;
                        c.owned = None;
                    }
                    Ok(JoinStep::MemberIdRequired(_)) => panic!("{ctx}: not asked for"),
                    Err(ClassicError::UnknownMember { .. }) => *c = Client::default(),
                    Err(err) => panic!("{ctx}: {err}"),
                }
            }
            // A waiting join asks again.
            2 if c.waiting_join => match e.classic_join_wait("g", c.id.as_deref().unwrap()) {
                Ok(Wait::Ready(a)) => {
                    c.waiting_join = false;
                    c.generation = Some(a.generation);
                    c.leader = a.leader == a.member_id;
                    c.members = a.members.iter().map(|(id, _)| id.clone()).collect();
                }
                Ok(Wait::Pending(_)) => {}
                Err(ClassicError::UnknownMember { .. }) => *c = Client::default(),
                Err(err) => panic!("{ctx}: {err}"),
            },
            // Sync: the leader deals the partitions round-robin over the members it was given.
            3 if c.generation.is_some() && c.owned.is_none() => {
                let g = c.generation.unwrap();
                let plan = c.leader.then(|| {
                    let mut ids = c.members.clone();
                    ids.sort();
                    ids.iter()
                        .enumerate()
                        .map(|(i, id)| {
                            let ps: Vec<u32> = (0..PARTS).filter(|p| *p as usize % ids.len() == i).collect();
                            (id.clone(), encode(&ps), ps.iter().map(|p| ("t".to_string(), *p)).collect())
                        })
                        .collect()
                });
                match e.classic_sync("g", c.id.as_deref().unwrap(), g, plan) {
                    Ok(Wait::Ready(bytes)) => {
                        synced += u64::from(!bytes.is_empty());
                        c.owned = Some((g, bytes.iter().map(|b| u32::from(*b)).collect()));
                    }
                    Ok(Wait::Pending(_)) => {}
                    Err(ClassicError::UnknownMember { .. }) => *c = Client::default(),
                    Err(ClassicError::IllegalGeneration { .. } | ClassicError::RebalanceInProgress(_)) => {
                        c.generation = None;
                        c.owned = None;
                        c.must_rejoin = true;
                    }
                    Err(err) => panic!("{ctx}: {err}"),
                }
            }
            // Heartbeat: a rebalance or a stale generation drops what it owns (eager).
            4 if c.generation.is_some() => {
                match e.classic_heartbeat("g", c.id.as_deref().unwrap(), c.generation.unwrap()) {
                    Ok(()) => {}
                    Err(ClassicError::UnknownMember { .. }) => *c = Client::default(),
                    Err(ClassicError::IllegalGeneration { .. } | ClassicError::RebalanceInProgress(_)) => {
                        c.generation = None;
                        c.owned = None;
                        c.must_rejoin = true;
                    }
                    Err(err) => panic!("{ctx}: {err}"),
                }
            }
            // Commit one more record of a partition it believes it owns.
            5 if c.owned.as_ref().is_some_and(|(_, ps)| !ps.is_empty()) => {
                let (g, ps) = c.owned.clone().unwrap();
                let p = ps[rng.next(ps.len() as u64) as usize];
                let next = (last_committed.get(&p).copied().unwrap_or(0) + 1).min(50);
                match e.classic_commit("g", c.id.as_deref().unwrap(), g as i64, &[("t".into(), p, next)]) {
                    Ok(()) => committed += 1,
                    Err(ClassicError::UnknownMember { .. }) => *c = Client::default(),
                    Err(ClassicError::IllegalGeneration { .. } | ClassicError::RebalanceInProgress(_)) => {
                        c.generation = None;
                        c.owned = None;
                        c.must_rejoin = true;
                    }
                    Err(ClassicError::NotOwner { .. }) => panic!("{ctx}: believed it owned {p}"),
                    Err(err) => panic!("{ctx}: {err}"),
                }
            }
            6 if c.id.is_some() && rng.next(32) == 0 => {
                let _ = e.classic_leave("g", c.id.as_deref().unwrap());
                *c = Client::default();
            }
            7 => clock.advance(Duration::from_millis(rng.next(1500))),
            _ => {}
        }
        // No partition owned twice in the engine.
        if let Ok(info) = e.describe_group("g") {
            let mut seen = BTreeSet::new();
            for m in &info.members {
                for tp in &m.assignment {
                    assert!(seen.insert(tp.clone()), "seed {seed} step {step}: {tp:?} owned twice: {info:?}");
                }
            }
            for p in &info.partitions {
                let was = last_committed.get(&p.partition).copied().unwrap_or(0);
                let now = p.committed.unwrap_or(0);
                assert!(now >= was, "seed {seed} step {step}: {}/{} moved back {was} -> {now}", p.topic, p.partition);
                last_committed.insert(p.partition, now);
            }
        }
        // No two clients believe they own one partition in one generation.
        let mut believed: BTreeMap<(u64, u32), &str> = BTreeMap::new();
        for (n, c) in &clients {
            for p in c.owned.iter().flat_map(|(g, ps)| ps.iter().map(move |p| (*g, *p))) {
                if let Some(other) = believed.insert(p, n) {
                    panic!("seed {seed} step {step}: {other} and {n} both own partition {} in generation {}", p.1, p.0);
                }
            }
        }
    }
    (synced, committed)
}

#[test]
fn ownership_stays_exclusive_and_commits_monotonic_over_many_seeded_runs() {
    let (mut synced, mut committed) = (0, 0);
    for seed in 0..40 {
        let (s, c) = run(seed);
        synced += s;
        committed += c;
    }
    // The runs reach the interesting states: assignments handed out and commits accepted.
    assert!(synced > 100 && committed > 100, "{synced} syncs with partitions, {committed} commits");
    eprintln!("{synced} syncs with partitions, {committed} commits");
}
