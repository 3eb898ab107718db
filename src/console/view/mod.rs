//! Drawing: a pure function of the state. Header (breadcrumbs, target), body (the current view),
//! status line, footer (the keys of this view), and overlays on top.

mod chrome;
mod demo;
mod dialog;
mod group;
mod help;
mod messages;
mod topic;
pub mod util;

use super::state::{Overlay, State, View};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

/// Header, body, the demo's narration panel (empty unless a demo runs), status line, footer.
fn screen_layout(area: Rect, s: &State) -> [Rect; 5] {
    let demo = if s.demo.is_some() { (area.height / 3).min(12) } else { 0 };
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(demo),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// Where the rows of the current view's list are drawn (inside its border, below its header) on
/// a terminal of the state's size: how many rows the cursor can move over before scrolling, and
/// which row a click lands on.
pub fn list_rows(s: &State) -> Rect {
    let [_, body, _, _, _] = screen_layout(Rect::new(0, 0, s.size.0, s.size.1), s);
    let list = match s.view() {
        View::Topics | View::Groups => body,
        View::Topic(name) => topic::topic_layout(body, s, name)[0],
        View::Group(name) => group::group_layout(body, s, name)[1],
        View::Messages => messages::layout(body, s).0,
    };
    Rect {
        x: list.x.saturating_add(1),
        y: list.y.saturating_add(2),
        width: list.width.saturating_sub(2),
        height: list.height.saturating_sub(3),
    }
}

/// Draws the whole screen.
pub fn render(f: &mut Frame, s: &State) {
    let area = f.area();
    let [header, body, demo_area, status, footer] = screen_layout(area, s);
    chrome::header(f, header, s);
    match s.view() {
        View::Topics => topic::topics(f, body, s),
        View::Topic(name) => topic::topic(f, body, s, name),
        View::Groups => group::groups(f, body, s),
        View::Group(name) => group::group(f, body, s, name),
        View::Messages => messages::messages(f, body, s),
    }
    if s.demo.is_some() && demo_area.height > 0 {
        demo::panel(f, demo_area, s);
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
