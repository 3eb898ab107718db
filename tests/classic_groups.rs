//! Client-assigned groups (Kafka's classic group protocol) on the engine: the join barrier,
//! leader and protocol choice, followers waiting in sync, rebalance and session timeouts on a
//! manual clock, generation and owner checks on commits, member ids required, one kind of group
//! at a time, and a forced reset that makes the members rejoin. Deterministic: no sleeps, the
//! waits are asked again after the clock moved.

use depot::core::{ResetSpec, TopicConfig};
use depot::engine::{
    ClassicError, ClassicJoin, Engine, EngineConfig, EngineError, JoinAnswer, JoinRequest, JoinStep, Joining,
    ManualClock, NewRecord, Phase, SyncMode, Wait,
};
use event_listener::Listener;
use std::sync::Arc;
use std::time::Duration;

fn setup() -> (tempfile::TempDir, Engine, Arc<ManualClock>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let e = Engine::open(
        dir.path(),
        EngineConfig {
            sync: SyncMode::Interval(Duration::from_millis(50)),
            maintenance_interval: Duration::from_secs(3600),
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .unwrap();
    e.create_topic("t", TopicConfig::with_partitions(4)).unwrap();
    for p in 0..4 {
        let recs: Vec<NewRecord> = (0..10).map(|i| NewRecord::value(format!("r{i}"))).collect();
        e.append("t", p, &recs, None).unwrap();
    }
    (dir, e, clock)
}

fn joining(client: &str, protocols: &[&str]) -> Joining {
    Joining {
        client_id: client.into(),
        client_host: format!("/127.0.0.1:{}", client.len() + 40000),
        topics: vec!["t".into()],
        session_timeout: Duration::from_secs(10),
        rebalance_timeout: Duration::from_secs(30),
        protocol_type: "consumer".into(),
        protocols: protocols.iter().map(|p| (p.to_string(), format!("{client}:{p}").into_bytes())).collect(),
    }
}

fn join(e: &Engine, member_id: &str, client: &str) -> JoinStep {
    join_with(e, member_id, joining(client, &["range"]))
}

fn join_with(e: &Engine, member_id: &str, j: Joining) -> JoinStep {
    e.classic_join("g", ClassicJoin { member_id: member_id.into(), require_known_member: false, joining: j }).unwrap()
}

fn joined(s: JoinStep) -> JoinAnswer {
    match s {
        JoinStep::Joined(a) => a,
        other => panic!("expected an answer, got {other:?}"),
    }
}

fn pending(s: JoinStep) -> String {
    match s {
        JoinStep::Pending(id) => id,
        other => panic!("expected the join to wait, got {other:?}"),
    }
}

fn ready<T: std::fmt::Debug>(w: Wait<T>) -> T {
    match w {
        Wait::Ready(t) => t,
        other => panic!("expected an answer, got {other:?}"),
    }
}

fn tps(ps: &[u32]) -> Vec<(String, u32)> {
    ps.iter().map(|p| ("t".to_string(), *p)).collect()
}

/// One member, alone: leader of generation 1, stable after its sync.
fn alone(e: &Engine) -> JoinAnswer {
    let a = joined(join(e, "", "a"));
    let plan = vec![(a.member_id.clone(), b"A".to_vec(), tps(&[0, 1, 2, 3]))];
    assert_eq!(ready(e.classic_sync("g", &a.member_id, a.generation, Some(plan)).unwrap()), b"A");
    a
}

#[test]
fn a_join_waits_for_every_known_member_and_the_leader_assigns_in_sync() {
    let (_d, e, _c) = setup();
    let a = alone(&e);
    assert_eq!((a.generation, a.leader.as_str(), a.members.len()), (1, a.member_id.as_str(), 1));
    // b joins: the group waits for a to rejoin; a's heartbeat says so.
    let b = pending(join(&e, "", "b"));
    assert!(matches!(e.classic_join_wait("g", &b).unwrap(), Wait::Pending(Some(_))));
    assert!(matches!(e.classic_heartbeat("g", &a.member_id, 1), Err(ClassicError::RebalanceInProgress(_))));
    assert_eq!(e.describe_group("g").unwrap().state, "preparing-rebalance");
    let a2 = joined(join(&e, &a.member_id, "a"));
    let b2 = ready(e.classic_join_wait("g", &b).unwrap());
    assert_eq!(a2.generation, 2);
    assert_eq!(b2.generation, 2);
    assert_eq!(a2.leader, a.member_id, "the leader stays the leader");
    assert_eq!(b2.leader, a.member_id);
    let mut names: Vec<&str> = a2.members.iter().map(|(id, _)| id.as_str()).collect();
    names.sort();
    let mut want = vec![a.member_id.as_str(), b.as_str()];
    want.sort();
    assert_eq!(names, want, "the leader gets every member's metadata");
    assert!(b2.members.is_empty(), "followers get none");
    assert!(a2.members.iter().any(|(id, md)| *id == b && md == b"b:range"));
    // b's sync waits for the leader's assignment; nothing is owned meanwhile.
    assert!(matches!(e.classic_sync("g", &b, 2, None).unwrap(), Wait::Pending(_)));
    assert!(matches!(e.classic_heartbeat("g", &b, 2), Ok(())), "heartbeats are fine while the leader assigns");
    let info = e.describe_group("g").unwrap();
    assert_eq!(info.state, "completing-rebalance");
    assert!(info.partitions.iter().all(|p| p.owner.is_none()));
    let plan = vec![(a.member_id.clone(), b"A2".to_vec(), tps(&[0, 1])), (b.clone(), b"B2".to_vec(), tps(&[2, 3]))];
    assert_eq!(ready(e.classic_sync("g", &a.member_id, 2, Some(plan)).unwrap()), b"A2");
    assert_eq!(ready(e.classic_sync("g", &b, 2, None).unwrap()), b"B2");
    let info = e.describe_group("g").unwrap();
    assert_eq!((info.state.as_str(), info.generation, info.assignor.as_str()), ("stable", 2, "range"));
    let owners: Vec<Option<String>> = info.partitions.iter().map(|p| p.owner.clone()).collect();
    assert_eq!(owners, vec![Some(a.member_id.clone()), Some(a.member_id.clone()), Some(b.clone()), Some(b.clone())]);
    let m = info.members.iter().find(|m| m.member_id == b).unwrap();
    assert_eq!((m.client_id.as_str(), m.client_host.as_str()), ("b", "/127.0.0.1:40001"));
    let view = e.classic_describe("g").unwrap();
    assert_eq!((view.phase, view.protocol_type.as_str(), view.protocol.as_str()), (Phase::Stable, "consumer", "range"));
    assert!(view.members.iter().any(|m| m.member_id == b && m.assignment == b"B2" && m.metadata == b"b:range"));
}

#[test]
fn members_that_do_not_rejoin_within_the_rebalance_timeout_are_dropped() {
    let (_d, e, clock) = setup();
    let a = alone(&e);
    let b = pending(join(&e, "", "b"));
    let a2 = joined(join(&e, &a.member_id, "a"));
    ready(e.classic_join_wait("g", &b).unwrap());
    let plan = vec![(a.member_id.clone(), vec![], tps(&[0, 1])), (b.clone(), vec![], tps(&[2, 3]))];
    ready(e.classic_sync("g", &a.member_id, a2.generation, Some(plan)).unwrap());
    // c joins; b rejoins, a never does (but keeps its session alive with heartbeats).
    let c = pending(join(&e, "", "c"));
    assert!(matches!(join(&e, &b, "b"), JoinStep::Pending(_)));
    for _ in 0..29 {
        clock.advance(Duration::from_secs(1));
        let r = e.classic_heartbeat("g", &a.member_id, 2);
        assert!(matches!(r, Err(ClassicError::RebalanceInProgress(_))), "{r:?}");
    }
    assert!(matches!(e.classic_join_wait("g", &c).unwrap(), Wait::Pending(Some(d)) if d <= Duration::from_secs(1)));
    clock.advance(Duration::from_secs(1));
    let c3 = ready(e.classic_join_wait("g", &c).unwrap());
    let b3 = ready(e.classic_join_wait("g", &b).unwrap());
    assert_eq!(c3.generation, 3);
    assert_eq!(b3.leader, c, "the old leader is gone: the first to join this phase (c) leads");
    assert!(matches!(e.classic_heartbeat("g", &a.member_id, 2), Err(ClassicError::UnknownMember { .. })));
    assert_eq!(e.describe_group("g").unwrap().members.len(), 2);
}

#[test]
fn a_member_whose_session_times_out_is_removed_and_the_rest_rejoin() {
    let (_d, e, clock) = setup();
    let a = alone(&e);
    let b = pending(join(&e, "", "b"));
    joined(join(&e, &a.member_id, "a"));
    ready(e.classic_join_wait("g", &b).unwrap());
    let plan = vec![(a.member_id.clone(), vec![], tps(&[0, 1])), (b.clone(), vec![], tps(&[2, 3]))];
    ready(e.classic_sync("g", &a.member_id, 2, Some(plan)).unwrap());
    for _ in 0..2 {
        clock.advance(Duration::from_secs(5));
        e.classic_heartbeat("g", &a.member_id, 2).unwrap();
    }
    assert_eq!(e.expire_members(), 0, "exactly its 10 s: b is still a member");
    clock.advance(Duration::from_millis(1));
    // b has not been heard from for more than its 10 s.
    assert_eq!(e.expire_members(), 1);
    assert!(matches!(e.classic_heartbeat("g", &a.member_id, 2), Err(ClassicError::RebalanceInProgress(_))));
    let a3 = joined(join(&e, &a.member_id, "a"));
    assert_eq!((a3.generation, a3.members.len()), (3, 1));
    assert!(matches!(e.classic_sync("g", &b, 2, None), Err(ClassicError::UnknownMember { .. })));
}

#[test]
fn a_v4_join_first_learns_its_member_id_and_unknown_ids_are_refused() {
    let (_d, e, _c) = setup();
    let req =
        |id: &str| ClassicJoin { member_id: id.into(), require_known_member: true, joining: joining("a", &["range"]) };
    let JoinStep::MemberIdRequired(id) = e.classic_join("g", req("")).unwrap() else { panic!("member id required") };
    assert!(e.describe_group("g").unwrap().members.is_empty(), "not a member before it rejoins");
    assert!(matches!(e.classic_join("g", req("someone-else")), Err(ClassicError::UnknownMember { .. })));
    let a = joined(e.classic_join("g", req(&id)).unwrap());
    assert_eq!((a.member_id, a.generation), (id, 1));
}

#[test]
fn the_protocol_is_the_leaders_first_that_every_member_supports() {
    let (_d, e, _c) = setup();
    let a = joined(join_with(&e, "", joining("a", &["roundrobin", "range"])));
    ready(e.classic_sync("g", &a.member_id, 1, Some(vec![])).unwrap());
    assert_eq!(a.protocol, "roundrobin");
    let b = pending(join_with(&e, "", joining("b", &["range", "roundrobin"])));
    let a2 = joined(join_with(&e, &a.member_id, joining("a", &["roundrobin", "range"])));
    assert_eq!(a2.protocol, "roundrobin", "the leader's order");
    assert!(a2.members.iter().any(|(id, md)| *id == b && md == b"b:roundrobin"), "metadata of the chosen protocol");
}

#[test]
fn a_join_sharing_no_protocol_or_of_another_type_is_refused() {
    let (_d, e, _c) = setup();
    alone(&e);
    let r = e.classic_join(
        "g",
        ClassicJoin { member_id: String::new(), require_known_member: false, joining: joining("c", &["sticky"]) },
    );
    assert!(matches!(r, Err(ClassicError::InconsistentProtocol(_))), "{r:?}");
    let mut other = joining("d", &["range"]);
    other.protocol_type = "connect".into();
    let r = e.classic_join("g", ClassicJoin { member_id: String::new(), require_known_member: false, joining: other });
    assert!(matches!(r, Err(ClassicError::InconsistentProtocol(_))), "{r:?}");
}

#[test]
fn commits_are_checked_for_generation_owner_and_phase_and_only_move_forward() {
    let (_d, e, _c) = setup();
    let a = alone(&e);
    let id = a.member_id.as_str();
    e.classic_commit("g", id, 1, &[("t".into(), 0, 5)]).unwrap();
    assert_eq!(e.describe_group("g").unwrap().partitions[0].committed, Some(5));
    let r = e.classic_commit("g", id, 0, &[("t".into(), 0, 6)]);
    assert!(matches!(r, Err(ClassicError::IllegalGeneration { given: 0, current: 1, .. })), "{r:?}");
    let r = e.classic_commit("g", "ghost", 1, &[("t".into(), 0, 6)]);
    assert!(matches!(r, Err(ClassicError::UnknownMember { .. })), "{r:?}");
    let r = e.classic_commit("g", id, 1, &[("t".into(), 0, 4)]);
    assert!(matches!(r, Err(ClassicError::Engine(EngineError::Refused(_)))), "{r:?}");
    // While the group waits for rejoins the old generation may still commit what it consumed
    // (eager consumers commit on revoke); once the leader's assignment is awaited it may not.
    let b = pending(join(&e, "", "b"));
    e.classic_commit("g", id, 1, &[("t".into(), 1, 3)]).unwrap();
    joined(join(&e, id, "a"));
    ready(e.classic_join_wait("g", &b).unwrap());
    let r = e.classic_commit("g", id, 2, &[("t".into(), 1, 4)]);
    assert!(matches!(r, Err(ClassicError::RebalanceInProgress(_))), "{r:?}");
    let plan = vec![(id.to_string(), vec![], tps(&[0, 1])), (b.clone(), vec![], tps(&[2, 3]))];
    ready(e.classic_sync("g", id, 2, Some(plan)).unwrap());
    let r = e.classic_commit("g", id, 2, &[("t".into(), 2, 4)]);
    assert!(matches!(r, Err(ClassicError::NotOwner { .. })), "{r:?}");
    e.classic_commit("g", &b, 2, &[("t".into(), 2, 4)]).unwrap();
    // An operator's commit (no member, generation -1) is refused while members run.
    let r = e.classic_commit("g", "", -1, &[("t".into(), 3, 1)]);
    assert!(matches!(r, Err(ClassicError::UnknownMember { .. })), "{r:?}");
}

#[test]
fn a_group_is_one_kind_at_a_time() {
    let (_d, e, _c) = setup();
    let a = alone(&e);
    let r = e.join_group("g", JoinRequest::new("depot-pull", &["t"]));
    assert!(matches!(r, Err(EngineError::Refused(ref m)) if m.contains("Kafka")), "{r:?}");
    e.classic_leave("g", &a.member_id).unwrap();
    assert_eq!(e.describe_group("g").unwrap().state, "empty");
    // Empty: depot may pull as it, and then a Kafka consumer may not join until it left.
    let m = e.join_group("g", JoinRequest::new("depot-pull", &["t"])).unwrap();
    let r = e.classic_join(
        "g",
        ClassicJoin { member_id: String::new(), require_known_member: false, joining: joining("k", &["range"]) },
    );
    assert!(matches!(r, Err(ClassicError::InconsistentProtocol(_))), "{r:?}");
    e.leave_group("g", &m.member_id).unwrap();
    joined(join(&e, "", "k"));
    // An operator's commit once nobody is left.
    let g = e.describe_group("g").unwrap();
    e.classic_leave("g", &g.members[0].member_id).unwrap();
    e.classic_commit("g", "", -1, &[("t".into(), 3, 2)]).unwrap();
    assert_eq!(e.describe_group("g").unwrap().partitions[3].committed, Some(2));
}

#[test]
fn a_forced_reset_makes_the_members_rejoin_and_refuses_the_old_generations_commits() {
    let (_d, e, _c) = setup();
    let a = alone(&e);
    let id = a.member_id.as_str();
    e.classic_commit("g", id, 1, &[("t".into(), 0, 8)]).unwrap();
    let plan = e.plan_reset("g", "t", Some(&[0]), ResetSpec::ToOffset(2)).unwrap();
    assert!(e.execute_reset(&plan, false).is_err(), "refused while a member is live");
    let changed = e.group_changes();
    e.execute_reset(&plan, true).unwrap();
    assert!(changed.wait_timeout(Duration::ZERO).is_some(), "waiting joins and syncs are woken");
    let r = e.classic_heartbeat("g", id, 1);
    assert!(matches!(r, Err(ClassicError::IllegalGeneration { .. })), "{r:?}");
    let r = e.classic_commit("g", id, 1, &[("t".into(), 0, 8)]);
    assert!(
        matches!(r, Err(ClassicError::IllegalGeneration { .. })),
        "the old generation's commit would undo the reset"
    );
    let a2 = joined(join(&e, id, "a"));
    assert!(a2.generation > 1);
    ready(e.classic_sync("g", id, a2.generation, Some(vec![(id.to_string(), vec![], tps(&[0, 1, 2, 3]))])).unwrap());
    assert_eq!(e.describe_group("g").unwrap().partitions[0].committed, Some(2), "what the member reads next");
}

#[test]
fn an_operators_commit_back_is_a_journaled_reset_and_forward_a_commit() {
    let (_d, e, _c) = setup();
    e.classic_commit("g", "", -1, &[("t".into(), 0, 8), ("t".into(), 1, 5)]).unwrap();
    assert!(e.reset_history("g").is_empty(), "forward: plain commits");
    // Kafka's admin tools reset a group by committing for it while it is empty.
    e.classic_commit("g", "", -1, &[("t".into(), 0, 3), ("t".into(), 1, 6)]).unwrap();
    let g = e.describe_group("g").unwrap();
    assert_eq!((g.partitions[0].committed, g.partitions[1].committed), (Some(3), Some(6)));
    let history = e.reset_history("g");
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].rows, vec![(0, Some(8), 3)]);
    let undo = e.plan_undo("g").unwrap();
    e.execute_reset(&undo, false).unwrap();
    assert_eq!(e.describe_group("g").unwrap().partitions[0].committed, Some(8), "undone like any reset");
}
