//! The console's whole state, in parts with their own small types: `nav` (where the user is),
//! `data` (what the backend said), `trends` (what was sampled across refreshes), `refresh`
//! (in-flight loads and backoff), `ui` (terminal, status line, clock), the overlay on top, the
//! side panel, and the options it started with. Plain data: no IO, no async, no terminal.

mod data;
mod nav;
mod refresh;
mod trends;
mod ui;

pub use data::{Data, Merged, Messages, MsgMode, Search, group_topics};
pub use nav::{Nav, Screen, TopicSort, View};
pub use refresh::Refresh;
pub use trends::{PartitionKey, TREND, Trends, push_trend, sample_due};
pub use ui::{Level, Status, Ui};

use super::dialogs::Dialog;
use super::form::Input;
use super::keymap::Keymap;
use super::panel::SidePanel;
use super::theme::Theme;
use crate::core::*;

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
    /// Context names from the config file, for `:ctx`.
    pub contexts: Vec<String>,
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

/// Something drawn on top of the view.
#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    Help,
    Command(Input),
    Filter(Input),
    Dialog(Dialog),
}

/// The whole console state.
#[derive(Clone, Debug)]
pub struct State {
    pub settings: Settings,
    pub keymap: Keymap,
    pub theme: Theme,
    pub nav: Nav,
    pub data: Data,
    pub trends: Trends,
    pub refresh: Refresh,
    pub ui: Ui,
    pub overlay: Option<Overlay>,
    /// Set while a provider (`depot demo`) shows a side panel.
    pub panel: Option<SidePanel>,
    /// The form whose plan is awaited, to reopen as typed (with the error) if planning fails.
    pub retry: Option<Box<Dialog>>,
}

impl State {
    pub fn new(settings: Settings, keymap: Keymap, theme: Theme, now_ms: i64) -> State {
        let caps = Capabilities { read_only: settings.read_only, ..Capabilities::depot() };
        State {
            settings,
            keymap,
            theme,
            nav: Nav::default(),
            data: Data::new(caps),
            trends: Trends::default(),
            refresh: Refresh::default(),
            ui: Ui::new(now_ms),
            overlay: None,
            panel: None,
            retry: None,
        }
    }

    pub fn read_only(&self) -> bool {
        self.data.caps.read_only || self.settings.read_only
    }

    /// The clock health and trends are sampled on: the side panel's own (a demo's simulated
    /// time) when it runs one, else None for the wall clock (one sample per refresh).
    pub fn sample_clock(&self) -> Option<u64> {
        self.panel.as_ref().and_then(|p| p.clock_ms)
    }

    /// Topics after the filter, sorted.
    pub fn visible_topics(&self) -> Vec<&TopicInfo> {
        let f = matcher(&self.nav.screen().filter);
        let mut v: Vec<&TopicInfo> = self.data.topics.iter().filter(|t| f(&t.name)).collect();
        match self.nav.sort {
            TopicSort::Name => v.sort_by(|a, b| a.name.cmp(&b.name)),
            TopicSort::Backlog => v.sort_by(|a, b| b.backlog().cmp(&a.backlog()).then(a.name.cmp(&b.name))),
            TopicSort::Size => v.sort_by(|a, b| b.size_bytes().cmp(&a.size_bytes()).then(a.name.cmp(&b.name))),
            TopicSort::RateIn => v.sort_by(|a, b| b.rate_in().total_cmp(&a.rate_in()).then(a.name.cmp(&b.name))),
            TopicSort::Lag => v.sort_by(|a, b| {
                let la = self.trends.worst_lag(&a.name).map(|x| x.1).unwrap_or(0);
                let lb = self.trends.worst_lag(&b.name).map(|x| x.1).unwrap_or(0);
                lb.cmp(&la).then(a.name.cmp(&b.name))
            }),
        }
        v
    }

    pub fn visible_groups(&self) -> Vec<&GroupInfo> {
        let f = matcher(&self.nav.screen().filter);
        self.data.groups.iter().filter(|g| f(&g.name)).collect()
    }

    /// Messages after the filter (text or a regex over key, value and headers; `name=value`
    /// also matches a header of that name whose value contains the text).
    pub fn visible_messages(&self) -> Vec<&Message> {
        let filter = &self.nav.screen().filter;
        let f = matcher(filter);
        let header = HeaderMatch::parse(filter).ok().filter(|h| !h.name.contains(char::is_whitespace));
        match &self.data.messages {
            Some(m) => m
                .items
                .iter()
                .filter(|m| {
                    // No filter shows every record; a tombstone has no value text to match.
                    filter.is_empty()
                        || m.value.as_ref().is_some_and(|v| f(&v.display()))
                        || m.key.as_ref().is_some_and(|k| f(&k.display()))
                        || m.headers.iter().any(|h| f(&h.name) || h.value.as_ref().is_some_and(|v| f(&v.display())))
                        || header.as_ref().is_some_and(|want| {
                            m.headers.iter().any(|h| {
                                h.name == want.name
                                    && h.value.as_ref().is_some_and(|v| v.display().contains(&want.value))
                            })
                        })
                })
                .collect(),
            None => Vec::new(),
        }
    }

    /// Rows of the current list view (for cursor bounds).
    pub fn row_count(&self) -> usize {
        match self.nav.view() {
            View::Topics => self.visible_topics().len(),
            View::Groups => self.visible_groups().len(),
            View::Topic(t) => self.data.topic(t).map(|t| t.partitions.len()).unwrap_or(0),
            View::Group(g) => self.data.group(g).map(|g| g.partitions.len()).unwrap_or(0),
            View::Messages => self.visible_messages().len(),
        }
    }

    /// The topic under the cursor, or the one in view.
    pub fn selected_topic(&self) -> Option<String> {
        match self.nav.view() {
            View::Topics => self.visible_topics().get(self.nav.screen().selected).map(|t| t.name.clone()),
            View::Topic(t) => Some(t.clone()),
            View::Messages => self.data.messages.as_ref().map(|m| m.topic.clone()),
            _ => None,
        }
    }

    /// The partition under the cursor, or the one in view (a topic's first from the topics list).
    pub fn selected_topic_partition(&self) -> Option<(String, u32)> {
        match self.nav.view() {
            View::Topics => self.selected_topic().map(|t| (t, 0)),
            View::Topic(t) => {
                let p = self.data.topic(t)?.partitions.get(self.nav.screen().selected)?.partition;
                Some((t.clone(), p))
            }
            View::Group(g) => {
                let p = self.data.group(g)?.partitions.get(self.nav.screen().selected)?;
                Some((p.topic.clone(), p.partition))
            }
            // Merged: the selected record's partition.
            View::Messages => self.data.messages.as_ref().map(|m| {
                let record = m
                    .merged
                    .as_ref()
                    .and_then(|_| self.visible_messages().get(self.nav.screen().selected).map(|r| r.partition));
                (m.topic.clone(), record.unwrap_or(m.partition))
            }),
            View::Groups => None,
        }
    }

    /// The group in view: under the cursor in Groups, the open group, or the backlog's group.
    pub fn current_group(&self) -> Option<String> {
        match self.nav.view() {
            View::Groups => self.visible_groups().get(self.nav.screen().selected).map(|g| g.name.clone()),
            View::Group(g) => Some(g.clone()),
            View::Messages => match &self.data.messages.as_ref()?.mode {
                MsgMode::Backlog { group } => Some(group.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// Refuses a write in read-only mode, saying why; true when refused.
    pub fn refuse_write(&mut self, what: &str) -> bool {
        if self.read_only() {
            self.ui.say(
                Level::Warn,
                format!("read-only: cannot {what} (started with --read-only, or the server is read-only)"),
            );
            return true;
        }
        false
    }

    /// Refuses what this engine cannot do (its capabilities say so), saying why; true when refused.
    pub fn refuse_unsupported(&mut self, can: bool, what: &str) -> bool {
        if !can {
            let kind = self.data.caps.kind.clone();
            self.ui.say(Level::Warn, format!("{kind} cannot {what} (this engine does not support it)"));
            return true;
        }
        false
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
