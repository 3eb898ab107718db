//! Dense offsets over stream ids. A Redis stream has ids, not offsets: the n-th entry ever added
//! has offset n−1, so the log is `entries-added − length .. entries-added`, and the entry at an
//! offset is found by counting entries page by page (XRANGE / XREVRANGE) from the nearest known
//! point: either end of the stream, or an offset ↔ id pair remembered from an earlier walk.
//!
//! The walk only needs pages of ids, so it runs against [`StreamPages`]: Redis in production
//! (`conn::Pager`), an in-memory list of ids in the tests below.

use super::codec::{Sid, Snap};
use crate::backend::support::out_of_range;
use crate::backend::{BResult, BackendError};
use async_trait::async_trait;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};

/// The most entries one page asks for.
pub(super) const PAGE: usize = 1000;
/// The first page of a count; later pages grow ×4 up to [`PAGE`], so short walks stay cheap.
const FIRST_PAGE: usize = 16;
/// Remembered pairs per stream, and streams remembered.
const ANCHORS_PER_STREAM: usize = 64;
const ANCHORED_STREAMS: usize = 1024;

/// A bound of a range of ids, as XRANGE and XPENDING take them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Bound {
    /// `-`: before every id.
    Min,
    /// `+`: after every id.
    Max,
    /// `ID`: this id, included.
    Incl(Sid),
    /// `(ID`: this id, left out.
    Excl(Sid),
}

impl Bound {
    /// The bound as a command argument.
    pub(super) fn arg(self) -> String {
        match self {
            Bound::Min => "-".into(),
            Bound::Max => "+".into(),
            Bound::Incl(id) => id.to_string(),
            Bound::Excl(id) => format!("({id}"),
        }
    }
}

/// One page to read: up to `count` ids from `from` towards `to` (descending when `rev`, as
/// XREVRANGE `from` `to` reads them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ask {
    pub rev: bool,
    pub from: Bound,
    pub to: Bound,
    pub count: usize,
}

/// Pages of the ids of one stream.
#[async_trait]
pub(super) trait StreamPages: Send + Sync {
    /// The ids of one page, in walking order.
    async fn page(&self, ask: &Ask) -> BResult<Vec<Sid>>;

    /// Several pages at once (Redis: one round trip). By default one after the other.
    async fn pages(&self, asks: &[Ask]) -> BResult<Vec<Vec<Sid>>> {
        let mut out = Vec::with_capacity(asks.len());
        for a in asks {
            out.push(self.page(a).await?);
        }
        Ok(out)
    }
}

/// Offset ↔ id pairs learnt from earlier walks and reads, per stream, so later walks start near.
#[derive(Debug, Default)]
pub(super) struct Anchors(Mutex<HashMap<String, BTreeMap<u64, Sid>>>);

impl Anchors {
    /// Remembers that the entry at `offset` of `key` has `id`.
    pub(super) fn remember(&self, key: &str, offset: u64, id: Sid) {
        let mut all = self.0.lock();
        if all.len() >= ANCHORED_STREAMS && !all.contains_key(key) {
            all.clear();
        }
        let m = all.entry(key.to_string()).or_default();
        m.insert(offset, id);
        while m.len() > ANCHORS_PER_STREAM {
            m.pop_first();
        }
    }

    /// The remembered pairs of `key` still consistent with the stream as `s` shows it.
    fn consistent(&self, key: &str, s: &Snap) -> Vec<(u64, Sid)> {
        let mut all = self.0.lock();
        let Some(m) = all.get_mut(key) else { return Vec::new() };
        let (start, end) = (s.start(), s.end());
        let fits = |o: u64, id: Sid| {
            o >= start && o < end && s.first.is_some_and(|f| id >= f) && s.last.is_some_and(|l| id <= l)
        };
        if s.holes() || m.iter().any(|(&o, &id)| o >= start && o < end && !fits(o, id)) {
            // The stream was recreated or edited in its middle: nothing remembered holds.
            m.clear();
            return Vec::new();
        }
        m.retain(|&o, &mut id| fits(o, id));
        m.iter().map(|(&o, &id)| (o, id)).collect()
    }

    /// Forgets everything about `key` (the stream was created or deleted).
    pub(super) fn forget(&self, key: &str) {
        self.0.lock().remove(key);
    }
}

/// A counting walk: from `cur` towards `bound`, `count` entries so far; the position it finds
/// (the log start plus the entries up to an id) is `base + count`, or `base − count` when `rev`.
struct Counter {
    rev: bool,
    cur: Bound,
    bound: Bound,
    count: u64,
    base: u64,
    page: usize,
}

/// Offsets and ids of one stream as it was in one snapshot.
pub(super) struct Walk<'a, P: StreamPages> {
    pages: P,
    key: &'a str,
    snap: &'a Snap,
    anchors: &'a Anchors,
    /// The most ids one page asks for.
    page: usize,
}

impl<'a, P: StreamPages> Walk<'a, P> {
    pub(super) fn new(pages: P, key: &'a str, snap: &'a Snap, anchors: &'a Anchors) -> Self {
        Walk { pages, key, snap, anchors, page: PAGE }
    }

    /// The same walk with pages of at most `page` ids.
    #[cfg(test)]
    fn paged(mut self, page: usize) -> Self {
        self.page = page.max(1);
        self
    }

    /// The id of the entry at `offset` (which must be in the log).
    pub(super) async fn id_at(&self, offset: u64) -> BResult<Sid> {
        let (start, end) = (self.snap.start(), self.snap.end());
        if offset < start || offset >= end {
            return Err(out_of_range(self.key, 0, offset, start, end, ""));
        }
        let anchors = self.anchors.consistent(self.key, self.snap);
        if let Some(&(_, id)) = anchors.iter().find(|(o, _)| *o == offset) {
            return Ok(id);
        }
        // The nearest known point: (distance, backwards, where to start).
        let mut best = (offset - start, false, Bound::Min);
        let from_end = end - 1 - offset;
        if from_end < best.0 {
            best = (from_end, true, self.snap.last.map_or(Bound::Max, Bound::Incl));
        }
        if let Some(&(a, id)) = anchors.iter().rev().find(|(o, _)| *o < offset)
            && offset - a - 1 < best.0
        {
            best = (offset - a - 1, false, Bound::Excl(id));
        }
        if let Some(&(a, id)) = anchors.iter().find(|(o, _)| *o > offset)
            && a - offset - 1 < best.0
        {
            best = (a - offset - 1, true, Bound::Excl(id));
        }
        let (n, rev, from) = best;
        match self.nth(rev, from, n).await? {
            Some(id) => {
                self.anchors.remember(self.key, offset, id);
                Ok(id)
            }
            None => Err(BackendError::Conflict(format!(
                "stream {} changed while depot was looking for offset {offset} (entries were trimmed or deleted); \
                 try again",
                self.key
            ))),
        }
    }

    /// The `n`-th id (0-based) walking from `from` to the far end.
    async fn nth(&self, rev: bool, from: Bound, mut n: u64) -> BResult<Option<Sid>> {
        let to = if rev { Bound::Min } else { Bound::Max };
        let mut cur = from;
        loop {
            let want = (n + 1).min(self.page as u64) as usize;
            let page = self.pages.page(&Ask { rev, from: cur, to, count: want }).await?;
            if (page.len() as u64) > n {
                return Ok(Some(page[n as usize]));
            }
            let Some(&last) = page.last() else { return Ok(None) };
            if page.len() < want {
                return Ok(None);
            }
            n -= page.len() as u64;
            cur = Bound::Excl(last);
        }
    }

    /// The log start plus the number of entries with ids up to `id`: for an entry's id, one past
    /// its offset; for a group's last-delivered-id, the offset it reads next. `exact` says `id` is
    /// an entry's (so the pair is worth remembering). Walkers race from both ends and the nearest
    /// remembered pairs; the first to reach `id` answers.
    pub(super) async fn position(&self, id: Sid, exact: bool) -> BResult<u64> {
        let s = self.snap;
        let (start, end) = (s.start(), s.end());
        let (Some(first), Some(last)) = (s.first, s.last) else { return Ok(end) };
        if id < first {
            return Ok(start);
        }
        if id >= last {
            return Ok(end);
        }
        let anchors = self.anchors.consistent(self.key, s);
        if let Some(&(a, _)) = anchors.iter().find(|(_, x)| *x == id) {
            return Ok(a + 1);
        }
        let first_page = FIRST_PAGE.min(self.page);
        let counter = |rev, cur, bound, base| Counter { rev, cur, bound, count: 0, base, page: first_page };
        let mut ws = vec![
            counter(false, Bound::Min, Bound::Incl(id), start),
            counter(true, Bound::Incl(last), Bound::Excl(id), end),
        ];
        if let Some(&(a, x)) = anchors.iter().rev().find(|(_, x)| *x < id) {
            ws.push(counter(false, Bound::Excl(x), Bound::Incl(id), a + 1));
        }
        if let Some(&(a, x)) = anchors.iter().find(|(_, x)| *x > id) {
            ws.push(counter(true, Bound::Incl(x), Bound::Excl(id), a + 1));
        }
        loop {
            let asks: Vec<Ask> =
                ws.iter().map(|w| Ask { rev: w.rev, from: w.cur, to: w.bound, count: w.page }).collect();
            let pages = self.pages.pages(&asks).await?;
            for (w, page) in ws.iter_mut().zip(pages) {
                w.count += page.len() as u64;
                if page.len() < w.page {
                    let pos = if w.rev { w.base.saturating_sub(w.count) } else { w.base + w.count };
                    if exact && pos > start {
                        self.anchors.remember(self.key, pos - 1, id);
                    }
                    return Ok(pos);
                }
                if let Some(&e) = page.last() {
                    w.cur = Bound::Excl(e);
                }
                w.page = (w.page * 4).min(self.page);
            }
        }
    }

    /// Offsets of entries, given their ids in ascending order: one lookup for the first, then a
    /// walk forward through the rest (pending entries are usually close together). An id no
    /// longer in the stream gets the offset it would have had.
    pub(super) async fn offsets_of(&self, ids: &[Sid]) -> BResult<Vec<u64>> {
        let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else { return Ok(Vec::new()) };
        let mut out = vec![self.position(first, true).await?.saturating_sub(1)];
        let (mut at, mut cur, mut next) = (out[0], Bound::Excl(first), 1);
        while next < ids.len() {
            let page = self.pages.page(&Ask { rev: false, from: cur, to: Bound::Incl(last), count: self.page }).await?;
            for &e in &page {
                at += 1;
                while next < ids.len() && ids[next] < e {
                    // Deleted meanwhile: find it on its own.
                    out.push(self.position(ids[next], false).await?.saturating_sub(1));
                    next += 1;
                }
                if next < ids.len() && ids[next] == e {
                    out.push(at);
                    next += 1;
                }
            }
            match page.last() {
                Some(&e) if page.len() == self.page => cur = Bound::Excl(e),
                _ => break,
            }
        }
        while next < ids.len() {
            out.push(self.position(ids[next], false).await?.saturating_sub(1));
            next += 1;
        }
        Ok(out)
    }

    /// The first offset whose entry is at or after `ts_ms` (ids begin with their milliseconds).
    pub(super) async fn offset_for_time(&self, ts_ms: i64) -> BResult<u64> {
        let Ok(ts) = u64::try_from(ts_ms) else { return Ok(self.snap.start()) };
        match (Sid { ms: ts, seq: 0 }).prev() {
            Some(before) => self.position(before, false).await,
            None => Ok(self.snap.start()),
        }
    }

    /// The last-delivered-id that makes a group read `target` next.
    pub(super) async fn id_before(&self, target: u64) -> BResult<Sid> {
        if target >= self.snap.end() {
            Ok(self.snap.last_generated)
        } else if target <= self.snap.start() {
            Ok(Sid::ZERO)
        } else {
            self.id_at(target - 1).await
        }
    }

    /// The upper bound (for XPENDING) of the entries before offset `target`.
    pub(super) async fn bound_before(&self, target: u64) -> BResult<Bound> {
        if target >= self.snap.end() { Ok(Bound::Max) } else { Ok(Bound::Excl(self.id_at(target).await?)) }
    }
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
