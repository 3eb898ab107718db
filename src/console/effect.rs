//! What [`update`](super::update::update) asks the driver to do, as data; the driver answers each
//! backend effect with a [`Loaded`](super::msg::Loaded).

use super::panel::PanelAction;
use crate::core::*;

/// What the driver should do.
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
    /// A page of every partition merged by time: one read per partition, merged by the driver.
    LoadMerged {
        seq: u64,
        topic: String,
        reads: Vec<crate::core::merge::MergedRead>,
        keep: crate::core::merge::Keep,
        max: usize,
    },
    /// One slice of an engine search (the console continues it slice by slice).
    Search {
        seq: u64,
        topic: String,
        req: SearchRequest,
    },
    /// Copy text to the terminal's clipboard (OSC 52, written by the driver).
    Copy(String),
    /// Write bytes to a file (by the driver, not the UI thread).
    SaveFile {
        path: String,
        bytes: bytes::Bytes,
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
    /// A side-panel key was pressed (handled by the panel's provider, not the backend).
    Panel(PanelAction),
    /// Connect to another context (handled by the driver).
    SwitchContext(String),
    Quit,
}

/// Which periodic load an effect is, for coalescing: never a second one of a kind in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Topics,
    Groups,
    Messages,
}
