//! The console's whole state, the messages that change it and the effects it asks for.
//! Plain data: no IO, no async, no terminal.

use super::form::{Form, Input};
use super::health::{self, Sample, Verdict};
use super::keymap::Keymap;
use super::theme::Theme;
use crate::backend::*;
use crate::core::*;
use crossterm::event::{KeyEvent, MouseEvent};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// Samples kept for sparklines.
pub const TREND: usize = 30;

/// Something that happened.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// Time passed; the wall clock in ms.
    Tick(i64),
    Resize(u16, u16),
    /// A backend call finished.
    Loaded(Loaded),
    /// A running demo reported its state.
    Demo(DemoPanel),
    /// `:ctx NAME` finished: the console now talks to another engine (or could not).
    Switched(Result<Switched, String>),
}

/// What the demo's narration panel shows (sent by the simulation after every step).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoPanel {
    pub name: String,
    pub title: String,
    pub narration: String,
    /// Simulated seconds since the scenario started.
    pub t_s: f64,
    pub step_mode: bool,
    /// Producers and groups, one line each.
    pub lines: Vec<String>,
    /// Recent events, newest first.
    pub log: Vec<String>,
}

/// A demo knob; group knobs act on the selected group, or on all groups when none is selected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Knob {
    RateUp,
    RateDown,
    Faster(Option<String>),
    Slower(Option<String>),
    PauseProducers,
    PauseGroup(Option<String>),
    AddMember(Option<String>),
    Crash(Option<String>),
    Leave(Option<String>),
    Idempotent(Option<String>),
    StepMode,
    Step,
    Restart,
}

/// Results of effects.
#[derive(Debug)]
pub enum Loaded {
    Caps(BResult<Capabilities>),
    Topics(BResult<Vec<TopicInfo>>),
    Groups(BResult<Vec<GroupInfo>>),
    /// Records for the messages view; `seq` identifies the request (older answers are dropped).
    Messages {
        seq: u64,
        result: BResult<Vec<Message>>,
    },
    Published(BResult<Vec<Ack>>),
    Pulled(BResult<PullResult>),
    Committed(BResult<()>),
    ResetPlanned(BResult<ResetPlan>),
    ResetDone(BResult<ResetRecord>),
    ReplayPlanned(BResult<ReplayPlan>),
    ReplayDone(BResult<ReplayResult>),
    TopicCreated(BResult<TopicInfo>),
    TopicDeleted(String, BResult<()>),
}

/// What the driver should do; it answers with a [`Loaded`].
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    LoadCaps,
    LoadTopics,
    LoadGroups,
    LoadMessages {
        seq: u64,
        topic: String,
        req: PeekRequest,
    },
    Publish {
        topic: String,
        req: PublishRequest,
    },
    /// Publish every line of a file (read by the driver, not the UI).
    PublishFile {
        topic: String,
        path: String,
        template: OutRecord,
    },
    Pull {
        group: String,
        req: PullRequest,
    },
    Commit {
        group: String,
        offsets: Vec<CommitOffset>,
    },
    PlanReset {
        group: String,
        req: ResetRequest,
    },
    ExecuteReset {
        plan: ResetPlan,
        force: bool,
    },
    PlanUndo {
        group: String,
    },
    PlanReplay(ReplayRequest),
    ExecuteReplay(ReplayPlan),
    CreateTopic {
        name: String,
        config: TopicConfig,
    },
    DeleteTopic(String),
    /// Turn a demo knob (handled by the demo, not the backend).
    Demo(Knob),
    /// Connect to another context (handled by the driver).
    SwitchContext(String),
    Quit,
}

/// Which periodic load an effect is, for coalescing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Topics,
    Groups,
    Messages,
}

/// A screen in the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum View {
    Topics,
    Topic(String),
    Groups,
    Group(String),
    Messages,
}

/// A view with its cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Screen {
    pub view: View,
    pub selected: usize,
    pub scroll: usize,
    pub filter: String,
}

impl Screen {
    pub fn new(view: View) -> Screen {
        Screen { view, selected: 0, scroll: 0, filter: String::new() }
    }
}

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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Messages {
    pub topic: String,
    pub partition: u32,
    pub mode: MsgMode,
    pub items: Vec<Message>,
    pub seq: u64,
    pub loading: bool,
    pub detail: bool,
}

/// Dialogs (one at a time).
#[derive(Clone, Debug, PartialEq)]
pub enum Dialog {
    Publish {
        topic: String,
        form: Form,
    },
    CreateTopic(Form),
    Confirm {
        title: String,
        text: String,
        effect: Effect,
        danger: bool,
    },
    Reset {
        group: String,
        form: Form,
    },
    ResetPreview {
        plan: ResetPlan,
        force: bool,
    },
    Replay {
        topic: String,
        form: Form,
    },
    ReplayPreview(ReplayPlan),
    PullAsk {
        group: String,
        form: Form,
    },
    Pulled(PullResult),
    Jump(Form),
    /// Waiting for an answer.
    Working(String),
}

/// Something drawn on top of the view.
#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    Help,
    Command(Input),
    Filter(Input),
    Dialog(Dialog),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Warn,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub level: Level,
    pub at_ms: i64,
}

/// How the topics list is sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TopicSort {
    #[default]
    Name,
    Backlog,
    Size,
    RateIn,
    Lag,
}

impl TopicSort {
    pub fn next(self) -> TopicSort {
        match self {
            TopicSort::Name => TopicSort::Backlog,
            TopicSort::Backlog => TopicSort::Size,
            TopicSort::Size => TopicSort::RateIn,
            TopicSort::RateIn => TopicSort::Lag,
            TopicSort::Lag => TopicSort::Name,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            TopicSort::Name => "name",
            TopicSort::Backlog => "backlog",
            TopicSort::Size => "size",
            TopicSort::RateIn => "rate in",
            TopicSort::Lag => "worst lag",
        }
    }
}

/// Options the console starts with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub target: String,
    /// The context (a named connection from the config file), always shown in the header.
    pub context: Option<ContextBadge>,
    pub read_only: bool,
    /// Extra line for the header, e.g. where the HTTP API is served.
    pub note: Option<String>,
    /// How often lists refresh.
    pub refresh_ms: i64,
}

/// How the current context is shown: its name, in the danger colour or its own colour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextBadge {
    pub name: String,
    pub danger: bool,
    pub color: Option<String>,
}

/// What changes when `:ctx NAME` switched to another context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Switched {
    pub target: String,
    pub context: Option<ContextBadge>,
    pub read_only: bool,
}

/// The whole console state.
#[derive(Clone, Debug)]
pub struct State {
    pub settings: Settings,
    pub caps: Capabilities,
    pub keymap: Keymap,
    pub theme: Theme,
    pub stack: Vec<Screen>,
    pub topics: Vec<TopicInfo>,
    pub groups: Vec<GroupInfo>,
    pub loaded_topics: bool,
    pub loaded_groups: bool,
    /// In-rate history per topic (records/s), for sparklines.
    pub topic_rates: HashMap<String, VecDeque<u64>>,
    /// Total lag history per group, for sparklines.
    pub group_lag: HashMap<String, VecDeque<u64>>,
    /// Burrow windows per (group, topic, partition).
    pub windows: HashMap<(String, String, u32), VecDeque<Sample>>,
    /// Lag history per (group, topic, partition) for the group view's trend column.
    pub partition_lag: HashMap<(String, String, u32), VecDeque<u64>>,
    /// Per topic, the group with the most lag: (group, records, ms); recomputed when groups load.
    pub topic_lag: HashMap<String, (String, u64, u64)>,
    pub messages: Option<Messages>,
    /// Set while `depot demo` runs: the narration panel.
    pub demo: Option<DemoPanel>,
    /// Context names from the config file, for `:ctx`.
    pub contexts: Vec<String>,
    pub overlay: Option<Overlay>,
    pub status: Option<Status>,
    pub sort: TopicSort,
    pub inflight: BTreeSet<Kind>,
    pub next_refresh_ms: i64,
    /// Consecutive failed refreshes (for backoff).
    pub failures: u32,
    /// The refresh in flight already failed for one kind (it counts once in `failures`).
    pub round_failed: bool,
    pub backend_error: Option<String>,
    pub now_ms: i64,
    pub size: (u16, u16),
    pub dirty: bool,
    pub quit: bool,
    pub seq: u64,
}

impl State {
    pub fn new(settings: Settings, keymap: Keymap, theme: Theme, now_ms: i64) -> State {
        let read_only = settings.read_only;
        State {
            settings,
            caps: Capabilities { read_only, ..Capabilities::depot() },
            keymap,
            theme,
            stack: vec![Screen::new(View::Topics)],
            topics: Vec::new(),
            groups: Vec::new(),
            loaded_topics: false,
            loaded_groups: false,
            topic_rates: HashMap::new(),
            group_lag: HashMap::new(),
            windows: HashMap::new(),
            partition_lag: HashMap::new(),
            topic_lag: HashMap::new(),
            messages: None,
            demo: None,
            contexts: Vec::new(),
            overlay: None,
            status: None,
            sort: TopicSort::Name,
            inflight: BTreeSet::new(),
            next_refresh_ms: 0,
            failures: 0,
            round_failed: false,
            backend_error: None,
            now_ms,
            size: (80, 24),
            dirty: true,
            quit: false,
            seq: 0,
        }
    }

    pub fn screen(&self) -> &Screen {
        // The stack is never empty: `back` keeps the root.
        &self.stack[self.stack.len() - 1]
    }

    pub fn screen_mut(&mut self) -> &mut Screen {
        let n = self.stack.len() - 1;
        &mut self.stack[n]
    }

    pub fn view(&self) -> &View {
        &self.screen().view
    }

    /// Rows the current view's list shows (its height on screen, below the table header).
    pub fn body_rows(&self) -> usize {
        (super::view::list_rows(self).height as usize).max(1)
    }

    pub fn read_only(&self) -> bool {
        self.caps.read_only || self.settings.read_only
    }

    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), level, at_ms: self.now_ms });
        self.dirty = true;
    }

    /// Topics after the filter, sorted.
    pub fn visible_topics(&self) -> Vec<&TopicInfo> {
        let f = matcher(&self.screen().filter);
        let mut v: Vec<&TopicInfo> = self.topics.iter().filter(|t| f(&t.name)).collect();
        match self.sort {
            TopicSort::Name => v.sort_by(|a, b| a.name.cmp(&b.name)),
            TopicSort::Backlog => v.sort_by(|a, b| b.backlog().cmp(&a.backlog()).then(a.name.cmp(&b.name))),
            TopicSort::Size => v.sort_by(|a, b| b.size_bytes().cmp(&a.size_bytes()).then(a.name.cmp(&b.name))),
            TopicSort::RateIn => v.sort_by(|a, b| b.rate_in().total_cmp(&a.rate_in()).then(a.name.cmp(&b.name))),
            TopicSort::Lag => v.sort_by(|a, b| {
                let la = self.worst_lag(&a.name).map(|x| x.1).unwrap_or(0);
                let lb = self.worst_lag(&b.name).map(|x| x.1).unwrap_or(0);
                lb.cmp(&la).then(a.name.cmp(&b.name))
            }),
        }
        v
    }

    pub fn visible_groups(&self) -> Vec<&GroupInfo> {
        let f = matcher(&self.screen().filter);
        self.groups.iter().filter(|g| f(&g.name)).collect()
    }

    /// The group with the most lag on a topic: (group, lag in records, lag in ms).
    pub fn worst_lag(&self, topic: &str) -> Option<(&str, u64, u64)> {
        self.topic_lag.get(topic).map(|(g, l, ms)| (g.as_str(), *l, *ms))
    }

    /// Recomputes [`State::topic_lag`] from the groups (one pass over every group's partitions).
    pub fn recompute_topic_lag(&mut self) {
        let mut per: HashMap<(String, String), (u64, u64)> = HashMap::new();
        for g in &self.groups {
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

    pub fn topic(&self, name: &str) -> Option<&TopicInfo> {
        self.topics.iter().find(|t| t.name == name)
    }

    pub fn group(&self, name: &str) -> Option<&GroupInfo> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Burrow verdict of one partition of a group.
    pub fn partition_verdict(&self, g: &GroupInfo, p: &PartitionLag) -> Verdict {
        match self.windows.get(&(g.name.clone(), p.topic.clone(), p.partition)) {
            Some(w) => health::partition_verdict(w, !g.members.is_empty()),
            None => Verdict::Ok,
        }
    }

    /// (group status, worst partition status).
    pub fn group_verdict(&self, g: &GroupInfo) -> (Verdict, Verdict) {
        let v: Vec<Verdict> = g.partitions.iter().map(|p| self.partition_verdict(g, p)).collect();
        health::group_verdict(&v)
    }

    /// Messages after the filter.
    pub fn visible_messages(&self) -> Vec<&Message> {
        let f = matcher(&self.screen().filter);
        match &self.messages {
            Some(m) => m
                .items
                .iter()
                .filter(|m| {
                    f(&m.value.display())
                        || m.key.as_ref().is_some_and(|k| f(&k.display()))
                        || m.headers.iter().any(|h| f(&h.name) || f(&h.value.display()))
                })
                .collect(),
            None => Vec::new(),
        }
    }

    /// Rows of the current list view (for cursor bounds).
    pub fn row_count(&self) -> usize {
        match self.view() {
            View::Topics => self.visible_topics().len(),
            View::Groups => self.visible_groups().len(),
            View::Topic(t) => self.topic(t).map(|t| t.partitions.len()).unwrap_or(0),
            View::Group(g) => self.group(g).map(|g| g.partitions.len()).unwrap_or(0),
            View::Messages => self.visible_messages().len(),
        }
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

/// A case-insensitive matcher: a regex when the filter is one, else a substring.
pub fn matcher(filter: &str) -> Box<dyn Fn(&str) -> bool> {
    if filter.is_empty() {
        return Box::new(|_| true);
    }
    match regex::RegexBuilder::new(filter).case_insensitive(true).size_limit(1 << 20).build() {
        Ok(re) => Box::new(move |s| re.is_match(s)),
        Err(_) => {
            let needle = filter.to_lowercase();
            Box::new(move |s| s.to_lowercase().contains(&needle))
        }
    }
}

/// Keeps a bounded history.
pub fn push_trend<T>(q: &mut VecDeque<T>, v: T, cap: usize) {
    q.push_back(v);
    while q.len() > cap {
        q.pop_front();
    }
}

/// Topic partitions of a group, for the reset dialog.
pub fn group_topics(g: &GroupInfo) -> Vec<String> {
    let mut t: BTreeMap<String, ()> = BTreeMap::new();
    for p in &g.partitions {
        t.insert(p.topic.clone(), ());
    }
    t.into_keys().collect()
}
