//! Pull by hand: ask as which group, from which topic, how many; then the pulled records, and c
//! commits their offsets (esc leaves them uncommitted: the group gets them again).

use super::{Dialog, forms, working};
use crate::backend::BResult;
use crate::console::effect::Effect;
use crate::console::form::{Field, Form, FormField};
use crate::console::state::{Level, Overlay, State, View, group_topics};
use crate::console::update::refresh;
use crate::console::view::util::*;
use crate::core::{PullRequest, PullResult, TOMBSTONE};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullField {
    Group,
    Topic,
    Count,
}

impl FormField for PullField {
    const ALL: &'static [Self] = &[Self::Group, Self::Topic, Self::Count];
    fn label(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::Topic => "topic",
            Self::Count => "count",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ask {
    /// The group the form was opened for.
    pub group: String,
    pub form: Form<PullField>,
}

/// `l`: as the group in view, from its topics; or from the selected topic as `depot-console`.
pub fn open(s: &mut State) -> Vec<Effect> {
    let Some(group) = s
        .current_group()
        .or_else(|| if let View::Topic(_) | View::Topics = s.nav.view() { Some(String::new()) } else { None })
    else {
        s.ui.say(Level::Info, "select a group (Groups view: 2) or a topic to pull from");
        return Vec::new();
    };
    if s.refuse_write("pull (a pull joins the group)") {
        return Vec::new();
    }
    let topics: Vec<String> = match s.data.group(&group) {
        Some(g) if !group.is_empty() => group_topics(g),
        _ => s.selected_topic().into_iter().collect(),
    };
    if topics.is_empty() {
        s.ui.say(Level::Info, "no topic to pull from");
        return Vec::new();
    }
    let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    let group = if group.is_empty() { "depot-console".to_string() } else { group };
    let form = Form::new("Pull by hand", "Pull", |f| match f {
        PullField::Group => Field::text(&group, "pull as this group (joins it briefly, which rebalances it)"),
        PullField::Topic => Field::choice(&refs, 0, "←/→ to choose"),
        PullField::Count => Field::text("10", "records to pull"),
    });
    s.overlay = Some(Overlay::Dialog(Dialog::PullAsk(Ask { group, form })));
    Vec::new()
}

pub fn key(s: &mut State, d: Ask, k: KeyEvent) -> Vec<Effect> {
    let Ask { group, form } = d;
    forms::key(s, form, &k, submit, |form| Dialog::PullAsk(Ask { group: group.clone(), form }))
}

/// Pulls without committing.
fn submit(s: &mut State, f: &Form<PullField>) -> Result<Vec<Effect>, String> {
    let group = f.value(PullField::Group).trim().to_string();
    if group.is_empty() {
        return Err("name the group to pull as".into());
    }
    let max: usize = f.value(PullField::Count).trim().parse().map_err(|_| "count must be a number".to_string())?;
    if max == 0 || max > 10_000 {
        return Err("count must be between 1 and 10000".into());
    }
    let req = PullRequest { topic: f.value(PullField::Topic).to_string(), max, commit: false, wait_ms: 0 };
    working::show(s, format!("pulling as {group}…"));
    Ok(vec![Effect::Pull { group, req }])
}

/// The records arrived: show them (or say the group is caught up); the lists refresh.
pub fn pulled(s: &mut State, r: BResult<PullResult>) -> Vec<Effect> {
    match r {
        Ok(p) => {
            if p.messages.is_empty() {
                working::close(s);
                s.ui.say(Level::Info, format!("nothing to pull: group {} is caught up", p.group));
            } else {
                s.overlay = Some(Overlay::Dialog(Dialog::Pulled(p)));
                s.ui.dirty = true;
            }
            refresh(s)
        }
        Err(e) => {
            working::close(s);
            s.ui.say(Level::Error, format!("pull failed: {e}"));
            Vec::new()
        }
    }
}

/// c commits what was pulled, esc leaves it uncommitted (and says what that means).
pub fn pulled_key(s: &mut State, p: PullResult, k: KeyEvent) -> Vec<Effect> {
    match k.code {
        KeyCode::Char('c') => {
            working::show(s, "committing…");
            vec![Effect::Commit { group: p.group, offsets: p.offsets }]
        }
        KeyCode::Esc | KeyCode::Char('n') => {
            s.ui.say(
                Level::Warn,
                format!("not committed: group {} will get these {} record(s) again", p.group, p.messages.len()),
            );
            Vec::new()
        }
        _ => {
            s.overlay = Some(Overlay::Dialog(Dialog::Pulled(p)));
            Vec::new()
        }
    }
}

/// The commit ran; the lists refresh.
pub fn committed(s: &mut State, r: BResult<()>) -> Vec<Effect> {
    working::done(s, r, "commit failed", |_, ()| "committed".into())
}

pub fn draw(f: &mut Frame, area: Rect, s: &State, d: &Ask) {
    crate::console::view::form::draw(f, area, s, &d.form);
}

/// The pulled records and the keys.
pub fn draw_pulled(f: &mut Frame, area: Rect, s: &State, p: &PullResult) {
    let t = &s.theme;
    let title = format!("pulled {} record(s) as group {}", p.messages.len(), p.group);
    let [tab_area, foot] = table_popup(f, area, s, 100, title, p.messages.len(), 1);
    let widths = [Constraint::Length(4), Constraint::Length(8), Constraint::Length(12), Constraint::Fill(1)];
    // The table fills the popup inside its border: as wide as a bordered block two columns wider.
    let value_w = fill_width(tab_area.width + 2, &widths, 1);
    let rows = p
        .messages
        .iter()
        .map(|m| {
            vec![
                num(m.partition.to_string()),
                num(m.offset.to_string()),
                cell(s, m.key.as_ref().map(|k| clip(&k.display(), 12)).unwrap_or_default(), t.accent),
                match &m.value {
                    Some(v) => cell(s, clip(&v.display(), value_w), t.text),
                    None => cell(s, TOMBSTONE, t.muted),
                },
            ]
        })
        .collect();
    f.render_widget(table(s, &[" PART", " OFFSET", "KEY", "VALUE"], &widths, rows, None, 0), tab_area);
    let to: Vec<String> = p.offsets.iter().map(|o| format!("{}/{}→{}", o.topic, o.partition, o.offset)).collect();
    let mut keys = key_hint(s, "c", t.accent, format!("commit ({})   ", to.join(" "))).to_vec();
    keys.extend(key_hint(s, "esc", t.muted, "don't commit: the group gets them again"));
    f.render_widget(Paragraph::new(Line::from(keys)), foot);
}
