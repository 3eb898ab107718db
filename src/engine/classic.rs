//! The client-assigned kind of group membership, as Kafka's classic group protocol runs it: a
//! join phase that waits (up to the longest rebalance timeout) for every known member to rejoin,
//! a protocol every member supports (the first in the leader's order), a leader that is handed
//! every member's metadata and sends the assignment in its sync, followers waiting in sync for
//! it, and session timeouts. Plain state: time comes in as arguments (the engine clock's
//! monotonic ms); [`super::classic_groups`] wraps it in the engine's lock and wakes waiters.
//!
//! The engine keeps each member's protocol metadata and assignment as opaque bytes; the caller
//! (the Kafka listener) decodes the subscription's topics and the assignment's partitions and
//! hands them in, so ownership, owners and lag are the engine's own.

use super::assignor::Tp;
use super::error::EngineError;
use super::membership::{Group, Member};
use std::time::Duration;

/// The leader's assignment for one member: its id, the bytes as sent, the partitions they name.
pub type Assignment = (String, Vec<u8>, Vec<Tp>);

/// Where a client-assigned group is in its rebalance cycle (Kafka's group states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

impl Phase {
    /// Kafka's name of the state (DescribeGroups).
    pub fn kafka_name(self) -> &'static str {
        match self {
            Phase::Empty => "Empty",
            Phase::PreparingRebalance => "PreparingRebalance",
            Phase::CompletingRebalance => "CompletingRebalance",
            Phase::Stable => "Stable",
        }
    }

    /// The name in depot's group descriptions.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Empty => "empty",
            Phase::PreparingRebalance => "preparing-rebalance",
            Phase::CompletingRebalance => "completing-rebalance",
            Phase::Stable => "stable",
        }
    }
}

/// The group-wide state of a client-assigned group.
#[derive(Clone, Debug)]
pub struct Classic {
    pub phase: Phase,
    /// "consumer" for Kafka consumers; every member must send the same.
    pub protocol_type: String,
    /// The protocol (assignor) chosen for the current generation.
    pub protocol: Option<String>,
    pub leader: Option<String>,
    /// When the join phase ends whoever has rejoined by then (monotonic ms).
    pub rebalance_deadline: u64,
    /// Member ids handed out with "member id required" (v4+ joins), with when they lapse.
    pub pending: Vec<(String, u64)>,
    /// Orders joins within a rebalance: the first to join leads a new group.
    join_seq: u64,
}

/// What a client-assigned member carries beside the common [`Member`] fields.
#[derive(Clone, Debug)]
pub struct ClassicMember {
    pub protocol_type: String,
    /// The protocols it supports, in its order of preference, with its metadata for each.
    pub protocols: Vec<(String, Vec<u8>)>,
    pub rebalance_timeout: Duration,
    /// The assignment the leader sent for it, as sent.
    pub assignment_bytes: Vec<u8>,
    /// It has (re)joined in the current join phase; at 0 it has not.
    pub joined: u64,
    /// Its join's answer, once the join phase completed, until its waiting join takes it.
    pub answer: Option<JoinAnswer>,
}

/// What a member's join returns once the join phase completes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinAnswer {
    pub generation: u64,
    pub protocol: String,
    pub leader: String,
    pub member_id: String,
    /// Every member's id and metadata for the chosen protocol — for the leader only.
    pub members: Vec<(String, Vec<u8>)>,
}

/// Why a client-assigned group refused a request: the Kafka error it stands for.
#[derive(Debug, thiserror::Error)]
pub enum ClassicError {
    #[error("member {member} is not a member of group {group}")]
    UnknownMember { group: String, member: String },
    #[error("member {member} of group {group} sent generation {given}; the group is at {current}")]
    IllegalGeneration { group: String, member: String, given: u64, current: u64 },
    #[error("group {0} is rebalancing; rejoin")]
    RebalanceInProgress(String),
    #[error("{0}")]
    InconsistentProtocol(String),
    #[error("{partition} is not assigned to member {member} of group {group}; only its owner may commit")]
    NotOwner { group: String, member: String, partition: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// A join as the group sees it.
#[derive(Clone, Debug)]
pub struct Joining {
    pub client_id: String,
    pub client_host: String,
    pub topics: Vec<String>,
    pub session_timeout: Duration,
    pub rebalance_timeout: Duration,
    pub protocol_type: String,
    pub protocols: Vec<(String, Vec<u8>)>,
}

impl Classic {
    pub fn new(protocol_type: &str) -> Classic {
        Classic {
            phase: Phase::Empty,
            protocol_type: protocol_type.to_string(),
            protocol: None,
            leader: None,
            rebalance_deadline: 0,
            pending: Vec::new(),
            join_seq: 0,
        }
    }
}

impl Group {
    /// The client-assigned state, if this group is of that kind.
    fn cl(&mut self) -> Option<&mut Classic> {
        self.classic.as_mut()
    }

    /// Checks that a join fits the group (the same protocol type, a protocol in common with
    /// every other member) and makes the group client-assigned if it is empty.
    pub fn classic_admit(&mut self, member_id: &str, j: &Joining) -> Result<(), ClassicError> {
        if self.classic.is_none() {
            if !self.members.is_empty() {
                return Err(ClassicError::InconsistentProtocol(format!(
                    "group {} has {} depot member(s) that depot assigns partitions to; a Kafka consumer can join it once they left",
                    self.name,
                    self.members.len()
                )));
            }
            self.classic = Some(Classic::new(&j.protocol_type));
        }
        let others: Vec<&Member> = self.members.values().filter(|m| m.id != member_id).collect();
        if others.is_empty() {
            if let Some(c) = self.cl() {
                c.protocol_type = j.protocol_type.clone();
            }
            return Ok(());
        }
        let ty = self.classic.as_ref().map(|c| c.protocol_type.clone()).unwrap_or_default();
        let common = j.protocols.iter().any(|(name, _)| {
            others.iter().all(|m| m.classic.as_ref().is_some_and(|c| c.protocols.iter().any(|(n, _)| n == name)))
        });
        if j.protocol_type != ty || !common {
            return Err(ClassicError::InconsistentProtocol(format!(
                "group {}: the join's protocols ({}) share none with the members' (type {ty:?})",
                self.name,
                j.protocols.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(())
    }

    /// Adds or refreshes a member as (re)joined in this join phase, starting one if none runs.
    pub fn classic_join(&mut self, member_id: &str, j: Joining, now: u64) {
        let seq = match self.cl() {
            Some(c) => {
                c.join_seq += 1;
                c.pending.retain(|(id, _)| id != member_id);
                c.join_seq
            }
            None => return,
        };
        let prev = self.members.remove(member_id);
        let assignment = prev.as_ref().map(|m| m.assignment.clone()).unwrap_or_default();
        let bytes = prev.and_then(|m| m.classic).map(|c| c.assignment_bytes).unwrap_or_default();
        self.members.insert(
            member_id.to_string(),
            Member {
                id: member_id.to_string(),
                client_id: j.client_id,
                client_host: j.client_host,
                topics: j.topics,
                session_timeout: j.session_timeout,
                last_seen: now,
                assignment,
                classic: Some(ClassicMember {
                    protocol_type: j.protocol_type,
                    protocols: j.protocols,
                    rebalance_timeout: j.rebalance_timeout,
                    assignment_bytes: bytes,
                    joined: seq,
                    answer: None,
                }),
            },
        );
        if self.phase() != Some(Phase::PreparingRebalance) {
            self.prepare_rebalance(now);
            if let Some(m) = self.members.get_mut(member_id).and_then(|m| m.classic.as_mut()) {
                m.joined = seq;
            }
        }
    }

    pub fn phase(&self) -> Option<Phase> {
        self.classic.as_ref().map(|c| c.phase)
    }

    /// Starts a join phase: every member must rejoin by the longest rebalance timeout from now.
    pub fn prepare_rebalance(&mut self, now: u64) {
        let longest = self
            .members
            .values()
            .filter_map(|m| m.classic.as_ref())
            .map(|c| c.rebalance_timeout)
            .max()
            .unwrap_or_default();
        for m in self.members.values_mut().filter_map(|m| m.classic.as_mut()) {
            m.joined = 0;
            m.answer = None;
        }
        if let Some(c) = self.cl() {
            c.phase = Phase::PreparingRebalance;
            c.rebalance_deadline = now.saturating_add(longest.as_millis() as u64);
        }
        tracing::debug!("group {}: rebalancing (generation {})", self.name, self.generation);
    }

    /// Ends the join phase once every member has rejoined or the deadline passed: members that did
    /// not rejoin are dropped, the generation moves on, a protocol and a leader are chosen, and
    /// every member gets its answer. Returns whether it completed.
    pub fn try_complete_join(&mut self, now: u64) -> bool {
        let Some((deadline, old_leader)) = self
            .classic
            .as_ref()
            .filter(|c| c.phase == Phase::PreparingRebalance)
            .map(|c| (c.rebalance_deadline, c.leader.clone()))
        else {
            return false;
        };
        let all = self.members.values().all(|m| m.classic.as_ref().is_some_and(|c| c.joined > 0));
        if !all && now < deadline {
            return false;
        }
        let late: Vec<String> = self
            .members
            .values()
            .filter(|m| m.classic.as_ref().is_none_or(|c| c.joined == 0))
            .map(|m| m.id.clone())
            .collect();
        for id in late {
            tracing::info!("group {}: member {id} did not rejoin within the rebalance timeout; removed", self.name);
            self.members.remove(&id);
        }
        self.generation += 1;
        self.positions.clear();
        let leader = old_leader.filter(|l| self.members.contains_key(l)).or_else(|| {
            self.members
                .values()
                .filter_map(|m| m.classic.as_ref().map(|c| (c.joined, m.id.clone())))
                .min()
                .map(|(_, id)| id)
        });
        let Some(leader) = leader else {
            if let Some(c) = self.cl() {
                c.phase = Phase::Empty;
                c.protocol = None;
                c.leader = None;
            }
            return true;
        };
        let protocol = self.choose_protocol(&leader).unwrap_or_default();
        let metadata: Vec<(String, Vec<u8>)> = self
            .members
            .values()
            .map(|m| {
                let md = m.classic.as_ref().and_then(|c| c.protocols.iter().find(|(n, _)| *n == protocol));
                (m.id.clone(), md.map(|(_, b)| b.clone()).unwrap_or_default())
            })
            .collect();
        let generation = self.generation;
        for m in self.members.values_mut() {
            // Eager: nothing is owned until the leader's assignment arrives.
            m.assignment.clear();
            m.last_seen = now;
            if let Some(c) = m.classic.as_mut() {
                c.assignment_bytes.clear();
                c.answer = Some(JoinAnswer {
                    generation,
                    protocol: protocol.clone(),
                    leader: leader.clone(),
                    member_id: m.id.clone(),
                    members: if m.id == leader { metadata.clone() } else { Vec::new() },
                });
            }
        }
        if let Some(c) = self.cl() {
            c.phase = Phase::CompletingRebalance;
            c.protocol = Some(protocol);
            c.leader = Some(leader);
        }
        tracing::debug!("group {} is at generation {generation}, awaiting the leader's assignment", self.name);
        true
    }

    /// The first of the leader's protocols that every member supports.
    fn choose_protocol(&self, leader: &str) -> Option<String> {
        let mine = self.members.get(leader)?.classic.as_ref()?;
        mine.protocols
            .iter()
            .map(|(n, _)| n)
            .find(|n| {
                self.members
                    .values()
                    .all(|m| m.classic.as_ref().is_some_and(|c| c.protocols.iter().any(|(x, _)| x == *n)))
            })
            .cloned()
    }

    /// The member at `generation`, marked alive at `now`.
    pub fn classic_member(&mut self, member_id: &str, generation: u64, now: u64) -> Result<&mut Member, ClassicError> {
        let (group, current) = (self.name.clone(), self.generation);
        let m = self
            .members
            .get_mut(member_id)
            .filter(|m| m.classic.is_some())
            .ok_or_else(|| ClassicError::UnknownMember { group: group.clone(), member: member_id.to_string() })?;
        m.last_seen = now;
        if generation != current {
            return Err(ClassicError::IllegalGeneration {
                group,
                member: member_id.to_string(),
                given: generation,
                current,
            });
        }
        Ok(m)
    }

    /// A sync: the leader's assignments (member id, bytes, the partitions they name) make the
    /// group stable. Returns the member's assignment once there is one, `None` while it waits.
    pub fn classic_sync(
        &mut self,
        member_id: &str,
        generation: u64,
        assignments: Option<Vec<Assignment>>,
        now: u64,
    ) -> Result<Option<Vec<u8>>, ClassicError> {
        self.classic_member(member_id, generation, now)?;
        let Some(c) = self.classic.as_ref() else {
            return Err(ClassicError::UnknownMember { group: self.name.clone(), member: member_id.to_string() });
        };
        match c.phase {
            Phase::Empty => {
                Err(ClassicError::UnknownMember { group: self.name.clone(), member: member_id.to_string() })
            }
            Phase::PreparingRebalance => Err(ClassicError::RebalanceInProgress(self.name.clone())),
            Phase::CompletingRebalance => {
                let is_leader = c.leader.as_deref() == Some(member_id);
                if let (true, Some(list)) = (is_leader, assignments) {
                    for m in self.members.values_mut() {
                        let (bytes, tps) = list
                            .iter()
                            .find(|(id, _, _)| *id == m.id)
                            .map(|(_, b, t)| (b.clone(), t.clone()))
                            .unwrap_or_default();
                        m.assignment = tps;
                        if let Some(c) = m.classic.as_mut() {
                            c.assignment_bytes = bytes;
                        }
                    }
                    self.positions.clear();
                    if let Some(c) = self.cl() {
                        c.phase = Phase::Stable;
                    }
                    tracing::debug!("group {} is stable at generation {}", self.name, self.generation);
                    return Ok(self.assignment_bytes(member_id));
                }
                Ok(None)
            }
            Phase::Stable => Ok(self.assignment_bytes(member_id)),
        }
    }

    fn assignment_bytes(&self, member_id: &str) -> Option<Vec<u8>> {
        self.members.get(member_id).and_then(|m| m.classic.as_ref()).map(|c| c.assignment_bytes.clone())
    }

    /// A heartbeat: refused while the group is in a join phase (the member must rejoin).
    pub fn classic_heartbeat(&mut self, member_id: &str, generation: u64, now: u64) -> Result<(), ClassicError> {
        self.classic_member(member_id, generation, now)?;
        match self.phase() {
            Some(Phase::PreparingRebalance) => Err(ClassicError::RebalanceInProgress(self.name.clone())),
            _ => Ok(()),
        }
    }

    /// Removes a client-assigned member (leave or expiry) and starts a join phase for the rest.
    pub fn classic_remove(&mut self, member_id: &str, now: u64) -> bool {
        if self.members.remove(member_id).is_none() {
            return false;
        }
        if matches!(self.phase(), Some(Phase::Stable | Phase::CompletingRebalance)) {
            self.prepare_rebalance(now);
        }
        self.try_complete_join(now);
        true
    }

    /// Drops members whose session timed out (not those that rejoined in a join phase: they are
    /// waiting for its answer), lapsed pending ids, and ends a join phase past its deadline.
    /// Returns the evicted member ids.
    pub fn classic_expire(&mut self, now: u64) -> Vec<String> {
        let preparing = self.phase() == Some(Phase::PreparingRebalance);
        let dead: Vec<String> = self
            .members
            .values()
            .filter(|m| m.expired(now) && !(preparing && m.classic.as_ref().is_some_and(|c| c.joined > 0)))
            .map(|m| m.id.clone())
            .collect();
        for d in &dead {
            tracing::info!("group {}: member {d} missed its session timeout and was removed", self.name);
            self.classic_remove(d, now);
        }
        if let Some(c) = self.cl() {
            c.pending.retain(|(_, until)| *until > now);
        }
        self.try_complete_join(now);
        dead
    }

    /// A forced reset while members run: a new generation at once (so no commit of the old one
    /// moves the offsets past the reset) and a join phase, after which the members read the
    /// committed offsets again.
    pub fn classic_force_rejoin(&mut self, now: u64) {
        if self.classic.is_none() || self.members.is_empty() {
            return;
        }
        self.generation += 1;
        self.prepare_rebalance(now);
    }

    /// When time alone may next change the group: a join deadline or a session running out.
    pub fn classic_next_deadline(&self) -> Option<u64> {
        let c = self.classic.as_ref()?;
        let sessions =
            self.members.values().map(|m| m.last_seen.saturating_add(m.session_timeout.as_millis() as u64 + 1));
        let join = (c.phase == Phase::PreparingRebalance).then_some(c.rebalance_deadline);
        sessions.chain(join).min()
    }

    /// Takes the member's join answer once its join phase completed.
    pub fn take_answer(&mut self, member_id: &str) -> Result<Option<JoinAnswer>, ClassicError> {
        let group = self.name.clone();
        let m = self
            .members
            .get_mut(member_id)
            .and_then(|m| m.classic.as_mut())
            .ok_or(ClassicError::UnknownMember { group, member: member_id.to_string() })?;
        Ok(m.answer.take())
    }
}
