//! Something that happened, for [`update`](super::update::update): a key, the mouse, a tick, a
//! resize, a backend answer, a side panel's news, a finished context switch.

use super::panel::SidePanel;
use super::state::Switched;
use crate::backend::BResult;
use crate::core::*;
use crossterm::event::{KeyEvent, MouseEvent};

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
    /// The side panel's provider (a running demo) sent what to show.
    Panel(SidePanel),
    /// `:ctx NAME` finished: the console now talks to another engine (or could not).
    Switched(Result<Switched, String>),
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
    Merged {
        seq: u64,
        result: BResult<crate::core::merge::MergedPage>,
    },
    Searched {
        seq: u64,
        result: BResult<SearchResult>,
    },
    /// A copy to the clipboard was written to the terminal (or could not be).
    Copied(Result<usize, String>),
    /// A file was saved: its path and size (or why not).
    Saved(Result<(String, usize), String>),
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
