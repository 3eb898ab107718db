//! Resets delete and re-create the group's durable consumer with its settings and a start
//! sequence. JetStream keeps no history of them, so there is no undo.

use super::Nats;
use super::codec::{ONE_PARTITION, check_name, check_new_name, offsets};
use super::groups::{durable_only, live_description};
use crate::backend::support;
use crate::backend::{BResult, BackendError, ResetsApi};
use crate::core::reset;
use crate::core::time::now_ms;
use crate::core::{ResetPlan, ResetRecord, ResetRequest, ResetRow};
use async_trait::async_trait;
use serde_json::json;

#[async_trait]
impl ResetsApi for Nats {
    async fn plan_reset(&self, group: &str, req: ResetRequest) -> BResult<ResetPlan> {
        check_name("group", group)?;
        support::check_partitions(&req.topic, &req.partitions, 1, ONE_PARTITION)?;
        let s = self.stream_info(&req.topic).await?;
        let (start, end) = offsets(&s.state);
        let c = self.consumer_info(&req.topic, group).await?.map(|(_, c)| c);
        if let Some(c) = &c {
            durable_only(c)?;
        }
        let before = c.as_ref().map(|c| c.ack_floor.stream_sequence + 1);
        let at = match req.spec.time_to_resolve(now_ms()) {
            Some(ts) => Some(self.seq_for_time(&req.topic, ts, start, end).await?),
            None => None,
        };
        let (after, note) = reset::target(&req.spec, before, start, end, at)?;
        Ok(ResetPlan {
            group: group.to_string(),
            topic: req.topic.clone(),
            spec: req.spec,
            rows: vec![ResetRow { partition: 0, before, after, log_start: start, end_offset: end, note }],
            live_members: c.as_ref().map(live_description).unwrap_or_default(),
            undo_of: None,
        })
    }

    async fn execute_reset(&self, plan: ResetPlan, force: bool) -> BResult<ResetRecord> {
        if plan.undo_of.is_some() {
            return Err(BackendError::Unsupported(
                "resets on JetStream cannot be undone from a journal: plan a reset to-offset with the earlier offset"
                    .into(),
            ));
        }
        check_name("group", &plan.group)?;
        let (topic, group) = (plan.topic.as_str(), plan.group.as_str());
        let [row] = plan.rows.as_slice() else {
            return Err(BackendError::BadRequest(format!(
                "a reset plan for {topic} needs exactly one row (partition 0), not {}",
                plan.rows.len()
            )));
        };
        support::check_partition(topic, row.partition, 1, ONE_PARTITION)?;
        self.stream_info(topic).await?;
        let current = self.consumer_info(topic, group).await?;
        if let Some((_, c)) = &current {
            durable_only(c)?;
        }
        let now_before = current.as_ref().map(|(_, c)| c.ack_floor.stream_sequence + 1);
        support::unchanged_since_plan(topic, 0, row.before, now_before)?;
        let live = current.as_ref().map(|(_, c)| live_description(c)).unwrap_or_default();
        if !live.is_empty() && !force {
            return Err(BackendError::Refused(format!(
                "group {group} is in use on {topic} ({}); stop its consumers first or force the reset (their pulls will fail)",
                live.join(", ")
            )));
        }
        let mut config = match &current {
            Some((raw, _)) => raw.get("config").cloned().unwrap_or_else(|| json!({})),
            None => {
                check_new_name("group", group)?;
                json!({ "durable_name": group, "ack_policy": "explicit" })
            }
        };
        if let Some(obj) = config.as_object_mut() {
            obj.remove("opt_start_time");
            obj.insert("deliver_policy".into(), json!("by_start_sequence"));
            obj.insert("opt_start_seq".into(), json!(row.after.max(1)));
            obj.insert("durable_name".into(), json!(group));
        }
        if current.is_some() {
            self.delete_consumer(topic, group).await?;
        }
        if let Err(e) = self.create_durable(topic, group, config.clone()).await {
            return Err(BackendError::Internal(format!(
                "consumer {group} of {topic} was deleted to reset it, but re-creating it failed: {e}. Create it again with this configuration: {config}"
            )));
        }
        Ok(ResetRecord {
            id: 0,
            at_ms: now_ms(),
            group: group.to_string(),
            topic: topic.to_string(),
            spec: plan.spec.clone(),
            rows: vec![(0, row.before, row.after)],
            forced: force && !live.is_empty(),
            undo_of: None,
        })
    }

    async fn plan_undo(&self, group: &str) -> BResult<ResetPlan> {
        Err(BackendError::Unsupported(format!(
            "JetStream keeps no history of consumer resets and depot writes no journal to your NATS server, so there is nothing to undo from; to go back, reset group {group} to-offset the 'before' offset the reset showed"
        )))
    }

    async fn reset_history(&self, group: &str) -> BResult<Vec<ResetRecord>> {
        Err(BackendError::Unsupported(format!(
            "JetStream keeps no history of consumer resets (group {group}); depot shows before/after when it plans and executes one"
        )))
    }
}
