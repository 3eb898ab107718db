//! The command line: global options, choosing a backend, and one file per group of verbs.
//!
//! Every verb speaks the [`Backend`] vocabulary, so it works the same on the embedded engine
//! (`--data DIR`) and on a depot server (`--connect URL`). When another depot process holds the
//! data directory and serves it, verbs connect to that server instead of failing on the lock.

/// `println!` that returns the write error instead of panicking when stdout is gone (a reader such
/// as `head` closed the pipe); [`run`] turns a broken pipe into a quiet exit.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

pub mod args;
pub mod bench;
pub mod bench_console;
pub mod bench_http;
mod console;
pub mod context;
pub mod demo;
mod engines;
mod groups;
mod publish;
mod read;
mod replay;
mod serve;
pub mod table;
mod topics;

pub use args::Cli;
use args::{BenchWhat, Global, GroupAction, Verb};

use crate::backend::embedded::Embedded;
use crate::backend::remote::Remote;
use crate::backend::{Backend, BackendError};
use crate::engine::{Engine, EngineConfig, SyncMode};
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// The default data directory: `$XDG_DATA_HOME/depot` or the platform's equivalent.
pub fn default_data_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "depot")
        .map(|d| d.data_dir().to_path_buf())
        .context("cannot find a home directory for the default data directory; pass --data DIR")
}

/// The data directory the options point at.
pub fn data_dir(g: &Global) -> Result<PathBuf> {
    match &g.data {
        Some(d) => Ok(d.clone()),
        None => default_data_dir(),
    }
}

/// Opens the embedded engine as the options say.
pub fn open_engine(g: &Global) -> Result<Engine> {
    let dir = data_dir(g)?;
    let sync: SyncMode = g.sync.parse()?;
    Ok(Engine::open(&dir, EngineConfig { sync, ..EngineConfig::default() })?)
}

/// A backend for a verb: the server named by `--connect`, the server holding the data directory,
/// or the embedded engine.
pub async fn connect(g: &Global) -> Result<Arc<dyn Backend>> {
    if let Some(name) = &g.context {
        let c = context::find(name)?;
        return context::open(&c, g).await.map_err(|e| anyhow::anyhow!("context {name}: {e}"));
    }
    if let Some(url) = &g.connect {
        let r = Remote::new(url, g.token.clone()).map_err(|e| anyhow::anyhow!("--connect {url}: {e}"))?;
        return Ok(Arc::new(r));
    }
    let dir = data_dir(g)?;
    if let Some((pid, Some(addr))) = crate::engine::lock_holder(&dir) {
        tracing::info!("{} is served by depot (pid {pid}) at {addr}; connecting to it", dir.display());
        return Ok(Arc::new(Remote::new(&addr, g.token.clone())?));
    }
    Ok(Arc::new(Embedded::new(open_engine(g)?, g.read_only)))
}

/// Prints a value as JSON (one line).
pub fn print_json<T: Serialize>(v: &T) -> Result<()> {
    outln!("{}", serde_json::to_string(v)?)?;
    Ok(())
}

/// Turns a backend error into a message that says where it came from.
pub fn backend_err(e: BackendError) -> anyhow::Error {
    anyhow::Error::msg(e.to_string())
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("start the async runtime")?;
    rt.block_on(run_async(cli))
}

/// Whether a verb changes anything (refused under `--read-only`, whichever backend serves it).
fn writes(verb: &Verb) -> bool {
    match verb {
        Verb::Topic { action } => !matches!(action, args::TopicAction::Describe { .. }),
        Verb::Publish(_) | Verb::Import(_) | Verb::Pull(_) => true,
        Verb::Group { action } => matches!(action, GroupAction::Delete { .. }),
        Verb::Reset(a) => a.execute,
        Verb::Undo(a) => a.execute,
        Verb::Replay(a) => a.execute,
        Verb::Serve(_)
        | Verb::Demo(_)
        | Verb::Topics
        | Verb::Peek(_)
        | Verb::Groups
        | Verb::Export(_)
        | Verb::Bench { .. } => false,
    }
}

async fn run_async(cli: Cli) -> Result<()> {
    let g = &cli.global;
    // Checked whichever backend ends up serving the verb, so a bad value never passes silently.
    g.sync.parse::<SyncMode>()?;
    let context_read_only = match &g.context {
        Some(name) => context::find(name)?.read_only,
        None => false,
    };
    if (g.read_only || context_read_only) && cli.verb.as_ref().is_some_and(writes) {
        // The embedded backend refuses these itself, but a server (--connect, or the one holding
        // the data directory) knows nothing of this process's --read-only.
        if context_read_only && !g.read_only {
            anyhow::bail!(
                "context {} is read-only (read_only = true in the config file): writes are disabled",
                g.context.as_deref().unwrap_or("")
            );
        }
        anyhow::bail!("depot is read-only (--read-only): writes are disabled");
    }
    let Some(verb) = cli.verb else {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
            return console::run(g, &cli.console).await;
        }
        // Not a terminal (a script, a pipe): print the overview instead of the console.
        let b = connect(g).await?;
        return match topics::overview(b.as_ref(), g).await {
            Err(e) if is_broken_pipe(&e) => Ok(()),
            r => r,
        };
    };
    match verb {
        Verb::Serve(a) => serve::run(g, &a).await,
        Verb::Demo(a) => demo::run(g, &a).await,
        Verb::Bench { what: BenchWhat::Engine(a) } => tokio::task::spawn_blocking(move || bench::run(&a)).await?,
        Verb::Bench { what: BenchWhat::Http(a) } => bench_http::run(&a).await,
        Verb::Bench { what: BenchWhat::Console(a) } => bench_console::run(&a),
        verb => {
            // Output nobody reads any more is no failure for a verb that only shows things; but
            // publish and pull have acted on what they could not print, so that stays an error.
            let quiet_pipe = !matches!(verb, Verb::Publish(_) | Verb::Pull(_));
            let b = connect(g).await?;
            let r = dispatch(b.as_ref(), g, verb).await;
            drop(b);
            match r {
                Err(e) if quiet_pipe && is_broken_pipe(&e) => Ok(()),
                r => r,
            }
        }
    }
}

/// Whether an error is stdout's reader having gone away.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

async fn dispatch(b: &dyn Backend, g: &Global, verb: Verb) -> Result<()> {
    match verb {
        Verb::Topics => topics::list(b, g).await,
        Verb::Topic { action } => topics::topic(b, g, action).await,
        Verb::Publish(a) => publish::run(b, g, a).await,
        Verb::Peek(a) => read::peek(b, g, a).await,
        Verb::Pull(a) => read::pull(b, g, a).await,
        Verb::Export(a) => read::export(b, a).await,
        Verb::Import(a) => read::import(b, g, a).await,
        Verb::Groups => groups::list(b, g).await,
        Verb::Group { action: GroupAction::Describe { name } } => groups::describe(b, g, &name).await,
        Verb::Group { action: GroupAction::Delete { name } } => groups::delete(b, g, &name).await,
        Verb::Reset(a) => groups::reset(b, g, a).await,
        Verb::Undo(a) => groups::undo(b, g, a).await,
        Verb::Replay(a) => replay::run(b, g, a).await,
        Verb::Serve(_) | Verb::Demo(_) | Verb::Bench { .. } => Ok(()),
    }
}
