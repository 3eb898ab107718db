//! Consumer groups: DescribeGroups views (members and their assignments), committed offsets from
//! OffsetFetch, lag and lag in time, commits from outside the group, and deleting groups.

use super::Kafka;
use super::codec::real_offset;
use super::codec::{decode_assignment, decode_subscription, state_name};
use super::conn::{LAG_PROBE_TIMEOUT, READER_GROUP, REQUEST_TIMEOUT, admin_outcome, create, group_config, kerr};
use super::messages::{Span, read_spans};
use super::pull::pull_as_member;
use super::topics::{no_topic, topics_meta, watermarks};
use crate::backend::support;
use crate::backend::{BResult, BackendError, GroupsApi};
use crate::core::names::validate_name;
use crate::core::time::now_ms;
use crate::core::{CommitOffset, GroupInfo, MemberInfo, PartitionLag, PullRequest, PullResult};
use async_trait::async_trait;
use rdkafka::admin::AdminOptions;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Committed offsets of `group` for the given partitions (OffsetFetch, no join).
pub(super) fn committed_of(
    base: &ClientConfig,
    brokers: &str,
    group: &str,
    parts: &[(String, u32)],
) -> BResult<HashMap<(String, u32), u64>> {
    let mut out = HashMap::new();
    if parts.is_empty() {
        return Ok(out);
    }
    let c: BaseConsumer = create(&group_config(base, group), brokers)?;
    let mut tpl = TopicPartitionList::new();
    for (t, p) in parts {
        tpl.add_partition(t, *p as i32);
    }
    let r = c
        .committed_offsets(tpl, REQUEST_TIMEOUT)
        .map_err(|e| kerr(&format!("reading the committed offsets of group {group}"), &e))?;
    for e in r.elements() {
        if let Some(o) = real_offset(e.offset()) {
            out.insert((e.topic().to_string(), e.partition() as u32), o);
        }
    }
    Ok(out)
}

/// Commits offsets as `group` without joining it (the broker accepts this only while the group is empty).
pub(super) fn commit_as_group(
    base: &ClientConfig,
    brokers: &str,
    group: &str,
    offsets: &[(String, u32, u64)],
) -> BResult<()> {
    if offsets.is_empty() {
        return Ok(());
    }
    let c: BaseConsumer = create(&group_config(base, group), brokers)?;
    let mut tpl = TopicPartitionList::new();
    for (t, p, o) in offsets {
        tpl.add_partition_offset(t, *p as i32, Offset::Offset(*o as i64)).map_err(|e| kerr("building a commit", &e))?;
    }
    c.commit(&tpl, CommitMode::Sync).map_err(|e| match kerr(&format!("committing offsets for group {group}"), &e) {
        BackendError::Refused(_) => BackendError::Refused(format!(
            "Kafka refused the commit for group {group} ({e}): the group has live members again, and Kafka \
             accepts commits only from its members while it has any; stop them and try again"
        )),
        other => other,
    })
}

/// A group as DescribeGroups sees it.
#[derive(Clone, Debug, Default)]
struct GroupView {
    state: String,
    protocol: String,
    members: Vec<MemberInfo>,
}

/// DescribeGroups for one group (`None` when the broker does not know it), or ListGroups +
/// DescribeGroups for all (`group = None`).
fn group_views(c: &BaseConsumer, brokers: &str, group: Option<&str>) -> BResult<BTreeMap<String, GroupView>> {
    let list = c.fetch_group_list(group, REQUEST_TIMEOUT).map_err(|e| match group {
        Some(g) => kerr(&format!("describing group {g} on {brokers}"), &e),
        None => kerr(&format!("listing the consumer groups of {brokers}"), &e),
    })?;
    let mut out = BTreeMap::new();
    for g in list.groups() {
        if !(g.protocol_type().is_empty() || g.protocol_type() == "consumer") || g.name() == READER_GROUP {
            continue; // Connect workers and other non-consumer groups; depot's own readers
        }
        let members = g
            .members()
            .iter()
            .map(|m| {
                let assignment = m.assignment().and_then(decode_assignment).unwrap_or_default();
                let mut topics = m.metadata().and_then(decode_subscription).unwrap_or_default();
                if topics.is_empty() {
                    topics = assignment.iter().map(|(t, _)| t.clone()).collect::<BTreeSet<_>>().into_iter().collect();
                }
                MemberInfo {
                    member_id: m.id().to_string(),
                    client_id: m.client_id().to_string(),
                    client_host: m.client_host().to_string(),
                    topics,
                    assignment,
                    last_seen_ms: 0,
                    session_timeout_ms: 0,
                }
            })
            .collect();
        out.insert(
            g.name().to_string(),
            GroupView { state: g.state().to_string(), protocol: g.protocol().to_string(), members },
        );
    }
    Ok(out)
}

/// partition of every topic, watermarks, and the age of the first unconsumed record.
fn describe_groups(
    base: &ClientConfig,
    meta: &BaseConsumer,
    brokers: &str,
    views: BTreeMap<String, GroupView>,
    must_exist: bool,
) -> BResult<Vec<GroupInfo>> {
    let topics = topics_meta(meta, brokers)?;
    let all: Vec<(String, u32)> = topics.iter().flat_map(|(t, n)| (0..*n).map(move |p| (t.clone(), p))).collect();
    let mut out = Vec::new();
    for (name, view) in views {
        let committed = committed_of(base, brokers, &name, &all)?;
        let mut group_topics: BTreeSet<String> = committed.keys().map(|(t, _)| t.clone()).collect();
        for m in &view.members {
            group_topics.extend(m.topics.iter().cloned());
            group_topics.extend(m.assignment.iter().map(|(t, _)| t.clone()));
        }
        group_topics.retain(|t| topics.contains_key(t));
        let dead = matches!(view.state.as_str(), "" | "Dead" | "Unknown");
        if must_exist && view.members.is_empty() && committed.is_empty() && dead {
            return Err(BackendError::NotFound(format!(
                "consumer group {name} not found on the Kafka cluster at {brokers} (no members, no committed offsets)"
            )));
        }
        let parts: Vec<(String, u32)> = group_topics
            .iter()
            .flat_map(|t| (0..topics.get(t).copied().unwrap_or(0)).map(move |p| (t.clone(), p)))
            .collect();
        let marks = watermarks(meta, &parts)?;
        let owners: HashMap<(String, u32), String> = view
            .members
            .iter()
            .flat_map(|m| m.assignment.iter().map(move |(t, p)| ((t.clone(), *p), m.member_id.clone())))
            .collect();
        let mut rows = Vec::new();
        for (t, p) in &parts {
            let (lo, hi) = marks.get(&(t.clone(), *p)).copied().unwrap_or((0, 0));
            let c = committed.get(&(t.clone(), *p)).copied();
            let lag = hi.saturating_sub(c.unwrap_or(lo));
            rows.push(PartitionLag {
                topic: t.clone(),
                partition: *p,
                committed: c,
                log_start: lo,
                end_offset: hi,
                lag,
                lag_ms: 0,
                owner: owners.get(&(t.clone(), *p)).cloned(),
                redeliveries: 0,
            });
        }
        // Lag in time: the timestamp of the first unconsumed record of each lagging partition.
        let now = now_ms();
        for t in &group_topics {
            let spans: Vec<Span> = rows
                .iter()
                .filter(|r| &r.topic == t && r.lag > 0)
                .map(|r| {
                    let start = r.committed.unwrap_or(r.log_start).clamp(r.log_start, r.end_offset);
                    Span { partition: r.partition, start, end: r.end_offset, max: 1 }
                })
                .collect();
            if spans.is_empty() {
                continue;
            }
            let mut first: HashMap<u32, i64> = HashMap::new();
            let r = read_spans(base, brokers, t, &spans, LAG_PROBE_TIMEOUT, &mut |m| {
                first.entry(m.partition).or_insert(m.timestamp);
                Ok(())
            });
            if let Err(e) = r {
                tracing::debug!("lag probe of group {name} on {t}: {e}");
            }
            for row in rows.iter_mut().filter(|r| &r.topic == t) {
                if let Some(ts) = first.get(&row.partition) {
                    row.lag_ms = now.saturating_sub(*ts).max(0) as u64;
                }
            }
        }
        let state = if view.members.is_empty() && (dead || view.state.is_empty()) {
            "empty".to_string()
        } else {
            state_name(&view.state)
        };
        out.push(GroupInfo {
            name,
            state,
            generation: 0,
            assignor: view.protocol,
            members: view.members,
            partitions: rows,
            consume_rate: 0.0,
        });
    }
    Ok(out)
}

/// Live members of one group (DescribeGroups).
pub(super) fn live_members(meta: &BaseConsumer, brokers: &str, group: &str) -> BResult<Vec<String>> {
    let views = group_views(meta, brokers, Some(group))?;
    Ok(views.get(group).map(|v| v.members.iter().map(|m| m.member_id.clone()).collect()).unwrap_or_default())
}

pub(super) fn live_refusal(group: &str, members: &[String], what: &str) -> BackendError {
    BackendError::Refused(format!(
        "group {group} has live members ({}); stop its consumers first: Kafka accepts {what} only from the \
         group's own members while it has any",
        members.join(", ")
    ))
}

#[async_trait]
impl GroupsApi for Kafka {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>> {
        self.meta_call(move |meta, base, brokers| {
            let views = group_views(meta, brokers, None)?;
            describe_groups(base, meta, brokers, views, false)
        })
        .await
    }

    async fn describe_group(&self, name: &str) -> BResult<GroupInfo> {
        let g = name.to_string();
        self.meta_call(move |meta, base, brokers| {
            let mut views = group_views(meta, brokers, Some(&g))?;
            let view = views.remove(&g).unwrap_or_default();
            let mut v = describe_groups(base, meta, brokers, BTreeMap::from([(g.clone(), view)]), true)?;
            v.pop().ok_or_else(|| BackendError::NotFound(format!("consumer group {g} not found on {brokers}")))
        })
        .await
    }

    async fn pull(&self, group: &str, req: PullRequest) -> BResult<PullResult> {
        validate_name("group", group)?;
        let g = group.to_string();
        self.meta_call(move |meta, base, brokers| pull_as_member(meta, base, brokers, g, req)).await
    }

    async fn commit(&self, group: &str, offsets: Vec<CommitOffset>) -> BResult<()> {
        validate_name("group", group)?;
        let g = group.to_string();
        self.meta_call(move |meta, base, brokers| {
            if offsets.is_empty() {
                return Ok(());
            }
            let live = live_members(meta, brokers, &g)?;
            if !live.is_empty() {
                return Err(live_refusal(&g, &live, "offset commits"));
            }
            let topics = topics_meta(meta, brokers)?;
            for o in &offsets {
                let n = topics.get(&o.topic).copied().ok_or_else(|| no_topic(&o.topic, brokers))?;
                support::check_partition(&o.topic, o.partition, n, "")?;
            }
            let parts: Vec<(String, u32)> = offsets.iter().map(|o| (o.topic.clone(), o.partition)).collect();
            let marks = watermarks(meta, &parts)?;
            let now = committed_of(base, brokers, &g, &parts)?;
            for o in &offsets {
                let k = (o.topic.clone(), o.partition);
                let log = marks.get(&k).copied().unwrap_or((0, 0));
                support::check_commit_range(&o.topic, o.partition, o.offset, log)?;
                support::check_forward(&o.topic, o.partition, o.offset, now.get(&k).copied())?;
            }
            let list: Vec<(String, u32, u64)> = offsets.into_iter().map(|o| (o.topic, o.partition, o.offset)).collect();
            commit_as_group(base, brokers, &g, &list)
        })
        .await
    }

    async fn delete_group(&self, name: &str) -> BResult<()> {
        let opts = AdminOptions::new().request_timeout(Some(REQUEST_TIMEOUT));
        let results = self
            .admin
            .delete_groups(&[name], &opts)
            .await
            .map_err(|e| kerr(&format!("deleting group {name} on {}", self.brokers), &e))?;
        admin_outcome(results, "deleting group", &self.brokers, |g, code| match code {
            RDKafkaErrorCode::NonEmptyGroup => Some(BackendError::Refused(format!(
                "group {g} has live members; stop its consumers before deleting it"
            ))),
            RDKafkaErrorCode::GroupIdNotFound => {
                Some(BackendError::NotFound(format!("consumer group {g} not found on {}", self.brokers)))
            }
            _ => None,
        })
    }
}
