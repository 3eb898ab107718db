//! Header (breadcrumbs and target), status line and footer (the keys of the current view).

use crate::console::keymap::Action;
use crate::console::state::{Level, MsgMode, State, View};
use crate::console::view::util::clip;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn crumb(s: &State, v: &View) -> String {
    match v {
        View::Topics => "Topics".into(),
        View::Groups => "Groups".into(),
        View::Topic(t) => format!("topic {t}"),
        View::Group(g) => format!("group {g}"),
        // What the view shows of the partition, so the header never names a mode it left.
        View::Messages => match &s.data.messages {
            Some(m) => match &m.mode {
                MsgMode::Browse { .. } => format!("{} messages", m.scope()),
                MsgMode::Tail => format!("{} live tail", m.scope()),
                // From the group's own view the crumb before already names it.
                MsgMode::Backlog { group }
                    if s.nav.stack.iter().any(|x| matches!(&x.view, View::Group(g) if g == group)) =>
                {
                    format!("{} backlog", m.scope())
                }
                MsgMode::Backlog { group } => format!("{} backlog of {group}", m.scope()),
            },
            None => "messages".into(),
        },
    }
}

/// The breadcrumbs on the left; the context badge, the target and READ-ONLY on the right. When
/// they do not fit, the target is cut first, then the older crumbs: the badge (which engine this
/// is) and the current view's name always show.
pub fn header(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let width = area.width as usize;
    let w = |spans: &[Span]| -> usize { spans.iter().map(|s| s.content.chars().count()).sum() };
    let mut badge = Vec::new();
    if let Some(ctx) = &s.settings.context {
        let custom = ctx.color.as_deref().and_then(|c| crate::console::theme::color("color", c).ok());
        let style = match (ctx.danger, custom) {
            (_, Some(c)) if !t.mono => {
                ratatui::style::Style::default().fg(ratatui::style::Color::Black).bg(c).add_modifier(Modifier::BOLD)
            }
            (true, _) => t.bold(t.danger).add_modifier(Modifier::REVERSED),
            _ => t.selection(),
        };
        badge.push(Span::styled(format!(" ctx {} ", ctx.name), style));
        badge.push(Span::raw(" "));
    }
    let mut tail = Vec::new();
    if s.read_only() {
        tail.push(Span::raw(" "));
        tail.push(Span::styled(" READ-ONLY ", t.bold(t.warn).add_modifier(Modifier::REVERSED)));
    }
    tail.push(Span::raw(" "));
    let crumbs = |older: bool| -> Vec<Span<'static>> {
        let mut left = vec![Span::styled(" depot ", t.bold(t.accent))];
        let n = s.nav.stack.len();
        for (i, scr) in s.nav.stack.iter().enumerate() {
            let last = i + 1 == n;
            if !older && !last {
                if i == 0 {
                    left.push(Span::styled("▸ … ", t.style(t.muted)));
                }
                continue;
            }
            left.push(Span::styled("▸ ", t.style(t.muted)));
            let style = if last { t.bold(t.title) } else { t.style(t.text) };
            left.push(Span::styled(format!("{} ", crumb(s, &scr.view)), style));
        }
        left
    };
    let mut left = crumbs(true);
    let fixed = w(&badge) + w(&tail);
    if w(&left) + fixed + 1 > width && s.nav.stack.len() > 1 {
        left = crumbs(false);
    }
    // The current crumb gives way only to the badge.
    let room = width.saturating_sub(fixed);
    let before_last = w(&left[..left.len() - 1]);
    if w(&left) > room
        && let Some(last) = left.last_mut()
    {
        last.content = clip(&last.content, room.saturating_sub(before_last)).into();
    }
    let target_room = width.saturating_sub(w(&left) + fixed);
    let target = if target_room >= 8 { clip(&s.settings.target, target_room) } else { String::new() };
    let mut right = badge;
    right.push(Span::styled(target, t.style(t.muted)));
    right.extend(tail);
    let gap = width.saturating_sub(w(&left) + w(&right));
    left.push(Span::raw(" ".repeat(gap)));
    left.extend(right);
    f.render_widget(Paragraph::new(Line::from(left)), area);
}

/// The status line: the last message (or why the backend is away), wrapped over as many rows as
/// the layout gave it, else what the view shows.
pub fn status(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let message = crate::console::layout::status_message(s);
    let lines = match message {
        Some((level, _)) => {
            let (mark, color) = match level {
                Level::Info => ("·", t.text),
                Level::Ok => ("✓", t.ok),
                Level::Warn => ("!", t.warn),
                Level::Error => ("✗", t.error),
            };
            let wrapped = crate::console::layout::status_lines(s, area.width, area.height.max(1) as usize);
            wrapped
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    let lead = if i == 0 { format!(" {mark} ") } else { "   ".into() };
                    Line::from(vec![Span::styled(lead, t.bold(color)), Span::styled(text, t.style(color))])
                })
                .collect()
        }
        None => {
            let mut parts = Vec::new();
            if let (View::Messages, Some(m)) = (s.nav.view(), &s.data.messages) {
                let mode = match &m.mode {
                    _ if m.merged.is_some() && m.mode != MsgMode::Tail => {
                        let what = match &m.mode {
                            MsgMode::Backlog { group } => format!("the backlog of group {group}"),
                            _ => "records".to_string(),
                        };
                        format!("{what} of every partition, merged by time · M shows one partition")
                    }
                    MsgMode::Browse { from } => format!("browsing from offset {from}"),
                    MsgMode::Tail => "live tail".into(),
                    MsgMode::Backlog { group } => format!("backlog of group {group}: records it has not consumed"),
                };
                parts.push(mode);
            }
            if !s.nav.screen().filter.is_empty() {
                parts.push(format!("filter: {}", s.nav.screen().filter));
            }
            if let (View::Topics, false) = (s.nav.view(), s.data.topics.is_empty()) {
                parts.push(format!("sorted by {}", s.nav.sort.label()));
            }
            // The note (where the API is served) is the first thing to go on a narrow terminal.
            if let Some(note) = &s.settings.note {
                let used: usize = parts.iter().map(|p| p.chars().count() + 3).sum();
                if used + note.chars().count() < area.width as usize {
                    parts.push(note.clone());
                }
            }
            vec![Line::from(Span::styled(format!(" {}", parts.join(" · ")), t.style(t.muted)))]
        }
    };
    f.render_widget(Paragraph::new(lines), area);
}

/// What a hint's key is: one of the console's actions, or the side panel's key at an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HintKey {
    Action(Action),
    Panel(usize),
}

/// A key shown in the footer and the help overlay: what it does, and whether it can now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hint<'a> {
    pub key: HintKey,
    pub label: &'a str,
    pub enabled: bool,
}

impl Hint<'_> {
    /// The first key, as bound right now.
    pub fn key_label(&self, s: &State) -> String {
        self.keys(s, false)
    }

    /// Every key, as bound right now.
    pub fn key_labels(&self, s: &State) -> String {
        self.keys(s, true)
    }

    fn keys(&self, s: &State, all: bool) -> String {
        match self.key {
            HintKey::Action(a) if all => s.keymap.labels(a),
            HintKey::Action(a) => s.keymap.label(a),
            HintKey::Panel(i) => match s.panel.as_ref().and_then(|p| p.keys.get(i)) {
                Some(k) if all => s.keymap.panel_labels(&k.action, k.key),
                Some(k) => s.keymap.panel_label(&k.action, k.key),
                None => "-".into(),
            },
        }
    }
}

/// Keys shown in the footer for the current view (write keys greyed out when read-only).
pub fn hints(s: &State) -> Vec<Hint<'_>> {
    use Action::*;
    let write = !s.read_only();
    // What this engine cannot do is shown crossed out, like writes in read-only mode.
    let c = &s.data.caps;
    let (publish, create, delete) = (write && c.publish, write && c.create_topics, write && c.delete_topics);
    let (replay, pull, reset, undo) =
        (write && c.replay, write && c.pull, write && !c.reset_modes.is_empty(), write && c.undo);
    let view: Vec<(Action, &'static str, bool)> = match s.nav.view() {
        View::Topics => vec![
            (Enter, "open", true),
            (Messages, "messages", true),
            (Publish, "publish", publish),
            (CreateTopic, "create", create),
            (Delete, "delete", delete),
            (Replay, "replay", replay),
            (Sort, "sort", true),
            (Groups, "groups", true),
        ],
        View::Topic(_) => vec![
            (Enter, "messages", true),
            (Publish, "publish", publish),
            (Backlog, "backlog", true),
            (Pull, "pull", pull),
            (Merge, "all partitions", true),
            (Replay, "replay", replay),
            (Delete, "delete", delete),
            (Back, "back", true),
        ],
        View::Groups => vec![
            (Enter, "open", true),
            (Reset, "reset", reset),
            (Undo, "undo", undo),
            (Pull, "pull", pull),
            (Topics, "topics", true),
        ],
        View::Group(_) => vec![
            (Enter, "backlog", true),
            (Pull, "pull", pull),
            (Reset, "reset", reset),
            (Undo, "undo", undo),
            (Back, "back", true),
        ],
        View::Messages => vec![
            (Enter, "detail", true),
            (PageDown, "next", true),
            (PageUp, "prev", true),
            (Tail, "tail", true),
            (Jump, "jump", true),
            (Backlog, "backlog", true),
            (Publish, "publish", publish),
            // The record's actions: all in help; in the footer as many as fit.
            (SearchNext, "next match", true),
            (Reset, "reset here", reset),
            (MarkStart, "mark start", true),
            (Replay, "replay marked", replay),
            (Copy, "copy", true),
            (Save, "save", true),
            (NextPartition, "next partition", true),
            // (Their counterparts N, V and [, and M, are on one line below help's columns.)
            (Back, "back", true),
        ],
    };
    let action = |(a, label, enabled): (Action, &'static str, bool)| Hint { key: HintKey::Action(a), label, enabled };
    // The side panel's keys reached for first; all of them are in the panel and in help.
    let mut v: Vec<Hint> = match &s.panel {
        Some(p) => p
            .keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| Some(Hint { key: HintKey::Panel(i), label: k.footer.as_deref()?, enabled: true }))
            .collect(),
        None => Vec::new(),
    };
    v.extend(view.into_iter().map(action));
    v.push(action((Filter, "filter", true)));
    v.push(action((Command, "cmd", true)));
    v.push(action((Help, "help", true)));
    if s.nav.stack.len() == 1 {
        v.push(action((Quit, "quit", true)));
    }
    v
}

/// Which hints go first when the footer is too narrow: the view's own keys from the end, then
/// `:` and `/`; enter, esc, help, quit and the side panel's keys stay.
fn drop_rank(k: HintKey) -> u8 {
    match k {
        HintKey::Action(Action::Help | Action::Quit) => 0,
        HintKey::Action(Action::Enter | Action::Back) | HintKey::Panel(_) => 1,
        HintKey::Action(Action::Filter) => 2,
        HintKey::Action(Action::Command) => 3,
        HintKey::Action(_) => 4,
    }
}

/// The footer's hints that fit in `width` columns.
pub fn fitting_hints(s: &State, width: u16) -> Vec<Hint<'_>> {
    let mut v = hints(s);
    let len = |v: &[Hint]| -> usize {
        // " " then "k label  " per hint, without the last two spaces.
        (1 + v.iter().map(|h| h.key_label(s).chars().count() + h.label.chars().count() + 3).sum::<usize>())
            .saturating_sub(2)
    };
    // Keys disabled by read-only mode go before any other.
    let rank = |h: &Hint| if h.enabled { drop_rank(h.key) } else { 5 };
    while len(&v) > width as usize {
        let Some(worst) = v.iter().map(rank).max().filter(|r| *r > 0) else { break };
        let Some(i) = v.iter().rposition(|h| rank(h) == worst) else { break };
        v.remove(i);
    }
    v
}

pub fn footer(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let mut spans = vec![Span::raw(" ")];
    for h in fitting_hints(s, area.width) {
        let (ks, ls) = if h.enabled {
            (t.bold(t.accent), t.style(t.muted))
        } else {
            (t.style(t.muted), t.style(t.muted).add_modifier(Modifier::CROSSED_OUT))
        };
        spans.push(Span::styled(h.key_label(s), ks));
        spans.push(Span::styled(format!(" {}  ", h.label), ls));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn prompt(f: &mut Frame, area: Rect, s: &State, lead: &str, value: &str) {
    let t = &s.theme;
    let hint = if lead == ":" {
        "   topics · groups · group NAME · topic NAME · q"
    } else {
        "   text or regex over what is listed · enter keeps it · esc clears"
    };
    let line = Line::from(vec![
        Span::styled(format!(" {lead}"), t.bold(t.accent)),
        Span::styled(value.to_string(), t.style(t.text)),
        Span::styled("█", t.style(t.accent)),
        Span::styled(hint, t.style(t.muted)),
    ]);
    f.render_widget(ratatui::widgets::Clear, area);
    f.render_widget(Paragraph::new(line), area);
}
