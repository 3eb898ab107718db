//! The side-panel hook: what a front end layered on the console (the workshop demo) shows below
//! the view — a title, a narration, lines, a log — and the keys it takes. The console draws it,
//! lists its keys in the footer and the help overlay, and turns a press of one of them into
//! [`Effect::Panel`](super::effect::Effect::Panel), which the driver forwards to whoever provides
//! the panel. The console knows nothing of what those keys mean.
//!
//! A provider that runs its own clock (the demo's simulated time) says so in
//! [`SidePanel::clock_ms`]: the console then takes its health and trend samples on that clock, so
//! a world that stands still (step mode) is not judged stalled. It can also name the groups it
//! paused on purpose (their health reads PAUSED, not STALL) and mark records worth pointing at in
//! the Messages view (the demo's dropped window).

use super::keymap::Key;

/// A panel, as its provider last sent it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SidePanel {
    pub title: String,
    /// Paragraphs separated by blank lines; single line breaks join (the panel wraps the text).
    pub narration: String,
    /// The provider's state, one line each.
    pub lines: Vec<String>,
    /// Recent events, newest first.
    pub log: Vec<String>,
    /// The keys the panel takes, in the order they are listed.
    pub keys: Vec<PanelKey>,
    /// The heading of the keys' list in the help overlay.
    pub keys_title: String,
    /// The provider's clock in ms (a demo's simulated time), when its world runs on one of its own.
    pub clock_ms: Option<u64>,
    /// Groups the provider paused on purpose: their standing offsets read PAUSED, not STALL/STOP.
    pub paused_groups: Vec<String>,
    /// Records to point at in the Messages view.
    pub marks: Vec<PanelMark>,
}

/// A run of records the provider points at: `topic`/`partition` offsets `from..=to`, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanelMark {
    pub topic: String,
    pub partition: u32,
    pub from: u64,
    pub to: u64,
    /// One or two words, shown beside each record (`dropped`).
    pub label: String,
}

impl SidePanel {
    /// The mark of one record, if the provider points at it.
    pub fn mark(&self, topic: &str, partition: u32, offset: u64) -> Option<&PanelMark> {
        self.marks.iter().find(|m| m.topic == topic && m.partition == partition && (m.from..=m.to).contains(&offset))
    }
}

/// One key of a panel.
#[derive(Clone, Debug, PartialEq)]
pub struct PanelKey {
    /// The key, unless the config file's `[keys]` table binds [`PanelKey::action`] to others.
    pub key: Key,
    /// Shown beside the key in the panel and in the help overlay; one word, so a list of keys
    /// wraps between keys, never inside one.
    pub label: String,
    /// The action id: what the provider is told, and the action's name in `[keys]`.
    pub action: String,
    /// Also listed in the footer, under this label (for the keys reached for first).
    pub footer: Option<String>,
    /// The provider starts over: the console goes back to the top view and drops its history.
    pub restarts: bool,
}

/// A panel key was pressed: its action, and the group in view (Groups, Group or a group's
/// backlog), if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanelAction {
    pub action: String,
    pub group: Option<String>,
}
