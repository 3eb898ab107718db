//! `update(state, msg) -> effects`: the console's pure state machine. No IO, no async; the
//! driver runs the effects and feeds their results back as messages.

use super::form::{Field, Form, FormEvent, Input};
use super::health::{self, Sample};
use super::keymap::Action;
use super::state::*;
use crate::backend::*;
use crate::core::time::parse_duration_ms;
use crate::core::*;
use crossterm::event::{KeyCode, KeyEvent, MouseEventKind};

/// Records per page in the messages view.
pub const PAGE: usize = 100;

/// Applies one message; returns what the driver should do.
pub fn update(s: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(now) => tick(s, now),
        Msg::Resize(w, h) => {
            s.size = (w, h);
            clamp_cursor(s);
            s.dirty = true;
            Vec::new()
        }
        Msg::Key(k) => {
            let fx = key(s, k);
            // Keys change views, filters and panes: keep the cursor's row on screen.
            clamp_cursor(s);
            fx
        }
        Msg::Mouse(m) => mouse(s, m),
        Msg::Loaded(l) => loaded(s, l),
        Msg::Switched(r) => switched(s, r),
        Msg::Demo(panel) => {
            if s.demo.as_ref() != Some(&panel) {
                s.demo = Some(panel);
                s.dirty = true;
            }
            Vec::new()
        }
    }
}

/// Starts the console: capabilities and the first lists.
pub fn start(s: &mut State) -> Vec<Effect> {
    let mut fx = vec![Effect::LoadCaps];
    fx.extend(refresh(s));
    fx
}

fn refresh(s: &mut State) -> Vec<Effect> {
    let mut fx = Vec::new();
    for (kind, effect) in [(Kind::Topics, Effect::LoadTopics), (Kind::Groups, Effect::LoadGroups)] {
        // Coalesce: never a second request of a kind while one is in flight.
        if s.inflight.insert(kind) {
            fx.push(effect);
        }
    }
    if !fx.is_empty() {
        s.round_failed = false;
    }
    s.next_refresh_ms = s.now_ms + s.settings.refresh_ms;
    fx
}

fn tick(s: &mut State, now: i64) -> Vec<Effect> {
    s.now_ms = now;
    let mut fx = Vec::new();
    if now >= s.next_refresh_ms {
        fx.extend(refresh(s));
        // Tail refreshes coalesce too: not while the previous read is unanswered.
        if let Some(m) = &s.messages
            && m.mode == MsgMode::Tail
            && *s.view() == View::Messages
            && !s.inflight.contains(&Kind::Messages)
        {
            fx.extend(load_messages(s));
        }
    }
    // Status messages fade after 8 s (errors stay while the backend is away).
    if let Some(st) = &s.status
        && now.saturating_sub(st.at_ms) > 8_000
        && s.backend_error.is_none()
    {
        s.status = None;
        s.dirty = true;
    }
    fx
}

fn backoff_ms(failures: u32) -> i64 {
    (1_000i64 << failures.min(5)).min(30_000)
}

/// Stores a refreshed list; on failure shows the error and backs off. True when it succeeded.
fn refreshed<T: PartialEq>(s: &mut State, kind: Kind, r: BResult<T>, slot: fn(&mut State) -> &mut T) -> bool {
    s.inflight.remove(&kind);
    match r {
        Ok(v) => {
            if !s.round_failed && s.backend_error.take().is_some() {
                s.failures = 0;
                s.say(Level::Ok, "connected again");
            }
            let target = slot(s);
            if *target != v {
                *target = v;
                s.dirty = true;
            }
            true
        }
        Err(e) => {
            // Topics and groups failing together is one failed refresh, not two.
            if !s.round_failed {
                s.failures += 1;
                s.round_failed = true;
            }
            let wait = backoff_ms(s.failures);
            s.next_refresh_ms = s.now_ms + wait;
            let text = format!("{e} — retrying in {}s", wait / 1000);
            s.backend_error = Some(text.clone());
            s.say(Level::Error, text);
            false
        }
    }
}

fn loaded(s: &mut State, l: Loaded) -> Vec<Effect> {
    match l {
        Loaded::Caps(Ok(c)) => {
            let ro = s.settings.read_only;
            s.caps = Capabilities { read_only: c.read_only || ro, ..c };
            s.dirty = true;
        }
        Loaded::Caps(Err(e)) => s.say(Level::Warn, format!("capabilities unknown: {e}")),
        Loaded::Topics(r) => {
            let ok = refreshed(s, Kind::Topics, r, |s| &mut s.topics);
            if !s.loaded_topics {
                s.loaded_topics = true;
                s.dirty = true;
            }
            // Only fresh numbers make a sample: a failed refresh would repeat stale ones.
            if ok {
                let topics: Vec<(String, u64)> =
                    s.topics.iter().map(|t| (t.name.clone(), t.rate_in().round() as u64)).collect();
                for (name, rate) in topics {
                    push_trend(s.topic_rates.entry(name).or_default(), rate, TREND);
                }
            }
            clamp_cursor(s);
        }
        Loaded::Groups(r) => {
            let ok = refreshed(s, Kind::Groups, r, |s| &mut s.groups);
            if !s.loaded_groups {
                s.loaded_groups = true;
                s.dirty = true;
            }
            // Repeated stale samples would make a moving group look stalled.
            if ok {
                s.recompute_topic_lag();
                sample_groups(s);
            }
            clamp_cursor(s);
        }
        Loaded::Messages { seq, result } => {
            let Some(m) = s.messages.as_mut() else {
                s.inflight.remove(&Kind::Messages);
                return Vec::new();
            };
            if seq != m.seq {
                return Vec::new(); // an older request answered late; the newer one is still in flight
            }
            s.inflight.remove(&Kind::Messages);
            m.loading = false;
            match result {
                Ok(items) => {
                    if m.items != items {
                        m.items = items;
                        s.dirty = true;
                    }
                    if m.mode == MsgMode::Tail {
                        let n = s.row_count();
                        let scr = s.screen_mut();
                        scr.selected = n.saturating_sub(1);
                    }
                    clamp_cursor(s);
                }
                Err(e) => s.say(Level::Error, e.to_string()),
            }
        }
        Loaded::Published(r) => {
            close_working(s);
            match r {
                Ok(acks) => {
                    let parts: std::collections::BTreeSet<u32> = acks.iter().map(|a| a.partition).collect();
                    let last = acks.last().map(|a| format!(", last at offset {}", a.offset)).unwrap_or_default();
                    let text = format!(
                        "published {} record(s) to {} (partition {}){last}",
                        acks.len(),
                        acks.first().map(|a| a.topic.as_str()).unwrap_or("?"),
                        parts.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",")
                    );
                    s.say(Level::Ok, text);
                    return refresh(s);
                }
                Err(e) => s.say(Level::Error, format!("publish failed: {e}")),
            }
        }
        Loaded::Pulled(r) => match r {
            Ok(p) => {
                if p.messages.is_empty() {
                    close_working(s);
                    s.say(Level::Info, format!("nothing to pull: group {} is caught up", p.group));
                } else {
                    s.overlay = Some(Overlay::Dialog(Dialog::Pulled(p)));
                    s.dirty = true;
                }
                return refresh(s);
            }
            Err(e) => {
                close_working(s);
                s.say(Level::Error, format!("pull failed: {e}"));
            }
        },
        Loaded::Committed(r) => {
            close_working(s);
            match r {
                Ok(()) => {
                    s.say(Level::Ok, "committed");
                    return refresh(s);
                }
                Err(e) => s.say(Level::Error, format!("commit failed: {e}")),
            }
        }
        Loaded::ResetPlanned(r) => match r {
            Ok(plan) => {
                s.overlay = Some(Overlay::Dialog(Dialog::ResetPreview { plan, force: false }));
                s.dirty = true;
            }
            Err(e) => {
                close_working(s);
                s.say(Level::Error, format!("reset: {e}"));
            }
        },
        Loaded::ResetDone(r) => {
            close_working(s);
            match r {
                Ok(rec) => {
                    let what = match rec.undo_of {
                        Some(id) => format!("undid reset #{id}"),
                        None => format!("reset #{} ({}) executed — press u in the group to undo", rec.id, rec.spec),
                    };
                    s.say(Level::Ok, format!("group {}: {what}", rec.group));
                    return refresh(s);
                }
                Err(e) => s.say(Level::Error, format!("reset refused: {e}")),
            }
        }
        Loaded::ReplayPlanned(r) => match r {
            Ok(plan) => {
                s.overlay = Some(Overlay::Dialog(Dialog::ReplayPreview(plan)));
                s.dirty = true;
            }
            Err(e) => {
                close_working(s);
                s.say(Level::Error, format!("replay: {e}"));
            }
        },
        Loaded::ReplayDone(r) => {
            close_working(s);
            match r {
                Ok(res) => {
                    s.say(Level::Ok, format!("replayed {} record(s) into {}", res.appended, res.target));
                    return refresh(s);
                }
                Err(e) => s.say(Level::Error, format!("replay failed: {e}")),
            }
        }
        Loaded::TopicCreated(r) => {
            close_working(s);
            match r {
                Ok(t) => {
                    s.say(Level::Ok, format!("created topic {} with {} partition(s)", t.name, t.partitions.len()));
                    return refresh(s);
                }
                Err(e) => s.say(Level::Error, format!("create failed: {e}")),
            }
        }
        Loaded::TopicDeleted(name, r) => {
            close_working(s);
            match r {
                Ok(()) => {
                    s.say(Level::Ok, format!("deleted topic {name}"));
                    while matches!(s.view(), View::Topic(t) if *t == name)
                        || (*s.view() == View::Messages && s.stack.len() > 1)
                    {
                        s.stack.pop();
                    }
                    return refresh(s);
                }
                Err(e) => s.say(Level::Error, format!("delete failed: {e}")),
            }
        }
    }
    Vec::new()
}

fn close_working(s: &mut State) {
    if matches!(s.overlay, Some(Overlay::Dialog(Dialog::Working(_)))) {
        s.overlay = None;
    }
    s.dirty = true;
}

fn sample_groups(s: &mut State) {
    let groups = s.groups.clone();
    for g in &groups {
        push_trend(s.group_lag.entry(g.name.clone()).or_default(), g.total_lag(), TREND);
        for p in &g.partitions {
            let key = (g.name.clone(), p.topic.clone(), p.partition);
            let committed = p.committed.unwrap_or(p.log_start);
            health::push(s.windows.entry(key.clone()).or_default(), Sample { committed, lag: p.lag });
            push_trend(s.partition_lag.entry(key).or_default(), p.lag, TREND);
        }
    }
}

/// Keeps the cursor on a row and the row on screen.
pub fn clamp_cursor(s: &mut State) {
    let n = s.row_count();
    let rows = s.body_rows();
    let scr = s.screen_mut();
    if n == 0 {
        scr.selected = 0;
        scr.scroll = 0;
        return;
    }
    scr.selected = scr.selected.min(n - 1);
    if scr.selected < scr.scroll {
        scr.scroll = scr.selected;
    }
    if scr.selected >= scr.scroll + rows {
        scr.scroll = scr.selected + 1 - rows;
    }
}

fn move_cursor(s: &mut State, delta: isize) {
    let scr = s.screen_mut();
    scr.selected = (scr.selected as isize + delta).max(0) as usize;
    clamp_cursor(s);
    s.dirty = true;
}

fn mouse(s: &mut State, m: crossterm::event::MouseEvent) -> Vec<Effect> {
    if s.overlay.is_some() {
        return Vec::new();
    }
    match m.kind {
        MouseEventKind::ScrollDown => move_cursor(s, 3),
        MouseEventKind::ScrollUp => move_cursor(s, -3),
        MouseEventKind::Down(_) => {
            // Only a click on a row of the current list selects (not its header, border or the
            // other panes of the view).
            let rows = super::view::list_rows(s);
            let inside = |v: u16, start: u16, len: u16| v >= start && v - start < len;
            if inside(m.row, rows.y, rows.height) && inside(m.column, rows.x, rows.width) {
                let idx = s.screen().scroll + (m.row - rows.y) as usize;
                if idx < s.row_count() {
                    s.screen_mut().selected = idx;
                    s.dirty = true;
                }
            }
        }
        _ => {}
    }
    Vec::new()
}

fn push_view(s: &mut State, v: View) {
    s.stack.push(Screen::new(v));
    s.dirty = true;
}

/// Switches to a top-level view (clears the stack).
fn root(s: &mut State, v: View) {
    s.stack = vec![Screen::new(v)];
    s.dirty = true;
}

fn key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    if k.kind == crossterm::event::KeyEventKind::Release {
        return Vec::new();
    }
    if s.overlay.is_some() {
        return overlay_key(s, k);
    }
    let Some(action) = s.keymap.action(&k) else {
        return Vec::new();
    };
    s.dirty = true;
    match action {
        Action::Quit => {
            if s.stack.len() == 1 {
                s.quit = true;
                return vec![Effect::Quit];
            }
            s.stack.pop();
        }
        Action::Back => {
            if !s.screen().filter.is_empty() {
                s.screen_mut().filter.clear();
            } else if s.stack.len() > 1 {
                s.stack.pop();
            }
        }
        Action::Help => s.overlay = Some(Overlay::Help),
        Action::Command => s.overlay = Some(Overlay::Command(Input::default())),
        Action::Filter => {
            let current = s.screen().filter.clone();
            s.overlay = Some(Overlay::Filter(Input { value: current }));
        }
        Action::Up => move_cursor(s, -1),
        Action::Down => move_cursor(s, 1),
        Action::Top => move_cursor(s, isize::MIN / 2),
        Action::Bottom => move_cursor(s, isize::MAX / 2),
        Action::PageUp => return page(s, -1),
        Action::PageDown => return page(s, 1),
        Action::Refresh => {
            let mut fx = refresh(s);
            if *s.view() == View::Messages {
                fx.extend(load_messages(s));
            }
            return fx;
        }
        Action::Topics => root(s, View::Topics),
        Action::Groups => root(s, View::Groups),
        Action::Enter => return enter(s),
        Action::Sort => {
            if *s.view() == View::Topics {
                s.sort = s.sort.next();
                s.say(Level::Info, format!("sorted by {}", s.sort.label()));
            }
        }
        Action::Messages => {
            if let Some((topic, partition)) = selected_topic_partition(s) {
                return open_messages(s, topic, partition, MsgMode::Browse { from: 0 });
            }
        }
        Action::Tail => return toggle_tail(s),
        Action::Backlog => return backlog(s),
        Action::Jump => {
            if *s.view() == View::Messages {
                s.overlay = Some(Overlay::Dialog(Dialog::Jump(Form::new(
                    "Jump to",
                    vec![Field::text("offset/time", "", "an offset, RFC 3339 time, or -15m (that long ago)")],
                    "Go",
                ))));
            }
        }
        Action::Publish => return open_publish(s),
        Action::CreateTopic => {
            if write_refused(s, "create topics") || unsupported(s, s.caps.create_topics, "create topics") {
                return Vec::new();
            }
            s.overlay = Some(Overlay::Dialog(Dialog::CreateTopic(Form::new(
                "Create topic",
                vec![
                    Field::text("name", "", "letters, digits, . _ -"),
                    Field::text("partitions", "1", "1..10000"),
                    Field::text("retention", "", "e.g. 7d or 1h; empty keeps everything"),
                ],
                "Create",
            ))));
        }
        Action::Delete => {
            if let Some(t) = selected_topic(s) {
                if write_refused(s, "delete topics") || unsupported(s, s.caps.delete_topics, "delete topics") {
                    return Vec::new();
                }
                s.overlay = Some(Overlay::Dialog(Dialog::Confirm {
                    title: "Delete topic".into(),
                    text: format!("Delete topic {t} and all its records? This cannot be undone."),
                    effect: Effect::DeleteTopic(t),
                    danger: true,
                }));
            }
        }
        Action::Replay => return open_replay(s),
        Action::Reset => return open_reset(s),
        Action::Undo => {
            if let Some(g) = current_group(s) {
                if write_refused(s, "undo resets")
                    || unsupported(s, s.caps.undo, "undo resets (it keeps no reset journal)")
                {
                    return Vec::new();
                }
                s.overlay = Some(Overlay::Dialog(Dialog::Working(format!("planning the undo of {g}'s last reset…"))));
                return vec![Effect::PlanUndo { group: g }];
            }
        }
        Action::Pull => return open_pull(s),
        Action::DemoRateUp
        | Action::DemoRateDown
        | Action::DemoFaster
        | Action::DemoSlower
        | Action::DemoPauseProducers
        | Action::DemoPauseGroup
        | Action::DemoAddMember
        | Action::DemoCrash
        | Action::DemoLeave
        | Action::DemoIdempotent
        | Action::DemoStepMode
        | Action::DemoStep
        | Action::DemoRestart => return demo_knob(s, action),
    }
    Vec::new()
}

/// After `:ctx`: everything on screen belonged to the old engine.
fn switched(s: &mut State, r: Result<Switched, String>) -> Vec<Effect> {
    close_working(s);
    match r {
        Ok(sw) => {
            let name = sw.context.as_ref().map(|c| c.name.clone()).unwrap_or_default();
            s.settings.target = sw.target;
            s.settings.context = sw.context;
            s.settings.read_only = sw.read_only;
            s.caps.read_only = sw.read_only;
            s.stack.truncate(1);
            s.screen_mut().selected = 0;
            s.screen_mut().scroll = 0;
            s.topics.clear();
            s.groups.clear();
            s.loaded_topics = false;
            s.loaded_groups = false;
            s.messages = None;
            s.windows.clear();
            s.group_lag.clear();
            s.partition_lag.clear();
            s.topic_rates.clear();
            s.topic_lag.clear();
            s.inflight.clear();
            s.failures = 0;
            s.backend_error = None;
            s.say(Level::Ok, format!("switched to context {name}"));
            start(s)
        }
        Err(e) => {
            s.say(Level::Error, format!("could not switch: {e}"));
            Vec::new()
        }
    }
}

/// A demo knob: group knobs act on the group in view (Groups, Group, a backlog), else on all.
fn demo_knob(s: &mut State, action: Action) -> Vec<Effect> {
    if s.demo.is_none() {
        return Vec::new();
    }
    let g = match s.view() {
        View::Groups | View::Group(_) | View::Messages => current_group(s),
        _ => None,
    };
    let knob = match action {
        Action::DemoRateUp => Knob::RateUp,
        Action::DemoRateDown => Knob::RateDown,
        Action::DemoFaster => Knob::Faster(g),
        Action::DemoSlower => Knob::Slower(g),
        Action::DemoPauseProducers => Knob::PauseProducers,
        Action::DemoPauseGroup => Knob::PauseGroup(g),
        Action::DemoAddMember => Knob::AddMember(g),
        Action::DemoCrash => Knob::Crash(g),
        Action::DemoLeave => Knob::Leave(g),
        Action::DemoIdempotent => Knob::Idempotent(g),
        Action::DemoStepMode => Knob::StepMode,
        Action::DemoStep => Knob::Step,
        _ => Knob::Restart,
    };
    if knob == Knob::Restart {
        // Back to the top: what was on screen belongs to the old run.
        s.stack.truncate(1);
        s.messages = None;
        s.windows.clear();
        s.group_lag.clear();
        s.partition_lag.clear();
        s.topic_rates.clear();
    }
    let mut fx = vec![Effect::Demo(knob)];
    fx.extend(refresh(s));
    fx
}

/// Explains and refuses what this engine cannot do (its capabilities say so).
fn unsupported(s: &mut State, can: bool, what: &str) -> bool {
    if !can {
        let kind = s.caps.kind.clone();
        s.say(Level::Warn, format!("{kind} cannot {what} (this engine does not support it)"));
        return true;
    }
    false
}

fn write_refused(s: &mut State, what: &str) -> bool {
    if s.read_only() {
        s.say(Level::Warn, format!("read-only: cannot {what} (started with --read-only, or the server is read-only)"));
        return true;
    }
    false
}

fn selected_topic(s: &State) -> Option<String> {
    match s.view() {
        View::Topics => s.visible_topics().get(s.screen().selected).map(|t| t.name.clone()),
        View::Topic(t) => Some(t.clone()),
        View::Messages => s.messages.as_ref().map(|m| m.topic.clone()),
        _ => None,
    }
}

fn selected_topic_partition(s: &State) -> Option<(String, u32)> {
    match s.view() {
        View::Topics => selected_topic(s).map(|t| (t, 0)),
        View::Topic(t) => {
            let p = s.topic(t)?.partitions.get(s.screen().selected)?.partition;
            Some((t.clone(), p))
        }
        View::Group(g) => {
            let p = s.group(g)?.partitions.get(s.screen().selected)?;
            Some((p.topic.clone(), p.partition))
        }
        View::Messages => s.messages.as_ref().map(|m| (m.topic.clone(), m.partition)),
        View::Groups => None,
    }
}

fn current_group(s: &State) -> Option<String> {
    match s.view() {
        View::Groups => s.visible_groups().get(s.screen().selected).map(|g| g.name.clone()),
        View::Group(g) => Some(g.clone()),
        View::Messages => match &s.messages.as_ref()?.mode {
            MsgMode::Backlog { group } => Some(group.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn enter(s: &mut State) -> Vec<Effect> {
    match s.view().clone() {
        View::Topics => {
            if let Some(t) = selected_topic(s) {
                push_view(s, View::Topic(t));
            }
        }
        View::Topic(_) => {
            if let Some((t, p)) = selected_topic_partition(s) {
                return open_messages(s, t, p, MsgMode::Browse { from: 0 });
            }
        }
        View::Groups => {
            if let Some(g) = current_group(s) {
                push_view(s, View::Group(g));
            }
        }
        View::Group(g) => {
            if let Some((t, p)) = selected_topic_partition(s) {
                return open_messages(s, t, p, MsgMode::Backlog { group: g });
            }
        }
        View::Messages => {
            if let Some(m) = s.messages.as_mut() {
                m.detail = !m.detail;
            }
        }
    }
    Vec::new()
}

fn open_messages(s: &mut State, topic: String, partition: u32, mode: MsgMode) -> Vec<Effect> {
    let start = s.topic(&topic).and_then(|t| t.partitions.get(partition as usize)).map(|p| p.log_start).unwrap_or(0);
    let mode = match mode {
        MsgMode::Browse { from } => MsgMode::Browse { from: from.max(start) },
        m => m,
    };
    s.messages = Some(Messages { topic, partition, mode, items: Vec::new(), seq: 0, loading: true, detail: false });
    if *s.view() == View::Messages {
        s.screen_mut().selected = 0;
        s.screen_mut().scroll = 0;
    } else {
        push_view(s, View::Messages);
    }
    load_messages(s)
}

/// Loads the messages view's current window.
fn load_messages(s: &mut State) -> Vec<Effect> {
    let committed = |s: &State, group: &str, topic: &str, partition: u32| {
        s.group(group)
            .and_then(|g| g.partitions.iter().find(|p| p.topic == topic && p.partition == partition))
            .map(|p| p.committed.unwrap_or(p.log_start))
    };
    s.seq += 1;
    let seq = s.seq;
    let Some(m) = s.messages.as_ref() else { return Vec::new() };
    let from = match &m.mode {
        MsgMode::Browse { from } => PeekFrom::Offset(*from),
        MsgMode::Tail => PeekFrom::Latest(PAGE as u64),
        MsgMode::Backlog { group } => PeekFrom::Offset(committed(s, group, &m.topic, m.partition).unwrap_or(0)),
    };
    let (topic, partition) = (m.topic.clone(), m.partition);
    if let Some(m) = s.messages.as_mut() {
        m.seq = seq;
        m.loading = true;
    }
    s.inflight.insert(Kind::Messages);
    vec![Effect::LoadMessages { seq, topic, req: PeekRequest { partition: Some(partition), from, max: PAGE } }]
}

fn page(s: &mut State, dir: isize) -> Vec<Effect> {
    let rows = s.body_rows() as isize;
    if *s.view() != View::Messages {
        move_cursor(s, dir * rows);
        return Vec::new();
    }
    let n = s.row_count();
    let sel = s.screen().selected;
    let at_edge = if dir > 0 { sel + 1 >= n } else { sel == 0 };
    if !at_edge {
        move_cursor(s, dir * rows);
        return Vec::new();
    }
    // At the edge of what is loaded: load the next or previous page.
    let Some(m) = s.messages.as_ref() else { return Vec::new() };
    let start =
        s.topic(&m.topic).and_then(|t| t.partitions.get(m.partition as usize)).map(|p| p.log_start).unwrap_or(0);
    let first = m.items.first().map(|r| r.offset);
    let last = m.items.last().map(|r| r.offset);
    let from = if dir > 0 {
        match last {
            Some(l) => l + 1,
            None => return Vec::new(),
        }
    } else {
        match first {
            Some(f) if f > start => f.saturating_sub(PAGE as u64).max(start),
            _ => return Vec::new(),
        }
    };
    if let Some(m) = s.messages.as_mut() {
        m.mode = MsgMode::Browse { from };
    }
    let scr = s.screen_mut();
    scr.selected = if dir > 0 { 0 } else { PAGE - 1 };
    scr.scroll = 0;
    load_messages(s)
}

fn toggle_tail(s: &mut State) -> Vec<Effect> {
    if *s.view() != View::Messages {
        return Vec::new();
    }
    let Some(m) = s.messages.as_mut() else { return Vec::new() };
    m.mode = if m.mode == MsgMode::Tail {
        MsgMode::Browse { from: m.items.first().map(|r| r.offset).unwrap_or(0) }
    } else {
        MsgMode::Tail
    };
    let tail = m.mode == MsgMode::Tail;
    s.say(Level::Info, if tail { "live tail: the newest records, refreshed" } else { "tail off" });
    load_messages(s)
}

fn backlog(s: &mut State) -> Vec<Effect> {
    let Some((topic, partition)) = selected_topic_partition(s) else { return Vec::new() };
    let group = current_group(s)
        .or_else(|| s.groups.iter().find(|g| g.partitions.iter().any(|p| p.topic == topic)).map(|g| g.name.clone()));
    match group {
        Some(group) => open_messages(s, topic, partition, MsgMode::Backlog { group }),
        None => {
            s.say(Level::Info, format!("no group consumes {topic} yet, so there is no backlog to show"));
            Vec::new()
        }
    }
}

fn open_publish(s: &mut State) -> Vec<Effect> {
    let Some(topic) = selected_topic(s) else {
        s.say(Level::Info, "select a topic to publish to (Topics view: 1)");
        return Vec::new();
    };
    if write_refused(s, "publish") {
        return Vec::new();
    }
    let partition = match (s.view(), &s.messages) {
        (View::Messages, Some(m)) => m.partition.to_string(),
        _ => String::new(),
    };
    s.overlay = Some(Overlay::Dialog(Dialog::Publish {
        topic: topic.clone(),
        form: Form::new(
            &format!("Publish to {topic}"),
            vec![
                Field::text("partition", &partition, "empty: by key, or the next partition in turn"),
                Field::text("key", "", "optional"),
                Field::text("headers", "", "name=value, name=value"),
                Field::multiline("value", "", "enter adds a line; tab moves on"),
                Field::text("repeat", "1", "publish this many copies"),
                Field::text("file", "", "or: a file, one record per line"),
            ],
            "Publish",
        ),
    }));
    Vec::new()
}

fn open_replay(s: &mut State) -> Vec<Effect> {
    let Some((topic, partition)) = selected_topic_partition(s) else {
        s.say(Level::Info, "select a topic to replay from");
        return Vec::new();
    };
    if write_refused(s, "replay") || unsupported(s, s.caps.replay, "replay") {
        return Vec::new();
    }
    let (from, to) = match s.topic(&topic).and_then(|t| t.partitions.get(partition as usize)) {
        Some(p) => (p.log_start.to_string(), p.end_offset.to_string()),
        None => ("0".into(), "0".into()),
    };
    let parts = if matches!(s.view(), View::Topics) { "all".to_string() } else { partition.to_string() };
    s.overlay = Some(Overlay::Dialog(Dialog::Replay {
        topic: topic.clone(),
        form: Form::new(
            &format!("Replay from {topic}"),
            vec![
                Field::choice("range", &["offsets", "time"], 0, "←/→ to choose"),
                Field::text("from", &from, "offset, or time (RFC 3339 or -1h)"),
                Field::text("to", &to, "exclusive end: offset, or time"),
                Field::text("partitions", &parts, "all, or 0,2"),
                Field::text("target", &topic, "topic to copy into"),
            ],
            "Preview",
        ),
    }));
    Vec::new()
}

fn open_reset(s: &mut State) -> Vec<Effect> {
    let Some(group) = current_group(s) else {
        s.say(Level::Info, "select a group to reset (Groups view: 2)");
        return Vec::new();
    };
    if write_refused(s, "reset offsets") || unsupported(s, !s.caps.reset_modes.is_empty(), "reset offsets") {
        return Vec::new();
    }
    let g = s.group(&group);
    let topics = g.map(group_topics).unwrap_or_default();
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    let (topic_idx, part) = match (s.view(), g) {
        (View::Group(_), Some(g)) => match g.partitions.get(s.screen().selected) {
            Some(p) => (topics.iter().position(|t| *t == p.topic).unwrap_or(0), "all".to_string()),
            None => (0, "all".into()),
        },
        _ => (0, "all".into()),
    };
    if topics.is_empty() {
        s.say(Level::Info, format!("group {group} has no topics to reset"));
        return Vec::new();
    }
    s.overlay = Some(Overlay::Dialog(Dialog::Reset {
        group: group.clone(),
        form: Form::new(
            &format!("Reset offsets of {group}"),
            vec![
                Field::choice("topic", &topic_refs, topic_idx, "←/→ to choose"),
                Field::choice("mode", &ResetMode::ALL.map(ResetMode::name), 3, "←/→ to choose"),
                Field::text("value", "-1", "offset N, shift ±N, time (RFC 3339, -15m) or duration (15m)"),
                Field::text("partitions", &part, "all, or 0,2"),
            ],
            "Preview",
        ),
    }));
    Vec::new()
}

fn open_pull(s: &mut State) -> Vec<Effect> {
    let Some(group) = current_group(s)
        .or_else(|| if let View::Topic(_) | View::Topics = s.view() { Some(String::new()) } else { None })
    else {
        s.say(Level::Info, "select a group (Groups view: 2) or a topic to pull from");
        return Vec::new();
    };
    if write_refused(s, "pull (a pull joins the group)") {
        return Vec::new();
    }
    let topics: Vec<String> = match s.group(&group) {
        Some(g) if !group.is_empty() => group_topics(g),
        _ => selected_topic(s).into_iter().collect(),
    };
    if topics.is_empty() {
        s.say(Level::Info, "no topic to pull from");
        return Vec::new();
    }
    let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    let group_value = if group.is_empty() { "depot-console".to_string() } else { group.clone() };
    s.overlay = Some(Overlay::Dialog(Dialog::PullAsk {
        group: group_value.clone(),
        form: Form::new(
            "Pull by hand",
            vec![
                Field::text("group", &group_value, "pull as this group (joins it briefly, which rebalances it)"),
                Field::choice("topic", &refs, 0, "←/→ to choose"),
                Field::text("count", "10", "records to pull"),
            ],
            "Pull",
        ),
    }));
    Vec::new()
}

fn overlay_key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    s.dirty = true;
    let Some(overlay) = s.overlay.take() else { return Vec::new() };
    match overlay {
        Overlay::Help => {
            // Any key closes help.
            Vec::new()
        }
        Overlay::Command(mut input) => match input.key(&k) {
            FormEvent::Submit => command(s, input.value.trim()),
            FormEvent::Cancel => Vec::new(),
            FormEvent::Nothing => {
                s.overlay = Some(Overlay::Command(input));
                Vec::new()
            }
        },
        Overlay::Filter(mut input) => {
            let ev = input.key(&k);
            match ev {
                FormEvent::Cancel => s.screen_mut().filter.clear(),
                FormEvent::Submit => s.screen_mut().filter = input.value.clone(),
                FormEvent::Nothing => {
                    // Filter as you type.
                    s.screen_mut().filter = input.value.clone();
                    s.overlay = Some(Overlay::Filter(input));
                }
            }
            s.screen_mut().selected = 0;
            clamp_cursor(s);
            Vec::new()
        }
        Overlay::Dialog(d) => dialog_key(s, d, k),
    }
}

fn command(s: &mut State, line: &str) -> Vec<Effect> {
    let mut words = line.split_whitespace();
    let cmd = words.next().unwrap_or("");
    let arg = words.next();
    match (cmd, arg) {
        ("", _) => {}
        ("q" | "quit" | "q!", _) => {
            s.quit = true;
            return vec![Effect::Quit];
        }
        ("topics" | "t" | "topic", None) => root(s, View::Topics),
        ("groups" | "g" | "group" | "cg", None) => root(s, View::Groups),
        ("topic" | "t", Some(name)) => {
            if s.topic(name).is_some() {
                root(s, View::Topics);
                push_view(s, View::Topic(name.to_string()));
            } else {
                s.say(Level::Error, format!("no topic named {name}"));
            }
        }
        ("group" | "g" | "cg", Some(name)) => {
            if s.group(name).is_some() {
                root(s, View::Groups);
                push_view(s, View::Group(name.to_string()));
            } else {
                s.say(Level::Error, format!("no group named {name}"));
            }
        }
        ("help" | "h", _) => s.overlay = Some(Overlay::Help),
        ("ctx" | "context", None) => {
            if s.contexts.is_empty() {
                s.say(Level::Info, "no contexts: add [contexts.NAME] tables to the config file (see the README)");
            } else {
                let current = s.settings.context.as_ref().map(|c| c.name.clone()).unwrap_or_default();
                let list: Vec<String> =
                    s.contexts.iter().map(|c| if *c == current { format!("[{c}]") } else { c.clone() }).collect();
                s.say(Level::Info, format!("contexts: {} — :ctx NAME switches", list.join(" ")));
            }
        }
        ("ctx" | "context", Some(name)) => {
            if s.contexts.iter().any(|c| c == name) {
                s.overlay = Some(Overlay::Dialog(Dialog::Working(format!("connecting to {name}…"))));
                return vec![Effect::SwitchContext(name.to_string())];
            }
            s.say(Level::Error, format!("no context named {name} (known: {})", s.contexts.join(", ")));
        }
        (other, _) => s.say(
            Level::Error,
            format!(":{other}: unknown command (try :topics, :groups, :group NAME, :topic NAME, :q)"),
        ),
    }
    Vec::new()
}

fn parse_partitions(v: &str) -> Result<Vec<u32>, String> {
    let v = v.trim();
    if v.is_empty() || v == "all" {
        return Ok(Vec::new());
    }
    v.split(',')
        .map(|p| p.trim().parse::<u32>().map_err(|_| format!("partitions: {p:?} is not a number (use all, or 0,2)")))
        .collect()
}

/// A time as typed in a form; `-15m` counts back from the state's clock.
fn parse_time(s: &State, v: &str) -> Result<i64, String> {
    crate::core::time::parse_time(v.trim(), s.now_ms).map_err(|e| e.0)
}

fn parse_headers(v: &str) -> Result<Vec<Header>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| match h.split_once('=') {
            Some((n, val)) if !n.trim().is_empty() => {
                Ok(Header { name: n.trim().into(), value: Payload::text(val.trim()) })
            }
            _ => Err(format!("header {h:?} is not name=value")),
        })
        .collect()
}

fn dialog_key(s: &mut State, d: Dialog, k: KeyEvent) -> Vec<Effect> {
    match d {
        Dialog::Working(t) => {
            // Waiting: only esc hides it (the answer still arrives).
            if k.code != KeyCode::Esc {
                s.overlay = Some(Overlay::Dialog(Dialog::Working(t)));
            }
            Vec::new()
        }
        Dialog::Confirm { title, text, effect, danger } => match k.code {
            KeyCode::Enter | KeyCode::Char('y') => {
                s.overlay = Some(Overlay::Dialog(Dialog::Working(doing(&effect))));
                vec![effect]
            }
            KeyCode::Esc | KeyCode::Char('n') => {
                s.say(Level::Info, "cancelled; nothing changed");
                Vec::new()
            }
            _ => {
                s.overlay = Some(Overlay::Dialog(Dialog::Confirm { title, text, effect, danger }));
                Vec::new()
            }
        },
        Dialog::Pulled(p) => match k.code {
            KeyCode::Char('c') => {
                s.overlay = Some(Overlay::Dialog(Dialog::Working("committing…".into())));
                vec![Effect::Commit { group: p.group.clone(), offsets: p.offsets.clone() }]
            }
            KeyCode::Esc | KeyCode::Char('n') => {
                s.say(
                    Level::Warn,
                    format!("not committed: group {} will get these {} record(s) again", p.group, p.messages.len()),
                );
                Vec::new()
            }
            _ => {
                s.overlay = Some(Overlay::Dialog(Dialog::Pulled(p)));
                Vec::new()
            }
        },
        Dialog::ResetPreview { plan, force } => match k.code {
            KeyCode::Enter | KeyCode::Char('y') => {
                if !plan.live_members.is_empty() && !force {
                    s.overlay = Some(Overlay::Dialog(Dialog::ResetPreview { plan, force }));
                    s.say(Level::Warn, "the group has live members: press f to force, or stop them first");
                    return Vec::new();
                }
                s.overlay = Some(Overlay::Dialog(Dialog::Working("resetting…".into())));
                vec![Effect::ExecuteReset { plan, force }]
            }
            KeyCode::Char('f') => {
                s.overlay = Some(Overlay::Dialog(Dialog::ResetPreview { plan, force: !force }));
                Vec::new()
            }
            KeyCode::Esc | KeyCode::Char('n') => {
                s.say(Level::Info, "reset cancelled; nothing changed");
                Vec::new()
            }
            _ => {
                s.overlay = Some(Overlay::Dialog(Dialog::ResetPreview { plan, force }));
                Vec::new()
            }
        },
        Dialog::ReplayPreview(plan) => match k.code {
            KeyCode::Enter | KeyCode::Char('y') if plan.total > 0 => {
                s.overlay = Some(Overlay::Dialog(Dialog::Working(format!("replaying {} record(s)…", plan.total))));
                vec![Effect::ExecuteReplay(plan)]
            }
            KeyCode::Esc | KeyCode::Char('n') => {
                s.say(Level::Info, "replay cancelled; nothing copied");
                Vec::new()
            }
            _ => {
                s.overlay = Some(Overlay::Dialog(Dialog::ReplayPreview(plan)));
                Vec::new()
            }
        },
        Dialog::Publish { topic, mut form } => form_dialog(
            s,
            &mut form,
            &k,
            |s, f| submit_publish(s, &topic, f),
            |f| Dialog::Publish { topic: topic.clone(), form: f },
        ),
        Dialog::CreateTopic(mut form) => form_dialog(s, &mut form, &k, submit_create, Dialog::CreateTopic),
        Dialog::Reset { group, mut form } => form_dialog(
            s,
            &mut form,
            &k,
            |s, f| submit_reset(s, &group, f),
            |f| Dialog::Reset { group: group.clone(), form: f },
        ),
        Dialog::Replay { topic, mut form } => form_dialog(
            s,
            &mut form,
            &k,
            |s, f| submit_replay(s, &topic, f),
            |f| Dialog::Replay { topic: topic.clone(), form: f },
        ),
        Dialog::PullAsk { group, mut form } => {
            form_dialog(s, &mut form, &k, submit_pull, |f| Dialog::PullAsk { group: group.clone(), form: f })
        }
        Dialog::Jump(mut form) => form_dialog(s, &mut form, &k, submit_jump, Dialog::Jump),
    }
}

/// What the working popup says while a confirmed effect runs.
fn doing(effect: &Effect) -> String {
    match effect {
        Effect::Publish { topic, req } => format!("publishing {} record(s) to {topic}…", req.records.len()),
        Effect::PublishFile { topic, path, .. } => format!("publishing the lines of {path} to {topic}…"),
        Effect::CreateTopic { name, .. } => format!("creating topic {name}…"),
        Effect::DeleteTopic(name) => format!("deleting topic {name}…"),
        _ => "working…".into(),
    }
}

/// Runs a form's key; on submit calls `submit`, which returns effects or an error kept in the form.
fn form_dialog(
    s: &mut State,
    form: &mut Form,
    k: &KeyEvent,
    submit: impl FnOnce(&mut State, &Form) -> Result<Vec<Effect>, String>,
    rebuild: impl FnOnce(Form) -> Dialog,
) -> Vec<Effect> {
    match form.key(k) {
        FormEvent::Cancel => {
            s.say(Level::Info, "cancelled; nothing changed");
            Vec::new()
        }
        FormEvent::Nothing => {
            s.overlay = Some(Overlay::Dialog(rebuild(form.clone())));
            Vec::new()
        }
        FormEvent::Submit => match submit(s, form) {
            Ok(fx) => fx,
            Err(e) => {
                form.error = Some(e);
                s.overlay = Some(Overlay::Dialog(rebuild(form.clone())));
                Vec::new()
            }
        },
    }
}

fn submit_publish(s: &mut State, topic: &str, f: &Form) -> Result<Vec<Effect>, String> {
    let partition = match f.value("partition").trim() {
        "" => None,
        p => Some(p.parse::<u32>().map_err(|_| format!("partition {p:?} is not a number"))?),
    };
    let key = Some(f.value("key")).filter(|k| !k.is_empty()).map(Payload::text);
    let headers = parse_headers(f.value("headers"))?;
    let template = OutRecord { key, value: Payload::default(), headers, partition };
    let file = f.value("file").trim();
    let effect = if !file.is_empty() {
        Effect::PublishFile { topic: topic.to_string(), path: file.to_string(), template }
    } else {
        let repeat: usize = f.value("repeat").trim().parse().map_err(|_| "repeat must be a number".to_string())?;
        if repeat == 0 || repeat > 100_000 {
            return Err("repeat must be between 1 and 100000".into());
        }
        let value = Payload::text(f.value("value"));
        let records = (0..repeat).map(|_| OutRecord { value: value.clone(), ..template.clone() }).collect();
        Effect::Publish { topic: topic.to_string(), req: PublishRequest { records, producer: None } }
    };
    let what = match &effect {
        Effect::PublishFile { path, .. } => format!("every line of {path}"),
        Effect::Publish { req, .. } => format!("{} record(s)", req.records.len()),
        _ => String::new(),
    };
    s.overlay = Some(Overlay::Dialog(Dialog::Confirm {
        title: "Publish".into(),
        text: format!("Publish {what} to {topic}?"),
        effect,
        danger: false,
    }));
    Ok(Vec::new())
}

fn submit_create(s: &mut State, f: &Form) -> Result<Vec<Effect>, String> {
    let name = f.value("name").trim().to_string();
    if name.is_empty() {
        return Err("give the topic a name".into());
    }
    let partitions: u32 =
        f.value("partitions").trim().parse().map_err(|_| "partitions must be a number".to_string())?;
    let retention_ms = match f.value("retention").trim() {
        "" => None,
        r => Some(parse_duration_ms(r).map_err(|e| e.0)?),
    };
    let config = TopicConfig { partitions, retention_ms, retention_bytes: None, segment_bytes: None };
    s.overlay = Some(Overlay::Dialog(Dialog::Confirm {
        title: "Create topic".into(),
        text: format!("Create topic {name} with {partitions} partition(s)?"),
        effect: Effect::CreateTopic { name, config },
        danger: false,
    }));
    Ok(Vec::new())
}

fn submit_reset(s: &mut State, group: &str, f: &Form) -> Result<Vec<Effect>, String> {
    let topic = f.value("topic").to_string();
    let v = f.value("value").trim();
    let int = |v: &str| v.parse::<i64>().map_err(|_| format!("value {v:?} is not a number"));
    let spec = match ResetMode::ALL.get(f.choice("mode")).copied().unwrap_or(ResetMode::ToEarliest) {
        ResetMode::ToEarliest => ResetSpec::ToEarliest,
        ResetMode::ToLatest => ResetSpec::ToLatest,
        ResetMode::ToOffset => ResetSpec::ToOffset(int(v)?.max(0) as u64),
        ResetMode::ShiftBy => ResetSpec::ShiftBy(int(v)?),
        ResetMode::ToDatetime => ResetSpec::ToDatetime(parse_time(s, v)?),
        ResetMode::ByDuration => ResetSpec::ByDuration(parse_duration_ms(v).map_err(|e| e.0)?),
    };
    let req = ResetRequest { topic, partitions: parse_partitions(f.value("partitions"))?, spec };
    s.overlay = Some(Overlay::Dialog(Dialog::Working("planning the reset…".into())));
    Ok(vec![Effect::PlanReset { group: group.to_string(), req }])
}

fn submit_replay(s: &mut State, topic: &str, f: &Form) -> Result<Vec<Effect>, String> {
    let range = if f.choice("range") == 0 {
        let n = |v: &str| v.trim().parse::<u64>().map_err(|_| format!("{v:?} is not an offset"));
        ReplayRange::Offsets { from: n(f.value("from"))?, to: n(f.value("to"))? }
    } else {
        ReplayRange::Time { since_ms: parse_time(s, f.value("from"))?, until_ms: parse_time(s, f.value("to"))? }
    };
    let target = Some(f.value("target").trim().to_string()).filter(|t| !t.is_empty());
    let req = ReplayRequest {
        source: topic.to_string(),
        partitions: parse_partitions(f.value("partitions"))?,
        range,
        target,
    };
    s.overlay = Some(Overlay::Dialog(Dialog::Working("counting the records to replay…".into())));
    Ok(vec![Effect::PlanReplay(req)])
}

fn submit_pull(s: &mut State, f: &Form) -> Result<Vec<Effect>, String> {
    let group = f.value("group").trim().to_string();
    if group.is_empty() {
        return Err("name the group to pull as".into());
    }
    let max: usize = f.value("count").trim().parse().map_err(|_| "count must be a number".to_string())?;
    if max == 0 || max > 10_000 {
        return Err("count must be between 1 and 10000".into());
    }
    let req = PullRequest { topic: f.value("topic").to_string(), max, commit: false, wait_ms: 0 };
    s.overlay = Some(Overlay::Dialog(Dialog::Working(format!("pulling as {group}…"))));
    Ok(vec![Effect::Pull { group, req }])
}

fn submit_jump(s: &mut State, f: &Form) -> Result<Vec<Effect>, String> {
    let v = f.value("offset/time").trim();
    let Some(m) = s.messages.as_ref() else { return Ok(Vec::new()) };
    let (topic, partition) = (m.topic.clone(), m.partition);
    let from = match v.parse::<u64>() {
        Ok(o) => PeekFrom::Offset(o),
        Err(_) => PeekFrom::Time(parse_time(s, v)?),
    };
    s.seq += 1;
    let seq = s.seq;
    if let Some(m) = s.messages.as_mut() {
        m.seq = seq;
        m.loading = true;
        m.mode = MsgMode::Browse { from: if let PeekFrom::Offset(o) = from { o } else { 0 } };
    }
    s.screen_mut().selected = 0;
    s.screen_mut().scroll = 0;
    Ok(vec![Effect::LoadMessages { seq, topic, req: PeekRequest { partition: Some(partition), from, max: PAGE } }])
}
