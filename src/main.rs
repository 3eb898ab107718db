//! The `depot` binary: parses the command line and runs a verb, or the console (see `depot --help`).

use clap::Parser;
use std::io::IsTerminal;

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
    let cli = depot::cli::Cli::parse();
    let console = cli.verb.is_none() && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    init_logging(console);
    match depot::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("depot: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
