//! Turning failures into HTTP answers: a status code and `{"error": {"kind", "message"}}`, and
//! extractors whose rejections (bad JSON, wrong types, oversized bodies, names the rule refuses)
//! answer the same way.

use crate::backend::BackendError;
use crate::backend::wire::ErrorBody;
use crate::core::Invalid;
use crate::core::names::validate_name;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// An error answer.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub BackendError);

/// The HTTP status for a kind of backend error.
pub fn status_of(e: &BackendError) -> StatusCode {
    match e {
        BackendError::NotFound(_) => StatusCode::NOT_FOUND,
        BackendError::Conflict(_) | BackendError::Refused(_) => StatusCode::CONFLICT,
        BackendError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        BackendError::BadRequest(_) => StatusCode::BAD_REQUEST,
        BackendError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        BackendError::Unsupported(_) => StatusCode::NOT_IMPLEMENTED,
        BackendError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        ApiError(status_of(&e), e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(ErrorBody { error: self.1 })).into_response()
    }
}

/// A JSON body whose rejection is a JSON error.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    let status = rej.status();
    let msg = match &rej {
        JsonRejection::MissingJsonContentType(_) => {
            "send the body as JSON with the header `Content-Type: application/json`".to_string()
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the body is larger than the {} MiB limit; send smaller batches", super::BODY_LIMIT >> 20)
        }
        _ => format!("invalid JSON body: {}", rej.body_text()),
    };
    ApiError(status, BackendError::BadRequest(msg))
}

/// Query parameters whose rejection is a JSON error.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rej) => Err(query_rejection(rej)),
        }
    }
}

fn query_rejection(rej: QueryRejection) -> ApiError {
    ApiError(
        StatusCode::BAD_REQUEST,
        BackendError::BadRequest(format!("invalid query parameters: {}", rej.body_text())),
    )
}

/// Path parameters whose rejection is a JSON error.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(rej) => Err(path_rejection(rej)),
        }
    }
}

fn path_rejection(rej: PathRejection) -> ApiError {
    let msg = match &rej {
        // A name the rule refuses ([`TopicName`], [`GroupName`]) says so in its own words.
        PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
            ErrorKind::Message(m) | ErrorKind::DeserializeError { message: m, .. } if m.contains(" name ") => m.clone(),
            _ => format!("invalid path: {}", rej.body_text()),
        },
        _ => format!("invalid path: {}", rej.body_text()),
    };
    ApiError(StatusCode::BAD_REQUEST, BackendError::BadRequest(msg))
}

/// A `{topic}` from a route, checked against the name rule as it is decoded: a name that would
/// not round-trip through a URL, or that the engine would refuse to create, is a 400 before any
/// handler sees it.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct TopicName(pub String);

impl TryFrom<String> for TopicName {
    type Error = Invalid;

    fn try_from(s: String) -> Result<Self, Invalid> {
        validate_name("topic", &s)?;
        Ok(TopicName(s))
    }
}

/// A `{group}` from a route, checked like a [`TopicName`].
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct GroupName(pub String);

impl TryFrom<String> for GroupName {
    type Error = Invalid;

    fn try_from(s: String) -> Result<Self, Invalid> {
        validate_name("group", &s)?;
        Ok(GroupName(s))
    }
}
