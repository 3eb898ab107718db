//! Moving around: the cursor (kept on a row, the row kept on screen), the mouse, opening views
//! and drilling in with enter.

use super::messages;
use crate::console::effect::Effect;
use crate::console::layout;
use crate::console::state::{MsgMode, State, View};
use crossterm::event::{MouseEvent, MouseEventKind};

/// Keeps the cursor on a row and the row on screen.
pub fn clamp_cursor(s: &mut State) {
    let n = s.row_count();
    let rows = layout::body_rows(s);
    let scr = s.nav.screen_mut();
    if n == 0 {
        scr.selected = 0;
        scr.scroll = 0;
        return;
    }
    scr.selected = scr.selected.min(n - 1);
    if scr.selected < scr.scroll {
        scr.scroll = scr.selected;
    }
    if scr.selected >= scr.scroll + rows {
        scr.scroll = scr.selected + 1 - rows;
    }
}

pub fn move_cursor(s: &mut State, delta: isize) {
    let scr = s.nav.screen_mut();
    scr.selected = (scr.selected as isize + delta).max(0) as usize;
    clamp_cursor(s);
    s.ui.dirty = true;
}

/// The wheel scrolls; a click on a row of the current list selects it.
pub fn mouse(s: &mut State, m: MouseEvent) -> Vec<Effect> {
    if s.overlay.is_some() {
        return Vec::new();
    }
    match m.kind {
        MouseEventKind::ScrollDown => move_cursor(s, 3),
        MouseEventKind::ScrollUp => move_cursor(s, -3),
        MouseEventKind::Down(_) => {
            // Only a click on a row of the current list selects (not its header, border or the
            // other panes of the view).
            let rows = layout::list_rows(s);
            let inside = |v: u16, start: u16, len: u16| v >= start && v - start < len;
            if inside(m.row, rows.y, rows.height) && inside(m.column, rows.x, rows.width) {
                let idx = s.nav.screen().scroll + (m.row - rows.y) as usize;
                if idx < s.row_count() {
                    s.nav.screen_mut().selected = idx;
                    s.ui.dirty = true;
                }
            }
        }
        _ => {}
    }
    Vec::new()
}

pub fn push_view(s: &mut State, v: View) {
    s.nav.push(v);
    s.ui.dirty = true;
}

/// Switches to a top-level view (clears the stack).
pub fn root(s: &mut State, v: View) {
    s.nav.root(v);
    s.ui.dirty = true;
}

/// Enter: topics → topic → a partition's messages; groups → group → a partition's backlog; in
/// the messages view, the detail pane on or off.
pub fn enter(s: &mut State) -> Vec<Effect> {
    match s.nav.view().clone() {
        View::Topics => {
            if let Some(t) = s.selected_topic() {
                push_view(s, View::Topic(t));
            }
        }
        View::Topic(_) => {
            if let Some((t, p)) = s.selected_topic_partition() {
                return messages::open(s, t, p, MsgMode::Browse { from: 0 });
            }
        }
        View::Groups => {
            if let Some(g) = s.current_group() {
                push_view(s, View::Group(g));
            }
        }
        View::Group(g) => {
            if let Some((t, p)) = s.selected_topic_partition() {
                return messages::open(s, t, p, MsgMode::Backlog { group: g });
            }
        }
        View::Messages => {
            if let Some(m) = s.data.messages.as_mut() {
                m.detail = !m.detail;
            }
        }
    }
    Vec::new()
}
