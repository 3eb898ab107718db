//! Replays copy entries with `XRANGE` + `XADD`, adding `h:depot.origin.*` fields.

use super::codec::{header_field, vsid, xadd};
use super::walk::Bound;
use super::{ONE_PARTITION, RedisStreams};
use crate::backend::support;
use crate::backend::{BResult, BackendError, ReplayApi};
use crate::core::{ReplayPlan, ReplayRange, ReplayRequest, ReplayResult};
use async_trait::async_trait;

#[async_trait]
impl ReplayApi for RedisStreams {
    async fn plan_replay(&self, req: ReplayRequest) -> BResult<ReplayPlan> {
        support::check_partitions(&req.source, &req.partitions, 1, ONE_PARTITION)?;
        let s = self.snap(&req.source).await?;
        let target = req.target.clone().unwrap_or_else(|| req.source.clone());
        if target != req.source {
            self.snap(&target).await?;
        }
        let (start, end) = (s.start(), s.end());
        req.range.check()?;
        let (from, to) = match req.range {
            ReplayRange::Offsets { from, to } => (from, to),
            ReplayRange::Time { since_ms, until_ms } => {
                let w = self.walk(&req.source, &s);
                (w.offset_for_time(since_ms).await?, w.offset_for_time(until_ms).await?)
            }
        };
        let rows = vec![support::replay_row(0, from, to, (start, end))];
        Ok(support::replay_plan(req.source, target, req.range, rows))
    }

    async fn execute_replay(&self, plan: ReplayPlan) -> BResult<ReplayResult> {
        let partitions: Vec<u32> = plan.rows.iter().map(|r| r.partition).collect();
        support::check_partitions(&plan.source, &partitions, 1, ONE_PARTITION)?;
        let src = plan.source.as_str();
        let s = self.snap(src).await?;
        if plan.target != plan.source {
            self.snap(&plan.target).await?;
        }
        let mut appended = 0u64;
        for row in &plan.rows {
            let (from, to) = (row.from.max(s.start()), row.to.min(s.end()));
            if from >= to {
                continue;
            }
            let mut at = from;
            let mut cur = Bound::Incl(self.walk(src, &s).id_at(from).await?);
            while at < to {
                let n = ((to - at) as usize).min(500);
                let page = self.range(src, false, cur, Bound::Max, n).await?;
                let Some(last) = page.last() else { break };
                cur = Bound::Excl(last.id);
                let mut p = ::redis::pipe();
                p.ignore_errors();
                for (i, e) in page.iter().enumerate() {
                    let mut fields = e.fields.clone().unwrap_or_default();
                    fields.extend(
                        support::origin_headers(src, 0, at + i as u64, i64::try_from(e.id.ms).unwrap_or(i64::MAX))
                            .iter()
                            .map(header_field),
                    );
                    p.add_command(xadd(&plan.target, &fields));
                }
                for r in self.run("replaying", &p).await? {
                    match r {
                        Ok(v) if vsid(&v).is_some() => appended += 1,
                        Ok(_) => {
                            return Err(BackendError::NotFound(format!(
                                "topic {} was deleted during the replay, after {appended} records",
                                plan.target
                            )));
                        }
                        Err(e) => return Err(self.key_err(&plan.target, "replaying", e)),
                    }
                }
                at += page.len() as u64;
                if page.len() < n {
                    break;
                }
            }
        }
        Ok(ReplayResult { target: plan.target, appended })
    }
}
