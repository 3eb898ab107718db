//! A question before an effect runs (publish, create, delete). An ordinary question: enter or y
//! runs it behind the working popup, esc or n cancels, other keys leave the question up. A
//! dangerous one (what cannot be undone) never runs on enter alone: enter cancels and y runs it;
//! one that names what it destroys (`typed`) runs only once that name is typed, as Redpanda
//! Console and k9s ask before a delete.

use super::{Dialog, working};
use crate::console::effect::Effect;
use crate::console::state::{Level, Overlay, State};
use crate::console::view::util::{block, key_hint, popup};
use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

#[derive(Clone, Debug, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub text: String,
    /// What yes runs.
    pub effect: Effect,
    /// Drawn in the danger colour (what cannot be undone); enter alone does not run it.
    pub danger: bool,
    /// What the working popup says while the effect runs.
    pub working: String,
    /// The name to type before it runs (a topic to delete), and what has been typed.
    pub typed: Option<String>,
    pub input: String,
}

/// Asks.
pub fn ask(s: &mut State, c: Confirm) {
    s.overlay = Some(Overlay::Dialog(Dialog::Confirm(Box::new(c))));
}

fn run(s: &mut State, c: Confirm) -> Vec<Effect> {
    working::show(s, c.working);
    vec![c.effect]
}

fn cancel(s: &mut State) -> Vec<Effect> {
    s.ui.say(Level::Info, "cancelled; nothing changed");
    Vec::new()
}

pub fn key(s: &mut State, mut c: Confirm, k: KeyEvent) -> Vec<Effect> {
    if let Some(name) = c.typed.clone() {
        match k.code {
            KeyCode::Esc => return cancel(s),
            KeyCode::Enter if c.input == name => return run(s, c),
            KeyCode::Enter => {
                let why = if c.input.is_empty() { "type" } else { "that is not the name: type" };
                s.ui.say(Level::Warn, format!("{why} {name} to confirm, or esc to cancel"));
            }
            KeyCode::Backspace => {
                c.input.pop();
            }
            KeyCode::Char(ch) if c.input.chars().count() < 300 => c.input.push(ch),
            _ => {}
        }
        ask(s, c);
        return Vec::new();
    }
    match k.code {
        KeyCode::Char('y') => run(s, c),
        KeyCode::Enter if !c.danger => run(s, c),
        KeyCode::Esc | KeyCode::Char('n') | KeyCode::Enter => cancel(s),
        _ => {
            ask(s, c);
            Vec::new()
        }
    }
}

pub fn draw(f: &mut Frame, area: Rect, s: &State, c: &Confirm) {
    let t = &s.theme;
    let color = if c.danger { t.danger } else { t.accent };
    let mut lines = vec![Line::from(""), Line::from(Span::styled(c.text.clone(), t.style(t.text))), Line::from("")];
    let mut extra = 0;
    match &c.typed {
        Some(name) => {
            let matches = c.input == *name;
            lines.push(Line::from(Span::styled(format!("Type {name} to confirm:"), t.style(t.muted))));
            lines.push(Line::from(Span::styled(
                format!("> {}█", c.input),
                t.bold(if matches { color } else { t.text }),
            )));
            lines.push(Line::from(""));
            let go = if matches { "delete   " } else { "(type the name first)   " };
            lines.push(Line::from([key_hint(s, "enter", color, go), key_hint(s, "esc", t.muted, "cancel")].concat()));
            extra = 3;
        }
        None if c.danger => lines
            .push(Line::from([key_hint(s, "y", color, "yes   "), key_hint(s, "esc/n/enter", t.muted, "no")].concat())),
        None => lines
            .push(Line::from([key_hint(s, "enter/y", color, "yes   "), key_hint(s, "esc/n", t.muted, "no")].concat())),
    }
    // Border, blank, the question (wrapped), blank, (the name to type,) the keys, border.
    let inner_w = popup(area, 70, 1).width.saturating_sub(2).max(1) as usize;
    let r = popup(area, 70, (c.text.chars().count().div_ceil(inner_w) + 5 + extra) as u16);
    f.render_widget(Clear, r);
    let b = block(s, c.title.clone()).border_style(t.style(color));
    f.render_widget(Paragraph::new(lines).block(b).wrap(Wrap { trim: false }).centered(), r);
}
