//! Offset resets in kafka-consumer-groups' vocabulary: the modes, a plan (dry run) with
//! before/after per partition, the journaled record of an executed reset, and the target
//! computation every backend shares.
//!
//! Targets are computed in two phases, so the rule lives here and only the lookup in a backend:
//! 1. [`ResetSpec::time_to_resolve`] says which timestamp the backend must turn into an offset
//!    (to-datetime: that time; by-duration: now − duration, saturating), if any;
//! 2. [`target`] takes that offset and clamps the wanted one to `[log_start, end]`, with a note.

use super::Invalid;
use super::time::{fmt_duration_ms, fmt_ms};
use serde::{Deserialize, Serialize};

/// A reset mode, named as kafka-consumer-groups names it (`--to-earliest`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResetMode {
    ToEarliest,
    ToLatest,
    ToOffset,
    ShiftBy,
    ToDatetime,
    ByDuration,
}

impl ResetMode {
    /// Every mode, in kafka-consumer-groups' order.
    pub const ALL: [ResetMode; 6] = [
        ResetMode::ToEarliest,
        ResetMode::ToLatest,
        ResetMode::ToOffset,
        ResetMode::ShiftBy,
        ResetMode::ToDatetime,
        ResetMode::ByDuration,
    ];

    /// The mode's name: `to-earliest`, `to-latest`, `to-offset`, `shift-by`, `to-datetime`,
    /// `by-duration` (also its JSON form and, with `--`, the command-line flag).
    pub const fn name(self) -> &'static str {
        match self {
            ResetMode::ToEarliest => "to-earliest",
            ResetMode::ToLatest => "to-latest",
            ResetMode::ToOffset => "to-offset",
            ResetMode::ShiftBy => "shift-by",
            ResetMode::ToDatetime => "to-datetime",
            ResetMode::ByDuration => "by-duration",
        }
    }

    /// Whether the mode needs a value (an offset, a shift, a time or a duration).
    pub const fn takes_value(self) -> bool {
        !matches!(self, ResetMode::ToEarliest | ResetMode::ToLatest)
    }
}

impl std::fmt::Display for ResetMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ResetMode {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<ResetMode, Invalid> {
        ResetMode::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let names: Vec<&str> = ResetMode::ALL.iter().map(|m| m.name()).collect();
            Invalid(format!("{s:?} is not a reset mode: use one of {}", names.join(", ")))
        })
    }
}

/// Where to move a group's committed offsets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", content = "value", rename_all = "kebab-case")]
pub enum ResetSpec {
    ToEarliest,
    ToLatest,
    ToOffset(u64),
    ShiftBy(i64),
    /// First offset with a timestamp at or after this time (ms since the epoch).
    ToDatetime(i64),
    /// Like `ToDatetime(now - duration)`; the duration in ms.
    ByDuration(u64),
}

impl ResetSpec {
    pub fn mode(&self) -> ResetMode {
        match self {
            ResetSpec::ToEarliest => ResetMode::ToEarliest,
            ResetSpec::ToLatest => ResetMode::ToLatest,
            ResetSpec::ToOffset(_) => ResetMode::ToOffset,
            ResetSpec::ShiftBy(_) => ResetMode::ShiftBy,
            ResetSpec::ToDatetime(_) => ResetMode::ToDatetime,
            ResetSpec::ByDuration(_) => ResetMode::ByDuration,
        }
    }

    /// Phase one: the timestamp (ms since the epoch) whose first offset at or after it the backend
    /// must look up, for to-datetime and by-duration (now − duration, saturating); else `None`.
    pub fn time_to_resolve(&self, now_ms: i64) -> Option<i64> {
        match *self {
            ResetSpec::ToDatetime(ms) => Some(ms),
            ResetSpec::ByDuration(d) => Some(now_ms.saturating_sub(i64::try_from(d).unwrap_or(i64::MAX))),
            _ => None,
        }
    }
}

impl std::fmt::Display for ResetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = self.mode();
        match self {
            ResetSpec::ToEarliest | ResetSpec::ToLatest => write!(f, "{mode}"),
            ResetSpec::ToOffset(o) => write!(f, "{mode} {o}"),
            ResetSpec::ShiftBy(n) => write!(f, "{mode} {n:+}"),
            ResetSpec::ToDatetime(ms) => write!(f, "{mode} {}", fmt_ms(*ms)),
            ResetSpec::ByDuration(ms) => write!(f, "{mode} {}", fmt_duration_ms(*ms)),
        }
    }
}

/// Phase two: the committed offset a spec asks for, clamped to `[log_start, end]`, with a note
/// when clamped. `resolved` is the offset the backend found for [`ResetSpec::time_to_resolve`]'s
/// timestamp (needed exactly when that returned a time).
pub fn target(
    spec: &ResetSpec,
    before: Option<u64>,
    log_start: u64,
    end: u64,
    resolved: Option<u64>,
) -> Result<(u64, Option<String>), Invalid> {
    let wanted: i128 = match spec {
        ResetSpec::ToEarliest => i128::from(log_start),
        ResetSpec::ToLatest => i128::from(end),
        ResetSpec::ToOffset(o) => i128::from(*o),
        ResetSpec::ShiftBy(n) => i128::from(before.unwrap_or(log_start)) + i128::from(*n),
        ResetSpec::ToDatetime(_) | ResetSpec::ByDuration(_) => match resolved {
            Some(o) => i128::from(o),
            None => return Err(Invalid(format!("{spec}: the time was not looked up as an offset"))),
        },
    };
    if wanted < i128::from(log_start) {
        Ok((log_start, Some(format!("{wanted} is before the log start; clamped to {log_start}"))))
    } else if wanted > i128::from(end) {
        Ok((end, Some(format!("{wanted} is past the end; clamped to {end}"))))
    } else {
        // In [log_start, end], so it fits a u64.
        Ok((u64::try_from(wanted).unwrap_or(end), None))
    }
}

/// One partition of a reset plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRow {
    pub partition: u32,
    /// Committed offset now (`None`: the group never committed here).
    pub before: Option<u64>,
    /// Committed offset after the reset.
    pub after: u64,
    pub log_start: u64,
    pub end_offset: u64,
    /// Set when the requested target was outside the log and was clamped.
    pub note: Option<String>,
}

/// A reset, computed but not applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetPlan {
    pub group: String,
    pub topic: String,
    pub spec: ResetSpec,
    pub rows: Vec<ResetRow>,
    /// Live members of the group when planned; executing is refused while there are any, unless forced.
    pub live_members: Vec<String>,
    /// When this plan undoes an earlier reset, that reset's id.
    pub undo_of: Option<u64>,
}

/// An executed reset, as written to the journal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetRecord {
    pub id: u64,
    pub at_ms: i64,
    pub group: String,
    pub topic: String,
    pub spec: ResetSpec,
    /// (partition, before, after)
    pub rows: Vec<(u32, Option<u64>, u64)>,
    pub forced: bool,
    pub undo_of: Option<u64>,
}

/// A reset to plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub topic: String,
    #[serde(default)]
    pub partitions: Vec<u32>,
    pub spec: ResetSpec,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Log 10..100, now = 5000; times up to 1000 resolve to offset 10, later ones to 60.
    fn t(spec: ResetSpec, before: Option<u64>) -> (u64, Option<String>) {
        let resolved = spec.time_to_resolve(5_000).map(|ts| if ts <= 1_000 { 10 } else { 60 });
        target(&spec, before, 10, 100, resolved).unwrap()
    }

    #[test]
    fn targets_follow_kafka_consumer_groups() {
        assert_eq!(t(ResetSpec::ToEarliest, Some(50)).0, 10);
        assert_eq!(t(ResetSpec::ToLatest, Some(50)).0, 100);
        assert_eq!(t(ResetSpec::ToOffset(42), Some(50)).0, 42);
        assert_eq!(t(ResetSpec::ShiftBy(-5), Some(50)).0, 45);
        assert_eq!(t(ResetSpec::ShiftBy(1), None).0, 11);
        assert_eq!(t(ResetSpec::ToDatetime(2_000), Some(50)).0, 60);
        assert_eq!(t(ResetSpec::ByDuration(4_500), Some(50)).0, 10);
    }

    #[test]
    fn out_of_range_targets_are_clamped_and_say_so() {
        let (o, note) = t(ResetSpec::ToOffset(500), Some(50));
        assert_eq!(o, 100);
        assert!(note.unwrap().contains("clamped to 100"));
        let (o, note) = t(ResetSpec::ShiftBy(-1000), Some(50));
        assert_eq!(o, 10);
        assert!(note.unwrap().contains("before the log start"));
    }

    #[test]
    fn only_time_modes_need_a_lookup() {
        for spec in [ResetSpec::ToEarliest, ResetSpec::ToLatest, ResetSpec::ToOffset(3), ResetSpec::ShiftBy(-2)] {
            assert_eq!(spec.time_to_resolve(5_000), None, "{spec}");
        }
        assert_eq!(ResetSpec::ToDatetime(1_234).time_to_resolve(5_000), Some(1_234));
        assert_eq!(ResetSpec::ByDuration(1_000).time_to_resolve(5_000), Some(4_000));
        let e = target(&ResetSpec::ToDatetime(1), None, 0, 10, None).unwrap_err();
        assert!(e.0.contains("to-datetime"), "{e}");
    }

    #[test]
    fn extreme_times_and_durations_compute_without_overflow() {
        let huge = ResetSpec::ByDuration(u64::MAX);
        assert_eq!(huge.time_to_resolve(5_000), Some(5_000 - i64::MAX));
        assert_eq!(huge.time_to_resolve(i64::MIN + 1), Some(i64::MIN));
        assert_eq!(ResetSpec::ByDuration(i64::MAX as u64 + 1).time_to_resolve(-10), Some(i64::MIN));
        assert_eq!(t(huge.clone(), Some(50)), (10, None), "longer ago than any record: the log start");
        let late = ResetSpec::ToDatetime(i64::MAX);
        assert_eq!(late.time_to_resolve(5_000), Some(i64::MAX));
        assert_eq!(target(&late, Some(50), 10, 100, Some(100)).unwrap(), (100, None), "no record that new: the end");
        assert_eq!(late.to_string(), "to-datetime +292278994-08-17T07:12:55.807Z");
        assert!(huge.to_string().starts_with("by-duration "), "{huge}");
        let far = ResetSpec::ShiftBy(i64::MAX);
        assert_eq!(target(&far, Some(u64::MAX), 0, u64::MAX, None).unwrap().0, u64::MAX);
        assert_eq!(target(&ResetSpec::ShiftBy(i64::MIN), Some(0), 0, 5, None).unwrap().0, 0);
    }

    #[test]
    fn modes_have_kafka_consumer_groups_names() {
        let names: Vec<&str> = ResetMode::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names, ["to-earliest", "to-latest", "to-offset", "shift-by", "to-datetime", "by-duration"]);
        for m in ResetMode::ALL {
            assert_eq!(serde_json::to_value(m).unwrap(), serde_json::json!(m.name()));
            assert_eq!(serde_json::from_value::<ResetMode>(serde_json::json!(m.name())).unwrap(), m);
            assert_eq!(m.name().parse::<ResetMode>().unwrap(), m);
            assert_eq!(m.to_string(), m.name());
        }
        let e = "to-yesterday".parse::<ResetMode>().unwrap_err();
        assert!(e.0.contains("to-earliest, to-latest"), "{e}");
        assert!(serde_json::from_str::<ResetMode>("\"to_earliest\"").is_err());
    }

    #[test]
    fn specs_know_their_mode_and_travel_with_its_name() {
        let specs = [
            ResetSpec::ToEarliest,
            ResetSpec::ToLatest,
            ResetSpec::ToOffset(7),
            ResetSpec::ShiftBy(-2),
            ResetSpec::ToDatetime(1_795_626_000_000),
            ResetSpec::ByDuration(900_000),
        ];
        for (spec, mode) in specs.iter().zip(ResetMode::ALL) {
            assert_eq!(spec.mode(), mode);
            assert_eq!(serde_json::to_value(spec).unwrap()["mode"], serde_json::json!(mode.name()));
            assert_eq!(mode.takes_value(), serde_json::to_value(spec).unwrap().get("value").is_some());
            assert!(spec.to_string().starts_with(mode.name()), "{spec}");
        }
        assert_eq!(specs[3].to_string(), "shift-by -2");
        assert_eq!(specs[4].to_string(), "to-datetime 2026-11-25T17:00:00.000Z");
        assert_eq!(specs[5].to_string(), "by-duration 15m");
    }
}
