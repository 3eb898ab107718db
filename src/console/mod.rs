//! The terminal console (ratatui). It speaks only the [`Backend`](crate::backend::Backend) trait.
//!
//! - [`msg`]: what happens (keys, ticks, backend answers); [`effect`]: what the driver should do
//! - [`state`]: the whole state, in parts (nav, data, trends, refresh, ui, overlay, side panel)
//! - [`update`]: the pure state machine `update(state, msg) -> effects`, by area
//! - [`dialogs`]: one file per dialog: its open, keys, submit, answers and drawing
//! - [`form`]: the typed form model the dialogs use
//! - [`layout`]: where things go on screen (used by `update` and `view`)
//! - [`view`]: drawing, a pure function of the state
//! - [`panel`]: the side-panel hook a front end (the demo) fills: text, lines, log, keys
//! - [`driver`]: terminal, event channel, effects in background tasks, redraw on change
//! - [`health`]: Burrow's consumer health rules, each verdict with its reason; [`theme`], [`keymap`]
//! - [`launch`]: `depot` with no verb: opens the backend, loads theme and keys, runs the driver
//! - [`bench`](mod@bench): `depot bench console`, frame times with a big fixture
//! - [`svg`]: a rendered screen as SVG with its colours (the README's screenshots)

pub mod bench;
pub mod dialogs;
pub mod driver;
pub mod effect;
pub mod form;
pub mod health;
pub mod keymap;
pub mod launch;
pub mod layout;
pub mod msg;
pub mod panel;
pub mod state;
pub mod svg;
pub mod theme;
pub mod update;
pub mod view;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

/// Renders the state on an in-memory terminal of `w`×`h`: the cells with their styles (what the
/// snapshot tests read, and what the README's SVG screenshots are drawn from).
pub fn render_to_buffer(state: &state::State, w: u16, h: u16) -> Buffer {
    let mut s = state.clone();
    s.ui.size = (w, h);
    let Ok(mut terminal) = Terminal::new(TestBackend::new(w, h));
    let Ok(_) = terminal.draw(|f| view::render(f, &s));
    terminal.backend().buffer().clone()
}

/// Renders the state on an in-memory terminal of `w`×`h` and returns the screen as text
/// (one line per row, trailing spaces trimmed). Used by snapshot tests and benchmarks.
pub fn render_to_string(state: &state::State, w: u16, h: u16) -> String {
    let buf = render_to_buffer(state, w, h);
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
