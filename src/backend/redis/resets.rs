//! Resets move a group's last-delivered-id (`XGROUP SETID … ENTRIESREAD`) and acknowledge the
//! pending entries before the target. Each is journaled first in the Redis list
//! `depot:reset-journal:<group>`, which is what undo and history read.

use super::codec::{Snap, vbytes, vseq, vu64};
use super::{JOURNAL_PREFIX, LIVE_MS, ONE_PARTITION, RedisStreams};
use crate::backend::support;
use crate::backend::{BResult, BackendError, ResetsApi};
use crate::core::names::validate_name;
use crate::core::reset;
use crate::core::{ResetPlan, ResetRecord, ResetRequest, ResetRow};
use async_trait::async_trait;

fn journal_key(group: &str) -> String {
    format!("{JOURNAL_PREFIX}{group}")
}

impl RedisStreams {
    /// Current committed offset, live consumers, and the stream, for a reset of one stream.
    pub(super) async fn reset_base(&self, group: &str, topic: &str) -> BResult<(Snap, Option<u64>, Vec<String>)> {
        let s = self.snap(topic).await?;
        let row = self.group_row(topic, group).await?;
        let before = match &row {
            Some(r) => Some(self.group_state(topic, &s, r).await?.committed),
            None => None,
        };
        let live = self.live_consumers(topic, group, row.is_some()).await?;
        Ok((s, before, live))
    }

    pub(super) async fn history(&self, group: &str) -> BResult<Vec<ResetRecord>> {
        let v =
            self.q("reading the reset journal", ::redis::cmd("LRANGE").arg(journal_key(group)).arg(0).arg(-1)).await?;
        let mut out = Vec::new();
        for (i, item) in vseq(&v).iter().enumerate() {
            let Some(b) = vbytes(item) else { continue };
            match serde_json::from_slice::<Option<ResetRecord>>(b) {
                Ok(Some(mut r)) => {
                    r.id = i as u64 + 1;
                    out.push(r);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("skipping entry {} of {}: {e}", i + 1, journal_key(group)),
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl ResetsApi for RedisStreams {
    async fn plan_reset(&self, group: &str, req: ResetRequest) -> BResult<ResetPlan> {
        support::check_partitions(&req.topic, &req.partitions, 1, ONE_PARTITION)?;
        let topic = req.topic.as_str();
        let (s, before, live) = self.reset_base(group, topic).await?;
        if before.is_none() {
            validate_name("group", group)?;
        }
        let now = self.now_ms().await?;
        let at = match req.spec.time_to_resolve(now) {
            Some(ts) => Some(self.walk(topic, &s).offset_for_time(ts).await?),
            None => None,
        };
        let (start, end) = (s.start(), s.end());
        let (after, note) = reset::target(&req.spec, before, start, end, at)?;
        Ok(ResetPlan {
            group: group.to_string(),
            topic: topic.to_string(),
            spec: req.spec,
            rows: vec![ResetRow { partition: 0, before, after, log_start: start, end_offset: end, note }],
            live_members: live,
            undo_of: None,
        })
    }

    async fn execute_reset(&self, plan: ResetPlan, force: bool) -> BResult<ResetRecord> {
        let partitions: Vec<u32> = plan.rows.iter().map(|r| r.partition).collect();
        support::check_partitions(&plan.topic, &partitions, 1, ONE_PARTITION)?;
        let Some(row) = plan.rows.first() else {
            return Err(BackendError::BadRequest("the reset plan has no rows".into()));
        };
        let (group, key) = (plan.group.as_str(), plan.topic.as_str());
        let (s, now_committed, live) = self.reset_base(group, key).await?;
        if !live.is_empty() && !force {
            return Err(BackendError::Refused(format!(
                "group {group} has live consumers on {key} ({}): they read within the last {} s; stop them first or \
                 force the reset",
                live.join(", "),
                LIVE_MS / 1000
            )));
        }
        support::unchanged_since_plan(key, 0, row.before, now_committed)?;
        if now_committed.is_none() {
            validate_name("group", group)?;
        }
        let target = row.after.clamp(s.start(), s.end());
        let id = self.walk(key, &s).id_before(target).await?;
        let acks = match now_committed {
            Some(_) => self.pending_ids(key, group, self.walk(key, &s).bound_before(target).await?).await?,
            None => Vec::new(),
        };
        let mut record = ResetRecord {
            id: 0,
            at_ms: self.now_ms().await?,
            group: group.to_string(),
            topic: key.to_string(),
            spec: plan.spec.clone(),
            rows: vec![(0, row.before, target)],
            forced: force && !live.is_empty(),
            undo_of: plan.undo_of,
        };
        // Journal first (fail closed): a reset that cannot be journaled is not applied.
        let json = serde_json::to_string(&record)
            .map_err(|e| BackendError::Internal(format!("encoding the reset for the journal: {e}")))?;
        let jkey = journal_key(group);
        let len = self.q("journaling the reset", ::redis::cmd("RPUSH").arg(&jkey).arg(&json)).await?;
        record.id = vu64(&len).unwrap_or(0);
        let mut p = ::redis::pipe();
        p.atomic().ignore_errors();
        if now_committed.is_some() {
            p.cmd("XGROUP").arg("SETID").arg(key).arg(group).arg(id.to_string()).arg("ENTRIESREAD").arg(target);
        } else {
            p.cmd("XGROUP").arg("CREATE").arg(key).arg(group).arg(id.to_string()).arg("ENTRIESREAD").arg(target);
        }
        if !acks.is_empty() {
            let x = p.cmd("XACK").arg(key).arg(group);
            for a in &acks {
                x.arg(a.to_string());
            }
        }
        let applied = match self.run("applying the reset", &p).await {
            Ok(rs) => {
                rs.into_iter().try_for_each(|r| r.map(|_| ()).map_err(|e| self.key_err(key, "applying the reset", e)))
            }
            Err(e) => Err(e),
        };
        if let Err(e) = applied {
            // Not applied: strike it from the journal (best effort; the index keeps later ids stable).
            let mut c = ::redis::cmd("LSET");
            c.arg(&jkey).arg(record.id.saturating_sub(1)).arg("null");
            if let Err(e2) = self.q("striking the failed reset from the journal", &c).await {
                tracing::warn!("reset #{} of {group} failed and stays in {jkey}: {e2}", record.id);
            }
            return Err(e);
        }
        tracing::info!("reset #{} of group {group} on {key} ({}) executed", record.id, record.spec);
        Ok(record)
    }

    async fn plan_undo(&self, group: &str) -> BResult<ResetPlan> {
        let history = self.history(group).await?;
        let undone: Vec<u64> = history.iter().filter_map(|h| h.undo_of).collect();
        let last = history.iter().rev().find(|h| h.undo_of.is_none() && !undone.contains(&h.id)).cloned().ok_or_else(
            || {
                BackendError::NotFound(format!(
                    "a reset of group {group:?} to undo not found; nothing in its reset journal ({})",
                    journal_key(group)
                ))
            },
        )?;
        let (s, before, live) = self.reset_base(group, &last.topic).await?;
        let (start, end) = (s.start(), s.end());
        let rows =
            last.rows.iter().map(|&(p, was, _)| support::undo_row(p, was, before, (start, end), last.id)).collect();
        Ok(ResetPlan {
            group: group.to_string(),
            topic: last.topic.clone(),
            spec: last.spec.clone(),
            rows,
            live_members: live,
            undo_of: Some(last.id),
        })
    }

    async fn reset_history(&self, group: &str) -> BResult<Vec<ResetRecord>> {
        self.history(group).await
    }
}
