//! The status line and the header say what is on screen now: after a jump, after tail → backlog,
//! after a failed command followed by a good one, after a failed load followed by a good one. And
//! an error is never cut off: the status area grows to fit it.

mod console_fixtures;

use console_fixtures::*;
use crossterm::event::KeyCode;
use depot::backend::BackendError;
use depot::console::dialogs::Dialog;
use depot::console::effect::Effect;
use depot::console::layout;
use depot::console::msg::Loaded;
use depot::console::render_to_string;
use depot::console::state::*;

fn status(s: &State) -> Option<(Level, String)> {
    s.ui.status.as_ref().map(|st| (st.level, st.text.clone()))
}

/// The screen's first line (the header) and its status line: the row above the footer.
fn header_and_status(s: &State) -> (String, String) {
    let screen = render_to_string(s, 120, 40);
    let lines: Vec<&str> = screen.lines().collect();
    (lines[0].to_string(), lines[lines.len() - 2].to_string())
}

fn seq_of(fx: &[Effect]) -> u64 {
    match fx {
        [.., Effect::LoadMessages { seq, .. }] => *seq,
        other => panic!("expected a LoadMessages, got {other:?}"),
    }
}

/// orders/0 in the messages view, its records loaded.
fn orders_0() -> State {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Enter);
    let seq = seq_of(&press(&mut s, KeyCode::Enter));
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    assert_eq!(*s.nav.view(), View::Messages);
    s
}

#[test]
fn tail_then_backlog_says_backlog() {
    let mut s = orders_0();
    let seq = seq_of(&press(&mut s, KeyCode::Char('t')));
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    let (header, line) = header_and_status(&s);
    assert!(header.contains("orders/0 live tail"), "{header}");
    assert!(line.contains("live tail"), "{line}");

    let seq = seq_of(&press(&mut s, KeyCode::Char('b')));
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()[1..].to_vec()) });
    assert_eq!(status(&s), None, "the tail's message went with the tail");
    let (header, line) = header_and_status(&s);
    assert!(header.contains("orders/0 backlog of billing") && !header.contains("tail"), "{header}");
    assert!(line.contains("backlog of group billing") && !line.contains("tail"), "{line}");
}

#[test]
fn a_jump_says_where_it_went() {
    let mut s = orders_0();
    let seq = seq_of(&press(&mut s, KeyCode::Char('t')));
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    press(&mut s, KeyCode::Char('J'));
    typ(&mut s, "1152");
    let seq = seq_of(&press_ev(&mut s, ctrl('s')));
    assert_eq!(status(&s), Some((Level::Info, "jumped to offset 1152".into())), "not the tail's message");
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()[2..].to_vec()) });
    let (header, _) = header_and_status(&s);
    assert!(header.contains("orders/0 messages") && !header.contains("tail"), "{header}");

    // A jump to a time: the view learns the offset from the records and says it.
    press(&mut s, KeyCode::Char('J'));
    typ(&mut s, "2025-06-15T15:06:00Z");
    let seq = seq_of(&press_ev(&mut s, ctrl('s')));
    assert_eq!(
        status(&s),
        Some((Level::Info, "jumped to the first record at or after 2025-06-15T15:06:00.000Z".into()))
    );
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()[1..].to_vec()) });
    assert_eq!(s.data.messages.as_ref().map(|m| m.mode.clone()), Some(MsgMode::Browse { from: 1151 }));
    tick(&mut s, NOW + 9_000);
    let (_, line) = header_and_status(&s);
    assert!(line.contains("browsing from offset 1151"), "{line}");
}

#[test]
fn a_failed_command_then_a_good_one_leaves_no_old_error() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char(':'));
    typ(&mut s, "group nope");
    press(&mut s, KeyCode::Enter);
    assert_eq!(status(&s), Some((Level::Error, "no group named nope".into())));
    press(&mut s, KeyCode::Char(':'));
    typ(&mut s, "group billing");
    press(&mut s, KeyCode::Enter);
    assert_eq!(*s.nav.view(), View::Group("billing".into()));
    assert_eq!(status(&s), None);
    let (header, line) = header_and_status(&s);
    assert!(header.contains("Groups ▸ group billing"), "{header}");
    assert!(!line.contains("nope"), "{line}");

    // A key that changes the view does it too.
    press(&mut s, KeyCode::Char(':'));
    typ(&mut s, "topic nope");
    press(&mut s, KeyCode::Enter);
    assert!(status(&s).is_some());
    press(&mut s, KeyCode::Char('1'));
    assert_eq!(status(&s), None);
}

#[test]
fn a_failed_load_then_a_good_one_takes_the_error_back() {
    let mut s = orders_0();
    let seq = seq_of(&press_ev(&mut s, ctrl('r')));
    feed(&mut s, Loaded::Messages { seq, result: Err(BackendError::Unavailable("read timed out".into())) });
    assert_eq!(status(&s), Some((Level::Error, "read timed out".into())));
    let seq = seq_of(&press_ev(&mut s, ctrl('r')));
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    assert_eq!(status(&s), None, "the records are there now");
    // Another error is not the load's to take back.
    s.ui.say(Level::Error, "pull failed: the group is gone");
    let seq = seq_of(&press_ev(&mut s, ctrl('r')));
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    assert_eq!(status(&s).map(|x| x.1), Some("pull failed: the group is gone".into()));
}

/// A long error, as a remote engine says it.
const LONG: &str = "pull failed: joining consumer group billing on kafka-1.prod.example.com:9092 gave no \
    partitions of orders within 10 s (last error: Broker: Coordinator not available); other members may hold \
    all 12 partition(s), or the group coordinator is slow";

#[test]
fn a_long_error_wraps_and_is_never_cut_off() {
    let mut s = loaded();
    s.ui.say(Level::Error, LONG);
    for (w, h) in [(80, 24), (60, 20)] {
        let screen = render_to_string(&s, w, h);
        let words: Vec<&str> = screen.lines().flat_map(|l| l.split_whitespace()).collect();
        let shown = words.join(" ");
        assert!(shown.contains(&LONG.split_whitespace().collect::<Vec<_>>().join(" ")), "{w}×{h}:\n{screen}");
        s.ui.size = (w, h);
        let rows = layout::list_rows(&s).height;
        assert!(rows >= 1, "the list keeps its rows at {w}×{h}");
    }
    // The body gives up only the rows the message needs: back to one when it goes.
    s.ui.size = (80, 24);
    let with = layout::body_rows(&s);
    s.ui.status = None;
    assert_eq!(layout::body_rows(&s), with + 3, "four status rows at 80 columns, one without");
}

#[test]
fn a_long_error_in_a_form_wraps_inside_the_dialog() {
    let mut s = orders_0();
    press(&mut s, KeyCode::Char('J'));
    typ(&mut s, "yesterday-at-noon-please-or-maybe-the-day-before");
    assert!(press_ev(&mut s, ctrl('s')).is_empty(), "not a time: nothing loads");
    let error = match &s.overlay {
        Some(Overlay::Dialog(Dialog::Jump(form))) => form.error.clone().unwrap_or_default(),
        other => panic!("the jump dialog stays open with its error, got {other:?}"),
    };
    assert!(error.chars().count() > 80 && error.contains("is not a time"), "{error}");
    let words = error.split_whitespace().collect::<Vec<_>>().join(" ");
    for (w, h) in [(80, 24), (60, 20)] {
        let screen = render_to_string(&s, w, h);
        // The dialog's lines from the error's mark to its bottom border, inside the borders.
        let inner: Vec<String> = screen
            .lines()
            .skip_while(|l| !l.contains('✗'))
            .take_while(|l| !l.contains('╰'))
            .map(|l| l.trim_matches(|c: char| c == '│' || c == ' ').to_string())
            .collect();
        let shown = inner.join(" ").replace('✗', "");
        assert_eq!(shown.split_whitespace().collect::<Vec<_>>().join(" "), words, "all of it at {w}×{h}:\n{screen}");
    }
}
