//! Offset resets as kafka-consumer-groups does them: plan (a dry run with before/after per
//! partition; the targets are `core::reset`'s), execute (refused with live members unless forced,
//! refused if the offsets moved since the plan, journaled durably first), undo, and the history.
//! "Now" for by-duration resets and the time a reset is journaled at are the engine clock's.

use super::engine::Engine;
use super::error::{EngineError, Result};
use super::topic::Topic;
use crate::core::names::validate_name;
use crate::core::reset;
use crate::core::{ResetPlan, ResetRecord, ResetRow, ResetSpec};

impl Engine {
    /// Computes a reset (a dry run): before/after per partition, clamped to each partition's range.
    pub fn plan_reset(
        &self,
        group: &str,
        topic: &str,
        partitions: Option<&[u32]>,
        spec: ResetSpec,
    ) -> Result<ResetPlan> {
        validate_name("group", group)?;
        let t = self.topic(topic)?;
        let parts: Vec<u32> = match partitions {
            Some(ps) if !ps.is_empty() => {
                for &p in ps {
                    t.partition(p)?;
                }
                ps.to_vec()
            }
            _ => (0..t.partitions.len() as u32).collect(),
        };
        self.expire_members();
        let (committed, live) = {
            let gs = self.inner.groups.lock();
            match gs.groups.get(group) {
                Some(g) => (
                    parts.iter().map(|&p| g.committed.get(&(topic.to_string(), p)).copied()).collect::<Vec<_>>(),
                    g.members.keys().cloned().collect(),
                ),
                None => (vec![None; parts.len()], Vec::new()),
            }
        };
        let now = self.clock().now_ms();
        let mut rows = Vec::new();
        for (p, before) in parts.into_iter().zip(committed) {
            let log = t.partition(p)?.clone();
            let (start, end) = (log.log_start(), log.end_offset());
            let resolved = spec.time_to_resolve(now).map(|ts| log.offset_for_time(ts)).transpose()?;
            let (after, note) = reset::target(&spec, before, start, end, resolved)?;
            rows.push(ResetRow { partition: p, before, after, log_start: start, end_offset: end, note });
        }
        Ok(ResetPlan {
            group: group.to_string(),
            topic: topic.to_string(),
            spec,
            rows,
            live_members: live,
            undo_of: None,
        })
    }

    /// Applies a plan: refused while the group has live members unless `force`, and refused if the
    /// committed offsets changed since the plan was made. Journaled durably before it is applied.
    ///
    /// A plan comes back from outside (a client may have edited it), so it is re-validated against
    /// the state now, before anything changes: the group name, the topic, every partition (it
    /// exists, once), every target within `[log_start, end]`, every `before` equal to the committed
    /// offset; an undo's rows must be the undo of the journaled reset it names.
    pub fn execute_reset(&self, plan: &ResetPlan, force: bool) -> Result<ResetRecord> {
        self.check_open()?;
        validate_name("group", &plan.group)?;
        let t = self.topic(&plan.topic)?;
        check_rows(plan, &t)?;
        self.expire_members();
        let at_ms = self.clock().now_ms();
        let mut gs = self.inner.groups.lock();
        if let Some(id) = plan.undo_of {
            check_undo(plan, id, &gs.history, &t)?;
        }
        let (members, committed) = match gs.groups.get(&plan.group) {
            Some(g) => (g.members.keys().cloned().collect::<Vec<_>>(), Some(&g.committed)),
            None => (Vec::new(), None),
        };
        if !members.is_empty() && !force {
            return Err(EngineError::Refused(format!(
                "group {} has live members ({}); stop them first or force the reset",
                plan.group,
                members.join(", ")
            )));
        }
        for r in &plan.rows {
            let now = committed.and_then(|c| c.get(&(plan.topic.clone(), r.partition)).copied());
            if now != r.before {
                return Err(EngineError::Conflict(format!(
                    "the committed offset of {}/{} changed from {} to {} since the plan was made; plan again",
                    plan.topic,
                    r.partition,
                    fmt_opt(r.before),
                    fmt_opt(now)
                )));
            }
        }
        let forced = force && !members.is_empty();
        gs.group_or_new(&plan.group);
        let id = gs.history.last().map(|h| h.id + 1).unwrap_or(1);
        let record = ResetRecord {
            id,
            at_ms,
            group: plan.group.clone(),
            topic: plan.topic.clone(),
            spec: plan.spec.clone(),
            rows: plan.rows.iter().map(|r| (r.partition, r.before, r.after)).collect(),
            forced,
            undo_of: plan.undo_of,
        };
        gs.resets.append(&record, true)?;
        let offsets: Vec<(String, u32, u64)> =
            plan.rows.iter().map(|r| (plan.topic.clone(), r.partition, r.after)).collect();
        gs.commit(&plan.group, &offsets, true)?;
        // Live members (a forced reset) continue from the new offsets.
        let g = gs.group_or_new(&plan.group);
        for r in &plan.rows {
            g.positions.remove(&(plan.topic.clone(), r.partition));
        }
        // Kafka consumers keep their own positions: a new generation makes them rejoin and read
        // the committed offsets again (and refuses their commits of the old one).
        let kafka = forced && g.classic.is_some();
        if kafka {
            g.classic_force_rejoin(self.clock().mono_ms());
        }
        gs.history.push(record.clone());
        drop(gs);
        if kafka {
            self.inner.group_changed.notify(usize::MAX);
        }
        tracing::info!("reset #{id} of group {} on {} ({}) executed", plan.group, plan.topic, plan.spec);
        Ok(record)
    }

    /// Plans undoing the group's most recent reset that has not been undone yet.
    pub fn plan_undo(&self, group: &str) -> Result<ResetPlan> {
        validate_name("group", group)?;
        let last = {
            let gs = self.inner.groups.lock();
            let undone: Vec<u64> = gs.history.iter().filter_map(|h| h.undo_of).collect();
            gs.history
                .iter()
                .rev()
                .find(|h| h.group == group && h.undo_of.is_none() && !undone.contains(&h.id))
                .cloned()
                .ok_or_else(|| {
                    EngineError::not_found_hint(
                        format!("a reset of group {group:?} to undo"),
                        "nothing in the reset journal",
                    )
                })?
        };
        let t = self.topic(&last.topic)?;
        let mut plan = self.plan_reset(
            group,
            &last.topic,
            Some(&last.rows.iter().map(|r| r.0).collect::<Vec<_>>()),
            last.spec.clone(),
        )?;
        plan.undo_of = Some(last.id);
        for (row, (p, before, _after)) in plan.rows.iter_mut().zip(&last.rows) {
            let log = t.partition(*p)?;
            let (start, end) = (log.log_start(), log.end_offset());
            let target = before.unwrap_or(start);
            row.after = target.clamp(start, end);
            row.note = match before {
                None => Some(format!("had no committed offset before reset #{}; restored to the log start", last.id)),
                Some(b) if *b != row.after => Some(format!("{b} is no longer in the log; clamped to {}", row.after)),
                _ => None,
            };
        }
        Ok(plan)
    }

    /// Every executed reset (and undo) of a group, oldest first.
    pub fn reset_history(&self, group: &str) -> Vec<ResetRecord> {
        self.inner.groups.lock().history.iter().filter(|h| h.group == group).cloned().collect()
    }
}

/// Every row names a partition of the topic, once, and a target inside its log now.
fn check_rows(plan: &ResetPlan, t: &Topic) -> Result<()> {
    if plan.rows.is_empty() {
        return Err(EngineError::InvalidArgument("the plan has no rows; plan the reset again".into()));
    }
    let n = t.partitions.len();
    for (i, r) in plan.rows.iter().enumerate() {
        let row = i + 1;
        let Ok(log) = t.partition(r.partition) else {
            return Err(EngineError::InvalidArgument(format!(
                "row {row} of the plan: topic {} has no partition {} (it has {n}: 0..{}); plan the reset again",
                plan.topic,
                r.partition,
                n.saturating_sub(1)
            )));
        };
        if plan.rows[..i].iter().any(|o| o.partition == r.partition) {
            return Err(EngineError::InvalidArgument(format!(
                "row {row} of the plan: partition {} appears more than once; plan the reset again",
                r.partition
            )));
        }
        let (start, end) = (log.log_start(), log.end_offset());
        if !(start..=end).contains(&r.after) {
            return Err(EngineError::InvalidArgument(format!(
                "row {row} of the plan: offset {} is outside {}/{} now (valid: {start}..={end}); plan the reset again",
                r.after, plan.topic, r.partition
            )));
        }
    }
    Ok(())
}

/// An undo plan undoes exactly the journaled reset it names: one of this group and topic, not an
/// undo itself, not undone yet, the same partitions in the same order, each moved back to where
/// that reset found it (clamped to the log now, as planning an undo does).
fn check_undo(plan: &ResetPlan, id: u64, history: &[ResetRecord], t: &Topic) -> Result<()> {
    let bad = |why: String| EngineError::InvalidArgument(format!("the undo plan {why}; plan the undo again"));
    let Some(done) = history.iter().find(|h| h.id == id) else {
        return Err(bad(format!("names reset #{id}, which is not in the reset journal")));
    };
    if done.group != plan.group || done.topic != plan.topic {
        return Err(bad(format!("names reset #{id}, which was of group {} on {}", done.group, done.topic)));
    }
    if done.undo_of.is_some() {
        return Err(bad(format!("names reset #{id}, which is itself an undo")));
    }
    if let Some(u) = history.iter().find(|h| h.undo_of == Some(id)) {
        return Err(bad(format!("names reset #{id}, which reset #{} already undid", u.id)));
    }
    if plan.rows.len() != done.rows.len() {
        return Err(bad(format!("has {} rows but reset #{id} had {}", plan.rows.len(), done.rows.len())));
    }
    for (i, (row, (p, before, _))) in plan.rows.iter().zip(&done.rows).enumerate() {
        let log = t.partition(*p)?;
        let (start, end) = (log.log_start(), log.end_offset());
        let back = before.unwrap_or(start).clamp(start, end);
        if row.partition != *p || row.after != back {
            return Err(bad(format!(
                "row {}: moves {}/{} to {} but undoing reset #{id} moves {}/{p} to {back}",
                i + 1,
                plan.topic,
                row.partition,
                row.after,
                plan.topic
            )));
        }
    }
    Ok(())
}

fn fmt_opt(o: Option<u64>) -> String {
    o.map(|v| v.to_string()).unwrap_or_else(|| "none".into())
}
