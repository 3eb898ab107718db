//! The help overlay: every key of the current view and the global ones, as bound right now.

use super::util::*;
use crate::console::keymap::Action;
use crate::console::state::State;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub fn help(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let mut lines = vec![Line::from(Span::styled("this view", t.bold(t.title)))];
    let view_hints = super::chrome::hints(s);
    for (a, label, enabled) in &view_hints {
        let style = if *enabled { t.style(t.text) } else { t.style(t.muted) };
        let suffix = if *enabled { "" } else { "  (read-only)" };
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<14}", s.keymap.labels(*a)), t.bold(t.accent)),
            Span::styled(format!("{label}{suffix}"), style),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("everywhere", t.bold(t.title))));
    let global = [
        (Action::Up, "up"),
        (Action::Down, "down"),
        (Action::Top, "first row"),
        (Action::Bottom, "last row"),
        (Action::PageUp, "page up (messages: previous page)"),
        (Action::PageDown, "page down (messages: next page)"),
        (Action::Back, "back / clear the filter"),
        (Action::Topics, "Topics"),
        (Action::Groups, "Groups"),
        (Action::Refresh, "refresh now"),
        (Action::Filter, "filter (text or regex)"),
        (Action::Command, "command: :topics :groups :group NAME :topic NAME :q"),
        (Action::Quit, "quit (from the top view; elsewhere: back)"),
    ];
    for (a, label) in global {
        if view_hints.iter().any(|(x, _, _)| *x == a) {
            continue;
        }
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<14}", s.keymap.labels(a)), t.bold(t.accent)),
            Span::styled(label, t.style(t.text)),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("mouse: click selects, wheel scrolls · keys are rebindable in the config file [keys]", t.style(t.muted))));
    lines.push(Line::from(Span::styled("any key closes this help", t.style(t.muted))));
    let r = popup(area, 84, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(Paragraph::new(lines).block(block(s, "help".into())), r);
}
