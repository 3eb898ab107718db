//! The engine's client-assigned groups (Kafka's classic group protocol): join, sync, heartbeat,
//! leave and commit for members that assign partitions themselves, on the engine's clock and
//! under its groups lock. Joins and syncs that must wait return [`Wait::Pending`] with how long
//! time alone may take to change the answer; callers wait on [`Engine::group_changes`] (or that
//! long) and ask again — no thread is held. The state machine is [`super::classic`].

use super::classic::{Assignment, ClassicError, JoinAnswer, Joining, Phase};
use super::consume::only_forward;
use super::engine::Engine;
use super::error::EngineError;
use crate::core::names::validate_name;
use std::time::Duration;

type Result<T> = std::result::Result<T, ClassicError>;

/// A join of a client-assigned group.
#[derive(Clone, Debug)]
pub struct ClassicJoin {
    /// Empty for a member joining for the first time.
    pub member_id: String,
    /// The client must first learn its member id and join again with it (Kafka's v4+ joins).
    pub require_known_member: bool,
    pub joining: Joining,
}

/// How a join went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinStep {
    /// Join again with this id (nothing else changed).
    MemberIdRequired(String),
    /// The join phase runs on; wait with [`Engine::classic_join_wait`] under this id.
    Pending(String),
    Joined(JoinAnswer),
}

/// An answer, or how long at most until time alone may change it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wait<T> {
    Ready(T),
    Pending(Option<Duration>),
}

/// A client-assigned group as Kafka's DescribeGroups shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicView {
    pub phase: Phase,
    pub protocol_type: String,
    pub protocol: String,
    pub members: Vec<ClassicMemberView>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicMemberView {
    pub member_id: String,
    pub client_id: String,
    pub client_host: String,
    /// Its metadata for the chosen protocol.
    pub metadata: Vec<u8>,
    pub assignment: Vec<u8>,
}

fn unknown(group: &str, member: &str) -> ClassicError {
    ClassicError::UnknownMember { group: group.to_string(), member: member.to_string() }
}

impl Engine {
    /// A listener that fires after the next change of any client-assigned group.
    pub fn group_changes(&self) -> event_listener::EventListener {
        self.inner.group_changed.listen()
    }

    fn changed(&self) {
        self.inner.group_changed.notify(usize::MAX);
    }

    /// How long from now until `deadline` (monotonic ms).
    fn until(&self, deadline: Option<u64>) -> Option<Duration> {
        let now = self.clock().mono_ms();
        deadline.map(|d| Duration::from_millis(d.saturating_sub(now)))
    }

    /// Joins (or rejoins) a client-assigned group; the join phase waits for every known member.
    pub fn classic_join(&self, group: &str, req: ClassicJoin) -> Result<JoinStep> {
        self.check_open()?;
        validate_name("group", group).map_err(EngineError::from)?;
        let j = &req.joining;
        if j.protocols.is_empty() || j.protocol_type.is_empty() {
            return Err(ClassicError::InconsistentProtocol(format!("a join of group {group} names no protocol")));
        }
        if j.session_timeout < Duration::from_millis(100) || j.session_timeout > Duration::from_secs(3600) {
            return Err(EngineError::InvalidArgument("session timeout must be between 100 ms and 1 hour".into()).into());
        }
        let now = self.clock().mono_ms();
        let counts = self.partition_counts();
        let step = {
            let mut gs = self.inner.groups.lock();
            let g = gs.group_or_new(group);
            g.expire(now, &counts);
            let known = g.members.contains_key(&req.member_id)
                || g.classic.as_ref().is_some_and(|c| c.pending.iter().any(|(id, _)| *id == req.member_id));
            let id = match (req.member_id.is_empty(), known) {
                (false, false) => return Err(unknown(group, &req.member_id)),
                (false, true) => req.member_id.clone(),
                (true, _) => g.new_member_id(&j.client_id),
            };
            g.classic_admit(&id, j)?;
            if req.member_id.is_empty() && req.require_known_member {
                let until = now.saturating_add(j.session_timeout.as_millis() as u64);
                if let Some(c) = g.classic.as_mut() {
                    c.pending.push((id.clone(), until));
                }
                return Ok(JoinStep::MemberIdRequired(id));
            }
            g.classic_join(&id, req.joining, now);
            g.try_complete_join(now);
            match g.take_answer(&id)? {
                Some(a) => JoinStep::Joined(a),
                None => JoinStep::Pending(id),
            }
        };
        self.changed();
        Ok(step)
    }

    /// A waiting join's answer, once its join phase completed.
    pub fn classic_join_wait(&self, group: &str, member_id: &str) -> Result<Wait<JoinAnswer>> {
        let now = self.clock().mono_ms();
        let counts = self.partition_counts();
        let (got, completed, next) = {
            let mut gs = self.inner.groups.lock();
            let g = gs.groups.get_mut(group).ok_or_else(|| unknown(group, member_id))?;
            let before = g.generation;
            g.expire(now, &counts);
            let got = g.take_answer(member_id)?;
            (got, g.generation != before, g.classic_next_deadline())
        };
        if completed {
            self.changed();
        }
        Ok(match got {
            Some(a) => Wait::Ready(a),
            None => Wait::Pending(self.until(next)),
        })
    }

    /// A sync: the leader's (member id, assignment bytes, the partitions they name) for every
    /// member; anyone else waits for it. Answers the member's assignment bytes.
    pub fn classic_sync(
        &self,
        group: &str,
        member_id: &str,
        generation: u64,
        assignments: Option<Vec<Assignment>>,
    ) -> Result<Wait<Vec<u8>>> {
        let now = self.clock().mono_ms();
        let counts = self.partition_counts();
        let (got, next) = {
            let mut gs = self.inner.groups.lock();
            let g = gs.groups.get_mut(group).ok_or_else(|| unknown(group, member_id))?;
            g.expire(now, &counts);
            (g.classic_sync(member_id, generation, assignments, now)?, g.classic_next_deadline())
        };
        Ok(match got {
            Some(bytes) => {
                self.changed();
                Wait::Ready(bytes)
            }
            None => Wait::Pending(self.until(next)),
        })
    }

    /// A heartbeat of a client-assigned member.
    pub fn classic_heartbeat(&self, group: &str, member_id: &str, generation: u64) -> Result<()> {
        let now = self.clock().mono_ms();
        let counts = self.partition_counts();
        let mut gs = self.inner.groups.lock();
        let g = gs.groups.get_mut(group).ok_or_else(|| unknown(group, member_id))?;
        if !g.expire(now, &counts).is_empty() {
            self.changed();
        }
        g.classic_heartbeat(member_id, generation, now)
    }

    /// A member leaves; the others rejoin.
    pub fn classic_leave(&self, group: &str, member_id: &str) -> Result<()> {
        let now = self.clock().mono_ms();
        let mut gs = self.inner.groups.lock();
        let g = gs.groups.get_mut(group).ok_or_else(|| unknown(group, member_id))?;
        if g.classic.is_none() || !g.classic_remove(member_id, now) {
            return Err(unknown(group, member_id));
        }
        drop(gs);
        self.changed();
        Ok(())
    }

    /// Commits offsets for a Kafka client: with an empty member id and a negative generation, as
    /// an operator commits for a group without members (forward: [`Engine::commit_offsets`]; back:
    /// a journaled reset, which is how Kafka's admin tools reset a group); otherwise as the member
    /// that owns every partition named, in the current generation (refused while the leader's
    /// assignment is awaited), only forward.
    pub fn classic_commit(
        &self,
        group: &str,
        member_id: &str,
        generation: i64,
        offsets: &[(String, u32, u64)],
    ) -> Result<()> {
        self.check_open()?;
        validate_name("group", group).map_err(EngineError::from)?;
        if member_id.is_empty() && generation < 0 {
            self.expire_members();
            if self.inner.groups.lock().groups.get(group).is_some_and(|g| !g.members.is_empty()) {
                return Err(unknown(group, member_id));
            }
            return Ok(self.operator_commit(group, offsets)?);
        }
        self.check_commit_range(offsets)?;
        let now = self.clock().mono_ms();
        let counts = self.partition_counts();
        let mut gs = self.inner.groups.lock();
        let g = gs.groups.get_mut(group).ok_or_else(|| unknown(group, member_id))?;
        g.expire(now, &counts);
        let generation = u64::try_from(generation).map_err(|_| unknown(group, member_id))?;
        let owned = g.classic_member(member_id, generation, now)?.assignment.clone();
        if g.phase() == Some(Phase::CompletingRebalance) {
            return Err(ClassicError::RebalanceInProgress(group.to_string()));
        }
        for (t, p, o) in offsets {
            if !owned.contains(&(t.clone(), *p)) {
                return Err(ClassicError::NotOwner {
                    group: group.to_string(),
                    member: member_id.to_string(),
                    partition: format!("{t}/{p}"),
                });
            }
            only_forward(g, t, *p, *o)?;
        }
        gs.commit(group, offsets, false)?;
        if let Err(e) = gs.compact_if_large() {
            tracing::warn!("could not compact the offsets journal: {e}");
        }
        Ok(())
    }

    /// An operator's commit for a group without members: what moves forward is committed, what
    /// moves back is a reset of that partition to that offset, journaled (and undoable) as every
    /// reset is.
    fn operator_commit(&self, group: &str, offsets: &[(String, u32, u64)]) -> std::result::Result<(), EngineError> {
        let committed: std::collections::BTreeMap<(String, u32), u64> =
            self.committed_offsets(group).unwrap_or_default().into_iter().map(|(t, p, o)| ((t, p), o)).collect();
        let (back, forward): (Vec<_>, Vec<_>) =
            offsets.iter().cloned().partition(|(t, p, o)| committed.get(&(t.clone(), *p)).is_some_and(|c| o < c));
        if !forward.is_empty() {
            self.commit_offsets(group, &forward)?;
        }
        for (t, p, o) in back {
            let plan = self.plan_reset(group, &t, Some(&[p]), crate::core::ResetSpec::ToOffset(o))?;
            self.execute_reset(&plan, false)?;
        }
        Ok(())
    }

    /// A client-assigned group's state, protocol and members; `None` for a group of the other
    /// kind (or none).
    pub fn classic_describe(&self, group: &str) -> Option<ClassicView> {
        self.expire_members();
        let gs = self.inner.groups.lock();
        let g = gs.groups.get(group)?;
        let c = g.classic.as_ref()?;
        let protocol = c.protocol.clone().unwrap_or_default();
        let members = g
            .members
            .values()
            .filter_map(|m| {
                let cm = m.classic.as_ref()?;
                let metadata = cm.protocols.iter().find(|(n, _)| *n == protocol).map(|(_, b)| b.clone());
                Some(ClassicMemberView {
                    member_id: m.id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    metadata: metadata.unwrap_or_default(),
                    assignment: cm.assignment_bytes.clone(),
                })
            })
            .collect();
        Some(ClassicView { phase: c.phase, protocol_type: c.protocol_type.clone(), protocol, members })
    }
}

impl Engine {
    /// A group's committed offsets (topic, partition, next offset to consume); `None` when there
    /// is no such group.
    pub fn committed_offsets(&self, group: &str) -> Option<Vec<(String, u32, u64)>> {
        let gs = self.inner.groups.lock();
        let g = gs.groups.get(group)?;
        Some(g.committed.iter().map(|((t, p), o)| (t.clone(), *p, *o)).collect())
    }
}
