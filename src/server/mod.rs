//! `depot serve`: the HTTP/JSON API (axum) over any [`Backend`], with `/healthz`, `/metrics` and an
//! OpenAPI document. Loopback by default; a token is required to listen anywhere else. This file
//! holds the options, the routes and the router; the bodies are `backend::wire`'s.
//!
//! - [`listen`]: the accept loop (connection limit, header timeout, bounded shutdown) on hyper;
//!   [`conns`]: which connections are busy, and which is idlest
//! - [`limits`]: every limit and what a client sees at it; [`budget`]: the memory for bodies;
//!   [`waiters`]: how many may wait for records, and shutdown as a request sees it
//! - [`guard`]: the token, loopback `Host`/`Origin` without a token, read-only
//! - [`handlers`]: one function per route
//! - [`error`]: failures as HTTP answers, and extractors whose rejections answer the same way
//! - [`metrics`]: the `/metrics` text (engine gauges, request counts and latencies)
//! - [`openapi`]: the OpenAPI document of [`ROUTES`]
//! - [`kafka`]: the Kafka wire protocol on the embedded engine (`--kafka-listen`), beside the API

mod budget;
mod conns;
pub mod error;
pub mod guard;
mod handlers;
pub mod kafka;
pub mod limits;
pub mod listen;
pub mod metrics;
pub mod openapi;
mod waiters;

pub use limits::Limits;
pub use listen::{connection_limit, raise_open_file_limit, serve_with};

use crate::backend::read_only::{Call, ReadOnly, Why};
use crate::backend::*;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::middleware;
use axum::routing::{get, post};
use handlers::*;
use std::net::SocketAddr;
use std::sync::Arc;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 16 << 20;

/// How the server guards its API.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// Every request must carry `Authorization: Bearer TOKEN`.
    pub token: Option<String>,
    /// Refuse every write with 403.
    pub read_only: bool,
    /// Waiters and the body budget (the router's); the accept loop's are given to [`serve_with`].
    pub limits: Limits,
}

#[derive(Clone)]
struct AppState {
    backend: Arc<dyn Backend>,
    http: Arc<metrics::HttpMetrics>,
    opts: Arc<ServeOptions>,
    waiters: Arc<waiters::Waiters>,
}

/// Refuses to listen beyond loopback without a token.
pub fn check_bind(addr: &SocketAddr, token: Option<&str>) -> Result<(), String> {
    if !addr.ip().is_loopback() && token.is_none_or(str::is_empty) {
        return Err(format!(
            "refusing to listen on {addr} without a token: anyone who can reach it could read and delete your data. \
             Pass --token TOKEN (clients then send `Authorization: Bearer TOKEN`), or listen on 127.0.0.1"
        ));
    }
    Ok(())
}

/// Every route: (method, path, the backend call it makes — `None` for the server's own). The
/// OpenAPI document, the read-only guard and the tests are checked against this list.
pub const ROUTES: &[(&str, &str, Option<Call>)] = &[
    ("GET", "/healthz", None),
    ("GET", "/metrics", None),
    ("GET", "/v1/openapi.json", None),
    ("GET", "/v1/capabilities", Some(Call::Capabilities)),
    ("GET", "/v1/topics", Some(Call::ListTopics)),
    ("POST", "/v1/topics", Some(Call::CreateTopic)),
    ("GET", "/v1/topics/{topic}", Some(Call::DescribeTopic)),
    ("DELETE", "/v1/topics/{topic}", Some(Call::DeleteTopic)),
    ("GET", "/v1/topics/{topic}/records", Some(Call::Peek)),
    ("POST", "/v1/topics/{topic}/records", Some(Call::Publish)),
    ("GET", "/v1/topics/{topic}/partitions/{partition}/records", Some(Call::Fetch)),
    ("POST", "/v1/topics/{topic}/search", Some(Call::Search)),
    ("GET", "/v1/groups", Some(Call::ListGroups)),
    ("GET", "/v1/groups/{group}", Some(Call::DescribeGroup)),
    ("DELETE", "/v1/groups/{group}", Some(Call::DeleteGroup)),
    ("POST", "/v1/groups/{group}/pull", Some(Call::Pull)),
    ("POST", "/v1/groups/{group}/commit", Some(Call::Commit)),
    ("GET", "/v1/groups/{group}/resets", Some(Call::ResetHistory)),
    ("POST", "/v1/groups/{group}/resets/plan", Some(Call::PlanReset)),
    ("POST", "/v1/groups/{group}/resets/execute", Some(Call::ExecuteReset)),
    ("POST", "/v1/groups/{group}/resets/undo-plan", Some(Call::PlanUndo)),
    ("POST", "/v1/replays/plan", Some(Call::PlanReplay)),
    ("POST", "/v1/replays/execute", Some(Call::ExecuteReplay)),
];

/// The backend call a request makes, from its method and matched route.
fn call_of(method: &Method, route: &str) -> Option<Call> {
    ROUTES.iter().find(|(m, p, _)| *p == route && method.as_str() == *m).and_then(|(_, _, c)| *c)
}

/// Builds the API. A read-only server's backend refuses writes itself ([`ReadOnly`]); the guard
/// refuses them earlier still, before a body is read, with the same message and a 403.
pub fn router(backend: Arc<dyn Backend>, opts: ServeOptions) -> Router {
    let backend: Arc<dyn Backend> =
        if opts.read_only { Arc::new(ReadOnly::new(backend, Why::Server)) } else { backend };
    let http = Arc::new(metrics::HttpMetrics::default());
    let budget = budget::Budget::new(&opts.limits);
    let waiters = Arc::new(waiters::Waiters::new(opts.limits.max_waiters));
    let state = AppState { backend, http: http.clone(), opts: Arc::new(opts), waiters };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/v1/openapi.json", get(openapi_doc))
        .route("/v1/capabilities", get(capabilities))
        .route("/v1/topics", get(list_topics).post(create_topic))
        .route("/v1/topics/{topic}", get(describe_topic).delete(delete_topic))
        .route("/v1/topics/{topic}/records", get(peek).post(publish))
        .route("/v1/topics/{topic}/partitions/{partition}/records", get(fetch))
        .route("/v1/topics/{topic}/search", post(search))
        .route("/v1/groups", get(list_groups))
        .route("/v1/groups/{group}", get(describe_group).delete(delete_group))
        .route("/v1/groups/{group}/pull", post(pull))
        .route("/v1/groups/{group}/commit", post(commit))
        .route("/v1/groups/{group}/resets", get(reset_history))
        .route("/v1/groups/{group}/resets/plan", post(plan_reset))
        .route("/v1/groups/{group}/resets/execute", post(execute_reset))
        .route("/v1/groups/{group}/resets/undo-plan", post(plan_undo))
        .route("/v1/replays/plan", post(plan_replay))
        .route("/v1/replays/execute", post(execute_replay))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(budget, budget::admit))
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(middleware::from_fn_with_state(http, metrics::track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Serves `app` on `listener` with the default [`Limits`] until `shutdown` resolves (see
/// [`serve_with`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, &Limits::default(), shutdown).await
}
