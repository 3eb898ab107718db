//! The terminal's side of the state: its size, whether to redraw, whether to quit, the status
//! line, the clock, and the counter that tells answers to the messages view apart.

use crate::console::effect::Kind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Warn,
    Error,
}

/// The status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub level: Level,
    pub at_ms: i64,
    /// The load it reports on (its failure), so that load's next answer can take it back.
    pub about: Option<Kind>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ui {
    pub size: (u16, u16),
    /// Something changed: redraw.
    pub dirty: bool,
    pub quit: bool,
    pub status: Option<Status>,
    /// The wall clock as of the last tick, in ms.
    pub now_ms: i64,
    /// The last messages request's number.
    pub seq: u64,
}

impl Ui {
    pub fn new(now_ms: i64) -> Ui {
        Ui { size: (80, 24), dirty: true, quit: false, status: None, now_ms, seq: 0 }
    }

    /// Shows a status line.
    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some(Status { text: text.into(), level, at_ms: self.now_ms, about: None });
        self.dirty = true;
    }

    /// Shows a status line about a load (its failure): the load's next answer takes it back.
    pub fn say_about(&mut self, kind: Kind, level: Level, text: impl Into<String>) {
        self.say(level, text);
        if let Some(st) = self.status.as_mut() {
            st.about = Some(kind);
        }
    }

    /// The screen changed: what the status line said belongs to the screen before.
    pub fn clear_status(&mut self) {
        if self.status.take().is_some() {
            self.dirty = true;
        }
    }

    /// A load of `kind` answered: a status line about its last failure is old news.
    pub fn clear_about(&mut self, kind: Kind) {
        if self.status.as_ref().is_some_and(|st| st.about == Some(kind)) {
            self.clear_status();
        }
    }

    /// A new messages request's number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}
