//! The parts of reset and replay plans every engine computes alike: a plan executed only while the
//! offsets it was made from still hold, undo rows that restore `before` clamped to the log, replay
//! rows clamped to the log, and the `depot.origin.*` headers a replayed copy carries.

use crate::backend::{BResult, BackendError};
use crate::core::replay::origin;
use crate::core::{Header, Payload, ReplayPlan, ReplayRange, ReplayRow, ResetRow};

fn show(o: Option<u64>) -> String {
    o.map_or_else(|| "none".to_string(), |v| v.to_string())
}

/// A plan's `before` must still be the committed offset when it is executed.
pub fn unchanged_since_plan(topic: &str, partition: u32, planned: Option<u64>, now: Option<u64>) -> BResult<()> {
    if planned != now {
        return Err(BackendError::Conflict(format!(
            "the committed offset of {topic}/{partition} changed from {} to {} since the plan was made; plan again",
            show(planned),
            show(now)
        )));
    }
    Ok(())
}

/// The row that undoes one partition of reset `reset_id`: back to `was` (what the reset found),
/// clamped to the log as it is now, with a note when it cannot be exactly that.
pub fn undo_row(
    partition: u32,
    was: Option<u64>,
    now: Option<u64>,
    (start, end): (u64, u64),
    reset_id: u64,
) -> ResetRow {
    let after = was.unwrap_or(start).clamp(start, end);
    let note = match was {
        None => Some(format!("had no committed offset before reset #{reset_id}; restored to the log start")),
        Some(b) if b != after => Some(format!("{b} is no longer in the log; clamped to {after}")),
        Some(_) => None,
    };
    ResetRow { partition, before: now, after, log_start: start, end_offset: end, note }
}

/// A replay row for `from..to` of a partition whose log is `start..end`, clamped to it.
pub fn replay_row(partition: u32, from: u64, to: u64, (start, end): (u64, u64)) -> ReplayRow {
    let from = from.clamp(start, end);
    let to = to.clamp(start, end).max(from);
    ReplayRow { partition, from, to, count: to - from }
}

/// A replay plan of `rows`, with their total.
pub fn replay_plan(source: String, target: String, range: ReplayRange, rows: Vec<ReplayRow>) -> ReplayPlan {
    let total = rows.iter().map(|r| r.count).sum();
    ReplayPlan { source, target, range, rows, total }
}

/// The headers that say where a replayed copy came from: the original's topic, partition,
/// offset and timestamp (`core::replay::origin`).
pub fn origin_headers(source: &str, partition: u32, offset: u64, timestamp: i64) -> [Header; 4] {
    origin(source, partition, offset, timestamp)
        .map(|(name, v)| Header { name: name.into(), value: Some(Payload::text(&v)) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::replay::{ORIGIN_OFFSET, ORIGIN_PARTITION, ORIGIN_TIMESTAMP, ORIGIN_TOPIC};

    #[test]
    fn a_plan_holds_only_while_its_offsets_do() {
        assert!(
            unchanged_since_plan("t", 0, Some(3), Some(3)).is_ok() && unchanged_since_plan("t", 0, None, None).is_ok()
        );
        let e = unchanged_since_plan("t", 2, None, Some(4)).unwrap_err();
        assert_eq!(
            e,
            BackendError::Conflict(
                "the committed offset of t/2 changed from none to 4 since the plan was made; plan again".into()
            )
        );
    }

    #[test]
    fn undo_restores_before_clamped_to_the_log() {
        let exact = undo_row(0, Some(7), Some(2), (5, 9), 3);
        assert_eq!((exact.before, exact.after, exact.note), (Some(2), 7, None));
        let trimmed = undo_row(0, Some(1), Some(8), (5, 9), 3);
        assert_eq!((trimmed.after, trimmed.note.as_deref()), (5, Some("1 is no longer in the log; clamped to 5")));
        let fresh = undo_row(1, None, Some(9), (5, 9), 3);
        assert_eq!(fresh.after, 5);
        assert!(fresh.note.is_some_and(|n| n.contains("no committed offset before reset #3")));
        assert_eq!((fresh.log_start, fresh.end_offset, fresh.partition), (5, 9, 1));
    }

    #[test]
    fn replay_rows_are_clamped_and_never_negative() {
        let r = replay_row(0, 2, 50, (5, 9));
        assert_eq!((r.from, r.to, r.count), (5, 9, 4));
        let r = replay_row(0, 8, 6, (5, 9));
        assert_eq!((r.from, r.to, r.count), (8, 8, 0));
        let plan = replay_plan(
            "a".into(),
            "b".into(),
            ReplayRange::Offsets { from: 0, to: 9 },
            vec![replay_row(0, 0, 9, (0, 9)), replay_row(1, 0, 9, (3, 5))],
        );
        assert_eq!(plan.total, 11);
    }

    #[test]
    fn origin_headers_name_topic_partition_and_offset() {
        let h = origin_headers("orders", 2, 41, 1_700_000_000_123);
        let got: Vec<(&str, &str)> =
            h.iter().map(|h| (h.name.as_str(), h.value.as_ref().and_then(Payload::as_text).unwrap_or(""))).collect();
        assert_eq!(
            got,
            [
                (ORIGIN_TOPIC, "orders"),
                (ORIGIN_PARTITION, "2"),
                (ORIGIN_OFFSET, "41"),
                (ORIGIN_TIMESTAMP, "1700000000123")
            ]
        );
    }
}
