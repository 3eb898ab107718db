//! Drawing: a pure function of the state. Header (breadcrumbs, target), body (the current view),
//! the side panel, status line, footer (the keys of this view), and overlays on top. Where each
//! part goes is `console::layout`'s; each dialog draws itself (`console::dialogs`).
//!
//! - `topic`: the Topics list and one topic; `group`: the Groups list and one group;
//!   `messages`: a partition's records and the detail pane
//! - `chrome`: header, status line, footer and its hints, the `:` and `/` prompts
//! - `help`: the help overlay; [`panel`]: the side panel (and the height it wants)
//! - [`form`]: a dialog's form; [`util`]: blocks, tables, cells, popups and empty states

mod chrome;
pub mod form;
mod group;
mod help;
mod messages;
pub mod panel;
mod topic;
pub mod util;

use super::dialogs;
use super::layout;
use super::state::{Overlay, State, View};
use ratatui::Frame;

/// Draws the whole screen.
pub fn render(f: &mut Frame, s: &State) {
    let area = f.area();
    let [header, body, panel_area, status, footer] = layout::screen(area, s);
    chrome::header(f, header, s);
    match s.nav.view() {
        View::Topics => topic::topics(f, body, s),
        View::Topic(name) => topic::topic(f, body, s, name),
        View::Groups => group::groups(f, body, s),
        View::Group(name) => group::group(f, body, s, name),
        View::Messages => messages::messages(f, body, s),
    }
    if s.panel.is_some() && panel_area.height > 0 {
        panel::panel(f, panel_area, s);
    }
    chrome::status(f, status, s);
    chrome::footer(f, footer, s);
    match &s.overlay {
        Some(Overlay::Help) => help::help(f, area, s),
        Some(Overlay::Command(input)) => chrome::prompt(f, status, s, ":", &input.value),
        Some(Overlay::Filter(input)) => chrome::prompt(f, status, s, "/", &input.value),
        Some(Overlay::Dialog(d)) => dialogs::draw(f, area, s, d),
        None => {}
    }
}
