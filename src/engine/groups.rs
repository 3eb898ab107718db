//! Consumer groups as the engine serves them: joining, heartbeats, leaving, session expiry on the
//! engine's clock, rebalancing when topics change, and describing / listing / deleting groups
//! (with lag in records and in time). Polling and committing are in [`super::consume`].

use super::assignor::Assignor;
use super::engine::Engine;
use super::error::{EngineError, Result};
use super::membership::{Group, Membership};
use super::offsets::OffsetEntry;
use crate::core::names::validate_name;
use crate::core::{GroupInfo, MemberInfo, PartitionLag};
use std::time::Duration;

/// How a member joins a group.
#[derive(Clone, Debug)]
pub struct JoinRequest {
    /// Rejoin with an existing id; `None` for a new member.
    pub member_id: Option<String>,
    pub client_id: String,
    pub topics: Vec<String>,
    /// Measured on the engine's clock.
    pub session_timeout: Duration,
    pub assignor: Option<Assignor>,
}

impl JoinRequest {
    pub fn new(client_id: &str, topics: &[&str]) -> Self {
        JoinRequest {
            member_id: None,
            client_id: client_id.to_string(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            session_timeout: Duration::from_secs(10),
            assignor: None,
        }
    }
}

impl Engine {
    /// Every group with members gets a new generation (after a topic was created or deleted).
    pub(super) fn rebalance_all(&self) {
        let counts = self.partition_counts();
        let mut gs = self.inner.groups.lock();
        for g in gs.groups.values_mut() {
            if !g.members.is_empty() {
                g.rebalance(&counts);
            }
        }
    }

    /// Evicts members whose session timed out on the engine's clock (also done in the background
    /// every maintenance interval).
    pub fn expire_members(&self) -> usize {
        let counts = self.partition_counts();
        let now = self.clock().mono_ms();
        let mut gs = self.inner.groups.lock();
        let n = gs.groups.values_mut().map(|g| g.expire(now, &counts).len()).sum();
        drop(gs);
        if n > 0 {
            self.inner.group_changed.notify(usize::MAX);
        }
        n
    }

    /// Joins (or rejoins) a group; every join rebalances the group into a new generation.
    pub fn join_group(&self, group: &str, req: JoinRequest) -> Result<Membership> {
        self.check_open()?;
        validate_name("group", group)?;
        if req.topics.is_empty() {
            return Err(EngineError::InvalidArgument("a member must subscribe to at least one topic".into()));
        }
        for t in &req.topics {
            self.topic(t)?;
        }
        if req.session_timeout < Duration::from_millis(100) || req.session_timeout > Duration::from_secs(3600) {
            return Err(EngineError::InvalidArgument("session timeout must be between 100 ms and 1 hour".into()));
        }
        let counts = self.partition_counts();
        let now = self.clock().mono_ms();
        let mut gs = self.inner.groups.lock();
        let g = gs.group_or_new(group);
        g.expire(now, &counts);
        if g.classic.is_some() && !g.members.is_empty() {
            return Err(EngineError::Refused(format!(
                "group {group} has {} live Kafka consumer(s) that assign partitions themselves; \
                 pull as another group, or once they left",
                g.members.len()
            )));
        }
        if let Some(a) = req.assignor
            && g.members.is_empty()
        {
            g.assignor = a;
        }
        let id = g.join(req.member_id.as_deref(), &req.client_id, req.topics, req.session_timeout, &counts, now);
        g.membership(&id)
    }

    /// Tells the group the member is alive; returns its current generation and assignment (which
    /// change after a rebalance).
    pub fn heartbeat(&self, group: &str, member_id: &str) -> Result<Membership> {
        let counts = self.partition_counts();
        let now = self.clock().mono_ms();
        let mut gs = self.inner.groups.lock();
        let g = gs.group_mut(group)?;
        g.expire(now, &counts);
        let current = g.generation;
        g.check(member_id, current, now)?;
        g.membership(member_id)
    }

    /// Leaves a group (without committing); the group rebalances.
    pub fn leave_group(&self, group: &str, member_id: &str) -> Result<()> {
        let counts = self.partition_counts();
        let now = self.clock().mono_ms();
        let mut gs = self.inner.groups.lock();
        let g = gs.group_mut(group)?;
        if !g.remove(member_id, &counts, now) {
            return Err(EngineError::not_found(format!("member {member_id} of group {group}")));
        }
        // Remember what was handed out (and redelivered) even without a commit, so the next
        // process to consume as this group counts what it gets again as redeliveries.
        let entry = OffsetEntry::Commit {
            group: g.name.clone(),
            offsets: Vec::new(),
            redeliveries: g.redeliveries.iter().map(|((t, p), n)| (t.clone(), *p, *n)).collect(),
            delivered: g.delivered.iter().map(|((t, p), n)| (t.clone(), *p, *n)).collect(),
        };
        gs.offsets.append(&entry, false)?;
        Ok(())
    }

    pub fn list_groups(&self) -> Vec<GroupInfo> {
        self.expire_members();
        let names: Vec<String> = self.inner.groups.lock().groups.keys().cloned().collect();
        names.iter().filter_map(|n| self.describe_group(n).ok()).collect()
    }

    /// A group's members, assignment, committed offsets and lag: in records, and in time as the
    /// engine clock's now minus the timestamp of the oldest record not yet committed.
    pub fn describe_group(&self, name: &str) -> Result<GroupInfo> {
        let counts = self.partition_counts();
        let mono = self.clock().mono_ms();
        let (mut info, wanted) = {
            let mut gs = self.inner.groups.lock();
            let g = gs.group_mut(name)?;
            g.expire(mono, &counts);
            let wanted = lag_rows(g, &counts);
            (summary(g, mono), wanted)
        };
        let now = self.clock().now_ms();
        for ((t, p), committed, owner, redeliveries) in wanted {
            let Ok(log) = self.log(&t, p) else { continue };
            let (start, end) = (log.log_start(), log.end_offset());
            let from = committed.unwrap_or(start).max(start);
            let lag = end.saturating_sub(from);
            let lag_ms = if lag == 0 {
                0
            } else {
                log.timestamp_of(from).ok().flatten().map(|ts| now.saturating_sub(ts).max(0) as u64).unwrap_or(0)
            };
            info.partitions.push(PartitionLag {
                topic: t,
                partition: p,
                committed,
                log_start: start,
                end_offset: end,
                lag,
                lag_ms,
                owner,
                redeliveries,
            });
        }
        Ok(info)
    }

    /// Deletes a group and its committed offsets; refused while it has live members.
    pub fn delete_group(&self, name: &str) -> Result<()> {
        self.check_open()?;
        self.expire_members();
        let mut gs = self.inner.groups.lock();
        let g = gs.group_mut(name)?;
        if !g.members.is_empty() {
            return Err(EngineError::Refused(format!(
                "group {name} has {} live members; stop them first",
                g.members.len()
            )));
        }
        gs.offsets.append(&OffsetEntry::DeleteGroup { group: name.to_string() }, true)?;
        gs.groups.remove(name);
        Ok(())
    }
}

/// What lag is computed for: every partition of the group's topics with its committed offset,
/// owner and redelivery count.
type LagRow = ((String, u32), Option<u64>, Option<String>, u64);

fn lag_rows(g: &Group, counts: &std::collections::BTreeMap<String, u32>) -> Vec<LagRow> {
    let mut rows = Vec::new();
    for t in g.topics() {
        for p in 0..counts.get(&t).copied().unwrap_or(0) {
            let tp = (t.clone(), p);
            rows.push((
                tp.clone(),
                g.committed.get(&tp).copied(),
                g.owner(&tp).map(str::to_string),
                g.redeliveries.get(&tp).copied().unwrap_or(0),
            ));
        }
    }
    rows
}

/// The group's description without its partitions; `now` is the clock's monotonic ms.
fn summary(g: &Group, now: u64) -> GroupInfo {
    let members = g
        .members
        .values()
        .map(|m| MemberInfo {
            member_id: m.id.clone(),
            client_id: m.client_id.clone(),
            client_host: m.client_host.clone(),
            topics: m.topics.clone(),
            assignment: m.assignment.clone(),
            last_seen_ms: now.saturating_sub(m.last_seen),
            session_timeout_ms: m.session_timeout.as_millis() as u64,
        })
        .collect();
    GroupInfo {
        name: g.name.clone(),
        state: match g.phase() {
            Some(p) => p.name().into(),
            None if g.members.is_empty() => "empty".into(),
            None => "stable".into(),
        },
        generation: g.generation,
        assignor: match &g.classic {
            Some(c) => c.protocol.clone().unwrap_or_default(),
            None => g.assignor.name().into(),
        },
        members,
        partitions: Vec::new(),
        consume_rate: g.consumed.per_second(),
    }
}
