//! The side-panel hook without the demo: a provider's panel shows its text and keys; its keys are
//! listed in the footer (those it asks for) and the help overlay; a press becomes
//! `Effect::Panel` with the group in view; without a panel the same key does nothing; `[keys]`
//! rebinds a panel key by its action id; the console's own keys come first.

mod console_fixtures;

use console_fixtures::*;
use crossterm::event::KeyCode;
use depot::console::effect::Effect;
use depot::console::keymap::{Key, Keymap};
use depot::console::msg::Msg;
use depot::console::panel::{PanelAction, PanelKey, SidePanel};
use depot::console::render_to_string;
use depot::console::state::*;
use depot::console::update::update;
use std::collections::BTreeMap;

fn key(c: char, label: &str, action: &str, footer: Option<&str>, restarts: bool) -> PanelKey {
    PanelKey {
        key: Key::char(c),
        label: label.into(),
        action: action.into(),
        footer: footer.map(String::from),
        restarts,
    }
}

/// A panel with two keys: `a` (also in the footer) and `z` (starts the provider over).
fn panel() -> SidePanel {
    SidePanel {
        title: "lab bench".into(),
        narration: "Watch the\nlag.\n\nThen press a.".into(),
        lines: vec!["worker: busy".into()],
        log: vec!["started".into()],
        keys: vec![
            key('a', "add-worker", "lab_add", Some("add"), false),
            key('z', "start-over", "lab_reset", None, true),
        ],
        keys_title: "lab keys:".into(),
        ..SidePanel::default()
    }
}

fn footer(s: &State) -> String {
    render_to_string(s, 120, 40).lines().last().unwrap_or_default().to_string()
}

fn panel_effect(fx: &[Effect]) -> Option<&PanelAction> {
    match fx.first() {
        Some(Effect::Panel(a)) => Some(a),
        _ => None,
    }
}

#[test]
fn without_a_panel_its_keys_do_nothing() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('2'));
    assert!(press(&mut s, KeyCode::Char('a')).is_empty());
    assert!(press(&mut s, KeyCode::Char('z')).is_empty());
    assert!(!footer(&s).contains("add"), "{}", footer(&s));
    assert!(!render_to_string(&s, 120, 40).contains("lab bench"));
}

#[test]
fn a_panel_shows_its_text_and_keys_in_the_panel_the_footer_and_help() {
    let mut s = loaded();
    update(&mut s, Msg::Panel(panel()));
    let screen = render_to_string(&s, 120, 40);
    assert!(
        screen.contains("lab bench") && screen.contains("Watch the lag.") && screen.contains("worker: busy"),
        "{screen}"
    );
    assert!(screen.contains("a add-worker") && screen.contains("z start-over"), "{screen}");
    let f = footer(&s);
    assert!(f.starts_with(" a add  "), "the panel's footer key comes first: {f:?}");
    assert!(!f.contains("start-over"), "a key without a footer label is not in the footer: {f:?}");
    press(&mut s, KeyCode::Char('?'));
    let help = render_to_string(&s, 120, 40);
    assert!(help.contains("lab keys:"), "{help}");
    assert!(help.contains("a add-worker") && help.contains("z start-over"), "{help}");
    assert!(
        help.lines().any(|l| l.contains(&format!(" {:<12}add", "a"))),
        "the footer key is in this view's list:\n{help}"
    );
}

#[test]
fn a_panel_key_becomes_a_panel_effect_with_the_group_in_view() {
    let mut s = loaded();
    update(&mut s, Msg::Panel(panel()));
    let fx = press(&mut s, KeyCode::Char('a'));
    assert_eq!(panel_effect(&fx), Some(&PanelAction { action: "lab_add".into(), group: None }), "Topics: no group");
    assert_eq!(&fx[1..], [Effect::LoadTopics, Effect::LoadGroups], "the lists refresh to show what it changed");
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('j'));
    let want = |g: &str| Some(PanelAction { action: "lab_add".into(), group: Some(g.into()) });
    assert_eq!(
        panel_effect(&press(&mut s, KeyCode::Char('a'))).cloned(),
        want("analytics"),
        "the group under the cursor"
    );
    press(&mut s, KeyCode::Enter);
    assert_eq!(panel_effect(&press(&mut s, KeyCode::Char('a'))).cloned(), want("analytics"), "the open group");
    // A key pressed while a dialog is open goes to the dialog.
    press(&mut s, KeyCode::Char('?'));
    assert!(press(&mut s, KeyCode::Char('a')).is_empty());
}

#[test]
fn a_restarting_key_goes_back_to_the_top_and_drops_the_history() {
    let mut s = watched();
    update(&mut s, Msg::Panel(panel()));
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Enter);
    assert!(!s.trends.windows.is_empty());
    let fx = press(&mut s, KeyCode::Char('z'));
    assert_eq!(panel_effect(&fx), Some(&PanelAction { action: "lab_reset".into(), group: Some("billing".into()) }));
    assert_eq!(s.nav.stack.len(), 1);
    assert!(s.trends.windows.is_empty() && s.trends.group_lag.is_empty() && s.trends.topic_rates.is_empty());
}

#[test]
fn keys_rebinds_a_panel_key_by_its_action_id_and_the_consoles_keys_come_first() {
    let mut o = BTreeMap::new();
    o.insert("lab_add".to_string(), vec!["A".to_string()]);
    let (keymap, problems) = Keymap::with_overrides(&o, &["lab_add", "lab_reset"]);
    assert!(problems.is_empty(), "{problems:?}");
    let mut s = loaded();
    s.keymap = keymap;
    let mut p = panel();
    p.keys.push(key('p', "shadowed", "lab_shadowed", None, false));
    update(&mut s, Msg::Panel(p));
    assert!(press(&mut s, KeyCode::Char('a')).is_empty(), "a is no longer the panel's");
    assert_eq!(panel_effect(&press(&mut s, KeyCode::Char('A'))).map(|a| a.action.as_str()), Some("lab_add"));
    assert!(footer(&s).starts_with(" A add  "), "{}", footer(&s));
    assert!(render_to_string(&s, 120, 40).contains("A add-worker"));
    // p is the console's publish, whatever the panel says.
    assert!(press(&mut s, KeyCode::Char('p')).is_empty());
    assert!(matches!(s.overlay, Some(Overlay::Dialog(_))), "p opened the publish dialog");
}
