//! The console's state machine without a terminal: key sequences and backend answers in, state and
//! effects out. No async, no sleeps; the clock is a number we pass in.

mod console_fixtures;

use console_fixtures::*;
use crossterm::event::KeyCode;
use depot::backend::*;
use depot::console::dialogs::Dialog;
use depot::console::dialogs::pull::PullField;
use depot::console::dialogs::replay::ReplayField;
use depot::console::dialogs::reset::ResetField;
use depot::console::effect::Effect;
use depot::console::layout;
use depot::console::msg::Loaded;
use depot::console::render_to_string;
use depot::console::state::*;
use depot::core::*;

fn names(s: &State) -> Vec<String> {
    s.visible_topics().iter().map(|t| t.name.clone()).collect()
}

fn views(s: &State) -> Vec<View> {
    s.nav.stack.iter().map(|x| x.view.clone()).collect()
}

/// The screen line (0-based) that first contains `needle`.
fn line_of(screen: &str, needle: &str) -> u16 {
    screen.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle:?} not on screen:\n{screen}"))
        as u16
}

fn many_topics(n: usize) -> Vec<TopicInfo> {
    (0..n)
        .map(|i| TopicInfo {
            name: format!("t{i:02}"),
            config: TopicConfig::with_partitions(1),
            partitions: vec![part(0, 0, 1, 10, 0.0, 0.0)],
        })
        .collect()
}

fn select_topic(s: &mut State, name: &str) {
    let i = names(s).iter().position(|n| n == name).expect("topic listed");
    press(s, KeyCode::Char('g'));
    for _ in 0..i {
        press(s, KeyCode::Char('j'));
    }
    assert_eq!(s.nav.screen().selected, i);
}

fn messages_of(s: &State) -> &Messages {
    s.data.messages.as_ref().expect("a messages view")
}

fn load_req(fx: &[Effect]) -> (u64, String, PeekRequest) {
    match fx {
        [Effect::LoadMessages { seq, topic, req }] => (*seq, topic.clone(), req.clone()),
        other => panic!("expected one LoadMessages, got {other:?}"),
    }
}

// ---- navigation ----------------------------------------------------------------------------

#[test]
fn j_k_g_shift_g_and_page_down_move_the_cursor_within_the_rows() {
    let mut s = loaded();
    assert_eq!(names(&s), ["audit.log", "orders", "payments"]);
    assert_eq!(s.nav.screen().selected, 0);
    press(&mut s, KeyCode::Char('j'));
    assert_eq!(s.nav.screen().selected, 1);
    press(&mut s, KeyCode::Down);
    assert_eq!(s.nav.screen().selected, 2);
    press(&mut s, KeyCode::Char('j'));
    assert_eq!(s.nav.screen().selected, 2, "the cursor stops at the last row");
    press(&mut s, KeyCode::Char('k'));
    assert_eq!(s.nav.screen().selected, 1);
    press(&mut s, KeyCode::Char('g'));
    assert_eq!(s.nav.screen().selected, 0);
    press(&mut s, KeyCode::Char('k'));
    assert_eq!(s.nav.screen().selected, 0, "the cursor stops at the first row");
    press(&mut s, KeyCode::Char('G'));
    assert_eq!(s.nav.screen().selected, 2);
    press(&mut s, KeyCode::Home);
    press(&mut s, KeyCode::PageDown);
    assert_eq!(s.nav.screen().selected, 2, "a page down on a short list lands on the last row");
    press(&mut s, KeyCode::PageUp);
    assert_eq!(s.nav.screen().selected, 0);
}

#[test]
fn page_down_moves_by_a_screenful_on_a_long_list() {
    let mut s = loaded();
    feed(&mut s, Loaded::Topics(Ok(many_topics(50))));
    let rows = layout::body_rows(&s);
    assert_eq!(rows, 18, "80×24 shows 18 rows");
    press(&mut s, KeyCode::PageDown);
    assert_eq!(s.nav.screen().selected, rows);
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains(&format!("t{rows:02}")), "the selected row is on screen:\n{screen}");
    press_ev(&mut s, ctrl('d'));
    assert_eq!(s.nav.screen().selected, 2 * rows);
    press_ev(&mut s, ctrl('u'));
    assert_eq!(s.nav.screen().selected, rows);
    press(&mut s, KeyCode::Char('G'));
    assert_eq!(s.nav.screen().selected, 49);
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("t49") && !screen.contains("t00"), "scrolled to the end:\n{screen}");
}

#[test]
fn enter_drills_topics_topic_messages_and_esc_walks_back() {
    let mut s = loaded();
    select_topic(&mut s, "orders");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert_eq!(views(&s), [View::Topics, View::Topic("orders".into())]);
    press(&mut s, KeyCode::Char('j'));
    let fx = press(&mut s, KeyCode::Enter);
    let (seq, topic, req) = load_req(&fx);
    assert_eq!(topic, "orders");
    assert_eq!(req, PeekRequest { partition: Some(1), from: PeekFrom::Offset(0), max: 100 });
    assert_eq!(views(&s).last(), Some(&View::Messages));
    assert_eq!(messages_of(&s).mode, MsgMode::Browse { from: 0 });
    assert_eq!(messages_of(&s).seq, seq);

    // Enter in messages toggles the detail pane.
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    press(&mut s, KeyCode::Enter);
    assert!(messages_of(&s).detail);

    press(&mut s, KeyCode::Esc);
    assert_eq!(views(&s), [View::Topics, View::Topic("orders".into())]);
    press(&mut s, KeyCode::Esc);
    assert_eq!(views(&s), [View::Topics]);
    press(&mut s, KeyCode::Esc);
    assert_eq!(views(&s), [View::Topics], "esc on the top view stays");
    assert!(!s.ui.quit);
}

#[test]
fn browsing_a_partition_starts_at_its_log_start() {
    let mut s = loaded();
    select_topic(&mut s, "orders");
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('G'));
    let (_, _, req) = load_req(&press(&mut s, KeyCode::Enter));
    assert_eq!(req.from, PeekFrom::Offset(100), "orders/2 starts at 100");
}

#[test]
fn enter_drills_groups_group_backlog_from_the_committed_offset() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('2'));
    assert_eq!(views(&s), [View::Groups]);
    press(&mut s, KeyCode::Enter);
    assert_eq!(views(&s), [View::Groups, View::Group("billing".into())]);
    let (_, topic, req) = load_req(&press(&mut s, KeyCode::Enter));
    assert_eq!((topic.as_str(), req.partition, req.from), ("orders", Some(0), PeekFrom::Offset(1150)));
    assert_eq!(messages_of(&s).mode, MsgMode::Backlog { group: "billing".into() });
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("backlog of billing"), "{screen}");

    // A group that never committed reads its backlog from the log start.
    press(&mut s, KeyCode::Esc);
    press(&mut s, KeyCode::Esc);
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('j'));
    let (_, topic, req) = load_req(&press(&mut s, KeyCode::Enter));
    assert_eq!((topic.as_str(), req.from), ("payments", PeekFrom::Offset(0)));
}

#[test]
fn q_quits_only_from_the_top_view() {
    let mut s = loaded();
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.nav.stack.len(), 2);
    assert!(press(&mut s, KeyCode::Char('q')).is_empty(), "q below the top goes back");
    assert_eq!(views(&s), [View::Topics]);
    assert!(!s.ui.quit);
    assert_eq!(press(&mut s, KeyCode::Char('q')), vec![Effect::Quit]);
    assert!(s.ui.quit);
}

#[test]
fn breadcrumbs_show_the_stack() {
    let mut s = loaded();
    select_topic(&mut s, "orders");
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Enter);
    let top = render_to_string(&s, 120, 40).lines().next().unwrap_or_default().to_string();
    assert!(top.contains("Topics ▸ topic orders ▸ orders/0 messages"), "{top}");
    press(&mut s, KeyCode::Esc);
    let top = render_to_string(&s, 120, 40).lines().next().unwrap_or_default().to_string();
    assert!(top.contains("Topics ▸ topic orders") && !top.contains("messages"), "{top}");
    // 1 and 2 jump to a top view and clear the stack.
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Enter);
    let top = render_to_string(&s, 120, 40).lines().next().unwrap_or_default().to_string();
    assert!(top.contains("Groups ▸ group billing") && !top.contains("Topics"), "{top}");
}

// ---- filter ---------------------------------------------------------------------------------

#[test]
fn slash_filters_as_you_type_by_substring_and_esc_clears() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('G'));
    press(&mut s, KeyCode::Char('/'));
    typ(&mut s, "PAY");
    assert_eq!(names(&s), ["payments"], "case-insensitive, narrowed while typing");
    assert_eq!(s.nav.screen().selected, 0, "the cursor goes back to the first match");
    press(&mut s, KeyCode::Enter);
    assert!(s.overlay.is_none());
    assert_eq!(s.nav.screen().filter, "PAY");
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("Topics (1 of 3)") && screen.contains("filter: PAY"), "{screen}");
    // Keys work on the filtered rows: enter opens the one match.
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.nav.view(), &View::Topic("payments".into()));
    press(&mut s, KeyCode::Esc);
    assert_eq!(names(&s), ["payments"], "the filter belongs to its view and survives a drill down");
    press(&mut s, KeyCode::Esc);
    assert_eq!(names(&s).len(), 3, "esc clears the filter");
    assert_eq!(views(&s), [View::Topics]);
}

#[test]
fn slash_filters_by_regex_and_a_bad_regex_is_a_substring() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('/'));
    typ(&mut s, "^(orders|audit)");
    assert_eq!(names(&s), ["audit.log", "orders"]);
    press(&mut s, KeyCode::Esc);
    assert_eq!(names(&s).len(), 3, "esc in the prompt clears the filter");
    assert!(s.overlay.is_none());
    press(&mut s, KeyCode::Char('/'));
    typ(&mut s, "d.t");
    assert_eq!(names(&s), ["audit.log"], "a regex, not text");
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "(");
    assert!(names(&s).is_empty(), "an unfinished regex matches as text, no panic");
    press(&mut s, KeyCode::Enter);
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("Topics (0 of 3)"), "{screen}");
}

#[test]
fn filter_narrows_groups_and_messages_by_key_value_and_headers() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('/'));
    typ(&mut s, "bill");
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.visible_groups().len(), 1);

    let mut s = loaded();
    select_topic(&mut s, "orders");
    press(&mut s, KeyCode::Enter);
    let (seq, ..) = load_req(&press(&mut s, KeyCode::Enter));
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    let offsets = |s: &State| s.visible_messages().iter().map(|m| m.offset).collect::<Vec<_>>();
    press(&mut s, KeyCode::Char('/'));
    typ(&mut s, "customer back");
    assert_eq!(offsets(&s), [1151], "value");
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "order-115[03]");
    assert_eq!(offsets(&s), [1150, 1153], "key, by regex");
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "7f3a9c");
    assert_eq!(offsets(&s), [1150], "header value");
    press(&mut s, KeyCode::Esc);
    assert_eq!(offsets(&s).len(), 4);
}

// ---- commands and help ------------------------------------------------------------------------

fn command(s: &mut State, line: &str) -> Vec<Effect> {
    press(s, KeyCode::Char(':'));
    assert!(matches!(s.overlay, Some(Overlay::Command(_))));
    typ(s, line);
    press(s, KeyCode::Enter)
}

#[test]
fn colon_commands_switch_views_and_open_by_name() {
    let mut s = loaded();
    command(&mut s, "groups");
    assert_eq!(views(&s), [View::Groups]);
    assert!(s.overlay.is_none());
    command(&mut s, "topics");
    assert_eq!(views(&s), [View::Topics]);
    command(&mut s, "group analytics");
    assert_eq!(views(&s), [View::Groups, View::Group("analytics".into())]);
    command(&mut s, "topic payments");
    assert_eq!(views(&s), [View::Topics, View::Topic("payments".into())]);
    command(&mut s, "cg billing");
    assert_eq!(views(&s), [View::Groups, View::Group("billing".into())]);

    command(&mut s, "group nope");
    assert_eq!(status(&s), (Level::Error, "no group named nope".into()));
    assert_eq!(views(&s), [View::Groups, View::Group("billing".into())], "an unknown name leaves the view");

    command(&mut s, "frobnicate");
    let (level, text) = status(&s);
    assert_eq!(level, Level::Error);
    assert!(text.contains(":frobnicate: unknown command") && text.contains(":groups"), "{text}");

    // esc abandons a command.
    press(&mut s, KeyCode::Char(':'));
    typ(&mut s, "q");
    assert!(press(&mut s, KeyCode::Esc).is_empty());
    assert!(!s.ui.quit && s.overlay.is_none());

    assert_eq!(command(&mut s, "q"), vec![Effect::Quit], ":q quits from any view");
    assert!(s.ui.quit);
}

#[test]
fn ctx_names_the_known_contexts_or_says_there_are_none() {
    let mut s = loaded();
    assert!(command(&mut s, "ctx nope").is_empty());
    let (level, text) = status(&s);
    assert_eq!(level, Level::Error);
    assert!(text.contains("no context named nope") && text.contains("defines none"), "{text}");
    assert!(!text.contains("known: )"), "{text}");

    s.settings.contexts = vec!["prod".into(), "staging".into()];
    assert!(command(&mut s, "ctx nope").is_empty());
    assert_eq!(status(&s), (Level::Error, "no context named nope (known: prod, staging)".into()));
    assert_eq!(command(&mut s, "ctx prod"), vec![Effect::SwitchContext("prod".into())]);
}

#[test]
fn question_mark_opens_help_and_any_key_closes_it() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('?'));
    assert_eq!(s.overlay, Some(Overlay::Help));
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("help") && screen.contains("publish") && screen.contains("any key closes"), "{screen}");
    // The closing key does nothing else (q does not quit, j does not move).
    assert!(press(&mut s, KeyCode::Char('q')).is_empty());
    assert!(s.overlay.is_none() && !s.ui.quit);
    press(&mut s, KeyCode::Char('?'));
    press(&mut s, KeyCode::Char('j'));
    assert_eq!((s.overlay.is_none(), s.nav.screen().selected), (true, 0));
}

#[test]
fn help_lists_the_keys_of_the_current_view() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('?'));
    let screen = render_to_string(&s, 120, 40);
    assert!(screen.contains("reset") && screen.contains("undo") && !screen.contains("create"), "{screen}");
}

#[test]
fn s_cycles_the_topic_sort() {
    let mut s = loaded();
    let mut seen = Vec::new();
    for _ in 0..5 {
        press(&mut s, KeyCode::Char('s'));
        seen.push((status(&s).1, names(&s)));
    }
    let expect = |label: &str, order: [&str; 3]| (format!("sorted by {label}"), order.map(String::from).to_vec());
    assert_eq!(
        seen,
        vec![
            expect("backlog", ["orders", "audit.log", "payments"]),
            expect("size", ["audit.log", "orders", "payments"]),
            expect("rate in", ["orders", "payments", "audit.log"]),
            expect("worst lag", ["orders", "payments", "audit.log"]),
            expect("name", ["audit.log", "orders", "payments"]),
        ]
    );
    // Sorting is for the topics list only.
    press(&mut s, KeyCode::Char('2'));
    s.ui.status = None;
    press(&mut s, KeyCode::Char('s'));
    assert_eq!(s.nav.sort, TopicSort::Name);
    assert!(s.ui.status.is_none());
}

// ---- refresh: coalescing and backoff --------------------------------------------------------

#[test]
fn refreshes_coalesce_while_a_load_is_in_flight() {
    let mut s = fresh();
    // The first loads are in flight: a due tick asks for nothing more.
    assert!(tick(&mut s, NOW + REFRESH).is_empty());
    assert!(tick(&mut s, NOW + 5 * REFRESH).is_empty());
    // Topics answer; groups are still slow.
    feed(&mut s, Loaded::Topics(Ok(topics())));
    assert!(tick(&mut s, NOW + 5 * REFRESH + 100).is_empty(), "not due yet");
    assert_eq!(tick(&mut s, NOW + 6 * REFRESH), vec![Effect::LoadTopics], "due: only the kind not in flight");
    assert!(tick(&mut s, NOW + 7 * REFRESH).is_empty());
    feed(&mut s, Loaded::Topics(Ok(topics())));
    feed(&mut s, Loaded::Groups(Ok(groups())));
    assert!(tick(&mut s, NOW + 7 * REFRESH + 1).is_empty());
    assert_eq!(tick(&mut s, NOW + 8 * REFRESH), vec![Effect::LoadTopics, Effect::LoadGroups]);
    // A manual refresh is coalesced too.
    assert!(press_ev(&mut s, ctrl('r')).is_empty());
}

#[test]
fn a_failed_refresh_shows_an_error_backs_off_and_recovers() {
    let mut s = fresh();
    let away = || BackendError::Unavailable("cannot reach http://127.0.0.1:7878: connection refused".into());
    feed(&mut s, Loaded::Topics(Err(away())));
    feed(&mut s, Loaded::Groups(Err(away())));
    let (level, text) = status(&s);
    assert_eq!(level, Level::Error);
    assert!(text.contains("connection refused") && text.contains("retrying in 2s"), "{text}");
    assert!(s.refresh.inflight.is_empty());

    // The usual interval passes: no retry yet, and the error stays on screen.
    assert!(tick(&mut s, NOW + REFRESH).is_empty());
    assert!(tick(&mut s, NOW + 1_999).is_empty());
    assert_eq!(tick(&mut s, NOW + 2_000), vec![Effect::LoadTopics, Effect::LoadGroups]);

    // Failing again waits longer.
    feed(&mut s, Loaded::Topics(Err(away())));
    feed(&mut s, Loaded::Groups(Err(away())));
    assert!(status(&s).1.contains("retrying in 4s"), "{:?}", s.ui.status);
    assert!(tick(&mut s, NOW + 5_999).is_empty());
    assert!(tick(&mut s, NOW + 2_000 + 10_000).len() == 2, "retried after the longer wait");
    assert!(s.ui.status.is_some(), "an error does not fade while the backend is away");

    // It comes back.
    feed(&mut s, Loaded::Topics(Ok(topics())));
    feed(&mut s, Loaded::Groups(Ok(groups())));
    assert_eq!(status(&s), (Level::Ok, "connected again".into()));
    assert!(s.refresh.backend_error.is_none() && s.refresh.failures == 0);
    let now = s.ui.now_ms;
    assert!(tick(&mut s, now + REFRESH - 1).is_empty());
    assert_eq!(tick(&mut s, now + REFRESH), vec![Effect::LoadTopics, Effect::LoadGroups], "back to the usual interval");
    // Statuses fade after a while.
    tick(&mut s, now + 9_000);
    assert!(s.ui.status.is_none());
}

#[test]
fn backoff_doubles_per_failed_refresh_up_to_30s() {
    let mut s = fresh();
    let mut waits = Vec::new();
    for _ in 0..8 {
        feed(&mut s, Loaded::Topics(Err(BackendError::Unavailable("down".into()))));
        feed(&mut s, Loaded::Groups(Err(BackendError::Unavailable("down".into()))));
        waits.push(s.refresh.next_refresh_ms - s.ui.now_ms);
        let due = s.refresh.next_refresh_ms;
        assert!(tick(&mut s, due - 1).is_empty());
        assert_eq!(tick(&mut s, due).len(), 2);
    }
    assert_eq!(waits, [2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000]);
    assert!(status(&s).1.contains("retrying in 30s"), "{:?}", s.ui.status);
}

// ---- writes: publish, create, delete ---------------------------------------------------------

#[test]
fn publish_dialog_confirms_then_publishes_what_was_typed() {
    let mut s = loaded();
    select_topic(&mut s, "orders");
    assert!(press(&mut s, KeyCode::Char('p')).is_empty());
    assert!(matches!(dialog(&s), Dialog::Publish(p) if p.topic == "orders"));
    typ(&mut s, "2"); // partition
    press(&mut s, KeyCode::Tab);
    typ(&mut s, "k1");
    press(&mut s, KeyCode::Tab);
    typ(&mut s, "trace=abc, source=console");
    press(&mut s, KeyCode::Tab);
    typ(&mut s, "hello");
    press(&mut s, KeyCode::Enter); // a new line in the value
    typ(&mut s, "world");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Backspace);
    typ(&mut s, "3"); // repeat
    press(&mut s, KeyCode::Tab); // file: empty
    press(&mut s, KeyCode::Tab); // the button
    assert!(press(&mut s, KeyCode::Enter).is_empty(), "nothing is published before the confirmation");
    match dialog(&s) {
        Dialog::Confirm(c) => {
            assert_eq!(c.text, "Publish 3 record(s) to orders?");
            assert!(!c.danger);
        }
        other => panic!("{other:?}"),
    }
    let fx = press(&mut s, KeyCode::Enter);
    let record = OutRecord {
        key: Some(Payload::text("k1")),
        value: Some(Payload::text("hello\nworld")),
        headers: vec![header("trace", "abc"), header("source", "console")],
        partition: Some(2),
    };
    assert_eq!(
        fx,
        vec![Effect::Publish {
            topic: "orders".into(),
            req: PublishRequest { records: vec![record; 3], producer: None }
        }]
    );
    assert_eq!(dialog(&s), &Dialog::Working("publishing 3 record(s) to orders…".into()));

    let acks =
        (0..3).map(|i| Ack { topic: "orders".into(), partition: 2, offset: 1250 + i, duplicate: false }).collect();
    let fx = feed(&mut s, Loaded::Published(Ok(acks)));
    assert!(s.overlay.is_none());
    assert_eq!(status(&s), (Level::Ok, "published 3 record(s) to orders (partition 2), last at offset 1252".into()));
    assert_eq!(fx, vec![Effect::LoadTopics, Effect::LoadGroups], "refreshes what it changed");
}

#[test]
fn publish_form_errors_stay_in_the_form_and_esc_cancels() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('p'));
    typ(&mut s, "x");
    assert!(press_ev(&mut s, ctrl('s')).is_empty());
    match dialog(&s) {
        Dialog::Publish(p) => assert_eq!(p.form.error.as_deref(), Some("partition \"x\" is not a number")),
        other => panic!("{other:?}"),
    }
    press(&mut s, KeyCode::Backspace);
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    typ(&mut s, "novalue");
    press_ev(&mut s, ctrl('s'));
    match dialog(&s) {
        Dialog::Publish(p) => assert_eq!(p.form.error.as_deref(), Some("header \"novalue\" is not name=value")),
        other => panic!("{other:?}"),
    }
    assert!(press(&mut s, KeyCode::Esc).is_empty());
    assert!(s.overlay.is_none());
    assert_eq!(status(&s), (Level::Info, "cancelled; nothing changed".into()));
}

#[test]
fn publish_a_file_and_a_failed_publish() {
    let mut s = loaded();
    select_topic(&mut s, "payments");
    press(&mut s, KeyCode::Char('p'));
    for _ in 0..5 {
        press(&mut s, KeyCode::Tab);
    }
    typ(&mut s, "/tmp/records.jsonl");
    press_ev(&mut s, ctrl('s'));
    let fx = press(&mut s, KeyCode::Char('y'));
    assert_eq!(
        fx,
        vec![Effect::PublishFile {
            topic: "payments".into(),
            path: "/tmp/records.jsonl".into(),
            template: OutRecord::default()
        }]
    );
    feed(&mut s, Loaded::Published(Err(BackendError::BadRequest("/tmp/records.jsonl has no lines to publish".into()))));
    assert!(s.overlay.is_none());
    assert_eq!(status(&s), (Level::Error, "publish failed: /tmp/records.jsonl has no lines to publish".into()));
}

#[test]
fn create_topic_confirms_then_creates() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('c'));
    assert!(matches!(dialog(&s), Dialog::CreateTopic(_)));
    press_ev(&mut s, ctrl('s'));
    match dialog(&s) {
        Dialog::CreateTopic(form) => assert_eq!(form.error.as_deref(), Some("give the topic a name")),
        other => panic!("{other:?}"),
    }
    typ(&mut s, "events");
    press(&mut s, KeyCode::Enter); // enter in a one-line field moves on
    press(&mut s, KeyCode::Backspace);
    typ(&mut s, "4");
    press(&mut s, KeyCode::Enter);
    typ(&mut s, "1h");
    press(&mut s, KeyCode::Enter);
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    match dialog(&s) {
        Dialog::Confirm(c) => assert_eq!(c.text, "Create topic events with 4 partition(s)?"),
        other => panic!("{other:?}"),
    }
    let fx = press(&mut s, KeyCode::Char('y'));
    let config =
        TopicConfig { partitions: 4, retention_ms: Some(3_600_000), retention_bytes: None, segment_bytes: None };
    assert_eq!(fx, vec![Effect::CreateTopic { name: "events".into(), config: config.clone() }]);
    feed(
        &mut s,
        Loaded::TopicCreated(Ok(TopicInfo {
            name: "events".into(),
            config,
            partitions: vec![part(0, 0, 0, 0, 0.0, 0.0); 4],
        })),
    );
    assert_eq!(status(&s), (Level::Ok, "created topic events with 4 partition(s)".into()));
}

#[test]
fn delete_asks_with_danger_and_runs_only_once_the_name_is_typed() {
    let mut s = loaded();
    select_topic(&mut s, "payments");
    press(&mut s, KeyCode::Char('D'));
    match dialog(&s) {
        Dialog::Confirm(c) => {
            assert!(c.danger);
            assert!(c.text.contains("Delete topic payments") && c.text.contains("cannot be undone"), "{}", c.text);
            assert_eq!(c.effect, Effect::DeleteTopic("payments".into()));
            assert_eq!(c.typed.as_deref(), Some("payments"));
        }
        other => panic!("{other:?}"),
    }
    // Enter alone, y, or a wrong name never delete: the name must be typed.
    assert!(press(&mut s, KeyCode::Enter).is_empty(), "enter alone does not delete");
    assert!(status(&s).1.contains("type payments to confirm"), "{:?}", status(&s));
    for c in "paymentz".chars() {
        assert!(press(&mut s, KeyCode::Char(c)).is_empty());
    }
    assert!(press(&mut s, KeyCode::Enter).is_empty(), "a wrong name does not delete");
    assert!(status(&s).1.contains("that is not the name"), "{:?}", status(&s));
    assert!(render_to_string(&s, 80, 24).contains("> paymentz"));
    assert!(press(&mut s, KeyCode::Esc).is_empty());
    assert!(s.overlay.is_none());
    assert_eq!(status(&s).1, "cancelled; nothing changed");

    // From inside the topic: delete by its name, then the view it was on goes away.
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('D'));
    for c in "paymentx".chars() {
        press(&mut s, KeyCode::Char(c));
    }
    press(&mut s, KeyCode::Backspace);
    press(&mut s, KeyCode::Char('s'));
    assert_eq!(press(&mut s, KeyCode::Enter), vec![Effect::DeleteTopic("payments".into())]);
    feed(&mut s, Loaded::TopicDeleted("payments".into(), Ok(())));
    assert_eq!(views(&s), [View::Topics]);
    assert_eq!(status(&s), (Level::Ok, "deleted topic payments".into()));
}

// ---- resets ---------------------------------------------------------------------------------

#[test]
fn reset_plans_previews_and_refuses_live_members_unless_forced() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('o'));
    match dialog(&s) {
        Dialog::Reset(r) => {
            assert_eq!(r.form.value(ResetField::Group), "billing");
            let v = |f| r.form.value(f);
            assert_eq!((v(ResetField::Topic), v(ResetField::Mode), v(ResetField::Value)), ("orders", "shift-by", "-1"));
        }
        other => panic!("{other:?}"),
    }
    press(&mut s, KeyCode::Tab); // group → topic
    press(&mut s, KeyCode::Tab); // → mode
    press(&mut s, KeyCode::Left); // shift-by → to-offset
    press(&mut s, KeyCode::Tab);
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "1000");
    press(&mut s, KeyCode::Tab);
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "0,2");
    let fx = press_ev(&mut s, ctrl('s'));
    let req = ResetRequest { topic: "orders".into(), partitions: vec![0, 2], spec: ResetSpec::ToOffset(1000) };
    assert_eq!(fx, vec![Effect::PlanReset { group: "billing".into(), req }]);
    assert!(matches!(dialog(&s), Dialog::Working(_)));

    feed(&mut s, Loaded::ResetPlanned(Ok(reset_plan(true))));
    assert!(matches!(dialog(&s), Dialog::ResetPreview(p) if !p.force));
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("1150") && screen.contains("1050") && screen.contains("2 live member(s)"), "{screen}");

    assert!(press(&mut s, KeyCode::Enter).is_empty(), "refused without force");
    assert!(matches!(dialog(&s), Dialog::ResetPreview(p) if !p.force));
    assert_eq!(status(&s).0, Level::Warn);
    assert!(status(&s).1.contains("press f to force"));

    press(&mut s, KeyCode::Char('f'));
    assert!(matches!(dialog(&s), Dialog::ResetPreview(p) if p.force));
    press(&mut s, KeyCode::Char('f'));
    assert!(matches!(dialog(&s), Dialog::ResetPreview(p) if !p.force), "f toggles");
    press(&mut s, KeyCode::Char('f'));
    // Forced under live members, enter alone does not run it: y does.
    assert!(press(&mut s, KeyCode::Enter).is_empty(), "enter alone never forces a reset");
    assert!(matches!(dialog(&s), Dialog::ResetPreview(p) if p.force));
    assert!(status(&s).1.contains("press y to execute"), "{:?}", status(&s));
    assert!(render_to_string(&s, 120, 40).contains("y execute under the live members"));
    assert_eq!(press(&mut s, KeyCode::Char('y')), vec![Effect::ExecuteReset { plan: reset_plan(true), force: true }]);

    let rec = ResetRecord {
        id: 4,
        at_ms: NOW,
        group: "billing".into(),
        topic: "orders".into(),
        spec: ResetSpec::ShiftBy(-100),
        rows: vec![(0, Some(1150), 1050)],
        forced: true,
        undo_of: None,
    };
    let fx = feed(&mut s, Loaded::ResetDone(Ok(rec)));
    assert!(s.overlay.is_none());
    assert_eq!(
        status(&s),
        (Level::Ok, "group billing: reset #4 (shift-by -100) executed — press u in the group to undo".into())
    );
    assert!(fx.contains(&Effect::LoadGroups));
}

#[test]
fn reset_without_live_members_executes_unforced_and_esc_cancels() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('o'));
    let fx = press_ev(&mut s, ctrl('s'));
    assert!(
        matches!(&fx[..], [Effect::PlanReset { group, req }] if group == "analytics" && req.spec == ResetSpec::ShiftBy(-1) && req.partitions.is_empty())
    );
    feed(&mut s, Loaded::ResetPlanned(Ok(reset_plan(false))));
    assert!(press(&mut s, KeyCode::Esc).is_empty());
    assert!(s.overlay.is_none());
    assert!(status(&s).1.contains("nothing changed"));

    press(&mut s, KeyCode::Char('o'));
    press_ev(&mut s, ctrl('s'));
    feed(&mut s, Loaded::ResetPlanned(Ok(reset_plan(false))));
    assert_eq!(press(&mut s, KeyCode::Char('y')), vec![Effect::ExecuteReset { plan: reset_plan(false), force: false }]);
    feed(&mut s, Loaded::ResetDone(Err(BackendError::Conflict("offsets changed since the plan".into()))));
    assert_eq!(status(&s), (Level::Error, "reset refused: offsets changed since the plan".into()));
}

#[test]
fn reset_mode_values_are_parsed_and_bad_ones_stay_in_the_form() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Enter);
    let plan_with = |s: &mut State, mode_steps: usize, value: &str| -> Vec<Effect> {
        press(s, KeyCode::Char('o'));
        press(s, KeyCode::Tab); // group → topic
        press(s, KeyCode::Tab); // → mode
        for _ in 0..mode_steps {
            press(s, KeyCode::Right);
        }
        press(s, KeyCode::Tab);
        press_ev(s, ctrl('u'));
        typ(s, value);
        let fx = press_ev(s, ctrl('s'));
        s.overlay = None;
        fx
    };
    let spec = |fx: &[Effect]| match fx {
        [Effect::PlanReset { req, .. }] => req.spec.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(spec(&plan_with(&mut s, 3, "")), ResetSpec::ToEarliest, "shift-by → to-earliest (wraps)");
    assert_eq!(spec(&plan_with(&mut s, 4, "")), ResetSpec::ToLatest);
    assert_eq!(spec(&plan_with(&mut s, 0, "+5")), ResetSpec::ShiftBy(5));
    assert_eq!(spec(&plan_with(&mut s, 2, "15m")), ResetSpec::ByDuration(900_000));
    assert_eq!(spec(&plan_with(&mut s, 1, "2025-06-15T15:00:00Z")), ResetSpec::ToDatetime(NOW - 400_000));

    press(&mut s, KeyCode::Char('o'));
    for _ in 0..3 {
        press(&mut s, KeyCode::Tab); // group, topic, mode: to the value
    }
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "lots");
    assert!(press_ev(&mut s, ctrl('s')).is_empty());
    match dialog(&s) {
        Dialog::Reset(r) => assert_eq!(r.form.error.as_deref(), Some("value \"lots\" is not a number")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn u_plans_the_undo_and_shows_it_as_a_preview() {
    let mut s = loaded();
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Enter);
    assert_eq!(press(&mut s, KeyCode::Char('u')), vec![Effect::PlanUndo { group: "billing".into() }]);
    assert!(matches!(dialog(&s), Dialog::Working(t) if t.contains("undo")));
    let plan = ResetPlan { undo_of: Some(4), ..reset_plan(false) };
    feed(&mut s, Loaded::ResetPlanned(Ok(plan.clone())));
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("undo reset #4 of billing"), "{screen}");
    assert_eq!(press(&mut s, KeyCode::Enter), vec![Effect::ExecuteReset { plan, force: false }]);
    let rec = ResetRecord {
        id: 5,
        at_ms: NOW,
        group: "billing".into(),
        topic: "orders".into(),
        spec: ResetSpec::ShiftBy(-100),
        rows: Vec::new(),
        forced: false,
        undo_of: Some(4),
    };
    feed(&mut s, Loaded::ResetDone(Ok(rec)));
    assert_eq!(status(&s), (Level::Ok, "group billing: undid reset #4".into()));

    // Nothing to undo: the error shows and the working popup goes.
    press(&mut s, KeyCode::Char('u'));
    feed(&mut s, Loaded::ResetPlanned(Err(BackendError::NotFound("no reset of billing to undo".into()))));
    assert!(s.overlay.is_none());
    assert_eq!(status(&s), (Level::Error, "reset: no reset of billing to undo".into()));
}

// ---- replay ---------------------------------------------------------------------------------

#[test]
fn replay_dialog_plans_previews_and_executes() {
    let mut s = loaded();
    select_topic(&mut s, "orders");
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('R'));
    match dialog(&s) {
        Dialog::Replay(r) => {
            assert_eq!(r.topic, "orders");
            let v = |f| r.form.value(f);
            assert_eq!((v(ReplayField::From), v(ReplayField::To), v(ReplayField::Partitions)), ("0", "1200", "0"));
        }
        other => panic!("{other:?}"),
    }
    press(&mut s, KeyCode::Tab);
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "1100");
    press(&mut s, KeyCode::Tab);
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "1150");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    typ(&mut s, "-replay");
    let fx = press_ev(&mut s, ctrl('s'));
    let req = ReplayRequest {
        source: "orders".into(),
        partitions: vec![0],
        range: ReplayRange::Offsets { from: 1100, to: 1150 },
        target: Some("orders-replay".into()),
    };
    assert_eq!(fx, vec![Effect::PlanReplay(req)]);

    feed(&mut s, Loaded::ReplayPlanned(Ok(replay_plan(0))));
    assert!(press(&mut s, KeyCode::Enter).is_empty(), "nothing to copy: enter does nothing");
    assert!(matches!(dialog(&s), Dialog::ReplayPreview(_)));

    feed(&mut s, Loaded::ReplayPlanned(Ok(replay_plan(50))));
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("replay orders → orders-replay: 50 record(s)"), "{screen}");
    assert_eq!(press(&mut s, KeyCode::Enter), vec![Effect::ExecuteReplay(replay_plan(50))]);
    feed(&mut s, Loaded::ReplayDone(Ok(ReplayResult { target: "orders-replay".into(), appended: 50 })));
    assert_eq!(status(&s), (Level::Ok, "replayed 50 record(s) into orders-replay".into()));
}

#[test]
fn replay_by_time_parses_both_ends() {
    let mut s = loaded();
    select_topic(&mut s, "orders");
    press(&mut s, KeyCode::Char('R'));
    press(&mut s, KeyCode::Right); // offsets → time
    press(&mut s, KeyCode::Tab);
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "2025-06-15T15:00:00Z");
    press(&mut s, KeyCode::Tab);
    press_ev(&mut s, ctrl('u'));
    typ(&mut s, "2025-06-15T15:06:40Z");
    let fx = press_ev(&mut s, ctrl('s'));
    match &fx[..] {
        [Effect::PlanReplay(req)] => {
            assert_eq!(req.range, ReplayRange::Time { since_ms: NOW - 400_000, until_ms: NOW });
            assert!(req.partitions.is_empty(), "from the topics list: all partitions");
        }
        other => panic!("{other:?}"),
    }
}

// ---- pull by hand ---------------------------------------------------------------------------

fn pull_as_billing(s: &mut State) {
    press(s, KeyCode::Char('2'));
    press(s, KeyCode::Char('l'));
    match dialog(s) {
        Dialog::PullAsk(a) => {
            let v = |f| a.form.value(f);
            assert_eq!((v(PullField::Group), v(PullField::Topic), v(PullField::Count)), ("billing", "orders", "10"))
        }
        other => panic!("{other:?}"),
    }
    press(s, KeyCode::Tab);
    press(s, KeyCode::Tab);
    press_ev(s, ctrl('u'));
    typ(s, "2");
    press(s, KeyCode::Tab);
    let fx = press(s, KeyCode::Enter);
    let req = PullRequest { topic: "orders".into(), max: 2, commit: false, wait_ms: 0 };
    assert_eq!(fx, vec![Effect::Pull { group: "billing".into(), req }]);
    feed(s, Loaded::Pulled(Ok(pulled())));
    assert!(matches!(dialog(s), Dialog::Pulled(_)));
}

#[test]
fn pull_by_hand_then_commit_the_pulled_offsets() {
    let mut s = loaded();
    pull_as_billing(&mut s);
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("pulled 2 record(s) as group billing") && screen.contains("order-1150"), "{screen}");
    press(&mut s, KeyCode::Char('j'));
    assert!(matches!(dialog(&s), Dialog::Pulled(_)), "other keys keep the records open");
    let fx = press(&mut s, KeyCode::Char('c'));
    assert_eq!(fx, vec![Effect::Commit { group: "billing".into(), offsets: pulled().offsets }]);
    feed(&mut s, Loaded::Committed(Ok(())));
    assert!(s.overlay.is_none());
    assert_eq!(status(&s), (Level::Ok, "committed".into()));
}

#[test]
fn pull_by_hand_then_esc_commits_nothing_and_warns() {
    let mut s = loaded();
    pull_as_billing(&mut s);
    assert!(press(&mut s, KeyCode::Esc).is_empty());
    assert!(s.overlay.is_none());
    assert_eq!(status(&s), (Level::Warn, "not committed: group billing will get these 2 record(s) again".into()));
}

#[test]
fn pull_from_a_topic_and_nothing_to_pull() {
    let mut s = loaded();
    select_topic(&mut s, "payments");
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('l'));
    match dialog(&s) {
        Dialog::PullAsk(a) => {
            assert_eq!((a.form.value(PullField::Group), a.form.value(PullField::Topic)), ("depot-console", "payments"))
        }
        other => panic!("{other:?}"),
    }
    let fx = press_ev(&mut s, ctrl('s'));
    assert!(
        matches!(&fx[..], [Effect::Pull { group, req }] if group == "depot-console" && req.topic == "payments" && !req.commit)
    );
    feed(
        &mut s,
        Loaded::Pulled(Ok(PullResult {
            group: "depot-console".into(),
            messages: Vec::new(),
            offsets: Vec::new(),
            committed: false,
        })),
    );
    assert!(s.overlay.is_none());
    assert_eq!(status(&s), (Level::Info, "nothing to pull: group depot-console is caught up".into()));
}

// ---- read-only ------------------------------------------------------------------------------

#[test]
fn read_only_refuses_every_write_key_with_a_reason() {
    let mut s = loaded_with(settings(true), depot::console::theme::Theme::dark());
    let check = |s: &mut State, key: char, where_: &str| {
        s.ui.status = None;
        let fx = press(s, KeyCode::Char(key));
        assert!(fx.is_empty(), "{key} in {where_}: {fx:?}");
        assert!(s.overlay.is_none(), "{key} in {where_} opened {:?}", s.overlay);
        let (level, text) = status(s);
        assert_eq!(level, Level::Warn, "{key} in {where_}");
        assert!(text.starts_with("read-only: cannot"), "{key} in {where_}: {text}");
    };
    select_topic(&mut s, "orders");
    for k in ['p', 'c', 'D', 'R', 'l'] {
        check(&mut s, k, "Topics");
    }
    press(&mut s, KeyCode::Enter);
    for k in ['p', 'D', 'R', 'l'] {
        check(&mut s, k, "Topic");
    }
    press(&mut s, KeyCode::Char('2'));
    for k in ['o', 'u', 'l'] {
        check(&mut s, k, "Groups");
    }
    press(&mut s, KeyCode::Enter);
    for k in ['o', 'u', 'l'] {
        check(&mut s, k, "Group");
    }
    let screen = render_to_string(&s, 120, 40);
    assert!(screen.contains("READ-ONLY"), "{screen}");
}

#[test]
fn a_read_only_server_disables_writes_too() {
    let mut s = loaded();
    feed(&mut s, Loaded::Caps(Ok(Capabilities { read_only: true, ..Capabilities::depot() })));
    assert!(press(&mut s, KeyCode::Char('c')).is_empty());
    assert!(status(&s).1.starts_with("read-only"));
}

// Burrow health: tests/console_health.rs.

// ---- messages -------------------------------------------------------------------------------

fn open_orders_0(s: &mut State) -> u64 {
    select_topic(s, "orders");
    press(s, KeyCode::Enter);
    load_req(&press(s, KeyCode::Enter)).0
}

#[test]
fn a_late_answer_to_an_older_request_is_dropped() {
    let mut s = loaded();
    let first = open_orders_0(&mut s);
    let fx = press_ev(&mut s, ctrl('r'));
    let second = match fx.last() {
        Some(Effect::LoadMessages { seq, .. }) => *seq,
        other => panic!("{other:?}"),
    };
    assert!(second > first);
    let mut old = records();
    old.truncate(1);
    feed(&mut s, Loaded::Messages { seq: first, result: Ok(old) });
    assert!(messages_of(&s).items.is_empty() && messages_of(&s).loading, "the old answer is ignored");
    feed(&mut s, Loaded::Messages { seq: second, result: Ok(records()) });
    assert_eq!(messages_of(&s).items.len(), 4);
    assert!(!messages_of(&s).loading);
    feed(&mut s, Loaded::Messages { seq: first, result: Err(BackendError::Unavailable("late".into())) });
    assert!(s.ui.status.is_none(), "a late error is ignored too");
}

#[test]
fn page_down_at_the_last_loaded_record_loads_the_next_page() {
    let mut s = loaded();
    let seq = open_orders_0(&mut s);
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    press(&mut s, KeyCode::PageDown);
    assert_eq!(s.nav.screen().selected, 3);
    let (_, _, req) = load_req(&press(&mut s, KeyCode::PageDown));
    assert_eq!(req.from, PeekFrom::Offset(1154));
    assert_eq!(messages_of(&s).mode, MsgMode::Browse { from: 1154 });
}

#[test]
fn jump_goes_to_an_offset_or_a_time() {
    let mut s = loaded();
    let seq = open_orders_0(&mut s);
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    press(&mut s, KeyCode::Char('J'));
    assert!(matches!(dialog(&s), Dialog::Jump(_)));
    typ(&mut s, "1151");
    assert!(press(&mut s, KeyCode::Enter).is_empty(), "enter moves to the button");
    let (_, _, req) = load_req(&press(&mut s, KeyCode::Enter));
    assert_eq!(req.from, PeekFrom::Offset(1151));
    press(&mut s, KeyCode::Char('J'));
    typ(&mut s, "2025-06-15T15:00:00Z");
    let (_, _, req) = load_req(&press_ev(&mut s, ctrl('s')));
    assert_eq!(req.from, PeekFrom::Time(NOW - 400_000));
}

#[test]
fn live_tail_refreshes_without_piling_up_requests() {
    let mut s = loaded();
    let seq = open_orders_0(&mut s);
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    let (seq, _, req) = load_req(&press(&mut s, KeyCode::Char('t')));
    assert_eq!(req.from, PeekFrom::Latest(100));
    assert_eq!(messages_of(&s).mode, MsgMode::Tail);
    // The answer has not come: a due tick does not ask again.
    let fx = tick(&mut s, NOW + 10 * REFRESH);
    assert!(!fx.iter().any(|e| matches!(e, Effect::LoadMessages { .. })), "{fx:?}");
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    assert_eq!(s.nav.screen().selected, 3, "tail follows the newest record");
    let fx = tick(&mut s, NOW + 11 * REFRESH);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::LoadMessages { req, .. } if req.from == PeekFrom::Latest(100))),
        "{fx:?}"
    );
    // t again stops tailing.
    let (_, _, req) = load_req(&press(&mut s, KeyCode::Char('t')));
    assert_eq!(req.from, PeekFrom::Offset(1150));
}

#[test]
fn b_opens_the_backlog_of_the_group_consuming_a_topic() {
    let mut s = loaded();
    select_topic(&mut s, "payments");
    press(&mut s, KeyCode::Enter);
    let (_, topic, req) = load_req(&press(&mut s, KeyCode::Char('b')));
    assert_eq!((topic.as_str(), req.from), ("payments", PeekFrom::Offset(0)));
    assert_eq!(messages_of(&s).mode, MsgMode::Backlog { group: "analytics".into() });
    let seq = messages_of(&s).seq;
    feed(&mut s, Loaded::Messages { seq, result: Ok(Vec::new()) });
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("group analytics has consumed everything here"), "{screen}");
}

// ---- mouse ----------------------------------------------------------------------------------

/// Clicks on the screen line showing `needle` and expects row `want` selected.
fn click_on(s: &mut State, needle: &str, want: usize) {
    let screen = render_to_string(s, 80, 24);
    let y = line_of(&screen, needle);
    assert!(click(s, 5, y).is_empty());
    assert_eq!(s.nav.screen().selected, want, "clicked {needle:?} on line {y} of {:?}:\n{screen}", s.nav.view());
}

#[test]
fn a_click_selects_the_row_under_the_pointer_in_every_list() {
    let mut s = loaded();
    click_on(&mut s, "payments", 2);
    click_on(&mut s, "audit.log", 0);
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Enter);
    click_on(&mut s, "1180", 1);
    press(&mut s, KeyCode::Char('2'));
    click_on(&mut s, "archiver", 2);
    click_on(&mut s, "analytics", 1);
    press(&mut s, KeyCode::Char('g'));
    press(&mut s, KeyCode::Enter);
    click_on(&mut s, "1250", 2);
    let seq = load_req(&press(&mut s, KeyCode::Enter)).0;
    feed(&mut s, Loaded::Messages { seq, result: Ok(records()) });
    click_on(&mut s, "1152", 2);
}

#[test]
fn clicks_outside_the_rows_select_nothing() {
    let mut s = loaded();
    feed(&mut s, Loaded::Topics(Ok(many_topics(40))));
    press(&mut s, KeyCode::Char('j'));
    // Header, border, table header; bottom border, status line, footer.
    for y in [0, 1, 2, 21, 22, 23] {
        click(&mut s, 5, y);
        assert_eq!(s.nav.screen().selected, 1, "a click on line {y}");
    }
    // While a dialog is open the mouse does nothing.
    press(&mut s, KeyCode::Char('?'));
    click(&mut s, 5, 3);
    assert_eq!(s.nav.screen().selected, 1);
}

#[test]
fn the_wheel_scrolls_three_rows() {
    let mut s = loaded();
    feed(&mut s, Loaded::Topics(Ok(many_topics(40))));
    wheel(&mut s, true);
    assert_eq!(s.nav.screen().selected, 3);
    for _ in 0..20 {
        wheel(&mut s, true);
    }
    assert_eq!(s.nav.screen().selected, 39);
    assert!(render_to_string(&s, 80, 24).contains("t39"));
    wheel(&mut s, false);
    assert_eq!(s.nav.screen().selected, 36);
}

// ---- the cursor stays on screen -------------------------------------------------------------

#[test]
fn the_selected_row_stays_visible_in_every_view() {
    let mut s = loaded();
    let big = TopicInfo {
        name: "big".into(),
        config: TopicConfig::with_partitions(24),
        partitions: (0..24).map(|p| part(p, 0, 1000 + u64::from(p), 4096, 0.0, 0.0)).collect(),
    };
    let mut gs = groups();
    for g in gs.iter_mut().take(2) {
        g.partitions = (0..24).map(|p| lag("big", p, Some(900), 1000 + u64::from(p), 1_000, None)).collect();
    }
    let mut ts = topics();
    ts.push(big);
    feed(&mut s, Loaded::Topics(Ok(ts)));
    feed(&mut s, Loaded::Groups(Ok(gs)));
    command(&mut s, "topic big");
    press(&mut s, KeyCode::Char('G'));
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("1023"), "partition 23's end offset is on screen:\n{screen}");
    click_on(&mut s, "1022", 22);

    command(&mut s, "group billing");
    press(&mut s, KeyCode::Char('G'));
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("1023"), "partition 23 is on screen:\n{screen}");
    click_on(&mut s, "1021", 21);

    // Messages with the detail pane below the list (a narrow terminal).
    let seq = load_req(&press(&mut s, KeyCode::Enter)).0;
    let many: Vec<Message> = (0..40)
        .map(|i| record(2000 + i, Some(&format!("k{i}")), Payload::text(&format!("v{i}")), Vec::new()))
        .collect();
    feed(&mut s, Loaded::Messages { seq, result: Ok(many) });
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('G'));
    let screen = render_to_string(&s, 80, 24);
    assert!(
        screen.lines().any(|l| l.contains("2039") && l.contains("k39")),
        "the last record's row is on screen:\n{screen}"
    );
}

#[test]
fn what_the_engine_cannot_do_is_explained_not_attempted() {
    let mut s = loaded();
    feed(
        &mut s,
        Loaded::Caps(Ok(Capabilities {
            kind: "nats".into(),
            undo: false,
            create_topics: false,
            replay: false,
            ..Capabilities::depot()
        })),
    );
    press(&mut s, KeyCode::Char('2'));
    let fx = press(&mut s, KeyCode::Char('u'));
    assert!(fx.is_empty(), "{fx:?}");
    let (level, text) = status(&s);
    assert_eq!(level, Level::Warn);
    assert!(text.contains("nats cannot undo resets"), "{text}");
    press(&mut s, KeyCode::Char('1'));
    assert!(press(&mut s, KeyCode::Char('c')).is_empty());
    assert!(status(&s).1.contains("cannot create topics"));
    assert!(press(&mut s, KeyCode::Char('R')).is_empty());
    assert!(s.overlay.is_none(), "no dialog opens for what the engine cannot do");
}

#[test]
fn a_reset_this_engine_cannot_undo_needs_y_not_enter() {
    let mut s = loaded();
    s.data.caps.undo = false;
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('o'));
    press_ev(&mut s, ctrl('s'));
    feed(&mut s, Loaded::ResetPlanned(Ok(reset_plan(false))));
    assert!(render_to_string(&s, 120, 40).contains("y execute (this engine cannot undo it)"));
    assert!(press(&mut s, KeyCode::Enter).is_empty(), "enter alone does not run what cannot be undone");
    assert!(matches!(dialog(&s), Dialog::ResetPreview(_)));
    assert_eq!(press(&mut s, KeyCode::Char('y')), vec![Effect::ExecuteReset { plan: reset_plan(false), force: false }]);
}
