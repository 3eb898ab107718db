//! Searching a topic by its engine, not by a page of it: what to match (key, a header
//! `name=value`, value text or a regex, an offset range, a time window), the bounds that stop a
//! scan (matches, bytes scanned, time), where to continue, and [`Scan`], the one scan every
//! backend drives with its own reads, so every engine finds the same records and stops at the same
//! place.

use super::{Header, Invalid, Message, Payload};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Matches one search answers when the request does not say.
pub const DEFAULT_MATCHES: usize = 100;
/// The most matches one search answers.
pub const MAX_MATCHES: usize = 10_000;
/// Bytes (keys, values, headers) one search scans when the request does not say: 256 MiB.
pub const DEFAULT_BYTES: u64 = 256 << 20;
/// The most bytes one search scans: 64 GiB.
pub const MAX_BYTES: u64 = 64 << 30;
/// How long one search runs when the request does not say.
pub const DEFAULT_MS: u64 = 5_000;
/// The longest one search runs.
pub const MAX_MS: u64 = 60_000;
/// The largest compiled regex.
const REGEX_SIZE: usize = 1 << 20;
/// Records asked for in one read of a partition.
pub const CHUNK: u64 = 500;

/// A header to match: the name exactly, the value containing the text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderMatch {
    pub name: String,
    pub value: String,
}

impl HeaderMatch {
    /// `name=value` (the value may be empty, or contain `=`).
    pub fn parse(s: &str) -> Result<HeaderMatch, Invalid> {
        match s.split_once('=') {
            Some((name, value)) if !name.is_empty() => {
                Ok(HeaderMatch { name: name.to_string(), value: value.to_string() })
            }
            _ => Err(Invalid(format!("header {s:?}: give it as name=value"))),
        }
    }
}

/// Where a partition's scan stands: for a forward search the next offset to read; for a
/// backward one, the offset below which it continues. `done`: nothing is left in the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchCursor {
    pub partition: u32,
    pub offset: u64,
    #[serde(default)]
    pub done: bool,
}

/// A search: what to match (all given criteria must hold), where, and its bounds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// One partition, or every partition of the topic.
    #[serde(default)]
    pub partition: Option<u32>,
    /// The key, exactly (as text).
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub header: Option<HeaderMatch>,
    /// Text the value contains.
    #[serde(default)]
    pub value: Option<String>,
    /// A regex the value matches (instead of `value`).
    #[serde(default)]
    pub regex: Option<String>,
    /// Offsets from here (inclusive)...
    #[serde(default)]
    pub from_offset: Option<u64>,
    /// ...to here (exclusive).
    #[serde(default)]
    pub to_offset: Option<u64>,
    /// Records with `since_ms <= timestamp < until_ms` (ms since the epoch).
    #[serde(default)]
    pub since_ms: Option<i64>,
    #[serde(default)]
    pub until_ms: Option<i64>,
    /// Scan from the end of the range (or the cursors) towards its start.
    #[serde(default)]
    pub backward: bool,
    /// Where to continue, per partition: a previous answer's `next`. Partitions not named start
    /// at their range's start (its end, backwards).
    #[serde(default)]
    pub resume: Vec<SearchCursor>,
    /// Stop after this many matches (0: [`DEFAULT_MATCHES`]; at most [`MAX_MATCHES`]).
    #[serde(default)]
    pub max_matches: usize,
    /// Stop after scanning this many bytes of keys, values and headers (0: [`DEFAULT_BYTES`]).
    #[serde(default)]
    pub max_bytes: u64,
    /// Stop after this long (0: [`DEFAULT_MS`]; at most [`MAX_MS`]).
    #[serde(default)]
    pub max_ms: u64,
}

/// Which bound cut a search short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchBound {
    Matches,
    Bytes,
    Time,
}

impl SearchBound {
    pub fn describe(self) -> &'static str {
        match self {
            SearchBound::Matches => "the match limit",
            SearchBound::Bytes => "the byte limit",
            SearchBound::Time => "the time limit",
        }
    }
}

/// What a search found and how far it got.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Forwards: by time (then partition, offset); backwards: the newest first.
    pub matches: Vec<Message>,
    /// Where each partition's scan stands (send them back as `resume` to continue).
    pub next: Vec<SearchCursor>,
    /// Records and bytes (keys, values, headers) scanned.
    pub scanned: u64,
    pub scanned_bytes: u64,
    /// The bound that cut the search short; `None`: the whole range was scanned.
    pub stopped: Option<SearchBound>,
    /// Offsets deleted (by retention or a delete) before the scan reached them: not searched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gone: Vec<GoneRange>,
}

/// Records a search could not scan: `from..to` of `partition` were deleted first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoneRange {
    pub partition: u32,
    pub from: u64,
    pub to: u64,
}

impl GoneRange {
    /// "partition 0: offsets 100..250 (150 records)".
    pub fn describe(&self) -> String {
        format!("partition {}: offsets {}..{} ({} records)", self.partition, self.from, self.to, self.to - self.from)
    }
}

impl SearchResult {
    /// Whether every partition's range was scanned to its end.
    pub fn complete(&self) -> bool {
        self.stopped.is_none()
    }
}

/// The criteria of a request, compiled once.
#[derive(Clone, Debug)]
pub struct Matcher {
    key: Option<Vec<u8>>,
    header: Option<(String, regex::bytes::Regex)>,
    value: Option<regex::bytes::Regex>,
    since: i64,
    until: i64,
}

fn compile(pattern: &str, what: &str) -> Result<regex::bytes::Regex, Invalid> {
    regex::bytes::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE)
        .dfa_size_limit(REGEX_SIZE)
        .build()
        .map_err(|e| Invalid(format!("{what} {pattern:?} is not a usable regex: {e}")))
}

impl Matcher {
    /// Whether a record matches every criterion.
    pub fn matches<R: Scanned + ?Sized>(&self, r: &R) -> bool {
        let ts = r.timestamp();
        if ts < self.since || ts >= self.until {
            return false;
        }
        if let Some(k) = &self.key
            && r.key() != Some(k.as_slice())
        {
            return false;
        }
        if let Some((name, re)) = &self.header
            && !r.has_header(name, &|v| re.is_match(v))
        {
            return false;
        }
        // A tombstone has no value text to match.
        self.value.as_ref().is_none_or(|re| r.value().is_some_and(|v| re.is_match(v)))
    }
}

/// A record as a search reads it, whichever engine it came from.
pub trait Scanned {
    fn offset(&self) -> u64;
    fn timestamp(&self) -> i64;
    fn key(&self) -> Option<&[u8]>;
    /// `None` for a tombstone.
    fn value(&self) -> Option<&[u8]>;
    /// Whether a header called `name` has a value `pred` accepts.
    fn has_header(&self, name: &str, pred: &dyn Fn(&[u8]) -> bool) -> bool;
    /// Bytes of key, value and header names and values (what the byte bound counts).
    fn size(&self) -> u64;
    fn to_message(&self, topic: &str, partition: u32) -> Message;
}

impl Scanned for Message {
    fn offset(&self) -> u64 {
        self.offset
    }
    fn timestamp(&self) -> i64 {
        self.timestamp
    }
    fn key(&self) -> Option<&[u8]> {
        self.key.as_ref().map(|k| &k.0[..])
    }
    fn value(&self) -> Option<&[u8]> {
        self.value.as_ref().map(|v| &v.0[..])
    }
    fn has_header(&self, name: &str, pred: &dyn Fn(&[u8]) -> bool) -> bool {
        self.headers.iter().any(|h| h.name == name && h.value.as_ref().is_some_and(|v| pred(&v.0)))
    }
    fn size(&self) -> u64 {
        Message::size(self) as u64
    }
    fn to_message(&self, _topic: &str, _partition: u32) -> Message {
        self.clone()
    }
}

/// A record's parts as a message (for engines whose records are not [`Message`]s).
pub fn message_of(
    topic: &str,
    partition: u32,
    offset: u64,
    timestamp: i64,
    key: Option<&bytes::Bytes>,
    value: Option<&bytes::Bytes>,
    headers: &[(String, Option<bytes::Bytes>)],
) -> Message {
    Message {
        topic: topic.to_string(),
        partition,
        offset,
        timestamp,
        key: key.cloned().map(Payload),
        value: value.cloned().map(Payload),
        headers: headers.iter().map(|(n, v)| Header { name: n.clone(), value: v.clone().map(Payload) }).collect(),
    }
}

impl SearchRequest {
    /// Checks the request and compiles its criteria.
    pub fn compile(&self) -> Result<Matcher, Invalid> {
        if self.value.is_some() && self.regex.is_some() {
            return Err(Invalid::new("give value text or a regex, not both"));
        }
        if let (Some(a), Some(b)) = (self.from_offset, self.to_offset)
            && a > b
        {
            return Err(Invalid(format!("the offset range {a}..{b} ends before it starts")));
        }
        let (since, until) = (self.since_ms.unwrap_or(i64::MIN), self.until_ms.unwrap_or(i64::MAX));
        if since > until {
            return Err(Invalid::new("the time window ends before it starts"));
        }
        if self.max_matches > MAX_MATCHES {
            return Err(Invalid(format!("max_matches={}: ask for at most {MAX_MATCHES}", self.max_matches)));
        }
        if self.max_bytes > MAX_BYTES {
            return Err(Invalid(format!("max_bytes={}: scan at most {MAX_BYTES} bytes", self.max_bytes)));
        }
        if self.max_ms > MAX_MS {
            return Err(Invalid(format!("max_ms={}: search for at most {MAX_MS} ms", self.max_ms)));
        }
        if self.header.as_ref().is_some_and(|h| h.name.is_empty()) {
            return Err(Invalid::new("a header to match needs a name"));
        }
        let value = match (&self.value, &self.regex) {
            (Some(text), None) => Some(compile(&regex::escape(text), "value")?),
            (None, Some(re)) => Some(compile(re, "regex")?),
            _ => None,
        };
        let header = match &self.header {
            Some(h) => Some((h.name.clone(), compile(&regex::escape(&h.value), "header value")?)),
            None => None,
        };
        let key = self.key.as_ref().map(|k| k.as_bytes().to_vec());
        Ok(Matcher { key, header, value, since, until })
    }

    /// The range of a partition whose log is `start..end`, narrowed by the request's offsets.
    pub fn range(&self, (start, end): (u64, u64)) -> (u64, u64) {
        let lo = self.from_offset.map_or(start, |f| f.clamp(start, end));
        let hi = self.to_offset.map_or(end, |t| t.clamp(lo, end));
        (lo, hi)
    }

    fn limits(&self) -> (usize, u64, Duration) {
        let m = if self.max_matches == 0 { DEFAULT_MATCHES } else { self.max_matches };
        let b = if self.max_bytes == 0 { DEFAULT_BYTES } else { self.max_bytes };
        let t = if self.max_ms == 0 { DEFAULT_MS } else { self.max_ms };
        (m, b, Duration::from_millis(t))
    }
}

/// One partition's scan: its range `lo..hi` and where it stands.
#[derive(Clone, Debug)]
struct Part {
    partition: u32,
    lo: u64,
    hi: u64,
    at: u64,
}

impl Part {
    fn done(&self, backward: bool) -> bool {
        if backward { self.at <= self.lo } else { self.at >= self.hi }
    }
}

/// A read the scan asks its engine for: records of `partition` in `from..to`, all of them (a
/// backward scan needs the whole window).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Read {
    pub partition: u32,
    pub from: u64,
    pub to: u64,
}

/// One search in progress: the engine asks [`next_read`](Scan::next_read) what to read, reads
/// it its own way and [`feed`](Scan::feed)s it back, until there is nothing left or a bound
/// stops it. Partitions take turns, one chunk each.
pub struct Scan {
    topic: String,
    matcher: Matcher,
    backward: bool,
    parts: Vec<Part>,
    turn: usize,
    max_matches: usize,
    max_bytes: u64,
    deadline: Instant,
    result: SearchResult,
}

impl Scan {
    /// A scan of `topic`'s `partitions`, each `(partition, log start, end)`.
    pub fn new(topic: &str, req: &SearchRequest, matcher: Matcher, partitions: &[(u32, u64, u64)]) -> Scan {
        let (max_matches, max_bytes, budget) = req.limits();
        let mut gone = Vec::new();
        let parts = partitions
            .iter()
            .map(|&(partition, start, end)| {
                let (lo, hi) = req.range((start, end));
                let cursor = req.resume.iter().find(|c| c.partition == partition);
                // A forward search resumed below the log start: what lay between is gone.
                if let Some(c) = cursor.filter(|c| !req.backward && !c.done && c.offset < start) {
                    gone.push(GoneRange { partition, from: c.offset, to: start.min(hi) });
                }
                let resumed = cursor.map(|c| c.offset.clamp(lo, hi));
                let at = resumed.unwrap_or(if req.backward { hi } else { lo });
                Part { partition, lo, hi, at }
            })
            .collect();
        Scan {
            topic: topic.to_string(),
            matcher,
            backward: req.backward,
            parts,
            turn: 0,
            max_matches,
            max_bytes,
            deadline: Instant::now() + budget,
            result: SearchResult { gone, ..SearchResult::default() },
        }
    }

    /// The engine found the records of `partition` below `start` deleted (retention moved the
    /// log start during the search): what the scan had not reached below it is reported as gone,
    /// and the scan goes on from `start`.
    pub fn gone(&mut self, partition: u32, start: u64) {
        let Some(p) = self.parts.iter_mut().find(|p| p.partition == partition) else { return };
        let (from, to) = if self.backward { (p.lo, start.min(p.at)) } else { (p.at, start.min(p.hi)) };
        if to > from {
            self.result.gone.push(GoneRange { partition, from, to });
        }
        if self.backward {
            p.lo = p.lo.max(to);
        } else {
            p.at = p.at.max(to);
        }
    }

    /// The next read, or `None` when the search is over (everything scanned, or a bound hit).
    pub fn next_read(&mut self) -> Option<Read> {
        if self.result.stopped.is_some() {
            return None;
        }
        if self.parts.iter().any(|p| !p.done(self.backward)) && Instant::now() >= self.deadline {
            self.result.stopped = Some(SearchBound::Time);
            return None;
        }
        let n = self.parts.len();
        for i in 0..n {
            let idx = (self.turn + i) % n;
            let p = &self.parts[idx];
            if p.done(self.backward) {
                continue;
            }
            self.turn = idx + 1;
            return Some(if self.backward {
                Read { partition: p.partition, from: p.at.saturating_sub(CHUNK).max(p.lo), to: p.at }
            } else {
                Read { partition: p.partition, from: p.at, to: p.at.saturating_add(CHUNK).min(p.hi) }
            });
        }
        None
    }

    /// The records of a read (in offset order; those outside it are ignored). Records may be
    /// missing (a gap in the offsets); a forward read that got only part of its window continues
    /// after the last record it got.
    pub fn feed<R: Scanned>(&mut self, read: Read, records: &[R]) {
        let Some(idx) = self.parts.iter().position(|p| p.partition == read.partition) else { return };
        let inside = |r: &&R| r.offset() >= read.from && r.offset() < read.to;
        if self.backward {
            for r in records.iter().rev().filter(inside) {
                if r.offset() >= self.parts[idx].at {
                    continue;
                }
                self.parts[idx].at = r.offset();
                if self.take(r, read.partition) {
                    return;
                }
            }
            self.parts[idx].at = read.from;
        } else {
            let mut last = None;
            for r in records.iter().filter(inside) {
                if r.offset() < self.parts[idx].at {
                    continue;
                }
                self.parts[idx].at = r.offset() + 1;
                last = Some(r.offset());
                if self.take(r, read.partition) {
                    return;
                }
            }
            // Nothing at all in the window: those offsets hold no records.
            if last.is_none() {
                self.parts[idx].at = read.to;
            }
        }
    }

    /// Counts one scanned record, keeps it if it matches; true when a bound stops the search.
    fn take<R: Scanned>(&mut self, r: &R, partition: u32) -> bool {
        self.result.scanned += 1;
        self.result.scanned_bytes += r.size();
        if self.matcher.matches(r) {
            self.result.matches.push(r.to_message(&self.topic, partition));
            if self.result.matches.len() >= self.max_matches {
                self.result.stopped = Some(SearchBound::Matches);
                return true;
            }
        }
        if self.result.scanned_bytes >= self.max_bytes {
            self.result.stopped = Some(SearchBound::Bytes);
            return true;
        }
        false
    }

    /// The answer: the matches in order, and where each partition stands.
    pub fn finish(mut self) -> SearchResult {
        // A bound hit exactly at the end of every range cut nothing short.
        if self.parts.iter().all(|p| p.done(self.backward)) {
            self.result.stopped = None;
        }
        let backward = self.backward;
        self.result.next = self
            .parts
            .iter()
            .map(|p| SearchCursor { partition: p.partition, offset: p.at, done: p.done(backward) })
            .collect();
        let m = &mut self.result.matches;
        m.sort_by_key(|m| (m.timestamp, m.partition, m.offset));
        if backward {
            m.reverse();
        }
        self.result
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
