//! Consuming as a group member: polls that continue where the group's last delivery stopped
//! (counting redeliveries), the long-poll variant, commits (only forward; backwards takes a reset),
//! committing what was delivered, seeking back to the committed offset, and commits by an operator
//! for a group without live members.

use super::assignor::Tp;
use super::engine::Engine;
use super::error::{EngineError, Result};
use super::log::PartitionLog;
use super::membership::Group;
use super::record::Record;
use crate::core::message::fair_shares;
use crate::core::names::validate_name;
use std::sync::Arc;
use std::time::Duration;

/// A record handed to a group member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub topic: String,
    pub partition: u32,
    pub record: Record,
}

impl Engine {
    /// Hands the member up to `max_records` records from its assigned partitions, continuing where
    /// the group's previous delivery stopped (after a rebalance: from the committed offset).
    ///
    /// The records are shared fairly over the partitions that have some, as a Kafka fetch spreads
    /// over its partitions ([`fair_shares`]): a poll of 5 over three partitions of 10 takes 2, 2
    /// and 1, and what one partition cannot give (it has fewer, or its byte budget ran out) goes
    /// to the others. So a deep backlog on one partition never starves the rest, not even for
    /// one-shot members that join, poll once and leave.
    pub fn poll(
        &self,
        group: &str,
        member_id: &str,
        generation: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<Vec<Delivery>> {
        self.check_open()?;
        let plan: Vec<(Tp, Arc<PartitionLog>, u64)> = {
            let mut gs = self.inner.groups.lock();
            let g = gs.group_mut(group)?;
            let assignment = g.check(member_id, generation, self.clock().mono_ms())?.assignment.clone();
            let mut plan = Vec::new();
            for tp in assignment {
                if let Ok(log) = self.log(&tp.0, tp.1) {
                    let pos = g.position(&tp, log.log_start());
                    plan.push((tp, log, pos));
                }
            }
            plan
        };
        let mut pos: Vec<u64> = plan.iter().map(|(_, log, p)| (*p).min(log.end_offset())).collect();
        // A partition that gave fewer than it was asked for has nothing more to give this poll.
        let mut open = vec![true; plan.len()];
        let mut got: Vec<(usize, Record)> = Vec::new();
        let mut spans = Vec::new();
        while got.len() < max_records {
            let there: Vec<(u64, u64)> = plan
                .iter()
                .enumerate()
                .map(|(i, (_, log, _))| (pos[i], if open[i] { log.end_offset().saturating_sub(pos[i]) } else { 0 }))
                .collect();
            let shares = fair_shares(max_records - got.len(), &there);
            if shares.iter().all(|&n| n == 0) {
                break;
            }
            for (i, want) in shares.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                let (tp, log, _) = &plan[i];
                let recs = match log.read(pos[i], want, max_bytes) {
                    // Retention moved the log start past the position meanwhile: continue from there.
                    Err(EngineError::OffsetOutOfRange { requested, start, .. }) if requested < start => {
                        log.read(start, want, max_bytes)?
                    }
                    r => r?,
                };
                if recs.len() < want {
                    open[i] = false;
                }
                if let (Some(first), Some(last)) = (recs.first(), recs.last()) {
                    spans.push((tp.clone(), first.offset, last.offset + 1));
                    pos[i] = last.offset + 1;
                    log.rate_out.add(recs.len() as u64);
                }
                got.extend(recs.into_iter().take(want).map(|r| (i, r)));
            }
        }
        // In the assignment's order, each partition's records in offset order.
        got.sort_by_key(|(i, r)| (*i, r.offset));
        let out = got
            .into_iter()
            .map(|(i, record)| Delivery { topic: plan[i].0.0.clone(), partition: plan[i].0.1, record })
            .collect();
        let mut gs = self.inner.groups.lock();
        let g = gs.group_mut(group)?;
        g.check(member_id, generation, self.clock().mono_ms())?;
        for (tp, from, to) in spans {
            g.delivered(&tp, from, to);
        }
        Ok(out)
    }

    /// Like [`poll`](Self::poll), but waits up to `timeout` (real time) for records when there
    /// are none.
    pub fn poll_wait(
        &self,
        group: &str,
        member_id: &str,
        generation: u64,
        max_records: usize,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<Vec<Delivery>> {
        super::read::long_poll(&self.inner.any_append, timeout, || {
            self.poll(group, member_id, generation, max_records, max_bytes)
        })
    }

    /// A listener that fires after the next append to any partition: how a caller on an async
    /// runtime waits for records without holding a thread (listen, then poll, then await it).
    pub fn listen_appends(&self) -> event_listener::EventListener {
        self.inner.any_append.listen()
    }

    /// A committed offset may be at most the partition's end (the next record to come).
    pub(super) fn check_commit_range(&self, offsets: &[(String, u32, u64)]) -> Result<()> {
        for (t, p, o) in offsets {
            let log = self.log(t, *p)?;
            let (start, end) = (log.log_start(), log.end_offset());
            if *o > end {
                return Err(EngineError::OffsetOutOfRange {
                    topic: t.clone(),
                    partition: *p,
                    requested: *o,
                    start,
                    end,
                });
            }
        }
        Ok(())
    }

    /// Commits offsets (the next offset to consume, as Kafka does) for partitions the member owns
    /// in this generation. Commits only move forward; moving back takes a reset.
    pub fn commit(&self, group: &str, member_id: &str, generation: u64, offsets: &[(String, u32, u64)]) -> Result<()> {
        self.check_open()?;
        self.check_commit_range(offsets)?;
        let now = self.clock().mono_ms();
        let mut gs = self.inner.groups.lock();
        let g = gs.group_mut(group)?;
        let m = g.check(member_id, generation, now)?.clone();
        for (t, p, o) in offsets {
            let tp = (t.clone(), *p);
            if !m.assignment.contains(&tp) {
                return Err(EngineError::Refused(format!(
                    "{t}/{p} is not assigned to member {member_id} in generation {generation}; only its owner may commit"
                )));
            }
            only_forward(g, t, *p, *o)?;
        }
        gs.commit(group, offsets, false)?;
        if let Err(e) = gs.compact_if_large() {
            // The commit is journaled; compaction only makes the journal smaller.
            tracing::warn!("could not compact the offsets journal: {e}");
        }
        Ok(())
    }

    /// Moves the member's delivery position on each of its partitions back to the committed
    /// offset, like a consumer seeking there after a failure: what was handed out but not
    /// committed is handed out again (and counted as redelivered).
    pub fn seek_to_committed(&self, group: &str, member_id: &str, generation: u64) -> Result<()> {
        let now = self.clock().mono_ms();
        let mut gs = self.inner.groups.lock();
        let g = gs.group_mut(group)?;
        let assignment = g.check(member_id, generation, now)?.assignment.clone();
        for tp in assignment {
            g.positions.remove(&tp);
        }
        Ok(())
    }

    /// Commits everything handed to the member so far on its partitions.
    pub fn commit_delivered(&self, group: &str, member_id: &str, generation: u64) -> Result<Vec<(String, u32, u64)>> {
        let offsets: Vec<(String, u32, u64)> = {
            let gs = self.inner.groups.lock();
            let g = gs.groups.get(group).ok_or_else(|| EngineError::not_found(format!("group {group:?}")))?;
            let m = g.member(member_id)?;
            m.assignment
                .iter()
                .filter_map(|tp| g.positions.get(tp).map(|&o| (tp.0.clone(), tp.1, o)))
                .filter(|(t, p, o)| g.committed.get(&(t.clone(), *p)).is_none_or(|c| o > c))
                .collect()
        };
        if !offsets.is_empty() {
            self.commit(group, member_id, generation, &offsets)?;
        }
        Ok(offsets)
    }

    /// Commits offsets for a group that has no live members (an operator or a one-off pull that
    /// already left). Like member commits, these only move forward.
    pub fn commit_offsets(&self, group: &str, offsets: &[(String, u32, u64)]) -> Result<()> {
        self.check_open()?;
        validate_name("group", group)?;
        self.check_commit_range(offsets)?;
        self.expire_members();
        let mut gs = self.inner.groups.lock();
        let g = gs.group_or_new(group);
        if !g.members.is_empty() {
            return Err(EngineError::Refused(format!(
                "group {group} has {} live member(s); only they may commit while they run",
                g.members.len()
            )));
        }
        for (t, p, o) in offsets {
            only_forward(g, t, *p, *o)?;
        }
        gs.commit(group, offsets, false)
    }
}

/// Refuses committing `o` on `t/p` when the group has committed more there.
pub(super) fn only_forward(g: &Group, t: &str, p: u32, o: u64) -> Result<()> {
    match g.committed.get(&(t.to_string(), p)) {
        Some(&c) if o < c => Err(EngineError::Refused(format!(
            "commit of {t}/{p} would move the group back from {c} to {o}; commits only move forward — use a reset to rewind"
        ))),
        _ => Ok(()),
    }
}
