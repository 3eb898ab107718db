//! A pull as consumer `depot-pull`: first its own pending entries again (their delivery count goes
//! up), then new ones, waiting for an append if asked; commit acknowledges them (`XACK`).

use super::codec::{Entry, Sid, Snap, parse_groups, to_message, xread_entries};
use super::{PULL_CONSUMER, RedisStreams};
use crate::backend::support;
use crate::backend::{BResult, BackendError};
use crate::core::{PullRequest, PullResult};
use ::redis::Value;

impl RedisStreams {
    /// Pulls up to `req.max` entries of one stream for `group`.
    pub(super) async fn pull_once(&self, group: &str, req: PullRequest) -> BResult<PullResult> {
        let key = req.topic.as_str();
        let max = support::clamp_max(req.max);
        let s = self.snap(key).await?;
        if self.group_row(key, group).await?.is_none() {
            // A new group reads from the start of the stream, like a new depot group.
            self.ensure_group(key, &s, group, s.start()).await?;
        }
        let deadline = tokio::time::Instant::now() + support::clamp_wait(req.wait_ms);
        let mut got: Vec<(u64, Entry)> = Vec::new();
        let mut gone: Vec<Sid> = Vec::new();

        // 1. depot-pull's own pending entries, delivered again (their delivery count goes up).
        let mut c = ::redis::cmd("XREADGROUP");
        c.arg("GROUP").arg(group).arg(PULL_CONSUMER).arg("COUNT").arg(max).arg("STREAMS").arg(key).arg("0");
        let own = xread_entries(&self.qk(key, "pulling pending entries again", &c).await?);
        if !own.is_empty() {
            let s = self.snap(key).await?;
            let (live, trimmed): (Vec<Entry>, Vec<Entry>) =
                own.into_iter().partition(|e| e.fields.is_some() && s.first.is_some_and(|f| e.id >= f));
            // Trimmed or deleted entries can never be processed: they are acknowledged below.
            gone.extend(trimmed.iter().map(|e| e.id));
            let ids: Vec<Sid> = live.iter().map(|e| e.id).collect();
            let offsets = self.walk(key, &s).offsets_of(&ids).await?;
            got.extend(offsets.into_iter().zip(live));
        }

        // 2. New entries, with the group's position read in the same transaction.
        loop {
            if got.len() >= max {
                break;
            }
            let mut p = ::redis::pipe();
            p.atomic().ignore_errors();
            p.cmd("XINFO").arg("STREAM").arg(key);
            p.cmd("XINFO").arg("GROUPS").arg(key);
            p.cmd("XREADGROUP")
                .arg("GROUP")
                .arg(group)
                .arg(PULL_CONSUMER)
                .arg("COUNT")
                .arg(max - got.len())
                .arg("STREAMS")
                .arg(key)
                .arg(">");
            let mut r = self.run("pulling", &p).await?.into_iter();
            let mut next = || r.next().unwrap_or_else(|| Ok(Value::Nil)).map_err(|e| self.key_err(key, "pulling", e));
            let (info, groups, read) = (next()?, next()?, next()?);
            let s = Snap::parse(&info);
            let entries = xread_entries(&read);
            if !entries.is_empty() {
                let row = parse_groups(&groups).into_iter().find(|g| g.name == group).ok_or_else(|| {
                    BackendError::NotFound(format!("group {group} on {key} was deleted while pulling"))
                })?;
                let base = match (row.entries_read, row.lag) {
                    (Some(r), _) => r,
                    (None, Some(lag)) => s.end().saturating_sub(lag),
                    (None, None) => self.walk(key, &s).position(row.ldi, false).await?,
                };
                if let Some(e) = entries.last() {
                    self.anchors.remember(key, base + entries.len() as u64 - 1, e.id);
                }
                got.extend(entries.into_iter().enumerate().map(|(i, e)| (base + i as u64, e)));
                break;
            }
            let now = tokio::time::Instant::now();
            if !got.is_empty() || now >= deadline {
                break;
            }
            // Wait for an append without consuming it, then read as the group again.
            self.wait_for(key, s.last_generated, 1, deadline - now).await?;
        }

        let mut ack: Vec<Sid> = gone;
        if req.commit {
            ack.extend(got.iter().map(|(_, e)| e.id));
        }
        if !ack.is_empty() {
            let mut c = ::redis::cmd("XACK");
            c.arg(key).arg(group);
            for id in &ack {
                c.arg(id.to_string());
            }
            self.qk(key, "acknowledging pulled entries", &c).await?;
        }
        // After a reset backwards, a pending entry can come again through ">": once is enough.
        got.sort_by_key(|(o, e)| (*o, e.id));
        got.dedup_by_key(|(_, e)| e.id);
        let messages: Vec<_> = got.iter().map(|(o, e)| to_message(key, *o, e)).collect();
        let offsets = support::next_offsets(&messages);
        Ok(PullResult { group: group.to_string(), messages, offsets, committed: req.commit })
    }
}
