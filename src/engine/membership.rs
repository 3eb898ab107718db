//! A consumer group's plain state: members with session timeouts, the generation and its
//! exclusive assignment, committed offsets, delivery positions and redelivery counts. Time comes
//! in as arguments (the engine clock's monotonic ms); the engine's `groups` and `consume` files
//! combine this state with the partition logs.

use super::assignor::{Assignor, Tp, assign};
use super::classic::{Classic, ClassicMember};
use super::clock::Clock;
use super::error::{EngineError, Result};
use super::rate::RateMeter;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// A live member of a group.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub client_id: String,
    /// The address it connects from, when a front end knows it (empty otherwise).
    pub client_host: String,
    pub topics: Vec<String>,
    pub session_timeout: Duration,
    /// When the member was last heard from (the engine clock's monotonic ms).
    pub last_seen: u64,
    pub assignment: Vec<Tp>,
    /// Set for a member of a client-assigned group (the Kafka group protocol).
    pub classic: Option<ClassicMember>,
}

impl Member {
    /// Whether the member's session has timed out at `now`: strictly more than its session
    /// timeout has passed since it was last heard from.
    pub fn expired(&self, now: u64) -> bool {
        u128::from(now.saturating_sub(self.last_seen)) > self.session_timeout.as_millis()
    }
}

/// A group's state.
#[derive(Debug)]
pub struct Group {
    pub name: String,
    pub assignor: Assignor,
    pub generation: u64,
    pub members: BTreeMap<String, Member>,
    pub committed: BTreeMap<Tp, u64>,
    /// Next offset to hand out per partition (starts at the committed offset after each rebalance).
    pub positions: HashMap<Tp, u64>,
    /// One past the highest offset ever handed out: anything below it handed out again is a redelivery.
    pub delivered: HashMap<Tp, u64>,
    pub redeliveries: BTreeMap<Tp, u64>,
    pub consumed: RateMeter,
    /// Set while the group is client-assigned: its members assign partitions themselves, in
    /// Kafka's classic group protocol ([`super::classic`]). A group is one kind at a time.
    pub classic: Option<Classic>,
    next_member: u64,
    /// Tags the member ids of an engine that reopened a data directory (0 on a new one), so an
    /// id handed out before a restart never names a member of a later one: a zombie consumer's
    /// commit with its old id and a generation that happens to match is refused, not accepted.
    incarnation: u64,
}

/// What a member learns from join and heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub group: String,
    pub member_id: String,
    pub generation: u64,
    pub assignment: Vec<Tp>,
}

impl Group {
    /// An empty group whose consume rate is measured on `clock`; `incarnation` as in
    /// [`GroupsState::incarnation`](super::offsets::GroupsState::incarnation).
    pub fn new(name: &str, clock: &Arc<dyn Clock>, incarnation: u64) -> Group {
        Group {
            name: name.to_string(),
            assignor: Assignor::Range,
            generation: 0,
            members: BTreeMap::new(),
            committed: BTreeMap::new(),
            positions: HashMap::new(),
            delivered: HashMap::new(),
            redeliveries: BTreeMap::new(),
            consumed: RateMeter::new(clock.clone()),
            classic: None,
            next_member: 0,
            incarnation,
        }
    }

    /// Topics the group's members subscribe to, that it has committed offsets for, or that it was
    /// handed records of (a group that pulled without ever committing still consumes them: its
    /// lag there is all of it, not nothing).
    pub fn topics(&self) -> Vec<String> {
        let mut t: Vec<String> = self.members.values().flat_map(|m| m.topics.iter().cloned()).collect();
        t.extend(self.committed.keys().map(|(t, _)| t.clone()));
        t.extend(self.delivered.keys().map(|(t, _)| t.clone()));
        t.sort();
        t.dedup();
        t
    }

    /// Adds (or refreshes) a member, heard from at `now`, and rebalances.
    pub fn join(
        &mut self,
        member_id: Option<&str>,
        client_id: &str,
        topics: Vec<String>,
        session_timeout: Duration,
        partitions: &BTreeMap<String, u32>,
        now: u64,
    ) -> String {
        let id = match member_id {
            Some(id) if self.members.contains_key(id) => id.to_string(),
            _ => self.new_member_id(client_id),
        };
        // A server-assigned group from here on (the engine refuses this while Kafka members run).
        self.classic = None;
        self.members.insert(
            id.clone(),
            Member {
                id: id.clone(),
                client_id: client_id.to_string(),
                client_host: String::new(),
                topics,
                session_timeout,
                last_seen: now,
                assignment: Vec::new(),
                classic: None,
            },
        );
        self.rebalance(partitions);
        id
    }

    /// A member id no member of this group had: the client id (or "member"), the generation it
    /// joins and a counter, tagged with the incarnation after a restart.
    pub fn new_member_id(&mut self, client_id: &str) -> String {
        self.next_member += 1;
        let stem = if client_id.is_empty() { "member" } else { client_id };
        match self.incarnation {
            0 => format!("{stem}-{}-{}", self.generation + 1, self.next_member),
            i => format!("{stem}-{}-{}-{i:x}", self.generation + 1, self.next_member),
        }
    }

    /// Removes a member (leave or eviction) and rebalances. Returns false when it was not a member.
    pub fn remove(&mut self, member_id: &str, partitions: &BTreeMap<String, u32>, now: u64) -> bool {
        if self.classic.is_some() {
            return self.classic_remove(member_id, now);
        }
        if self.members.remove(member_id).is_none() {
            return false;
        }
        self.rebalance(partitions);
        true
    }

    /// Evicts members whose session timed out at `now`; returns their ids.
    pub fn expire(&mut self, now: u64, partitions: &BTreeMap<String, u32>) -> Vec<String> {
        if self.classic.is_some() {
            return self.classic_expire(now);
        }
        let dead: Vec<String> = self.members.values().filter(|m| m.expired(now)).map(|m| m.id.clone()).collect();
        if !dead.is_empty() {
            for d in &dead {
                self.members.remove(d);
                tracing::info!("group {}: member {d} missed its session timeout and was evicted", self.name);
            }
            self.rebalance(partitions);
        }
        dead
    }

    /// A new generation: every member gets its share, and every position restarts at the committed
    /// offset (what was handed out but not committed will be handed out again).
    pub fn rebalance(&mut self, partitions: &BTreeMap<String, u32>) {
        if self.classic.is_some() {
            // Its members assign partitions themselves (and notice new topics themselves).
            return;
        }
        self.generation += 1;
        let subs: BTreeMap<String, Vec<String>> =
            self.members.iter().map(|(id, m)| (id.clone(), m.topics.clone())).collect();
        let wanted: BTreeMap<String, u32> = partitions
            .iter()
            .filter(|(t, _)| subs.values().any(|ts| ts.contains(t)))
            .map(|(t, n)| (t.clone(), *n))
            .collect();
        let plan = assign(self.assignor, &subs, &wanted);
        for (id, tps) in plan {
            if let Some(m) = self.members.get_mut(&id) {
                m.assignment = tps;
            }
        }
        self.positions.clear();
        tracing::debug!("group {} rebalanced to generation {}", self.name, self.generation);
    }

    pub fn membership(&self, member_id: &str) -> Result<Membership> {
        let m = self.member(member_id)?;
        Ok(Membership {
            group: self.name.clone(),
            member_id: m.id.clone(),
            generation: self.generation,
            assignment: m.assignment.clone(),
        })
    }

    pub fn member(&self, member_id: &str) -> Result<&Member> {
        self.members.get(member_id).ok_or_else(|| {
            EngineError::not_found_hint(
                format!("member {member_id} of group {}", self.name),
                "it left or missed its session timeout; join again",
            )
        })
    }

    /// Checks that `member_id` is a member at `generation`, and marks it alive at `now`.
    pub fn check(&mut self, member_id: &str, generation: u64, now: u64) -> Result<&Member> {
        let current = self.generation;
        let name = self.name.clone();
        let m = self.members.get_mut(member_id).ok_or_else(|| {
            EngineError::not_found_hint(
                format!("member {member_id} of group {name}"),
                "it left or missed its session timeout; join again",
            )
        })?;
        m.last_seen = now;
        if generation != current {
            return Err(EngineError::IllegalGeneration {
                group: name,
                member: member_id.to_string(),
                given: generation,
                current,
            });
        }
        Ok(m)
    }

    /// Who owns a partition in the current generation.
    pub fn owner(&self, tp: &Tp) -> Option<&str> {
        self.members.values().find(|m| m.assignment.contains(tp)).map(|m| m.id.as_str())
    }

    /// Where the next delivery of `tp` starts: the position, else the committed offset, else `log_start`.
    pub fn position(&self, tp: &Tp, log_start: u64) -> u64 {
        self.positions.get(tp).copied().or_else(|| self.committed.get(tp).copied()).unwrap_or(log_start).max(log_start)
    }

    /// Notes that `[from, to)` of `tp` was handed out; counts redeliveries.
    pub fn delivered(&mut self, tp: &Tp, from: u64, to: u64) {
        let hw = self.delivered.entry(tp.clone()).or_insert(0);
        if from < *hw {
            let again = (*hw).min(to) - from;
            *self.redeliveries.entry(tp.clone()).or_insert(0) += again;
        }
        *hw = (*hw).max(to);
        let pos = self.positions.entry(tp.clone()).or_insert(to);
        *pos = (*pos).max(to);
        self.consumed.add(to - from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::clock::SystemClock;

    fn group() -> Group {
        Group::new("g", &(Arc::new(SystemClock) as Arc<dyn Clock>), 0)
    }

    #[test]
    fn handing_out_again_counts_redeliveries() {
        let mut g = group();
        let tp = ("t".to_string(), 0);
        g.delivered(&tp, 0, 10);
        g.positions.clear(); // a rebalance
        g.delivered(&tp, 0, 4);
        g.delivered(&tp, 4, 15);
        assert_eq!(g.redeliveries[&tp], 10);
        assert_eq!(g.delivered[&tp], 15);
    }

    #[test]
    fn a_member_expires_only_once_strictly_more_than_its_timeout_has_passed() {
        let mut g = group();
        let parts = BTreeMap::from([("t".to_string(), 2u32)]);
        let a = g.join(None, "a", vec!["t".into()], Duration::from_millis(300), &parts, 1_000);
        let b = g.join(None, "b", vec!["t".into()], Duration::from_millis(500), &parts, 1_000);
        assert!(g.expire(1_300, &parts).is_empty(), "exactly the timeout: still alive");
        g.check(&b, g.generation, 1_200).unwrap();
        assert_eq!(g.expire(1_301, &parts), vec![a.clone()]);
        assert!(g.expire(1_700, &parts).is_empty(), "b was heard from at 1200");
        assert_eq!(g.expire(1_701, &parts), vec![b]);
        assert!(g.members.is_empty());
    }
}
