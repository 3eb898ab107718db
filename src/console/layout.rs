//! Where things go on screen, as pure geometry of the state and its terminal size: the screen's
//! bands, each view's panes, the rows of the current list, and the text whose wrapping sizes a
//! band (the status line's message, the Group view's reason line). Drawing (`view`) and the state
//! machine (`update`: how far a page moves, which row a click lands on) both use it.

use super::state::{Level, State, View};
use ratatui::layout::{Constraint, Layout, Rect};

/// Rows the body keeps however long the status line's message is.
const MIN_BODY: u16 = 3;

/// Header, body, the side panel (empty unless one is shown), status line (as many rows as its
/// message needs, so an error is never cut off), footer. The panel is as tall as what it shows
/// wants, but leaves the body at least half the rows between header and status line.
pub fn screen(area: Rect, s: &State) -> [Rect; 5] {
    let panel = match &s.panel {
        Some(p) => {
            let between = area.height.saturating_sub(3);
            let body = between.div_ceil(2);
            super::view::panel::wanted_height(s, p, area.width).min(between - body)
        }
        None => 0,
    };
    let status = status_lines(s, area.width, status_room(area, panel)).len().max(1) as u16;
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(MIN_BODY),
        Constraint::Length(panel),
        Constraint::Length(status),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// Rows the status line may take: all but the header, the footer, the panel and the body's least.
fn status_room(area: Rect, panel: u16) -> usize {
    area.height.saturating_sub(2 + panel + MIN_BODY).max(1) as usize
}

/// What the status line says, if anything but the view's own description: the last message, else
/// why the backend is away.
pub fn status_message(s: &State) -> Option<(Level, &str)> {
    match (&s.ui.status, &s.refresh.backend_error) {
        (Some(st), _) => Some((st.level, st.text.as_str())),
        (None, Some(e)) => Some((Level::Error, e.as_str())),
        (None, None) => None,
    }
}

/// The status line's message wrapped to `width` columns after its three-column mark (" ✗ "), at
/// most `max` lines (the last one then ends in "…"); empty when there is no message.
pub fn status_lines(s: &State, width: u16, max: usize) -> Vec<String> {
    let Some((_, text)) = status_message(s) else { return Vec::new() };
    let mut lines = wrap(text, (width as usize).saturating_sub(3).max(1));
    if lines.len() > max {
        lines.truncate(max);
        if let Some(last) = lines.last_mut() {
            let keep = last.chars().count().min((width as usize).saturating_sub(4));
            *last = last.chars().take(keep).collect::<String>() + "…";
        }
    }
    lines
}

/// Words wrapped to lines of at most `width` characters; a word longer than a line is cut across
/// lines. Newlines in the text start new lines.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut len = 0;
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let n = word.chars().count();
            if len > 0 && len + 1 + n <= width {
                line.push(' ');
                line.push_str(word);
                len += 1 + n;
                continue;
            }
            if len > 0 {
                out.push(std::mem::take(&mut line));
            }
            // The word starts a line, cut across lines when it is longer than one.
            let mut chars: Vec<char> = word.chars().collect();
            while chars.len() > width {
                out.push(chars.drain(..width).collect());
            }
            len = chars.len();
            line = chars.into_iter().collect();
        }
        out.push(line);
    }
    out
}

/// The partitions table above, the groups' offsets below (as tall as its rows, at most half).
pub fn topic(area: Rect, s: &State, name: &str) -> [Rect; 2] {
    let rows: usize = s.data.groups.iter().map(|g| g.partitions.iter().filter(|p| p.topic == name).count()).sum();
    let lower = if rows == 0 { 3 } else { (rows + 3).min(area.height as usize / 2) as u16 };
    Layout::vertical([Constraint::Min(4), Constraint::Length(lower)]).areas(area)
}

/// The summary line, the selected partition's verdict and its reason (wrapped, at most two
/// lines), the partitions table, the members table (as tall as its rows, at most a third; none
/// when a third has no room for a row: the summary counts them, OWNER names them).
pub fn group(area: Rect, s: &State, name: &str) -> [Rect; 4] {
    let g = s.data.group(name);
    let members = g.map(|g| g.members.len()).unwrap_or(0);
    let third = area.height as usize / 3;
    let members_h = if third < 4 { 0 } else { (members + 3).min(third).max(3) as u16 };
    let reason = g.and_then(|g| group_reason(s, g)).map(|r| wrap(&r, reason_width(area)).len().min(2)).unwrap_or(0);
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(reason as u16),
        Constraint::Min(4),
        Constraint::Length(members_h),
    ])
    .areas(area)
}

/// The columns the group view's reason line wraps in (one of margin on the left).
pub fn reason_width(area: Rect) -> usize {
    (area.width as usize).saturating_sub(1).max(1)
}

/// The selected partition of a group and its verdict with the reason: "orders/1 WARN: lag grew …".
pub fn group_reason(s: &State, g: &crate::core::GroupInfo) -> Option<String> {
    let p = g.partitions.get(s.nav.screen().selected)?;
    Some(format!("{}/{} {}", p.topic, p.partition, s.trends.judge(g, p).text()))
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
        View::Group(name) => group(body, s, name)[2],
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

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn text_wraps_between_words_and_cuts_only_words_longer_than_a_line() {
        assert_eq!(wrap("pull failed: group g is gone", 12), ["pull failed:", "group g is", "gone"]);
        assert_eq!(wrap("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
        assert_eq!(wrap("one\ntwo  three", 20), ["one", "two three"]);
        assert_eq!(wrap("", 5), [""]);
        let long = "word ".repeat(50);
        assert!(wrap(&long, 7).iter().all(|l| l.chars().count() <= 7));
        assert_eq!(wrap(&long, 7).join(" "), long.trim_end());
    }
}
