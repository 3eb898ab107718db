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

/// A scenario `seconds` in on an engine on the simulation's clock (started at NOW, so every
/// number is the same run to run), as the console sees it: the panel after every step, the lists
/// every half second.
fn demo_at(name: &str, seconds: i64) -> (tempfile::TempDir, Sim, State) {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = Sim::open_at(dir.path(), scenario::load(name).unwrap(), 42, NOW).unwrap();
    let mut s = state();
    for i in 1..=seconds * 2 {
        for _ in 0..5 {
            sim.step().unwrap();
        }
        update(&mut s, Msg::Panel(panel(&sim)));
        update(&mut s, Msg::Tick(NOW + i * 500));
        update(&mut s, Msg::Loaded(Loaded::Topics(Ok(sim.engine.list_topics()))));
        update(&mut s, Msg::Loaded(Loaded::Groups(Ok(sim.engine.list_groups()))));
    }
    (dir, sim, s)
}

/// The screen's text with the box borders gone and every run of white space one space, so a
/// line the panel wrapped reads as one.
fn flat(screen: &str) -> String {
    let text: String = screen.chars().map(|c| if "│╭╮╰╯─".contains(c) { ' ' } else { c }).collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn norm(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn turn(s: &mut State, sim: &mut Sim, c: char) {
    sim.command(knob(&key(s, c)).unwrap()).unwrap();
    update(s, Msg::Panel(panel(sim)));
}

#[test]
fn at_80x24_and_60x20_the_counters_and_the_log_stay_on_screen() {
    for (name, _) in scenario::BUILT_IN {
        let (_d, mut sim, mut s) = demo_at(name, 13);
        key(&mut s, '2');
        let st = sim.status();
        for (w, h) in [(80, 24), (60, 20)] {
            let screen = depot::console::render_to_string(&s, w, h);
            let text = flat(&screen);
            for line in st.lines.iter().chain(st.log.first()) {
                assert!(text.contains(&norm(line)), "{name} at {w}×{h} shows {line:?}:\n{screen}");
            }
            assert!(text.contains("Consumer groups"), "{name} at {w}×{h}: the Groups view stays:\n{screen}");
            if w == 80 {
                assert!(text.contains(&norm(&st.narration)), "{name} at 80×24 shows the whole narration:\n{screen}");
            }
            insta::with_settings!({ snapshot_suffix => format!("{name}@{w}x{h}"), omit_expression => true }, {
                insta::assert_snapshot!("demo_panel", screen);
            });
        }
        // h hides the narration: room for more of the log; h again brings it back.
        let opening: String = norm(&st.narration).chars().take(30).collect();
        assert!(flat(&depot::console::render_to_string(&s, 80, 24)).contains(&opening), "{name}");
        turn(&mut s, &mut sim, 'h');
        let hidden = depot::console::render_to_string(&s, 80, 24);
        assert!(!flat(&hidden).contains(&opening), "{name}: h hides the narration:\n{hidden}");
        for line in sim.status().log.iter().take(3) {
            assert!(
                flat(&hidden).contains(&norm(line)),
                "{name}: with the narration hidden the log shows {line:?}:\n{hidden}"
            );
        }
        turn(&mut s, &mut sim, 'h');
        assert!(flat(&depot::console::render_to_string(&s, 80, 24)).contains(&opening), "{name}: h shows it again");
    }
}

#[test]
fn the_knob_list_wraps_between_knobs_never_inside_one() {
    let (_d, _sim, mut s) = demo_at("lag", 1);
    for (w, h) in [(120, 40), (80, 24)] {
        let mut shown = s.clone();
        key(&mut shown, '?');
        let help = depot::console::render_to_string(&shown, w, h);
        let panel = depot::console::render_to_string(&s, w, h);
        for k in depot::demo::knobs::KNOBS {
            let item = format!("{} {}", k.key, k.label);
            let whole = |screen: &str| screen.lines().any(|l| l.contains(&item));
            assert!(whole(&help), "help at {w}×{h} has {item:?} on one line:\n{help}");
            if w == 120 {
                assert!(whole(&panel), "the panel at {w}×{h} has {item:?} on one line:\n{panel}");
            }
        }
    }
    // The footer names the narration key.
    key(&mut s, '2');
    let screen = depot::console::render_to_string(&s, 80, 24);
    assert!(screen.lines().last().is_some_and(|l| l.contains("h narration")), "{screen}");
}

#[test]
fn poison_names_the_offset_the_group_view_shows_and_its_reset_opens_on_that_partition() {
    let (_d, sim, mut s) = demo_at("poison", 20);
    let (topic, p, offset) = sim.poison.clone().expect("the poison record was sent");
    let narration = norm(&sim.scenario.narration);
    assert!(narration.contains(&format!("{topic}/{p} offset {offset} is poison")), "{narration}");
    assert!(narration.contains(&format!("{topic}/{p} COMMITTED stays at {offset}")), "{narration}");
    assert!(narration.contains(&format!("partition {p})")), "{narration}");
    let log = sim.status().log.join("\n");
    assert!(log.contains(&format!("sent the poison record: {topic}/{p} offset {offset}")), "{log}");
    // The Group view: that partition's COMMITTED is the offset the narration names, and it stalls.
    key(&mut s, '2');
    update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let g = s.data.group("workers").unwrap().clone();
    let row = g.partitions.iter().position(|x| x.topic == topic && x.partition == p).unwrap();
    assert_eq!(g.partitions[row].committed, Some(offset));
    assert_eq!(s.trends.partition_verdict(&g, &g.partitions[row]), Verdict::Stall);
    let screen = depot::console::render_to_string(&s, 80, 24);
    let line = screen.lines().find(|l| l.starts_with(&format!("│{topic} ")) && l.contains("STALL")).unwrap_or_default();
    assert!(line.split_whitespace().any(|w| w == offset.to_string()), "the row shows COMMITTED {offset}:\n{screen}");
    // o on that row: the reset form is for that partition.
    for _ in 0..row {
        key(&mut s, 'j');
    }
    key(&mut s, 'o');
    let form = depot::console::render_to_string(&s, 80, 24);
    assert!(form.contains(&format!("partitions {p} ")), "{form}");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("poison_reset", form);
    });
}

#[test]
fn replay_gives_its_window_as_offsets_and_marks_the_dropped_records() {
    let (_d, sim, mut s) = demo_at("replay", 10);
    let runs = sim.groups[0].dropped_runs();
    assert_eq!(runs.len(), 1, "one window: {runs:?}");
    let (p, from, to) = runs[0];
    let n = to - from + 1;
    assert_eq!(n, sim.groups[0].dropped);
    let narration = norm(&sim.scenario.narration);
    for said in [
        format!("transfers/{p} offsets {from}..={to} ({n} records)"),
        format!("from {from}, to {} (the end is exclusive)", to + 1),
        format!("previews {n} records"),
    ] {
        assert!(narration.contains(&said), "the narration says {said:?}: {narration}");
    }
    let log = sim.status().log.join("\n");
    assert!(log.contains(&format!("offsets {from}..={to} ({n}): replay {from} to {}", to + 1)), "{log}");
    // The Messages view of the window marks each dropped record, and only those.
    key(&mut s, 'j');
    update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    update(&mut s, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let seq = s.data.messages.as_ref().map(|m| m.seq).expect("the Messages view");
    let recs = sim.engine.fetch("transfers", p, from - 2, 12, 1 << 20).unwrap();
    let recs = recs.into_iter().map(|r| depot::backend::embedded::message("transfers", p, r)).collect();
    update(&mut s, Msg::Loaded(Loaded::Messages { seq, result: Ok(recs) }));
    let screen = depot::console::render_to_string(&s, 80, 24);
    let mut shown = Vec::new();
    for line in screen.lines() {
        let first = line.trim_start_matches('│').split_whitespace().next().unwrap_or_default();
        if let Ok(o) = first.parse::<u64>() {
            assert_eq!(line.contains("dropped by ledger"), o >= from, "offset {o}: {line:?}\n{screen}");
            shown.push(o);
        }
    }
    assert!(
        shown.contains(&(from - 1)) && shown.contains(&from),
        "both sides of the window's start: {shown:?}\n{screen}"
    );
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("replay_marks", screen);
    });
}

#[test]
fn queue_vs_pubsub_shows_each_members_count() {
    let (_d, sim, _s) = demo_at("queue-vs-pubsub", 13);
    let st = sim.status();
    for g in &sim.groups {
        let line = st.lines.iter().find(|l| l.starts_with(&format!("{}:", g.spec.name))).unwrap();
        let each: Vec<u64> = g.members.iter().map(|m| m.processed).collect();
        if each.len() > 1 {
            let shown = each.iter().map(u64::to_string).collect::<Vec<_>>().join(" + ");
            assert!(line.contains(&format!("applied {} = {shown}", g.applied)), "{line}");
            assert_eq!(each.iter().sum::<u64>(), g.applied, "billing's members add up to what billing applied");
        }
        assert_eq!(g.applied, sim.producers[0].sent, "{} applied everything sent: {line}", g.spec.name);
    }
}

#[test]
fn crash_before_commit_counts_duplicates_without_a_warn() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim = Sim::open_at(dir.path(), scenario::load("crash-before-commit").unwrap(), 42, NOW).unwrap();
    let mut s = state();
    let mut seen = Vec::new();
    for i in 1..=40 {
        for _ in 0..5 {
            sim.step().unwrap();
        }
        refresh(&mut s, &sim, NOW + i * 500);
        let g = s.data.group("billing").unwrap();
        seen.push((sim.t_ms, s.trends.group_verdict(g).0));
        let line = sim.status().lines.into_iter().find(|l| l.starts_with("billing:")).unwrap();
        // The counter is there from the start, so the room watches it move.
        assert!(line.contains(&format!("duplicates {}", sim.groups[0].duplicates)), "{line}");
    }
    assert!(sim.groups[0].duplicates > 0, "the crash made duplicates");
    // The first refreshes are "not enough samples yet"; after them, OK all along.
    let bad: Vec<_> = seen.iter().skip(2).filter(|(_, v)| *v != Verdict::Ok).collect();
    assert!(seen.iter().take(2).all(|(_, v)| matches!(v, Verdict::Ok | Verdict::Pending)), "{seen:?}");
    assert!(bad.is_empty(), "the survivor keeps up: no WARN or ERR beside the lesson: {bad:?}");
}
