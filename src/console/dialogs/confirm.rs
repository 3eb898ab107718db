//! A yes/no question before an effect runs (publish, create, delete): enter or y runs it behind
//! the working popup, esc or n cancels, other keys leave the question up.

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
    /// Drawn in the danger colour (what cannot be undone).
    pub danger: bool,
    /// What the working popup says while the effect runs.
    pub working: String,
}

/// Asks.
pub fn ask(s: &mut State, c: Confirm) {
    s.overlay = Some(Overlay::Dialog(Dialog::Confirm(c)));
}

pub fn key(s: &mut State, c: Confirm, k: KeyEvent) -> Vec<Effect> {
    match k.code {
        KeyCode::Enter | KeyCode::Char('y') => {
            working::show(s, c.working);
            vec![c.effect]
        }
        KeyCode::Esc | KeyCode::Char('n') => {
            s.ui.say(Level::Info, "cancelled; nothing changed");
            Vec::new()
        }
        _ => {
            ask(s, c);
            Vec::new()
        }
    }
}

pub fn draw(f: &mut Frame, area: Rect, s: &State, c: &Confirm) {
    let t = &s.theme;
    let color = if c.danger { t.danger } else { t.accent };
    let lines = vec![
        Line::from(""),
        Line::from(Span::styled(c.text.clone(), t.style(t.text))),
        Line::from(""),
        Line::from([key_hint(s, "enter/y", color, "yes   "), key_hint(s, "esc/n", t.muted, "no")].concat()),
    ];
    // Border, blank, the question (wrapped), blank, the keys, border.
    let inner_w = popup(area, 70, 1).width.saturating_sub(2).max(1) as usize;
    let r = popup(area, 70, (c.text.chars().count().div_ceil(inner_w) + 5) as u16);
    f.render_widget(Clear, r);
    let b = block(s, c.title.clone()).border_style(t.style(color));
    f.render_widget(Paragraph::new(lines).block(b).wrap(Wrap { trim: false }).centered(), r);
}
