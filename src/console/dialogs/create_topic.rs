//! Create a topic: name, partitions and retention, a confirmation, then the new topic on the
//! status line.

use super::confirm::{self, Confirm};
use super::{Dialog, forms, working};
use crate::backend::BResult;
use crate::console::effect::Effect;
use crate::console::form::{Field, Form, FormField};
use crate::console::state::{Overlay, State};
use crate::core::time::parse_duration_ms;
use crate::core::{TopicConfig, TopicInfo};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreateTopicField {
    Name,
    Partitions,
    Retention,
}

impl FormField for CreateTopicField {
    const ALL: &'static [Self] = &[Self::Name, Self::Partitions, Self::Retention];
    fn label(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Partitions => "partitions",
            Self::Retention => "retention",
        }
    }
}

/// `c`: the empty form (unless read-only, or the engine cannot create topics).
pub fn open(s: &mut State) -> Vec<Effect> {
    if s.refuse_write("create topics") || s.refuse_unsupported(s.data.caps.create_topics, "create topics") {
        return Vec::new();
    }
    let form = Form::new("Create topic", "Create", |f| match f {
        CreateTopicField::Name => Field::text("", "letters, digits, . _ -"),
        CreateTopicField::Partitions => Field::text("1", "1..10000"),
        CreateTopicField::Retention => Field::text("", "e.g. 7d or 1h; empty keeps everything"),
    });
    s.overlay = Some(Overlay::Dialog(Dialog::CreateTopic(form)));
    Vec::new()
}

pub fn key(s: &mut State, form: Form<CreateTopicField>, k: KeyEvent) -> Vec<Effect> {
    forms::key(s, form, &k, submit, Dialog::CreateTopic)
}

fn submit(s: &mut State, f: &Form<CreateTopicField>) -> Result<Vec<Effect>, String> {
    let name = f.value(CreateTopicField::Name).trim().to_string();
    if name.is_empty() {
        return Err("give the topic a name".into());
    }
    let partitions: u32 =
        f.value(CreateTopicField::Partitions).trim().parse().map_err(|_| "partitions must be a number".to_string())?;
    let retention_ms = match f.value(CreateTopicField::Retention).trim() {
        "" => None,
        r => Some(parse_duration_ms(r).map_err(|e| e.0)?),
    };
    let config = TopicConfig { partitions, retention_ms, retention_bytes: None, segment_bytes: None };
    confirm::ask(
        s,
        Confirm {
            title: "Create topic".into(),
            text: format!("Create topic {name} with {partitions} partition(s)?"),
            working: format!("creating topic {name}…"),
            effect: Effect::CreateTopic { name, config },
            danger: false,
            typed: None,
            input: String::new(),
        },
    );
    Ok(Vec::new())
}

/// The topic exists: say so; the lists refresh.
pub fn created(s: &mut State, r: BResult<TopicInfo>) -> Vec<Effect> {
    working::done(s, r, "create failed", |_, t| {
        format!("created topic {} with {} partition(s)", t.name, t.partitions.len())
    })
}

pub fn draw(f: &mut Frame, area: Rect, s: &State, form: &Form<CreateTopicField>) {
    crate::console::view::form::draw(f, area, s, form);
}
