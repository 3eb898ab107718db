//! `/` in the messages view searches the engine, not only the loaded page: the search runs in
//! slices (each bounded by bytes and time), with a progress line after each, until it finds a
//! match or reaches the end; `n` / `N` go to the next / previous match, continuing the scan
//! where it stopped when the matches found so far run out.

use crate::backend::BResult;
use crate::console::effect::{Effect, Kind};
use crate::console::state::{Level, MsgMode, Search, State, View};
use crate::core::format::bytes;
use crate::core::search::{HeaderMatch, SearchCursor, SearchRequest, SearchResult};

/// Bytes one slice scans before it reports progress.
pub const SLICE_BYTES: u64 = 64 << 20;
/// Time one slice may take.
pub const SLICE_MS: u64 = 1_000;
/// Matches one slice hands back.
const SLICE_MATCHES: usize = 50;
/// Bytes one press of `/`, `n` or `N` scans before it stops and asks for another press.
pub const PRESS_BYTES: u64 = 16 << 30;

/// The criteria `/` text means: `name=value` is a header (name exactly, value containing the
/// text); anything else is the value, as a case-insensitive regex when it is one, else as text.
pub fn criteria(text: &str, partition: u32) -> SearchRequest {
    let header = match text.split_once('=') {
        Some((name, _)) if !name.is_empty() && !name.contains(char::is_whitespace) => HeaderMatch::parse(text).ok(),
        _ => None,
    };
    let regex = match header {
        Some(_) => None,
        None if regex::Regex::new(text).is_ok() => Some(format!("(?i){text}")),
        None => Some(format!("(?i){}", regex::escape(text))),
    };
    SearchRequest { partition: Some(partition), header, regex, ..SearchRequest::default() }
}

/// The selected record's offset in the messages view.
fn selected_offset(s: &State) -> Option<u64> {
    s.visible_messages().get(s.nav.screen().selected).map(|m| m.offset)
}

/// `/TEXT` submitted in the messages view: search forward from the record after the cursor.
pub fn start(s: &mut State, text: &str) -> Vec<Effect> {
    let Some(m) = s.data.messages.as_ref() else { return Vec::new() };
    if text.is_empty() {
        s.data.search = None;
        return Vec::new();
    }
    let (topic, partition) = (m.topic.clone(), m.partition);
    let at = m.anchor.or_else(|| selected_offset(s));
    let from = at.map(|o| o + 1).unwrap_or_else(|| s.data.log_start(&topic, partition));
    let req = criteria(text, partition);
    if !s.data.caps.search {
        s.ui.say(
            Level::Warn,
            format!("{} cannot search by the engine: only the loaded page is filtered", s.data.caps.kind),
        );
        return Vec::new();
    }
    s.data.search = Some(Search {
        text: text.to_string(),
        topic,
        partition,
        req,
        found: Vec::new(),
        at: None,
        next: vec![SearchCursor { partition, offset: from, done: false }],
        done: false,
        scanned: 0,
        scanned_bytes: 0,
        gone: Vec::new(),
        seq: 0,
        running: None,
    });
    slice(s, false, 0)
}

/// Sends the next slice of the search (`backward` from the match under the cursor).
fn slice(s: &mut State, backward: bool, pressed_bytes: u64) -> Vec<Effect> {
    let seq = s.ui.next_seq();
    let Some(se) = s.data.search.as_mut() else { return Vec::new() };
    let resume = if backward {
        let from = se.at.and_then(|i| se.found.get(i)).map(|m| m.offset).unwrap_or(se.next[0].offset);
        vec![SearchCursor { partition: se.partition, offset: from, done: false }]
    } else {
        se.next.clone()
    };
    let req = SearchRequest {
        backward,
        resume,
        max_matches: if backward { 1 } else { SLICE_MATCHES },
        max_bytes: SLICE_BYTES,
        max_ms: SLICE_MS,
        ..se.req.clone()
    };
    se.seq = seq;
    se.running = Some(backward);
    if pressed_bytes == 0 {
        se.scanned_bytes = 0;
        se.scanned = 0;
    }
    let (topic, text) = (se.topic.clone(), se.text.clone());
    let (scanned, found) = (se.scanned_bytes, se.found.len());
    s.ui.say(Level::Info, format!("searching {topic} for {text:?} … {} scanned, {found} matches", bytes(scanned)));
    vec![Effect::Search { seq, topic, req }]
}

/// A slice answered: jump to the first new match, or continue, or say it is over.
pub fn searched(s: &mut State, seq: u64, r: BResult<SearchResult>) -> Vec<Effect> {
    let Some(se) = s.data.search.as_mut() else { return Vec::new() };
    if se.seq != seq || se.running.is_none() {
        return Vec::new();
    }
    let backward = se.running.take().unwrap_or(false);
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            s.ui.say(Level::Error, format!("search failed: {e}"));
            return Vec::new();
        }
    };
    se.scanned += r.scanned;
    se.scanned_bytes += r.scanned_bytes;
    se.gone.extend(r.gone.iter().copied());
    let (text, total) = (se.text.clone(), se.scanned_bytes);
    if backward {
        return match r.matches.into_iter().next() {
            Some(m) => {
                let i = se.found.partition_point(|f| f.offset < m.offset);
                se.found.insert(i, m);
                se.at = Some(i);
                goto(s)
            }
            None if r.stopped.is_none() => {
                s.ui.say(Level::Info, format!("no earlier match for {text:?} ({} scanned)", bytes(total)));
                Vec::new()
            }
            None if total < PRESS_BYTES => slice_back_from(s, &r.next, total),
            None => {
                s.ui.say(Level::Info, format!("no earlier match in {} scanned: N searches on", bytes(total)));
                Vec::new()
            }
        };
    }
    se.next = r.next;
    se.done = r.stopped.is_none();
    let first_new = se.found.len();
    for m in r.matches {
        if !se.found.iter().any(|f| f.offset == m.offset) {
            se.found.push(m);
        }
    }
    se.found.sort_by_key(|m| m.offset);
    if se.found.len() > first_new {
        se.at = Some(se.at.map_or(0, |i| i + 1).min(se.found.len() - 1));
        return goto(s);
    }
    let done = se.done;
    if done {
        let what = if se.found.is_empty() { "no match" } else { "no more matches" };
        let (level, gone) = gone_note(se);
        s.ui.say(level, format!("{what} for {text:?} to the end ({} scanned){gone}", bytes(total)));
        return Vec::new();
    }
    if total >= PRESS_BYTES {
        s.ui.say(Level::Info, format!("no match for {text:?} in {} scanned yet: n searches on", bytes(total)));
        return Vec::new();
    }
    slice(s, false, total)
}

/// Continues a backward scan that was cut short, from where it stopped.
fn slice_back_from(s: &mut State, next: &[SearchCursor], total: u64) -> Vec<Effect> {
    let Some(c) = next.first().copied() else { return Vec::new() };
    let seq = s.ui.next_seq();
    let Some(se) = s.data.search.as_mut() else { return Vec::new() };
    let req = SearchRequest {
        backward: true,
        resume: vec![c],
        max_matches: 1,
        max_bytes: SLICE_BYTES,
        max_ms: SLICE_MS,
        ..se.req.clone()
    };
    se.seq = seq;
    se.running = Some(true);
    let (topic, text) = (se.topic.clone(), se.text.clone());
    s.ui.say(Level::Info, format!("searching {topic} back for {text:?} … {} scanned", bytes(total)));
    vec![Effect::Search { seq, topic, req }]
}

/// Shows the match the search is on: the page from it, the cursor on it.
fn goto(s: &mut State) -> Vec<Effect> {
    let Some(se) = s.data.search.as_ref() else { return Vec::new() };
    let Some(m) = se.at.and_then(|i| se.found.get(i)) else { return Vec::new() };
    let (offset, n, total) = (m.offset, se.at.unwrap_or(0) + 1, se.found.len());
    let more = if se.done { "" } else { "+" };
    let (text, scanned) = (se.text.clone(), se.scanned_bytes);
    let (level, gone) = gone_note(se);
    let level = if level == Level::Warn { level } else { Level::Ok };
    s.ui.say(
        level,
        format!("match {n}/{total}{more} at offset {offset} · {text:?} · {} scanned · n/N{gone}", bytes(scanned)),
    );
    let on_page = s.data.messages.as_ref().is_some_and(|m| m.items.iter().any(|r| r.offset == offset));
    if on_page && let Some(i) = s.visible_messages().iter().position(|r| r.offset == offset) {
        s.nav.screen_mut().selected = i;
        crate::console::update::clamp_cursor(s);
        return Vec::new();
    }
    let Some(m) = s.data.messages.as_mut() else { return Vec::new() };
    m.mode = MsgMode::Browse { from: offset.saturating_sub(3) };
    m.focus = Some(offset);
    s.refresh.inflight.remove(&Kind::Messages);
    super::messages::load(s)
}

/// `n` (forward) or `N` (backward) in the messages view.
pub fn step(s: &mut State, forward: bool) -> Vec<Effect> {
    if *s.nav.view() != View::Messages {
        return Vec::new();
    }
    let Some(se) = s.data.search.as_mut() else {
        s.ui.say(Level::Info, "no search yet: / searches the partition");
        return Vec::new();
    };
    if se.running.is_some() {
        return Vec::new();
    }
    match (forward, se.at) {
        (true, Some(i)) if i + 1 < se.found.len() => {
            se.at = Some(i + 1);
            goto(s)
        }
        (false, Some(i)) if i > 0 => {
            se.at = Some(i - 1);
            goto(s)
        }
        (true, _) if se.done => {
            let text = se.text.clone();
            s.ui.say(Level::Info, format!("no more matches for {text:?} to the end"));
            Vec::new()
        }
        (true, _) => slice(s, false, 0),
        (false, _) => slice(s, true, 0),
    }
}

/// What the search could not scan because it was deleted first (retention moved the log start
/// while it ran), as a note for the status line; a warning when there is any.
fn gone_note(se: &Search) -> (Level, String) {
    if se.gone.is_empty() {
        return (Level::Info, String::new());
    }
    let n: u64 = se.gone.iter().map(|g| g.to - g.from).sum();
    let ranges: Vec<String> = se.gone.iter().map(|g| format!("{}..{}", g.from, g.to)).collect();
    (
        Level::Warn,
        format!(" · {n} records (offsets {}) deleted by retention before the search reached them", ranges.join(", ")),
    )
}
