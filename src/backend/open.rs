//! The one factory: from what the user named (a data directory, a server, a context) to a
//! [`Backend`], read-only when asked. Every front end opens its backend here: the CLI's verbs, the
//! console (and its `:ctx` switch), the demo.

use super::context::{Context, Kind};
use super::embedded::Embedded;
use super::kafka::{self, KafkaConfig};
use super::nats::{self, NatsConfig};
use super::read_only::{ReadOnly, Why};
use super::redis::{self, RedisConfig};
use super::remote::Remote;
use super::{BResult, Backend, BackendError};
use crate::engine::{Engine, EngineConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use crate::engine::SyncMode;

/// What to open.
#[derive(Clone, Debug)]
pub enum Target {
    /// The embedded engine on `dir`; when a serving depot holds `dir`, that server (with `token`).
    Data { dir: PathBuf, sync: SyncMode, token: Option<String> },
    /// A depot server.
    Remote { url: String, token: Option<String> },
    /// A context from the config file; `sync` applies when it names a data directory.
    Context { context: Context, sync: SyncMode },
    /// An engine this process opened itself (the demo's runs on the simulation's clock).
    Engine(Engine),
}

/// An opened backend and what came with it.
pub struct Opened {
    pub backend: Arc<dyn Backend>,
    /// The engine, when one was opened in this process: the console serves HTTP beside it, and
    /// whoever opened it closes it when done.
    pub engine: Option<Engine>,
    /// A line for the console's header, e.g. "attached to depot pid N, which holds DIR".
    pub note: Option<String>,
    /// Why writes are refused, when they are.
    pub read_only: Option<Why>,
}

impl Opened {
    /// Whether an engine was opened in this process (so an HTTP API could be served beside it).
    pub fn is_embedded(&self) -> bool {
        self.engine.is_some()
    }

    /// Tells other depot processes that this one serves its engine's data directory at `addr`
    /// (they then attach to it instead of failing on the lock). Nothing to do without an engine.
    pub fn advertise(&self, addr: &str) -> BResult<()> {
        match &self.engine {
            Some(e) => Ok(e.advertise(Some(addr))?),
            None => Ok(()),
        }
    }

    /// Closes the engine opened in this process, if any: flushes it and releases the lock.
    pub fn close(self) -> BResult<()> {
        match self.engine {
            Some(e) => Ok(e.close()?),
            None => Ok(()),
        }
    }
}

/// The default data directory: `$XDG_DATA_HOME/depot` or the platform's equivalent.
pub fn default_data_dir() -> BResult<PathBuf> {
    directories::ProjectDirs::from("", "", "depot").map(|d| d.data_dir().to_path_buf()).ok_or_else(|| {
        BackendError::BadRequest("cannot find a home directory for the default data directory; pass --data DIR".into())
    })
}

/// Opens `target`; with `read_only` (the `--read-only` flag), or when the context says
/// `read_only = true`, every write is refused by a [`ReadOnly`] wrapper.
pub async fn open(target: &Target, read_only: bool) -> BResult<Opened> {
    let why = match target {
        _ if read_only => Some(Why::Flag),
        Target::Context { context, .. } if context.read_only => Some(Why::Context(context.name.clone())),
        _ => None,
    };
    let mut opened = match target {
        Target::Data { dir, sync, token } => data(dir, *sync, token.clone())?,
        Target::Remote { url, token } => remote(url, token.clone())?,
        Target::Context { context, sync } => self::context(context, *sync).await?,
        Target::Engine(engine) => Opened {
            backend: Arc::new(Embedded::new(engine.clone())),
            engine: Some(engine.clone()),
            note: None,
            read_only: None,
        },
    };
    if let Some(why) = &why {
        opened.backend = Arc::new(ReadOnly::new(opened.backend, why.clone()));
    }
    opened.read_only = why;
    Ok(opened)
}

fn remote(url: &str, token: Option<String>) -> BResult<Opened> {
    Ok(Opened { backend: Arc::new(Remote::new(url, token)?), engine: None, note: None, read_only: None })
}

/// The engine on `dir`, or the depot server that holds it.
fn data(dir: &Path, sync: SyncMode, token: Option<String>) -> BResult<Opened> {
    if let Some((pid, Some(addr))) = crate::engine::lock_holder(dir) {
        tracing::info!("{} is served by depot (pid {pid}) at {addr}; connecting to it", dir.display());
        let mut opened = remote(&addr, token)?;
        opened.note = Some(format!("attached to depot pid {pid}, which holds {}", dir.display()));
        return Ok(opened);
    }
    let engine = Engine::open(dir, EngineConfig { sync, ..EngineConfig::default() })?;
    let backend = Arc::new(Embedded::new(engine.clone()));
    Ok(Opened { backend, engine: Some(engine), note: None, read_only: None })
}

async fn context(c: &Context, sync: SyncMode) -> BResult<Opened> {
    c.check_env()?;
    let backend: Arc<dyn Backend> = match c.kind {
        Kind::Depot => {
            let token = c.get("token").map(str::to_string);
            if let Some(url) = c.get("url") {
                return remote(url, token);
            }
            let dir = match c.path("data") {
                Some(d) => d,
                None => default_data_dir()?,
            };
            return data(&dir, sync, token);
        }
        Kind::Kafka => Arc::new(kafka::connect(&KafkaConfig::from_context(c)?).await?),
        Kind::Nats => Arc::new(nats::connect(&NatsConfig::from_context(c)?).await?),
        Kind::Redis => Arc::new(redis::connect(&RedisConfig::from_context(c)?).await?),
    };
    Ok(Opened { backend, engine: None, note: None, read_only: None })
}
