//! The JetStream API (`$JS.API.*` requests) and its errors in depot's terms: streams, consumers
//! (durable and ephemeral), and pulling one message from a consumer.

use super::Nats;
use super::codec::{check_name, nanos};
use crate::backend::{BResult, BackendError};
use async_nats::StatusCode;
use async_nats::jetstream::{self, consumer, stream};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(serde::Deserialize)]
struct StreamPage {
    #[serde(default)]
    total: usize,
    #[serde(default)]
    streams: Option<Vec<stream::Info>>,
}

#[derive(serde::Deserialize)]
struct ConsumerPage {
    #[serde(default)]
    total: usize,
    #[serde(default)]
    consumers: Option<Vec<consumer::Info>>,
}

/// A JetStream API answer: the value, or the error JetStream gave (transport failures are
/// already a [`BackendError`]).
pub(super) type Api<T> = BResult<Result<T, jetstream::Error>>;

pub(super) fn js_error(what: &str, e: &jetstream::Error) -> BackendError {
    let msg = format!("{what}: JetStream said: {e}");
    match e.code() {
        400 => BackendError::BadRequest(msg),
        401 | 403 => BackendError::Unauthorized(msg),
        404 => BackendError::NotFound(msg),
        409 => BackendError::Conflict(msg),
        503 => BackendError::Unavailable(msg),
        _ => BackendError::Internal(msg),
    }
}

pub(super) fn code(e: &jetstream::Error) -> u64 {
    e.error_code().0
}

impl Nats {
    fn request_error(&self, subject: &str, e: async_nats::jetstream::context::RequestError) -> BackendError {
        use async_nats::jetstream::context::RequestErrorKind as K;
        match e.kind() {
            K::NoResponders => BackendError::Unavailable(format!(
                "NATS at {} answers but no JetStream does ({subject}): start nats-server with JetStream (-js) or use an account that has it",
                self.url
            )),
            K::TimedOut => BackendError::Unavailable(format!(
                "NATS at {} did not answer {subject} within {} s; try again",
                self.url,
                REQUEST_TIMEOUT.as_secs()
            )),
            _ => BackendError::Unavailable(format!("request {subject} to NATS at {} failed: {e}", self.url)),
        }
    }

    /// One JetStream API call (`$JS.API.<subject>`).
    pub(super) async fn api<T: DeserializeOwned>(&self, subject: &str, body: &Value) -> Api<T> {
        let v: Value = self.js.request(subject.to_string(), body).await.map_err(|e| self.request_error(subject, e))?;
        if let Some(err) = v.get("error") {
            return match serde_json::from_value::<jetstream::Error>(err.clone()) {
                Ok(e) => Ok(Err(e)),
                Err(e) => Err(BackendError::Internal(format!(
                    "JetStream answered {subject} with an unreadable error ({e}): {err}"
                ))),
            };
        }
        serde_json::from_value(v)
            .map(Ok)
            .map_err(|e| BackendError::Internal(format!("JetStream answered {subject} in an unexpected shape: {e}")))
    }

    pub(super) async fn stream_info(&self, topic: &str) -> BResult<stream::Info> {
        check_name("topic", topic)?;
        match self.api::<stream::Info>(&format!("STREAM.INFO.{topic}"), &json!({})).await? {
            Ok(i) => Ok(i),
            Err(e) if code(&e) == jetstream::ErrorCode::STREAM_NOT_FOUND.0 => Err(BackendError::NotFound(format!(
                "topic {topic} not found: NATS at {} has no JetStream stream named {topic}",
                self.url
            ))),
            Err(e) => Err(js_error(&format!("describing stream {topic}"), &e)),
        }
    }

    pub(super) async fn streams(&self) -> BResult<Vec<stream::Info>> {
        let mut out = Vec::new();
        loop {
            let page = match self.api::<StreamPage>("STREAM.LIST", &json!({ "offset": out.len() })).await? {
                Ok(p) => p,
                Err(e) => return Err(js_error("listing streams", &e)),
            };
            let got = page.streams.unwrap_or_default();
            let n = got.len();
            out.extend(got);
            if n == 0 || out.len() >= page.total {
                break;
            }
        }
        out.sort_by(|a, b| a.config.name.cmp(&b.config.name));
        Ok(out)
    }

    pub(super) async fn consumers(&self, stream: &str) -> BResult<Vec<consumer::Info>> {
        let mut out = Vec::new();
        loop {
            let subject = format!("CONSUMER.LIST.{stream}");
            let page = match self.api::<ConsumerPage>(&subject, &json!({ "offset": out.len() })).await? {
                Ok(p) => p,
                // The stream went away between listing and looking: it has no consumers now.
                Err(e) if code(&e) == jetstream::ErrorCode::STREAM_NOT_FOUND.0 => return Ok(Vec::new()),
                Err(e) => return Err(js_error(&format!("listing the consumers of stream {stream}"), &e)),
            };
            let got = page.consumers.unwrap_or_default();
            let n = got.len();
            out.extend(got);
            if n == 0 || out.len() >= page.total {
                break;
            }
        }
        Ok(out)
    }

    /// The consumer `name` on `stream` as raw JSON (to re-create it with the same settings) and
    /// parsed; `None` when it does not exist.
    pub(super) async fn consumer_info(&self, stream: &str, name: &str) -> BResult<Option<(Value, consumer::Info)>> {
        let subject = format!("CONSUMER.INFO.{stream}.{name}");
        match self.api::<Value>(&subject, &json!({})).await? {
            Ok(v) => {
                let info = serde_json::from_value::<consumer::Info>(v.clone()).map_err(|e| {
                    BackendError::Internal(format!("JetStream answered {subject} in an unexpected shape: {e}"))
                })?;
                Ok(Some((v, info)))
            }
            Err(e) if code(&e) == jetstream::ErrorCode::CONSUMER_NOT_FOUND.0 => Ok(None),
            Err(e) if code(&e) == jetstream::ErrorCode::STREAM_NOT_FOUND.0 => Err(BackendError::NotFound(format!(
                "topic {stream} not found: NATS at {} has no JetStream stream named {stream}",
                self.url
            ))),
            Err(e) => Err(js_error(&format!("describing consumer {name} of stream {stream}"), &e)),
        }
    }

    pub(super) async fn create_durable(&self, stream: &str, name: &str, config: Value) -> BResult<consumer::Info> {
        let subject = format!("CONSUMER.DURABLE.CREATE.{stream}.{name}");
        match self.api::<consumer::Info>(&subject, &json!({ "stream_name": stream, "config": config })).await? {
            Ok(i) => Ok(i),
            Err(e) => Err(js_error(&format!("creating durable consumer {name} on stream {stream}"), &e)),
        }
    }

    pub(super) async fn delete_consumer(&self, stream: &str, name: &str) -> BResult<()> {
        let subject = format!("CONSUMER.DELETE.{stream}.{name}");
        match self.api::<Value>(&subject, &json!({})).await? {
            Ok(_) => Ok(()),
            Err(e) if code(&e) == jetstream::ErrorCode::CONSUMER_NOT_FOUND.0 => Ok(()),
            Err(e) => Err(js_error(&format!("deleting consumer {name} of stream {stream}"), &e)),
        }
    }

    /// An ephemeral pull consumer for one read; JetStream removes it by itself if depot cannot.
    pub(super) async fn create_ephemeral(
        &self,
        stream: &str,
        mut config: Value,
        idle: Duration,
    ) -> BResult<consumer::Info> {
        config["ack_policy"] = json!("explicit");
        config["inactive_threshold"] = json!(nanos(idle));
        config["mem_storage"] = json!(true);
        config["max_deliver"] = json!(1);
        let subject = format!("CONSUMER.CREATE.{stream}");
        match self.api::<consumer::Info>(&subject, &json!({ "stream_name": stream, "config": config })).await? {
            Ok(i) => Ok(i),
            Err(e) => Err(js_error(&format!("creating a reader on stream {stream}"), &e)),
        }
    }

    pub(super) async fn drop_ephemeral(&self, stream: &str, name: &str) {
        if let Err(e) = self.delete_consumer(stream, name).await {
            tracing::debug!("ephemeral consumer {name} on {stream} left for JetStream to expire: {e}");
        }
    }

    /// One message from a consumer (`CONSUMER.MSG.NEXT`, batch 1): at once, or waiting up to `wait`.
    pub(super) async fn next_message(
        &self,
        stream: &str,
        name: &str,
        wait: Option<Duration>,
    ) -> BResult<Option<jetstream::Message>> {
        let subject = format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}");
        let (body, timeout) = match wait {
            Some(w) => (json!({ "batch": 1, "expires": nanos(w) }), w + Duration::from_secs(2)),
            None => (json!({ "batch": 1, "no_wait": true }), REQUEST_TIMEOUT),
        };
        let payload = Bytes::from(body.to_string());
        // Its own inbox: the message arrives on it under the stream's subject, which the client's
        // shared request inbox would not route back to us.
        let req = async_nats::Request::new().payload(payload).timeout(Some(timeout)).inbox(self.client.new_inbox());
        let m = self.client.send_request(subject.clone(), req).await.map_err(|e| {
            BackendError::Unavailable(format!(
                "pulling from consumer {name} of stream {stream} at {} failed: {e}",
                self.url
            ))
        })?;
        match m.status {
            None | Some(StatusCode::OK) => Ok(Some(jetstream::Message { message: m, context: self.js.clone() })),
            Some(StatusCode::NOT_FOUND) | Some(StatusCode::TIMEOUT) => Ok(None),
            Some(s) => {
                let why = m.description.clone().unwrap_or_default();
                let msg = format!("JetStream ended a pull from consumer {name} of stream {stream}: {s} {why}");
                Err(if s == StatusCode::REQUEST_TERMINATED {
                    BackendError::Refused(msg)
                } else {
                    BackendError::Unavailable(msg)
                })
            }
        }
    }
}
