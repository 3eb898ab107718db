//! The groups' durable state: the committed-offsets journal (`groups/offsets.log`: commits with
//! their redelivery counts and delivered marks, group and topic deletions), the reset journal
//! (`groups/resets.log`) and the in-memory groups they rebuild on open. Compacted to one entry per
//! group when the offsets journal grows large.

use super::clock::Clock;
use super::config::SyncMode;
use super::error::{EngineError, Result};
use super::journal::Journal;
use super::membership::Group;
use super::storage::Storage;
use super::topic::Topic;
use crate::core::ResetRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// A committed offset: topic, partition, offset.
type Row = (String, u32, u64);

/// Compact the offsets journal when it grows past this.
const OFFSETS_COMPACT_BYTES: u64 = 16 << 20;

/// An entry of the committed-offsets journal.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OffsetEntry {
    /// Committed offsets (and redelivery counts, delivered marks) of some partitions of a group.
    Commit {
        group: String,
        offsets: Vec<(String, u32, u64)>,
        #[serde(default)]
        redeliveries: Vec<(String, u32, u64)>,
        #[serde(default)]
        delivered: Vec<(String, u32, u64)>,
    },
    /// The group was deleted.
    DeleteGroup { group: String },
    /// A topic was deleted: forget its offsets in every group. `grave` names the directory the
    /// topic was moved to (see `delete`), so open knows which deletions the journal has.
    DeleteTopic {
        topic: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grave: Option<String>,
    },
}

/// Every group, and the journals that make their offsets and resets durable.
pub struct GroupsState {
    pub groups: BTreeMap<String, Group>,
    pub offsets: Journal,
    pub resets: Journal,
    /// Every executed reset (and undo), oldest first.
    pub history: Vec<ResetRecord>,
    pub clock: Arc<dyn Clock>,
    /// Journaled topic deletions whose grave directory may still exist (grave id → topic).
    pub graves: BTreeMap<String, String>,
    /// Deletions past their rename whose journal entry failed (grave id → topic).
    pub graves_unjournaled: BTreeMap<String, String>,
    /// 0 when this open created the data directory's `groups/`; otherwise a number no earlier
    /// open of it used (see [`incarnation`]), which tags every member id handed out.
    pub incarnation: u64,
}

/// A number for an engine reopening a data directory: the wall clock's ms at open, and always
/// more than the last one this process handed out (an engine reopened within one ms, or on a
/// manual clock that did not move). Member ids carry it, so none repeats across restarts.
pub fn incarnation(clock: &dyn Clock) -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = u64::try_from(clock.now_ms()).unwrap_or(1).max(1);
    let prev = LAST.fetch_max(now, Ordering::SeqCst);
    if prev >= now {
        // Someone already used `now` or later: take the next free number instead.
        LAST.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        now
    }
}

impl GroupsState {
    /// Reads both journals in `groups_dir` and rebuilds the groups (their member ids tagged with
    /// `incarnation`). After a crash in interval or
    /// never mode a commit can point past what survived of a partition: it is clamped to the end.
    pub fn open(
        storage: &Arc<dyn Storage>,
        groups_dir: &Path,
        sync: SyncMode,
        topics: &BTreeMap<String, Arc<Topic>>,
        clock: Arc<dyn Clock>,
        incarnation: u64,
    ) -> Result<GroupsState> {
        let (offsets, entries) = Journal::open::<OffsetEntry>(storage, &groups_dir.join("offsets.log"), sync)?;
        let (resets, history) =
            Journal::open::<ResetRecord>(storage, &groups_dir.join("resets.log"), SyncMode::Always)?;
        let mut state = GroupsState {
            groups: BTreeMap::new(),
            offsets,
            resets,
            history,
            clock,
            graves: BTreeMap::new(),
            graves_unjournaled: BTreeMap::new(),
            incarnation,
        };
        for e in entries {
            state.apply(e);
        }
        let mut clamped: Vec<(String, Vec<Row>)> = Vec::new();
        for g in state.groups.values() {
            let mut rows = Vec::new();
            for ((t, p), off) in &g.committed {
                if let Some(log) = topics.get(t).and_then(|tp| tp.partitions.get(*p as usize)) {
                    let end = log.end_offset();
                    if *off > end {
                        tracing::warn!(
                            "group {}: committed offset {off} of {t}/{p} is past the recovered end {end}; clamped",
                            g.name
                        );
                        rows.push((t.clone(), *p, end));
                    }
                }
            }
            if !rows.is_empty() {
                clamped.push((g.name.clone(), rows));
            }
        }
        // The clamp is journaled: left only in memory, the old offset would come back at a later
        // open once the log has grown past it, and the group would skip the records in between.
        for (group, rows) in clamped {
            state.commit(&group, &rows, true)?;
        }
        if state.offsets.size() > OFFSETS_COMPACT_BYTES / 4
            && let Err(e) = state.compact()
        {
            // The journal is whole as it is; compaction only makes it smaller.
            tracing::warn!("could not compact the offsets journal on open: {e}");
        }
        Ok(state)
    }

    /// The group called `name`, or a not-found error that says how to list groups.
    pub fn group_mut(&mut self, name: &str) -> Result<&mut Group> {
        self.groups
            .get_mut(name)
            .ok_or_else(|| EngineError::not_found_hint(format!("group {name:?}"), "list groups with `depot groups`"))
    }

    /// The group called `name`, made empty if it does not exist yet.
    pub fn group_or_new(&mut self, name: &str) -> &mut Group {
        let (clock, incarnation) = (&self.clock, self.incarnation);
        self.groups.entry(name.to_string()).or_insert_with(|| Group::new(name, clock, incarnation))
    }

    /// Applies a journal entry to the groups in memory.
    pub fn apply(&mut self, e: OffsetEntry) {
        match e {
            OffsetEntry::Commit { group, offsets, redeliveries, delivered } => {
                let g = self.group_or_new(&group);
                for (t, p, o) in offsets {
                    g.committed.insert((t, p), o);
                }
                for (t, p, n) in redeliveries {
                    g.redeliveries.insert((t, p), n);
                }
                for (t, p, n) in delivered {
                    let d = g.delivered.entry((t, p)).or_insert(0);
                    *d = (*d).max(n);
                }
            }
            OffsetEntry::DeleteGroup { group } => {
                self.groups.remove(&group);
            }
            OffsetEntry::DeleteTopic { topic, grave } => {
                if let Some(id) = grave {
                    self.graves.insert(id, topic.clone());
                }
                for g in self.groups.values_mut() {
                    g.committed.retain(|(t, _), _| *t != topic);
                    g.redeliveries.retain(|(t, _), _| *t != topic);
                    g.delivered.retain(|(t, _), _| *t != topic);
                    g.positions.retain(|(t, _), _| *t != topic);
                }
            }
        }
    }

    /// Journals a commit of `offsets` for `group` (with its redelivery counts and delivered marks)
    /// and applies it; `force_sync` fsyncs the journal whatever the sync mode.
    pub fn commit(&mut self, group: &str, offsets: &[(String, u32, u64)], force_sync: bool) -> Result<()> {
        let entry = commit_entry(self.group_or_new(group), offsets);
        self.offsets.append(&entry, force_sync)?;
        self.apply(entry);
        Ok(())
    }

    /// Rewrites the offsets journal as one entry per group once it has grown large.
    pub fn compact_if_large(&mut self) -> Result<()> {
        if self.offsets.size() > OFFSETS_COMPACT_BYTES { self.compact() } else { Ok(()) }
    }

    fn compact(&mut self) -> Result<()> {
        // Deletions whose graves may still be on disk stay journaled, ahead of the commits.
        let graves =
            self.graves.iter().map(|(id, t)| OffsetEntry::DeleteTopic { topic: t.clone(), grave: Some(id.clone()) });
        let entries: Vec<OffsetEntry> = graves
            .chain(self.groups.values().filter(|g| !g.committed.is_empty()).map(|g| {
                let offsets: Vec<(String, u32, u64)> =
                    g.committed.iter().map(|((t, p), o)| (t.clone(), *p, *o)).collect();
                commit_entry(g, &offsets)
            }))
            .collect();
        self.offsets.rewrite(&entries)
    }
}

/// The journal entry for committing `offsets` in group `g`: the offsets and, for the same
/// partitions, the group's redelivery counts and delivered marks.
pub fn commit_entry(g: &Group, offsets: &[(String, u32, u64)]) -> OffsetEntry {
    let tps: Vec<(String, u32)> = offsets.iter().map(|(t, p, _)| (t.clone(), *p)).collect();
    OffsetEntry::Commit {
        group: g.name.clone(),
        offsets: offsets.to_vec(),
        redeliveries: tps.iter().filter_map(|tp| g.redeliveries.get(tp).map(|&n| (tp.0.clone(), tp.1, n))).collect(),
        delivered: tps.iter().filter_map(|tp| g.delivered.get(tp).map(|&n| (tp.0.clone(), tp.1, n))).collect(),
    }
}
