//! Requests that wait for records (pulls and fetches with `wait_ms`): at most so many at once,
//! the rest answered at once with 503 and `Retry-After`; and the server's shutdown as a request
//! sees it, so a waiting request answers at once instead of holding the shutdown up.

use super::error::ApiError;
use crate::backend::{BResult, BackendError};
use axum::http::StatusCode;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

/// The server's shutdown (its deadline once it began), put into every request's extensions by
/// the accept loop.
#[derive(Clone)]
pub struct Stopping(pub(super) watch::Receiver<Option<Instant>>);

impl Stopping {
    /// Resolves once the server is shutting down.
    async fn wait(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(Option::is_some).await;
    }
}

/// Runs a call that may take long (a wait, a replay) unless the server shuts down first: then the
/// call is dropped (a pull leaves its group, a replay stops) and the client gets a 503.
pub(super) async fn unless_stopping<T>(
    stopping: Option<axum::Extension<Stopping>>,
    call: impl Future<Output = BResult<T>>,
) -> Result<T, ApiError> {
    let Some(axum::Extension(stopping)) = stopping else { return Ok(call.await?) };
    tokio::select! {
        r = call => Ok(r?),
        () = stopping.wait() => Err(ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            BackendError::Unavailable("the server is shutting down; ask again once it is back".into()),
        )),
    }
}

/// Room for waiting requests.
pub(super) struct Waiters {
    room: Arc<Semaphore>,
    max: usize,
}

impl Waiters {
    pub fn new(max: usize) -> Waiters {
        Waiters { room: Arc::new(Semaphore::new(max)), max }
    }

    /// A place for one more waiting request while the permit lives, or the 503 that says the
    /// server has none.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.room.clone().try_acquire_owned().map_err(|_| {
            ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                BackendError::Unavailable(format!(
                    "{} requests are already waiting for records (the server's limit, --max-waiters); \
                     retry in a second, or ask without wait_ms",
                    self.max
                )),
            )
        })
    }
}
