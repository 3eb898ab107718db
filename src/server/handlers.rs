//! The handlers of the `/v1` routes, `/healthz`, `/metrics` and the OpenAPI document: each
//! checks what the engine cannot (record counts, waits, one of several query parameters) and
//! hands the call to the backend.

use super::AppState;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, GroupName, TopicName};
use super::{metrics, openapi};
use crate::backend::wire;
use crate::backend::*;
use crate::core::time::parse_instant;
use crate::core::*;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

pub(super) async fn not_found(req: Request) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        BackendError::NotFound(format!(
            "no such endpoint: {} {}; see /v1/openapi.json",
            req.method(),
            req.uri().path()
        )),
    )
}

pub(super) async fn method_not_allowed(req: Request) -> ApiError {
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

pub(super) async fn healthz(State(s): State<AppState>) -> Response {
    match s.backend.list_topics().await {
        Ok(_) => (StatusCode::OK, axum::Json(serde_json::json!({"status": "ok"}))).into_response(),
        Err(e) => ApiError(StatusCode::SERVICE_UNAVAILABLE, e).into_response(),
    }
}

pub(super) async fn metrics_text(State(s): State<AppState>) -> Response {
    let body = metrics::render(s.backend.as_ref(), &s.http).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

pub(super) async fn openapi_doc() -> axum::Json<serde_json::Value> {
    axum::Json(openapi::document())
}

pub(super) async fn capabilities(State(s): State<AppState>) -> ApiResult<Capabilities> {
    ok(s.backend.capabilities().await?)
}

pub(super) async fn list_topics(State(s): State<AppState>) -> ApiResult<Vec<TopicInfo>> {
    ok(s.backend.list_topics().await?)
}

pub(super) async fn create_topic(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<wire::CreateTopic>,
) -> Result<Response, ApiError> {
    let t = s.backend.create_topic(&b.name, b.config()).await?;
    Ok((StatusCode::CREATED, axum::Json(t)).into_response())
}

pub(super) async fn describe_topic(
    State(s): State<AppState>,
    ApiPath(TopicName(topic)): ApiPath<TopicName>,
) -> ApiResult<TopicInfo> {
    ok(s.backend.describe_topic(&topic).await?)
}

pub(super) async fn delete_topic(
    State(s): State<AppState>,
    ApiPath(TopicName(topic)): ApiPath<TopicName>,
) -> Result<StatusCode, ApiError> {
    s.backend.delete_topic(&topic).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn publish(
    State(s): State<AppState>,
    ApiPath(TopicName(topic)): ApiPath<TopicName>,
    ApiJson(req): ApiJson<PublishRequest>,
) -> ApiResult<wire::Acks> {
    ok(wire::Acks { acks: s.backend.publish(&topic, req).await? })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PeekQuery {
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

pub(super) async fn peek(
    State(s): State<AppState>,
    ApiPath(TopicName(topic)): ApiPath<TopicName>,
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
pub(super) struct FetchQuery {
    offset: u64,
    max: Option<usize>,
    wait_ms: Option<u64>,
}

pub(super) async fn fetch(
    State(s): State<AppState>,
    ApiPath((TopicName(topic), partition)): ApiPath<(TopicName, u32)>,
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

pub(super) async fn list_groups(State(s): State<AppState>) -> ApiResult<Vec<GroupInfo>> {
    ok(s.backend.list_groups().await?)
}

pub(super) async fn describe_group(
    State(s): State<AppState>,
    ApiPath(GroupName(group)): ApiPath<GroupName>,
) -> ApiResult<GroupInfo> {
    ok(s.backend.describe_group(&group).await?)
}

pub(super) async fn delete_group(
    State(s): State<AppState>,
    ApiPath(GroupName(group)): ApiPath<GroupName>,
) -> Result<StatusCode, ApiError> {
    s.backend.delete_group(&group).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn pull(
    State(s): State<AppState>,
    ApiPath(GroupName(group)): ApiPath<GroupName>,
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

pub(super) async fn commit(
    State(s): State<AppState>,
    ApiPath(GroupName(group)): ApiPath<GroupName>,
    ApiJson(req): ApiJson<wire::Commit>,
) -> Result<StatusCode, ApiError> {
    s.backend.commit(&group, req.offsets).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn reset_history(
    State(s): State<AppState>,
    ApiPath(GroupName(group)): ApiPath<GroupName>,
) -> ApiResult<Vec<ResetRecord>> {
    ok(s.backend.reset_history(&group).await?)
}

pub(super) async fn plan_reset(
    State(s): State<AppState>,
    ApiPath(GroupName(group)): ApiPath<GroupName>,
    ApiJson(req): ApiJson<ResetRequest>,
) -> ApiResult<ResetPlan> {
    ok(s.backend.plan_reset(&group, req).await?)
}

pub(super) async fn execute_reset(
    State(s): State<AppState>,
    ApiPath(GroupName(group)): ApiPath<GroupName>,
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

pub(super) async fn plan_undo(
    State(s): State<AppState>,
    ApiPath(GroupName(group)): ApiPath<GroupName>,
) -> ApiResult<ResetPlan> {
    ok(s.backend.plan_undo(&group).await?)
}

pub(super) async fn plan_replay(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<ReplayRequest>,
) -> ApiResult<ReplayPlan> {
    ok(s.backend.plan_replay(req).await?)
}

pub(super) async fn execute_replay(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<wire::ExecuteReplay>,
) -> ApiResult<ReplayResult> {
    ok(s.backend.execute_replay(req.plan).await?)
}
