//! `depot` with no verb: the console, on the embedded engine (also serving the HTTP API unless
//! told not to, and the Kafka protocol when `--kafka-listen` asks), on the server holding the
//! data directory, on a depot server, or on a context.
//! Loads the config file's theme, refresh interval and keys, and lets `:ctx NAME` switch contexts.

use super::driver::{self, Switcher};
use super::keymap::Keymap;
use super::state::{ContextBadge, Level, Settings, State, Switched};
use super::theme::Theme;
use crate::Launch;
use crate::backend::context::{self, Context};
use crate::backend::open::{Opened, SyncMode, Target, open};
use crate::backend::{Backend, BackendError};
use crate::config;
use crate::server::{self, ServeOptions};
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::Arc;

/// How the console was asked to start.
#[derive(Clone, Debug)]
pub struct Options {
    /// What to show.
    pub target: Target,
    /// Refuse every write (`--read-only`).
    pub read_only: bool,
    /// Durability of a depot context's embedded engine, for `:ctx` switches.
    pub sync: SyncMode,
    /// Where to serve the HTTP API beside an embedded engine (`None`: not at all).
    pub listen: Option<String>,
    /// Where to answer Kafka clients beside an embedded engine (`None`: not at all).
    pub kafka_listen: Option<String>,
    /// The Kafka listener's settings.
    pub kafka: server::kafka::KafkaOptions,
    /// The token the served API requires.
    pub token: Option<String>,
    /// A theme name; else the config file's, else dark.
    pub theme: Option<String>,
    /// Action ids of side panels (the demo's knobs) that `[keys]` may rebind without a warning.
    pub panel_actions: Vec<&'static str>,
}

/// Runs the console until the user quits.
pub fn run(o: Options) -> Launch {
    Box::pin(console(o))
}

async fn console(o: Options) -> Result<()> {
    let cfg_dir = config::config_dir();
    let (cfg, mut problems) = config::load(cfg_dir.as_deref());
    let theme_name = o.theme.clone().or(cfg.theme.clone()).unwrap_or_else(|| "dark".into());
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (theme, theme_problem) = Theme::load(&theme_name, cfg_dir.as_deref(), no_color);
    problems.extend(theme_problem);
    let (keymap, key_problems) = Keymap::with_overrides(&cfg.keys, &o.panel_actions);
    problems.extend(key_problems);

    let badge = match &o.target {
        Target::Context { context, .. } => Some(badge(context)),
        _ => None,
    };
    let opened = open(&o.target, o.read_only).await.map_err(|e| match &o.target {
        Target::Context { context, .. } => anyhow::anyhow!("context {}: {e}", context.name),
        _ => anyhow::Error::new(e),
    })?;
    let mut note = opened.note.clone();
    let mut server_stop = None;
    // The HTTP API beside an engine of our own (not for contexts: they name where their data is).
    if let (true, Some(listen), Target::Data { .. }) = (opened.is_embedded(), &o.listen, &o.target) {
        match serve_alongside(&opened, listen, &o).await {
            Ok((addr, stop)) => {
                note = Some(format!("HTTP API on http://{addr}"));
                server_stop = Some(stop);
            }
            Err(msg) => problems.push(msg),
        }
    }
    let mut kafka = None;
    if let Some(listen) = &o.kafka_listen {
        match (&opened.engine, &o.target) {
            (Some(engine), Target::Data { .. }) => {
                match server::kafka::start(listen, engine.clone(), o.kafka.clone()).await {
                    Ok(k) => {
                        let line = format!("Kafka on {}", k.addr);
                        note = Some(match note {
                            Some(n) => format!("{n} · {line}"),
                            None => line,
                        });
                        kafka = Some(k);
                    }
                    Err(msg) => problems.push(msg),
                }
            }
            _ => problems.push("not serving Kafka: --kafka-listen needs the console's own embedded engine".into()),
        }
    }
    let settings = Settings {
        target: opened.backend.target(),
        context: badge,
        read_only: opened.read_only.is_some(),
        note,
        refresh_ms: cfg.refresh_ms.filter(|r| (500..=60_000).contains(r)).unwrap_or(2_000) as i64,
        contexts: Vec::new(),
    };
    let mut state = State::new(settings, keymap, theme, crate::core::time::now_ms());
    match context::all() {
        Ok(all) => state.settings.contexts = all.into_keys().collect(),
        Err(e) => problems.push(e.to_string()),
    }
    if !problems.is_empty() {
        state.ui.say(Level::Warn, problems.join(" · "));
    }
    let extras = driver::Extras { panel: None, switcher: Some(switcher(o.sync, o.read_only)) };
    let result = driver::run(opened.backend.clone(), state, extras).await;
    if let Some(stop) = server_stop {
        let _ = stop.send(());
    }
    if let Some(k) = kafka {
        k.stop().await;
    }
    opened.close()?;
    result
}

/// How a context is shown in the header.
fn badge(c: &Context) -> ContextBadge {
    ContextBadge { name: c.name.clone(), danger: c.danger, color: c.color.clone() }
}

/// `:ctx NAME`: opens the named context through the same factory.
fn switcher(sync: SyncMode, read_only: bool) -> Switcher {
    Box::new(move |name: String| {
        Box::pin(async move {
            let context = context::find(&name).map_err(|e| e.to_string())?;
            let badge = badge(&context);
            let target = Target::Context { context, sync };
            let opened = open(&target, read_only).await.map_err(|e: BackendError| e.to_string())?;
            let b: Arc<dyn Backend> = opened.backend;
            let info = Switched { target: b.target(), context: Some(badge), read_only: opened.read_only.is_some() };
            Ok((b, info))
        })
    })
}

/// Serves the API beside the console; an address in use is a message, not a failure.
async fn serve_alongside(
    opened: &Opened,
    listen: &str,
    o: &Options,
) -> Result<(SocketAddr, tokio::sync::oneshot::Sender<()>), String> {
    let addr: SocketAddr =
        listen.parse().map_err(|_| format!("--listen {listen:?} is not an address like 127.0.0.1:7878 (or off)"))?;
    server::check_bind(&addr, o.token.as_deref())?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("not serving HTTP on {addr}: {e} (use --listen ADDR or --listen off)"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    opened.advertise(&local.to_string()).map_err(|e| e.to_string())?;
    let app = server::router(
        opened.backend.clone(),
        ServeOptions { token: o.token.clone(), read_only: o.read_only, ..ServeOptions::default() },
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        if let Err(e) = server::serve(listener, app, async {
            let _ = rx.await;
        })
        .await
        {
            tracing::error!("HTTP server stopped: {e}");
        }
    });
    Ok((local, tx))
}
