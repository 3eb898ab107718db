//! Dialogs through `update`, beyond the flows in `console_update.rs`: the working popup (waits
//! for the answer, only esc hides it), and the typed form fields — every form draws the labels of
//! its field enum in order, and a submit reads each value from the field it was typed into.

mod console_fixtures;

use console_fixtures::*;
use crossterm::event::KeyCode;
use depot::console::dialogs::Dialog;
use depot::console::dialogs::create_topic::CreateTopicField;
use depot::console::dialogs::jump::JumpField;
use depot::console::dialogs::publish::PublishField;
use depot::console::dialogs::pull::PullField;
use depot::console::dialogs::replay::ReplayField;
use depot::console::dialogs::reset::ResetField;
use depot::console::effect::Effect;
use depot::console::form::FormField;
use depot::console::msg::Loaded;
use depot::console::render_to_string;
use depot::console::state::*;
use depot::core::*;

#[test]
fn the_working_popup_waits_for_the_answer_and_only_esc_hides_it() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Enter);
    assert_eq!(press(&mut s, KeyCode::Char('u')), vec![Effect::PlanUndo { group: "billing".into() }]);
    let waiting = Dialog::Working("planning the undo of billing's last reset…".into());
    assert_eq!(dialog(&s), &waiting);
    for k in [KeyCode::Char('j'), KeyCode::Char('q'), KeyCode::Enter, KeyCode::Char('y'), KeyCode::Char('u')] {
        assert!(press(&mut s, k).is_empty(), "{k:?} while waiting");
        assert_eq!(dialog(&s), &waiting, "{k:?} keeps the popup");
    }
    assert_eq!(s.nav.stack.len(), 2, "keys went to the popup, not the view");
    assert!(!s.ui.quit);
    assert!(press(&mut s, KeyCode::Esc).is_empty());
    assert!(s.overlay.is_none(), "esc hides it");
    // The answer still arrives and opens the preview.
    feed(&mut s, Loaded::ResetPlanned(Ok(ResetPlan { undo_of: Some(4), ..reset_plan(false) })));
    assert!(matches!(dialog(&s), Dialog::ResetPreview(p) if p.plan.undo_of == Some(4)));
}

#[test]
fn an_answer_closes_the_working_popup_but_not_what_was_opened_meanwhile() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('c'));
    typ(&mut s, "events");
    press_ev(&mut s, ctrl('s'));
    let fx = press(&mut s, KeyCode::Char('y'));
    assert!(matches!(&fx[..], [Effect::CreateTopic { name, .. }] if name == "events"));
    assert_eq!(dialog(&s), &Dialog::Working("creating topic events…".into()));
    press(&mut s, KeyCode::Esc);
    press(&mut s, KeyCode::Char('?'));
    let info = TopicInfo { name: "events".into(), config: TopicConfig::with_partitions(1), partitions: Vec::new() };
    feed(&mut s, Loaded::TopicCreated(Ok(info)));
    assert_eq!(s.overlay, Some(Overlay::Help), "the help the user opened stays");
    assert_eq!(s.ui.status.as_ref().map(|st| st.text.as_str()), Some("created topic events with 0 partition(s)"));
}

/// The screen lines, top to bottom, on which a form draws each label (right-aligned before the
/// value, as `{label:>12} `).
fn label_rows(screen: &str, labels: &[&str]) -> Vec<usize> {
    labels
        .iter()
        .map(|l| {
            let drawn = format!("{l:>12} ");
            screen
                .lines()
                .position(|line| line.contains(&drawn))
                .unwrap_or_else(|| panic!("{l:?} not drawn:\n{screen}"))
        })
        .collect()
}

fn labels<F: FormField>() -> Vec<&'static str> {
    F::ALL.iter().map(|f| f.label()).collect()
}

#[test]
fn every_form_draws_the_labels_of_its_field_enum_in_order() {
    let topics_view = loaded;
    let group_view = || {
        let mut s = loaded();
        press(&mut s, KeyCode::Char('2'));
        press(&mut s, KeyCode::Enter);
        s
    };
    let messages_view = || {
        let mut s = loaded();
        press(&mut s, KeyCode::Char('j'));
        press(&mut s, KeyCode::Enter);
        let seq = match &press(&mut s, KeyCode::Enter)[..] {
            [Effect::LoadMessages { seq, .. }] => *seq,
            other => panic!("{other:?}"),
        };
        feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
        s
    };
    let forms: Vec<(&str, State, char, Vec<&str>)> = vec![
        ("publish", topics_view(), 'p', labels::<PublishField>()),
        ("create topic", topics_view(), 'c', labels::<CreateTopicField>()),
        ("replay", topics_view(), 'R', labels::<ReplayField>()),
        ("reset", group_view(), 'o', labels::<ResetField>()),
        ("pull", group_view(), 'l', labels::<PullField>()),
        ("jump", messages_view(), 'J', labels::<JumpField>()),
    ];
    for (name, mut s, key, labels) in forms {
        press(&mut s, KeyCode::Char(key));
        assert!(s.overlay.is_some(), "{name} opened");
        let screen = render_to_string(&s, 120, 40);
        let rows = label_rows(&screen, &labels);
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "{name}: {labels:?} on rows {rows:?}:\n{screen}");
    }
}

#[test]
fn the_publish_submit_reads_each_value_from_the_field_it_was_typed_into() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('j')); // orders
    press(&mut s, KeyCode::Char('p'));
    // One distinct value per field, typed in the enum's order (tab moves to the next field).
    for f in PublishField::ALL {
        press_ev(&mut s, ctrl('u'));
        typ(
            &mut s,
            match f {
                PublishField::Partition => "1",
                PublishField::Key => "the-key",
                PublishField::Headers => "h=the-header",
                PublishField::Value => "the-value",
                PublishField::Repeat => "2",
                PublishField::File => "",
            },
        );
        press(&mut s, KeyCode::Tab);
    }
    match dialog(&s) {
        Dialog::Publish(p) => {
            let v = |f| p.form.value(f);
            assert_eq!(
                [PublishField::Partition, PublishField::Key, PublishField::Headers, PublishField::Value].map(v),
                ["1", "the-key", "h=the-header", "the-value"]
            );
            assert_eq!((v(PublishField::Repeat), v(PublishField::File)), ("2", ""));
        }
        other => panic!("{other:?}"),
    }
    assert!(press(&mut s, KeyCode::Enter).is_empty(), "the button asks first");
    let record = OutRecord {
        key: Some(Payload::text("the-key")),
        value: Some(Payload::text("the-value")),
        headers: vec![header("h", "the-header")],
        partition: Some(1),
    };
    assert_eq!(
        press(&mut s, KeyCode::Char('y')),
        vec![Effect::Publish {
            topic: "orders".into(),
            req: PublishRequest { records: vec![record; 2], producer: None }
        }]
    );
}
