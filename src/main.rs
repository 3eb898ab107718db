//! The `depot` binary: parses the command line, sets up logging, and hands the command to the
//! console's, the demo's or the console benchmark's launcher, or to the CLI's verbs (see
//! `depot --help`). It turns the parsed arguments into each launcher's options, so the launchers
//! know nothing of the command line.

use anyhow::{Context, Result};
use clap::Parser;
use depot::cli::Cli;
use depot::cli::args::{BenchWhat, ConsoleArgs, ConsoleBenchArgs, DemoArgs, Global, Verb};
use depot::console::{bench, launch};
use depot::demo;
use std::io::{IsTerminal, Write};

/// Logs go to stderr for verbs; for the console (which owns the screen) to a file.
fn init_logging(console: bool) {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("DEPOT_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"))
    };
    if console {
        let dir = directories::ProjectDirs::from("", "", "depot")
            .map(|d| d.state_dir().unwrap_or(d.cache_dir()).to_path_buf())
            .unwrap_or_else(std::env::temp_dir);
        let file = std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::OpenOptions::new().create(true).append(true).open(dir.join("console.log")));
        if let Ok(file) = file {
            tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init();
            return;
        }
        // No log file: log nothing rather than draw over the screen.
        return;
    }
    tracing_subscriber::fmt().with_env_filter(filter()).with_writer(std::io::stderr).init();
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let console = cli.verb.is_none() && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    init_logging(console);
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("start the async runtime")
        .and_then(|rt| rt.block_on(dispatch(cli, console)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Not eprintln!: with the terminal gone (a hangup) it would panic.
            let _ = writeln!(std::io::stderr(), "depot: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// No verb on a terminal: the console; `demo` and `bench console`: their launchers; everything
/// else (and no verb in a script): the CLI.
async fn dispatch(cli: Cli, console: bool) -> Result<()> {
    let g = &cli.global;
    match &cli.verb {
        None if console => launch::run(console_options(g, &cli.console)?).await,
        Some(Verb::Demo(a)) => demo::launch::run(demo_options(g, a)).await,
        Some(Verb::Bench { what: BenchWhat::Console(a) }) => bench::run(&bench_options(a)),
        _ => depot::cli::run(cli).await,
    }
}

fn console_options(g: &Global, a: &ConsoleArgs) -> Result<launch::Options> {
    Ok(launch::Options {
        target: g.target()?,
        read_only: g.read_only,
        sync: g.sync_mode()?,
        listen: (a.listen != "off").then(|| a.listen.clone()),
        kafka_listen: a.kafka.kafka_listen.clone(),
        kafka: a.kafka.options(g),
        token: g.token.clone(),
        theme: a.theme.clone(),
        panel_actions: demo::knobs::action_ids(),
    })
}

fn demo_options(g: &Global, a: &DemoArgs) -> demo::launch::Options {
    demo::launch::Options {
        scenario: a.scenario.clone(),
        list: a.list,
        seed: a.seed,
        headless: a.headless,
        seconds: a.seconds,
        data: g.data.clone(),
    }
}

fn bench_options(a: &ConsoleBenchArgs) -> bench::Options {
    bench::Options {
        topics: a.topics,
        partitions: a.partitions,
        groups: a.groups,
        frames: a.frames,
        width: a.width,
        height: a.height,
    }
}
