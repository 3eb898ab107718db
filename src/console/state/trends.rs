//! What the console remembers across refreshes: in-rate per topic and lag per group and
//! partition (for sparklines), Burrow windows (for health verdicts), and per topic the group with
//! the most lag. Samples are taken on the wall clock (one per refresh), or on a side panel's own
//! clock when it runs one (see [`sample_due`]).

use crate::console::health::{self, Judgement, Sample, Verdict};
use crate::core::*;
use std::collections::{BTreeSet, HashMap, VecDeque};

/// Samples kept for sparklines.
pub const TREND: usize = 30;

/// (group, topic, partition).
pub type PartitionKey = (String, String, u32);

#[derive(Clone, Debug, Default)]
pub struct Trends {
    /// In-rate history per topic (records/s), for sparklines.
    pub topic_rates: HashMap<String, VecDeque<u64>>,
    /// Total lag history per group, for sparklines.
    pub group_lag: HashMap<String, VecDeque<u64>>,
    /// Burrow windows per (group, topic, partition).
    pub windows: HashMap<PartitionKey, VecDeque<Sample>>,
    /// Lag history per (group, topic, partition) for the group view's trend column.
    pub partition_lag: HashMap<PartitionKey, VecDeque<u64>>,
    /// Per topic, the group with the most lag: (group, records, ms); recomputed when groups load.
    pub topic_lag: HashMap<String, (String, u64, u64)>,
    /// The slot of the side panel's clock the last topics and groups samples were taken in.
    pub topics_slot: Option<u64>,
    pub groups_slot: Option<u64>,
    /// Groups the side panel's provider paused on purpose.
    pub paused: BTreeSet<String>,
}

/// Whether a sample is due. On the wall clock (`clock` None) every refresh is one. On a side
/// panel's clock (a demo's simulated time) one per `every_ms` of it: time is cut in slots of
/// `every_ms` and a slot gets one sample, so while that clock stands still (step mode) no sample
/// repeats the last — a still world is not judged stalled — and a window spans the same
/// simulated time however fast or slow the steps come. A clock that went back (a restart) starts
/// over.
pub fn sample_due(slot: &mut Option<u64>, clock: Option<u64>, every_ms: i64) -> bool {
    let Some(now) = clock else { return true };
    let this = now / every_ms.max(1) as u64;
    if *slot == Some(this) {
        return false;
    }
    *slot = Some(this);
    true
}

impl Trends {
    /// The group with the most lag on a topic: (group, lag in records, lag in ms).
    pub fn worst_lag(&self, topic: &str) -> Option<(&str, u64, u64)> {
        self.topic_lag.get(topic).map(|(g, l, ms)| (g.as_str(), *l, *ms))
    }

    /// Recomputes [`Trends::topic_lag`] from the groups (one pass over every group's partitions).
    pub fn recompute_topic_lag(&mut self, groups: &[GroupInfo]) {
        let mut per: HashMap<(String, String), (u64, u64)> = HashMap::new();
        for g in groups {
            for p in &g.partitions {
                let e = per.entry((p.topic.clone(), g.name.clone())).or_insert((0, 0));
                e.0 += p.lag;
                e.1 = e.1.max(p.lag_ms);
            }
        }
        let mut worst: HashMap<String, (String, u64, u64)> = HashMap::new();
        for ((topic, group), (lag, ms)) in per {
            let better = match worst.get(&topic) {
                None => true,
                Some((g, l, m)) => (lag, ms, std::cmp::Reverse(&group)) > (*l, *m, std::cmp::Reverse(g)),
            };
            if better {
                worst.insert(topic, (group, lag, ms));
            }
        }
        self.topic_lag = worst;
    }

    /// One sample of every topic's in-rate.
    pub fn sample_topics(&mut self, topics: &[TopicInfo]) {
        for t in topics {
            push_trend(self.topic_rates.entry(t.name.clone()).or_default(), t.rate_in().round() as u64, TREND);
        }
    }

    /// One sample, taken at `at_ms`, of every group's lag and every partition's committed offset,
    /// lag and the group's live members.
    pub fn sample_groups(&mut self, groups: &[GroupInfo], at_ms: i64) {
        for g in groups {
            push_trend(self.group_lag.entry(g.name.clone()).or_default(), g.total_lag(), TREND);
            for p in &g.partitions {
                let key = (g.name.clone(), p.topic.clone(), p.partition);
                let sample = Sample::new(at_ms, p.committed, p.lag, g.members.len());
                health::push(self.windows.entry(key.clone()).or_default(), sample);
                push_trend(self.partition_lag.entry(key).or_default(), p.lag, TREND);
            }
        }
    }

    /// Drops every sample (what was measured belongs to a run that is over).
    pub fn clear_samples(&mut self) {
        self.windows.clear();
        self.group_lag.clear();
        self.partition_lag.clear();
        self.topic_rates.clear();
        self.topics_slot = None;
        self.groups_slot = None;
    }

    fn window(&self, g: &GroupInfo, p: &PartitionLag) -> Option<&VecDeque<Sample>> {
        self.windows.get(&(g.name.clone(), p.topic.clone(), p.partition))
    }

    /// Whether the group's committed offset moved forward on any of its partitions within their
    /// windows (the group consumes, whether or not it had members when it was sampled).
    pub fn group_moved(&self, g: &GroupInfo) -> bool {
        g.partitions.iter().any(|p| self.window(g, p).is_some_and(health::advanced))
    }

    /// Whether every partition of the group that has lag had its committed offset move forward
    /// within its window: only then can the lag clear at the current rates (a standing one never
    /// does).
    pub fn lagging_partitions_move(&self, g: &GroupInfo) -> bool {
        g.partitions.iter().filter(|p| p.lag > 0).all(|p| self.window(g, p).is_some_and(health::advanced))
    }

    /// Burrow's verdict on one partition of a group, and why.
    pub fn judge(&self, g: &GroupInfo, p: &PartitionLag) -> Judgement {
        let others_moved = g
            .partitions
            .iter()
            .filter(|o| (&o.topic, o.partition) != (&p.topic, p.partition))
            .any(|o| self.window(g, o).is_some_and(health::advanced));
        let j = match self.window(g, p) {
            Some(w) => health::judge(w, others_moved),
            None => health::judge(&VecDeque::new(), others_moved),
        };
        match j.verdict {
            Verdict::Warn | Verdict::Stall | Verdict::Stop if self.paused.contains(&g.name) => Judgement {
                verdict: Verdict::Paused,
                reason: format!("the demo holds this group (x resumes it), lag {}", p.lag),
            },
            _ => j,
        }
    }

    /// Burrow's verdict on one partition of a group.
    pub fn partition_verdict(&self, g: &GroupInfo, p: &PartitionLag) -> Verdict {
        self.judge(g, p).verdict
    }

    /// (group status, worst partition status).
    pub fn group_verdict(&self, g: &GroupInfo) -> (Verdict, Verdict) {
        let v: Vec<Verdict> = g.partitions.iter().map(|p| self.partition_verdict(g, p)).collect();
        health::group_verdict(&v)
    }
}

/// Keeps a bounded history.
pub fn push_trend<T>(q: &mut VecDeque<T>, v: T, cap: usize) {
    q.push_back(v);
    while q.len() > cap {
        q.pop_front();
    }
}
