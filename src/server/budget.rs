//! The server-wide memory budget for request bodies, in two parts:
//!
//! - reading: a body takes its `Content-Length` (or its bytes as they arrive, when it has none)
//!   from [`Limits::body_budget`] before it is read, into one buffer that the JSON extractors
//!   then decode without another copy;
//! - handling: a body read takes what decoding, handling and answering it cost, estimated from
//!   its bytes and its JSON objects (a record, a header, a row: each is decoded into its own
//!   structs, copied on the way to the engine and acknowledged one by one), from
//!   [`HANDLING_PER_BUDGET`] × the budget, and holds it until its answer has been sent; then it
//!   gives its reading share back.
//!
//! A body that does not fit waits up to [`Limits::budget_wait`], then gets 503 with
//! `Retry-After`; one that does not arrive within [`Limits::body_timeout`] gets 408. Neither is
//! applied at all. A request waiting for reading room never holds handling room, so the two never
//! wait on each other.

use super::BODY_LIMIT;
use super::error::ApiError;
use super::limits::Limits;
use crate::backend::BackendError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The handling budget is this many times the reading budget.
pub const HANDLING_PER_BUDGET: usize = 4;
/// Handling a body costs about this many bytes per byte of it (the body, and the values decoded
/// out of it) …
const COST_PER_BYTE: usize = 2;
/// … and this many per JSON object in it. Measured: a 14 MiB body of 1,048,576 records
/// `{"value":"a"}` peaks at 245 MiB in the server (decoded records, the engine's copies, the
/// acknowledgements and their JSON), 28 MiB + 1 Mi × 256 B estimated.
const COST_PER_OBJECT: usize = 256;

/// Room for bodies being read, and for bodies being handled.
pub(super) struct Budget {
    reading: Room,
    handling: Room,
    body_timeout: Duration,
}

/// A semaphore of bytes, and what a client is told when it has no room.
struct Room {
    bytes: Arc<Semaphore>,
    total: usize,
    wait: Duration,
    full: fn(&Room, usize) -> String,
}

impl Room {
    fn new(total: usize, wait: Duration, full: fn(&Room, usize) -> String) -> Room {
        let total = total.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        Room { bytes: Arc::new(Semaphore::new(total)), total, wait, full }
    }

    /// `n` bytes of room (at most all of it: such a body is handled alone), waiting up to `wait`.
    async fn take(&self, n: usize) -> Result<OwnedSemaphorePermit, ApiError> {
        let take = n.clamp(1, self.total) as u32;
        match tokio::time::timeout(self.wait, self.bytes.clone().acquire_many_owned(take)).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(ApiError(StatusCode::SERVICE_UNAVAILABLE, BackendError::Unavailable((self.full)(self, n)))),
        }
    }
}

fn mib(n: usize) -> String {
    format!("{:.1}", n as f64 / f64::from(1 << 20))
}

impl Budget {
    pub fn new(limits: &Limits) -> Arc<Budget> {
        let reading = Room::new(limits.body_budget, limits.budget_wait, |r, _| {
            format!(
                "the server is busy reading other requests' bodies ({} MiB at once, --body-budget-mib); \
                 retry in a moment, or send smaller batches",
                mib(r.total)
            )
        });
        let handling = Room::new(limits.body_budget.saturating_mul(HANDLING_PER_BUDGET), limits.budget_wait, |r, n| {
            format!(
                "the server is busy handling other large requests: this one needs about {} MiB to decode \
                 and answer, and {} MiB are handled at once ({HANDLING_PER_BUDGET} × --body-budget-mib); \
                 retry in a moment, or send fewer records per request",
                mib(n),
                mib(r.total)
            )
        });
        Arc::new(Budget { reading, handling, body_timeout: limits.body_timeout })
    }
}

/// What handling `body` is estimated to cost in memory.
fn handling_cost(body: &[u8]) -> usize {
    let objects = body.iter().filter(|&&b| b == b'{').count();
    body.len().saturating_mul(COST_PER_BYTE).saturating_add(objects.saturating_mul(COST_PER_OBJECT))
}

fn too_large() -> ApiError {
    ApiError(
        StatusCode::PAYLOAD_TOO_LARGE,
        BackendError::BadRequest(format!(
            "the body is larger than the {} MiB limit; send smaller batches",
            BODY_LIMIT >> 20
        )),
    )
}

/// Middleware: admits the body through the budget, reads it, hands it on, and keeps its share
/// of the handling budget until the answer has been sent.
pub(super) async fn admit(State(budget): State<Arc<Budget>>, req: Request, next: Next) -> Response {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    if declared.unwrap_or(0) == 0 && !chunked {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    if declared.is_some_and(|n| n > BODY_LIMIT) {
        // Read and dropped, so that the client, still sending, reads the answer.
        drain(body, &budget, declared.unwrap_or(0)).await;
        return too_large().into_response();
    }
    let handling = async {
        let (bytes, reading) = read(&budget, body, declared).await?;
        let handling = budget.handling.take(handling_cost(&bytes)).await?;
        drop(reading);
        Ok::<_, ApiError>((bytes, handling))
    };
    let (bytes, handling) = match handling.await {
        Ok(read) => read,
        Err(e) => return e.into_response(),
    };
    let resp = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    // The answer (a publish's acknowledgements) is part of the cost: held until it is sent.
    let (parts, body) = resp.into_parts();
    let body = body.map_frame(move |frame| {
        let _held = &handling;
        frame
    });
    Response::from_parts(parts, Body::new(body))
}

/// Reads a body that is refused (too large, or no room for it) and drops its bytes as they come (within the body timeout, and
/// only when it is at most a few times the limit: a larger one is cut off by closing its
/// connection), so that its client can read the answer.
async fn drain(mut body: Body, budget: &Budget, declared: usize) {
    if declared > 4 * BODY_LIMIT {
        return;
    }
    let deadline = tokio::time::Instant::now() + budget.body_timeout;
    while let Ok(Some(Ok(_))) = tokio::time::timeout_at(deadline, body.frame()).await {}
}

/// Reads a body into one buffer within the body timeout, taking its room in the reading budget
/// first (all of it by `declared`, else as the bytes arrive).
async fn read(budget: &Budget, body: Body, declared: Option<usize>) -> Result<(Bytes, OwnedSemaphorePermit), ApiError> {
    let mut body = body;
    let mut permit = match budget.reading.take(declared.unwrap_or(1)).await {
        Ok(p) => p,
        Err(e) => {
            drain(body, budget, declared.unwrap_or(0)).await;
            return Err(e);
        }
    };
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(0));
    let deadline = tokio::time::Instant::now() + budget.body_timeout;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Err(ApiError(
                    StatusCode::REQUEST_TIMEOUT,
                    BackendError::BadRequest(format!(
                        "the body did not arrive within {} ms (--body-timeout-ms); send it at once",
                        budget.body_timeout.as_millis()
                    )),
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(ApiError(
                    StatusCode::BAD_REQUEST,
                    BackendError::BadRequest(format!("reading the body: {e}")),
                ));
            }
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else { continue };
        if buf.len() + data.len() > BODY_LIMIT {
            drop(buf);
            drain(body, budget, 0).await;
            return Err(too_large());
        }
        let need = (buf.len() + data.len()).min(budget.reading.total);
        if need > permit.num_permits() {
            match budget.reading.take(need - permit.num_permits()).await {
                Ok(more) => permit.merge(more),
                Err(e) => {
                    drop((buf, permit));
                    drain(body, budget, 0).await;
                    return Err(e);
                }
            }
        }
        buf.extend_from_slice(&data);
    }
    Ok((buf.freeze(), permit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handling_costs_two_bytes_a_byte_and_256_an_object() {
        assert_eq!(handling_cost(br#"{"records":[{"value":"a"},{"value":"b"}]}"#), 41 * 2 + 3 * 256);
        assert_eq!(handling_cost(b""), 0);
    }
}
