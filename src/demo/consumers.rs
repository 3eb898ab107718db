//! The simulated consumers: members of the scenario's groups that join, heartbeat, poll, process
//! (a poison record fails, a buggy window is dropped, an idempotent member dedupes), commit,
//! crash mid-batch and leave, all through the engine's group protocol.

use super::sim::{POISON, PRODUCED_AT, Sim, engine_err};
use crate::engine::{EngineError, JoinRequest};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::sim::Member;

impl Sim {
    pub(super) fn join(&mut self, gi: usize) -> Result<(), String> {
        let spec = self.groups[gi].spec.clone();
        let n = self.groups[gi].members.len();
        let mut req = JoinRequest::new(&format!("{}-{n}", spec.name), &[spec.topic.as_str()]);
        // The simulation evicts crashed members itself when their simulated session timeout
        // passes (and narrates it); the engine's own timeout is long so that it never does so
        // first, whichever clock the engine runs on.
        req.session_timeout = Duration::from_secs(3600);
        let m = self.engine.join_group(&spec.name, req).map_err(engine_err)?;
        self.groups[gi].members.push(Member {
            id: m.member_id,
            generation: m.generation,
            inflight: VecDeque::new(),
            done: BTreeMap::new(),
            done_records: 0,
            budget: 0.0,
            crashed_at: None,
            processed: 0,
        });
        Ok(())
    }

    fn live(&self, gi: usize) -> Option<usize> {
        self.groups[gi].members.iter().position(|m| m.crashed_at.is_none())
    }

    /// Arms a crash: the next member of the group caught mid-batch (records processed, not yet
    /// committed) dies on the spot.
    pub(super) fn crash(&mut self, gi: usize) -> Result<(), String> {
        self.groups[gi].crash_armed += 1;
        let msg = format!("a member of {} will crash mid-batch", self.groups[gi].spec.name);
        self.say(msg);
        Ok(())
    }

    fn crash_now(&mut self, gi: usize, mi: usize) {
        let g = &mut self.groups[gi];
        g.crash_armed = g.crash_armed.saturating_sub(1);
        let m = &mut g.members[mi];
        let lost = m.uncommitted();
        m.crashed_at = Some(self.t_ms);
        g.lost_in_crashes += lost;
        let msg = format!("{} crashed: {lost} record(s) uncommitted, {} of them applied", m.id, m.done_records);
        self.say(msg);
    }

    pub(super) fn leave(&mut self, gi: usize) -> Result<(), String> {
        let Some(mi) = self.live(gi) else { return Ok(()) };
        // Finish and commit the batch in hand, then leave.
        while !self.groups[gi].members[mi].inflight.is_empty() {
            if !self.process_one(gi, mi) {
                break;
            }
        }
        self.commit(gi, mi)?;
        let m = self.groups[gi].members.remove(mi);
        let name = self.groups[gi].spec.name.clone();
        self.engine.leave_group(&name, &m.id).map_err(engine_err)?;
        self.say(format!("member {} left {name} cleanly", m.id));
        Ok(())
    }

    fn poll(&mut self, gi: usize, mi: usize) -> Result<(), String> {
        let (name, batch) = (self.groups[gi].spec.name.clone(), self.groups[gi].spec.batch);
        let m = &mut self.groups[gi].members[mi];
        match self.engine.poll(&name, &m.id, m.generation, batch, 1 << 20) {
            Ok(recs) => m.inflight.extend(recs),
            Err(EngineError::IllegalGeneration { current, .. }) => {
                m.generation = current;
                m.inflight.clear();
                m.done.clear();
                m.done_records = 0;
            }
            Err(e) => return Err(engine_err(e)),
        }
        Ok(())
    }

    /// Processes the next record in hand; false when it is poison (the member failed on it).
    fn process_one(&mut self, gi: usize, mi: usize) -> bool {
        let g = &mut self.groups[gi];
        let Some(d) = g.members[mi].inflight.front() else { return true };
        let header = |name: &str| {
            d.record
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| String::from_utf8_lossy(v.as_deref().unwrap_or_default()).to_string())
        };
        if header(POISON).is_some() {
            g.failures += 1;
            return false;
        }
        let produced_at: u64 = header(PRODUCED_AT).and_then(|v| v.parse().ok()).unwrap_or(0);
        let identity = match (header(crate::core::replay::ORIGIN_PARTITION), header(crate::core::replay::ORIGIN_OFFSET))
        {
            (Some(p), Some(o)) => (d.topic.clone(), p.parse().unwrap_or(0), o.parse().unwrap_or(0)),
            _ => (d.topic.clone(), d.partition, d.record.offset),
        };
        let in_bug = g
            .spec
            .drop_between
            .is_some_and(|[a, b]| !g.fixed && (produced_at as f64) >= a * 1000.0 && (produced_at as f64) < b * 1000.0);
        if in_bug {
            g.dropped += 1;
            g.dropped_ids.push((d.partition, d.record.offset));
        } else if g.seen.contains(&identity) {
            if !g.idempotent {
                g.applied += 1;
                g.duplicates += 1;
            }
        } else {
            g.applied += 1;
            g.seen.insert(identity);
        }
        let (topic, partition, next) = (d.topic.clone(), d.partition, d.record.offset + 1);
        let m = &mut g.members[mi];
        m.inflight.pop_front();
        m.done.insert((topic, partition), next);
        m.done_records += 1;
        m.processed += 1;
        true
    }

    fn commit(&mut self, gi: usize, mi: usize) -> Result<(), String> {
        let name = self.groups[gi].spec.name.clone();
        let m = &mut self.groups[gi].members[mi];
        if m.done.is_empty() {
            return Ok(());
        }
        let offsets: Vec<(String, u32, u64)> = m.done.iter().map(|((t, p), o)| (t.clone(), *p, *o)).collect();
        match self.engine.commit(&name, &m.id, m.generation, &offsets) {
            Ok(()) => {}
            // A rebalance or a reset overtook this batch: the commit is refused, the records will be
            // handed out again (which is exactly at-least-once).
            Err(EngineError::IllegalGeneration { .. } | EngineError::Refused(_)) => {}
            Err(e) => return Err(engine_err(e)),
        }
        m.done.clear();
        m.done_records = 0;
        Ok(())
    }

    pub(super) fn member_step(&mut self, gi: usize, mi: usize, dt: f64) -> Result<(), String> {
        let name = self.groups[gi].spec.name.clone();
        let id = self.groups[gi].members[mi].id.clone();
        match self.engine.heartbeat(&name, &id) {
            Ok(ms) => {
                let m = &mut self.groups[gi].members[mi];
                if ms.generation != m.generation {
                    // Rebalanced: what is in hand is no longer ours to commit.
                    m.generation = ms.generation;
                    m.inflight.clear();
                    m.done.clear();
                    m.done_records = 0;
                }
            }
            Err(EngineError::NotFound { .. }) => {
                // Evicted by the engine: rejoin as a new member.
                self.groups[gi].members.remove(mi);
                return self.join(gi);
            }
            Err(e) => return Err(engine_err(e)),
        }
        if self.groups[gi].paused {
            return Ok(());
        }
        let g = &mut self.groups[gi];
        // Idle time does not bank processing capacity beyond a couple of steps' worth.
        let cap = (dt / g.process_ms).max(1.0) * 2.0;
        let m = &mut g.members[mi];
        m.budget = (m.budget + dt / g.process_ms).min(cap);
        while self.groups[gi].members[mi].budget >= 1.0 {
            if self.groups[gi].members[mi].inflight.is_empty() {
                self.commit(gi, mi)?;
                self.poll(gi, mi)?;
                if self.groups[gi].members[mi].inflight.is_empty() {
                    break;
                }
            }
            if !self.process_one(gi, mi) {
                // Poison: keep what was done, go back to the committed offset and try again later.
                self.commit(gi, mi)?;
                let m = &mut self.groups[gi].members[mi];
                m.inflight.clear();
                m.budget = 0.0;
                let (generation, id) = (m.generation, m.id.clone());
                match self.engine.seek_to_committed(&name, &id, generation) {
                    Ok(()) | Err(EngineError::IllegalGeneration { .. }) => {}
                    Err(e) => return Err(engine_err(e)),
                }
                break;
            }
            self.groups[gi].members[mi].budget -= 1.0;
            let m = &self.groups[gi].members[mi];
            if self.groups[gi].crash_armed > 0 && m.done_records > 0 && !m.inflight.is_empty() {
                self.crash_now(gi, mi);
                return Ok(());
            }
        }
        if self.groups[gi].members[mi].inflight.is_empty() {
            self.commit(gi, mi)?;
        }
        Ok(())
    }
}
