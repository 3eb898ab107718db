//! Replays republish a sequence range of a stream (by offsets or by time) with `depot.origin.*`
//! headers; JetStream's own `Nats-*` headers are left off the copies.

use super::Nats;
use super::codec::{ONE_PARTITION, offsets, record_headers};
use super::topics::publish_subject;
use crate::backend::support;
use crate::backend::{BResult, ReplayApi};
use crate::core::{Header, OutRecord, ReplayPlan, ReplayRange, ReplayRequest, ReplayResult};
use async_nats::jetstream;
use async_trait::async_trait;

#[async_trait]
impl ReplayApi for Nats {
    async fn plan_replay(&self, req: ReplayRequest) -> BResult<ReplayPlan> {
        support::check_partitions(&req.source, &req.partitions, 1, ONE_PARTITION)?;
        let s = self.stream_info(&req.source).await?;
        let target = req.target.clone().unwrap_or_else(|| req.source.clone());
        if target != req.source {
            self.stream_info(&target).await?;
        }
        let (start, end) = offsets(&s.state);
        req.range.check()?;
        let (from, to) = match req.range {
            ReplayRange::Offsets { from, to } => (from, to),
            ReplayRange::Time { since_ms, until_ms } => (
                self.seq_for_time(&req.source, since_ms, start, end).await?,
                self.seq_for_time(&req.source, until_ms, start, end).await?,
            ),
        };
        let rows = vec![support::replay_row(0, from, to, (start, end))];
        Ok(support::replay_plan(req.source, target, req.range, rows))
    }

    async fn execute_replay(&self, plan: ReplayPlan) -> BResult<ReplayResult> {
        self.stream_info(&plan.source).await?;
        let target = self.stream_info(&plan.target).await?;
        let subject = publish_subject(&target)?;
        let mut appended = 0u64;
        for row in &plan.rows {
            support::check_partition(&plan.source, row.partition, 1, ONE_PARTITION)?;
            let mut at = row.from;
            while at < row.to {
                let batch = self.read_range(&plan.source, at, row.to, 500).await?;
                let Some(last) = batch.last().map(|m| m.offset) else { break };
                let mut msgs = Vec::with_capacity(batch.len());
                for m in &batch {
                    // NATS-* headers steer JetStream (Nats-Msg-Id would drop the copy as a duplicate).
                    let mut headers: Vec<Header> = m
                        .headers
                        .iter()
                        .filter(|h| !h.name.to_ascii_lowercase().starts_with("nats-"))
                        .cloned()
                        .collect();
                    headers.extend(support::origin_headers(&plan.source, 0, m.offset, m.timestamp));
                    let rec = OutRecord { key: m.key.clone(), value: m.value.clone(), headers, partition: None };
                    // NATS messages always have a value (an empty one at the least).
                    let value = m.value.as_ref().map(|v| v.0.clone()).unwrap_or_default();
                    let mut out = jetstream::message::PublishMessage::build().payload(value);
                    if let Some(h) = record_headers(&rec, &[])? {
                        out = out.headers(h);
                    }
                    msgs.push(out);
                }
                appended += self.send_all(&plan.target, &subject, msgs).await?.len() as u64;
                at = last + 1;
            }
        }
        Ok(ReplayResult { target: plan.target.clone(), appended })
    }
}
