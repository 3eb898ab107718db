//! The driver: owns the terminal, turns terminal events and ticks into messages on one channel,
//! runs effects against the backend in background tasks, and redraws only when the state changed.

use super::effect::Effect;
use super::msg::{Loaded, Msg};
use super::panel::{PanelAction, SidePanel};
use super::state::{State, Switched};
use super::update::{start, update};
use super::view;
use crate::backend::{Backend, BackendError};
use crate::core::merge::{Keep, MergedPage, MergedRead, merge_page};
use crate::core::{Ack, OutRecord, Payload, PeekRequest, PublishRequest};
use anyhow::{Context, Result};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// Restores the terminal however the console ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Lets go of the terminal, each step whatever became of the one before. Failures are ignored:
/// with the terminal gone (a hangup) there is nothing to restore, and reporting it with
/// `eprintln!` (as `ratatui::restore` and the panic hook `ratatui::init` installs do) panics on
/// the closed stderr, which in a panic hook aborts and skips the rest of the cleanup.
fn restore() {
    let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = crossterm::execute!(std::io::stdout(), crossterm::terminal::LeaveAlternateScreen);
}

/// Raw mode, the alternate screen, and a terminal drawing on stdout (what `ratatui::try_init`
/// does, without its panic hook: ours is installed by [`run`]).
fn init() -> std::io::Result<ratatui::DefaultTerminal> {
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
}

fn now_ms() -> i64 {
    crate::core::time::now_ms()
}

/// What connects the provider of a side panel (a running demo) to the console: the panel's key
/// presses go one way, what the panel shows the other.
pub struct PanelLink {
    pub actions: Box<dyn Fn(PanelAction) + Send>,
    pub panels: tokio::sync::mpsc::UnboundedReceiver<SidePanel>,
}

/// Connects to a context by name (for `:ctx NAME`).
pub type Switcher = Box<
    dyn Fn(
            String,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(Arc<dyn Backend>, Switched), String>> + Send>>
        + Send
        + Sync,
>;

/// Optional parts of a console session.
#[derive(Default)]
pub struct Extras {
    pub panel: Option<PanelLink>,
    pub switcher: Option<Switcher>,
}

/// Runs the console until the user quits.
pub async fn run(backend: Arc<dyn Backend>, mut state: State, extras: Extras) -> Result<()> {
    let Extras { panel, switcher } = extras;
    let switcher = switcher.map(Arc::new);
    let mut backend = backend;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the console needs a terminal; for scripts use the verbs (depot --help)");
    }
    // Restore the terminal before any panic message is printed, then chain to the previous hook.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
    let mut terminal = init().context("cannot set up the terminal")?;
    let _guard = TerminalGuard;
    crossterm::execute!(std::io::stdout(), EnableMouseCapture).context("cannot enable the mouse")?;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    let input = tx.clone();
    std::thread::Builder::new()
        .name("depot-input".into())
        .spawn(move || {
            loop {
                let msg = match crossterm::event::read() {
                    Ok(Event::Key(k)) => Msg::Key(k),
                    Ok(Event::Mouse(m)) => Msg::Mouse(m),
                    Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::error!("reading the terminal failed: {e}");
                        break;
                    }
                };
                if input.send(msg).is_err() {
                    break;
                }
            }
        })
        .context("start the input thread")?;
    let ticker = tx.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(500));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            if ticker.send(Msg::Tick(now_ms())).is_err() {
                break;
            }
        }
    });

    let panel_actions = match panel {
        Some(PanelLink { actions, mut panels }) => {
            let to_console = tx.clone();
            tokio::spawn(async move {
                while let Some(p) = panels.recv().await {
                    if to_console.send(Msg::Panel(p)).is_err() {
                        break;
                    }
                }
            });
            Some(actions)
        }
        None => None,
    };
    let (switch_tx, mut switch_rx) = tokio::sync::mpsc::unbounded_channel::<Arc<dyn Backend>>();
    let size = terminal.size().context("terminal size")?;
    state.ui.size = (size.width, size.height);
    state.ui.now_ms = now_ms();
    for e in start(&mut state) {
        spawn_effect(e, backend.clone(), tx.clone());
    }
    loop {
        if state.ui.dirty {
            terminal.draw(|f| view::render(f, &state)).context("drawing failed")?;
            state.ui.dirty = false;
        }
        let Some(msg) = rx.recv().await else { break };
        // A context switch delivers the new backend before its message, so the effects that
        // message starts already go to the new engine.
        while let Ok(b) = switch_rx.try_recv() {
            backend = b;
        }
        for e in update(&mut state, msg) {
            match e {
                Effect::Quit => {}
                Effect::Copy(text) => {
                    // Between two draws, on the terminal's own stream, so nothing interleaves.
                    let _ = tx.send(Msg::Loaded(Loaded::Copied(copy_osc52(&text))));
                }
                Effect::Panel(a) => {
                    if let Some(forward) = &panel_actions {
                        forward(a);
                    }
                }
                Effect::SwitchContext(name) => {
                    let Some(sw) = switcher.clone() else {
                        let _ = tx.send(Msg::Switched(Err("contexts are not available here".into())));
                        continue;
                    };
                    let (btx, done) = (tx.clone(), switch_tx.clone());
                    tokio::spawn(async move {
                        match sw(name).await {
                            Ok((b, info)) => {
                                let _ = done.send(b);
                                let _ = btx.send(Msg::Switched(Ok(info)));
                            }
                            Err(e) => {
                                let _ = btx.send(Msg::Switched(Err(e)));
                            }
                        }
                    });
                }
                e => spawn_effect(e, backend.clone(), tx.clone()),
            }
        }
        if state.ui.quit {
            break;
        }
    }
    Ok(())
}

/// Runs one effect in the background and sends its result back.
pub fn spawn_effect(e: Effect, b: Arc<dyn Backend>, tx: UnboundedSender<Msg>) {
    tokio::spawn(async move {
        if let Some(loaded) = run_effect(e, b.as_ref()).await {
            let _ = tx.send(Msg::Loaded(loaded));
        }
    });
}

/// Runs an effect against a backend (also used by tests without a terminal).
pub async fn run_effect(e: Effect, b: &dyn Backend) -> Option<Loaded> {
    Some(match e {
        Effect::LoadCaps => Loaded::Caps(b.capabilities().await),
        Effect::LoadTopics => Loaded::Topics(b.list_topics().await),
        Effect::LoadGroups => Loaded::Groups(b.list_groups().await),
        Effect::LoadMessages { seq, topic, req } => Loaded::Messages { seq, result: b.peek(&topic, req).await },
        Effect::LoadMerged { seq, topic, reads, keep, max } => {
            Loaded::Merged { seq, result: load_merged(b, &topic, reads, keep, max).await }
        }
        Effect::Search { seq, topic, req } => Loaded::Searched { seq, result: b.search(&topic, req).await },
        Effect::SaveFile { path, bytes } => Loaded::Saved(save_file(path, bytes).await),
        Effect::Publish { topic, req } => Loaded::Published(b.publish(&topic, req).await),
        Effect::PublishFile { topic, path, template } => {
            Loaded::Published(publish_file(b, &topic, &path, template).await)
        }
        Effect::Pull { group, req } => Loaded::Pulled(b.pull(&group, req).await),
        Effect::Commit { group, offsets } => Loaded::Committed(b.commit(&group, offsets).await),
        Effect::PlanReset { group, req } => Loaded::ResetPlanned(b.plan_reset(&group, req).await),
        Effect::ExecuteReset { plan, force } => Loaded::ResetDone(b.execute_reset(plan, force).await),
        Effect::PlanUndo { group } => Loaded::ResetPlanned(b.plan_undo(&group).await),
        Effect::PlanReplay(req) => Loaded::ReplayPlanned(b.plan_replay(req).await),
        Effect::ExecuteReplay(plan) => Loaded::ReplayDone(b.execute_replay(plan).await),
        Effect::CreateTopic { name, config } => Loaded::TopicCreated(b.create_topic(&name, config).await),
        Effect::DeleteTopic(name) => {
            let r = b.delete_topic(&name).await;
            Loaded::TopicDeleted(name, r)
        }
        Effect::Quit | Effect::Panel(_) | Effect::SwitchContext(_) | Effect::Copy(_) => return None,
    })
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard (tmux passes it on with
/// `set -g set-clipboard on`).
pub fn osc52(text: &str) -> String {
    use base64::Engine as _;
    format!("\x1b]52;c;{}\x07", base64::engine::general_purpose::STANDARD.encode(text.as_bytes()))
}

fn copy_osc52(text: &str) -> Result<usize, String> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(osc52(text).as_bytes()).and_then(|()| out.flush()).map_err(|e| e.to_string())?;
    Ok(text.len())
}

/// Writes `bytes` to `path` off the async threads; refuses to overwrite an existing file.
/// One read per partition, merged by time into a page (see [`crate::core::merge`]).
async fn load_merged(
    b: &dyn Backend,
    topic: &str,
    reads: Vec<MergedRead>,
    keep: Keep,
    max: usize,
) -> Result<MergedPage, BackendError> {
    let mut read = Vec::with_capacity(reads.len());
    for r in reads {
        let req = PeekRequest { partition: Some(r.partition), from: r.from, max };
        let items = b.peek(topic, req).await?;
        read.push((r, items));
    }
    Ok(merge_page(read, max, keep))
}

async fn save_file(path: String, bytes: bytes::Bytes) -> Result<(String, usize), String> {
    let p = path.clone();
    let n = bytes.len();
    let r = tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&p)?;
        f.write_all(&bytes)?;
        f.sync_all()
    })
    .await
    .map_err(|e| e.to_string())?;
    r.map(|()| (path.clone(), n)).map_err(|e| format!("cannot write {path}: {e}"))
}

async fn publish_file(b: &dyn Backend, topic: &str, path: &str, template: OutRecord) -> Result<Vec<Ack>, BackendError> {
    let p = path.to_string();
    let text = tokio::task::spawn_blocking(move || std::fs::read(&p))
        .await
        .map_err(|e| BackendError::Internal(e.to_string()))?
        .map_err(|e| BackendError::BadRequest(format!("cannot read {path}: {e}")))?;
    let records: Vec<OutRecord> = text
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .map(|l| OutRecord { value: Some(Payload(bytes::Bytes::copy_from_slice(l))), ..template.clone() })
        .collect();
    if records.is_empty() {
        return Err(BackendError::BadRequest(format!("{path} has no lines to publish")));
    }
    let mut acks = Vec::with_capacity(records.len());
    for chunk in records.chunks(1000) {
        acks.extend(b.publish(topic, PublishRequest { records: chunk.to_vec(), producer: None }).await?);
    }
    Ok(acks)
}
