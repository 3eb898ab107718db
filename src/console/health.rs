//! Consumer health verdicts with Burrow's rules, each with the reason it was given, judged over a
//! sliding window of the samples the console takes of each partition (its committed offset, lag
//! and the group's live members, at the time of the refresh).
//!
//! Per partition (newest sample last), in this order:
//! 1. the group never committed here → NEW ("no commits yet"), unless the window is full, lag
//!    stayed above zero and the group was consuming all along (members, or commits on its other
//!    partitions) → STALL: this partition is being left behind
//! 2. fewer than [`MIN_SAMPLES`] samples → not enough samples yet (…), never OK
//! 3. the committed offset moved back and has not come back to where it was → REWIND (before the
//!    zero-lag rule, as Burrow does: a group that was caught up and is rewound is a rewind)
//! 4. lag is zero now, or was zero anywhere in the window → OK (caught up)
//! 5. the committed offset did not move across the whole window → STALL while the group consumes
//!    (it has live members, or commits on its other partitions: one-shot pulls that join, pull,
//!    commit and leave have no members between pulls), STOP when nothing consumes; with the
//!    window not yet full this is still "not enough samples" (a slow consumer is not a stopped one)
//! 6. the offset moved but the lag never shrank across the window → WARN (falling behind)
//! 7. otherwise OK.
//!
//! A group is ERR when any partition is STOP or STALL, WARN when any is WARN or REWIND, NEW when
//! every partition is (or it has none: it never committed anything), not judged yet (…) while
//! any partition is, else OK.
//!
//! PAUSED is not Burrow's: a side panel's provider (the demo's `x`) paused the group on purpose,
//! so the WARN, STALL or STOP its standing offsets earn is shown as what it is (see
//! [`Trends::judge`](super::state::Trends::judge)); a group with a paused partition and nothing
//! worse reads PAUSED.

use crate::core::format::duration_ms;
use std::collections::VecDeque;

/// Samples kept per partition: the last ten refreshes.
pub const WINDOW: usize = 10;
/// Samples needed before judging.
pub const MIN_SAMPLES: usize = 3;

/// One observation of a partition for a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// When it was taken, in ms (the console's clock).
    pub at_ms: i64,
    /// `None` while the group has never committed here.
    pub committed: Option<u64>,
    pub lag: u64,
    /// The group's live members when it was taken.
    pub members: usize,
    /// Since when (ms) the committed offset has had this value, as far as the samples go back:
    /// [`push`] carries it over from the sample before, so it outlives the window.
    pub since_ms: i64,
}

impl Sample {
    /// A sample taken at `at_ms`; [`push`] sets how long its committed offset has stood.
    pub fn new(at_ms: i64, committed: Option<u64>, lag: u64, members: usize) -> Sample {
        Sample { at_ms, committed, lag, members, since_ms: at_ms }
    }
}

/// A verdict, worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Ok,
    /// Not enough samples to judge yet.
    Pending,
    /// The group has never committed here.
    New,
    /// A side panel's provider (the demo) paused the group on purpose.
    Paused,
    Rewind,
    Warn,
    Stop,
    Stall,
    Err,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::Pending => "…",
            Verdict::New => "NEW",
            Verdict::Warn => "WARN",
            Verdict::Err => "ERR",
            Verdict::Stop => "STOP",
            Verdict::Stall => "STALL",
            Verdict::Rewind => "REWIND",
            Verdict::Paused => "PAUSED",
        }
    }
}

/// A verdict and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub reason: String,
}

impl Judgement {
    fn new(verdict: Verdict, reason: impl Into<String>) -> Judgement {
        Judgement { verdict, reason: reason.into() }
    }

    /// "STALL: committed 43 unchanged for 20s …", or the reason alone for "not enough samples".
    pub fn text(&self) -> String {
        match self.verdict {
            Verdict::Pending => self.reason.clone(),
            v => format!("{}: {}", v.label(), self.reason),
        }
    }
}

/// Who was consuming over a window: the phrase that follows "while".
fn consumers(last: &Sample, others_moved: bool) -> Option<String> {
    match (last.members, others_moved) {
        (1, _) => Some("1 member consumes".into()),
        (0, true) => Some("the group commits on its other partitions".into()),
        (0, false) => None,
        (n, _) => Some(format!("{n} members consume")),
    }
}

/// A partition's verdict over its window. `others_moved`: the group's committed offset moved
/// forward on another of its partitions within the window (the group consumes, whoever its
/// members are).
pub fn judge(window: &VecDeque<Sample>, others_moved: bool) -> Judgement {
    let (Some(first), Some(last)) = (window.front(), window.back()) else {
        return Judgement::new(Verdict::Pending, "not sampled yet");
    };
    // How long the committed offset has stood where it is (used only where it stood all window).
    let span = duration_ms(last.at_ms.saturating_sub(last.since_ms.min(first.at_ms)).max(0) as u64);
    let full = window.len() >= WINDOW;
    let lagging = window.iter().all(|s| s.lag > 0);
    if last.committed.is_none() {
        let never = window.iter().all(|s| s.committed.is_none());
        if let Some(who) = consumers(last, others_moved).filter(|_| full && never && lagging) {
            return Judgement::new(Verdict::Stall, format!("no commits yet for {span} while {who}, lag {}", last.lag));
        }
        return match last.lag {
            0 => Judgement::new(Verdict::New, "no commits yet, nothing to consume"),
            lag => Judgement::new(Verdict::New, format!("no commits yet, lag {lag}")),
        };
    }
    if window.len() < MIN_SAMPLES {
        return Judgement::new(Verdict::Pending, format!("not enough samples yet ({} of {MIN_SAMPLES})", window.len()));
    }
    if let Some((from, to)) = unrecovered_rewind(window) {
        return Judgement::new(Verdict::Rewind, format!("committed moved back {from} → {to}"));
    }
    if last.lag == 0 {
        return Judgement::new(Verdict::Ok, "caught up");
    }
    if let Some(z) = window.iter().rev().find(|s| s.lag == 0) {
        let ago = duration_ms(last.at_ms.saturating_sub(z.at_ms).max(0) as u64);
        return Judgement::new(Verdict::Ok, format!("caught up {ago} ago, lag {} now", last.lag));
    }
    let committed = last.committed.unwrap_or(0);
    if window.iter().all(|s| s.committed == last.committed) {
        if !full {
            return Judgement::new(
                Verdict::Pending,
                format!(
                    "committed {committed} unchanged for {span}, lag {}: judged after {WINDOW} samples ({} so far)",
                    last.lag,
                    window.len()
                ),
            );
        }
        return match consumers(last, others_moved) {
            Some(who) => Judgement::new(
                Verdict::Stall,
                format!("committed {committed} unchanged for {span} while {who}, lag {}", last.lag),
            ),
            None => Judgement::new(Verdict::Stop, format!("committed {committed} unchanged for {span}, no members")),
        };
    }
    let n = window.len();
    if window.iter().zip(window.iter().skip(1)).all(|(a, b)| b.lag >= a.lag) {
        let how = if first.lag == last.lag {
            format!("lag stayed at {}", last.lag)
        } else {
            format!("lag grew {} → {}", first.lag, last.lag)
        };
        return Judgement::new(Verdict::Warn, format!("{how} over {n} samples while committing"));
    }
    if last.lag < first.lag {
        return Judgement::new(Verdict::Ok, format!("lag falling {} → {} over {n} samples", first.lag, last.lag));
    }
    let from = first.committed.map(|c| c.to_string()).unwrap_or_else(|| "-".into());
    // Lag up and down while committing (Burrow's OK): say where it went, up or not.
    let lag =
        if first.lag == last.lag { format!("lag {}", last.lag) } else { format!("lag {} → {}", first.lag, last.lag) };
    Judgement::new(Verdict::Ok, format!("committing {from} → {committed}, {lag}"))
}

/// The latest move back of the committed offset that it has not made up since: (from, to).
fn unrecovered_rewind(window: &VecDeque<Sample>) -> Option<(u64, u64)> {
    let c: Vec<Option<u64>> = window.iter().map(|s| s.committed).collect();
    (1..c.len()).rev().find_map(|i| match (c[i - 1], c[i]) {
        (Some(from), Some(to)) if to < from && c[i..].iter().all(|x| x.is_none_or(|x| x < from)) => Some((from, to)),
        _ => None,
    })
}

/// Whether the committed offset moved forward anywhere in the window: consumption (a reset that
/// moves it back is not).
pub fn advanced(window: &VecDeque<Sample>) -> bool {
    window.iter().zip(window.iter().skip(1)).any(|(a, b)| match (a.committed, b.committed) {
        (Some(a), Some(b)) => b > a,
        (None, Some(_)) => true,
        _ => false,
    })
}

/// A group's verdict from its partitions': (group status, worst partition status).
pub fn group_verdict(partitions: &[Verdict]) -> (Verdict, Verdict) {
    // No partitions at all: the group has never committed (nor consumed) anything.
    let worst = partitions.iter().copied().max().unwrap_or(Verdict::New);
    let group = match worst {
        Verdict::Stop | Verdict::Stall | Verdict::Err => Verdict::Err,
        Verdict::Warn | Verdict::Rewind => Verdict::Warn,
        Verdict::Paused => Verdict::Paused,
        Verdict::New if partitions.iter().all(|v| *v == Verdict::New) => Verdict::New,
        Verdict::New | Verdict::Pending if partitions.contains(&Verdict::Pending) => Verdict::Pending,
        Verdict::New | Verdict::Pending | Verdict::Ok => Verdict::Ok,
    };
    (group, worst)
}

/// Pushes a sample, keeping the window's length.
pub fn push(window: &mut VecDeque<Sample>, mut s: Sample) {
    if let Some(prev) = window.back().filter(|p| p.committed == s.committed) {
        s.since_ms = prev.since_ms.min(s.at_ms);
    }
    window.push_back(s);
    while window.len() > WINDOW {
        window.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window of (committed, lag) samples 2 s apart, with `members` live members.
    fn w(samples: &[(Option<u64>, u64)], members: usize) -> VecDeque<Sample> {
        let at = |i: usize| i as i64 * 2_000;
        samples.iter().enumerate().map(|(i, &(committed, lag))| Sample::new(at(i), committed, lag, members)).collect()
    }

    fn c(samples: &[(u64, u64)]) -> Vec<(Option<u64>, u64)> {
        samples.iter().map(|&(c, l)| (Some(c), l)).collect()
    }

    fn verdict(samples: &[(u64, u64)], members: usize) -> Verdict {
        judge(&w(&c(samples), members), false).verdict
    }

    #[test]
    fn burrows_rules() {
        assert_eq!(verdict(&[(0, 5), (1, 9)], 1), Verdict::Pending, "too few samples");
        assert_eq!(verdict(&[(0, 5), (5, 0), (6, 4)], 1), Verdict::Ok, "caught up once");
        assert_eq!(verdict(&[(10, 5), (4, 11), (6, 9)], 1), Verdict::Rewind);
        assert_eq!(verdict(&[(10, 5), (4, 11), (12, 9)], 1), Verdict::Ok, "a rewind made up is no rewind");
        assert_eq!(verdict(&[(10, 0), (10, 0), (4, 6)], 0), Verdict::Rewind, "rewound while caught up");
        let stuck = [(7, 5); WINDOW];
        assert_eq!(verdict(&stuck, 1), Verdict::Stall);
        assert_eq!(verdict(&stuck, 0), Verdict::Stop);
        assert_eq!(verdict(&stuck[..WINDOW - 1], 0), Verdict::Pending, "not stopped until the window is full");
        assert_eq!(judge(&w(&c(&stuck), 0), true).verdict, Verdict::Stall, "the group commits elsewhere");
        assert_eq!(verdict(&[(1, 5), (3, 8), (5, 12)], 1), Verdict::Warn, "falling behind");
        assert_eq!(verdict(&[(1, 5), (3, 5), (5, 5)], 1), Verdict::Warn, "fixed lag");
        assert_eq!(verdict(&[(1, 9), (5, 6), (9, 3)], 1), Verdict::Ok, "draining");
        assert_eq!(verdict(&[(1, 9), (5, 12), (9, 10)], 0), Verdict::Ok, "moving, lag up and down");
    }

    #[test]
    fn every_verdict_says_why() {
        let why = |samples: &[(u64, u64)], members| judge(&w(&c(samples), members), false).text();
        assert_eq!(why(&[(43, 57); WINDOW], 0), "STOP: committed 43 unchanged for 18s, no members");
        assert_eq!(
            why(&[(43, 57); WINDOW], 2),
            "STALL: committed 43 unchanged for 18s while 2 members consume, lag 57"
        );
        let growing: Vec<(u64, u64)> = (0..9).map(|i| (i * 10, 10 + i * 6)).collect();
        assert_eq!(why(&growing, 1), "WARN: lag grew 10 → 58 over 9 samples while committing");
        assert_eq!(why(&[(80, 5), (40, 45), (41, 44)], 0), "REWIND: committed moved back 80 → 40");
        assert_eq!(why(&[(1, 0), (2, 0), (3, 0)], 1), "OK: caught up");
        assert_eq!(why(&[(1, 0), (2, 3), (3, 5)], 1), "OK: caught up 4s ago, lag 5 now");
        assert_eq!(why(&[(1, 9), (5, 6), (9, 3)], 1), "OK: lag falling 9 → 3 over 3 samples");
        assert_eq!(why(&[(1, 9), (5, 12), (9, 10)], 0), "OK: committing 1 → 9, lag 9 → 10", "up and down, but up");
        assert_eq!(why(&[(1, 4)], 1), "not enough samples yet (1 of 3)");
        assert_eq!(why(&[(7, 5); 4], 0), "committed 7 unchanged for 6s, lag 5: judged after 10 samples (4 so far)");
    }

    #[test]
    fn a_group_that_never_committed_is_new_not_ok() {
        let never = |lag: u64, n: usize, members, others| judge(&w(&vec![(None, lag); n], members), others);
        assert_eq!(never(0, 1, 0, false).text(), "NEW: no commits yet, nothing to consume");
        assert_eq!(never(10, WINDOW, 0, false).text(), "NEW: no commits yet, lag 10");
        assert_eq!(
            never(10, WINDOW, 0, true).text(),
            "STALL: no commits yet for 18s while the group commits on its other partitions, lag 10",
            "left behind while the group consumes elsewhere"
        );
        assert_eq!(never(10, WINDOW - 1, 2, false).verdict, Verdict::New, "a full window before STALL");
    }

    #[test]
    fn group_status_is_the_worst_partition() {
        use Verdict::*;
        assert_eq!(group_verdict(&[Ok, Stall]), (Err, Stall));
        assert_eq!(group_verdict(&[Rewind, Ok]), (Warn, Rewind));
        assert_eq!(group_verdict(&[]), (New, New), "no partitions: never committed anything");
        assert_eq!(group_verdict(&[Pending, Ok]), (Pending, Pending));
        assert_eq!(group_verdict(&[New, New]), (New, New));
        assert_eq!(group_verdict(&[New, Ok]), (Ok, New));
        assert_eq!(group_verdict(&[New, Pending]), (Pending, New));
        assert_eq!(group_verdict(&[Ok, Paused]), (Paused, Paused));
        assert_eq!(group_verdict(&[Paused, Warn]), (Warn, Warn));
        assert_eq!(group_verdict(&[Pending, Paused]), (Paused, Paused));
        let mut win = VecDeque::new();
        for i in 0..20 {
            push(&mut win, Sample::new(0, Some(i), 1, 0));
        }
        assert_eq!(win.len(), WINDOW);
        assert_eq!(win[0].committed, Some(10));
        assert!(advanced(&win));
        let back: VecDeque<Sample> = [50, 40, 40].map(|c| Sample::new(0, Some(c), 1, 0)).into();
        assert!(!advanced(&back), "a rewind is not consumption");
    }

    #[test]
    fn how_long_an_offset_stood_outlives_the_window() {
        // Committed 43 for 15 refreshes 2 s apart: the window holds the last ten (18 s of them),
        // the offset has stood for 28 s.
        let mut win = VecDeque::new();
        push(&mut win, Sample::new(-2_000, Some(40), 60, 0));
        for i in 0..15 {
            push(&mut win, Sample::new(i * 2_000, Some(43), 57, 0));
        }
        assert_eq!(judge(&win, false).text(), "STOP: committed 43 unchanged for 28s, no members");
        push(&mut win, Sample::new(30_000, Some(44), 56, 0));
        assert_eq!(win.back().map(|s| s.since_ms), Some(30_000), "a move starts the count again");
    }
}
