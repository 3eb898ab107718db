//! The wrapper against a fake inner backend that records every call it gets: writes never reach
//! it, reads and dry runs do, unchanged.

use super::*;
use parking_lot::Mutex;

/// An inner backend that records each call and answers it with an error naming the call (so a
/// passed-through answer is recognisable), except capabilities.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<Call>>,
}

impl Recorder {
    fn got<T>(&self, call: Call) -> BResult<T> {
        self.calls.lock().push(call);
        Err(BackendError::Unavailable(format!("inner answered {call:?}")))
    }
}

#[async_trait]
impl TopicsApi for Recorder {
    async fn list_topics(&self) -> BResult<Vec<TopicInfo>> {
        self.got(Call::ListTopics)
    }
    async fn describe_topic(&self, _: &str) -> BResult<TopicInfo> {
        self.got(Call::DescribeTopic)
    }
    async fn create_topic(&self, _: &str, _: TopicConfig) -> BResult<TopicInfo> {
        self.got(Call::CreateTopic)
    }
    async fn delete_topic(&self, _: &str) -> BResult<()> {
        self.got(Call::DeleteTopic)
    }
}

#[async_trait]
impl MessagesApi for Recorder {
    async fn publish(&self, _: &str, _: PublishRequest) -> BResult<Vec<Ack>> {
        self.got(Call::Publish)
    }
    async fn peek(&self, _: &str, _: PeekRequest) -> BResult<Vec<Message>> {
        self.got(Call::Peek)
    }
    async fn fetch(&self, _: &str, _: u32, _: u64, _: usize, _: u64) -> BResult<Vec<Message>> {
        self.got(Call::Fetch)
    }
    async fn search(&self, _: &str, _: SearchRequest) -> BResult<SearchResult> {
        self.got(Call::Search)
    }
}

#[async_trait]
impl GroupsApi for Recorder {
    async fn list_groups(&self) -> BResult<Vec<GroupInfo>> {
        self.got(Call::ListGroups)
    }
    async fn describe_group(&self, _: &str) -> BResult<GroupInfo> {
        self.got(Call::DescribeGroup)
    }
    async fn pull(&self, _: &str, _: PullRequest) -> BResult<PullResult> {
        self.got(Call::Pull)
    }
    async fn commit(&self, _: &str, _: Vec<CommitOffset>) -> BResult<()> {
        self.got(Call::Commit)
    }
    async fn delete_group(&self, _: &str) -> BResult<()> {
        self.got(Call::DeleteGroup)
    }
}

#[async_trait]
impl ResetsApi for Recorder {
    async fn plan_reset(&self, _: &str, _: ResetRequest) -> BResult<ResetPlan> {
        self.got(Call::PlanReset)
    }
    async fn execute_reset(&self, _: ResetPlan, _: bool) -> BResult<ResetRecord> {
        self.got(Call::ExecuteReset)
    }
    async fn plan_undo(&self, _: &str) -> BResult<ResetPlan> {
        self.got(Call::PlanUndo)
    }
    async fn reset_history(&self, _: &str) -> BResult<Vec<ResetRecord>> {
        self.got(Call::ResetHistory)
    }
}

#[async_trait]
impl ReplayApi for Recorder {
    async fn plan_replay(&self, _: ReplayRequest) -> BResult<ReplayPlan> {
        self.got(Call::PlanReplay)
    }
    async fn execute_replay(&self, _: ReplayPlan) -> BResult<ReplayResult> {
        self.got(Call::ExecuteReplay)
    }
}

#[async_trait]
impl Backend for Recorder {
    async fn capabilities(&self) -> BResult<Capabilities> {
        self.calls.lock().push(Call::Capabilities);
        Ok(Capabilities::depot())
    }
    fn target(&self) -> String {
        "recorder".into()
    }
}

fn reset_plan() -> ResetPlan {
    ResetPlan {
        group: "g".into(),
        topic: "t".into(),
        spec: ResetSpec::ToEarliest,
        rows: Vec::new(),
        live_members: Vec::new(),
        undo_of: None,
    }
}

fn replay_plan() -> ReplayPlan {
    ReplayPlan {
        source: "t".into(),
        target: "t".into(),
        range: ReplayRange::Offsets { from: 0, to: 1 },
        rows: Vec::new(),
        total: 0,
    }
}

/// Makes `call` on `b`; only whether it failed, and how, matters here.
async fn invoke(b: &dyn Backend, call: Call) -> BResult<()> {
    let peek = PeekRequest { partition: None, from: PeekFrom::Earliest, max: 1 };
    let pull = PullRequest { topic: "t".into(), max: 1, commit: true, wait_ms: 0 };
    let reset = ResetRequest { topic: "t".into(), partitions: Vec::new(), spec: ResetSpec::ToEarliest };
    let replay = ReplayRequest {
        source: "t".into(),
        partitions: Vec::new(),
        range: ReplayRange::Offsets { from: 0, to: 1 },
        target: None,
    };
    let commit = vec![CommitOffset { topic: "t".into(), partition: 0, offset: 1 }];
    match call {
        Call::Capabilities => b.capabilities().await.map(drop),
        Call::ListTopics => b.list_topics().await.map(drop),
        Call::DescribeTopic => b.describe_topic("t").await.map(drop),
        Call::CreateTopic => b.create_topic("t", TopicConfig::with_partitions(1)).await.map(drop),
        Call::DeleteTopic => b.delete_topic("t").await,
        Call::Publish => {
            b.publish("t", PublishRequest { records: vec![OutRecord::text("v")], producer: None }).await.map(drop)
        }
        Call::Peek => b.peek("t", peek).await.map(drop),
        Call::Fetch => b.fetch("t", 0, 0, 1, 0).await.map(drop),
        Call::Search => b.search("t", SearchRequest::default()).await.map(drop),
        Call::ListGroups => b.list_groups().await.map(drop),
        Call::DescribeGroup => b.describe_group("g").await.map(drop),
        Call::Pull => b.pull("g", pull).await.map(drop),
        Call::Commit => b.commit("g", commit).await,
        Call::DeleteGroup => b.delete_group("g").await,
        Call::PlanReset => b.plan_reset("g", reset).await.map(drop),
        Call::ExecuteReset => b.execute_reset(reset_plan(), true).await.map(drop),
        Call::PlanUndo => b.plan_undo("g").await.map(drop),
        Call::ResetHistory => b.reset_history("g").await.map(drop),
        Call::PlanReplay => b.plan_replay(replay).await.map(drop),
        Call::ExecuteReplay => b.execute_replay(replay_plan()).await.map(drop),
    }
}

#[tokio::test]
async fn writes_never_reach_the_inner_backend_and_reads_pass_through() {
    let inner = Arc::new(Recorder::default());
    let ro = ReadOnly::new(inner.clone(), Why::Context("prod".into()));
    for call in Call::ALL {
        let before = inner.calls.lock().len();
        let got = invoke(&ro, call).await;
        let seen = inner.calls.lock()[before..].to_vec();
        if call.writes() {
            assert_eq!(got, Err(Why::Context("prod".into()).refusal()), "{call:?}");
            assert!(seen.is_empty(), "{call:?} reached the inner backend");
        } else {
            assert_eq!(seen, [call], "{call:?} is passed through once");
            if call != Call::Capabilities {
                assert_eq!(got, Err(BackendError::Unavailable(format!("inner answered {call:?}"))), "{call:?}");
            }
        }
    }
    assert!(inner.calls.lock().iter().all(|c| !c.writes()));
    let caps = ro.capabilities().await.unwrap();
    assert!(caps.read_only, "the console greys out writes from this");
    assert_eq!(Capabilities { read_only: false, ..caps }, Capabilities::depot(), "the rest is the inner's");
    assert_eq!(ro.target(), "recorder");
}

#[test]
fn writes_are_exactly_the_calls_that_change_something() {
    let writes: Vec<Call> = Call::ALL.into_iter().filter(|c| c.writes()).collect();
    assert_eq!(
        writes,
        [
            Call::CreateTopic,
            Call::DeleteTopic,
            Call::Publish,
            Call::Pull,
            Call::Commit,
            Call::DeleteGroup,
            Call::ExecuteReset,
            Call::ExecuteReplay
        ]
    );
    let distinct: std::collections::HashSet<Call> = Call::ALL.into_iter().collect();
    assert_eq!(distinct.len(), Call::ALL.len());
}

#[test]
fn every_refusal_says_why_and_what_to_change() {
    let m = |w: Why| w.refusal().to_string();
    assert!(m(Why::Flag).contains("--read-only"));
    assert!(m(Why::Context("prod".into())).contains("context prod is read-only (read_only = true"));
    assert!(m(Why::Server).contains("server is read-only"));
    assert!(matches!(Why::Server.refusal(), BackendError::Refused(_)));
}
