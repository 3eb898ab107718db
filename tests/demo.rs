//! Every workshop scenario, headless: a fixed seed, the simulated clock, a bounded number of
//! steps, and the teaching outcome asserted against the real engine.

use depot::console::health::{self, Sample, Verdict};
use depot::core::{GroupInfo, ReplayRange, ResetSpec};
use depot::demo::knobs::Knob;
use depot::demo::scenario;
use depot::demo::sim::Sim;
use std::collections::{HashMap, VecDeque};

/// A scenario on an engine that runs on the simulation's clock.
fn start(name: &str) -> (tempfile::TempDir, Sim) {
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario::load(name).unwrap();
    let sim = Sim::open(dir.path(), sc, 42).unwrap();
    (dir, sim)
}

fn steps(sim: &mut Sim, n: usize) {
    for _ in 0..n {
        sim.step().unwrap();
    }
}

fn group(sim: &Sim, name: &str) -> GroupInfo {
    sim.engine.describe_group(name).unwrap()
}

/// Steps until the group has consumed everything (producers paused first), within a bound.
fn drain(sim: &mut Sim, name: &str, max_steps: usize) {
    for _ in 0..max_steps {
        if group(sim, name).total_lag() == 0
            && sim.groups.iter().all(|g| g.members.iter().all(|m| m.uncommitted() == 0))
        {
            return;
        }
        sim.step().unwrap();
    }
    panic!("group {name} did not drain in {max_steps} steps: lag {}", group(sim, name).total_lag());
}

/// Burrow windows sampled every `every` steps, as the console does on refresh.
struct Watch {
    windows: HashMap<(String, u32), VecDeque<Sample>>,
}

impl Watch {
    fn new() -> Watch {
        Watch { windows: HashMap::new() }
    }
    fn sample(&mut self, g: &GroupInfo) {
        for p in &g.partitions {
            let w = self.windows.entry((p.topic.clone(), p.partition)).or_default();
            let at_ms = w.back().map(|s| s.at_ms + 1_000).unwrap_or(0);
            health::push(w, Sample::new(at_ms, p.committed, p.lag, g.members.len()));
        }
    }
    fn verdicts(&self) -> Vec<Verdict> {
        self.windows.values().map(|w| health::judge(w, false).verdict).collect()
    }
}

#[test]
fn lag_grows_turns_warn_then_drains_when_consumers_speed_up() {
    let (_d, mut sim) = start("lag");
    let mut watch = Watch::new();
    let mut lags = Vec::new();
    for _ in 0..10 {
        steps(&mut sim, 10);
        let g = group(&sim, "billing");
        watch.sample(&g);
        lags.push(g.total_lag());
    }
    assert!(lags.windows(2).all(|w| w[1] >= w[0]), "lag never shrinks while the producer is faster: {lags:?}");
    assert!(lags[9] > lags[2] + 100, "lag grows: {lags:?}");
    let (status, _) = health::group_verdict(&watch.verdicts());
    assert_eq!(status, Verdict::Warn, "Burrow says WARN when lag keeps growing while the group consumes");
    // Two key presses: faster consumers (20/s → 80/s against 40/s produced).
    sim.command(Knob::Faster(None)).unwrap();
    sim.command(Knob::Faster(None)).unwrap();
    let peak = group(&sim, "billing").total_lag();
    steps(&mut sim, 300);
    let later = group(&sim, "billing").total_lag();
    assert!(later < peak, "the lag drains once consumers are faster: {peak} → {later}");
    sim.command(Knob::PauseProducers).unwrap();
    drain(&mut sim, "billing", 2000);
    assert_eq!(sim.groups[0].applied, sim.producers[0].sent, "everything sent was applied once");
}

#[test]
fn queue_within_a_group_pubsub_between_groups() {
    let (_d, mut sim) = start("queue-vs-pubsub");
    steps(&mut sim, 100);
    sim.command(Knob::PauseProducers).unwrap();
    drain(&mut sim, "billing", 1000);
    drain(&mut sim, "audit", 1000);
    let sent = sim.producers[0].sent;
    assert!(sent >= 190, "sent {sent}");
    let billing = &sim.groups[0];
    let audit = &sim.groups[1];
    assert_eq!(billing.applied, sent, "every group gets every message");
    assert_eq!(audit.applied, sent, "every group gets every message");
    let per_member: Vec<u64> = billing.members.iter().map(|m| m.processed).collect();
    assert_eq!(per_member.iter().sum::<u64>(), sent, "within a group each message goes to one member: {per_member:?}");
    assert!(per_member.iter().all(|&n| n > 0), "all three members got a share: {per_member:?}");
    assert_eq!(billing.duplicates + audit.duplicates, 0);
}

#[test]
fn crash_before_commit_redelivers_exactly_the_uncommitted_records() {
    let (_d, mut sim) = start("crash-before-commit");
    steps(&mut sim, 60); // the crash is armed at 6 s and hits the next member caught mid-batch
    for _ in 0..30 {
        if sim.groups[0].lost_in_crashes > 0 {
            break;
        }
        sim.step().unwrap();
    }
    let lost = sim.groups[0].lost_in_crashes;
    assert!(lost > 0, "the member died holding uncommitted records");
    steps(&mut sim, 40); // eviction after the 2 s session timeout, then the next owner catches up
    sim.command(Knob::PauseProducers).unwrap();
    drain(&mut sim, "billing", 1000);
    let g = group(&sim, "billing");
    assert_eq!(g.redeliveries(), lost, "redeliveries equal the records received but uncommitted at the crash");
    assert!(sim.groups[0].duplicates > 0, "a non-idempotent consumer applied some records twice");
    assert_eq!(sim.groups[0].applied, sim.producers[0].sent + sim.groups[0].duplicates);

    // Same story with idempotent members: redelivered all the same, but no duplicate effects.
    let (_d2, mut sim) = start("crash-before-commit");
    sim.command(Knob::Idempotent(None)).unwrap();
    steps(&mut sim, 100);
    sim.command(Knob::PauseProducers).unwrap();
    drain(&mut sim, "billing", 1000);
    assert!(group(&sim, "billing").redeliveries() > 0);
    assert_eq!(sim.groups[0].duplicates, 0);
    assert_eq!(sim.groups[0].applied, sim.producers[0].sent);
}

#[test]
fn rebalance_moves_partitions_and_raises_the_generation() {
    let (_d, mut sim) = start("rebalance");
    let mut generations = Vec::new();
    let mut owners_seen = std::collections::BTreeSet::new();
    for _ in 0..160 {
        sim.step().unwrap();
        let g = group(&sim, "processors");
        // Within a generation every partition has at most one owner.
        let mut owned: Vec<(String, u32)> = g.members.iter().flat_map(|m| m.assignment.clone()).collect();
        let n = owned.len();
        owned.sort();
        owned.dedup();
        assert_eq!(n, owned.len(), "a partition owned twice in generation {}", g.generation);
        if generations.last() != Some(&g.generation) {
            generations.push(g.generation);
        }
        owners_seen.insert(g.partitions[0].owner.clone());
    }
    // join at 3 s and 6 s, leave at 9 s, crash at 12 s (evicted at 15 s).
    assert!(generations.len() >= 5, "generations: {generations:?}");
    assert!(generations.windows(2).all(|w| w[1] > w[0]));
    assert!(owners_seen.len() >= 2, "partition 0 changed owners: {owners_seen:?}");
}

#[test]
fn poison_stalls_a_partition_until_it_is_skipped() {
    let (_d, mut sim) = start("poison");
    let mut watch = Watch::new();
    for _ in 0..20 {
        steps(&mut sim, 10);
        watch.sample(&group(&sim, "workers"));
    }
    let g = group(&sim, "workers");
    let stalled: Vec<_> = g
        .partitions
        .iter()
        .filter(|p| health::judge(&watch.windows[&(p.topic.clone(), p.partition)], false).verdict == Verdict::Stall)
        .map(|p| p.partition)
        .collect();
    assert_eq!(stalled.len(), 1, "exactly the poisoned partition stalls: {:?}", g.partitions);
    let p = stalled[0];
    assert!(sim.groups[0].failures > 1, "members keep failing on it");
    let before = g.partitions[p as usize].committed;
    // The operator skips the record: shift-by 1 on that partition, forced (members are live).
    let plan = sim.engine.plan_reset("workers", "jobs", Some(&[p]), ResetSpec::ShiftBy(1)).unwrap();
    assert_eq!(plan.rows[0].after, before.unwrap() + 1);
    assert!(sim.engine.execute_reset(&plan, false).is_err(), "refused while members are live");
    sim.engine.execute_reset(&plan, true).unwrap();
    sim.command(Knob::PauseProducers).unwrap();
    drain(&mut sim, "workers", 1000);
    let after = group(&sim, "workers");
    assert!(after.partitions[p as usize].committed > before.map(|b| b + 1), "the partition moves again");
    assert_eq!(sim.groups[0].applied, sim.producers[0].sent - 1, "everything but the skipped record was applied");
}

#[test]
fn replaying_the_dropped_window_makes_the_downstream_count_right() {
    let (_d, mut sim) = start("replay");
    steps(&mut sim, 100);
    sim.command(Knob::PauseProducers).unwrap();
    drain(&mut sim, "ledger", 1000);
    let g = &sim.groups[0];
    let dropped = g.dropped;
    assert!(dropped >= 40, "the bug dropped the records of 3..8 s: {dropped}");
    assert_eq!(g.applied + dropped, sim.producers[0].sent);
    let from = g.dropped_ids.iter().map(|x| x.1).min().unwrap();
    let to = g.dropped_ids.iter().map(|x| x.1).max().unwrap() + 1;
    let plan = sim.engine.plan_replay("transfers", None, ReplayRange::Offsets { from, to }, None).unwrap();
    assert_eq!(plan.total, dropped, "the plan counts exactly the dropped window");
    sim.engine.execute_replay(&plan).unwrap();
    drain(&mut sim, "ledger", 1000);
    assert_eq!(sim.groups[0].applied, sim.producers[0].sent, "after the replay the downstream count is right");
    assert_eq!(sim.groups[0].duplicates, 0);
}

#[test]
fn step_mode_and_restart() {
    let (_d, mut sim) = start("lag");
    steps(&mut sim, 20);
    assert!(sim.producers[0].sent > 0);
    sim.command(Knob::StepMode).unwrap();
    assert!(sim.status().step_mode);
    let t = sim.t_ms;
    sim.command(Knob::Step).unwrap();
    assert_eq!(sim.t_ms, t + sim.scenario.tick_ms);
    sim.command(Knob::Restart).unwrap();
    assert_eq!((sim.t_ms, sim.producers[0].sent), (0, 0));
    assert_eq!(sim.engine.describe_topic("orders").unwrap().backlog(), 0, "restart starts from an empty topic");
    assert_eq!(group(&sim, "billing").members.len(), 2);
}

#[test]
fn the_engine_runs_on_the_simulated_clock() {
    let (_d, mut sim) = start("lag");
    steps(&mut sim, 30);
    // Record timestamps are simulated time: each is the same offset from its produced-at header.
    let recs = sim.engine.fetch("orders", 0, 0, 100, 1 << 20).unwrap();
    assert!(recs.len() > 5);
    let produced_at = |r: &depot::engine::Record| -> i64 {
        let (_, v) = r.headers.iter().find(|(k, _)| k == depot::demo::sim::PRODUCED_AT).unwrap();
        std::str::from_utf8(v.as_deref().unwrap()).unwrap().parse().unwrap()
    };
    let base = recs[0].timestamp - produced_at(&recs[0]);
    assert!(recs.iter().all(|r| r.timestamp - produced_at(r) == base));
    assert!(recs.last().unwrap().timestamp > recs[0].timestamp);
    // With the group paused nothing is committed, so its lag in time grows by exactly the
    // simulated time that passes, however long (or short) the steps take for real.
    sim.command(Knob::PauseGroup(None)).unwrap();
    steps(&mut sim, 1);
    let before = group(&sim, "billing");
    assert!(before.partitions.iter().any(|p| p.lag_ms > 0));
    steps(&mut sim, 10);
    let after = group(&sim, "billing");
    for (b, a) in before.partitions.iter().zip(&after.partitions) {
        assert_eq!(a.committed, b.committed);
        if b.lag > 0 {
            assert_eq!(a.lag_ms, b.lag_ms + 10 * sim.scenario.tick_ms, "partition {}", a.partition);
        }
    }
    // Members heartbeat every step: last heard from just now, in simulated time.
    assert!(after.members.iter().all(|m| m.last_seen_ms == 0), "{:?}", after.members);
}
