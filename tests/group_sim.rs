//! A deterministic simulation of consumer groups on the engine. One thread, a manual clock and a
//! simulated disk: a seeded RNG picks each next action — members join, poll, process, commit,
//! crash (no commit, no more heartbeats), leave cleanly, stall past their session timeout (and
//! are evicted), commit with a generation a rebalance has already replaced; producers append;
//! now and then a group is rewound by a reset (journaled) or the engine is closed and reopened.
//! After every step it checks:
//!
//! - exclusive ownership: in one generation of a group no partition belongs to two members, and
//!   every member that hears of that generation hears the same owners;
//! - deliveries: a member only gets records of partitions it owns in the generation it polled
//!   with, in offset order, each the record that was appended at that offset;
//! - commits move forward per group and partition, except through a reset in the journal
//!   (`reset_history`) to at most the new offset; a commit with a replaced generation fails;
//! - at the end, once each group has drained: every appended record was delivered to some member
//!   of each group at least once, and each group's committed offsets are the log's ends.
//!
//! `DEPOT_SIM_SEEDS=N` runs N seeds per test (4 tests), `DEPOT_SIM_STEPS=N` makes each run N steps
//! long, `DEPOT_SIM_SEED=S` runs seed S alone. A failure names its seed.

use depot::core::ResetSpec;
use depot::core::TopicConfig;
use depot::engine::storage::SimStorage;
use depot::engine::{Engine, EngineConfig, EngineError, JoinRequest, ManualClock, Membership, NewRecord, SyncMode};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const TOPIC: &str = "t";
const PARTITIONS: u32 = 4;
const GROUPS: [&str; 2] = ["ga", "gb"];
const MAX_MEMBERS: usize = 4;
/// Seeds that find a bug fixed since, run first every time: 13 (a member id from before a restart
/// named a member after it, so a stalled consumer's commit with a matching generation was taken;
/// with member ids that repeat across restarts, seed 13 fails at step 560 and every other seed
/// below 240 passes).
const REGRESSIONS: &[u64] = &[13];

/// splitmix64: small, seedable, the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    Live,
    /// Processing so slowly that it neither polls nor heartbeats until this time (mono ms).
    Stalled(u64),
}

/// One simulated consumer process.
#[derive(Debug)]
struct Member {
    group: usize,
    id: String,
    generation: u64,
    assignment: Vec<(String, u32)>,
    timeout_ms: u64,
    life: Life,
    /// When it last heartbeat (mono ms).
    beat: u64,
    /// Processed, not yet committed: the next offset per partition, in `generation`.
    pending: BTreeMap<u32, u64>,
}

struct Sim {
    seed: u64,
    step: usize,
    rng: Rng,
    clock: Arc<ManualClock>,
    disk: SimStorage,
    engine: Engine,
    members: Vec<Member>,
    /// The value appended at each offset, per partition.
    log: Vec<Vec<String>>,
    /// Per group and partition: which offsets were delivered at least once.
    delivered: Vec<Vec<Vec<bool>>>,
    /// Per group: generation → partition → owner, as every member and describe heard it.
    owners: Vec<BTreeMap<u64, BTreeMap<u32, String>>>,
    /// Per group and partition: the committed offset seen at the last check.
    committed: Vec<Vec<Option<u64>>>,
    /// Per group: how many resets the journal held at the last check.
    resets_seen: Vec<usize>,
    trace: Vec<String>,
}

fn config(clock: &Arc<ManualClock>, disk: &SimStorage) -> EngineConfig {
    EngineConfig {
        sync: SyncMode::Never,
        segment_bytes: 4096,
        maintenance_interval: Duration::from_secs(3600),
        clock: clock.clone(),
        storage: Arc::new(disk.clone()),
        ..EngineConfig::default()
    }
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let clock = Arc::new(ManualClock::new(1_750_000_000_000));
        let disk = SimStorage::new(seed);
        let engine = Engine::open("/sim", config(&clock, &disk)).expect("open");
        engine.create_topic(TOPIC, TopicConfig::with_partitions(PARTITIONS)).expect("create");
        Sim {
            seed,
            step: 0,
            rng: Rng(seed),
            clock,
            disk,
            engine,
            members: Vec::new(),
            log: vec![Vec::new(); PARTITIONS as usize],
            delivered: vec![vec![Vec::new(); PARTITIONS as usize]; GROUPS.len()],
            owners: vec![BTreeMap::new(); GROUPS.len()],
            committed: vec![vec![None; PARTITIONS as usize]; GROUPS.len()],
            resets_seen: vec![0; GROUPS.len()],
            trace: Vec::new(),
        }
    }

    /// Fails the run, naming the seed, the step and the last actions.
    #[track_caller]
    fn violation(&self, what: String) -> ! {
        let tail = self.trace.iter().rev().take(25).rev().cloned().collect::<Vec<_>>().join("\n  ");
        panic!(
            "group simulation, seed {} (DEPOT_SIM_SEED={}), step {}: {what}\nlast actions:\n  {tail}",
            self.seed, self.seed, self.step
        );
    }

    fn note(&mut self, what: String) {
        if self.trace.len() > 200 {
            self.trace.drain(..100);
        }
        self.trace.push(format!("#{} {what}", self.step));
    }

    fn now(&self) -> u64 {
        use depot::engine::Clock;
        self.clock.mono_ms()
    }

    /// Records what a member heard of its generation and checks it against everyone else.
    fn heard(&mut self, group: usize, m: &Membership) {
        for (t, p) in &m.assignment {
            assert_eq!(t, TOPIC);
            let owners = self.owners[group].entry(m.generation).or_default();
            match owners.get(p) {
                Some(o) if *o != m.member_id => {
                    let o = o.clone();
                    self.violation(format!(
                        "{}/{p} owned by {o} and {} in generation {} of {}",
                        TOPIC, m.member_id, m.generation, GROUPS[group]
                    ))
                }
                _ => {
                    owners.insert(*p, m.member_id.clone());
                }
            }
        }
    }

    fn learn(&mut self, i: usize, m: Membership) {
        let g = self.members[i].group;
        self.heard(g, &m);
        let now = self.now();
        let me = &mut self.members[i];
        if m.generation != me.generation {
            // A rebalance: what was processed in the old generation can no longer be committed.
            me.pending.clear();
        }
        me.generation = m.generation;
        me.assignment = m.assignment;
        me.beat = now;
    }

    /// An evicted or forgotten member joins again as a new one.
    fn rejoin(&mut self, i: usize) {
        let g = self.members[i].group;
        let mut req = JoinRequest::new("sim", &[TOPIC]);
        req.session_timeout = Duration::from_millis(self.members[i].timeout_ms);
        match self.engine.join_group(GROUPS[g], req) {
            Ok(m) => {
                self.note(format!("{} rejoins as {} generation {}", self.members[i].id, m.member_id, m.generation));
                self.members[i].id = m.member_id.clone();
                self.members[i].pending.clear();
                self.members[i].generation = 0;
                self.learn(i, m);
            }
            Err(e) => self.violation(format!("join failed: {e}")),
        }
    }

    /// What a member does with an error from poll, commit or heartbeat.
    fn recover(&mut self, i: usize, e: EngineError) {
        match e {
            EngineError::IllegalGeneration { .. } => self.heartbeat(i),
            EngineError::NotFound { .. } => self.rejoin(i),
            e => self.violation(format!("{}: unexpected error {e}", self.members[i].id)),
        }
    }

    fn heartbeat(&mut self, i: usize) {
        let g = self.members[i].group;
        match self.engine.heartbeat(GROUPS[g], &self.members[i].id) {
            Ok(m) => self.learn(i, m),
            Err(EngineError::NotFound { .. }) => self.rejoin(i),
            Err(e) => self.violation(format!("heartbeat: {e}")),
        }
    }

    fn join(&mut self, group: usize) {
        let timeout_ms = [500, 1_000, 3_000][self.rng.below(3) as usize];
        let mut req = JoinRequest::new("sim", &[TOPIC]);
        req.session_timeout = Duration::from_millis(timeout_ms);
        let m = self.engine.join_group(GROUPS[group], req).unwrap_or_else(|e| self.violation(format!("join: {e}")));
        self.note(format!("{} joins {} generation {}", m.member_id, GROUPS[group], m.generation));
        self.members.push(Member {
            group,
            id: m.member_id.clone(),
            generation: 0,
            assignment: Vec::new(),
            timeout_ms,
            life: Life::Live,
            beat: self.now(),
            pending: BTreeMap::new(),
        });
        let i = self.members.len() - 1;
        self.learn(i, m);
    }

    fn produce(&mut self) {
        let p = self.rng.below(u64::from(PARTITIONS)) as u32;
        let n = 1 + self.rng.below(5) as usize;
        let base = self.log[p as usize].len() as u64;
        let values: Vec<String> = (0..n as u64).map(|k| format!("{p}:{}:{}", base + k, self.seed)).collect();
        let recs: Vec<NewRecord> = values.iter().map(|v| NewRecord::value(v.clone().into_bytes())).collect();
        let a = self.engine.append(TOPIC, p, &recs, None).unwrap_or_else(|e| self.violation(format!("append: {e}")));
        if a.base_offset != base {
            self.violation(format!("append to {p} at {} but the log ends at {base}", a.base_offset));
        }
        self.log[p as usize].extend(values);
    }

    fn poll(&mut self, i: usize) {
        let (g, generation) = (self.members[i].group, self.members[i].generation);
        let max = 1 + self.rng.below(8) as usize;
        let got = match self.engine.poll(GROUPS[g], &self.members[i].id, generation, max, 1 << 20) {
            Ok(got) => got,
            Err(e) => return self.recover(i, e),
        };
        self.members[i].beat = self.now();
        let mut last: BTreeMap<u32, u64> = BTreeMap::new();
        for d in &got {
            let p = d.partition;
            let o = d.record.offset;
            let owner = self.owners[g].get(&generation).and_then(|o| o.get(&p)).cloned();
            if owner.as_deref() != Some(self.members[i].id.as_str()) {
                self.violation(format!(
                    "{} got {TOPIC}/{p}@{o} in generation {generation}, whose owner is {owner:?}",
                    self.members[i].id
                ));
            }
            if last.get(&p).is_some_and(|&l| o != l + 1) {
                self.violation(format!("{TOPIC}/{p}: delivered {o} after {:?} in one poll", last.get(&p)));
            }
            last.insert(p, o);
            let want = self.log[p as usize].get(o as usize);
            if want.map(|w| w.as_bytes()) != d.record.value.as_deref() {
                self.violation(format!("{TOPIC}/{p}@{o} is {:?}, appended {want:?}", d.record.value));
            }
            let seen = &mut self.delivered[g][p as usize];
            if seen.len() <= o as usize {
                seen.resize(o as usize + 1, false);
            }
            seen[o as usize] = true;
        }
        self.note(format!("{} polls generation {generation}: {:?}", self.members[i].id, last));
        for (p, o) in last {
            self.members[i].pending.insert(p, o + 1);
        }
    }

    fn commit(&mut self, i: usize) {
        let (g, generation) = (self.members[i].group, self.members[i].generation);
        if self.members[i].pending.is_empty() {
            return;
        }
        let offsets: Vec<(String, u32, u64)> =
            self.members[i].pending.iter().map(|(p, o)| (TOPIC.to_string(), *p, *o)).collect();
        let current = self.engine.describe_group(GROUPS[g]).map(|d| d.generation).unwrap_or(0);
        match self.engine.commit(GROUPS[g], &self.members[i].id, generation, &offsets) {
            Ok(()) => {
                if generation != current {
                    self.violation(format!("a commit with generation {generation} succeeded in generation {current}"));
                }
                self.note(format!("{} commits generation {generation}: {offsets:?}", self.members[i].id));
                self.members[i].pending.clear();
            }
            Err(EngineError::Refused(why)) => {
                // The only owner of a partition in a generation commits what it was handed from
                // the committed offset on: never behind it, never a partition it does not own.
                self.violation(format!(
                    "{} commit generation {generation} of {offsets:?} refused: {why}",
                    self.members[i].id
                ))
            }
            Err(e) => {
                self.note(format!("{} commit generation {generation} fails: {e}", self.members[i].id));
                self.recover(i, e);
            }
        }
    }

    fn leave(&mut self, i: usize) {
        if self.rng.chance(60) {
            self.commit(i);
        }
        let m = self.members.remove(i);
        self.note(format!("{} leaves", m.id));
        match self.engine.leave_group(GROUPS[m.group], &m.id) {
            Ok(()) | Err(EngineError::NotFound { .. }) => {}
            Err(e) => self.violation(format!("leave: {e}")),
        }
    }

    /// Rewinds a group: to the earliest offsets, or some records back. Never forward, so every
    /// record still reaches every group.
    fn reset(&mut self, group: usize) {
        let spec = if self.rng.chance(30) {
            ResetSpec::ToEarliest
        } else {
            ResetSpec::ShiftBy(-(1 + self.rng.below(20) as i64))
        };
        let Ok(plan) = self.engine.plan_reset(GROUPS[group], TOPIC, None, spec.clone()) else { return };
        if plan.rows.iter().any(|r| r.before.is_some_and(|b| r.after > b)) {
            self.violation(format!("a rewind planned a move forward: {plan:?}"));
        }
        let force = self.rng.chance(50);
        match self.engine.execute_reset(&plan, force) {
            Ok(r) => self.note(format!("reset {} #{} {spec} forced={}: {:?}", GROUPS[group], r.id, r.forced, r.rows)),
            Err(EngineError::Refused(_)) if !force => {}
            Err(e) => self.violation(format!("reset: {e}")),
        }
    }

    /// Closes the engine and opens the same disk again: members are forgotten, offsets are not.
    fn restart(&mut self) {
        self.note("restart".into());
        self.engine.close().unwrap_or_else(|e| self.violation(format!("close: {e}")));
        self.engine = Engine::open("/sim", config(&self.clock, &self.disk))
            .unwrap_or_else(|e| self.violation(format!("reopen: {e}")));
        // Generations start again after a restart: what was heard before belongs to the old one.
        for owners in &mut self.owners {
            owners.clear();
        }
    }

    /// Time passes; members that are alive and not stalled heartbeat when half their timeout
    /// has gone by, as a consumer's background thread does.
    fn advance(&mut self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
        let now = self.now();
        for i in 0..self.members.len() {
            let m = &self.members[i];
            let due = now.saturating_sub(m.beat) * 2 >= m.timeout_ms;
            match m.life {
                Life::Stalled(until) if now >= until => {
                    // Back from a long pause: commit first (it may have been evicted meanwhile:
                    // a commit racing the rebalance), then carry on.
                    self.members[i].life = Life::Live;
                    self.note(format!("{} wakes", self.members[i].id));
                    self.commit(i);
                }
                Life::Live if due => self.heartbeat(i),
                _ => {}
            }
        }
    }

    fn live(&mut self) -> Option<usize> {
        let live: Vec<usize> = (0..self.members.len()).filter(|&i| self.members[i].life == Life::Live).collect();
        (!live.is_empty()).then(|| live[self.rng.below(live.len() as u64) as usize])
    }

    fn act(&mut self) {
        let roll = self.rng.below(100);
        match roll {
            0..=19 => self.produce(),
            20..=24 => {
                let g = self.rng.below(GROUPS.len() as u64) as usize;
                if self.members.iter().filter(|m| m.group == g).count() < MAX_MEMBERS {
                    self.join(g);
                }
            }
            25..=49 => {
                if let Some(i) = self.live() {
                    self.poll(i);
                }
            }
            50..=61 => {
                if let Some(i) = self.live() {
                    self.commit(i);
                }
            }
            62..=63 => {
                if let Some(i) = self.live() {
                    let m = self.members.remove(i);
                    self.note(format!("{} crashes (pending {:?})", m.id, m.pending));
                }
            }
            64..=66 => {
                if let Some(i) = self.live() {
                    self.leave(i);
                }
            }
            67..=68 => {
                if let Some(i) = self.live() {
                    let m = &mut self.members[i];
                    let until = m.beat + m.timeout_ms + 1 + self.rng.below(2 * m.timeout_ms);
                    m.life = Life::Stalled(until);
                    self.note(format!("{} stalls until {until}", self.members[i].id));
                }
            }
            69 => {
                let g = self.rng.below(GROUPS.len() as u64) as usize;
                self.reset(g);
            }
            70 if self.rng.chance(10) => self.restart(),
            _ => {
                let ms = self.rng.below(400);
                self.advance(ms);
            }
        }
    }

    /// After every step: one generation's owners agree, commits only move back through a reset.
    fn check(&mut self) {
        for (g, name) in GROUPS.iter().enumerate() {
            let Ok(d) = self.engine.describe_group(name) else { continue };
            for m in &d.members {
                let ms = Membership {
                    group: d.name.clone(),
                    member_id: m.member_id.clone(),
                    generation: d.generation,
                    assignment: m.assignment.clone(),
                };
                self.heard(g, &ms);
            }
            let history = self.engine.reset_history(name);
            let new_resets = &history[self.resets_seen[g].min(history.len())..];
            for p in &d.partitions {
                let (before, now) = (self.committed[g][p.partition as usize], p.committed);
                if let (Some(b), Some(n)) = (before, now)
                    && n < b
                {
                    let rewound =
                        new_resets.iter().any(|r| r.rows.iter().any(|&(rp, _, after)| rp == p.partition && after <= n));
                    if !rewound {
                        self.violation(format!(
                            "{name} {TOPIC}/{}: committed went back from {b} to {n} without a reset in the journal",
                            p.partition
                        ));
                    }
                }
                if before.is_some() && now.is_none() {
                    self.violation(format!("{name} {TOPIC}/{}: the committed offset {before:?} vanished", p.partition));
                }
                self.committed[g][p.partition as usize] = now;
            }
            self.resets_seen[g] = history.len();
        }
    }
}

/// One seeded run of `steps` steps, drained and checked at the end.
fn run(seed: u64, steps: usize) {
    let mut s = Sim::new(seed);
    for step in 0..steps {
        s.step = step;
        s.act();
        s.check();
    }
    s.step = steps;
    // Drain: producers stop, crashed and stalled members expire, and one fresh member per group
    // consumes and commits until the group has everything (or stops getting anywhere).
    s.members.clear();
    s.advance(10_000);
    let ends: Vec<u64> = s.log.iter().map(|l| l.len() as u64).collect();
    for (g, name) in GROUPS.iter().enumerate() {
        s.join(g);
        let i = s.members.len() - 1;
        let mut idle = 0;
        while idle < 20 {
            let before = s.committed[g].clone();
            s.poll(i);
            s.commit(i);
            s.check();
            if s.committed[g].iter().zip(&ends).all(|(c, e)| c.unwrap_or(0) == *e) {
                break;
            }
            idle = if s.committed[g] == before { idle + 1 } else { 0 };
        }
        let committed: Vec<u64> = s.committed[g].iter().map(|c| c.unwrap_or(0)).collect();
        if committed != ends {
            s.violation(format!("{name} drained to {committed:?}, the log ends at {ends:?}"));
        }
        for p in 0..PARTITIONS as usize {
            let seen = &s.delivered[g][p];
            if let Some(o) = (0..s.log[p].len()).find(|&o| !seen.get(o).copied().unwrap_or(false)) {
                s.violation(format!("{name} never got {TOPIC}/{p}@{o} (at-least-once)"));
            }
        }
        let m = s.members.remove(i);
        let _ = s.engine.leave_group(name, &m.id);
    }
    s.engine.close().expect("close");
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs the seeds `base + k * stride` for the slice of seeds this test owns.
fn seeds(slice: u64) {
    let steps = env("DEPOT_SIM_STEPS", 2_000) as usize;
    if let Ok(one) = std::env::var("DEPOT_SIM_SEED") {
        if slice == 0 {
            run(one.parse().expect("DEPOT_SIM_SEED is a number"), steps);
        }
        return;
    }
    if slice == 0 {
        for &seed in REGRESSIONS {
            run(seed, steps);
        }
    }
    let n = env("DEPOT_SIM_SEEDS", 50);
    for k in 0..n {
        run(k * 4 + slice, steps);
    }
}

/// What seed 13 finds, as a plain case: an engine reopened on the same directory hands
/// out member ids (and generations) from the start again, so a consumer stalled across the
/// restart committed as the new member that happened to get its old id.
#[test]
fn a_member_id_from_before_a_restart_names_no_member_after_it() {
    let clock = Arc::new(ManualClock::new(1_750_000_000_000));
    let disk = SimStorage::new(7);
    let e = Engine::open("/d", config(&clock, &disk)).expect("open");
    e.create_topic(TOPIC, TopicConfig::with_partitions(1)).expect("create");
    e.append(TOPIC, 0, &[NewRecord::value("a"), NewRecord::value("b")], None).expect("append");
    let old = e.join_group("g", JoinRequest::new("c", &[TOPIC])).expect("join");
    e.close().expect("close");
    for _ in 0..2 {
        let e = Engine::open("/d", config(&clock, &disk)).expect("reopen");
        let new = e.join_group("g", JoinRequest::new("c", &[TOPIC])).expect("join again");
        assert_ne!(new.member_id, old.member_id, "a new member got the old member's id");
        let zombie = e.commit("g", &old.member_id, new.generation, &[(TOPIC.into(), 0, 2)]);
        assert!(matches!(zombie, Err(EngineError::NotFound { .. })), "the old member committed: {zombie:?}");
        assert_eq!(e.describe_group("g").expect("g").partitions[0].committed, None);
        e.close().expect("close");
    }
}

#[test]
fn groups_keep_their_promises_seeds_0_mod_4() {
    seeds(0);
}

#[test]
fn groups_keep_their_promises_seeds_1_mod_4() {
    seeds(1);
}

#[test]
fn groups_keep_their_promises_seeds_2_mod_4() {
    seeds(2);
}

#[test]
fn groups_keep_their_promises_seeds_3_mod_4() {
    seeds(3);
}
