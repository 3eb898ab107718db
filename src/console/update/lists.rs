//! The periodic refresh of the topics and groups lists: due on the clock, coalesced (never a
//! second load of a kind in flight), backing off while the backend is away; and what the answers
//! change (the lists, their trends and health windows, the capabilities).

use crate::backend::BResult;
use crate::console::effect::{Effect, Kind};
use crate::console::state::{Data, Level, MsgMode, State, View, sample_due};
use crate::core::*;

/// Loads the lists now (those not already in flight) and schedules the next refresh.
pub fn refresh(s: &mut State) -> Vec<Effect> {
    let mut fx = Vec::new();
    for (kind, effect) in [(Kind::Topics, Effect::LoadTopics), (Kind::Groups, Effect::LoadGroups)] {
        // Coalesce: never a second request of a kind while one is in flight.
        if s.refresh.inflight.insert(kind) {
            fx.push(effect);
        }
    }
    if !fx.is_empty() {
        s.refresh.round_failed = false;
    }
    s.refresh.next_refresh_ms = s.ui.now_ms + s.settings.refresh_ms;
    fx
}

/// Time passed: refresh when due (and the live tail with it), fade an old status.
pub fn tick(s: &mut State, now: i64) -> Vec<Effect> {
    s.ui.now_ms = now;
    let mut fx = Vec::new();
    if now >= s.refresh.next_refresh_ms {
        fx.extend(refresh(s));
        // Tail refreshes coalesce too: not while the previous read is unanswered.
        if let Some(m) = &s.data.messages
            && m.mode == MsgMode::Tail
            && *s.nav.view() == View::Messages
            && !s.refresh.inflight.contains(&Kind::Messages)
        {
            fx.extend(super::messages::load(s));
        }
    }
    // Status messages fade after 8 s (errors stay while the backend is away).
    if let Some(st) = &s.ui.status
        && now.saturating_sub(st.at_ms) > 8_000
        && s.refresh.backend_error.is_none()
    {
        s.ui.status = None;
        s.ui.dirty = true;
    }
    fx
}

/// Stores a refreshed list in its slot of the data (the list, and whether it has answered once);
/// on failure shows the error and backs off. True when it succeeded.
fn refreshed<T: PartialEq>(
    s: &mut State,
    kind: Kind,
    r: BResult<T>,
    slot: fn(&mut Data) -> (&mut T, &mut bool),
) -> bool {
    s.refresh.inflight.remove(&kind);
    let (_, loaded) = slot(&mut s.data);
    if !*loaded {
        *loaded = true;
        s.ui.dirty = true;
    }
    match r {
        Ok(v) => {
            if !s.refresh.round_failed && s.refresh.backend_error.take().is_some() {
                s.refresh.failures = 0;
                s.ui.say(Level::Ok, "connected again");
            }
            let (target, _) = slot(&mut s.data);
            if *target != v {
                *target = v;
                s.ui.dirty = true;
            }
            true
        }
        Err(e) => {
            // Topics and groups failing together is one failed refresh, not two.
            if !s.refresh.round_failed {
                s.refresh.failures += 1;
                s.refresh.round_failed = true;
            }
            let wait = s.refresh.backoff_ms();
            s.refresh.next_refresh_ms = s.ui.now_ms + wait;
            let text = format!("{e} — retrying in {}s", wait / 1000);
            s.refresh.backend_error = Some(text.clone());
            s.ui.say(Level::Error, text);
            false
        }
    }
}

pub fn caps(s: &mut State, r: BResult<Capabilities>) -> Vec<Effect> {
    match r {
        Ok(c) => {
            let ro = s.settings.read_only;
            s.data.caps = Capabilities { read_only: c.read_only || ro, ..c };
            s.ui.dirty = true;
        }
        Err(e) => s.ui.say(Level::Warn, format!("capabilities unknown: {e}")),
    }
    Vec::new()
}

pub fn topics(s: &mut State, r: BResult<Vec<TopicInfo>>) -> Vec<Effect> {
    let ok = refreshed(s, Kind::Topics, r, |d| (&mut d.topics, &mut d.loaded_topics));
    // Only fresh numbers make a sample: a failed refresh would repeat stale ones (and so would a
    // refresh while a demo's clock stands still).
    let clock = s.sample_clock();
    if ok && sample_due(&mut s.trends.topics_slot, clock, s.settings.refresh_ms) {
        s.trends.sample_topics(&s.data.topics);
    }
    super::clamp_cursor(s);
    Vec::new()
}

pub fn groups(s: &mut State, r: BResult<Vec<GroupInfo>>) -> Vec<Effect> {
    let ok = refreshed(s, Kind::Groups, r, |d| (&mut d.groups, &mut d.loaded_groups));
    // Repeated stale samples would make a moving group look stalled.
    if ok {
        s.trends.recompute_topic_lag(&s.data.groups);
        let clock = s.sample_clock();
        if sample_due(&mut s.trends.groups_slot, clock, s.settings.refresh_ms) {
            // On a side panel's clock (the demo's), the samples' times are that clock's too, so
            // "unchanged for 18s" means 18 simulated seconds.
            let at_ms = clock.map_or(s.ui.now_ms, |c| i64::try_from(c).unwrap_or(i64::MAX));
            s.trends.sample_groups(&s.data.groups, at_ms);
        }
    }
    super::clamp_cursor(s);
    Vec::new()
}
