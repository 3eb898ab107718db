//! The demo in the console: one snapshot per scenario of the screen a room sees (Groups view with
//! the narration in the side panel), and the knobs' keys turning into side-panel effects that the
//! demo reads as its knobs.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use depot::console::effect::Effect;
use depot::console::health::Verdict;
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
            // The simulation reports after every step; the console samples on its clock.
            update(&mut s, Msg::Panel(panel(&sim)));
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

/// One refresh as the driver makes it during a demo: the panel as the simulation last reported
/// it, a wall-clock tick, the groups from the engine.
fn refresh(s: &mut State, sim: &Sim, wall: i64) {
    update(s, Msg::Panel(panel(sim)));
    update(s, Msg::Tick(wall));
    update(s, Msg::Loaded(Loaded::Groups(Ok(sim.engine.list_groups()))));
}

/// Every partition's verdict as the console judges it now.
fn verdicts(s: &State) -> Vec<(u32, Verdict)> {
    let mut out = Vec::new();
    for g in &s.data.groups {
        out.extend(g.partitions.iter().map(|p| (p.partition, s.trends.partition_verdict(g, p))));
    }
    out
}

fn stalled(s: &State) -> bool {
    verdicts(s).iter().any(|(_, v)| matches!(v, Verdict::Stall | Verdict::Stop | Verdict::Err))
}

#[test]
fn step_mode_and_pauses_are_judged_on_the_demos_clock() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = Sim::open(dir.path(), scenario::load("lag").unwrap(), 42).unwrap();
    let mut s = state();
    let mut wall = NOW;
    // Eight seconds at full speed, refreshed twice a second: billing falls behind, WARN at worst.
    for _ in 0..16 {
        for _ in 0..5 {
            sim.step().unwrap();
        }
        wall += 500;
        refresh(&mut s, &sim, wall);
    }
    let running = verdicts(&s);
    assert!(running.iter().any(|(_, v)| *v == Verdict::Warn), "the lesson's WARN: {running:?}");
    assert!(!stalled(&s), "{running:?}");
    // Step mode: the world stands still while the console keeps refreshing on the wall clock.
    // A still world is not a stalled one: the verdicts stay what they were.
    sim.command(knob(&key(&mut s, '.')).unwrap()).unwrap();
    for _ in 0..30 {
        wall += 500;
        refresh(&mut s, &sim, wall);
    }
    assert_eq!(verdicts(&s), running, "30 refreshes of a world in step mode change no verdict");
    // One step at a time (n): samples follow the simulated time, one per half second of it.
    let before = s.trends.group_lag["billing"].len();
    for _ in 0..20 {
        sim.command(knob(&key(&mut s, 'n')).unwrap()).unwrap();
        for _ in 0..3 {
            wall += 500;
            refresh(&mut s, &sim, wall);
        }
    }
    assert_eq!(s.trends.group_lag["billing"].len(), before + 4, "20 steps of 100 ms: 4 samples");
    assert!(!stalled(&s), "stepping: {:?}", verdicts(&s));
    // Back to real time, producers paused (z): billing drains, nothing stalls on the way.
    sim.command(knob(&key(&mut s, '.')).unwrap()).unwrap();
    sim.command(knob(&key(&mut s, 'z')).unwrap()).unwrap();
    for _ in 0..20 {
        for _ in 0..5 {
            sim.step().unwrap();
        }
        wall += 500;
        refresh(&mut s, &sim, wall);
        assert!(!stalled(&s), "producers paused: {:?}", verdicts(&s));
    }
}

#[test]
fn a_group_the_demo_paused_reads_paused_not_stall() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = Sim::open(dir.path(), scenario::load("lag").unwrap(), 42).unwrap();
    let mut s = state();
    let mut wall = NOW;
    let mut run = |s: &mut State, sim: &mut Sim, refreshes: usize| {
        for _ in 0..refreshes {
            for _ in 0..5 {
                sim.step().unwrap();
            }
            wall += 500;
            refresh(s, sim, wall);
        }
    };
    run(&mut s, &mut sim, 6);
    key(&mut s, '2');
    update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    // x on the Groups view pauses billing: its committed offsets stand while its lag grows. That
    // is a real stop, and the demo's doing: it reads PAUSED.
    sim.command(knob(&key(&mut s, 'x')).unwrap()).unwrap();
    run(&mut s, &mut sim, 12);
    let paused = verdicts(&s);
    assert!(paused.iter().all(|(_, v)| *v == Verdict::Paused), "{paused:?}");
    let g = s.data.group("billing").unwrap();
    assert_eq!(s.trends.group_verdict(g).0, Verdict::Paused);
    let screen = depot::console::render_to_string(&s, 80, 24);
    assert!(screen.contains("PAUSED") && !screen.contains("STALL"), "{screen}");
    // x again: the group moves on, and is judged as any other.
    sim.command(knob(&key(&mut s, 'x')).unwrap()).unwrap();
    run(&mut s, &mut sim, 4);
    assert!(verdicts(&s).iter().all(|(_, v)| *v != Verdict::Paused), "{:?}", verdicts(&s));
    assert!(!stalled(&s), "{:?}", verdicts(&s));
}
