//! Delete a topic: a confirmation in the danger colour that runs only once the topic's name is
//! typed; once deleted, the views of it close.

use super::confirm::{self, Confirm};
use super::working;
use crate::backend::BResult;
use crate::console::effect::Effect;
use crate::console::state::{State, View};

/// `D`: asks about the selected topic (unless read-only, or the engine cannot delete topics).
pub fn open(s: &mut State) -> Vec<Effect> {
    let Some(t) = s.selected_topic() else { return Vec::new() };
    if s.refuse_write("delete topics") || s.refuse_unsupported(s.data.caps.delete_topics, "delete topics") {
        return Vec::new();
    }
    confirm::ask(
        s,
        Confirm {
            title: "Delete topic".into(),
            text: format!("Delete topic {t} and all its records? This cannot be undone."),
            working: format!("deleting topic {t}…"),
            effect: Effect::DeleteTopic(t.clone()),
            danger: true,
            typed: Some(t),
            input: String::new(),
        },
    );
    Vec::new()
}

/// The topic is gone: so are its views (and a messages view above them); the lists refresh.
pub fn deleted(s: &mut State, name: String, r: BResult<()>) -> Vec<Effect> {
    working::done(s, r, "delete failed", |s, ()| {
        while matches!(s.nav.view(), View::Topic(t) if *t == name)
            || (*s.nav.view() == View::Messages && s.nav.stack.len() > 1)
        {
            s.nav.stack.pop();
        }
        format!("deleted topic {name}")
    })
}
