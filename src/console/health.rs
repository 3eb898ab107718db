//! Consumer health verdicts with Burrow's rules, evaluated over a sliding window of samples the
//! console takes of each partition's committed offset and lag.
//!
//! Per partition (newest sample last), in this order:
//! 1. any sample in the window with zero lag → OK
//! 2. the committed offset went backwards anywhere in the window → REWIND
//! 3. the committed offset did not move across the window while lag stayed above zero → STALL when
//!    the group still has live members (they are stuck, e.g. on a poison record), STOP when it has
//!    none (nobody is consuming)
//! 4. the offset moved but the lag never shrank across the window → WARN (falling behind)
//! 5. otherwise OK.
//!
//! A group is ERR when any partition is STOP or STALL, WARN when any is WARN or REWIND, else OK.
//! Fewer than [`MIN_SAMPLES`] samples give no verdict yet (shown as OK).
//!
//! PAUSED is not Burrow's: a side panel's provider (the demo's `x`) paused the group on purpose,
//! so the WARN, STALL or STOP its standing offsets earn is shown as what it is (see
//! [`Trends::partition_verdict`](super::state::Trends::partition_verdict)); a group with a paused
//! partition and nothing worse reads PAUSED.

use std::collections::VecDeque;

/// Samples kept per partition.
pub const WINDOW: usize = 10;
/// Samples needed before judging.
pub const MIN_SAMPLES: usize = 3;

/// One observation of a partition for a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    pub committed: u64,
    pub lag: u64,
}

/// A verdict, worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Ok,
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
            Verdict::Warn => "WARN",
            Verdict::Err => "ERR",
            Verdict::Stop => "STOP",
            Verdict::Stall => "STALL",
            Verdict::Rewind => "REWIND",
            Verdict::Paused => "PAUSED",
        }
    }
}

/// A partition's verdict over its window.
pub fn partition_verdict(window: &VecDeque<Sample>, live_members: bool) -> Verdict {
    if window.len() < MIN_SAMPLES {
        return Verdict::Ok;
    }
    if window.iter().any(|s| s.lag == 0) {
        return Verdict::Ok;
    }
    let pairs = || window.iter().zip(window.iter().skip(1));
    if pairs().any(|(a, b)| b.committed < a.committed) {
        return Verdict::Rewind;
    }
    let (first, last) = (window[0], window[window.len() - 1]);
    if first.committed == last.committed {
        return if live_members { Verdict::Stall } else { Verdict::Stop };
    }
    if pairs().all(|(a, b)| b.lag >= a.lag) {
        return Verdict::Warn;
    }
    Verdict::Ok
}

/// A group's verdict from its partitions': (group status, worst partition status).
pub fn group_verdict(partitions: &[Verdict]) -> (Verdict, Verdict) {
    let worst = partitions.iter().copied().max().unwrap_or(Verdict::Ok);
    let group = match worst {
        Verdict::Stop | Verdict::Stall | Verdict::Err => Verdict::Err,
        Verdict::Warn | Verdict::Rewind => Verdict::Warn,
        Verdict::Paused => Verdict::Paused,
        Verdict::Ok => Verdict::Ok,
    };
    (group, worst)
}

/// Pushes a sample, keeping the window's length.
pub fn push(window: &mut VecDeque<Sample>, s: Sample) {
    window.push_back(s);
    while window.len() > WINDOW {
        window.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(samples: &[(u64, u64)]) -> VecDeque<Sample> {
        samples.iter().map(|&(committed, lag)| Sample { committed, lag }).collect()
    }

    #[test]
    fn burrows_rules() {
        assert_eq!(partition_verdict(&w(&[(0, 5), (1, 9)]), true), Verdict::Ok, "too few samples");
        assert_eq!(partition_verdict(&w(&[(0, 5), (5, 0), (6, 4)]), true), Verdict::Ok, "caught up once");
        assert_eq!(partition_verdict(&w(&[(10, 5), (4, 11), (6, 9)]), true), Verdict::Rewind);
        assert_eq!(partition_verdict(&w(&[(7, 5), (7, 8), (7, 9)]), true), Verdict::Stall);
        assert_eq!(partition_verdict(&w(&[(7, 5), (7, 8), (7, 9)]), false), Verdict::Stop);
        assert_eq!(partition_verdict(&w(&[(1, 5), (3, 8), (5, 12)]), true), Verdict::Warn, "falling behind");
        assert_eq!(partition_verdict(&w(&[(1, 5), (3, 5), (5, 5)]), true), Verdict::Warn, "fixed lag");
        assert_eq!(partition_verdict(&w(&[(1, 9), (5, 6), (9, 3)]), true), Verdict::Ok, "draining");
    }

    #[test]
    fn group_status_is_the_worst_partition() {
        assert_eq!(group_verdict(&[Verdict::Ok, Verdict::Stall]), (Verdict::Err, Verdict::Stall));
        assert_eq!(group_verdict(&[Verdict::Rewind, Verdict::Ok]), (Verdict::Warn, Verdict::Rewind));
        assert_eq!(group_verdict(&[]), (Verdict::Ok, Verdict::Ok));
        assert_eq!(group_verdict(&[Verdict::Ok, Verdict::Paused]), (Verdict::Paused, Verdict::Paused));
        assert_eq!(group_verdict(&[Verdict::Paused, Verdict::Warn]), (Verdict::Warn, Verdict::Warn));
        let mut win = VecDeque::new();
        for i in 0..20 {
            push(&mut win, Sample { committed: i, lag: 1 });
        }
        assert_eq!(win.len(), WINDOW);
        assert_eq!(win[0].committed, 10);
    }
}
