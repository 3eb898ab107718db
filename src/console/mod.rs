//! The terminal console (ratatui). It speaks only the [`Backend`](crate::backend::Backend) trait.
//!
//! - [`state`]: the whole state, messages and effects (plain data)
//! - [`update`]: the pure state machine `update(state, msg) -> effects`
//! - [`view`]: drawing, a pure function of the state
//! - [`driver`]: terminal, event channel, effects in background tasks, redraw on change
//! - [`health`]: Burrow's consumer health rules; [`theme`], [`keymap`], [`form`]
//! - [`launch`]: `depot` with no verb: opens the backend, loads theme and keys, runs the driver
//! - [`bench`]: `depot bench console`, frame times with a big fixture

pub mod bench;
pub mod driver;
pub mod form;
pub mod health;
pub mod keymap;
pub mod launch;
pub mod state;
pub mod theme;
pub mod update;
pub mod view;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Renders the state on an in-memory terminal of `w`×`h` and returns the screen as text
/// (one line per row, trailing spaces trimmed). Used by snapshot tests and benchmarks.
pub fn render_to_string(state: &state::State, w: u16, h: u16) -> String {
    let mut s = state.clone();
    s.size = (w, h);
    let Ok(mut terminal) = Terminal::new(TestBackend::new(w, h));
    let Ok(_) = terminal.draw(|f| view::render(f, &s));
    let buf = terminal.backend().buffer();
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
