//! `--context NAME` and `:ctx NAME`: opening a named connection from the config file.

use super::args::Global;
use crate::backend::context::{self, Context, Kind};
use crate::backend::embedded::Embedded;
use crate::backend::remote::Remote;
use crate::backend::{Backend, BackendError};
use crate::console::config;
use crate::console::state::{ContextBadge, Switched};
use anyhow::Result;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every context in the config file (secrets read from the environment).
pub fn all() -> Result<BTreeMap<String, Context>> {
    let (cfg, problems) = config::load(config::config_dir().as_deref());
    if let Some(p) = problems.first() {
        anyhow::bail!("{p}");
    }
    context::parse(&cfg.contexts, &|v| std::env::var(v).ok()).map_err(anyhow::Error::msg)
}

/// The named context, or an error listing the known ones.
pub fn find(name: &str) -> Result<Context> {
    let all = all()?;
    match all.get(name) {
        Some(c) => Ok(c.clone()),
        None if all.is_empty() => anyhow::bail!(
            "no context named {name}: the config file ({}) defines none; see the README's Contexts section",
            config::config_dir()
                .map(|d| d.join("config.toml").display().to_string())
                .unwrap_or_else(|| "config.toml".into())
        ),
        None => anyhow::bail!("no context named {name}; known: {}", all.keys().cloned().collect::<Vec<_>>().join(", ")),
    }
}

pub fn badge(c: &Context) -> ContextBadge {
    ContextBadge { name: c.name.clone(), danger: c.danger, color: c.color.clone() }
}

/// Connects to a context.
pub async fn open(c: &Context, g: &Global) -> Result<Arc<dyn Backend>, BackendError> {
    c.check_env()?;
    match c.kind {
        Kind::Depot => {
            if let Some(url) = c.get("url") {
                return Ok(Arc::new(Remote::new(url, c.get("token").map(str::to_string))?));
            }
            let dir = match c.path("data") {
                Some(d) => d,
                None => super::default_data_dir().map_err(|e| BackendError::BadRequest(e.to_string()))?,
            };
            if let Some((_, Some(addr))) = crate::engine::lock_holder(&dir) {
                return Ok(Arc::new(Remote::new(&addr, c.get("token").map(str::to_string))?));
            }
            let sync =
                g.sync.parse().map_err(|e: crate::engine::EngineError| BackendError::BadRequest(e.to_string()))?;
            let engine = crate::engine::Engine::open(&dir, crate::engine::EngineConfig { sync, ..Default::default() })?;
            Ok(Arc::new(Embedded::new(engine, c.read_only || g.read_only)))
        }
        Kind::Nats => super::engines::nats(c).await,
        Kind::Redis => super::engines::redis(c).await,
        Kind::Kafka => super::engines::kafka(c).await,
    }
}

/// For the console's `:ctx NAME`.
pub fn switcher(g: Global) -> crate::console::driver::Switcher {
    Box::new(move |name: String| {
        let g = g.clone();
        Box::pin(async move {
            let c = find(&name).map_err(|e| e.to_string())?;
            let b = open(&c, &g).await.map_err(|e| e.to_string())?;
            let info = Switched { target: b.target(), context: Some(badge(&c)), read_only: c.read_only || g.read_only };
            Ok((b, info))
        })
    })
}
