//! The command line: arguments ([`args`]), and one file per group of verbs. The console, the demo
//! and the console benchmark have launchers of their own (`console::launch`, `demo::launch`,
//! `console::bench`): `src/main.rs` hands those to them and everything else to [`run`].
//!
//! - `topics`: `topics`, `topic create|describe|delete`, and the overview (no verb, no terminal)
//! - `publish`: `publish`; `read`: `peek`, `pull`, `export`, `import`; `records`: how they print
//!   records (JSON lines, or a table cut to the terminal's width)
//! - `groups`: `groups`, `group describe|delete`, `reset`, `undo`; `replay`: `replay`
//! - `serve`: `serve` (the embedded engine over HTTP)
//! - [`bench`](mod@bench): `bench run` (one workload on any engines, side by side), `bench engine`,
//!   `bench http`
//!
//! Every verb speaks the [`Backend`] vocabulary through the one factory (`backend::open`), so it
//! works the same on the embedded engine (`--data DIR`), a depot server (`--connect URL`) or a
//! context (`--context NAME`). When another depot process holds the data directory and serves
//! it, verbs connect to that server instead of failing on the lock.

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
mod groups;
mod publish;
mod read;
mod records;
mod replay;
mod serve;
mod topics;

pub use args::Cli;
use args::{BenchWhat, Global, GroupAction, Verb};

use crate::Launch;
use crate::backend::open::{Target, open};
use crate::backend::{Backend, BackendError};
use crate::core::table::Table;
use anyhow::Result;
use serde::Serialize;
use std::sync::Arc;

/// A backend for a verb, as the global options name it: `--context`, `--connect`, the server
/// holding the data directory, or the embedded engine; read-only under `--read-only` or a
/// read-only context.
pub async fn connect(g: &Global) -> Result<Arc<dyn Backend>> {
    let target = g.target()?;
    match open(&target, g.read_only).await {
        Ok(opened) => Ok(opened.backend),
        Err(e) => Err(match &target {
            Target::Context { context, .. } => anyhow::anyhow!("context {}: {e}", context.name),
            Target::Remote { url, .. } => anyhow::anyhow!("--connect {url}: {e}"),
            Target::Data { .. } | Target::Engine(_) => backend_err(e),
        }),
    }
}

/// Prints a value as JSON (one line).
pub fn print_json<T: Serialize>(v: &T) -> Result<()> {
    outln!("{}", serde_json::to_string(v)?)?;
    Ok(())
}

/// A listing: the items as JSON under `--json`, else their table, and on stderr what makes one
/// when there are none.
pub fn print_list<T: Serialize>(g: &Global, items: &[T], table: fn(&[T]) -> Table, none: &str) -> Result<()> {
    if g.json {
        return print_json(&items);
    }
    let t = table(items);
    outln!("{}", t.render())?;
    if t.is_empty() {
        eprintln!("{none}");
    }
    Ok(())
}

/// Turns a backend error into a message that says where it came from.
pub fn backend_err(e: BackendError) -> anyhow::Error {
    anyhow::Error::msg(e.to_string())
}

/// Runs the parsed command line: every verb but `demo` and `bench console` (the binary hands
/// those, and the console itself, to their launchers), and the overview when there is no verb.
pub fn run(cli: Cli) -> Launch {
    Box::pin(verb(cli))
}

async fn verb(cli: Cli) -> Result<()> {
    let g = &cli.global;
    // Checked whichever backend ends up serving the verb, so a bad value never passes silently.
    g.sync_mode()?;
    let Some(verb) = cli.verb else {
        // Not a terminal (a script, a pipe): the overview instead of the console.
        let b = connect(g).await?;
        return match topics::overview(b.as_ref(), g).await {
            Err(e) if is_broken_pipe(&e) => Ok(()),
            r => r,
        };
    };
    match verb {
        Verb::Serve(a) => serve::run(g, &a).await,
        Verb::Bench { what: BenchWhat::Run(a) } => bench::run::run(g, &a).await,
        Verb::Bench { what: BenchWhat::Engine(a) } => {
            tokio::task::spawn_blocking(move || bench::engine::run(&a)).await?
        }
        Verb::Bench { what: BenchWhat::Http(a) } => bench::http::run(&a).await,
        Verb::Demo(_) | Verb::Bench { what: BenchWhat::Console(_) } => {
            anyhow::bail!("`demo` and `bench console` run the console: the depot binary starts them, not cli::run")
        }
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
        Verb::Serve(_) | Verb::Demo(_) | Verb::Bench { .. } => {
            anyhow::bail!("serve, demo and bench are not verbs on a backend: cli::run starts them")
        }
    }
}
