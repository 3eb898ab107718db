//! The `:` command line (`:topics`, `:groups`, `:topic NAME`, `:group NAME`, `:ctx [NAME]`, `:q`)
//! and what a finished `:ctx` switch changes.

use super::nav::{push_view, root};
use crate::console::dialogs::working;
use crate::console::effect::Effect;
use crate::console::state::{Level, Overlay, Refresh, State, Switched, Trends, View};

pub fn command(s: &mut State, line: &str) -> Vec<Effect> {
    let mut words = line.split_whitespace();
    let cmd = words.next().unwrap_or("");
    let arg = words.next();
    match (cmd, arg) {
        ("", _) => {}
        ("q" | "quit" | "q!", _) => {
            s.ui.quit = true;
            return vec![Effect::Quit];
        }
        ("topics" | "t" | "topic", None) => root(s, View::Topics),
        ("groups" | "g" | "group" | "cg", None) => root(s, View::Groups),
        ("topic" | "t", Some(name)) => {
            if s.data.topic(name).is_some() {
                root(s, View::Topics);
                push_view(s, View::Topic(name.to_string()));
            } else {
                s.ui.say(Level::Error, format!("no topic named {name}"));
            }
        }
        ("group" | "g" | "cg", Some(name)) => {
            if s.data.group(name).is_some() {
                root(s, View::Groups);
                push_view(s, View::Group(name.to_string()));
            } else {
                s.ui.say(Level::Error, format!("no group named {name}"));
            }
        }
        ("help" | "h", _) => s.overlay = Some(Overlay::Help),
        ("ctx" | "context", None) => {
            let contexts = &s.settings.contexts;
            if contexts.is_empty() {
                s.ui.say(Level::Info, "no contexts: add [contexts.NAME] tables to the config file (see the README)");
            } else {
                let current = s.settings.context.as_ref().map(|c| c.name.clone()).unwrap_or_default();
                let list: Vec<String> =
                    contexts.iter().map(|c| if *c == current { format!("[{c}]") } else { c.clone() }).collect();
                s.ui.say(Level::Info, format!("contexts: {} — :ctx NAME switches", list.join(" ")));
            }
        }
        ("ctx" | "context", Some(name)) => {
            if s.settings.contexts.iter().any(|c| c == name) {
                working::show(s, format!("connecting to {name}…"));
                return vec![Effect::SwitchContext(name.to_string())];
            }
            let msg = if s.settings.contexts.is_empty() {
                format!("no context named {name}: the config file defines none (see the README's Contexts section)")
            } else {
                format!("no context named {name} (known: {})", s.settings.contexts.join(", "))
            };
            s.ui.say(Level::Error, msg);
        }
        (other, _) => s.ui.say(
            Level::Error,
            format!(":{other}: unknown command (try :topics, :groups, :group NAME, :topic NAME, :ctx NAME, :q)"),
        ),
    }
    Vec::new()
}

/// After `:ctx`: everything on screen belonged to the old engine.
pub fn switched(s: &mut State, r: Result<Switched, String>) -> Vec<Effect> {
    working::close(s);
    match r {
        Ok(sw) => {
            let name = sw.context.as_ref().map(|c| c.name.clone()).unwrap_or_default();
            s.settings.target = sw.target;
            s.settings.context = sw.context;
            s.settings.read_only = sw.read_only;
            s.data.caps.read_only = sw.read_only;
            s.nav.to_root();
            s.nav.to_first_row();
            s.data.clear_lists();
            s.trends = Trends::default();
            s.refresh = Refresh::default();
            s.ui.say(Level::Ok, format!("switched to context {name}"));
            super::start(s)
        }
        Err(e) => {
            s.ui.say(Level::Error, format!("could not switch: {e}"));
            Vec::new()
        }
    }
}
