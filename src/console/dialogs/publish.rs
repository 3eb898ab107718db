//! Publish to a topic: a form (partition, key, headers, value, repeat, or a file of lines), a
//! confirmation, then the acks on the status line.

use super::confirm::{self, Confirm};
use super::{Dialog, forms, working};
use crate::backend::BResult;
use crate::console::effect::Effect;
use crate::console::form::{Field, Form, FormField};
use crate::console::state::{Level, Overlay, State, View};
use crate::core::*;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublishField {
    Partition,
    Key,
    Headers,
    Value,
    Repeat,
    File,
}

impl FormField for PublishField {
    const ALL: &'static [Self] = &[Self::Partition, Self::Key, Self::Headers, Self::Value, Self::Repeat, Self::File];
    fn label(self) -> &'static str {
        match self {
            Self::Partition => "partition",
            Self::Key => "key",
            Self::Headers => "headers",
            Self::Value => "value",
            Self::Repeat => "repeat",
            Self::File => "file",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Publish {
    pub topic: String,
    pub form: Form<PublishField>,
}

/// `p`: publish to the selected topic (in the messages view, to its partition).
pub fn open(s: &mut State) -> Vec<Effect> {
    let Some(topic) = s.selected_topic() else {
        s.ui.say(Level::Info, "select a topic to publish to (Topics view: 1)");
        return Vec::new();
    };
    if s.refuse_write("publish") {
        return Vec::new();
    }
    let partition = match (s.nav.view(), &s.data.messages) {
        (View::Messages, Some(m)) => m.partition.to_string(),
        _ => String::new(),
    };
    let form = Form::new(&format!("Publish to {topic}"), "Publish", |f| match f {
        PublishField::Partition => Field::text(&partition, "empty: by key, or the next partition in turn"),
        PublishField::Key => Field::text("", "optional"),
        PublishField::Headers => Field::text("", "name=value, name=value"),
        PublishField::Value => Field::multiline("", "enter adds a line; tab moves on"),
        PublishField::Repeat => Field::text("1", "publish this many copies"),
        PublishField::File => Field::text("", "or: a file, one record per line"),
    });
    s.overlay = Some(Overlay::Dialog(Dialog::Publish(Publish { topic, form })));
    Vec::new()
}

pub fn key(s: &mut State, d: Publish, k: KeyEvent) -> Vec<Effect> {
    let Publish { topic, form } = d;
    forms::key(s, form, &k, |s, f| submit(s, &topic, f), |form| Dialog::Publish(Publish { topic: topic.clone(), form }))
}

/// Builds the records (or the file's template) and asks before publishing.
fn submit(s: &mut State, topic: &str, f: &Form<PublishField>) -> Result<Vec<Effect>, String> {
    let partition = match f.value(PublishField::Partition).trim() {
        "" => None,
        p => Some(p.parse::<u32>().map_err(|_| format!("partition {p:?} is not a number"))?),
    };
    let key = Some(f.value(PublishField::Key)).filter(|k| !k.is_empty()).map(Payload::text);
    let headers = parse_headers(f.value(PublishField::Headers))?;
    // The template's value is each line's (or the form's) when the records are made.
    let template = OutRecord { key, value: None, headers, partition };
    let file = f.value(PublishField::File).trim();
    let (effect, what, doing) = if !file.is_empty() {
        let doing = format!("publishing the lines of {file} to {topic}…");
        let effect = Effect::PublishFile { topic: topic.to_string(), path: file.to_string(), template };
        (effect, format!("every line of {file}"), doing)
    } else {
        let repeat: usize =
            f.value(PublishField::Repeat).trim().parse().map_err(|_| "repeat must be a number".to_string())?;
        if repeat == 0 || repeat > 100_000 {
            return Err("repeat must be between 1 and 100000".into());
        }
        let value = Payload::text(f.value(PublishField::Value));
        let records: Vec<OutRecord> =
            (0..repeat).map(|_| OutRecord { value: Some(value.clone()), ..template.clone() }).collect();
        let (what, doing) = (format!("{repeat} record(s)"), format!("publishing {repeat} record(s) to {topic}…"));
        (Effect::Publish { topic: topic.to_string(), req: PublishRequest { records, producer: None } }, what, doing)
    };
    confirm::ask(
        s,
        Confirm {
            title: "Publish".into(),
            text: format!("Publish {what} to {topic}?"),
            effect,
            danger: false,
            typed: None,
            input: String::new(),
            working: doing,
        },
    );
    Ok(Vec::new())
}

fn parse_headers(v: &str) -> Result<Vec<Header>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| match h.split_once('=') {
            Some((n, val)) if !n.trim().is_empty() => {
                Ok(Header { name: n.trim().into(), value: Some(Payload::text(val.trim())) })
            }
            _ => Err(format!("header {h:?} is not name=value")),
        })
        .collect()
}

/// The acks: where the records went; the lists refresh.
pub fn published(s: &mut State, r: BResult<Vec<Ack>>) -> Vec<Effect> {
    working::done(s, r, "publish failed", |_, acks| {
        let parts: BTreeSet<u32> = acks.iter().map(|a| a.partition).collect();
        let last = acks.last().map(|a| format!(", last at offset {}", a.offset)).unwrap_or_default();
        format!(
            "published {} record(s) to {} (partition {}){last}",
            acks.len(),
            acks.first().map(|a| a.topic.as_str()).unwrap_or("?"),
            parts.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",")
        )
    })
}

pub fn draw(f: &mut Frame, area: Rect, s: &State, d: &Publish) {
    crate::console::view::form::draw(f, area, s, &d.form);
}
