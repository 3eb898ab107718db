//! The simulation: producers and consumer-group members that are real clients of the embedded
//! engine (they publish, join, heartbeat, poll, commit, crash and leave through its API), driven
//! by a simulated clock in fixed steps. Nothing on screen is faked: the console reads the engine.
//! An engine opened by [`Sim::open`] runs on the simulation's clock (a `ManualClock` each step
//! advances), so record timestamps, lag in time, session timeouts and rates follow simulated
//! time: they stand still while the demo is paused in step mode. The members' side of it (join,
//! poll, process, commit, crash, leave) is in [`consumers`](super::consumers).

use super::scenario::{EventAction, GroupSpec, ProducerSpec, Scenario};
use crate::core::TopicConfig;
use crate::engine::{Delivery, Engine, EngineConfig, EngineError, ManualClock, NewRecord, SyncMode};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Header with the simulated time a record was produced at (ms).
pub const PRODUCED_AT: &str = "demo.t_ms";
/// Header marking a poison record.
pub const POISON: &str = "demo.poison";

pub struct Producer {
    pub spec: ProducerSpec,
    pub rate: f64,
    pub paused: bool,
    acc: f64,
    pub sent: u64,
}

/// Where a record landed: topic, partition, offset.
pub type Landed = (String, u32, u64);

pub struct Member {
    pub id: String,
    pub generation: u64,
    pub(super) inflight: VecDeque<Delivery>,
    /// Next offset to commit per partition (what was processed since the last commit).
    pub(super) done: BTreeMap<(String, u32), u64>,
    /// Records processed since the last commit.
    pub(super) done_records: u64,
    pub(super) budget: f64,
    pub crashed_at: Option<u64>,
    pub processed: u64,
}

impl Member {
    /// Records received and not committed.
    pub fn uncommitted(&self) -> u64 {
        self.inflight.len() as u64 + self.done_records
    }
}

pub struct SimGroup {
    pub spec: GroupSpec,
    pub process_ms: f64,
    pub paused: bool,
    pub idempotent: bool,
    pub fixed: bool,
    pub members: Vec<Member>,
    /// Downstream effects applied (one per processed record; for idempotent members one per identity).
    pub applied: u64,
    /// Effects applied a second time for the same record (a non-idempotent consumer's damage).
    pub duplicates: u64,
    /// Records the consumer bug dropped.
    pub dropped: u64,
    /// Poison failures.
    pub failures: u64,
    /// Records received but uncommitted by members at the moment they crashed.
    pub lost_in_crashes: u64,
    /// Crashes waiting for a member to be mid-batch.
    pub crash_armed: u32,
    pub(super) seen: HashSet<(String, u32, u64)>,
    /// (partition, offset) of every record the bug dropped, in the order they were dropped.
    pub dropped_ids: Vec<(u32, u64)>,
}

impl SimGroup {
    /// The dropped records as runs of consecutive offsets: (partition, first, last).
    pub fn dropped_runs(&self) -> Vec<(u32, u64, u64)> {
        let mut ids = self.dropped_ids.clone();
        ids.sort_unstable();
        ids.dedup();
        let mut runs: Vec<(u32, u64, u64)> = Vec::new();
        for (p, o) in ids {
            match runs.last_mut() {
                Some((rp, _, last)) if *rp == p && *last + 1 == o => *last = o,
                _ => runs.push((p, o, o)),
            }
        }
        runs
    }
}

/// A running scenario.
pub struct Sim {
    pub engine: Engine,
    pub scenario: Scenario,
    rng: u64,
    seed: u64,
    pub t_ms: u64,
    pub producers: Vec<Producer>,
    pub groups: Vec<SimGroup>,
    next_event: usize,
    pub log: VecDeque<String>,
    pub step_mode: bool,
    /// The narration is shown in the side panel (a knob hides it to make room).
    pub narration_shown: bool,
    /// Where the poison record landed, once sent.
    pub poison: Option<Landed>,
    /// The engine's clock when the simulation drives it (see [`Sim::open`]).
    clock: Option<Arc<ManualClock>>,
}

pub(super) fn engine_err(e: EngineError) -> String {
    e.to_string()
}

impl Sim {
    /// Opens the engine in `dir` on the simulation's clock and starts the scenario on it. The
    /// clock starts the scenario's warm-up before the wall clock, so that after the runner's
    /// warm-up steps simulated and wall time about agree.
    pub fn open(dir: &Path, scenario: Scenario, seed: u64) -> Result<Sim, String> {
        let warmup_ms = (scenario.warmup_s * 1000.0) as i64;
        Sim::open_at(dir, scenario, seed, crate::core::time::now_ms().saturating_sub(warmup_ms))
    }

    /// [`Sim::open`] with the engine's clock starting at `start_ms` (ms since the epoch), so a
    /// run is the same to the millisecond whenever it happens (the README's screenshots).
    pub fn open_at(dir: &Path, scenario: Scenario, seed: u64, start_ms: i64) -> Result<Sim, String> {
        let clock = Arc::new(ManualClock::new(start_ms));
        let config = EngineConfig { sync: SyncMode::Never, clock: clock.clone(), ..EngineConfig::default() };
        let engine = Engine::open(dir, config).map_err(engine_err)?;
        let mut sim = Sim::new(engine, scenario, seed)?;
        sim.clock = Some(clock);
        Ok(sim)
    }

    /// Creates the scenario's topics and groups on `engine` and starts at t = 0. The engine keeps
    /// its own clock; [`Sim::open`] gives it the simulation's.
    pub fn new(engine: Engine, scenario: Scenario, seed: u64) -> Result<Sim, String> {
        let mut sim = Sim {
            engine,
            scenario,
            rng: seed | 1,
            seed,
            t_ms: 0,
            producers: Vec::new(),
            groups: Vec::new(),
            next_event: 0,
            log: VecDeque::new(),
            step_mode: false,
            narration_shown: true,
            poison: None,
            clock: None,
        };
        sim.setup()?;
        Ok(sim)
    }

    fn setup(&mut self) -> Result<(), String> {
        for t in &self.scenario.topics {
            if self.engine.describe_topic(&t.name).is_err() {
                self.engine.create_topic(&t.name, TopicConfig::with_partitions(t.partitions)).map_err(engine_err)?;
            }
        }
        self.producers = self
            .scenario
            .producers
            .iter()
            .map(|p| Producer { spec: p.clone(), rate: p.rate, paused: false, acc: 0.0, sent: 0 })
            .collect();
        self.groups = self
            .scenario
            .groups
            .iter()
            .map(|g| SimGroup {
                spec: g.clone(),
                process_ms: g.process_ms,
                paused: false,
                idempotent: g.idempotent,
                fixed: false,
                members: Vec::new(),
                applied: 0,
                duplicates: 0,
                dropped: 0,
                failures: 0,
                lost_in_crashes: 0,
                crash_armed: 0,
                seen: HashSet::new(),
                dropped_ids: Vec::new(),
            })
            .collect();
        for gi in 0..self.groups.len() {
            for _ in 0..self.groups[gi].spec.members {
                self.join(gi)?;
            }
        }
        self.say(format!("scenario {} started", self.scenario.name));
        Ok(())
    }

    fn rand(&mut self) -> u64 {
        // xorshift64*: deterministic for a seed.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(super) fn say(&mut self, text: String) {
        let line = format!("{:>5.1}s  {text}", self.t_ms as f64 / 1000.0);
        self.log.push_back(line);
        while self.log.len() > 50 {
            self.log.pop_front();
        }
    }

    pub(super) fn group_index(&self, name: Option<&str>) -> Vec<usize> {
        match name {
            Some(n) => self.groups.iter().position(|g| g.spec.name == n).into_iter().collect(),
            None => (0..self.groups.len()).collect(),
        }
    }

    /// Deletes everything the scenario made and starts it again.
    pub fn restart(&mut self) -> Result<(), String> {
        for g in &self.groups {
            for m in &g.members {
                let _ = self.engine.leave_group(&g.spec.name, &m.id);
            }
            let _ = self.engine.delete_group(&g.spec.name);
        }
        for t in &self.scenario.topics {
            let _ = self.engine.delete_topic(&t.name);
        }
        self.rng = self.seed | 1;
        self.t_ms = 0;
        self.next_event = 0;
        self.log.clear();
        self.poison = None;
        self.setup()
    }

    fn produce(&mut self, pi: usize, dt: f64) -> Result<(), String> {
        let p = &mut self.producers[pi];
        if p.paused {
            return Ok(());
        }
        p.acc += p.rate * dt / 1000.0;
        let mut n = p.acc.floor() as u64;
        p.acc -= n as f64;
        if let Some(limit) = p.spec.limit {
            n = n.min(limit.saturating_sub(p.sent));
        }
        if n == 0 {
            return Ok(());
        }
        let mut recs = Vec::with_capacity(n as usize);
        let mut poison_index = None;
        for i in 0..n as usize {
            let seq = self.producers[pi].sent;
            let spec = &self.producers[pi].spec;
            let (keys, poison_at, name) = (spec.keys, spec.poison_at, spec.name.clone());
            let key = keys.map(|k| format!("customer-{}", self.rand() % u64::from(k.max(1))));
            let poison = poison_at == Some(seq);
            let value = if poison {
                format!(r#"{{"seq":{seq},"from":"{name}","payload":"POISON: no consumer can process this"}}"#)
            } else {
                format!(r#"{{"seq":{seq},"from":"{name}","amount":{}}}"#, self.rand() % 1000)
            };
            let mut r = NewRecord { key: key.map(Into::into), ..NewRecord::value(value) }
                .with_header(PRODUCED_AT, self.t_ms.to_string());
            if poison {
                r = r.with_header(POISON, "1");
                poison_index = Some(i);
            }
            recs.push(r);
            self.producers[pi].sent += 1;
        }
        let topic = self.producers[pi].spec.topic.clone();
        let landed = self.engine.publish(&topic, recs).map_err(engine_err)?;
        if let Some(&(partition, offset)) = poison_index.and_then(|i| landed.get(i)) {
            let name = self.producers[pi].spec.name.clone();
            self.say(format!("{name} sent the poison record: {topic}/{partition} offset {offset}"));
            self.poison = Some((topic, partition, offset));
        }
        Ok(())
    }

    fn run_events(&mut self) -> Result<(), String> {
        while let Some(e) = self.scenario.events.get(self.next_event).cloned() {
            if (e.at_s * 1000.0) as u64 > self.t_ms {
                break;
            }
            self.next_event += 1;
            let gi = |s: &Sim, g: &str| s.groups.iter().position(|x| x.spec.name == g);
            match e.action {
                EventAction::Crash { group } => {
                    if let Some(i) = gi(self, &group) {
                        self.crash(i)?;
                    }
                }
                EventAction::Leave { group } => {
                    if let Some(i) = gi(self, &group) {
                        self.leave(i)?;
                    }
                }
                EventAction::Join { group } => {
                    if let Some(i) = gi(self, &group) {
                        self.join(i)?;
                        self.say(format!("a member joined {group}"));
                    }
                }
                EventAction::Rate { producer, rate } => {
                    if let Some(p) = self.producers.iter_mut().find(|p| p.spec.name == producer) {
                        p.rate = rate;
                    }
                    self.say(format!("producer {producer} now sends {rate}/s"));
                }
                EventAction::Speed { group, process_ms } => {
                    if let Some(i) = gi(self, &group) {
                        self.groups[i].process_ms = process_ms;
                    }
                    self.say(format!("group {group} now needs {process_ms} ms per record"));
                }
                EventAction::Fix { group } => {
                    self.say(format!("group {group}: the bug is fixed"));
                    if let Some(i) = gi(self, &group) {
                        self.groups[i].fixed = true;
                        let topic = self.groups[i].spec.topic.clone();
                        for (p, from, to) in self.groups[i].dropped_runs() {
                            let n = to - from + 1;
                            let end = to + 1;
                            self.say(format!(
                                "{group} dropped {topic}/{p} offsets {from}..={to} ({n}): replay {from} to {end}"
                            ));
                        }
                    }
                }
                EventAction::Say { text } => self.say(text),
            }
        }
        Ok(())
    }

    /// Advances the simulated clock by one tick.
    pub fn step(&mut self) -> Result<(), String> {
        let dt = self.scenario.tick_ms as f64;
        self.t_ms += self.scenario.tick_ms;
        if let Some(clock) = &self.clock {
            clock.advance(Duration::from_millis(self.scenario.tick_ms));
        }
        self.run_events()?;
        for pi in 0..self.producers.len() {
            self.produce(pi, dt)?;
        }
        for gi in 0..self.groups.len() {
            // Crashed members are evicted once their session timeout passes (in simulated time).
            let timeout = self.groups[gi].spec.session_timeout_ms;
            let now = self.t_ms;
            let expired: Vec<String> = self.groups[gi]
                .members
                .iter()
                .filter(|m| m.crashed_at.is_some_and(|t| now - t >= timeout))
                .map(|m| m.id.clone())
                .collect();
            for id in expired {
                let name = self.groups[gi].spec.name.clone();
                let _ = self.engine.leave_group(&name, &id);
                self.groups[gi].members.retain(|m| m.id != id);
                self.say(format!("{id} missed its session timeout: evicted, {name} rebalances"));
            }
            let mut mi = 0;
            while mi < self.groups[gi].members.len() {
                if self.groups[gi].members[mi].crashed_at.is_none() {
                    self.member_step(gi, mi, dt)?;
                }
                mi += 1;
            }
        }
        Ok(())
    }
}
