//! Read-only as a wrapper around any backend: reads and dry runs pass through, every write is
//! refused before the engine is asked, with a message that says why (`--read-only`, a context's
//! `read_only = true`, or a read-only server). [`Call::writes`] is the one definition of what a
//! write is; the server's guard uses it too, to refuse before it even reads a request's body.

use super::*;
use std::sync::Arc;

/// Why writes are refused; named in every refusal, so the user knows what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// `--read-only` on the command line.
    Flag,
    /// `read_only = true` in this context of the config file.
    Context(String),
    /// A depot server started with `--read-only`.
    Server,
}

impl Why {
    /// The error every write gets.
    pub fn refusal(&self) -> BackendError {
        BackendError::Refused(match self {
            Why::Flag => "started with --read-only: writes are disabled".into(),
            Why::Context(name) => {
                format!("context {name} is read-only (read_only = true in the config file): writes are disabled")
            }
            Why::Server => "this depot server is read-only (--read-only): writes are refused".into(),
        })
    }
}

/// Every call of the [`Backend`] family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    Capabilities,
    ListTopics,
    DescribeTopic,
    CreateTopic,
    DeleteTopic,
    Publish,
    Peek,
    Fetch,
    ListGroups,
    DescribeGroup,
    Pull,
    Commit,
    DeleteGroup,
    PlanReset,
    ExecuteReset,
    PlanUndo,
    ResetHistory,
    PlanReplay,
    ExecuteReplay,
}

impl Call {
    /// Every call, once.
    pub const ALL: [Call; 19] = [
        Call::Capabilities,
        Call::ListTopics,
        Call::DescribeTopic,
        Call::CreateTopic,
        Call::DeleteTopic,
        Call::Publish,
        Call::Peek,
        Call::Fetch,
        Call::ListGroups,
        Call::DescribeGroup,
        Call::Pull,
        Call::Commit,
        Call::DeleteGroup,
        Call::PlanReset,
        Call::ExecuteReset,
        Call::PlanUndo,
        Call::ResetHistory,
        Call::PlanReplay,
        Call::ExecuteReplay,
    ];

    /// Whether the call changes anything. A pull writes: it joins the group (a rebalance) and
    /// commits what it got, or hands it back as a redelivery. Plans are dry runs and do not.
    pub const fn writes(self) -> bool {
        matches!(
            self,
            Call::CreateTopic
                | Call::DeleteTopic
                | Call::Publish
                | Call::Pull
                | Call::Commit
                | Call::DeleteGroup
                | Call::ExecuteReset
                | Call::ExecuteReplay
        )
    }
}

/// A backend whose writes are refused.
pub struct ReadOnly<B: ?Sized> {
    why: Why,
    inner: Arc<B>,
}

impl<B: ?Sized> ReadOnly<B> {
    pub fn new(inner: Arc<B>, why: Why) -> ReadOnly<B> {
        ReadOnly { why, inner }
    }

    pub fn why(&self) -> &Why {
        &self.why
    }

    /// Ok for reads; the refusal for writes.
    fn allow(&self, call: Call) -> BResult<()> {
        if call.writes() { Err(self.why.refusal()) } else { Ok(()) }
    }
}

#[async_trait]
impl<B: Backend + ?Sized> TopicsApi for ReadOnly<B> {
    async fn list_topics(&self) -> BResult<Vec<TopicInfo>> {
        self.allow(Call::ListTopics)?;
        self.inner.list_topics().await
    }
    async fn describe_topic(&self, name: &str) -> BResult<TopicInfo> {
        self.allow(Call::DescribeTopic)?;
        self.inner.describe_topic(name).await
    }
    async fn create_topic(&self, name: &str, config: TopicConfig) -> BResult<TopicInfo> {
        self.allow(Call::CreateTopic)?;
        self.inner.create_topic(name, config).await
    }
    async fn delete_topic(&self, name: &str) -> BResult<()> {
        self.allow(Call::DeleteTopic)?;
        self.inner.delete_topic(name).await
    }
}

#[async_trait]
impl<B: Backend + ?Sized> MessagesApi for ReadOnly<B> {
    async fn publish(&self, topic: &str, req: PublishRequest) -> BResult<Vec<Ack>> {
        self.allow(Call::Publish)?;
        self.inner.publish(topic, req).await
    }
    async fn peek(&self, topic: &str, req: PeekRequest) -> BResult<Vec<Message>> {
        self.allow(Call::Peek)?;
        self.inner.peek(topic, req).await
    }
    async fn fetch(&self, topic: &str, partition: u32, offset: u64, max: usize, wait_ms: u64) -> BResult<Vec<Message>> {
        self.allow(Call::Fetch)?;
        self.inner.fetch(topic, partition, offset, max, wait_ms).await
    }
}

#[async_trait]
impl<B: Backend + ?Sized> GroupsApi for ReadOnly<B> {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>> {
        self.allow(Call::ListGroups)?;
        self.inner.list_groups().await
    }
    async fn describe_group(&self, name: &str) -> BResult<GroupInfo> {
        self.allow(Call::DescribeGroup)?;
        self.inner.describe_group(name).await
    }
    async fn pull(&self, group: &str, req: PullRequest) -> BResult<PullResult> {
        self.allow(Call::Pull)?;
        self.inner.pull(group, req).await
    }
    async fn commit(&self, group: &str, offsets: Vec<CommitOffset>) -> BResult<()> {
        self.allow(Call::Commit)?;
        self.inner.commit(group, offsets).await
    }
    async fn delete_group(&self, name: &str) -> BResult<()> {
        self.allow(Call::DeleteGroup)?;
        self.inner.delete_group(name).await
    }
}

#[async_trait]
impl<B: Backend + ?Sized> ResetsApi for ReadOnly<B> {
    async fn plan_reset(&self, group: &str, req: ResetRequest) -> BResult<ResetPlan> {
        self.allow(Call::PlanReset)?;
        self.inner.plan_reset(group, req).await
    }
    async fn execute_reset(&self, plan: ResetPlan, force: bool) -> BResult<ResetRecord> {
        self.allow(Call::ExecuteReset)?;
        self.inner.execute_reset(plan, force).await
    }
    async fn plan_undo(&self, group: &str) -> BResult<ResetPlan> {
        self.allow(Call::PlanUndo)?;
        self.inner.plan_undo(group).await
    }
    async fn reset_history(&self, group: &str) -> BResult<Vec<ResetRecord>> {
        self.allow(Call::ResetHistory)?;
        self.inner.reset_history(group).await
    }
}

#[async_trait]
impl<B: Backend + ?Sized> ReplayApi for ReadOnly<B> {
    async fn plan_replay(&self, req: ReplayRequest) -> BResult<ReplayPlan> {
        self.allow(Call::PlanReplay)?;
        self.inner.plan_replay(req).await
    }
    async fn execute_replay(&self, plan: ReplayPlan) -> BResult<ReplayResult> {
        self.allow(Call::ExecuteReplay)?;
        self.inner.execute_replay(plan).await
    }
}

#[async_trait]
impl<B: Backend + ?Sized> Backend for ReadOnly<B> {
    async fn capabilities(&self) -> BResult<Capabilities> {
        self.allow(Call::Capabilities)?;
        Ok(Capabilities { read_only: true, ..self.inner.capabilities().await? })
    }
    fn target(&self) -> String {
        self.inner.target()
    }
}

#[cfg(test)]
#[path = "read_only_tests.rs"]
mod tests;
