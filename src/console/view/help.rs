//! The help overlay: every key of the current view and the global ones, as bound right now, in
//! two columns so it fits an 80×24 terminal; below them a side panel's keys, when one is shown.

use super::chrome::HintKey;
use super::util::*;
use crate::console::keymap::Action;
use crate::console::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

fn key_line(s: &State, keys: String, label: String, enabled: bool) -> Line<'static> {
    let t = &s.theme;
    let style = if enabled { t.style(t.text) } else { t.style(t.muted) };
    Line::from(vec![Span::styled(format!(" {keys:<12}"), t.bold(t.accent)), Span::styled(label, style)])
}

pub fn help(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let mut here = vec![Line::from(Span::styled(" this view", t.bold(t.title)))];
    let view_hints = super::chrome::hints(s);
    for h in &view_hints {
        let suffix = if h.enabled { "" } else { " (read-only)" };
        here.push(key_line(s, h.key_labels(s), format!("{}{suffix}", h.label), h.enabled));
    }
    let mut everywhere = vec![Line::from(Span::styled(" everywhere", t.bold(t.title)))];
    let global = [
        (Action::Up, "up"),
        (Action::Down, "down"),
        (Action::Top, "first row"),
        (Action::Bottom, "last row"),
        (Action::PageUp, "page up"),
        (Action::PageDown, "page down"),
        (Action::Back, "back / clear the filter"),
        (Action::Topics, "Topics"),
        (Action::Groups, "Groups"),
        (Action::Refresh, "refresh now"),
        (Action::Filter, "filter (text or regex)"),
        (Action::Command, "command (below)"),
        (Action::Quit, "quit (from the top view)"),
    ];
    for (a, label) in global {
        if !view_hints.iter().any(|h| h.key == HintKey::Action(a)) {
            everywhere.push(key_line(s, s.keymap.labels(a), label.to_string(), true));
        }
    }
    let mut foot = vec![Line::from("")];
    if *s.nav.view() == crate::console::state::View::Messages {
        let k = |a| s.keymap.label(a);
        foot.push(Line::from(Span::styled(
            format!(
                " also: {} prev match · {} mark end · {} prev partition · {} {}",
                k(Action::SearchPrev),
                k(Action::MarkEnd),
                k(Action::PrevPartition),
                k(Action::Merge),
                if s.data.messages.as_ref().is_some_and(|m| m.merged.is_some()) {
                    "one partition"
                } else {
                    "all partitions by time"
                }
            ),
            t.style(t.text),
        )));
    }
    if let Some(p) = &s.panel {
        foot.push(Line::from(Span::styled(format!(" {}", p.keys_title), t.bold(t.title))));
        // Inside the popup's border, after a leading space; wrapped between keys.
        let width = popup(area, 84, 1).width.saturating_sub(3) as usize;
        for keys in super::panel::key_lines(s, p, width) {
            let mut line = vec![Span::raw(" ")];
            line.extend(keys.spans);
            foot.push(Line::from(line));
        }
    }
    foot.extend([
        Line::from(Span::styled(" commands: :topics  :groups  :topic NAME  :group NAME  :q", t.style(t.text))),
        Line::from(Span::styled(
            " mouse: click selects, wheel scrolls · rebind keys in the config file [keys]",
            t.style(t.muted),
        )),
        Line::from(Span::styled(" any key closes this help", t.style(t.muted))),
    ]);
    let rows = here.len().max(everywhere.len());
    let r = popup(area, 84, (rows + foot.len() + 2) as u16);
    f.render_widget(Clear, r);
    let b = block(s, "help".into());
    let inner = b.inner(r);
    f.render_widget(b, r);
    let [columns, bottom] = Layout::vertical([Constraint::Min(1), Constraint::Length(foot.len() as u16)]).areas(inner);
    let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(columns);
    f.render_widget(Paragraph::new(here), left);
    f.render_widget(Paragraph::new(everywhere), right);
    f.render_widget(Paragraph::new(foot), bottom);
}
