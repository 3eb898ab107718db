//! The messages view's merged mode (`M`): every partition of a topic by time, on a real engine
//! (records at known times on a manual clock), paged forward and back through the console's own
//! effects as the driver runs them.

mod console_fixtures;

use console_fixtures::*;
use crossterm::event::KeyCode;
use depot::backend::Backend;
use depot::backend::embedded::Embedded;
use depot::console::driver::run_effect;
use depot::console::effect::Effect;
use depot::console::render_to_string;
use depot::console::state::{MsgMode, State};
use depot::console::theme::Theme;
use depot::core::merge::Keep;
use depot::core::{PeekFrom, TopicConfig};
use depot::engine::{Engine, EngineConfig, ManualClock, NewRecord, SyncMode};
use std::sync::Arc;
use std::time::Duration;

/// 250 records over three partitions in an irregular order, one millisecond apart: record `i`
/// (value `r{i}`) is the i-th by time.
fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(NOW));
    let config = EngineConfig {
        sync: SyncMode::Never,
        maintenance_interval: Duration::from_secs(3600),
        clock: clock.clone(),
        ..Default::default()
    };
    let engine = Engine::open(dir.path(), config).unwrap();
    engine.create_topic("orders", TopicConfig::with_partitions(3)).unwrap();
    for i in 0..250u32 {
        clock.advance(Duration::from_millis(1));
        let partition = (i * i + i / 7) % 3;
        engine.append("orders", partition, &[NewRecord::value(format!("r{i}"))], None).unwrap();
    }
    (dir, engine)
}

/// The console on that engine: its lists loaded, the Topics view on orders.
fn console(b: &Embedded) -> State {
    let mut s = fresh_with(settings(false), Theme::dark());
    feed(&mut s, depot::console::msg::Loaded::Topics(Ok(b.engine().list_topics())));
    feed(&mut s, depot::console::msg::Loaded::Groups(Ok(b.engine().list_groups())));
    let i = s.visible_topics().iter().position(|t| t.name == "orders").unwrap();
    s.nav.screen_mut().selected = i;
    s
}

/// Runs the effects as the driver would, feeding the answers back, until none is left.
async fn drive(s: &mut State, b: &Embedded, mut fx: Vec<Effect>) {
    while let Some(e) = fx.pop() {
        if let Some(l) = run_effect(e, b as &dyn Backend).await {
            fx.extend(feed(s, l));
        }
    }
}

/// The values on the page, in order.
fn page(s: &State) -> Vec<String> {
    s.data.messages.as_ref().unwrap().items.iter().map(|m| m.value.as_ref().unwrap().display()).collect()
}

fn nth(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("r{i}")).collect()
}

#[tokio::test]
async fn merged_pages_show_every_record_of_every_partition_once_in_time_order() {
    let (_dir, engine) = engine();
    let b = Embedded::new(engine);
    let mut s = console(&b);

    // M on the topic: one read per partition, from each partition's start.
    let fx = press(&mut s, KeyCode::Char('M'));
    match &fx[..] {
        [Effect::LoadMerged { reads, keep: Keep::Earliest, .. }] => {
            assert_eq!(
                reads.iter().map(|r| (r.partition, r.from)).collect::<Vec<_>>(),
                [(0, PeekFrom::Offset(0)), (1, PeekFrom::Offset(0)), (2, PeekFrom::Offset(0))]
            );
        }
        other => panic!("{other:?}"),
    }
    drive(&mut s, &b, fx).await;
    assert_eq!(page(&s), nth(0..100), "the first hundred records by time, from all three partitions");
    let screen = render_to_string(&s, 120, 40);
    assert!(screen.contains("orders/* messages"), "{screen}");
    assert!(screen.contains("PART"), "each record names its partition: {screen}");
    assert!(screen.contains("100 records of 3 partitions by time"), "{screen}");

    // Page on to the end: every record once, in time order; at the end it stays and says so.
    let mut seen = page(&s);
    for _ in 0..2 {
        press(&mut s, KeyCode::Char('G'));
        let fx = press(&mut s, KeyCode::PageDown);
        assert!(matches!(&fx[..], [Effect::LoadMerged { keep: Keep::Earliest, .. }]), "{fx:?}");
        drive(&mut s, &b, fx).await;
        seen.extend(page(&s));
    }
    assert_eq!(seen, nth(0..250));
    press(&mut s, KeyCode::Char('G'));
    assert!(press(&mut s, KeyCode::PageDown).is_empty(), "nothing after the newest records");
    assert_eq!(page(&s), nth(200..250), "the last page stays on screen");
    assert!(status(&s).1.contains("newest records of every partition are on screen"), "{:?}", status(&s));

    // And back: the same pages in reverse, then it stays at the start.
    let mut back = page(&s);
    for _ in 0..2 {
        press(&mut s, KeyCode::Char('g'));
        let fx = press(&mut s, KeyCode::PageUp);
        assert!(matches!(&fx[..], [Effect::LoadMerged { keep: Keep::Latest, .. }]), "{fx:?}");
        drive(&mut s, &b, fx).await;
        back.splice(0..0, page(&s));
    }
    assert_eq!(back, nth(0..250));
    assert_eq!(page(&s), nth(0..100));
    press(&mut s, KeyCode::Char('g'));
    assert!(press(&mut s, KeyCode::PageUp).is_empty());
    assert!(status(&s).1.contains("first records of every partition"), "{:?}", status(&s));
}

#[tokio::test]
async fn m_from_a_record_merges_from_its_time_and_again_goes_back_to_its_partition() {
    let (_dir, engine) = engine();
    let b = Embedded::new(engine);
    let mut s = console(&b);
    // orders/1 from the start, cursor on its fifth record.
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('j'));
    let fx = press(&mut s, KeyCode::Enter);
    drive(&mut s, &b, fx).await;
    for _ in 0..4 {
        press(&mut s, KeyCode::Char('j'));
    }
    let chosen = s.visible_messages()[4].clone();
    assert_eq!(chosen.partition, 1);

    let fx = press(&mut s, KeyCode::Char('M'));
    match &fx[..] {
        [Effect::LoadMerged { reads, .. }] => {
            assert!(reads.iter().all(|r| r.from == PeekFrom::Time(chosen.timestamp)), "{reads:?}")
        }
        other => panic!("{other:?}"),
    }
    drive(&mut s, &b, fx).await;
    let first: u32 = page(&s)[0].trim_start_matches('r').parse().unwrap();
    assert_eq!(page(&s)[0], chosen.value.as_ref().unwrap().display(), "the page starts at the record's time");
    assert_eq!(page(&s), nth(first..first + 100));

    // Marks and the partition switch need one partition: they say so and change nothing.
    press(&mut s, KeyCode::Char('v'));
    assert!(status(&s).1.contains("marks are a range of one partition"), "{:?}", status(&s));
    assert!(press(&mut s, KeyCode::Char(']')).is_empty());
    assert_eq!(s.data.messages.as_ref().unwrap().marks, (None, None));

    // A jump by offset is refused in the form; by time it reads every partition from then.
    press(&mut s, KeyCode::Char('J'));
    typ(&mut s, "12");
    assert!(press_ev(&mut s, ctrl('s')).is_empty());
    match dialog(&s) {
        depot::console::dialogs::Dialog::Jump(f) => {
            assert!(f.error.as_deref().is_some_and(|e| e.contains("in every partition")), "{:?}", f.error)
        }
        other => panic!("{other:?}"),
    }
    press(&mut s, KeyCode::Esc);

    // M again: back to the selected record's partition, the cursor on it.
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Char('j'));
    let on = s.visible_messages()[2].clone();
    let fx = press(&mut s, KeyCode::Char('M'));
    drive(&mut s, &b, fx).await;
    let m = s.data.messages.as_ref().unwrap();
    assert!(m.merged.is_none());
    assert_eq!(m.partition, on.partition);
    assert!(matches!(m.mode, MsgMode::Browse { .. }));
    assert_eq!(s.visible_messages()[s.nav.screen().selected].offset, on.offset, "the cursor stays on the record");
}

#[tokio::test]
async fn the_merged_tail_is_the_newest_records_of_every_partition() {
    let (_dir, engine) = engine();
    let b = Embedded::new(engine);
    let mut s = console(&b);
    let fx = press(&mut s, KeyCode::Char('M'));
    drive(&mut s, &b, fx).await;
    let fx = press(&mut s, KeyCode::Char('t'));
    assert!(matches!(&fx[..], [Effect::LoadMerged { keep: Keep::Latest, .. }]), "{fx:?}");
    drive(&mut s, &b, fx).await;
    assert_eq!(page(&s), nth(150..250));
    assert_eq!(s.nav.screen().selected, 99, "the cursor on the newest record");
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("orders/* live tail"), "{screen}");
}

#[tokio::test]
async fn paging_past_the_newest_record_of_one_partition_keeps_the_page() {
    // Before: the next page from the end loaded nothing and the view read "no records here yet".
    let (_dir, engine) = engine();
    let b = Embedded::new(engine);
    let mut s = console(&b);
    press(&mut s, KeyCode::Enter);
    let fx = press(&mut s, KeyCode::Enter);
    drive(&mut s, &b, fx).await;
    let before = page(&s);
    assert!(!before.is_empty() && before.len() < 100, "one partition's records, fewer than a page");
    press(&mut s, KeyCode::Char('G'));
    assert!(press(&mut s, KeyCode::PageDown).is_empty(), "no read past the end");
    assert_eq!(page(&s), before);
    assert!(status(&s).1.contains("newest record of orders/0 is on screen"), "{:?}", status(&s));
}
