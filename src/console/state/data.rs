//! What the backend told us: its capabilities, the topics and groups lists (and whether each has
//! loaded once), and the records of the messages view.

use crate::core::*;
use std::collections::{BTreeMap, BTreeSet};

/// How the messages view reads its partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MsgMode {
    /// Pages from an offset.
    Browse { from: u64 },
    /// The newest records, refreshed.
    Tail,
    /// Exactly what `group` has not consumed yet.
    Backlog { group: String },
}

/// The records of one partition on screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Messages {
    pub topic: String,
    pub partition: u32,
    pub mode: MsgMode,
    pub items: Vec<Message>,
    /// The request the view waits for (older answers are dropped).
    pub seq: u64,
    pub loading: bool,
    pub detail: bool,
    /// The offset to put the cursor on once the window loads (a search match, a jump).
    pub focus: Option<u64>,
    /// Marked start and end offsets (`v` / `V`), for a replay of that range.
    pub marks: (Option<u64>, Option<u64>),
    /// The record the cursor was on when `/` opened: the search starts after it.
    pub anchor: Option<u64>,
    /// `M`: every partition of the topic merged by time instead of `partition` alone.
    pub merged: Option<Merged>,
}

/// The merged view's page: each partition's offsets `lo..hi` on screen (see
/// [`crate::core::merge`]); empty until the first page arrives. Browsing starts at `since` (ms)
/// when set, else at every partition's start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Merged {
    pub ranges: BTreeMap<u32, (u64, u64)>,
    pub since: Option<i64>,
}

impl Messages {
    /// What the view shows: `topic/partition`, or `topic/*` when every partition is merged.
    pub fn scope(&self) -> String {
        match self.merged {
            Some(_) => format!("{}/*", self.topic),
            None => format!("{}/{}", self.topic, self.partition),
        }
    }
}

/// The backend's answers.
#[derive(Clone, Debug)]
pub struct Data {
    pub caps: Capabilities,
    pub topics: Vec<TopicInfo>,
    pub groups: Vec<GroupInfo>,
    pub loaded_topics: bool,
    pub loaded_groups: bool,
    pub messages: Option<Messages>,
    /// The engine search of the messages view (`/`, then `n` / `N`).
    pub search: Option<Search>,
}

/// An engine search from the messages view: its criteria, the matches found so far (in offset
/// order), which one the cursor is on, and how far the forward scan got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search {
    /// What was typed after `/`.
    pub text: String,
    pub topic: String,
    pub partition: u32,
    /// The criteria (partition, key, header, value regex), without cursors or direction.
    pub req: SearchRequest,
    pub found: Vec<Message>,
    pub at: Option<usize>,
    /// Where the forward scan continues; `done`: it reached the end.
    pub next: Vec<SearchCursor>,
    pub done: bool,
    /// Totals of this search so far.
    pub scanned: u64,
    pub scanned_bytes: u64,
    /// Offsets deleted before the scan reached them (not searched), said with every outcome.
    pub gone: Vec<crate::core::GoneRange>,
    /// The request in flight (older answers are dropped), and whether it scans backwards.
    pub seq: u64,
    pub running: Option<bool>,
}

impl Data {
    pub fn new(caps: Capabilities) -> Data {
        Data {
            caps,
            topics: Vec::new(),
            groups: Vec::new(),
            loaded_topics: false,
            loaded_groups: false,
            messages: None,
            search: None,
        }
    }

    pub fn topic(&self, name: &str) -> Option<&TopicInfo> {
        self.topics.iter().find(|t| t.name == name)
    }

    pub fn group(&self, name: &str) -> Option<&GroupInfo> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The first offset a partition still holds (0 when unknown).
    pub fn log_start(&self, topic: &str, partition: u32) -> u64 {
        self.topic(topic).and_then(|t| t.partitions.get(partition as usize)).map(|p| p.log_start).unwrap_or(0)
    }

    /// Where a group goes on in a partition: its committed offset, or the log start if it never
    /// committed there.
    pub fn committed(&self, group: &str, topic: &str, partition: u32) -> Option<u64> {
        self.group(group)
            .and_then(|g| g.partitions.iter().find(|p| p.topic == topic && p.partition == partition))
            .map(|p| p.committed.unwrap_or(p.log_start))
    }

    /// Forgets the lists and records (another engine is in view); the capabilities stay until
    /// the new engine's arrive.
    pub fn clear_lists(&mut self) {
        self.topics.clear();
        self.groups.clear();
        self.loaded_topics = false;
        self.loaded_groups = false;
        self.messages = None;
    }

    /// Estimated time for a group to clear its lag at the current rates, in ms.
    pub fn time_to_clear_ms(&self, g: &GroupInfo) -> Option<u64> {
        let lag = g.total_lag();
        if lag == 0 {
            return Some(0);
        }
        let topics: BTreeSet<&str> = g.partitions.iter().map(|p| p.topic.as_str()).collect();
        let produce: f64 = topics.iter().filter_map(|t| self.topic(t)).map(|t| t.rate_in()).sum();
        let net = g.consume_rate - produce;
        (net > 0.01).then(|| (lag as f64 / net * 1000.0) as u64)
    }
}

/// The topics a group reads, sorted (for the reset and pull dialogs).
pub fn group_topics(g: &GroupInfo) -> Vec<String> {
    let mut t: BTreeMap<String, ()> = BTreeMap::new();
    for p in &g.partitions {
        t.insert(p.topic.clone(), ());
    }
    t.into_keys().collect()
}
