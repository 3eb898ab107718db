//! Offset resets, computed as kafka-consumer-groups computes them (offsets-for-times for
//! to-datetime and by-duration; the log end when no record is that new) and applied by committing
//! as the group while it has no members. Not journaled: no undo and no history on Kafka.

use super::Kafka;
use super::groups::{commit_as_group, committed_of, live_members, live_refusal};
use super::topics::{offsets_for_time, topic_partitions, watermarks};
use crate::backend::support;
use crate::backend::{BResult, BackendError, ResetsApi};
use crate::core::names::validate_name;
use crate::core::reset;
use crate::core::time::now_ms;
use crate::core::{ResetPlan, ResetRecord, ResetRequest, ResetRow};
use async_trait::async_trait;

#[async_trait]
impl ResetsApi for Kafka {
    async fn plan_reset(&self, group: &str, req: ResetRequest) -> BResult<ResetPlan> {
        validate_name("group", group)?;
        let g = group.to_string();
        self.meta_call(move |meta, base, brokers| {
            let n = topic_partitions(meta, brokers, &req.topic)?;
            let parts: Vec<u32> = if req.partitions.is_empty() {
                (0..n).collect()
            } else {
                support::check_partitions(&req.topic, &req.partitions, n, "")?;
                req.partitions.clone()
            };
            let keys: Vec<(String, u32)> = parts.iter().map(|p| (req.topic.clone(), *p)).collect();
            let committed = committed_of(base, brokers, &g, &keys)?;
            let marks = watermarks(meta, &keys)?;
            let now = now_ms();
            // kafka-consumer-groups: offsets-for-times, and the log end where no record is that new.
            let at_time = match req.spec.time_to_resolve(now) {
                Some(ts) => Some(offsets_for_time(meta, &req.topic, &parts, ts)?),
                None => None,
            };
            let mut rows = Vec::new();
            for p in &parts {
                let k = (req.topic.clone(), *p);
                let (lo, hi) = marks.get(&k).copied().unwrap_or((0, 0));
                let before = committed.get(&k).copied();
                let resolved = at_time.as_ref().map(|m| m.get(p).copied().flatten().unwrap_or(hi));
                let (after, note) = reset::target(&req.spec, before, lo, hi, resolved)?;
                rows.push(ResetRow { partition: *p, before, after, log_start: lo, end_offset: hi, note });
            }
            let live_members = live_members(meta, brokers, &g)?;
            Ok(ResetPlan { group: g, topic: req.topic, spec: req.spec, rows, live_members, undo_of: None })
        })
        .await
    }

    async fn execute_reset(&self, plan: ResetPlan, force: bool) -> BResult<ResetRecord> {
        if plan.undo_of.is_some() {
            return Err(BackendError::Unsupported(
                "undo is not supported on Kafka: depot keeps no journal of Kafka resets".into(),
            ));
        }
        self.meta_call(move |meta, base, brokers| {
            let live = live_members(meta, brokers, &plan.group)?;
            if !live.is_empty() {
                return Err(if force {
                    BackendError::Refused(format!(
                        "cannot force a reset of group {} on Kafka: the broker accepts offset commits only from the \
                         group's own members while it has any (it answers UNKNOWN_MEMBER_ID), so forcing cannot work \
                         here; stop its consumers ({}) and execute the plan again",
                        plan.group,
                        live.join(", ")
                    ))
                } else {
                    live_refusal(&plan.group, &live, "offset commits (so a reset cannot be forced here either)")
                });
            }
            let keys: Vec<(String, u32)> = plan.rows.iter().map(|r| (plan.topic.clone(), r.partition)).collect();
            let now = committed_of(base, brokers, &plan.group, &keys)?;
            for r in &plan.rows {
                let cur = now.get(&(plan.topic.clone(), r.partition)).copied();
                support::unchanged_since_plan(&plan.topic, r.partition, r.before, cur)?;
            }
            let offsets: Vec<(String, u32, u64)> =
                plan.rows.iter().map(|r| (plan.topic.clone(), r.partition, r.after)).collect();
            commit_as_group(base, brokers, &plan.group, &offsets)?;
            let at_ms = now_ms();
            tracing::info!("reset of Kafka group {} on {} ({}) executed", plan.group, plan.topic, plan.spec);
            Ok(ResetRecord {
                // Not journaled: the id is the time of execution.
                id: at_ms.max(0) as u64,
                at_ms,
                group: plan.group,
                topic: plan.topic,
                spec: plan.spec,
                rows: plan.rows.iter().map(|r| (r.partition, r.before, r.after)).collect(),
                forced: false,
                undo_of: None,
            })
        })
        .await
    }

    async fn plan_undo(&self, _group: &str) -> BResult<ResetPlan> {
        Err(BackendError::Unsupported(
            "undo is not supported on Kafka: depot keeps no journal of the resets it makes there; to go back, plan a \
             reset to-offset with the 'before' offsets shown when the reset was planned"
                .into(),
        ))
    }

    async fn reset_history(&self, _group: &str) -> BResult<Vec<ResetRecord>> {
        Err(BackendError::Unsupported(
            "reset history is not available on Kafka: depot keeps no journal of the resets it makes there".into(),
        ))
    }
}
