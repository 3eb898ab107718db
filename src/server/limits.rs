//! What one server holds for its clients, and what a client sees at each limit. The defaults are
//! `depot serve`'s; each has a flag.

use std::time::Duration;

/// The server's limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once. At the limit a new connection takes the place of the one that
    /// has been idle longest (no request in flight: keep-alive, or still sending its headers);
    /// with none idle it waits in the listen backlog. `depot serve` lowers it to what the open-file
    /// limit leaves after the engine's own files.
    pub max_connections: usize,
    /// A request's headers must arrive within this, counted from when the server starts waiting
    /// for them: on a new connection and after each answer, so it is also how long an idle
    /// keep-alive connection is kept. Then the connection is closed.
    pub header_timeout: Duration,
    /// Requests waiting for records at once (pulls and fetches with `wait_ms`); beyond it 503 with
    /// `Retry-After`.
    pub max_waiters: usize,
    /// On shutdown, in-flight requests get this long to finish (waiting ones answer at once);
    /// idle connections close at once; whatever is left is closed when it is up.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            max_waiters: 1024,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}
