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
    /// A request's body must arrive within this once its headers have; else 408.
    pub body_timeout: Duration,
    /// Requests waiting for records at once (pulls and fetches with `wait_ms`); beyond it 503 with
    /// `Retry-After`.
    pub max_waiters: usize,
    /// Bytes of request bodies being read at once; bodies being decoded, handled and answered
    /// may cost 4 × this, estimated (see `server::budget`). A body that does not fit waits up to
    /// [`Limits::budget_wait`], then gets 503 with `Retry-After`.
    pub body_budget: usize,
    /// How long a body waits for room in the budget.
    pub budget_wait: Duration,
    /// On shutdown, in-flight requests get this long to finish (waiting ones answer at once);
    /// idle connections close at once; whatever is left is closed when it is up.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_waiters: 1024,
            body_budget: 64 << 20,
            budget_wait: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}
