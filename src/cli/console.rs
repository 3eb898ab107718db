//! `depot` with no verb: the console, on the embedded engine (also serving the HTTP API unless
//! `--listen off`), on the server holding the data directory, or on `--connect URL`.

use super::args::{ConsoleArgs, Global};
use crate::backend::Backend;
use crate::backend::embedded::Embedded;
use crate::backend::remote::Remote;
use crate::console::keymap::Keymap;
use crate::console::state::{Level, Settings, State};
use crate::console::theme::Theme;
use crate::console::{config, driver};
use crate::server::{self, ServeOptions};
use anyhow::Result;
use std::sync::Arc;

pub async fn run(g: &Global, a: &ConsoleArgs) -> Result<()> {
    let cfg_dir = config::config_dir();
    let (cfg, mut problems) = config::load(cfg_dir.as_deref());
    let theme_name = a.theme.clone().or(cfg.theme.clone()).unwrap_or_else(|| "dark".into());
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (theme, theme_problem) = Theme::load(&theme_name, cfg_dir.as_deref(), no_color);
    problems.extend(theme_problem);
    let (keymap, key_problems) = Keymap::with_overrides(&cfg.keys, &crate::demo::knobs::action_ids());
    problems.extend(key_problems);

    let mut engine = None;
    let mut note = None;
    let mut server_stop = None;
    let mut badge = None;
    let mut read_only = g.read_only;
    let backend: Arc<dyn Backend> = if let Some(name) = &g.context {
        let c = super::context::find(name)?;
        badge = Some(super::context::badge(&c));
        read_only |= c.read_only;
        super::context::open(&c, g).await.map_err(|e| anyhow::anyhow!("context {name}: {e}"))?
    } else if let Some(url) = &g.connect {
        Arc::new(Remote::new(url, g.token.clone())?)
    } else {
        let dir = super::data_dir(g)?;
        match crate::engine::lock_holder(&dir) {
            Some((pid, Some(addr))) => {
                note = Some(format!("attached to depot pid {pid}, which holds {}", dir.display()));
                Arc::new(Remote::new(&addr, g.token.clone())?)
            }
            _ => {
                let e = super::open_engine(g)?;
                let embedded = Arc::new(Embedded::new(e.clone(), g.read_only));
                if a.listen != "off" {
                    match serve_alongside(&e, embedded.clone(), &a.listen, g).await {
                        Ok((addr, stop)) => {
                            note = Some(format!("HTTP API on http://{addr}"));
                            server_stop = Some(stop);
                        }
                        Err(msg) => problems.push(msg),
                    }
                }
                engine = Some(e);
                embedded
            }
        }
    };
    let settings = Settings {
        target: backend.target(),
        context: badge,
        read_only,
        note,
        refresh_ms: cfg.refresh_ms.filter(|r| (500..=60_000).contains(r)).unwrap_or(2_000) as i64,
        contexts: Vec::new(),
    };
    let mut state = State::new(settings, keymap, theme, crate::core::time::now_ms());
    match super::context::all() {
        Ok(all) => state.settings.contexts = all.into_keys().collect(),
        Err(e) => problems.push(e.to_string()),
    }
    if !problems.is_empty() {
        state.ui.say(Level::Warn, problems.join(" · "));
    }
    let extras = driver::Extras { panel: None, switcher: Some(super::context::switcher(g.clone())) };
    let result = driver::run(backend, state, extras).await;
    if let Some(stop) = server_stop {
        let _ = stop.send(());
    }
    if let Some(e) = engine {
        e.close()?;
    }
    result
}

/// Serves the API beside the console; an address in use is a message, not a failure.
async fn serve_alongside(
    engine: &crate::engine::Engine,
    backend: Arc<Embedded>,
    listen: &str,
    g: &Global,
) -> Result<(std::net::SocketAddr, tokio::sync::oneshot::Sender<()>), String> {
    let addr: std::net::SocketAddr =
        listen.parse().map_err(|_| format!("--listen {listen:?} is not an address like 127.0.0.1:7878 (or off)"))?;
    server::check_bind(&addr, g.token.as_deref())?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("not serving HTTP on {addr}: {e} (use --listen ADDR or --listen off)"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    engine.advertise(Some(&local.to_string())).map_err(|e| e.to_string())?;
    let app = server::router(backend, ServeOptions { token: g.token.clone(), read_only: g.read_only });
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
