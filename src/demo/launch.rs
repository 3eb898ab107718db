//! `depot demo [SCENARIO]`: the console on a fresh embedded engine with a scenario running in it
//! (or, headless, the scenario's state printed every simulated second; or the list of scenarios).
//! A fresh data directory is temporary: removed when the demo ends, however it ends short of
//! SIGKILL (`q`, the terminal closing, SIGTERM, SIGINT).

use super::sim::Sim;
use super::stop::Stop;
use super::{knobs, panel, scenario};
use crate::Launch;
use crate::backend::open::{Opened, Target, open};
use crate::config;
use crate::console::driver;
use crate::console::keymap::Keymap;
use crate::console::state::{Level, Settings, State};
use crate::console::theme::Theme;
use crate::core::table::Table;
use anyhow::{Context, Result};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// What `depot demo` was asked for.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// A built-in scenario or a scenario file; `lag` when not given.
    pub scenario: Option<String>,
    /// List the built-in scenarios instead.
    pub list: bool,
    /// Seed of the simulation's random choices.
    pub seed: u64,
    /// Run without the console, printing the state every simulated second, for `seconds`.
    pub headless: bool,
    pub seconds: u64,
    /// The data directory; a fresh temporary one when not given.
    pub data: Option<PathBuf>,
}

/// `println!` that returns the write error (stdout gone) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)
    };
}

/// Lists the scenarios, or runs one headless or in the console.
pub fn run(a: Options) -> Launch {
    Box::pin(demo(a))
}

async fn demo(a: Options) -> Result<()> {
    if a.list {
        let mut t = Table::new(&["SCENARIO", "WHAT IT SHOWS"]);
        for (name, text) in scenario::BUILT_IN {
            let sc = scenario::parse(text, name).map_err(anyhow::Error::msg)?;
            t.row(vec![sc.name, sc.title]);
        }
        outln!("{}", t.render())?;
        outln!("\nrun one with: depot demo NAME   (or depot demo my-scenario.toml)")?;
        return Ok(());
    }
    let name = a.scenario.as_deref().unwrap_or("lag");
    let sc = scenario::load(name).map_err(anyhow::Error::msg)?;
    let tmp;
    let dir = match &a.data {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::Builder::new()
                .prefix("depot-demo-")
                .tempdir()
                .context("create a temporary data directory")?;
            tmp.path().to_path_buf()
        }
    };
    if !a.headless && (!std::io::stdout().is_terminal() || !std::io::stdin().is_terminal()) {
        anyhow::bail!("the demo needs a terminal; `depot demo {name} --headless` runs it without one");
    }
    tracing::info!("demo {name}: data in {}", dir.display());
    // Closing the terminal, SIGTERM or SIGINT end the demo as `q` does, so `tmp` is removed.
    let mut stop = Stop::listen().context("listen for SIGHUP, SIGTERM and SIGINT")?;
    // The engine runs on the simulation's clock, so lag in time and sessions follow the demo.
    let mut sim = Sim::open(&dir, sc, a.seed).map_err(anyhow::Error::msg)?;
    let engine = sim.engine.clone();
    if a.headless {
        let per_second = (1000 / sim.scenario.tick_ms.max(1)).max(1);
        for _ in 0..a.seconds {
            if let Some(signal) = stop.arrived() {
                tracing::warn!("demo {name}: {signal}: stopping");
                break;
            }
            for _ in 0..per_second {
                sim.step().map_err(anyhow::Error::msg)?;
            }
            let st = sim.status();
            outln!("{:>5.1}s  {}", st.t_s, st.lines.join(" | "))?;
        }
        for l in sim.status().log.iter().rev() {
            outln!("{l}")?;
        }
        engine.close()?;
        return Ok(());
    }
    let Opened { backend, .. } = open(&Target::Engine(engine.clone()), false).await?;
    let (link, sim_thread) = panel::link(sim).map_err(anyhow::Error::msg)?;
    let settings = Settings {
        target: format!("demo {name} · {}", dir.display()),
        context: None,
        read_only: false,
        note: Some("demo: the producers and consumers are simulated, the engine is real".into()),
        refresh_ms: 500,
        contexts: Vec::new(),
    };
    let (keymap, problems) = keymap(config::config_dir().as_deref());
    let mut state = State::new(settings, keymap, Theme::dark(), crate::core::time::now_ms());
    if !problems.is_empty() {
        state.ui.say(Level::Warn, problems.join(" · "));
    }
    let console = driver::run(backend, state, driver::Extras { panel: Some(link), switcher: None });
    let result = tokio::select! {
        r = console => r,
        signal = stop.wait() => {
            tracing::warn!("demo {name}: {signal}: stopping");
            Ok(())
        }
    };
    // A hangup also fails the console's next draw; that error is the signal's doing.
    let result = if stop.arrived().is_some() { Ok(()) } else { result };
    // The console (and the link with it) is dropped: the simulation thread ends at its next look
    // at the knobs. Wait for it, so nothing writes in the data directory while it is removed.
    let _ = tokio::task::spawn_blocking(move || sim_thread.join()).await;
    engine.close()?;
    result
}

/// The console's keys with the config file's `[keys]`, where the knobs rebind by their ids
/// (`demo_faster = ["F"]`), and what was wrong with the file.
fn keymap(config_dir: Option<&Path>) -> (Keymap, Vec<String>) {
    let (cfg, mut problems) = config::load(config_dir);
    let (keymap, key_problems) = Keymap::with_overrides(&cfg.keys, &knobs::action_ids());
    problems.extend(key_problems);
    (keymap, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::keymap::{Action, Key};

    #[test]
    fn the_config_files_keys_rebind_the_knobs_and_the_consoles_actions() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[keys]\ndemo_faster = [\"F\"]\npublish = [\"P\"]\ndemo_nonesuch = [\"y\"]\n";
        std::fs::write(dir.path().join("config.toml"), text).unwrap();
        let (map, problems) = keymap(Some(dir.path()));
        assert_eq!(map.panel_keys("demo_faster", Key::char('>')), [Key::char('F')]);
        assert_eq!(map.panel_keys("demo_slower", Key::char('<')), [Key::char('<')], "the others keep theirs");
        assert_eq!(map.label(Action::Publish), "P");
        assert_eq!(problems, ["[keys] demo_nonesuch: no such action"]);
        let (_, none) = keymap(None);
        assert!(none.is_empty());
    }
}
