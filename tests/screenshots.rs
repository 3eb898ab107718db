//! The README's pictures: the console's Topics view, a Group view with health and trend, the
//! Messages view with the detail pane, and a demo screen, drawn as SVG (`depot::console::svg`)
//! from the same `TestBackend` buffers the snapshot tests read, on fixed fixtures and a fixed
//! clock. They are checked in under `assets/screenshots/`; this test fails when one differs from
//! what the console draws now, so they never go stale. Regenerate them with
//!
//! ```text
//! DEPOT_SCREENSHOTS=update cargo test --test screenshots
//! ```

mod console_fixtures;

use console_fixtures::*;
use crossterm::event::KeyCode;
use depot::console::keymap::Keymap;
use depot::console::msg::{Loaded, Msg};
use depot::console::state::{Settings, State};
use depot::console::svg::{DARK, svg};
use depot::console::theme::Theme;
use depot::console::update::update;
use depot::demo::panel::side_panel;
use depot::demo::{scenario, sim::Sim};
use std::path::PathBuf;

const W: u16 = 120;
const H: u16 = 36;

fn group_view() -> State {
    let mut s = watched();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Enter);
    s
}

fn messages_view() -> State {
    let mut s = watched();
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Enter);
    let seq = s.data.messages.as_ref().map(|m| m.seq).unwrap_or_default();
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    press(&mut s, KeyCode::Enter);
    s
}

/// The lag scenario 12 simulated seconds in, on an engine whose clock starts at a fixed instant,
/// as the console shows it in the Groups view.
fn demo() -> (tempfile::TempDir, State) {
    const START: i64 = 1_795_626_000_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let sc = scenario::load("lag").expect("the lag scenario");
    let mut sim = Sim::open_at(dir.path(), sc, 42, START).expect("open the demo");
    let settings = Settings {
        target: "demo lag · /tmp/depot-demo-x1y2z3".into(),
        context: None,
        read_only: false,
        note: Some("demo: the producers and consumers are simulated, the engine is real".into()),
        refresh_ms: 500,
        contexts: Vec::new(),
    };
    let mut s = State::new(settings, Keymap::default(), Theme::dark(), START);
    for i in 1..=24 {
        for _ in 0..5 {
            sim.step().expect("a step");
        }
        update(&mut s, Msg::Panel(side_panel(&sim.status())));
        update(&mut s, Msg::Tick(START + i * 500));
        update(&mut s, Msg::Loaded(Loaded::Topics(Ok(sim.engine.list_topics()))));
        update(&mut s, Msg::Loaded(Loaded::Groups(Ok(sim.engine.list_groups()))));
    }
    press(&mut s, KeyCode::Char('2'));
    (dir, s)
}

#[test]
fn the_readmes_screenshots_are_what_the_console_draws_now() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/screenshots");
    let update_them = std::env::var("DEPOT_SCREENSHOTS").is_ok_and(|v| v == "update");
    let (_demo_dir, demo) = demo();
    let mut stale = Vec::new();
    for (name, s) in [("topics", watched()), ("group", group_view()), ("messages", messages_view()), ("demo", demo)] {
        let drawn = svg(&depot::console::render_to_buffer(&s, W, H), DARK);
        let path = dir.join(format!("{name}.svg"));
        if update_them {
            std::fs::create_dir_all(&dir).expect("create assets/screenshots");
            std::fs::write(&path, &drawn).expect("write a screenshot");
            continue;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        if checked_in != drawn {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale screenshots (the console draws something else now): {stale:?}; \
         regenerate with DEPOT_SCREENSHOTS=update cargo test --test screenshots, look at them, commit them"
    );
}
