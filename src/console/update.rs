//! `update(state, msg) -> effects`: the console's pure state machine. No IO, no async; the
//! driver runs the effects and feeds their results back as messages. This file dispatches; the
//! areas are in `update/`, each dialog's logic in [`dialogs`](super::dialogs):
//!
//! - `keys`: a key → the overlay, a console action, or the side panel
//! - `nav`: cursor, scrolling, mouse, drilling in and out
//! - `lists`: the periodic refresh (coalescing, backoff) and the topics and groups it loads
//! - `messages`: the messages view (browse pages, live tail, a group's backlog)
//! - `overlay`: help, the `:` command line and the `/` filter
//! - `command`: the `:` commands and `:ctx` switching
//! - `panel`: the side panel's news and keys

mod command;
mod keys;
mod lists;
mod merged;
mod messages;
mod nav;
mod overlay;
mod panel;
mod record;
pub use record::MAX_COPY;
mod search;

pub use lists::refresh;
pub use merged::jump as merged_jump;
pub use messages::PAGE;
pub use nav::clamp_cursor;

use super::dialogs::{create_topic, delete_topic, publish, pull, replay, reset};
use super::effect::Effect;
use super::msg::{Loaded, Msg};
use super::state::State;

/// Applies one message; returns what the driver should do.
pub fn update(s: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(now) => lists::tick(s, now),
        Msg::Resize(w, h) => {
            s.ui.size = (w, h);
            clamp_cursor(s);
            s.ui.dirty = true;
            Vec::new()
        }
        Msg::Key(k) => {
            let fx = keys::key(s, k);
            // Keys change views, filters and panes: keep the cursor's row on screen.
            clamp_cursor(s);
            fx
        }
        Msg::Mouse(m) => nav::mouse(s, m),
        Msg::Loaded(l) => loaded(s, l),
        Msg::Switched(r) => command::switched(s, r),
        Msg::Panel(p) => panel::show(s, p),
    }
}

/// Starts the console: capabilities and the first lists.
pub fn start(s: &mut State) -> Vec<Effect> {
    let mut fx = vec![Effect::LoadCaps];
    fx.extend(refresh(s));
    fx
}

/// A backend answer, to whoever asked.
fn loaded(s: &mut State, l: Loaded) -> Vec<Effect> {
    match l {
        Loaded::Caps(r) => lists::caps(s, r),
        Loaded::Topics(r) => lists::topics(s, r),
        Loaded::Groups(r) => lists::groups(s, r),
        Loaded::Messages { seq, result } => messages::loaded(s, seq, result),
        Loaded::Merged { seq, result } => merged::loaded(s, seq, result),
        Loaded::Searched { seq, result } => search::searched(s, seq, result),
        Loaded::Copied(r) => record::copied(s, r),
        Loaded::Saved(r) => record::saved(s, r),
        Loaded::Published(r) => publish::published(s, r),
        Loaded::Pulled(r) => pull::pulled(s, r),
        Loaded::Committed(r) => pull::committed(s, r),
        Loaded::ResetPlanned(r) => reset::planned(s, r),
        Loaded::ResetDone(r) => reset::done(s, r),
        Loaded::ReplayPlanned(r) => replay::planned(s, r),
        Loaded::ReplayDone(r) => replay::done(s, r),
        Loaded::TopicCreated(r) => create_topic::created(s, r),
        Loaded::TopicDeleted(name, r) => delete_topic::deleted(s, name, r),
    }
}
