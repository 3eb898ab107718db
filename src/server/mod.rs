//! `depot serve`: the HTTP/JSON API (axum) over any [`Backend`], with `/healthz`, `/metrics` and an
//! OpenAPI document. Loopback by default; a token is required to listen anywhere else. This file
//! holds the routes, the token and read-only guard, and the handlers; the bodies are
//! `backend::wire`'s.
//!
//! - [`error`]: failures as HTTP answers, and extractors whose rejections answer the same way
//! - [`metrics`]: the `/metrics` text (engine gauges, request counts and latencies)
//! - [`openapi`]: the OpenAPI document of [`ROUTES`]
//! - [`kafka`]: the Kafka wire protocol on the embedded engine (`--kafka-listen`), beside the API

pub mod error;
pub mod kafka;
pub mod metrics;
pub mod openapi;

use crate::backend::read_only::{Call, ReadOnly, Why};
use crate::backend::wire;
use crate::backend::*;
use crate::core::time::parse_instant;
use crate::core::*;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use error::{ApiError, ApiJson, ApiPath, ApiQuery};
use serde::Deserialize;
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
}

#[derive(Clone)]
struct AppState {
    backend: Arc<dyn Backend>,
    http: Arc<metrics::HttpMetrics>,
    opts: Arc<ServeOptions>,
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
    let state = AppState { backend, http: http.clone(), opts: Arc::new(opts) };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/v1/openapi.json", get(openapi_doc))
        .route("/v1/capabilities", get(capabilities))
        .route("/v1/topics", get(list_topics).post(create_topic))
        .route("/v1/topics/{topic}", get(describe_topic).delete(delete_topic))
        .route("/v1/topics/{topic}/records", get(peek).post(publish))
        .route("/v1/topics/{topic}/partitions/{partition}/records", get(fetch))
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
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(middleware::from_fn_with_state(http, metrics::track))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves; in-flight requests finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Token check, then the read-only check.
async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(token) = s.opts.token.as_deref() {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
            let msg = if given.is_some() { "wrong token" } else { "this server needs a token" };
            return ApiError(
                StatusCode::UNAUTHORIZED,
                BackendError::Unauthorized(format!("{msg}: send `Authorization: Bearer TOKEN` (depot: --token)")),
            )
            .into_response();
        }
    }
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let call = route.and_then(|r| call_of(req.method(), &r));
    if s.opts.read_only && call.is_some_and(Call::writes) {
        return ApiError(StatusCode::FORBIDDEN, Why::Server.refusal()).into_response();
    }
    next.run(req).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn not_found(req: Request) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        BackendError::NotFound(format!(
            "no such endpoint: {} {}; see /v1/openapi.json",
            req.method(),
            req.uri().path()
        )),
    )
}

async fn method_not_allowed(req: Request) -> ApiError {
    ApiError(
        StatusCode::METHOD_NOT_ALLOWED,
        BackendError::BadRequest(format!(
            "{} is not allowed on {}; see /v1/openapi.json",
            req.method(),
            req.uri().path()
        )),
    )
}

type ApiResult<T> = Result<axum::Json<T>, ApiError>;

fn ok<T>(v: T) -> ApiResult<T> {
    Ok(axum::Json(v))
}

async fn healthz(State(s): State<AppState>) -> Response {
    match s.backend.list_topics().await {
        Ok(_) => (StatusCode::OK, axum::Json(serde_json::json!({"status": "ok"}))).into_response(),
        Err(e) => ApiError(StatusCode::SERVICE_UNAVAILABLE, e).into_response(),
    }
}

async fn metrics_text(State(s): State<AppState>) -> Response {
    let body = metrics::render(s.backend.as_ref(), &s.http).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

async fn openapi_doc() -> axum::Json<serde_json::Value> {
    axum::Json(openapi::document())
}

async fn capabilities(State(s): State<AppState>) -> ApiResult<Capabilities> {
    ok(s.backend.capabilities().await?)
}

async fn list_topics(State(s): State<AppState>) -> ApiResult<Vec<TopicInfo>> {
    ok(s.backend.list_topics().await?)
}

async fn create_topic(State(s): State<AppState>, ApiJson(b): ApiJson<wire::CreateTopic>) -> Result<Response, ApiError> {
    let t = s.backend.create_topic(&b.name, b.config()).await?;
    Ok((StatusCode::CREATED, axum::Json(t)).into_response())
}

async fn describe_topic(State(s): State<AppState>, ApiPath(topic): ApiPath<String>) -> ApiResult<TopicInfo> {
    ok(s.backend.describe_topic(&topic).await?)
}

async fn delete_topic(State(s): State<AppState>, ApiPath(topic): ApiPath<String>) -> Result<StatusCode, ApiError> {
    s.backend.delete_topic(&topic).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn publish(
    State(s): State<AppState>,
    ApiPath(topic): ApiPath<String>,
    ApiJson(req): ApiJson<PublishRequest>,
) -> ApiResult<wire::Acks> {
    ok(wire::Acks { acks: s.backend.publish(&topic, req).await? })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeekQuery {
    partition: Option<u32>,
    offset: Option<u64>,
    /// Milliseconds since the epoch, or RFC 3339.
    from_time: Option<String>,
    /// The last N records of each partition.
    last: Option<u64>,
    /// `earliest` (the default).
    from: Option<String>,
    max: Option<usize>,
}

async fn peek(
    State(s): State<AppState>,
    ApiPath(topic): ApiPath<String>,
    ApiQuery(q): ApiQuery<PeekQuery>,
) -> ApiResult<wire::Messages> {
    let given = [q.offset.is_some(), q.from_time.is_some(), q.last.is_some(), q.from.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(BackendError::BadRequest("give at most one of offset, from_time, last and from".into()).into());
    }
    let from = if let Some(o) = q.offset {
        PeekFrom::Offset(o)
    } else if let Some(t) = &q.from_time {
        PeekFrom::Time(parse_instant(t).map_err(BackendError::from)?)
    } else if let Some(n) = q.last {
        PeekFrom::Latest(n)
    } else {
        match q.from.as_deref() {
            None | Some("earliest") => PeekFrom::Earliest,
            Some(other) => {
                return Err(BackendError::BadRequest(format!("from={other:?}: only `earliest` is known")).into());
            }
        }
    };
    let max = q.max.unwrap_or(20);
    if max == 0 || max > 10_000 {
        return Err(BackendError::BadRequest(format!("max={max}: ask for 1 to 10000 records")).into());
    }
    let msgs = s.backend.peek(&topic, PeekRequest { partition: q.partition, from, max }).await?;
    ok(wire::Messages { messages: msgs })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchQuery {
    offset: u64,
    max: Option<usize>,
    wait_ms: Option<u64>,
}

async fn fetch(
    State(s): State<AppState>,
    ApiPath((topic, partition)): ApiPath<(String, u32)>,
    ApiQuery(q): ApiQuery<FetchQuery>,
) -> ApiResult<wire::Messages> {
    let max = q.max.unwrap_or(100);
    if max == 0 || max > 10_000 {
        return Err(BackendError::BadRequest(format!("max={max}: ask for 1 to 10000 records")).into());
    }
    let wait = q.wait_ms.unwrap_or(0);
    if wait > 60_000 {
        return Err(BackendError::BadRequest(format!("wait_ms={wait}: wait at most 60000 ms")).into());
    }
    ok(wire::Messages { messages: s.backend.fetch(&topic, partition, q.offset, max, wait).await? })
}

async fn list_groups(State(s): State<AppState>) -> ApiResult<Vec<GroupInfo>> {
    ok(s.backend.list_groups().await?)
}

async fn describe_group(State(s): State<AppState>, ApiPath(group): ApiPath<String>) -> ApiResult<GroupInfo> {
    ok(s.backend.describe_group(&group).await?)
}

async fn delete_group(State(s): State<AppState>, ApiPath(group): ApiPath<String>) -> Result<StatusCode, ApiError> {
    s.backend.delete_group(&group).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn pull(
    State(s): State<AppState>,
    ApiPath(group): ApiPath<String>,
    ApiJson(req): ApiJson<PullRequest>,
) -> ApiResult<PullResult> {
    if req.max == 0 || req.max > 10_000 {
        return Err(BackendError::BadRequest(format!("max={}: ask for 1 to 10000 records", req.max)).into());
    }
    if req.wait_ms > 60_000 {
        return Err(BackendError::BadRequest(format!("wait_ms={}: wait at most 60000 ms", req.wait_ms)).into());
    }
    ok(s.backend.pull(&group, req).await?)
}

async fn commit(
    State(s): State<AppState>,
    ApiPath(group): ApiPath<String>,
    ApiJson(req): ApiJson<wire::Commit>,
) -> Result<StatusCode, ApiError> {
    s.backend.commit(&group, req.offsets).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reset_history(State(s): State<AppState>, ApiPath(group): ApiPath<String>) -> ApiResult<Vec<ResetRecord>> {
    ok(s.backend.reset_history(&group).await?)
}

async fn plan_reset(
    State(s): State<AppState>,
    ApiPath(group): ApiPath<String>,
    ApiJson(req): ApiJson<ResetRequest>,
) -> ApiResult<ResetPlan> {
    ok(s.backend.plan_reset(&group, req).await?)
}

async fn execute_reset(
    State(s): State<AppState>,
    ApiPath(group): ApiPath<String>,
    ApiJson(req): ApiJson<wire::ExecuteReset>,
) -> ApiResult<ResetRecord> {
    if req.plan.group != group {
        return Err(BackendError::BadRequest(format!(
            "the plan is for group {:?} but was sent to group {group:?}",
            req.plan.group
        ))
        .into());
    }
    ok(s.backend.execute_reset(req.plan, req.force).await?)
}

async fn plan_undo(State(s): State<AppState>, ApiPath(group): ApiPath<String>) -> ApiResult<ResetPlan> {
    ok(s.backend.plan_undo(&group).await?)
}

async fn plan_replay(State(s): State<AppState>, ApiJson(req): ApiJson<ReplayRequest>) -> ApiResult<ReplayPlan> {
    ok(s.backend.plan_replay(req).await?)
}

async fn execute_replay(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<wire::ExecuteReplay>,
) -> ApiResult<ReplayResult> {
    ok(s.backend.execute_replay(req.plan).await?)
}
