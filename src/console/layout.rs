//! Where things go on screen, as pure geometry of the state and its terminal size: the screen's
//! bands, each view's panes, and the rows of the current list. Drawing (`view`) and the state
//! machine (`update`: how far a page moves, which row a click lands on) both use it.

use super::state::{State, View};
use ratatui::layout::{Constraint, Layout, Rect};

/// Header, body, the side panel (empty unless one is shown), status line, footer. The panel is
/// as tall as what it shows wants, but leaves the body at least half the rows between header
/// and status line.
pub fn screen(area: Rect, s: &State) -> [Rect; 5] {
    let panel = match &s.panel {
        Some(p) => {
            let between = area.height.saturating_sub(3);
            let body = between.div_ceil(2);
            super::view::panel::wanted_height(s, p, area.width).min(between - body)
        }
        None => 0,
    };
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(panel),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// The partitions table above, the groups' offsets below (as tall as its rows, at most half).
pub fn topic(area: Rect, s: &State, name: &str) -> [Rect; 2] {
    let rows: usize = s.data.groups.iter().map(|g| g.partitions.iter().filter(|p| p.topic == name).count()).sum();
    let lower = if rows == 0 { 3 } else { (rows + 3).min(area.height as usize / 2) as u16 };
    Layout::vertical([Constraint::Min(4), Constraint::Length(lower)]).areas(area)
}

/// The summary line, the partitions table, the members table (as tall as its rows, at most a
/// third; none when a third has no room for a row: the summary counts them, OWNER names them).
pub fn group(area: Rect, s: &State, name: &str) -> [Rect; 3] {
    let members = s.data.group(name).map(|g| g.members.len()).unwrap_or(0);
    let third = area.height as usize / 3;
    let members_h = if third < 4 { 0 } else { (members + 3).min(third).max(3) as u16 };
    Layout::vertical([Constraint::Length(1), Constraint::Min(4), Constraint::Length(members_h)]).areas(area)
}

/// The records table and, when open, the detail pane (beside it when wide, below it when narrow).
pub fn messages(area: Rect, s: &State) -> (Rect, Option<Rect>) {
    if !s.data.messages.as_ref().is_some_and(|m| m.detail) {
        return (area, None);
    }
    if area.width >= 100 {
        let [a, b] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);
        (a, Some(b))
    } else {
        let [a, b] = Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area);
        (a, Some(b))
    }
}

/// Where the rows of the current view's list are drawn (inside its border, below its header) on
/// a terminal of the state's size: how many rows the cursor can move over before scrolling, and
/// which row a click lands on.
pub fn list_rows(s: &State) -> Rect {
    let [_, body, _, _, _] = screen(Rect::new(0, 0, s.ui.size.0, s.ui.size.1), s);
    let list = match s.nav.view() {
        View::Topics | View::Groups => body,
        View::Topic(name) => topic(body, s, name)[0],
        View::Group(name) => group(body, s, name)[1],
        View::Messages => messages(body, s).0,
    };
    Rect {
        x: list.x.saturating_add(1),
        y: list.y.saturating_add(2),
        width: list.width.saturating_sub(2),
        height: list.height.saturating_sub(3),
    }
}

/// Rows the current view's list shows (at least one).
pub fn body_rows(s: &State) -> usize {
    (list_rows(s).height as usize).max(1)
}
