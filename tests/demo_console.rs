//! The demo in the console: one snapshot per scenario of the screen a room sees (Groups view with
//! the narration in the side panel), and the knobs' keys turning into side-panel effects that the
//! demo reads as its knobs.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use depot::console::effect::Effect;
use depot::console::keymap::Keymap;
use depot::console::msg::{Loaded, Msg};
use depot::console::panel::SidePanel;
use depot::console::state::{Settings, State};
use depot::console::theme::Theme;
use depot::console::update::update;
use depot::demo::knobs::Knob;
use depot::demo::panel::{DemoPanel, side_panel};
use depot::demo::scenario;
use depot::demo::sim::Sim;
use depot::engine::{Engine, EngineConfig, SyncMode};

const NOW: i64 = 1_795_626_000_000;

fn state() -> State {
    let settings = Settings {
        target: "demo".into(),
        context: None,
        read_only: false,
        note: Some("demo: the producers and consumers are simulated, the engine is real".into()),
        refresh_ms: 500,
        contexts: Vec::new(),
    };
    State::new(settings, Keymap::default(), Theme::dark(), NOW)
}

fn panel(sim: &Sim) -> SidePanel {
    side_panel(&sim.status())
}

/// The knob the first effect turns, if it is a side-panel effect.
fn knob(fx: &[Effect]) -> Option<Knob> {
    match fx.first() {
        Some(Effect::Panel(a)) => Knob::from_action(a),
        _ => None,
    }
}

fn key(s: &mut State, c: char) -> Vec<Effect> {
    update(s, Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
}

#[test]
fn every_scenario_screen() {
    for (name, _) in scenario::BUILT_IN {
        let dir = tempfile::tempdir().unwrap();
        let engine =
            Engine::open(dir.path(), EngineConfig { sync: SyncMode::Never, ..EngineConfig::default() }).unwrap();
        let mut sim = Sim::new(engine.clone(), scenario::load(name).unwrap(), 7).unwrap();
        let mut s = state();
        update(&mut s, Msg::Panel(panel(&sim)));
        // Ten simulated seconds, then ten refreshes a second apart (simulated), as the console would see them.
        for _ in 0..100 {
            sim.step().unwrap();
        }
        for i in 0..10 {
            for _ in 0..10 {
                sim.step().unwrap();
            }
            update(&mut s, Msg::Tick(NOW + i * 1000));
            update(&mut s, Msg::Loaded(Loaded::Topics(Ok(engine.list_topics()))));
            update(&mut s, Msg::Loaded(Loaded::Groups(Ok(engine.list_groups()))));
        }
        update(&mut s, Msg::Panel(panel(&sim)));
        key(&mut s, '2');
        let screen = depot::console::render_to_string(&s, 120, 40);
        assert!(screen.contains(&format!("demo {name}")), "{screen}");
        // Real-time measurements (rates, lag ages, the sparklines built from them) vary run to run.
        let mut stable = screen.clone();
        for (re, with) in [
            (r"\s+\d+(\.\d+)?k?/s", " [rate]"),
            (r"\s+(\d+(\.\d)?s|\d+m\d\ds)(\s)", " [age]$3"),
            (r"[▁▂▃▄▅▆▇█]+", "[trend]"),
        ] {
            stable = regex::Regex::new(re).unwrap().replace_all(&stable, with).to_string();
        }
        insta::with_settings!({ snapshot_suffix => *name }, {
            insta::assert_snapshot!("demo_screen", stable);
        });
        drop(sim);
        engine.close().unwrap();
    }
}

#[test]
fn knobs_become_panel_effects_only_while_a_demo_runs() {
    let mut s = state();
    assert!(key(&mut s, '>').is_empty(), "no demo: the knob keys do nothing");
    update(&mut s, Msg::Panel(side_panel(&DemoPanel { name: "lag".into(), ..DemoPanel::default() })));
    let fx = key(&mut s, '>');
    assert_eq!(knob(&fx), Some(Knob::Faster(None)), "on the Topics view a group knob acts on all groups");
    let groups = vec![depot::core::GroupInfo {
        name: "billing".into(),
        state: "stable".into(),
        generation: 1,
        assignor: "range".into(),
        members: Vec::new(),
        partitions: Vec::new(),
        consume_rate: 0.0,
    }];
    update(&mut s, Msg::Loaded(Loaded::Groups(Ok(groups))));
    key(&mut s, '2');
    for (c, want) in [
        ('>', Knob::Faster(Some("billing".into()))),
        ('<', Knob::Slower(Some("billing".into()))),
        ('a', Knob::AddMember(Some("billing".into()))),
        ('X', Knob::Crash(Some("billing".into()))),
        ('L', Knob::Leave(Some("billing".into()))),
        ('x', Knob::PauseGroup(Some("billing".into()))),
        ('i', Knob::Idempotent(Some("billing".into()))),
        ('+', Knob::RateUp),
        ('-', Knob::RateDown),
        ('z', Knob::PauseProducers),
        ('.', Knob::StepMode),
        ('n', Knob::Step),
    ] {
        let fx = key(&mut s, c);
        assert_eq!(knob(&fx), Some(want), "key {c}");
    }
    let fx = key(&mut s, 'r');
    assert_eq!(knob(&fx), Some(Knob::Restart));
    assert_eq!(s.nav.stack.len(), 1, "restart goes back to the top view");
    // Every knob is in the help overlay.
    key(&mut s, '?');
    let help = depot::console::render_to_string(&s, 120, 40);
    for label in ["faster-consumers", "add-member", "crash-member", "step-mode", "restart", "idempotent"] {
        assert!(help.contains(label), "help lacks {label}:\n{help}");
    }
}
