//! The accept loop, on hyper directly (`axum::serve` has no timeouts, no connection limit and an
//! unbounded shutdown): a connection limit with the idlest connection making room, a header
//! timeout (which also ends idle keep-alive connections), and a shutdown that closes idle
//! connections at once, lets in-flight requests finish within a grace period (waiting requests
//! answer at once) and then closes whatever is left. Also: the open-file limit a server can use.

use super::conns::{Conns, Slot};
use super::limits::Limits;
use super::waiters::Stopping;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

/// How long a connection asked to make room may finish what it is sending.
const SHED_GRACE: Duration = Duration::from_secs(1);
/// How long a new connection waits for room when every connection is busy, before it is closed.
const ROOM_WAIT: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` within `limits` until `shutdown` resolves, then shuts down within
/// `limits.shutdown_grace`.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let conns = Conns::new();
    let room = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(None::<Instant>);
    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        while tasks.try_join_next().is_some() {}
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors (or another passing error): back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let permit = match room.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                conns.shed_idlest();
                let wait = tokio::time::timeout(ROOM_WAIT, room.clone().acquire_owned());
                match tokio::select! { w = wait => Some(w), () = &mut shutdown => None } {
                    Some(Ok(Ok(p))) => p,
                    Some(_) => {
                        tracing::warn!("{} connections are busy; closing a new one", limits.max_connections);
                        continue;
                    }
                    None => break,
                }
            }
        };
        let (app, slot, conns, stop, limits) =
            (app.clone(), conns.open(), conns.clone(), stop_rx.clone(), limits.clone());
        tasks.spawn(async move {
            connection(stream, app, &slot, &conns, stop, &limits).await;
            conns.closed(&slot);
            drop(permit);
        });
    }
    drop(listener);
    let deadline = Instant::now() + limits.shutdown_grace;
    let _ = stop_tx.send(Some(deadline));
    let drained = tokio::time::timeout_at(deadline + Duration::from_millis(100), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("closing {} connections still open after the shutdown grace", tasks.len());
        tasks.abort_all();
    }
    Ok(())
}

/// Serves one connection until it closes, is asked to make room, or the server shuts down.
async fn connection(
    stream: TcpStream,
    app: Router,
    slot: &Arc<Slot>,
    conns: &Arc<Conns>,
    mut stop: watch::Receiver<Option<Instant>>,
    limits: &Limits,
) {
    let stopping = Stopping(stop.clone());
    let (svc_slot, svc_conns) = (slot.clone(), conns.clone());
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        let busy = svc_conns.busy(&svc_slot);
        req.extensions_mut().insert(stopping.clone());
        let app = app.clone();
        async move {
            let resp = app.oneshot(req).await;
            drop(busy);
            resp
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let conn = http.serve_connection(TokioIo::new(stream), svc);
    let mut conn = std::pin::pin!(conn);
    let deadline = tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!("connection ended: {e}");
            }
            return;
        }
        () = slot.close.notified() => Instant::now() + SHED_GRACE,
        d = stop.wait_for(Option::is_some) => match d {
            Ok(d) => d.unwrap_or_else(Instant::now),
            Err(_) => Instant::now(),
        },
    };
    // Idle: closes now; in flight: the answer is written, then it closes; else cut at the deadline.
    conn.as_mut().graceful_shutdown();
    if tokio::time::timeout_at(deadline, conn.as_mut()).await.is_err() {
        tracing::debug!("closing a connection that did not finish in time");
    }
}

/// Raises this process's soft limit of open files to its hard limit, and returns the soft limit
/// now (`None` when it cannot be read).
pub fn raise_open_file_limit() -> Option<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    // rlim_t is u64 on Linux, another width elsewhere.
    #[allow(clippy::unnecessary_cast)]
    Some(lim.rlim_cur as u64)
}

/// File descriptors kept for the engine beyond what it holds open now: the cache of sealed
/// segments (128) and room for new partitions, journals and rolls.
const ENGINE_FD_HEADROOM: u64 = 256;

/// The connections a server may hold: `wanted`, lowered so that they, the files open now and
/// [`ENGINE_FD_HEADROOM`] fit in the open-file limit (at least 16).
pub fn connection_limit(wanted: usize, open_file_limit: Option<u64>) -> usize {
    let Some(limit) = open_file_limit else { return wanted };
    let open_now = std::fs::read_dir("/proc/self/fd").map(|d| d.count() as u64).unwrap_or(64);
    let room = limit.saturating_sub(open_now + ENGINE_FD_HEADROOM).max(16);
    wanted.min(usize::try_from(room).unwrap_or(usize::MAX))
}
