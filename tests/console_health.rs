//! Health verdicts as the console gives them: `Loaded::Groups` samples fed through `update` on a
//! manual clock, and the verdict, its reason and what the Groups and Group views show of them.
//! No async, no sleeps: the clock is a number we pass in.

mod console_fixtures;

use console_fixtures::*;
use crossterm::event::KeyCode;
use depot::console::health::{Judgement, Verdict, WINDOW};
use depot::console::msg::Loaded;
use depot::console::render_to_string;
use depot::console::state::*;
use depot::core::*;

/// Refreshes 2 s apart, as the console's default refresh.
const EVERY: i64 = 2_000;

/// A group on `orders` with one partition per `(committed, lag)`, and `members` live members
/// (each owning every partition).
fn group_of(name: &str, members: usize, parts: &[(Option<u64>, u64)]) -> GroupInfo {
    let all: Vec<(&str, u32)> = (0..parts.len() as u32).map(|p| ("orders", p)).collect();
    GroupInfo {
        name: name.into(),
        state: if members > 0 { "stable".into() } else { "empty".into() },
        generation: 1,
        assignor: "range".into(),
        members: (0..members).map(|i| member(&format!("{name}-{i}"), "worker", &all)).collect(),
        partitions: parts
            .iter()
            .enumerate()
            .map(|(p, &(committed, lag))| PartitionLag {
                topic: "orders".into(),
                partition: p as u32,
                committed,
                log_start: 0,
                end_offset: committed.unwrap_or(0) + lag,
                lag,
                lag_ms: if lag > 0 { 5_000 } else { 0 },
                owner: None,
                redeliveries: 0,
            })
            .collect(),
        consume_rate: 0.0,
    }
}

/// One refresh `i` (the clock at `NOW + i × EVERY`) answering with `groups`.
fn refresh(s: &mut State, i: i64, groups: Vec<GroupInfo>) {
    tick(s, NOW + i * EVERY);
    feed(s, Loaded::Groups(Ok(groups)));
}

fn judged(s: &State, group: &str, partition: usize) -> Judgement {
    let g = s.data.group(group).expect("group");
    s.trends.judge(g, &g.partitions[partition])
}

fn verdicts(s: &State, name: &str) -> (Verdict, Verdict) {
    s.trends.group_verdict(s.data.group(name).expect("group"))
}

/// A row of a screen, without the table's right border.
fn row(screen: &str, needle: &str) -> String {
    let l = screen.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle:?} in\n{screen}"));
    l.trim_end().trim_end_matches('│').trim_end().to_string()
}

/// The Group view of `name` (from the Groups list).
fn open_group(s: &mut State, name: &str) {
    press(s, KeyCode::Char('2'));
    let i = s.visible_groups().iter().position(|g| g.name == name).expect("listed");
    for _ in 0..i {
        press(s, KeyCode::Char('j'));
    }
    press(s, KeyCode::Enter);
    assert_eq!(*s.nav.view(), View::Group(name.into()));
}

#[test]
fn burrow_verdicts_come_from_the_sampled_window() {
    let mut s = loaded();
    for i in 0..WINDOW as u64 {
        let (moving, growing, stuck, stuck_lag) = (100 + 10 * i, 10 + 5 * i, 200, 10 + i);
        let gs = vec![
            group_of("behind", 1, &[(Some(moving), growing)]),
            group_of("stuck", 1, &[(Some(stuck), stuck_lag)]),
            group_of("gone", 0, &[(Some(stuck), stuck_lag)]),
            group_of("fine", 1, &[(Some(moving), 100 - growing)]),
        ];
        refresh(&mut s, i as i64, gs);
        if i < 2 {
            let j = judged(&s, "stuck", 0);
            assert_eq!(j.verdict, Verdict::Pending, "too few samples to judge: not OK either");
            assert_eq!(j.reason, format!("not enough samples yet ({} of 3)", i + 1));
        } else if i + 1 < WINDOW as u64 {
            // Standing still for a few refreshes is no stop yet: a slow consumer commits now and then.
            assert_eq!(verdicts(&s, "stuck"), (Verdict::Pending, Verdict::Pending), "sample {i}");
            assert_eq!(verdicts(&s, "gone"), (Verdict::Pending, Verdict::Pending), "sample {i}");
        }
    }
    assert_eq!(verdicts(&s, "behind"), (Verdict::Warn, Verdict::Warn), "offsets move but lag grows");
    assert_eq!(verdicts(&s, "stuck"), (Verdict::Err, Verdict::Stall), "offsets still, members present");
    assert_eq!(verdicts(&s, "gone"), (Verdict::Err, Verdict::Stop), "offsets still, nobody consuming");
    assert_eq!(verdicts(&s, "fine"), (Verdict::Ok, Verdict::Ok), "lag shrinking");

    press(&mut s, KeyCode::Char('2'));
    let screen = render_to_string(&s, 120, 40);
    assert!(row(&screen, "behind").ends_with("WARN"), "{screen}");
    assert!(row(&screen, "stuck").ends_with("ERR STALL"), "{screen}");
    assert!(row(&screen, "gone").ends_with("ERR STOP"), "{screen}");
    assert!(row(&screen, "fine").ends_with("OK"), "{screen}");

    // Catching up once in the window clears the verdict.
    refresh(&mut s, WINDOW as i64, vec![group_of("stuck", 1, &[(Some(215), 0)])]);
    assert_eq!(verdicts(&s, "stuck"), (Verdict::Ok, Verdict::Ok));
    assert_eq!(judged(&s, "stuck", 0).text(), "OK: caught up");
}

#[test]
fn every_verdict_carries_its_reason() {
    let mut s = loaded();
    for i in 0..WINDOW as u64 {
        let gs = vec![
            group_of("stopped", 0, &[(Some(43), 57)]),
            group_of("stalled", 2, &[(Some(43), 57)]),
            group_of("slow", 1, &[(Some(10 * i), 10 + 5 * i)]),
            // Caught up, then shifted back by 40 at the last two refreshes.
            group_of("rewound", 0, &[if i + 2 < WINDOW as u64 { (Some(80), 0) } else { (Some(40), 40) }]),
        ];
        refresh(&mut s, i as i64, gs);
    }
    assert_eq!(judged(&s, "stopped", 0).text(), "STOP: committed 43 unchanged for 18s, no members");
    assert_eq!(
        judged(&s, "stalled", 0).text(),
        "STALL: committed 43 unchanged for 18s while 2 members consume, lag 57"
    );
    assert_eq!(judged(&s, "slow", 0).text(), "WARN: lag grew 10 → 55 over 10 samples while committing");
    assert_eq!(judged(&s, "rewound", 0).text(), "REWIND: committed moved back 80 → 40");
}

#[test]
fn the_first_refreshes_are_not_ok_but_not_judged_yet() {
    let mut s = loaded();
    refresh(&mut s, 1, vec![group_of("young", 1, &[(Some(5), 3), (Some(9), 0)])]);
    assert_eq!(verdicts(&s, "young"), (Verdict::Pending, Verdict::Pending));
    press(&mut s, KeyCode::Char('2'));
    let screen = render_to_string(&s, 80, 24);
    assert!(row(&screen, "young").ends_with('…'), "not judged yet, and not OK:\n{screen}");
    press(&mut s, KeyCode::Enter);
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains("orders/0 not enough samples yet (1 of 3)"), "{screen}");
    assert!(!screen.contains(" OK"), "{screen}");
}

#[test]
fn a_group_that_never_committed_says_so_and_is_not_ok() {
    let mut s = loaded();
    for i in 0..WINDOW as i64 {
        let gs =
            vec![group_of("idle", 0, &[(None, 0)]), group_of("unstarted", 0, &[(None, 5)]), group_of("bare", 0, &[])];
        refresh(&mut s, i, gs);
    }
    assert_eq!(verdicts(&s, "bare"), (Verdict::New, Verdict::New), "no partitions: no commits, not OK with lag 0");
    assert_eq!(judged(&s, "idle", 0).text(), "NEW: no commits yet, nothing to consume");
    assert_eq!(judged(&s, "unstarted", 0).text(), "NEW: no commits yet, lag 5");
    assert_eq!(verdicts(&s, "idle"), (Verdict::New, Verdict::New));
    press(&mut s, KeyCode::Char('2'));
    let screen = render_to_string(&s, 80, 24);
    assert!(row(&screen, "idle").ends_with("NEW"), "{screen}");
    assert!(row(&screen, "unstarted").ends_with("NEW"), "{screen}");
    assert!(row(&screen, "bare").ends_with("NEW"), "{screen}");
}

#[test]
fn a_shift_back_shows_rewind_on_every_partition_it_moved() {
    // Three partitions caught up at 50; a reset shifts partitions 0 and 2 back by 10.
    let mut s = loaded();
    for i in 0..5 {
        refresh(&mut s, i, vec![group_of("g", 0, &[(Some(50), 0), (Some(50), 0), (Some(50), 0)])]);
    }
    refresh(&mut s, 5, vec![group_of("g", 0, &[(Some(40), 10), (Some(50), 0), (Some(40), 10)])]);
    for p in [0, 2] {
        assert_eq!(judged(&s, "g", p).text(), "REWIND: committed moved back 50 → 40", "partition {p}");
    }
    assert_eq!(judged(&s, "g", 1).verdict, Verdict::Ok, "partition 1 did not move");
    assert_eq!(verdicts(&s, "g"), (Verdict::Warn, Verdict::Rewind));
    // Moving back is no consumption: nothing commits here.
    open_group(&mut s, "g");
    let screen = render_to_string(&s, 120, 40);
    assert!(screen.contains("nobody is consuming") && !screen.contains("one-shot"), "{screen}");
    assert!(!screen.contains("consuming 0"), "the header does not say it twice: {screen}");
    // Consuming back past where it was is a rewind made up.
    refresh(&mut s, 6, vec![group_of("g", 0, &[(Some(50), 0), (Some(50), 0), (Some(45), 5)])]);
    assert_eq!(judged(&s, "g", 0).verdict, Verdict::Ok);
    assert_eq!(judged(&s, "g", 2).verdict, Verdict::Rewind);
}

#[test]
fn one_shot_pulls_are_consumption_not_nobody_consuming() {
    // `depot pull` in a loop: each pull joins, takes from every partition, commits and leaves, so
    // the group has no members whenever it is sampled. Partition 2 is left behind in `starved`.
    let mut s = loaded();
    for i in 0..WINDOW as u64 {
        let (c, lag) = (100 + 5 * (i / 2), 40 - i);
        let gs = vec![
            group_of("scripted", 0, &[(Some(c), lag), (Some(c), lag), (Some(c), lag)]),
            group_of("starved", 0, &[(Some(c), lag), (Some(c), lag), (Some(100), 30)]),
        ];
        refresh(&mut s, i as i64, gs);
        if i == 0 {
            // One sample, no members, nothing moved yet: too soon to say nobody consumes.
            open_group(&mut s, "scripted");
            let screen = render_to_string(&s, 120, 40);
            assert!(!screen.contains("nobody is consuming") && !screen.contains("not clearing"), "{screen}");
            assert!(screen.contains("orders/0 not enough samples yet (1 of 3)"), "{screen}");
        }
    }
    for p in 0..3 {
        assert_ne!(judged(&s, "scripted", p).verdict, Verdict::Stop, "partition {p} moves: it is consumed");
    }
    assert_eq!(verdicts(&s, "scripted").0, Verdict::Ok);
    assert_eq!(
        judged(&s, "starved", 2).text(),
        "STALL: committed 100 unchanged for 18s while the group commits on its other partitions, lag 30"
    );
    open_group(&mut s, "scripted");
    let screen = render_to_string(&s, 120, 40);
    assert!(!screen.contains("nobody is consuming"), "{screen}");
    assert!(screen.contains("committing with no live members (one-shot pulls)"), "{screen}");
}

#[test]
fn clears_in_is_never_shown_beside_stall_or_stop_nor_while_commits_stand_still() {
    // The engine's consume rate (deliveries, redelivered ones too) says it clears fast, but the
    // committed offset does not move: an estimate there would be a lie.
    let mut s = loaded();
    let busy = |name: &str, members, parts: &[(Option<u64>, u64)]| GroupInfo {
        consume_rate: 500.0,
        ..group_of(name, members, parts)
    };
    for i in 0..WINDOW as u64 {
        let gs = vec![
            busy("poisoned", 2, &[(Some(40), 60), (Some(100 + 10 * i), 100 - 10 * i)]),
            busy("draining", 1, &[(Some(100 + 10 * i), 100 - 10 * i)]),
        ];
        refresh(&mut s, i as i64, gs);
        if i == 4 {
            // Not judged yet, commits standing still on poisoned's partition 0; draining moves.
            open_group(&mut s, "poisoned");
            assert!(!render_to_string(&s, 120, 40).contains("clears in"), "standing still");
            press(&mut s, KeyCode::Char('1'));
        }
    }
    assert_eq!(verdicts(&s, "poisoned"), (Verdict::Err, Verdict::Stall));
    open_group(&mut s, "poisoned");
    let screen = render_to_string(&s, 120, 40);
    assert!(!screen.contains("clears in"), "{screen}");
    assert!(
        screen.contains("orders/0 STALL: committed 40 unchanged for 18s while 2 members consume, lag 60"),
        "{screen}"
    );
    open_group(&mut s, "draining");
    let screen = render_to_string(&s, 120, 40);
    assert!(screen.contains("clears in ~"), "an estimate where the group drains:\n{screen}");
}

#[test]
fn the_group_view_shows_the_selected_partitions_verdict_and_reason() {
    let mut s = watched();
    open_group(&mut s, "billing");
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render_to_string(&s, w, h);
        let line = screen.lines().nth(2).unwrap_or_default();
        assert_eq!(line, " orders/0 OK: lag falling 140 → 50 over 10 samples", "{w}×{h}:\n{screen}");
    }
    press(&mut s, KeyCode::Char('j'));
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains(" orders/1 WARN: lag stayed at 10 over 10 samples while committing"), "{screen}");
    // A reason longer than the terminal is wide wraps onto a second line: nothing is cut off.
    press(&mut s, KeyCode::Esc);
    open_group(&mut s, "analytics");
    let screen = render_to_string(&s, 60, 20);
    let lines: Vec<&str> = screen.lines().collect();
    assert_eq!(lines[2], " orders/0 STOP: committed 800 unchanged for 9s, no members", "{screen}");
    let screen = render_to_string(&s, 40, 20);
    let lines: Vec<&str> = screen.lines().collect();
    assert_eq!([lines[2], lines[3]], [" orders/0 STOP: committed 800 unchanged", " for 9s, no members"], "{screen}");
    press(&mut s, KeyCode::Char('j'));
    let screen = render_to_string(&s, 80, 24);
    assert!(screen.contains(" payments/0 NEW: no commits yet, lag 42"), "{screen}");
}

#[test]
fn a_failed_refresh_adds_no_samples_to_trends_or_health() {
    let mut s = loaded();
    for _ in 0..12 {
        feed(&mut s, Loaded::Topics(Err(depot::backend::BackendError::Unavailable("away".into()))));
        feed(&mut s, Loaded::Groups(Err(depot::backend::BackendError::Unavailable("away".into()))));
    }
    // Stale numbers repeated would read as "offsets not moving": STALL for billing, STOP for analytics.
    assert_eq!(verdicts(&s, "billing"), (Verdict::Pending, Verdict::Pending));
    assert_eq!(verdicts(&s, "analytics"), (Verdict::Pending, Verdict::New));
    assert_eq!(s.trends.topic_rates["orders"].len(), 1);
    assert_eq!(s.trends.group_lag["billing"].len(), 1);
    assert_eq!(s.trends.windows[&("billing".to_string(), "orders".to_string(), 0)].len(), 1);
}

#[test]
fn a_rewound_group_is_flagged() {
    let mut s = loaded();
    for (i, committed) in [300, 100, 110].into_iter().enumerate() {
        refresh(&mut s, i as i64, vec![group_of("rewound", 1, &[(Some(committed), 50)])]);
    }
    assert_eq!(verdicts(&s, "rewound"), (Verdict::Warn, Verdict::Rewind));
}
