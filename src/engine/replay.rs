//! Replays: copying a range of a topic (by offsets or by time) to another topic or to its own
//! end, each copy stamped with `depot.origin.*` headers (the plan and result types are core's).

use super::engine::Engine;
use super::error::{EngineError, Result};
use super::record::NewRecord;
use super::topic::Topic;
use crate::core::replay::origin;
use crate::core::{ReplayPlan, ReplayRange, ReplayResult, ReplayRow};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

impl Engine {
    /// Plans copying a range of `source` (all or some partitions) to `target` (default: itself).
    pub fn plan_replay(
        &self,
        source: &str,
        partitions: Option<&[u32]>,
        range: ReplayRange,
        target: Option<&str>,
    ) -> Result<ReplayPlan> {
        let t = self.topic(source)?;
        let target = target.unwrap_or(source).to_string();
        self.topic(&target)?;
        let parts: Vec<u32> = match partitions {
            Some(ps) if !ps.is_empty() => ps.to_vec(),
            _ => (0..t.partitions.len() as u32).collect(),
        };
        range.check()?;
        let mut rows = Vec::new();
        for p in parts {
            let log = t.partition(p)?;
            let (start, end) = (log.log_start(), log.end_offset());
            let (from, to) = match range {
                ReplayRange::Offsets { from, to } => (from.clamp(start, end), to.clamp(start, end)),
                ReplayRange::Time { since_ms, until_ms } => {
                    (log.offset_for_time(since_ms)?, log.offset_for_time(until_ms)?)
                }
            };
            let to = to.max(from);
            rows.push(ReplayRow { partition: p, from, to, count: to - from });
        }
        let total = rows.iter().map(|r| r.count).sum();
        Ok(ReplayPlan { source: source.to_string(), target, range, rows, total })
    }

    /// Runs a replay plan: appends copies with `depot.origin.*` headers; returns how many.
    pub fn execute_replay(&self, plan: &ReplayPlan) -> Result<ReplayResult> {
        self.execute_replay_until(plan, &AtomicBool::new(false))
    }

    /// Runs a replay plan until it is done or `stop` is set (checked between batches, as is the
    /// engine closing).
    ///
    /// A plan comes back from outside, so its rows are checked against the logs as they are now
    /// (see [`check_rows`]) and then executed exactly: each row copies `count` records, the
    /// offsets `from..to`, and `to` is at most the end before the first copy was appended, so a
    /// replay into its own topic never reads its own copies.
    pub fn execute_replay_until(&self, plan: &ReplayPlan, stop: &AtomicBool) -> Result<ReplayResult> {
        self.check_open()?;
        let src = self.topic(&plan.source)?;
        let dst = self.topic(&plan.target)?;
        check_rows(plan, &src)?;
        let same = plan.source == plan.target;
        let mut appended = 0u64;
        for row in &plan.rows {
            let log = src.partition(row.partition)?.clone();
            let mut at = row.from;
            while at < row.to {
                if stop.load(Ordering::Acquire) {
                    return Err(stopped(plan, appended, "its client went away or the server is stopping"));
                }
                if self.check_open().is_err() {
                    return Err(stopped(plan, appended, "the engine is closing"));
                }
                let recs = log.read(at, ((row.to - at) as usize).min(1000), 4 << 20)?;
                if recs.is_empty() {
                    break;
                }
                let mut by_part: BTreeMap<u32, Vec<NewRecord>> = BTreeMap::new();
                for r in recs.iter().filter(|r| r.offset < row.to) {
                    let p = if same {
                        row.partition
                    } else {
                        match &r.key {
                            Some(k) => dst.choose_partition(Some(k)),
                            None => row.partition % dst.partitions.len() as u32,
                        }
                    };
                    let mut headers = r.headers.clone();
                    headers.extend(
                        origin(&plan.source, row.partition, r.offset, r.timestamp)
                            .map(|(name, v)| (name.to_string(), Some(Bytes::from(v)))),
                    );
                    by_part.entry(p).or_default().push(NewRecord {
                        key: r.key.clone(),
                        value: r.value.clone(),
                        headers,
                        // The copy is stamped when it is appended, as before.
                        timestamp: None,
                    });
                }
                for (p, batch) in by_part {
                    appended += batch.len() as u64;
                    dst.partition(p)?.append(&batch, None)?;
                }
                at = recs[recs.len() - 1].offset + 1;
            }
        }
        self.inner.any_append.notify(usize::MAX);
        Ok(ReplayResult { target: plan.target.clone(), appended })
    }
}

/// The error of a replay stopped midway: what it had copied, and why it stopped.
fn stopped(plan: &ReplayPlan, appended: u64, why: &str) -> EngineError {
    EngineError::Refused(format!(
        "the replay of {} to {} stopped after {appended} of {} records: {why}",
        plan.source, plan.target, plan.total
    ))
}

/// Checks a replay plan against the source as it is now: a known range; every row names a
/// partition of the source, once, counts `to - from` records, starts inside the range and the
/// log, and ends inside both; the total is the sum of the rows.
fn check_rows(plan: &ReplayPlan, src: &Topic) -> Result<()> {
    plan.range.check()?;
    let bad = |row: usize, why: String| {
        EngineError::InvalidArgument(format!("row {row} of the replay plan: {why}; plan the replay again"))
    };
    let mut total = 0u64;
    for (i, r) in plan.rows.iter().enumerate() {
        let row = i + 1;
        let Ok(log) = src.partition(r.partition) else {
            let n = src.partitions.len();
            return Err(bad(row, format!("topic {} has no partition {} (it has {n})", plan.source, r.partition)));
        };
        if plan.rows[..i].iter().any(|o| o.partition == r.partition) {
            return Err(bad(row, format!("partition {} appears more than once", r.partition)));
        }
        if r.from > r.to || r.count != r.to - r.from {
            return Err(bad(
                row,
                format!("{}..{} holds {} records, not {}", r.from, r.to, r.to.saturating_sub(r.from), r.count),
            ));
        }
        let (start, end) = (log.log_start(), log.end_offset());
        if r.from < start || r.to > end {
            return Err(bad(
                row,
                format!("{}..{} is outside {}/{} now (valid: {start}..{end})", r.from, r.to, plan.source, r.partition),
            ));
        }
        if let ReplayRange::Offsets { from, to } = plan.range
            && (r.from < from || r.to > to)
        {
            return Err(bad(row, format!("{}..{} is outside the plan's range {from}..{to}", r.from, r.to)));
        }
        total = total.saturating_add(r.count);
    }
    if total != plan.total {
        return Err(EngineError::InvalidArgument(format!(
            "the replay plan's rows add up to {total} records, not {}; plan the replay again",
            plan.total
        )));
    }
    Ok(())
}
