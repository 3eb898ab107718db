//! Consumer groups: membership with session timeouts, exclusive assignment of partitions within a
//! generation (range or round-robin), committed offsets, delivery positions and redelivery counts.
//! This module is plain state; the engine façade combines it with the partition logs.

use super::error::{EngineError, Result};
use super::rate::RateMeter;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// A topic and partition.
pub type Tp = (String, u32);

/// How partitions are spread over the members of a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assignor {
    /// Per topic, contiguous ranges of partitions to members in id order (Kafka's default).
    #[default]
    Range,
    /// All partitions dealt to members in turn.
    RoundRobin,
}

impl std::str::FromStr for Assignor {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "range" => Ok(Assignor::Range),
            "round-robin" | "roundrobin" => Ok(Assignor::RoundRobin),
            _ => Err(EngineError::InvalidArgument(format!("assignor {s:?} is not one of: range, round-robin"))),
        }
    }
}

/// A live member of a group.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub client_id: String,
    pub topics: Vec<String>,
    pub session_timeout: Duration,
    pub last_seen: Instant,
    pub assignment: Vec<Tp>,
    /// Rotates the partition a poll starts with (fairness between the member's partitions).
    pub poll_turn: usize,
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
    next_member: u64,
}

/// What a member learns from join and heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub group: String,
    pub member_id: String,
    pub generation: u64,
    pub assignment: Vec<Tp>,
}

/// Computes an assignment: member id → partitions. Members and partitions are taken in sorted order,
/// so every call with the same inputs gives the same answer.
pub fn assign(
    assignor: Assignor,
    members: &BTreeMap<String, Vec<String>>,
    partitions: &BTreeMap<String, u32>,
) -> BTreeMap<String, Vec<Tp>> {
    let mut out: BTreeMap<String, Vec<Tp>> = members.keys().map(|m| (m.clone(), Vec::new())).collect();
    match assignor {
        Assignor::Range => {
            for (topic, &n) in partitions {
                let subs: Vec<&String> = members.iter().filter(|(_, t)| t.contains(topic)).map(|(m, _)| m).collect();
                if subs.is_empty() {
                    continue;
                }
                let per = n / subs.len() as u32;
                let extra = n % subs.len() as u32;
                let mut p = 0;
                for (i, m) in subs.iter().enumerate() {
                    let take = per + u32::from((i as u32) < extra);
                    for q in p..p + take {
                        out.entry((*m).clone()).or_default().push((topic.clone(), q));
                    }
                    p += take;
                }
            }
        }
        Assignor::RoundRobin => {
            let ids: Vec<&String> = members.keys().collect();
            let mut turn = 0usize;
            for (topic, &n) in partitions {
                for q in 0..n {
                    for k in 0..ids.len() {
                        let m = ids[(turn + k) % ids.len()];
                        if members[m].contains(topic) {
                            out.entry(m.clone()).or_default().push((topic.clone(), q));
                            turn = (turn + k + 1) % ids.len();
                            break;
                        }
                    }
                }
            }
        }
    }
    out
}

impl Group {
    pub fn new(name: &str) -> Group {
        Group {
            name: name.to_string(),
            assignor: Assignor::Range,
            generation: 0,
            members: BTreeMap::new(),
            committed: BTreeMap::new(),
            positions: HashMap::new(),
            delivered: HashMap::new(),
            redeliveries: BTreeMap::new(),
            consumed: RateMeter::default(),
            next_member: 0,
        }
    }

    /// Topics the group's members subscribe to or that it has committed offsets for.
    pub fn topics(&self) -> Vec<String> {
        let mut t: Vec<String> = self.members.values().flat_map(|m| m.topics.iter().cloned()).collect();
        t.extend(self.committed.keys().map(|(t, _)| t.clone()));
        t.sort();
        t.dedup();
        t
    }

    /// Adds (or refreshes) a member and rebalances.
    pub fn join(
        &mut self,
        member_id: Option<&str>,
        client_id: &str,
        topics: Vec<String>,
        session_timeout: Duration,
        partitions: &BTreeMap<String, u32>,
    ) -> String {
        let id = match member_id {
            Some(id) if self.members.contains_key(id) => id.to_string(),
            _ => {
                self.next_member += 1;
                let stem = if client_id.is_empty() { "member" } else { client_id };
                format!("{stem}-{}-{}", self.generation + 1, self.next_member)
            }
        };
        self.members.insert(
            id.clone(),
            Member {
                id: id.clone(),
                client_id: client_id.to_string(),
                topics,
                session_timeout,
                last_seen: Instant::now(),
                assignment: Vec::new(),
                poll_turn: 0,
            },
        );
        self.rebalance(partitions);
        id
    }

    /// Removes a member (leave or eviction) and rebalances. Returns false when it was not a member.
    pub fn remove(&mut self, member_id: &str, partitions: &BTreeMap<String, u32>) -> bool {
        if self.members.remove(member_id).is_none() {
            return false;
        }
        self.rebalance(partitions);
        true
    }

    /// Evicts members whose session timed out; returns their ids.
    pub fn expire(&mut self, now: Instant, partitions: &BTreeMap<String, u32>) -> Vec<String> {
        let dead: Vec<String> = self
            .members
            .values()
            .filter(|m| now.duration_since(m.last_seen) > m.session_timeout)
            .map(|m| m.id.clone())
            .collect();
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

    /// Checks that `member_id` is a member at `generation`, and marks it alive.
    pub fn check(&mut self, member_id: &str, generation: u64) -> Result<&Member> {
        let current = self.generation;
        let name = self.name.clone();
        let m = self.members.get_mut(member_id).ok_or_else(|| {
            EngineError::not_found_hint(
                format!("member {member_id} of group {name}"),
                "it left or missed its session timeout; join again",
            )
        })?;
        m.last_seen = Instant::now();
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

/// An entry of the committed-offsets journal.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OffsetEntry {
    /// Committed offsets (and redelivery counts, delivered marks) of some partitions of a group.
    Commit {
        group: String,
        offsets: Vec<(String, u32, u64)>,
        #[serde(default)]
        redeliveries: Vec<(String, u32, u64)>,
        #[serde(default)]
        delivered: Vec<(String, u32, u64)>,
    },
    /// The group was deleted.
    DeleteGroup { group: String },
    /// A topic was deleted: forget its offsets in every group.
    DeleteTopic { topic: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs(list: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        list.iter().map(|(m, t)| (m.to_string(), t.iter().map(|s| s.to_string()).collect())).collect()
    }

    #[test]
    fn range_gives_contiguous_blocks_with_the_remainder_first() {
        let parts = BTreeMap::from([("t".to_string(), 5u32)]);
        let a = assign(Assignor::Range, &subs(&[("a", &["t"]), ("b", &["t"])]), &parts);
        assert_eq!(a["a"], vec![("t".into(), 0), ("t".into(), 1), ("t".into(), 2)]);
        assert_eq!(a["b"], vec![("t".into(), 3), ("t".into(), 4)]);
    }

    #[test]
    fn round_robin_deals_partitions_in_turn_and_respects_subscriptions() {
        let parts = BTreeMap::from([("t".to_string(), 3u32), ("u".to_string(), 2u32)]);
        let a = assign(Assignor::RoundRobin, &subs(&[("a", &["t", "u"]), ("b", &["t"])]), &parts);
        assert_eq!(a["a"], vec![("t".into(), 0), ("t".into(), 2), ("u".into(), 0), ("u".into(), 1)]);
        assert_eq!(a["b"], vec![("t".into(), 1)]);
    }

    #[test]
    fn every_partition_has_exactly_one_owner() {
        let parts = BTreeMap::from([("t".to_string(), 7u32), ("u".to_string(), 3u32)]);
        for assignor in [Assignor::Range, Assignor::RoundRobin] {
            for n in 1..6 {
                let names: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
                let s: BTreeMap<String, Vec<String>> =
                    names.iter().map(|m| (m.clone(), vec!["t".into(), "u".into()])).collect();
                let a = assign(assignor, &s, &parts);
                let mut all: Vec<Tp> = a.values().flatten().cloned().collect();
                all.sort();
                let before = all.len();
                all.dedup();
                assert_eq!(before, all.len(), "{assignor:?} with {n} members assigned a partition twice");
                assert_eq!(all.len(), 10);
            }
        }
    }

    #[test]
    fn handing_out_again_counts_redeliveries() {
        let mut g = Group::new("g");
        let tp = ("t".to_string(), 0);
        g.delivered(&tp, 0, 10);
        g.positions.clear(); // a rebalance
        g.delivered(&tp, 0, 4);
        g.delivered(&tp, 4, 15);
        assert_eq!(g.redeliveries[&tp], 10);
        assert_eq!(g.delivered[&tp], 15);
    }
}
