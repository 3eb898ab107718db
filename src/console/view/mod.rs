//! Drawing: a pure function of the state. Header (breadcrumbs, target), body (the current view),
//! status line, footer (the keys of this view), and overlays on top.

mod chrome;
mod dialog;
mod group;
mod help;
mod messages;
mod topic;
pub mod util;

use super::state::{Overlay, State, View};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

/// Draws the whole screen.
pub fn render(f: &mut Frame, s: &State) {
    let area = f.area();
    let [header, body, status, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(1), Constraint::Length(1)])
            .areas(area);
    chrome::header(f, header, s);
    match s.view() {
        View::Topics => topic::topics(f, body, s),
        View::Topic(name) => topic::topic(f, body, s, name),
        View::Groups => group::groups(f, body, s),
        View::Group(name) => group::group(f, body, s, name),
        View::Messages => messages::messages(f, body, s),
    }
    chrome::status(f, status, s);
    chrome::footer(f, footer, s);
    match &s.overlay {
        Some(Overlay::Help) => help::help(f, area, s),
        Some(Overlay::Command(input)) => chrome::prompt(f, status, s, ":", &input.value),
        Some(Overlay::Filter(input)) => chrome::prompt(f, status, s, "/", &input.value),
        Some(Overlay::Dialog(d)) => dialog::dialog(f, area, s, d),
        None => {}
    }
}
