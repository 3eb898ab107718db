//! Reset a group's offsets (kafka-consumer-groups' modes): a form, the plan as a before/after
//! preview (refused while the group has live members unless forced), then the journaled reset.
//! The undo's plan (see [`undo`](super::undo)) comes back into the same preview.

use super::{Dialog, forms, working};
use crate::backend::BResult;
use crate::console::effect::Effect;
use crate::console::form::{Field, Form, FormField};
use crate::console::state::{Level, Overlay, State, View, group_topics};
use crate::console::view::util::*;
use crate::core::format::opt;
use crate::core::time::parse_duration_ms;
use crate::core::*;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetField {
    Group,
    Topic,
    Mode,
    Value,
    Partitions,
}

impl FormField for ResetField {
    const ALL: &'static [Self] = &[Self::Group, Self::Topic, Self::Mode, Self::Value, Self::Partitions];
    fn label(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::Topic => "topic",
            Self::Mode => "mode",
            Self::Value => "value",
            Self::Partitions => "partitions",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reset {
    /// The group is the form's first field (a choice when several groups consume the topic).
    pub form: Form<ResetField>,
}

/// The plan, before it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    pub plan: ResetPlan,
    /// Run it although the group has live members.
    pub force: bool,
}

/// Where a reset form opened from a partition row or a record starts: that topic, that
/// partition, and (from a record) mode to-offset at its offset.
struct Here {
    topic: String,
    partition: u32,
    offset: Option<u64>,
}

/// The groups the form offers and the row the cursor is on. From a group's partition row: that
/// group. From a topic's partition row or a record: every group consuming the topic, the backlog's
/// group (or else the first) chosen — an operator with several consumers picks one in the form.
fn here(s: &State) -> (Vec<String>, usize, Option<Here>) {
    let consumers = |topic: &str, preferred: Option<String>| {
        let names: Vec<String> = s
            .data
            .groups
            .iter()
            .filter(|g| g.partitions.iter().any(|p| p.topic == topic))
            .map(|g| g.name.clone())
            .collect();
        let chosen = preferred.and_then(|p| names.iter().position(|n| *n == p)).unwrap_or(0);
        (names, chosen)
    };
    match s.nav.view() {
        View::Group(g) => {
            let row = s.data.group(g).and_then(|g| g.partitions.get(s.nav.screen().selected));
            let here = row.map(|p| Here { topic: p.topic.clone(), partition: p.partition, offset: None });
            (vec![g.clone()], 0, here)
        }
        View::Topic(_) => match s.selected_topic_partition() {
            Some((topic, partition)) => {
                let (names, chosen) = consumers(&topic, None);
                (names, chosen, Some(Here { topic, partition, offset: None }))
            }
            None => (Vec::new(), 0, None),
        },
        View::Messages => {
            let Some(m) = s.data.messages.as_ref() else { return (Vec::new(), 0, None) };
            let record = s.visible_messages().get(s.nav.screen().selected).map(|r| (r.partition, r.offset));
            let (names, chosen) = consumers(&m.topic, s.current_group());
            let (partition, offset) = record.map_or((m.partition, None), |(p, o)| (p, Some(o)));
            (names, chosen, Some(Here { topic: m.topic.clone(), partition, offset }))
        }
        _ => (s.current_group().into_iter().collect(), 0, None),
    }
}

/// `o`: the form for the group in view. From a partition row its partitions default to that
/// partition; from a record in the messages view it opens as a reset to that record's offset.
pub fn open(s: &mut State) -> Vec<Effect> {
    let (groups, chosen, here) = here(s);
    let Some(group) = groups.get(chosen).cloned() else {
        let msg = match &here {
            Some(h) => format!("no group consumes {} yet, so there is no group to reset", h.topic),
            None => "select a group to reset (Groups view: 2)".to_string(),
        };
        s.ui.say(Level::Info, msg);
        return Vec::new();
    };
    if s.refuse_write("reset offsets") || s.refuse_unsupported(!s.data.caps.reset_modes.is_empty(), "reset offsets") {
        return Vec::new();
    }
    let g = s.data.group(&group);
    let topics = g.map(group_topics).unwrap_or_default();
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    let topic_idx = here.as_ref().and_then(|h| topics.iter().position(|t| *t == h.topic)).unwrap_or(0);
    let part = here.as_ref().map_or("all".to_string(), |h| h.partition.to_string());
    let to_offset = ResetMode::ALL.iter().position(|m| *m == ResetMode::ToOffset).unwrap_or(2);
    let (mode, value) = match here.as_ref().and_then(|h| h.offset) {
        Some(o) => (to_offset, o.to_string()),
        None => (3, "-1".to_string()),
    };
    if topics.is_empty() {
        s.ui.say(Level::Info, format!("group {group} has no topics to reset"));
        return Vec::new();
    }
    let group_refs: Vec<&str> = groups.iter().map(String::as_str).collect();
    let (title, group_hint) = match (groups.len(), &here) {
        (1, _) | (_, None) => (format!("Reset offsets of {group}"), "the group in view".to_string()),
        (n, Some(h)) => ("Reset offsets".to_string(), format!("←/→: {n} groups consume {}", h.topic)),
    };
    let form = Form::new(&title, "Preview", |f| match f {
        ResetField::Group => Field::choice(&group_refs, chosen, &group_hint),
        ResetField::Topic => Field::choice(&topic_refs, topic_idx, "←/→ to choose"),
        ResetField::Mode => Field::choice(&ResetMode::ALL.map(ResetMode::name), mode, "←/→ to choose"),
        ResetField::Value => Field::text(&value, "offset N, shift ±N, time (RFC 3339, -15m) or duration (15m)"),
        ResetField::Partitions => Field::text(&part, "all, or 0,2"),
    });
    s.overlay = Some(Overlay::Dialog(Dialog::Reset(Reset { form })));
    Vec::new()
}

pub fn key(s: &mut State, d: Reset, k: KeyEvent) -> Vec<Effect> {
    forms::key(s, d.form, &k, submit, |form| Dialog::Reset(Reset { form }))
}

/// Asks the backend for the plan, for the group chosen in the form.
fn submit(s: &mut State, f: &Form<ResetField>) -> Result<Vec<Effect>, String> {
    let group = f.value(ResetField::Group).to_string();
    let topic = f.value(ResetField::Topic).to_string();
    let v = f.value(ResetField::Value).trim();
    let int = |v: &str| v.parse::<i64>().map_err(|_| format!("value {v:?} is not a number"));
    let spec = match ResetMode::ALL.get(f.choice(ResetField::Mode)).copied().unwrap_or(ResetMode::ToEarliest) {
        ResetMode::ToEarliest => ResetSpec::ToEarliest,
        ResetMode::ToLatest => ResetSpec::ToLatest,
        ResetMode::ToOffset => ResetSpec::ToOffset(int(v)?.max(0) as u64),
        ResetMode::ShiftBy => ResetSpec::ShiftBy(int(v)?),
        ResetMode::ToDatetime => ResetSpec::ToDatetime(forms::parse_time(s, v)?),
        ResetMode::ByDuration => ResetSpec::ByDuration(parse_duration_ms(v).map_err(|e| e.0)?),
    };
    let req = ResetRequest { topic, partitions: forms::parse_partitions(f.value(ResetField::Partitions))?, spec };
    working::show(s, "planning the reset…");
    s.retry = Some(Box::new(Dialog::Reset(Reset { form: f.clone() })));
    Ok(vec![Effect::PlanReset { group, req }])
}

/// The plan (of a reset or an undo) arrived: show it. A failed plan of the form brings the form
/// back as typed, with the reason.
pub fn planned(s: &mut State, r: BResult<ResetPlan>) -> Vec<Effect> {
    if let Err(e) = &r {
        let msg = format!("reset: {e}");
        if working::reopen_form(s, &msg, |d, m| {
            if let Dialog::Reset(r) = d {
                r.form.error = Some(m);
            }
        }) {
            s.ui.say(Level::Error, msg);
            return Vec::new();
        }
    }
    s.retry = None;
    working::planned(s, r, "reset", |plan| Dialog::ResetPreview(Preview { plan, force: false }))
}

/// Enter executes (unless live members refuse it), f toggles force, esc cancels.
pub fn preview_key(s: &mut State, p: Preview, k: KeyEvent) -> Vec<Effect> {
    let reopen = |s: &mut State, p: Preview| s.overlay = Some(Overlay::Dialog(Dialog::ResetPreview(p)));
    let enter_runs = enter_executes(s, &p);
    match k.code {
        KeyCode::Enter | KeyCode::Char('y') => {
            if !p.plan.live_members.is_empty() && !p.force {
                reopen(s, p);
                s.ui.say(Level::Warn, "the group has live members: press f to force, or stop them first");
                return Vec::new();
            }
            if k.code == KeyCode::Enter && !enter_runs {
                reopen(s, p);
                s.ui.say(Level::Warn, "enter alone does not run this reset: press y to execute it, esc to cancel");
                return Vec::new();
            }
            working::show(s, "resetting…");
            vec![Effect::ExecuteReset { plan: p.plan, force: p.force }]
        }
        KeyCode::Char('f') => {
            reopen(s, Preview { force: !p.force, ..p });
            Vec::new()
        }
        KeyCode::Esc | KeyCode::Char('n') => {
            s.ui.say(Level::Info, "reset cancelled; nothing changed");
            Vec::new()
        }
        _ => {
            reopen(s, p);
            Vec::new()
        }
    }
}

/// Whether enter alone executes the plan: only when nothing is forced under live members and the
/// engine journals resets (u undoes it); otherwise only y does.
fn enter_executes(s: &State, p: &Preview) -> bool {
    p.plan.live_members.is_empty() && s.data.caps.undo
}

/// The reset (or undo) ran: what it did, and how to undo it.
pub fn done(s: &mut State, r: BResult<ResetRecord>) -> Vec<Effect> {
    working::done(s, r, "reset refused", |_, rec| {
        let what = match rec.undo_of {
            Some(id) => format!("undid reset #{id}"),
            None => format!("reset #{} ({}) executed — press u in the group to undo", rec.id, rec.spec),
        };
        format!("group {}: {what}", rec.group)
    })
}

pub fn draw(f: &mut Frame, area: Rect, s: &State, d: &Reset) {
    crate::console::view::form::draw(f, area, s, &d.form);
}

/// The plan: per partition before, after, the move and the range, with notes; then whether
/// live members refuse it and the keys.
pub fn draw_preview(f: &mut Frame, area: Rect, s: &State, p: &Preview) {
    let (plan, force) = (&p.plan, p.force);
    let t = &s.theme;
    let title = match plan.undo_of {
        Some(id) => format!("undo reset #{id} of {} on {}", plan.group, plan.topic),
        None => format!("reset {} on {}: {}", plan.group, plan.topic, plan.spec),
    };
    let widths = [
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(13),
        Constraint::Fill(1),
    ];
    let note_w = fill_width(popup(area, 100, 1).width, &widths, 1);
    // Notes too long for their column are also written out in full below the table.
    let long_notes: Vec<Line> = plan
        .rows
        .iter()
        .filter_map(|row| Some((row.partition, row.note.as_deref()?)))
        .filter(|(_, note)| note.chars().count() > note_w)
        .map(|(p, note)| Line::from(Span::styled(format!("partition {p}: {note}"), t.style(t.warn))))
        .collect();
    // Below the table: the long notes, whether it would be refused, the keys.
    let [tab_area, foot] = table_popup(f, area, s, 100, title, plan.rows.len(), long_notes.len() as u16 + 2);
    let rows = plan
        .rows
        .iter()
        .map(|row| {
            let mv = match row.before {
                Some(b) => format!("{:+}", row.after as i128 - b as i128),
                None => "-".into(),
            };
            vec![
                num(row.partition.to_string()),
                num(opt(row.before)),
                num_in(s, row.after.to_string(), t.accent),
                num(mv),
                num(format!("{}..{}", row.log_start, row.end_offset)),
                cell(s, clip(row.note.as_deref().unwrap_or_default(), note_w), t.warn),
            ]
        })
        .collect();
    let headers = [" PARTITION", " BEFORE", " AFTER", " MOVE", " RANGE", "NOTE"];
    f.render_widget(table(s, &headers, &widths, rows, None, 0), tab_area);
    let mut lines = long_notes;
    if !plan.live_members.is_empty() {
        let state = if force { "FORCED: offsets move under the running members" } else { "refused unless forced" };
        lines.push(Line::from(Span::styled(
            format!("the group has {} live member(s): {state}", plan.live_members.len()),
            t.bold(if force { t.danger } else { t.warn }),
        )));
    } else {
        lines.push(Line::from(Span::styled("nothing has changed yet: this is the plan", t.style(t.muted))));
    }
    // While it would be refused, enter is not offered: f is what moves it on.
    let mut keys = if enter_executes(s, p) {
        key_hint(s, "enter", t.danger, "execute (journaled; u undoes)   ").to_vec()
    } else if force {
        key_hint(s, "y", t.danger, "execute under the live members   ").to_vec()
    } else if plan.live_members.is_empty() {
        key_hint(s, "y", t.danger, "execute (this engine cannot undo it)   ").to_vec()
    } else {
        Vec::new()
    };
    if !plan.live_members.is_empty() {
        let what = if force { "don't force   " } else { "force   " };
        keys.extend(key_hint(s, "f", t.warn, what));
    }
    keys.extend(key_hint(s, "esc", t.muted, "cancel"));
    lines.push(Line::from(keys));
    f.render_widget(Paragraph::new(lines), foot);
}
