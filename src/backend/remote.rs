//! A depot server as a [`Backend`], over its HTTP/JSON API (`/v1/...`). Every call has a timeout,
//! so a server that is down or slow gives a clear error, never a hang. URLs are built from
//! segments, each percent-encoded, and every topic and group name is checked against the name rule
//! before it is sent: a name is never read as a path, a query or a fragment.

use super::wire::{self, ErrorBody};
use super::*;
use crate::core::names::validate_name;
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// How long an ordinary request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A backend talking to `depot serve`.
#[derive(Clone, Debug)]
pub struct Remote {
    base: String,
    /// `base` parsed; every request's URL is this plus percent-encoded segments.
    base_url: Url,
    token: Option<String>,
    client: reqwest::Client,
}

impl Remote {
    /// Points at a server, e.g. `http://127.0.0.1:7878`.
    pub fn new(url: &str, token: Option<String>) -> BResult<Remote> {
        let base = url.trim_end_matches('/').to_string();
        let base = if base.contains("://") { base } else { format!("http://{base}") };
        if base.starts_with("https://") {
            return Err(BackendError::BadRequest(format!(
                "{url}: this build of depot speaks plain HTTP only; reach the server over http:// (e.g. through an SSH tunnel)"
            )));
        }
        if !base.starts_with("http://") {
            return Err(BackendError::BadRequest(format!("{url} is not an http:// URL of a depot server")));
        }
        let base_url = Url::parse(&base)
            .ok()
            .filter(|u| !u.cannot_be_a_base() && u.query().is_none() && u.fragment().is_none())
            .ok_or_else(|| BackendError::BadRequest(format!("{url} is not an http:// URL of a depot server")))?;
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| BackendError::Internal(format!("cannot build an HTTP client: {e}")))?;
        Ok(Remote { base, base_url, token, client })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// The URL of `/v1/...` from its segments, each percent-encoded as a path segment (`/`, `?`,
    /// `#`, `%` and the rest can only be part of the segment).
    fn endpoint(&self, segments: &[&str]) -> BResult<Url> {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| BackendError::BadRequest(format!("{} cannot be the base of a URL", self.base)))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, String)],
        body: Option<&B>,
        timeout: Duration,
    ) -> BResult<T> {
        let url = self.endpoint(path)?;
        let mut req = self.client.request(method, url.clone()).timeout(timeout).query(query);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| self.transport_error(e, timeout))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| self.transport_error(e, timeout))?;
        if status.is_success() {
            let text: &[u8] = if bytes.is_empty() || status == StatusCode::NO_CONTENT { b"null" } else { &bytes };
            return serde_json::from_slice(text).map_err(|e| {
                BackendError::Internal(format!("{url} answered {status} with a body depot does not understand: {e}"))
            });
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(b) => Err(b.error),
            Err(_) => {
                let snippet = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).to_string();
                let msg = format!("{url} answered {status}: {snippet}");
                Err(match status {
                    StatusCode::UNAUTHORIZED => BackendError::Unauthorized(msg),
                    StatusCode::NOT_FOUND => BackendError::NotFound(msg),
                    s if s.is_server_error() => BackendError::Unavailable(msg),
                    _ => BackendError::BadRequest(msg),
                })
            }
        }
    }

    fn transport_error(&self, e: reqwest::Error, timeout: Duration) -> BackendError {
        if e.is_timeout() {
            BackendError::Unavailable(format!(
                "the depot server at {} did not answer within {} s",
                self.base,
                timeout.as_secs()
            ))
        } else if e.is_connect() {
            BackendError::Unavailable(format!(
                "cannot connect to a depot server at {}: is `depot serve` running there? ({e})",
                self.base
            ))
        } else {
            BackendError::Unavailable(format!("talking to the depot server at {} failed: {e}", self.base))
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &[&str], query: &[(&str, String)]) -> BResult<T> {
        self.call::<T, ()>(Method::GET, path, query, None, REQUEST_TIMEOUT).await
    }

    async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(&self, path: &[&str], body: &B) -> BResult<T> {
        self.call(Method::POST, path, &[], Some(body), REQUEST_TIMEOUT).await
    }

    async fn delete(&self, path: &[&str]) -> BResult<()> {
        self.call::<(), ()>(Method::DELETE, path, &[], None, REQUEST_TIMEOUT).await
    }
}

/// A topic name for a URL, checked against the name rule first.
fn topic(name: &str) -> BResult<&str> {
    validate_name("topic", name)?;
    Ok(name)
}

/// A group name for a URL, checked against the name rule first.
fn group(name: &str) -> BResult<&str> {
    validate_name("group", name)?;
    Ok(name)
}

#[async_trait]
impl TopicsApi for Remote {
    async fn list_topics(&self) -> BResult<Vec<TopicInfo>> {
        self.get(&["v1", "topics"], &[]).await
    }
    async fn describe_topic(&self, name: &str) -> BResult<TopicInfo> {
        self.get(&["v1", "topics", topic(name)?], &[]).await
    }
    async fn create_topic(&self, name: &str, config: TopicConfig) -> BResult<TopicInfo> {
        self.post(&["v1", "topics"], &wire::CreateTopic::new(name, &config)).await
    }
    async fn delete_topic(&self, name: &str) -> BResult<()> {
        self.delete(&["v1", "topics", topic(name)?]).await
    }
}

#[async_trait]
impl MessagesApi for Remote {
    async fn publish(&self, name: &str, req: PublishRequest) -> BResult<Vec<Ack>> {
        let r: wire::Acks = self.post(&["v1", "topics", topic(name)?, "records"], &req).await?;
        Ok(r.acks)
    }
    async fn peek(&self, name: &str, req: PeekRequest) -> BResult<Vec<Message>> {
        let mut q = vec![("max", req.max.to_string())];
        if let Some(p) = req.partition {
            q.push(("partition", p.to_string()));
        }
        match req.from {
            PeekFrom::Earliest => q.push(("from", "earliest".into())),
            PeekFrom::Latest(n) => q.push(("last", n.to_string())),
            PeekFrom::Offset(o) => q.push(("offset", o.to_string())),
            PeekFrom::Time(t) => q.push(("from_time", t.to_string())),
        }
        let r: wire::Messages = self.get(&["v1", "topics", topic(name)?, "records"], &q).await?;
        Ok(r.messages)
    }
    async fn fetch(&self, name: &str, partition: u32, offset: u64, max: usize, wait_ms: u64) -> BResult<Vec<Message>> {
        let q = [("offset", offset.to_string()), ("max", max.to_string()), ("wait_ms", wait_ms.to_string())];
        let timeout = REQUEST_TIMEOUT + Duration::from_millis(wait_ms);
        let r: wire::Messages = self
            .call::<_, ()>(
                Method::GET,
                &["v1", "topics", topic(name)?, "partitions", &partition.to_string(), "records"],
                &q,
                None,
                timeout,
            )
            .await?;
        Ok(r.messages)
    }
}

#[async_trait]
impl GroupsApi for Remote {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>> {
        self.get(&["v1", "groups"], &[]).await
    }
    async fn describe_group(&self, name: &str) -> BResult<GroupInfo> {
        self.get(&["v1", "groups", group(name)?], &[]).await
    }
    async fn pull(&self, name: &str, req: PullRequest) -> BResult<PullResult> {
        let timeout = REQUEST_TIMEOUT + Duration::from_millis(req.wait_ms);
        self.call(Method::POST, &["v1", "groups", group(name)?, "pull"], &[], Some(&req), timeout).await
    }
    async fn commit(&self, name: &str, offsets: Vec<CommitOffset>) -> BResult<()> {
        self.post(&["v1", "groups", group(name)?, "commit"], &wire::Commit { offsets }).await
    }
    async fn delete_group(&self, name: &str) -> BResult<()> {
        self.delete(&["v1", "groups", group(name)?]).await
    }
}

#[async_trait]
impl ResetsApi for Remote {
    async fn plan_reset(&self, name: &str, req: ResetRequest) -> BResult<ResetPlan> {
        self.post(&["v1", "groups", group(name)?, "resets", "plan"], &req).await
    }
    async fn execute_reset(&self, plan: ResetPlan, force: bool) -> BResult<ResetRecord> {
        let name = plan.group.clone();
        self.post(&["v1", "groups", group(&name)?, "resets", "execute"], &wire::ExecuteReset { plan, force }).await
    }
    async fn plan_undo(&self, name: &str) -> BResult<ResetPlan> {
        self.post(&["v1", "groups", group(name)?, "resets", "undo-plan"], &serde_json::json!({})).await
    }
    async fn reset_history(&self, name: &str) -> BResult<Vec<ResetRecord>> {
        self.get(&["v1", "groups", group(name)?, "resets"], &[]).await
    }
}

#[async_trait]
impl ReplayApi for Remote {
    async fn plan_replay(&self, req: ReplayRequest) -> BResult<ReplayPlan> {
        self.post(&["v1", "replays", "plan"], &req).await
    }
    async fn execute_replay(&self, plan: ReplayPlan) -> BResult<ReplayResult> {
        // The server stops a replay whose client went away, so wait for as long as a big one
        // takes: the ordinary timeout plus a millisecond per 10 records planned.
        let timeout = REQUEST_TIMEOUT.saturating_add(Duration::from_millis(plan.total / 10));
        self.call(Method::POST, &["v1", "replays", "execute"], &[], Some(&wire::ExecuteReplay { plan }), timeout).await
    }
}

#[async_trait]
impl Backend for Remote {
    async fn capabilities(&self) -> BResult<Capabilities> {
        self.get(&["v1", "capabilities"], &[]).await
    }
    fn target(&self) -> String {
        format!("depot server {}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_segment_is_percent_encoded_and_a_base_path_is_kept() {
        let r = Remote::new("http://127.0.0.1:7878/depot/", None).unwrap();
        let u = r.endpoint(&["v1", "topics", "../a b%/?#", "records"]).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:7878/depot/v1/topics/..%2Fa%20b%25%2F%3F%23/records");
        let e = topic("t?x=1").unwrap_err();
        assert!(
            matches!(&e, BackendError::BadRequest(m) if m.contains("topic name \"t?x=1\" is not allowed")),
            "{e:?}"
        );
        assert!(group("..").is_err() && group("billing").is_ok());
    }
}
