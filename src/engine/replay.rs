//! Replays: copying a range of a topic (by offsets or by time) to another topic or to its own
//! end, each copy stamped with `depot.origin.*` headers (the plan and result types are core's).

use super::engine::Engine;
use super::error::Result;
use super::record::NewRecord;
use crate::core::replay::origin;
use crate::core::{ReplayPlan, ReplayRange, ReplayResult, ReplayRow};
use bytes::Bytes;
use std::collections::BTreeMap;

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
        self.check_open()?;
        let src = self.topic(&plan.source)?;
        let dst = self.topic(&plan.target)?;
        let same = plan.source == plan.target;
        let mut appended = 0u64;
        for row in &plan.rows {
            let log = src.partition(row.partition)?.clone();
            let mut at = row.from;
            while at < row.to {
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
                            .map(|(name, v)| (name.to_string(), Bytes::from(v))),
                    );
                    by_part.entry(p).or_default().push(NewRecord {
                        key: r.key.clone(),
                        value: r.value.clone(),
                        headers,
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
