//! The terminal's side of the state: its size, whether to redraw, whether to quit, the status
//! line, the clock, and the counter that tells answers to the messages view apart.

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
        self.status = Some(Status { text: text.into(), level, at_ms: self.now_ms });
        self.dirty = true;
    }

    /// A new messages request's number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}
