//! A key: to the overlay when one is open, else to the console's action bound to it, else to the
//! side panel.

use super::lists::refresh;
use super::nav::{enter, move_cursor, root};
use super::{merged, messages, overlay, panel, record, search};
use crate::console::dialogs::{create_topic, delete_topic, jump, publish, pull, replay, reset, save, undo};
use crate::console::effect::Effect;
use crate::console::form::Input;
use crate::console::keymap::Action;
use crate::console::state::{Level, MsgMode, Overlay, State, View};
use crossterm::event::{KeyEvent, KeyEventKind};

pub fn key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    if k.kind == KeyEventKind::Release {
        return Vec::new();
    }
    if s.overlay.is_some() {
        return overlay::key(s, k);
    }
    let Some(action) = s.keymap.action(&k) else {
        return panel::key(s, &k);
    };
    // The messages view's own keys do nothing elsewhere: there a side panel may have them.
    let messages_only = matches!(
        action,
        Action::SearchNext
            | Action::SearchPrev
            | Action::PrevPartition
            | Action::NextPartition
            | Action::MarkStart
            | Action::MarkEnd
            | Action::Copy
            | Action::Save
    );
    if messages_only && *s.nav.view() != View::Messages {
        return panel::key(s, &k);
    }
    s.ui.dirty = true;
    if changes_view(action) {
        // What the status line said was about the screen before this one.
        s.ui.clear_status();
    }
    match action {
        Action::Quit => {
            if s.nav.stack.len() == 1 {
                s.ui.quit = true;
                return vec![Effect::Quit];
            }
            s.nav.stack.pop();
        }
        Action::Back => {
            if !s.nav.screen().filter.is_empty() {
                s.nav.screen_mut().filter.clear();
            } else if s.nav.stack.len() > 1 {
                s.nav.stack.pop();
            }
        }
        Action::Help => s.overlay = Some(Overlay::Help),
        Action::Command => s.overlay = Some(Overlay::Command(Input::default())),
        Action::Filter => {
            let current = s.nav.screen().filter.clone();
            let at = s.visible_messages().get(s.nav.screen().selected).map(|r| r.offset);
            if let Some(m) = s.data.messages.as_mut().filter(|_| *s.nav.view() == View::Messages) {
                m.anchor = at;
            }
            s.overlay = Some(Overlay::Filter(Input { value: current }));
        }
        Action::Up => move_cursor(s, -1),
        Action::Down => move_cursor(s, 1),
        Action::Top => move_cursor(s, isize::MIN / 2),
        Action::Bottom => move_cursor(s, isize::MAX / 2),
        Action::PageUp => return messages::page(s, -1),
        Action::PageDown => return messages::page(s, 1),
        Action::Refresh => {
            let mut fx = refresh(s);
            if *s.nav.view() == View::Messages {
                fx.extend(messages::load(s));
            }
            return fx;
        }
        Action::Topics => root(s, View::Topics),
        Action::Groups => root(s, View::Groups),
        Action::Enter => return enter(s),
        Action::Sort => {
            if *s.nav.view() == View::Topics {
                s.nav.sort = s.nav.sort.next();
                s.ui.say(Level::Info, format!("sorted by {}", s.nav.sort.label()));
            }
        }
        Action::Messages => {
            if let Some((topic, partition)) = s.selected_topic_partition() {
                return messages::open(s, topic, partition, MsgMode::Browse { from: 0 });
            }
        }
        Action::Tail => return messages::toggle_tail(s),
        Action::Backlog => return messages::backlog(s),
        Action::Jump => return jump::open(s),
        Action::Publish => return publish::open(s),
        Action::CreateTopic => return create_topic::open(s),
        Action::Delete => return delete_topic::open(s),
        Action::Replay => return replay::open(s),
        Action::Reset => return reset::open(s),
        Action::Undo => return undo::open(s),
        Action::Pull => return pull::open(s),
        Action::SearchNext => return search::step(s, true),
        Action::SearchPrev => return search::step(s, false),
        Action::PrevPartition => return record::switch_partition(s, -1),
        Action::NextPartition => return record::switch_partition(s, 1),
        Action::MarkStart => return record::mark(s, true),
        Action::MarkEnd => return record::mark(s, false),
        Action::Copy => return record::copy(s),
        Action::Save => return save::open(s),
        Action::Merge => return merged::toggle(s),
    }
    Vec::new()
}

/// Whether an action changes what is on screen (another view, another mode, another page), so an
/// old status line would describe something no longer shown. Moving the cursor, refreshing and
/// opening help, a prompt or a dialog keep it (a dialog says its own outcome).
fn changes_view(a: Action) -> bool {
    matches!(
        a,
        Action::Quit
            | Action::Back
            | Action::Topics
            | Action::Groups
            | Action::Enter
            | Action::Messages
            | Action::Merge
            | Action::Tail
            | Action::Backlog
            | Action::PageUp
            | Action::PageDown
    )
}
