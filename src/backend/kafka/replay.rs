//! Replays: a range of a topic (by offsets or by time) consumed with an assign-only reader and
//! produced again, each copy carrying `depot.origin.*` headers.

use super::Kafka;
use super::conn::READ_TIMEOUT;
use super::messages::{Span, read_spans};
use super::topics::{no_topic, offsets_for_time, topic_partitions, topics_meta, watermarks};
use crate::backend::support;
use crate::backend::{BResult, BackendError, ReplayApi};
use crate::core::{OutRecord, ReplayPlan, ReplayRange, ReplayRequest, ReplayResult};
use async_trait::async_trait;
use std::collections::HashMap;

/// Records read per replay round (each round is one consumer and one batch of produces).
const REPLAY_CHUNK: usize = 10_000;

#[async_trait]
impl ReplayApi for Kafka {
    async fn plan_replay(&self, req: ReplayRequest) -> BResult<ReplayPlan> {
        self.meta_call(move |meta, _, brokers| {
            let topics = topics_meta(meta, brokers)?;
            let n = topics.get(&req.source).copied().ok_or_else(|| no_topic(&req.source, brokers))?;
            let target = req.target.clone().unwrap_or_else(|| req.source.clone());
            if !topics.contains_key(&target) {
                return Err(no_topic(&target, brokers));
            }
            let parts: Vec<u32> = if req.partitions.is_empty() {
                (0..n).collect()
            } else {
                support::check_partitions(&req.source, &req.partitions, n, "")?;
                req.partitions.clone()
            };
            req.range.check()?;
            let keys: Vec<(String, u32)> = parts.iter().map(|p| (req.source.clone(), *p)).collect();
            let marks = watermarks(meta, &keys)?;
            let (since, until) = match req.range {
                ReplayRange::Time { since_ms, until_ms } => (
                    offsets_for_time(meta, &req.source, &parts, since_ms)?,
                    offsets_for_time(meta, &req.source, &parts, until_ms)?,
                ),
                ReplayRange::Offsets { .. } => (HashMap::new(), HashMap::new()),
            };
            let mut rows = Vec::new();
            for p in &parts {
                let (lo, hi) = marks.get(&(req.source.clone(), *p)).copied().unwrap_or((0, 0));
                let (from, to) = match req.range {
                    ReplayRange::Offsets { from, to } => (from, to),
                    ReplayRange::Time { .. } => {
                        (since.get(p).copied().flatten().unwrap_or(hi), until.get(p).copied().flatten().unwrap_or(hi))
                    }
                };
                rows.push(support::replay_row(*p, from, to, (lo, hi)));
            }
            Ok(support::replay_plan(req.source, target, req.range, rows))
        })
        .await
    }

    async fn execute_replay(&self, plan: ReplayPlan) -> BResult<ReplayResult> {
        let target = plan.target.clone();
        let t = target.clone();
        let target_parts = self.meta_call(move |meta, _, brokers| topic_partitions(meta, brokers, &t)).await?;
        let same = plan.source == plan.target;
        let mut appended = 0u64;
        for row in &plan.rows {
            let mut at = row.from;
            while at < row.to {
                let span = Span { partition: row.partition, start: at, end: row.to, max: REPLAY_CHUNK };
                let src = plan.source.clone();
                let (msgs, complete) = self
                    .meta_call(move |_, base, brokers| {
                        let mut v = Vec::new();
                        let complete = read_spans(base, brokers, &src, &[span], READ_TIMEOUT, &mut |m| {
                            v.push(m);
                            Ok(())
                        })?;
                        Ok((v, complete))
                    })
                    .await?;
                let Some(last) = msgs.last().map(|m| m.offset) else {
                    if complete {
                        break; // nothing left in the range (compacted away or transaction markers)
                    }
                    return Err(BackendError::Unavailable(format!(
                        "replay of {}/{} stopped at offset {at}: nothing could be read within {} s ({appended} \
                         record(s) were copied so far)",
                        plan.source,
                        row.partition,
                        READ_TIMEOUT.as_secs()
                    )));
                };
                let records: Vec<(Option<u32>, OutRecord)> = msgs
                    .into_iter()
                    .map(|m| {
                        let partition = if same {
                            Some(row.partition)
                        } else if m.key.is_some() {
                            None // Kafka's partitioner (murmur2) places the key
                        } else {
                            Some(row.partition % target_parts.max(1))
                        };
                        let mut headers = m.headers;
                        headers.extend(support::origin_headers(&plan.source, row.partition, m.offset, m.timestamp));
                        (partition, OutRecord { key: m.key, value: m.value, headers, partition })
                    })
                    .collect();
                appended += self.send_all(&target, records).await?.len() as u64;
                at = last + 1;
            }
        }
        Ok(ReplayResult { target, appended })
    }
}
