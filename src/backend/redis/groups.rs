//! Consumer groups, joined by name across streams: a group's delivered and committed positions
//! (pending entries are delivered but not committed), lag and lag in time, members (consumers)
//! with what they hold in flight, redeliveries, commits from outside the group, and deletes.

use super::codec::{Consumer, GroupRow, Sid, Snap, parse_consumers, parse_groups, vseq, vsid, vu64};
use super::walk::{Bound, PAGE};
use super::{LIVE_MS, ONE_PARTITION, PULL_CONSUMER, RedisStreams};
use crate::backend::support;
use crate::backend::{BResult, BackendError, GroupsApi};
use crate::core::names::validate_name;
use crate::core::{CommitOffset, GroupInfo, MemberInfo, PartitionLag, PullRequest, PullResult};
use async_trait::async_trait;
use std::collections::BTreeMap;

/// At most this many pending entries are scanned for redelivery counts.
const MAX_PENDING_SCAN: usize = 100_000;

/// What depot needs to know about one group on one stream.
#[derive(Clone, Debug)]
pub(super) struct GroupState {
    /// Offset of the next entry the group has not had delivered.
    pub(super) delivered: u64,
    /// `delivered`, or the offset of the oldest pending entry when that is earlier.
    pub(super) committed: u64,
    /// The oldest pending entry, when there is one.
    pub(super) first_pending: Option<Sid>,
}

impl RedisStreams {
    pub(super) async fn groups_of(&self, key: &str) -> BResult<Vec<GroupRow>> {
        let v = self.qk(key, "reading the stream's groups", ::redis::cmd("XINFO").arg("GROUPS").arg(key)).await?;
        Ok(parse_groups(&v))
    }

    pub(super) async fn group_row(&self, key: &str, group: &str) -> BResult<Option<GroupRow>> {
        Ok(self.groups_of(key).await?.into_iter().find(|g| g.name == group))
    }

    pub(super) async fn consumers(&self, key: &str, group: &str) -> BResult<Vec<Consumer>> {
        let v = self
            .qk(key, "reading the group's consumers", ::redis::cmd("XINFO").arg("CONSUMERS").arg(key).arg(group))
            .await?;
        Ok(parse_consumers(&v))
    }

    /// The oldest pending entry of a group on a stream.
    pub(super) async fn first_pending(&self, key: &str, group: &str) -> BResult<Option<Sid>> {
        let v = self.qk(key, "reading pending entries", ::redis::cmd("XPENDING").arg(key).arg(group)).await?;
        Ok(vseq(&v).get(1).and_then(vsid))
    }

    pub(super) async fn group_state(&self, key: &str, s: &Snap, row: &GroupRow) -> BResult<GroupState> {
        let (start, end) = (s.start(), s.end());
        let delivered = match (row.entries_read, row.lag) {
            (Some(r), _) => r.min(end),
            (None, Some(lag)) => end.saturating_sub(lag),
            (None, None) => self.walk(key, s).position(row.ldi, false).await?,
        };
        if delivered > start && delivered <= end && s.first.is_some_and(|f| row.ldi >= f) && !s.holes() {
            self.anchors.remember(key, delivered - 1, row.ldi);
        }
        let first_pending = if row.pending > 0 { self.first_pending(key, &row.name).await? } else { None };
        let committed = match first_pending {
            Some(id) if s.first.is_some_and(|f| id >= f) => {
                delivered.min(self.walk(key, s).position(id, true).await?.saturating_sub(1))
            }
            // The oldest pending entry was trimmed away: everything left is unacknowledged.
            Some(_) => delivered.min(start),
            None => delivered,
        };
        Ok(GroupState { delivered, committed, first_pending })
    }

    /// Σ (delivery count − 1) over the group's pending entries (the first 100 000).
    pub(super) async fn redeliveries(&self, key: &str, group: &str) -> BResult<u64> {
        let mut total = 0;
        let mut scanned = 0;
        let mut cur = Bound::Min;
        loop {
            let mut c = ::redis::cmd("XPENDING");
            c.arg(key).arg(group).arg(cur.arg()).arg("+").arg(PAGE);
            let v = self.qk(key, "reading pending entries", &c).await?;
            let rows = vseq(&v);
            for r in rows {
                total += vseq(r).get(3).and_then(vu64).unwrap_or(1).saturating_sub(1);
            }
            scanned += rows.len();
            match rows.last().and_then(|r| vseq(r).first()).and_then(vsid) {
                Some(last) if rows.len() == PAGE && scanned < MAX_PENDING_SCAN => cur = Bound::Excl(last),
                _ => return Ok(total),
            }
        }
    }

    /// Ids of the group's pending entries up to `hi`.
    pub(super) async fn pending_ids(&self, key: &str, group: &str, hi: Bound) -> BResult<Vec<Sid>> {
        let mut out = Vec::new();
        let mut cur = Bound::Min;
        loop {
            let mut c = ::redis::cmd("XPENDING");
            c.arg(key).arg(group).arg(cur.arg()).arg(hi.arg()).arg(PAGE);
            let v = self.qk(key, "reading pending entries", &c).await?;
            let ids: Vec<Sid> = vseq(&v).iter().filter_map(|r| vseq(r).first().and_then(vsid)).collect();
            let full = ids.len() == PAGE;
            if let Some(&last) = ids.last() {
                cur = Bound::Excl(last);
            }
            out.extend(ids);
            if !full {
                return Ok(out);
            }
        }
    }

    /// Creates the group on a stream if it is not there, at `offset`.
    pub(super) async fn ensure_group(&self, key: &str, s: &Snap, group: &str, offset: u64) -> BResult<()> {
        validate_name("group", group)?;
        let id = self.walk(key, s).id_before(offset).await?;
        let mut c = ::redis::cmd("XGROUP");
        c.arg("CREATE").arg(key).arg(group).arg(id.to_string()).arg("ENTRIESREAD").arg(offset);
        match self.q_raw(&c).await? {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(self.key_err(key, "creating the consumer group", e)),
        }
    }

    /// The groups of every stream (`XINFO GROUPS`, pipelined), as (stream, group row) pairs, the
    /// groups named `only` or all.
    async fn all_groups(&self, only: Option<&str>) -> BResult<Vec<(String, GroupRow)>> {
        let mut out = Vec::new();
        for chunk in self.stream_keys(false).await?.chunks(200) {
            let mut p = ::redis::pipe();
            p.ignore_errors();
            for k in chunk {
                p.cmd("XINFO").arg("GROUPS").arg(k);
            }
            for (k, r) in chunk.iter().zip(self.run("reading consumer groups", &p).await?) {
                // A stream deleted since the scan has no groups.
                let Ok(v) = r else { continue };
                let rows = parse_groups(&v).into_iter().filter(|g| only.is_none_or(|o| g.name == o));
                out.extend(rows.map(|row| (k.clone(), row)));
            }
        }
        Ok(out)
    }

    /// Every stream that has a group of this name, with its row.
    pub(super) async fn find_group(&self, group: &str) -> BResult<Vec<(String, GroupRow)>> {
        self.all_groups(Some(group)).await
    }

    pub(super) async fn group_info(&self, name: &str, parts: Vec<(String, GroupRow)>) -> BResult<GroupInfo> {
        let now = self.now_ms().await?;
        let mut members: BTreeMap<String, MemberInfo> = BTreeMap::new();
        let mut in_flight: BTreeMap<String, u64> = BTreeMap::new();
        let mut partitions = Vec::new();
        let mut delivered_total = 0;
        for (key, row) in parts {
            let s = match self.snap(&key).await {
                Ok(s) => s,
                Err(BackendError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let consumers = self.consumers(&key, name).await?;
            let st = self.group_state(&key, &s, &row).await?;
            delivered_total += st.delivered;
            let (start, end) = (s.start(), s.end());
            let from = st.committed.max(start);
            let lag = end.saturating_sub(from);
            let oldest = if lag == 0 {
                None
            } else if st.committed < st.delivered && st.first_pending.is_some_and(|p| s.first.is_some_and(|f| p >= f)) {
                st.first_pending
            } else {
                let after = if st.committed < start { Bound::Min } else { Bound::Excl(row.ldi) };
                self.range(&key, false, after, Bound::Max, 1).await?.first().map(|e| e.id)
            };
            let lag_ms = oldest
                .map(|id| now.saturating_sub(i64::try_from(id.ms).unwrap_or(i64::MAX)).max(0) as u64)
                .unwrap_or(0);
            let redeliveries = if row.pending > 0 { self.redeliveries(&key, name).await? } else { 0 };
            let live: Vec<&Consumer> = consumers.iter().filter(|c| c.live()).collect();
            let owner = match live.as_slice() {
                [] => None,
                [one] => Some(one.name.clone()),
                [one, rest @ ..] => Some(format!("{} +{}", one.name, rest.len())),
            };
            for c in &consumers {
                if c.name == PULL_CONSUMER && c.pending == 0 {
                    continue;
                }
                *in_flight.entry(c.name.clone()).or_default() += c.pending;
                let m = members.entry(c.name.clone()).or_insert_with(|| MemberInfo {
                    member_id: c.name.clone(),
                    client_id: String::new(),
                    client_host: String::new(),
                    topics: Vec::new(),
                    assignment: Vec::new(),
                    last_seen_ms: c.idle_ms,
                    session_timeout_ms: LIVE_MS,
                });
                m.topics.push(key.clone());
                m.assignment.push((key.clone(), 0));
                m.last_seen_ms = m.last_seen_ms.min(c.idle_ms);
            }
            partitions.push(PartitionLag {
                topic: key.clone(),
                partition: 0,
                committed: Some(st.committed),
                log_start: start,
                end_offset: end,
                lag,
                lag_ms,
                owner,
                redeliveries,
            });
        }
        let members: Vec<MemberInfo> = members
            .into_values()
            .map(|mut m| {
                m.client_id = format!("{} in flight", in_flight.get(&m.member_id).copied().unwrap_or(0));
                m
            })
            .collect();
        let live = members.iter().any(|m| m.member_id != PULL_CONSUMER && m.last_seen_ms < LIVE_MS);
        Ok(GroupInfo {
            name: name.to_string(),
            state: if live { "stable".into() } else { "empty".into() },
            generation: 0,
            assignor: "shared".into(),
            members,
            partitions,
            consume_rate: self.rate(&format!("group\0{name}"), delivered_total),
        })
    }

    /// Names of the group's live consumers on a stream (seen in the last 30 s; not depot-pull).
    pub(super) async fn live_consumers(&self, key: &str, group: &str, exists: bool) -> BResult<Vec<String>> {
        if !exists {
            return Ok(Vec::new());
        }
        Ok(self.consumers(key, group).await?.into_iter().filter(|c| c.live()).map(|c| c.name).collect())
    }
}

#[async_trait]
impl GroupsApi for RedisStreams {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>> {
        let mut by_name: BTreeMap<String, Vec<(String, GroupRow)>> = BTreeMap::new();
        for (k, row) in self.all_groups(None).await? {
            by_name.entry(row.name.clone()).or_default().push((k, row));
        }
        let mut out = Vec::with_capacity(by_name.len());
        for (name, parts) in by_name {
            out.push(self.group_info(&name, parts).await?);
        }
        Ok(out)
    }

    async fn describe_group(&self, name: &str) -> BResult<GroupInfo> {
        let mut parts = self.find_group(name).await?;
        if parts.is_empty() {
            // Maybe on a stream created in the last moments: look again with a fresh list.
            self.forget_keys();
            parts = self.find_group(name).await?;
        }
        if parts.is_empty() {
            return Err(BackendError::NotFound(format!(
                "group {name} not found; no stream in Redis at {} has a consumer group by that name",
                self.target
            )));
        }
        self.group_info(name, parts).await
    }

    async fn pull(&self, group: &str, req: PullRequest) -> BResult<PullResult> {
        self.pull_once(group, req).await
    }

    async fn commit(&self, group: &str, offsets: Vec<CommitOffset>) -> BResult<()> {
        for c in &offsets {
            support::check_partition(&c.topic, c.partition, 1, ONE_PARTITION)?;
        }
        for c in offsets {
            let key = c.topic.as_str();
            let s = self.snap(key).await?;
            let start = s.start();
            support::check_commit_range(key, 0, c.offset, (start, s.end()))?;
            let Some(row) = self.group_row(key, group).await? else {
                self.ensure_group(key, &s, group, c.offset.max(start)).await?;
                continue;
            };
            let live = self.live_consumers(key, group, true).await?;
            if !live.is_empty() {
                return Err(BackendError::Refused(format!(
                    "group {group} has live consumers on {key} ({}); only they may acknowledge while they run",
                    live.join(", ")
                )));
            }
            let st = self.group_state(key, &s, &row).await?;
            support::check_forward(key, 0, c.offset, Some(st.committed))?;
            let hi = self.walk(key, &s).bound_before(c.offset).await?;
            let ids = self.pending_ids(key, group, hi).await?;
            let mut p = ::redis::pipe();
            p.atomic().ignore_errors();
            if c.offset > st.delivered {
                let id = self.walk(key, &s).id_before(c.offset).await?;
                p.cmd("XGROUP").arg("SETID").arg(key).arg(group).arg(id.to_string()).arg("ENTRIESREAD").arg(c.offset);
            }
            if !ids.is_empty() {
                let x = p.cmd("XACK").arg(key).arg(group);
                for id in &ids {
                    x.arg(id.to_string());
                }
            }
            if p.is_empty() {
                continue;
            }
            for r in self.run("committing", &p).await? {
                r.map_err(|e| self.key_err(key, "committing", e))?;
            }
        }
        Ok(())
    }

    async fn delete_group(&self, name: &str) -> BResult<()> {
        let parts = self.find_group(name).await?;
        if parts.is_empty() {
            return Err(BackendError::NotFound(format!(
                "group {name} not found; no stream in Redis at {} has a consumer group by that name",
                self.target
            )));
        }
        for (key, _) in &parts {
            let live = self.live_consumers(key, name, true).await?;
            if !live.is_empty() {
                return Err(BackendError::Refused(format!(
                    "group {name} has {} live consumer(s) on {key} ({}); stop them first",
                    live.len(),
                    live.join(", ")
                )));
            }
        }
        for (key, _) in &parts {
            match self.q_raw(::redis::cmd("XGROUP").arg("DESTROY").arg(key).arg(name)).await? {
                Ok(_) => {}
                Err(e) if e.to_string().contains("no such key") => {}
                Err(e) => return Err(self.key_err(key, "deleting the consumer group", e)),
            }
        }
        Ok(())
    }
}
