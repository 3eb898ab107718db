//! Replay records of a topic into a topic (by offsets or by time): a form, the plan as a preview
//! (records per partition), then the copy with `depot.origin.*` headers.

use super::{Dialog, forms, working};
use crate::backend::BResult;
use crate::console::effect::Effect;
use crate::console::form::{Field, Form, FormField};
use crate::console::state::{Level, Overlay, State, View};
use crate::console::view::util::*;
use crate::core::replay::ORIGIN_PREFIX;
use crate::core::*;
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayField {
    Range,
    From,
    To,
    Partitions,
    Target,
}

impl FormField for ReplayField {
    const ALL: &'static [Self] = &[Self::Range, Self::From, Self::To, Self::Partitions, Self::Target];
    fn label(self) -> &'static str {
        match self {
            Self::Range => "range",
            Self::From => "from",
            Self::To => "to",
            Self::Partitions => "partitions",
            Self::Target => "target",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    pub topic: String,
    pub form: Form<ReplayField>,
}

/// `R`: the form for the selected partition (from the topics list: all partitions), its whole
/// range (in the messages view: the marked range), into the same topic.
pub fn open(s: &mut State) -> Vec<Effect> {
    let Some((topic, partition)) = s.selected_topic_partition() else {
        s.ui.say(Level::Info, "select a topic to replay from");
        return Vec::new();
    };
    if s.refuse_write("replay") || s.refuse_unsupported(s.data.caps.replay, "replay") {
        return Vec::new();
    }
    let (mut from, mut to) = match s.data.topic(&topic).and_then(|t| t.partitions.get(partition as usize)) {
        Some(p) => (p.log_start.to_string(), p.end_offset.to_string()),
        None => ("0".into(), "0".into()),
    };
    // Marks in the messages view (v / V) give the range: from the start mark to the end mark.
    if let (View::Messages, Some(m)) = (s.nav.view(), s.data.messages.as_ref()) {
        match m.marks {
            (Some(a), Some(b)) => (from, to) = (a.min(b).to_string(), (a.max(b) + 1).to_string()),
            (Some(a), None) => from = a.to_string(),
            (None, Some(b)) => to = (b + 1).to_string(),
            (None, None) => {}
        }
    }
    let parts = if matches!(s.nav.view(), View::Topics) { "all".to_string() } else { partition.to_string() };
    let form = Form::new(&format!("Replay from {topic}"), "Preview", |f| match f {
        ReplayField::Range => Field::choice(&["offsets", "time"], 0, "←/→ to choose"),
        ReplayField::From => Field::text(&from, "offset, or time (RFC 3339 or -1h)"),
        ReplayField::To => Field::text(&to, "exclusive end: offset, or time"),
        ReplayField::Partitions => Field::text(&parts, "all, or 0,2"),
        ReplayField::Target => Field::text(&topic, "topic to copy into"),
    });
    s.overlay = Some(Overlay::Dialog(Dialog::Replay(Replay { topic, form })));
    Vec::new()
}

pub fn key(s: &mut State, d: Replay, k: KeyEvent) -> Vec<Effect> {
    let Replay { topic, form } = d;
    forms::key(s, form, &k, |s, f| submit(s, &topic, f), |form| Dialog::Replay(Replay { topic: topic.clone(), form }))
}

/// Asks the backend for the plan.
fn submit(s: &mut State, topic: &str, f: &Form<ReplayField>) -> Result<Vec<Effect>, String> {
    let (from, to) = (f.value(ReplayField::From), f.value(ReplayField::To));
    let range = if f.choice(ReplayField::Range) == 0 {
        let n = |v: &str| v.trim().parse::<u64>().map_err(|_| format!("{v:?} is not an offset"));
        ReplayRange::Offsets { from: n(from)?, to: n(to)? }
    } else {
        ReplayRange::Time { since_ms: forms::parse_time(s, from)?, until_ms: forms::parse_time(s, to)? }
    };
    let target = Some(f.value(ReplayField::Target).trim().to_string()).filter(|t| !t.is_empty());
    let req = ReplayRequest {
        source: topic.to_string(),
        partitions: forms::parse_partitions(f.value(ReplayField::Partitions))?,
        range,
        target,
    };
    working::show(s, "counting the records to replay…");
    s.retry = Some(Box::new(Dialog::Replay(Replay { topic: topic.to_string(), form: f.clone() })));
    Ok(vec![Effect::PlanReplay(req)])
}

/// The plan arrived: show it. A failed plan brings the form back as typed, with the reason.
pub fn planned(s: &mut State, r: BResult<ReplayPlan>) -> Vec<Effect> {
    if let Err(e) = &r {
        let msg = format!("replay: {e}");
        if working::reopen_form(s, &msg, |d, m| {
            if let Dialog::Replay(r) = d {
                r.form.error = Some(m);
            }
        }) {
            s.ui.say(Level::Error, msg);
            return Vec::new();
        }
    }
    s.retry = None;
    working::planned(s, r, "replay", Dialog::ReplayPreview)
}

/// Enter copies (when there is something to copy), esc cancels.
pub fn preview_key(s: &mut State, plan: ReplayPlan, k: KeyEvent) -> Vec<Effect> {
    match k.code {
        KeyCode::Enter | KeyCode::Char('y') if plan.total > 0 => {
            working::show(s, format!("replaying {} record(s)…", plan.total));
            vec![Effect::ExecuteReplay(plan)]
        }
        KeyCode::Esc | KeyCode::Char('n') => {
            s.ui.say(Level::Info, "replay cancelled; nothing copied");
            Vec::new()
        }
        _ => {
            s.overlay = Some(Overlay::Dialog(Dialog::ReplayPreview(plan)));
            Vec::new()
        }
    }
}

/// The copy ran.
pub fn done(s: &mut State, r: BResult<ReplayResult>) -> Vec<Effect> {
    working::done(s, r, "replay failed", |_, res| format!("replayed {} record(s) into {}", res.appended, res.target))
}

pub fn draw(f: &mut Frame, area: Rect, s: &State, d: &Replay) {
    crate::console::view::form::draw(f, area, s, &d.form);
}

/// The plan: records per partition, then the keys.
pub fn draw_preview(f: &mut Frame, area: Rect, s: &State, plan: &ReplayPlan) {
    let t = &s.theme;
    let title = format!("replay {} → {}: {} record(s)", plan.source, plan.target, plan.total);
    let [tab_area, foot] = table_popup(f, area, s, 70, title, plan.rows.len(), 1);
    let rows = plan
        .rows
        .iter()
        .map(|row| {
            vec![
                num(row.partition.to_string()),
                num(row.from.to_string()),
                num(row.to.to_string()),
                num(row.count.to_string()),
            ]
        })
        .collect();
    let widths = [Constraint::Length(4), Constraint::Length(10), Constraint::Length(10), Constraint::Length(10)];
    f.render_widget(table(s, &[" PART", " FROM", " TO (excl)", " RECORDS"], &widths, rows, None, 0), tab_area);
    let line = if plan.total == 0 {
        Line::from(Span::styled("nothing in that range — esc", t.style(t.warn)))
    } else {
        let mut keys =
            key_hint(s, "enter", t.accent, format!("copy {} record(s) with {ORIGIN_PREFIX}* headers   ", plan.total))
                .to_vec();
        keys.extend(key_hint(s, "esc", t.muted, "cancel"));
        Line::from(keys)
    };
    f.render_widget(Paragraph::new(line), foot);
}
