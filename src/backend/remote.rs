//! A depot server as a [`Backend`], over its HTTP/JSON API (`/v1/...`). Every call has a timeout,
//! so a server that is down or slow gives a clear error, never a hang.

use super::wire::{self, ErrorBody};
use super::*;
use reqwest::{Method, StatusCode};
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
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| BackendError::Internal(format!("cannot build an HTTP client: {e}")))?;
        Ok(Remote { base, token, client })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        timeout: Duration,
    ) -> BResult<T> {
        let url = format!("{}{}", self.base, path);
        let mut req = self.client.request(method, &url).timeout(timeout).query(query);
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

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> BResult<T> {
        self.call::<T, ()>(Method::GET, path, query, None, REQUEST_TIMEOUT).await
    }

    async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(&self, path: &str, body: &B) -> BResult<T> {
        self.call(Method::POST, path, &[], Some(body), REQUEST_TIMEOUT).await
    }
}

#[async_trait]
impl TopicsApi for Remote {
    async fn list_topics(&self) -> BResult<Vec<TopicInfo>> {
        self.get("/v1/topics", &[]).await
    }
    async fn describe_topic(&self, name: &str) -> BResult<TopicInfo> {
        self.get(&format!("/v1/topics/{name}"), &[]).await
    }
    async fn create_topic(&self, name: &str, config: TopicConfig) -> BResult<TopicInfo> {
        self.post("/v1/topics", &wire::CreateTopic::new(name, &config)).await
    }
    async fn delete_topic(&self, name: &str) -> BResult<()> {
        self.call::<(), ()>(Method::DELETE, &format!("/v1/topics/{name}"), &[], None, REQUEST_TIMEOUT).await
    }
}

#[async_trait]
impl MessagesApi for Remote {
    async fn publish(&self, topic: &str, req: PublishRequest) -> BResult<Vec<Ack>> {
        let r: wire::Acks = self.post(&format!("/v1/topics/{topic}/records"), &req).await?;
        Ok(r.acks)
    }
    async fn peek(&self, topic: &str, req: PeekRequest) -> BResult<Vec<Message>> {
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
        let r: wire::Messages = self.get(&format!("/v1/topics/{topic}/records"), &q).await?;
        Ok(r.messages)
    }
    async fn fetch(&self, topic: &str, partition: u32, offset: u64, max: usize, wait_ms: u64) -> BResult<Vec<Message>> {
        let q = [("offset", offset.to_string()), ("max", max.to_string()), ("wait_ms", wait_ms.to_string())];
        let timeout = REQUEST_TIMEOUT + Duration::from_millis(wait_ms);
        let r: wire::Messages = self
            .call::<_, ()>(
                Method::GET,
                &format!("/v1/topics/{topic}/partitions/{partition}/records"),
                &q,
                None,
                timeout,
            )
            .await?;
        Ok(r.messages)
    }
    async fn search(&self, topic: &str, req: SearchRequest) -> BResult<SearchResult> {
        // The server stops by the request's time bound; this waits a little longer than that.
        let budget = if req.max_ms == 0 { search::DEFAULT_MS } else { req.max_ms.min(search::MAX_MS) };
        let timeout = REQUEST_TIMEOUT + Duration::from_millis(budget);
        self.call(Method::POST, &format!("/v1/topics/{topic}/search"), &[], Some(&req), timeout).await
    }
}

#[async_trait]
impl GroupsApi for Remote {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>> {
        self.get("/v1/groups", &[]).await
    }
    async fn describe_group(&self, name: &str) -> BResult<GroupInfo> {
        self.get(&format!("/v1/groups/{name}"), &[]).await
    }
    async fn pull(&self, group: &str, req: PullRequest) -> BResult<PullResult> {
        let timeout = REQUEST_TIMEOUT + Duration::from_millis(req.wait_ms);
        self.call(Method::POST, &format!("/v1/groups/{group}/pull"), &[], Some(&req), timeout).await
    }
    async fn commit(&self, group: &str, offsets: Vec<CommitOffset>) -> BResult<()> {
        self.post(&format!("/v1/groups/{group}/commit"), &wire::Commit { offsets }).await
    }
    async fn delete_group(&self, name: &str) -> BResult<()> {
        self.call::<(), ()>(Method::DELETE, &format!("/v1/groups/{name}"), &[], None, REQUEST_TIMEOUT).await
    }
}

#[async_trait]
impl ResetsApi for Remote {
    async fn plan_reset(&self, group: &str, req: ResetRequest) -> BResult<ResetPlan> {
        self.post(&format!("/v1/groups/{group}/resets/plan"), &req).await
    }
    async fn execute_reset(&self, plan: ResetPlan, force: bool) -> BResult<ResetRecord> {
        let group = plan.group.clone();
        self.post(&format!("/v1/groups/{group}/resets/execute"), &wire::ExecuteReset { plan, force }).await
    }
    async fn plan_undo(&self, group: &str) -> BResult<ResetPlan> {
        self.post(&format!("/v1/groups/{group}/resets/undo-plan"), &serde_json::json!({})).await
    }
    async fn reset_history(&self, group: &str) -> BResult<Vec<ResetRecord>> {
        self.get(&format!("/v1/groups/{group}/resets"), &[]).await
    }
}

#[async_trait]
impl ReplayApi for Remote {
    async fn plan_replay(&self, req: ReplayRequest) -> BResult<ReplayPlan> {
        self.post("/v1/replays/plan", &req).await
    }
    async fn execute_replay(&self, plan: ReplayPlan) -> BResult<ReplayResult> {
        self.post("/v1/replays/execute", &wire::ExecuteReplay { plan }).await
    }
}

#[async_trait]
impl Backend for Remote {
    async fn capabilities(&self) -> BResult<Capabilities> {
        self.get("/v1/capabilities", &[]).await
    }
    fn target(&self) -> String {
        format!("depot server {}", self.base)
    }
}
