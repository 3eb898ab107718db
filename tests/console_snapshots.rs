//! Whole-screen snapshots of every view and dialog on ratatui's `TestBackend`, at 80×24 and
//! 120×40, from fixed fixtures and a fixed clock. Review changes with
//! `INSTA_UPDATE=always cargo test --test console_snapshots` and read the `.snap` files.

mod console_fixtures;

use console_fixtures::*;
use crossterm::event::KeyCode;
use depot::console::msg::*;
use depot::console::render_to_string;
use depot::console::state::*;
use depot::console::theme::Theme;

/// Snapshots a screen at both sizes.
fn snap(name: &str, s: &State) {
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render_to_string(s, w, h);
        insta::with_settings!({ snapshot_suffix => format!("{w}x{h}"), omit_expression => true }, {
            insta::assert_snapshot!(name, screen);
        });
    }
}

fn topic_view() -> State {
    let mut s = watched();
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Enter);
    s
}

fn group_view() -> State {
    let mut s = watched();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Enter);
    s
}

/// orders/0 browsed from 1150 with the detail pane on record `selected`.
fn messages_view(selected: usize) -> State {
    let mut s = topic_view();
    press(&mut s, KeyCode::Enter);
    let seq = s.data.messages.as_ref().map(|m| m.seq).unwrap_or_default();
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    for _ in 0..selected {
        press(&mut s, KeyCode::Char('j'));
    }
    press(&mut s, KeyCode::Enter);
    s
}

fn backlog_empty() -> State {
    let mut s = watched();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('G'));
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Enter);
    let seq = s.data.messages.as_ref().map(|m| m.seq).unwrap_or_default();
    feed(&mut s, Loaded::Messages { seq, result: Ok(Vec::new()) });
    s
}

fn with_keys(mut s: State, keys: &[KeyCode]) -> State {
    for k in keys {
        press(&mut s, *k);
    }
    s
}

fn typed(mut s: State, text: &str) -> State {
    typ(&mut s, text);
    s
}

fn publish_form() -> State {
    let mut s = with_keys(watched(), &[KeyCode::Char('j'), KeyCode::Char('p'), KeyCode::Tab]);
    typ(&mut s, "order-42");
    press(&mut s, KeyCode::Tab);
    typ(&mut s, "trace-id=7f3a9c");
    press(&mut s, KeyCode::Tab);
    typ(&mut s, "{\"id\": 42,");
    press(&mut s, KeyCode::Enter);
    typ(&mut s, " \"total\": 9.5}");
    s
}

fn create_form() -> State {
    let mut s = with_keys(watched(), &[KeyCode::Char('c')]);
    typ(&mut s, "events");
    press(&mut s, KeyCode::Tab);
    s
}

fn confirm_delete() -> State {
    with_keys(watched(), &[KeyCode::Char('j'), KeyCode::Char('D')])
}

fn reset_form() -> State {
    with_keys(group_view(), &[KeyCode::Char('o'), KeyCode::Tab, KeyCode::Tab])
}

fn reset_preview() -> State {
    let mut s = with_keys(group_view(), &[KeyCode::Char('o')]);
    press_ev(&mut s, ctrl('s'));
    feed(&mut s, Loaded::ResetPlanned(Ok(reset_plan(true))));
    s
}

fn replay_form() -> State {
    with_keys(topic_view(), &[KeyCode::Char('R')])
}

fn replay_preview() -> State {
    let mut s = replay_form();
    press_ev(&mut s, ctrl('s'));
    feed(&mut s, Loaded::ReplayPlanned(Ok(replay_plan(50))));
    s
}

fn pull_ask() -> State {
    with_keys(watched(), &[KeyCode::Char('2'), KeyCode::Char('l')])
}

fn pulled_records() -> State {
    let mut s = pull_ask();
    press_ev(&mut s, ctrl('s'));
    feed(&mut s, Loaded::Pulled(Ok(pulled())));
    s
}

fn jump() -> State {
    typed(with_keys(messages_view(0), &[KeyCode::Enter, KeyCode::Char('J')]), "-15m")
}

fn working() -> State {
    let mut s = with_keys(watched(), &[KeyCode::Char('c')]);
    typ(&mut s, "events");
    press_ev(&mut s, ctrl('s'));
    press(&mut s, KeyCode::Enter);
    s
}

/// Every screen worth a snapshot, by name.
fn screens() -> Vec<(&'static str, State)> {
    vec![
        ("topics", watched()),
        ("topics_empty", empty()),
        ("topics_loading", fresh()),
        ("topic", topic_view()),
        ("groups", with_keys(watched(), &[KeyCode::Char('2')])),
        ("groups_empty", with_keys(empty(), &[KeyCode::Char('2')])),
        ("group", group_view()),
        ("messages_json", messages_view(0)),
        ("messages_binary", messages_view(2)),
        ("messages_backlog_empty", backlog_empty()),
        ("help", with_keys(watched(), &[KeyCode::Char('?')])),
        ("command", typed(with_keys(watched(), &[KeyCode::Char(':')]), "group bil")),
        ("filter", typed(with_keys(watched(), &[KeyCode::Char('/')]), "ord")),
        ("publish", publish_form()),
        ("create_topic", create_form()),
        ("confirm_delete", confirm_delete()),
        ("reset", reset_form()),
        ("reset_preview", reset_preview()),
        ("replay", replay_form()),
        ("replay_preview", replay_preview()),
        ("pull_ask", pull_ask()),
        ("pulled", pulled_records()),
        ("jump", jump()),
        ("working", working()),
    ]
}

#[test]
fn every_view_and_dialog() {
    for (name, s) in screens() {
        snap(name, &s);
        // However narrow, the footer keeps the key that explains the others.
        for (w, h) in [(80, 24), (120, 40)] {
            let screen = render_to_string(&s, w, h);
            let footer = screen.lines().last().unwrap_or_default();
            assert!(footer.contains("? help"), "{name} at {w}×{h}: {footer:?}");
        }
    }
}

/// At 60×20 (a projector's zoom, a split screen) every view keeps its names and the context
/// badge (which engine this is); the less telling columns go first.
#[test]
fn narrow_views_keep_their_names_and_the_context_badge() {
    let screens: [(&str, State, &[&str]); 9] = [
        ("topics", watched(), &["audit.log", "orders", "payments", "WORST LAG"]),
        ("topic", topic_view(), &["topic orders", "billing", "analytics", "HEALTH"]),
        ("groups", with_keys(watched(), &[KeyCode::Char('2')]), &["billing", "analytics", "archiver", "HEALTH"]),
        ("group", group_view(), &["group billing", "orders", "billing-1", "billing-2", "HEALTH"]),
        ("messages_json", messages_view(0), &["orders/0", "order-1150", "offset     1150"]),
        ("reset", reset_form(), &["Reset offsets of billing", "partitions 0"]),
        ("publish", publish_form(), &["Publish to orders", "order-42"]),
        ("confirm_delete", confirm_delete(), &["Delete topic orders"]),
        ("replay", replay_form(), &["Replay"]),
    ];
    for (name, mut s, names) in screens {
        s.settings.context = Some(ContextBadge { name: "prod-eu".into(), danger: true, color: None });
        let screen = render_to_string(&s, 60, 20);
        let header = screen.lines().next().unwrap_or_default();
        assert!(header.contains("ctx prod-eu"), "{name}: the badge is in the header: {header:?}");
        for n in names {
            assert!(screen.contains(n), "{name} at 60×20 shows {n:?}:\n{screen}");
        }
        insta::with_settings!({ snapshot_suffix => "60x20", omit_expression => true }, {
            insta::assert_snapshot!(name, screen);
        });
    }
}

#[test]
fn backend_away_and_read_only() {
    let mut s = watched();
    let err = depot::backend::BackendError::Unavailable("cannot reach http://10.0.0.7:7878: connection refused".into());
    feed(&mut s, Loaded::Topics(Err(err)));
    snap("backend_away", &s);
    snap("read_only", &with_keys(loaded_with(settings(true), Theme::dark()), &[KeyCode::Char('?')]));
}

#[test]
fn tiny_terminals_do_not_panic() {
    for (name, s) in screens() {
        for (w, h) in [(40, 12), (1, 1), (1, 24), (80, 1), (0, 0)] {
            let screen = render_to_string(&s, w, h);
            assert_eq!(screen.lines().count(), h as usize, "{name} at {w}×{h}");
        }
    }
}

#[test]
fn tiny_terminals_after_resize_keep_working() {
    // The state learns the size from Resize: keys after it must not panic either.
    let mut s = messages_view(1);
    depot::console::update::update(&mut s, Msg::Resize(40, 12));
    for k in [KeyCode::Char('G'), KeyCode::PageDown, KeyCode::PageUp, KeyCode::Char('g'), KeyCode::Enter] {
        press(&mut s, k);
        render_to_string(&s, 40, 12);
    }
    depot::console::update::update(&mut s, Msg::Resize(1, 1));
    press(&mut s, KeyCode::Char('j'));
    click(&mut s, 0, 0);
    render_to_string(&s, 1, 1);
}

#[test]
fn no_color_renders_the_same_text() {
    for (name, s) in screens() {
        let mut mono = s.clone();
        mono.theme = Theme::mono();
        assert_eq!(render_to_string(&mono, 80, 24), render_to_string(&s, 80, 24), "{name}");
    }
    // And the light and high-contrast themes too.
    for theme in ["light", "high-contrast"] {
        let (t, problem) = Theme::load(theme, None, false);
        assert!(problem.is_none());
        let mut s = watched();
        s.theme = t;
        assert_eq!(render_to_string(&s, 80, 24), render_to_string(&watched(), 80, 24));
    }
}

#[test]
fn no_color_shows_the_selection_without_colours() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::{Color, Modifier};
    let mut s = watched();
    s.theme = Theme::mono();
    let Ok(mut term) = Terminal::new(TestBackend::new(80, 24));
    term.draw(|f| depot::console::view::render(f, &s)).expect("draws");
    let buf = term.backend().buffer();
    let mut reversed_rows = Vec::new();
    for y in 0..24 {
        for x in 0..80 {
            let c = &buf[(x, y)];
            assert!(c.fg == Color::Reset && c.bg == Color::Reset, "a colour at {x},{y} under NO_COLOR");
            if c.modifier.contains(Modifier::REVERSED) && !reversed_rows.contains(&y) {
                reversed_rows.push(y);
            }
        }
    }
    assert!(reversed_rows.contains(&3), "the selected row (line 3) is shown reversed: {reversed_rows:?}");
}

#[test]
fn messages_after_year_9999_render_without_a_panic() {
    for ts in [i64::MAX, 253_402_300_800_000, i64::MIN, -1] {
        let mut s = topic_view();
        press(&mut s, KeyCode::Enter);
        let seq = s.data.messages.as_ref().map(|m| m.seq).unwrap_or_default();
        let recs = records().into_iter().map(|r| depot::core::Message { timestamp: ts, ..r }).collect();
        feed(&mut s, Loaded::Messages { seq, result: Ok(recs) });
        let list = render_to_string(&s, 120, 40);
        assert!(list.contains("order-1150"), "{list}");
        press(&mut s, KeyCode::Enter);
        for (w, h) in [(80, 24), (120, 40), (20, 8)] {
            render_to_string(&s, w, h);
        }
        let detail = render_to_string(&s, 200, 50);
        assert!(detail.contains(&format!("{} ({ts})", depot::core::time::fmt_ms(ts))), "{detail}");
    }
}

#[test]
fn a_long_error_wraps_over_the_status_area() {
    // As a remote engine says it: longer than one line at 80 and at 60 columns.
    let long = "pull failed: joining consumer group billing on kafka-1.prod.example.com:9092 gave no \
        partitions of orders within 10 s (last error: Broker: Coordinator not available); other members may \
        hold all 12 partition(s), or the group coordinator is slow";
    let mut s = group_view();
    s.ui.say(Level::Error, long);
    for (w, h) in [(80, 24), (60, 20)] {
        let screen = render_to_string(&s, w, h);
        insta::with_settings!({ snapshot_suffix => format!("{w}x{h}"), omit_expression => true }, {
            insta::assert_snapshot!("long_error", screen);
        });
    }
}

/// A colour as sRGB, for the light theme's contrast check (`Reset` is the terminal's own: dark
/// text on a white background).
fn rgb(c: ratatui::style::Color, default: (u8, u8, u8)) -> Option<(u8, u8, u8)> {
    use ratatui::style::Color;
    match c {
        Color::Reset => Some(default),
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Black => Some((0, 0, 0)),
        // ANSI colours are the terminal palette's: grey and the bright ones often vanish on white.
        _ => None,
    }
}

/// WCAG contrast ratio of two sRGB colours.
fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let lum = |(r, g, b): (u8, u8, u8)| {
        let ch = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.03928 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)
    };
    let (x, y) = (lum(a), lum(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// On a white terminal the light theme uses no ANSI grey (or any palette colour) for text or
/// borders; text has a contrast of at least 4.5:1 against what is behind it, borders 3:1; and the
/// selected row is one style from border to border (no island of a name's or a verdict's colour).
#[test]
fn the_light_theme_reads_on_white_and_selects_whole_rows() {
    use ratatui::style::Color;
    let (light, problem) = Theme::load("light", None, false);
    assert!(problem.is_none(), "{problem:?}");
    let white = (255, 255, 255);
    let ink = (0, 0, 0);
    for (name, s) in screens() {
        let mut s = s;
        s.theme = light.clone();
        let buf = depot::console::render_to_buffer(&s, 120, 40);
        for y in 0..40 {
            for x in 0..120 {
                let c = &buf[(x, y)];
                if c.symbol().trim().is_empty() {
                    continue;
                }
                let at = format!("{name}: {:?} at {x},{y} (fg {:?}, bg {:?})", c.symbol(), c.fg, c.bg);
                let fg = rgb(c.fg, ink).unwrap_or_else(|| panic!("{at}: a palette colour"));
                let bg = rgb(c.bg, white).unwrap_or_else(|| panic!("{at}: a palette background"));
                let border = c.symbol().chars().all(|ch| ('\u{2500}'..='\u{257f}').contains(&ch));
                let need = if border { 3.0 } else { 4.5 };
                assert!(contrast(fg, bg) >= need, "{at}: contrast {:.2} < {need}", contrast(fg, bg));
            }
        }
    }
    // The selected row of each list: every cell between the borders in the selection's colours.
    for (name, s) in
        [("topics", watched()), ("groups", with_keys(watched(), &[KeyCode::Char('2')])), ("group", group_view())]
    {
        let mut s = s;
        s.theme = light.clone();
        let buf = depot::console::render_to_buffer(&s, 120, 40);
        let rows: Vec<u16> = (0..40).filter(|&y| (1..119).any(|x| buf[(x, y)].bg == light.selection_bg)).collect();
        assert_eq!(rows.len(), 1, "{name}: one selected row: {rows:?}");
        let y = rows[0];
        for x in 1..119 {
            let c = &buf[(x, y)];
            assert_eq!((c.fg, c.bg), (light.selection_fg, light.selection_bg), "{name}: cell {x},{y} {:?}", c.symbol());
        }
        assert_ne!(light.selection_bg, Color::Reset);
    }
}

/// Kafka consumers' hosts show beside their client ids in the Group view (depot's own members,
/// as in the snapshots above, have none and keep the table as it was).
#[test]
fn the_group_view_shows_kafka_members_hosts() {
    let mut s = group_view();
    let g = s.data.groups.iter_mut().find(|g| g.name == "billing").expect("billing");
    g.members[0].client_id = "rdkafka".into();
    g.members[0].client_host = "/10.1.2.3".into();
    let screen = render_to_string(&s, 120, 40);
    let row = screen.lines().find(|l| l.contains("billing-1") && l.contains("rdkafka")).unwrap_or_default();
    assert!(row.contains("/10.1.2.3"), "the host beside the client id:\n{screen}");
    assert!(screen.lines().any(|l| l.contains("CLIENT") && l.contains("HOST")), "{screen}");
    let narrow = render_to_string(&s, 60, 20);
    assert!(narrow.contains("billing-1") && !narrow.contains("/10.1.2.3"), "under 70 columns it goes:\n{narrow}");
}
