//! The messages view as an incident replayer uses it: `/` searches the engine (a progress line,
//! `n` / `N`), actions on the selected record (reset here, marks and replay, copy, save), forms
//! that follow the selection and keep what was typed when the plan fails, and `[` / `]`.

mod console_fixtures;

use console_fixtures::*;
use crossterm::event::KeyCode;
use depot::backend::BackendError;
use depot::console::dialogs::Dialog;
use depot::console::dialogs::replay::ReplayField;
use depot::console::dialogs::reset::ResetField;
use depot::console::effect::Effect;
use depot::console::msg::Loaded;
use depot::console::render_to_string;
use depot::console::state::*;
use depot::core::*;

fn select_topic(s: &mut State, name: &str) {
    let i = s.visible_topics().iter().position(|t| t.name == name).expect("topic listed");
    s.nav.screen_mut().selected = i;
}

/// Opens orders/0 and feeds it `items`.
fn open_orders_0(s: &mut State, items: Vec<Message>) {
    select_topic(s, "orders");
    press(s, KeyCode::Enter);
    let fx = press(s, KeyCode::Enter);
    let seq = match fx.last() {
        Some(Effect::LoadMessages { seq, .. }) => *seq,
        other => panic!("{other:?}"),
    };
    feed(s, Loaded::Messages { seq, result: Ok(items) });
}

fn selected_offset(s: &State) -> u64 {
    s.visible_messages()[s.nav.screen().selected].offset
}

fn search_of(fx: &[Effect]) -> (u64, SearchRequest) {
    match fx.last() {
        Some(Effect::Search { seq, topic, req }) => {
            assert_eq!(topic, "orders");
            (*seq, req.clone())
        }
        other => panic!("not a search: {other:?}"),
    }
}

fn page(from: u64, n: u64) -> Vec<Message> {
    (from..from + n).map(|o| record(o, None, Payload::text(&format!("order {o}")), Vec::new())).collect()
}

fn cursor(offset: u64, done: bool) -> Vec<SearchCursor> {
    vec![SearchCursor { partition: 0, offset, done }]
}

#[test]
fn slash_searches_the_engine_from_the_cursor_with_progress_and_n_and_shift_n_move_between_matches() {
    let mut s = loaded();
    open_orders_0(&mut s, records());
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('/'));
    typ(&mut s, "declined");
    let (seq, req) = search_of(&press(&mut s, KeyCode::Enter));
    assert_eq!((req.partition, req.regex.as_deref(), req.backward), (Some(0), Some("(?i)declined"), false));
    assert_eq!(req.resume, cursor(1152, false), "from the record after the cursor");
    assert!(req.max_bytes > 0 && req.max_ms > 0, "every slice is bounded");
    assert_eq!(status(&s).1, "searching orders for \"declined\" … 0 B scanned, 0 matches");

    // A slice cut short by its byte bound with no match: the next slice continues, the line says so.
    let slice = |matches: Vec<Message>, next, stopped| SearchResult {
        matches,
        next,
        scanned: 1000,
        scanned_bytes: 64 << 20,
        stopped,
        gone: Vec::new(),
    };
    let fx = feed(
        &mut s,
        Loaded::Searched { seq, result: Ok(slice(vec![], cursor(5000, false), Some(SearchBound::Bytes))) },
    );
    let (seq2, req) = search_of(&fx);
    assert_eq!(req.resume, cursor(5000, false));
    assert_eq!(status(&s).1, "searching orders for \"declined\" … 64.0 MiB scanned, 0 matches");
    // A late answer to the older slice changes nothing.
    assert!(feed(&mut s, Loaded::Searched { seq, result: Ok(slice(vec![], cursor(9, true), None)) }).is_empty());

    // Matches: the page opens at the first, the cursor on it.
    let found = vec![page(5001, 1).remove(0), page(5010, 1).remove(0)];
    let fx = feed(
        &mut s,
        Loaded::Searched { seq: seq2, result: Ok(slice(found, cursor(5020, false), Some(SearchBound::Matches))) },
    );
    let (lseq, from) = match fx.last() {
        Some(Effect::LoadMessages { seq, req, .. }) => (*seq, req.from),
        other => panic!("{other:?}"),
    };
    assert_eq!(from, PeekFrom::Offset(4998));
    assert!(status(&s).1 == "match 1/2+ at offset 5001 · \"declined\" · 128.0 MiB scanned · n/N", "{:?}", status(&s));
    feed(&mut s, Loaded::Messages { seq: lseq, result: Ok(page(4998, 30)) });
    assert_eq!(selected_offset(&s), 5001);

    // n: the next match found so far (on the page: no load), then a new slice from where the scan stopped.
    assert!(press(&mut s, KeyCode::Char('n')).is_empty());
    assert_eq!(selected_offset(&s), 5010);
    let (seq3, req) = search_of(&press(&mut s, KeyCode::Char('n')));
    assert_eq!(req.resume, cursor(5020, false));
    feed(&mut s, Loaded::Searched { seq: seq3, result: Ok(slice(vec![], cursor(6000, true), None)) });
    assert_eq!(status(&s).1, "no more matches for \"declined\" to the end (64.0 MiB scanned)");
    assert!(press(&mut s, KeyCode::Char('n')).is_empty());
    assert!(status(&s).1.contains("no more matches"));

    // N: back through the matches found, then a backward search from the first one.
    assert!(press(&mut s, KeyCode::Char('N')).is_empty());
    assert_eq!(selected_offset(&s), 5001);
    let (seq4, req) = search_of(&press(&mut s, KeyCode::Char('N')));
    assert_eq!((req.backward, req.resume.clone(), req.max_matches), (true, cursor(5001, false), 1));
    let earlier = vec![page(1200, 1).remove(0)];
    let fx = feed(
        &mut s,
        Loaded::Searched { seq: seq4, result: Ok(slice(earlier, cursor(1200, false), Some(SearchBound::Matches))) },
    );
    assert!(matches!(fx.last(), Some(Effect::LoadMessages { req, .. }) if req.from == PeekFrom::Offset(1197)));
    assert!(status(&s).1.starts_with("match 1/3 at offset 1200"), "{:?}", status(&s));
}

#[test]
fn header_filters_and_searches_take_name_equals_value() {
    let mut s = loaded();
    open_orders_0(&mut s, records());
    press(&mut s, KeyCode::Char('/'));
    typ(&mut s, "trace-id=7f3a");
    let offsets: Vec<u64> = s.visible_messages().iter().map(|m| m.offset).collect();
    assert_eq!(offsets, [1150], "the page filter matches the header by name and value");
    let (_, req) = search_of(&press(&mut s, KeyCode::Enter));
    assert_eq!(req.header, Some(HeaderMatch { name: "trace-id".into(), value: "7f3a".into() }));
    assert_eq!(req.regex, None);
}

#[test]
fn n_outside_the_messages_view_is_not_a_search() {
    let mut s = loaded();
    assert!(press(&mut s, KeyCode::Char('n')).is_empty());
    assert!(s.ui.status.is_none(), "n elsewhere says nothing about searches: {:?}", s.ui.status);
    open_orders_0(&mut s, records());
    press(&mut s, KeyCode::Char('n'));
    assert_eq!(status(&s).1, "no search yet: / searches the partition");
}

#[test]
fn o_on_a_record_opens_the_reset_filled_in_to_its_offset() {
    let mut s = loaded();
    open_orders_0(&mut s, records());
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('o'));
    match dialog(&s) {
        Dialog::Reset(r) => {
            assert!(
                s.data
                    .group(r.form.value(ResetField::Group))
                    .is_some_and(|g| g.partitions.iter().any(|p| p.topic == "orders"))
            );
            let v = |f| r.form.value(f);
            assert_eq!(
                (v(ResetField::Topic), v(ResetField::Mode), v(ResetField::Value), v(ResetField::Partitions)),
                ("orders", "to-offset", "1152", "0")
            );
        }
        other => panic!("{other:?}"),
    }
    let fx = press_ev(&mut s, ctrl('s'));
    assert!(
        matches!(&fx[..], [Effect::PlanReset { req, .. }] if req.spec == ResetSpec::ToOffset(1152) && req.partitions == [0]),
        "{fx:?}"
    );
}

#[test]
fn a_reset_from_a_record_offers_every_group_consuming_the_topic_and_plans_for_the_one_chosen() {
    // orders is consumed by billing and analytics: the form opens on the first, and the operator
    // can choose the other before the plan is asked for.
    let mut s = loaded();
    open_orders_0(&mut s, records());
    press(&mut s, KeyCode::Char('o'));
    match dialog(&s) {
        Dialog::Reset(r) => {
            assert_eq!(r.form.value(ResetField::Group), "billing");
            assert_eq!(r.form.title, "Reset offsets", "the title does not name one group when the form offers two");
        }
        other => panic!("{other:?}"),
    }
    press(&mut s, KeyCode::Right);
    match dialog(&s) {
        Dialog::Reset(r) => assert_eq!(r.form.value(ResetField::Group), "analytics"),
        other => panic!("{other:?}"),
    }
    let fx = press_ev(&mut s, ctrl('s'));
    assert!(
        matches!(&fx[..], [Effect::PlanReset { group, req }] if group == "analytics" && req.topic == "orders"),
        "{fx:?}"
    );
    // From the group's own view the form offers only that group.
    let mut s = loaded();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('o'));
    match dialog(&s) {
        Dialog::Reset(r) => {
            let g = r.form.value(ResetField::Group).to_string();
            press(&mut s, KeyCode::Right);
            match dialog(&s) {
                Dialog::Reset(r) => assert_eq!(r.form.value(ResetField::Group), g, "one group only"),
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reset_forms_default_to_the_selected_partition_row() {
    // Topic view, third row: partition 2 of orders, for the first group consuming it.
    let mut s = loaded();
    select_topic(&mut s, "orders");
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('o'));
    match dialog(&s) {
        Dialog::Reset(r) => {
            assert_eq!((r.form.value(ResetField::Topic), r.form.value(ResetField::Partitions)), ("orders", "2"));
            assert_eq!(
                r.form.value(ResetField::Mode),
                "shift-by",
                "a partition row is not a record: shift-by as before"
            );
        }
        other => panic!("{other:?}"),
    }
    // Group view: the row's partition.
    let mut s = loaded();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('j'));
    let row = {
        let Some(View::Group(g)) = s.nav.stack.last().map(|sc| sc.view.clone()) else { panic!("a group view") };
        s.data.group(&g).unwrap().partitions[1].clone()
    };
    press(&mut s, KeyCode::Char('o'));
    match dialog(&s) {
        Dialog::Reset(r) => {
            assert_eq!(r.form.value(ResetField::Topic), row.topic);
            assert_eq!(r.form.value(ResetField::Partitions), row.partition.to_string());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn marks_show_in_the_list_and_r_replays_the_marked_range() {
    let mut s = loaded();
    open_orders_0(&mut s, records());
    press(&mut s, KeyCode::Char('v'));
    assert!(status(&s).1.contains("marked the start at offset 1150"));
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('V'));
    assert_eq!(status(&s).1, "marked offsets 1150..=1152 (3 records) · R replays them");
    let screen = render_to_string(&s, 120, 40);
    assert!(screen.contains("marked 1150..=1152"), "{screen}");
    assert!(screen.contains("[1150") && screen.contains("|1151") && screen.contains("]1152"), "{screen}");
    press(&mut s, KeyCode::Char('R'));
    match dialog(&s) {
        Dialog::Replay(r) => {
            let v = |f| r.form.value(f);
            assert_eq!((v(ReplayField::From), v(ReplayField::To), v(ReplayField::Partitions)), ("1150", "1153", "0"));
        }
        other => panic!("{other:?}"),
    }
    press(&mut s, KeyCode::Esc);
    // The same key on the same record takes its mark away.
    press(&mut s, KeyCode::Char('V'));
    assert_eq!(status(&s).1, "marked the start at offset 1150 · V marks the end");
}

#[test]
fn y_copies_the_value_with_osc52_and_w_saves_it_through_the_driver() {
    let mut s = loaded();
    open_orders_0(&mut s, records());
    press(&mut s, KeyCode::Char('j'));
    assert_eq!(press(&mut s, KeyCode::Char('y')), vec![Effect::Copy("plain text note: call the customer back".into())]);
    feed(&mut s, Loaded::Copied(Ok(39)));
    assert_eq!(status(&s).0, Level::Ok);
    assert!(status(&s).1.contains("copied the value (39 B) to the clipboard with OSC 52"), "{:?}", status(&s));
    assert_eq!(depot::console::driver::osc52("hi"), "\u{1b}]52;c;aGk=\u{7}");

    assert!(press(&mut s, KeyCode::Char('w')).is_empty(), "the path is asked first");
    assert!(
        matches!(dialog(&s), Dialog::Save(f) if f.value(depot::console::dialogs::save::SaveField::Path) == "orders-0-1151.txt")
    );
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "/tmp/note.txt");
    let fx = press_ev(&mut s, ctrl('s'));
    assert_eq!(
        fx,
        vec![Effect::SaveFile {
            path: "/tmp/note.txt".into(),
            bytes: bytes::Bytes::from("plain text note: call the customer back")
        }]
    );
    feed(&mut s, Loaded::Saved(Ok(("/tmp/note.txt".into(), 39))));
    assert_eq!(status(&s), (Level::Ok, "saved the value (39 B) to /tmp/note.txt".into()));
    feed(&mut s, Loaded::Saved(Err("cannot write /tmp/note.txt: File exists".into())));
    assert_eq!(status(&s).0, Level::Error);
}

#[test]
fn brackets_switch_the_partition_and_wrap_around() {
    let mut s = loaded();
    open_orders_0(&mut s, records());
    let part = |fx: &[Effect]| match fx.last() {
        Some(Effect::LoadMessages { req, .. }) => req.partition,
        other => panic!("{other:?}"),
    };
    assert_eq!(part(&press(&mut s, KeyCode::Char(']'))), Some(1));
    assert_eq!(s.data.messages.as_ref().map(|m| m.partition), Some(1));
    assert!(status(&s).1.starts_with("partition 1 of orders"));
    assert_eq!(part(&press(&mut s, KeyCode::Char('['))), Some(0));
    assert_eq!(part(&press(&mut s, KeyCode::Char('['))), Some(2), "wraps to the last partition");
    assert_eq!(s.nav.stack.len(), 3, "the same view, not a new one");
}

#[test]
fn a_failed_plan_keeps_the_replay_and_reset_forms_as_typed() {
    let mut s = loaded();
    select_topic(&mut s, "orders");
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('R'));
    press(&mut s, KeyCode::Tab);
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "1100");
    press(&mut s, KeyCode::Tab);
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "1150");
    assert!(matches!(&press_ev(&mut s, ctrl('s'))[..], [Effect::PlanReplay(_)]));
    feed(&mut s, Loaded::ReplayPlanned(Err(BackendError::NotFound("topic \"orders-x\" not found".into()))));
    match dialog(&s) {
        Dialog::Replay(r) => {
            assert_eq!((r.form.value(ReplayField::From), r.form.value(ReplayField::To)), ("1100", "1150"));
            assert!(r.form.error.as_deref().is_some_and(|e| e.contains("not found")), "{:?}", r.form.error);
        }
        other => panic!("the form is gone: {other:?}"),
    }
    assert_eq!(status(&s).0, Level::Error);

    press(&mut s, KeyCode::Esc);
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('o'));
    for _ in 0..3 {
        press(&mut s, KeyCode::Tab); // group, topic, mode: to the value
    }
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "-7");
    assert!(matches!(&press_ev(&mut s, ctrl('s'))[..], [Effect::PlanReset { .. }]));
    feed(&mut s, Loaded::ResetPlanned(Err(BackendError::Refused("not now".into()))));
    match dialog(&s) {
        Dialog::Reset(r) => {
            assert_eq!(r.form.value(ResetField::Value), "-7");
            assert_eq!(r.form.error.as_deref(), Some("reset: not now"));
        }
        other => panic!("the form is gone: {other:?}"),
    }
}

#[test]
fn help_lists_the_record_actions_of_the_messages_view() {
    let mut s = loaded();
    open_orders_0(&mut s, records());
    press(&mut s, KeyCode::Char('?'));
    let screen = render_to_string(&s, 120, 40);
    for (key, what) in [
        ("n", "next match"),
        ("o", "reset here"),
        ("v", "mark start"),
        ("R", "replay marked"),
        ("y", "copy"),
        ("w", "save"),
        ("]", "next partition"),
    ] {
        assert!(screen.lines().any(|l| l.contains(&format!(" {key} ")) && l.contains(what)), "{key} {what}: {screen}");
    }
    assert!(
        screen.contains("also: N prev match · V mark end · [ prev partition · M all partitions by time"),
        "{screen}"
    );
    let small = render_to_string(&s, 80, 24);
    assert!(small.contains("also: N prev match") && small.contains("]           next partition"), "{small}");
}

#[test]
fn a_value_too_large_for_the_terminal_is_not_copied_and_the_status_says_to_save_it() {
    let mut s = loaded();
    let big = "x".repeat(depot::console::update::MAX_COPY + 1);
    open_orders_0(&mut s, vec![record(1150, None, Payload::text(&big), Vec::new())]);
    assert!(press(&mut s, KeyCode::Char('y')).is_empty(), "no OSC 52 the terminal would drop");
    let (level, text) = status(&s);
    assert_eq!(level, Level::Warn);
    assert!(text.contains("too large to copy") && text.contains("w saves it"), "{text}");
}

#[test]
fn a_tombstone_shows_as_one_dim_and_has_nothing_to_copy_or_save() {
    let mut s = loaded();
    let mut recs = records();
    recs[1].value = None;
    open_orders_0(&mut s, recs);
    let screen = render_to_string(&s, 120, 40);
    let row = screen.lines().find(|l| l.contains("1151")).unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains(TOMBSTONE), "the list: {row}");
    // In the theme's dim style, not the text's.
    let buf = depot::console::render_to_buffer(&s, 120, 40);
    let (x, y) = (0..40u16)
        .flat_map(|y| (0..120u16).map(move |x| (x, y)))
        .find(|&(x, y)| buf[(x, y)].symbol() == "∅")
        .unwrap_or_else(|| panic!("no ∅ on screen: {screen}"));
    assert_eq!(buf[(x, y)].fg, s.theme.muted);
    press(&mut s, KeyCode::Char('j'));
    assert_eq!(selected_offset(&s), 1151);
    press(&mut s, KeyCode::Enter);
    let screen = render_to_string(&s, 160, 40);
    assert!(
        screen.contains("value (null)") && screen.contains("∅ tombstone (the value is null)"),
        "the detail: {screen}"
    );
    assert!(press(&mut s, KeyCode::Char('y')).is_empty());
    assert!(status(&s).1.contains("tombstone") && status(&s).1.contains("nothing to copy"), "{:?}", status(&s));
    assert!(press(&mut s, KeyCode::Char('w')).is_empty());
    assert!(s.overlay.is_none(), "no save dialog for a tombstone");
    assert!(status(&s).1.contains("nothing to save"), "{:?}", status(&s));
}
