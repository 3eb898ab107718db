//! What ends a demo from outside: the terminal closing (SIGHUP), SIGTERM and SIGINT. Caught, so
//! the demo ends the way `q` ends it — the console lets go of the terminal, the simulation
//! thread stops, the engine closes and the temporary data directory is removed — instead of the
//! process dying with the directory left behind. A second SIGTERM or SIGINT
//! during that exits at once.

use tokio::sync::watch;

/// Which signal arrived, once one has.
#[derive(Clone)]
pub struct Stop {
    signal: watch::Receiver<Option<&'static str>>,
}

impl Stop {
    /// Starts listening (on the current tokio runtime).
    pub fn listen() -> std::io::Result<Stop> {
        let (tx, rx) = watch::channel(None);
        let mut signals = Signals::new()?;
        tokio::spawn(async move {
            let name = signals.next().await;
            if name == HANGUP {
                detach();
            }
            let _ = tx.send(Some(name));
            // A second SIGTERM or SIGINT while the demo cleans up: stop waiting for it. A closing
            // terminal sends more than one SIGHUP (the kernel, and the terminal emulator to the
            // process group): those are the same news again.
            loop {
                let again = signals.next().await;
                if again != HANGUP {
                    tracing::warn!("demo: {again} while cleaning up after {name}: exiting now");
                    std::process::exit(1);
                }
            }
        });
        Ok(Stop { signal: rx })
    }

    /// The signal that arrived, if one has (for code that cannot await: the headless loop).
    pub fn arrived(&self) -> Option<&'static str> {
        *self.signal.borrow()
    }

    /// Waits for a signal; its name.
    pub async fn wait(&mut self) -> &'static str {
        loop {
            if let Some(name) = *self.signal.borrow_and_update() {
                return name;
            }
            if self.signal.changed().await.is_err() {
                // The listener is gone without a signal: never resolve.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// After a hangup stdout and stderr lead nowhere: point them at /dev/null, so that what reports
/// on them while the demo winds down (ratatui's drop and panic hook use `eprintln!`, which panics
/// on a closed terminal and aborts the cleanup) writes into nothing instead.
#[cfg(unix)]
fn detach() {
    use rustix::fs::{Mode, OFlags, open};
    match open("/dev/null", OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty()) {
        Ok(null) => {
            let _ = rustix::stdio::dup2_stdout(&null);
            let _ = rustix::stdio::dup2_stderr(&null);
        }
        Err(e) => tracing::warn!("demo: cannot open /dev/null after the hangup: {e}"),
    }
}

#[cfg(not(unix))]
fn detach() {}

/// How a hangup is named.
const HANGUP: &str = "SIGHUP (the terminal closed)";

#[cfg(unix)]
struct Signals {
    hangup: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            hangup: signal(SignalKind::hangup())?,
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.hangup.recv() => HANGUP,
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals)
    }

    async fn next(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "ctrl-c"
    }
}
