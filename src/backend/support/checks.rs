//! Checks of what a request names against what the engine has: partition numbers, offsets in the
//! log, records to publish, and commits. Each error says what is valid, in the same words on every
//! engine; `why` (may be empty) adds why an engine's topics look the way they do, e.g. "a JetStream
//! stream is one partition".

use crate::backend::{BResult, BackendError};
use crate::core::PublishRequest;

/// ` (why)`, or nothing.
fn aside(why: &str) -> String {
    if why.is_empty() { String::new() } else { format!(" ({why})") }
}

/// `partition` exists in a topic of `n` partitions (else NotFound, naming the valid ones).
pub fn check_partition(topic: &str, partition: u32, n: u32, why: &str) -> BResult<()> {
    if partition >= n {
        return Err(BackendError::NotFound(format!(
            "partition {partition} of topic {topic} not found; it has partitions 0..{n}{}",
            aside(why)
        )));
    }
    Ok(())
}

/// Every partition in `partitions` exists (see [`check_partition`]).
pub fn check_partitions(topic: &str, partitions: &[u32], n: u32, why: &str) -> BResult<()> {
    partitions.iter().try_for_each(|&p| check_partition(topic, p, n, why))
}

/// The error for an offset outside `start..=end` of `topic/partition`; `unit` (may be empty) says
/// what offsets are on this engine, e.g. "offsets are stream sequences".
pub fn out_of_range(topic: &str, partition: u32, requested: u64, start: u64, end: u64, unit: &str) -> BackendError {
    let unit = if unit.is_empty() { String::new() } else { format!("; {unit}") };
    BackendError::BadRequest(format!(
        "offset {requested} is out of range for {topic}/{partition}: valid offsets are {start}..{end} (log start .. end{unit})"
    ))
}

/// `offset` is in `start..=end` (the end itself is where the next record goes).
pub fn check_offset(topic: &str, partition: u32, offset: u64, (start, end): (u64, u64), unit: &str) -> BResult<()> {
    if offset < start || offset > end {
        return Err(out_of_range(topic, partition, offset, start, end, unit));
    }
    Ok(())
}

/// A publish request has records, and every partition it names exists in a topic of `n`.
pub fn check_records(topic: &str, req: &PublishRequest, n: u32, why: &str) -> BResult<()> {
    if req.records.is_empty() {
        return Err(BackendError::BadRequest("nothing to publish: the request has no records".into()));
    }
    if let Some(p) = req.records.iter().filter_map(|r| r.partition).find(|&p| p >= n) {
        return Err(BackendError::BadRequest(format!(
            "partition {p} does not exist: topic {topic} has partitions 0..{n}{}",
            aside(why)
        )));
    }
    Ok(())
}

/// Refuses a tombstone (a null value) for an engine that cannot store one (`engine` names it).
pub fn no_tombstones(req: &PublishRequest, engine: &str) -> BResult<()> {
    if req.records.iter().any(|r| r.value.is_none()) {
        return Err(BackendError::Unsupported(format!(
            "{engine} has no null values: a tombstone (\"value\": null) cannot be published to it"
        )));
    }
    if let Some(h) = req.records.iter().flat_map(|r| &r.headers).find(|h| h.value.is_none()) {
        return Err(BackendError::Unsupported(format!(
            "{engine} has no null header values: header {:?} cannot be published to it with a null value",
            h.name
        )));
    }
    Ok(())
}

/// The one partition of an idempotent batch (one with a producer tag): every record must name it.
pub fn idempotent_partition(req: &PublishRequest) -> BResult<u32> {
    let first = req.records.first().and_then(|r| r.partition);
    match first.filter(|_| req.records.iter().all(|r| r.partition == first)) {
        Some(p) => Ok(p),
        None => Err(BackendError::BadRequest(
            "an idempotent batch (with a producer id) must name one partition for all its records".into(),
        )),
    }
}

/// A commit may not point past the end of the log.
pub fn check_commit_range(topic: &str, partition: u32, offset: u64, (start, end): (u64, u64)) -> BResult<()> {
    if offset > end {
        return Err(out_of_range(topic, partition, offset, start, end, ""));
    }
    Ok(())
}

/// A commit only moves a group forward; moving back is a reset's job.
pub fn check_forward(topic: &str, partition: u32, offset: u64, committed: Option<u64>) -> BResult<()> {
    match committed {
        Some(c) if offset < c => Err(BackendError::Refused(format!(
            "commit of {topic}/{partition} would move the group back from {c} to {offset}; commits only move \
             forward — use a reset to rewind"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::OutRecord;

    fn req(partitions: &[Option<u32>]) -> PublishRequest {
        let records = partitions.iter().map(|&partition| OutRecord { partition, ..OutRecord::text("v") }).collect();
        PublishRequest { records, producer: None }
    }

    #[test]
    fn partitions_are_checked_and_the_error_names_the_valid_ones() {
        assert!(check_partitions("t", &[0, 2], 3, "").is_ok());
        let e = check_partition("t", 3, 3, "").unwrap_err();
        assert_eq!(e, BackendError::NotFound("partition 3 of topic t not found; it has partitions 0..3".into()));
        let e = check_partitions("s", &[0, 1], 1, "a Redis stream has one").unwrap_err();
        assert!(e.to_string().ends_with("0..1 (a Redis stream has one)"), "{e}");
    }

    #[test]
    fn offsets_outside_the_log_say_the_valid_range() {
        assert!(check_offset("t", 0, 5, (5, 9), "").is_ok() && check_offset("t", 0, 9, (5, 9), "").is_ok());
        let e = check_offset("t", 1, 4, (5, 9), "").unwrap_err();
        assert_eq!(
            e.to_string(),
            "offset 4 is out of range for t/1: valid offsets are 5..9 (log start .. end)",
            "the engine's own wording"
        );
        let e = check_offset("s", 0, 10, (1, 9), "offsets are stream sequences").unwrap_err();
        assert!(
            matches!(&e, BackendError::BadRequest(m) if m.ends_with("(log start .. end; offsets are stream sequences)"))
        );
    }

    #[test]
    fn records_need_a_body_and_existing_partitions() {
        assert!(check_records("t", &req(&[None, Some(1)]), 2, "").is_ok());
        assert!(check_records("t", &req(&[]), 2, "").unwrap_err().to_string().contains("nothing to publish"));
        let e = check_records("t", &req(&[None, Some(2)]), 2, "").unwrap_err();
        assert_eq!(e, BackendError::BadRequest("partition 2 does not exist: topic t has partitions 0..2".into()));
        assert_eq!(idempotent_partition(&req(&[Some(1), Some(1)])), Ok(1));
        for mixed in [req(&[Some(1), Some(0)]), req(&[None]), req(&[Some(0), None]), req(&[])] {
            assert!(matches!(idempotent_partition(&mixed), Err(BackendError::BadRequest(_))), "{mixed:?}");
        }
    }

    #[test]
    fn commits_stay_in_the_log_and_move_forward() {
        assert!(check_commit_range("t", 0, 9, (5, 9)).is_ok());
        assert!(
            check_commit_range("t", 0, 0, (5, 9)).is_ok(),
            "below the log start is allowed (it reads from the start)"
        );
        assert!(matches!(check_commit_range("t", 0, 10, (5, 9)), Err(BackendError::BadRequest(_))));
        assert!(check_forward("t", 0, 3, None).is_ok() && check_forward("t", 0, 3, Some(3)).is_ok());
        let e = check_forward("t", 0, 2, Some(3)).unwrap_err();
        assert!(
            matches!(&e, BackendError::Refused(m) if m.contains("back from 3 to 2") && m.contains("only move forward"))
        );
    }
}
