//! One-shot pulls of one group at the same time (HTTP clients of `depot serve`, several `depot
//! pull` through it): each pull joins the group as a new member, and a join starts a new
//! generation, so concurrent pulls used to refuse each other's commits — four in a loop could go
//! on doing so for minutes while the lag stood still (the soak found it). Pulls of one group take
//! turns now: every concurrent pull is answered, together they hand out each record once, and the
//! lag falls to zero.

use depot::backend::embedded::Embedded;
use depot::backend::*;
use depot::core::*;
use depot::engine::{Engine, EngineConfig, NewRecord, SyncMode};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pulls_of_one_group_are_all_answered_and_hand_out_each_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig { sync: SyncMode::Never, ..Default::default() };
    let engine = Engine::open(dir.path(), config).unwrap();
    engine.create_topic("t", TopicConfig::with_partitions(8)).unwrap();
    let total = 8 * 500;
    for p in 0..8u32 {
        let recs: Vec<NewRecord> = (0..500).map(|i| NewRecord::value(format!("{p}:{i}"))).collect();
        engine.append("t", p, &recs, None).unwrap();
    }
    let b = Arc::new(Embedded::new(engine));
    let mut seen = HashSet::new();
    let mut refused = Vec::new();
    // Rounds of four pulls at once, as the soak's four consumers of a group do.
    for _round in 0..100 {
        let pulls: Vec<_> = (0..4)
            .map(|_| {
                let b = b.clone();
                tokio::spawn(async move {
                    b.pull("g", PullRequest { topic: "t".into(), max: 20, commit: true, wait_ms: 0 }).await
                })
            })
            .collect();
        for p in pulls {
            match p.await.unwrap() {
                Ok(r) => {
                    for m in r.messages {
                        let v = m.value.as_ref().and_then(Payload::as_text).unwrap_or_default().to_string();
                        assert!(seen.insert(v.clone()), "{v} handed out twice");
                    }
                }
                Err(e) => refused.push(e.to_string()),
            }
        }
        if seen.len() == total {
            break;
        }
    }
    assert!(refused.is_empty(), "{} concurrent pulls refused, e.g. {:?}", refused.len(), refused.first());
    assert_eq!(seen.len(), total, "every record handed out");
    let g = b.describe_group("g").await.unwrap();
    assert_eq!(g.total_lag(), 0, "the lag fell to zero");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_that_cannot_get_its_turn_within_its_wait_is_refused_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineConfig { sync: SyncMode::Never, ..Default::default() }).unwrap();
    engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let b = Arc::new(Embedded::new(engine));
    // A long poll on an empty topic holds the group's turn for its 8 s...
    let holder = {
        let b = b.clone();
        tokio::spawn(async move {
            b.pull("g", PullRequest { topic: "t".into(), max: 1, commit: true, wait_ms: 8_000 }).await
        })
    };
    // ...(wait until it joined)...
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while b.describe_group("g").await.map_or(true, |g| g.members.is_empty()) {
        assert!(std::time::Instant::now() < deadline, "the first pull never joined");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...so a second pull asking 6 s is refused in about that, saying why, not after the first's 8.
    let t = std::time::Instant::now();
    let r = b.pull("g", PullRequest { topic: "t".into(), max: 1, commit: true, wait_ms: 6_000 }).await;
    let took = t.elapsed();
    match r {
        Err(BackendError::Conflict(why)) => {
            assert!(why.contains("another pull of group g") && why.contains("try again"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    assert!(took >= Duration::from_secs(6) && took < Duration::from_secs(8), "{took:?}");
    holder.abort();
}
