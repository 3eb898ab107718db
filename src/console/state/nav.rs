//! Where the user is: the stack of screens (each with its cursor, scroll and filter) and how the
//! topics list is sorted.

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

/// The screen stack (never empty: its root is Topics or Groups) and the topics' sort.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nav {
    pub stack: Vec<Screen>,
    pub sort: TopicSort,
}

impl Default for Nav {
    fn default() -> Self {
        Nav { stack: vec![Screen::new(View::Topics)], sort: TopicSort::Name }
    }
}

impl Nav {
    pub fn screen(&self) -> &Screen {
        // The stack is never empty: going back keeps the root.
        &self.stack[self.stack.len() - 1]
    }

    pub fn screen_mut(&mut self) -> &mut Screen {
        let n = self.stack.len() - 1;
        &mut self.stack[n]
    }

    pub fn view(&self) -> &View {
        &self.screen().view
    }

    /// Opens a view on top of the current one.
    pub fn push(&mut self, v: View) {
        self.stack.push(Screen::new(v));
    }

    /// Switches to a top-level view (clears the stack).
    pub fn root(&mut self, v: View) {
        self.stack = vec![Screen::new(v)];
    }

    /// Back to the root view, its cursor at the top.
    pub fn to_root(&mut self) {
        self.stack.truncate(1);
    }

    /// Cursor and scroll back to the first row.
    pub fn to_first_row(&mut self) {
        let scr = self.screen_mut();
        scr.selected = 0;
        scr.scroll = 0;
    }
}
