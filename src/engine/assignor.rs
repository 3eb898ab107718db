//! How a group's partitions are spread over its members: range (Kafka's default) or round-robin.
//! Pure functions of the members' subscriptions and the topics' partition counts.

use super::error::{EngineError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

impl Assignor {
    /// The name shown in group descriptions.
    pub fn name(self) -> &'static str {
        match self {
            Assignor::Range => "range",
            Assignor::RoundRobin => "round-robin",
        }
    }
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
}
