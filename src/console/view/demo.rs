//! The demo's narration panel: what to watch, the simulated producers and groups, recent events,
//! and the knobs.

use super::util::*;
use crate::console::keymap::Action;
use crate::console::state::State;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// The knobs, for the panel and the help overlay.
/// Labels are single words so lines wrap between knobs, never inside one.
pub const KNOBS: [(Action, &str); 13] = [
    (Action::DemoFaster, "faster-consumers"),
    (Action::DemoSlower, "slower"),
    (Action::DemoRateUp, "produce-more"),
    (Action::DemoRateDown, "produce-less"),
    (Action::DemoAddMember, "add-member"),
    (Action::DemoCrash, "crash-member"),
    (Action::DemoLeave, "member-leaves"),
    (Action::DemoPauseProducers, "pause-producers"),
    (Action::DemoPauseGroup, "pause-group"),
    (Action::DemoIdempotent, "idempotent-on/off"),
    (Action::DemoStepMode, "step-mode"),
    (Action::DemoStep, "one-step"),
    (Action::DemoRestart, "restart"),
];

/// The narration as paragraphs: single line breaks in the scenario file join into one line (the
/// panel wraps them to its width); blank lines separate paragraphs.
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n").map(|p| p.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|p| !p.is_empty()).collect()
}

/// The knobs as one line of "key label" pairs.
pub fn knob_spans(s: &State) -> Vec<Span<'static>> {
    let t = &s.theme;
    let mut spans = Vec::new();
    for (a, label) in KNOBS {
        spans.push(Span::styled(s.keymap.label(a), t.bold(t.accent)));
        spans.push(Span::styled(format!(" {label}  "), t.style(t.muted)));
    }
    spans
}

pub fn panel(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.theme;
    let Some(d) = &s.demo else { return };
    let title = format!(
        "demo {} · t = {:.1}s{}",
        d.name,
        d.t_s,
        if d.step_mode { " · STEP MODE (n steps, . resumes)" } else { "" }
    );
    let b = block(s, title);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let wide = inner.width >= 110;
    let [left, right] = if wide {
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).spacing(2).areas(inner)
    } else {
        Layout::horizontal([Constraint::Percentage(100), Constraint::Length(0)]).areas(inner)
    };
    let mut lines: Vec<Line> =
        paragraphs(&d.narration).into_iter().map(|l| Line::from(Span::styled(l, t.style(t.text)))).collect();
    if !wide {
        lines.push(Line::from(""));
        lines.extend(d.lines.iter().map(|l| Line::from(Span::styled(l.clone(), t.style(t.accent)))));
        lines.push(Line::from(knob_spans(s)));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), left);
    if wide {
        let mut lines: Vec<Line> =
            d.lines.iter().map(|l| Line::from(Span::styled(l.clone(), t.style(t.accent)))).collect();
        lines.push(Line::from(""));
        lines.extend(d.log.iter().map(|l| Line::from(Span::styled(l.clone(), t.style(t.muted)))));
        lines.push(Line::from(""));
        lines.push(Line::from(knob_spans(s)));
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), right);
    }
}
