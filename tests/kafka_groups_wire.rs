//! The classic group protocol over raw Kafka requests: FindCoordinator, a join that waits for the
//! other members (holding no thread), MEMBER_ID_REQUIRED on v4+ joins, the error codes of stale
//! members and generations, REBALANCE_IN_PROGRESS, the leader's assignment reaching a waiting
//! follower and the engine's owners, commits and offset fetches, ListGroups and DescribeGroups.

mod kafka_common;

use depot::core::TopicConfig;
use kafka_common::{Listener, Wire};
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition as AssignedTp;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::offset_commit_request::{OffsetCommitRequestPartition, OffsetCommitRequestTopic};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, StrBytes};

const UNKNOWN_MEMBER_ID: i16 = 25;
const ILLEGAL_GENERATION: i16 = 22;
const REBALANCE_IN_PROGRESS: i16 = 27;
const MEMBER_ID_REQUIRED: i16 = 79;
const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;

fn s(x: &str) -> StrBytes {
    StrBytes::from_string(x.to_string())
}

fn versioned<T: Encodable>(m: &T, v: i16) -> bytes::Bytes {
    let mut b = bytes::BytesMut::new();
    b.extend_from_slice(&v.to_be_bytes());
    m.encode(&mut b, v).unwrap();
    b.freeze()
}

fn subscription(topics: &[&str]) -> bytes::Bytes {
    versioned(&ConsumerProtocolSubscription::default().with_topics(topics.iter().map(|t| s(t)).collect()), 1)
}

fn assignment(topic: &str, parts: &[i32]) -> bytes::Bytes {
    let a = ConsumerProtocolAssignment::default().with_assigned_partitions(vec![
        AssignedTp::default().with_topic(TopicName(s(topic))).with_partitions(parts.to_vec()),
    ]);
    versioned(&a, 1)
}

fn join_req(member: &str) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(GroupId(s("g")))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(20_000)
        .with_member_id(s(member))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![
            JoinGroupRequestProtocol::default().with_name(s("range")).with_metadata(subscription(&["t"])),
        ])
}

async fn join(c: &mut Wire, v: i16, member: &str) -> JoinGroupResponse {
    c.call(ApiKey::JoinGroup, v, &join_req(member)).await
}

async fn sync(c: &mut Wire, member: &str, generation: i32, plan: Vec<(&str, bytes::Bytes)>) -> SyncGroupResponse {
    let req = SyncGroupRequest::default()
        .with_group_id(GroupId(s("g")))
        .with_generation_id(generation)
        .with_member_id(s(member))
        .with_protocol_type(Some(s("consumer")))
        .with_protocol_name(Some(s("range")))
        .with_assignments(
            plan.into_iter()
                .map(|(m, a)| SyncGroupRequestAssignment::default().with_member_id(s(m)).with_assignment(a))
                .collect(),
        );
    c.call(ApiKey::SyncGroup, 5, &req).await
}

async fn heartbeat(c: &mut Wire, member: &str, generation: i32) -> i16 {
    let req = HeartbeatRequest::default()
        .with_group_id(GroupId(s("g")))
        .with_generation_id(generation)
        .with_member_id(s(member));
    let r: HeartbeatResponse = c.call(ApiKey::Heartbeat, 4, &req).await;
    r.error_code
}

async fn commit(c: &mut Wire, member: &str, generation: i32, partition: i32, offset: i64) -> i16 {
    let req = OffsetCommitRequest::default()
        .with_group_id(GroupId(s("g")))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(s(member))
        .with_topics(vec![OffsetCommitRequestTopic::default().with_name(TopicName(s("t"))).with_partitions(vec![
            OffsetCommitRequestPartition::default().with_partition_index(partition).with_committed_offset(offset),
        ])]);
    let r: OffsetCommitResponse = c.call(ApiKey::OffsetCommit, 8, &req).await;
    r.topics[0].partitions[0].error_code
}

async fn listener() -> Listener {
    let l = Listener::start().await;
    l.engine.create_topic("t", TopicConfig::with_partitions(2)).unwrap();
    for p in 0..2 {
        let recs: Vec<_> = (0..5).map(|i| depot::engine::NewRecord::value(format!("r{i}"))).collect();
        l.engine.append("t", p, &recs, None).unwrap();
    }
    l
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_coordinator_names_this_node_in_every_version() {
    let l = listener().await;
    let mut c = l.client().await;
    for v in 0..=3 {
        let r: FindCoordinatorResponse =
            c.call(ApiKey::FindCoordinator, v, &FindCoordinatorRequest::default().with_key(s("g"))).await;
        assert_eq!((r.error_code, r.node_id.0, r.port), (0, 0, i32::from(l.addr.port())), "v{v}");
        assert_eq!(r.host.as_str(), "127.0.0.1");
    }
    let req = FindCoordinatorRequest::default().with_coordinator_keys(vec![s("a"), s("b")]);
    let r: FindCoordinatorResponse = c.call(ApiKey::FindCoordinator, 4, &req).await;
    let keys: Vec<(&str, i32, i16)> = r.coordinators.iter().map(|k| (k.key.as_str(), k.port, k.error_code)).collect();
    let port = i32::from(l.addr.port());
    assert_eq!(keys, vec![("a", port, 0), ("b", port, 0)]);
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_join_the_leader_assigns_and_the_engine_knows_the_owners() {
    let l = listener().await;
    let (mut a, mut b) = (l.client().await, l.client().await);
    // v4+: a new member first learns its id.
    let r = join(&mut a, 5, "").await;
    assert_eq!(r.error_code, MEMBER_ID_REQUIRED);
    let a_id = r.member_id.to_string();
    assert!(!a_id.is_empty());
    let r = join(&mut a, 5, &a_id).await;
    assert_eq!((r.error_code, r.generation_id, r.leader.as_str()), (0, 1, a_id.as_str()));
    assert_eq!(r.members.len(), 1);
    let r = sync(&mut a, &a_id, 1, vec![(&a_id, assignment("t", &[0, 1]))]).await;
    assert_eq!((r.error_code, r.protocol_name.as_deref()), (0, Some("range")));
    assert_eq!(heartbeat(&mut a, &a_id, 1).await, 0);
    // b joins (v2: no member id round trip): its join waits for a to rejoin, and holds no thread —
    // a's requests on its own connection are answered meanwhile.
    let b_join = tokio::spawn(async move {
        let r = join(&mut b, 2, "").await;
        (b, r)
    });
    kafka_common::poll("the group to rebalance", || {
        l.engine.describe_group("g").is_ok_and(|g| g.state == "preparing-rebalance")
    })
    .await;
    assert_eq!(heartbeat(&mut a, &a_id, 1).await, REBALANCE_IN_PROGRESS);
    assert_eq!(commit(&mut a, &a_id, 1, 0, 2).await, 0, "the old generation may commit before it rejoins");
    let r = join(&mut a, 5, &a_id).await;
    assert_eq!((r.error_code, r.generation_id, r.leader.as_str(), r.members.len()), (0, 2, a_id.as_str(), 2));
    let (mut b, rb) = b_join.await.unwrap();
    assert_eq!((rb.error_code, rb.generation_id, rb.leader.as_str()), (0, 2, a_id.as_str()));
    assert!(rb.members.is_empty(), "followers get no member list");
    let b_id = rb.member_id.to_string();
    // b's sync waits for the leader's; meanwhile a commit of generation 2 is refused.
    let b_sync = tokio::spawn(async move {
        let r = sync(&mut b, &b_id, 2, vec![]).await;
        (b, b_id, r)
    });
    kafka_common::poll("b to wait in its sync", || {
        l.engine.describe_group("g").is_ok_and(|g| g.state == "completing-rebalance")
    })
    .await;
    assert_eq!(commit(&mut a, &a_id, 2, 0, 3).await, REBALANCE_IN_PROGRESS);
    let b_bytes = assignment("t", &[1]);
    let r = sync(&mut a, &a_id, 2, vec![(&a_id, assignment("t", &[0])), (&rb.member_id, b_bytes.clone())]).await;
    assert_eq!(r.error_code, 0);
    let (mut b, b_id, rs) = b_sync.await.unwrap();
    assert_eq!((rs.error_code, rs.assignment.clone()), (0, b_bytes.clone()));
    let g = l.engine.describe_group("g").unwrap();
    let owners: Vec<Option<&str>> = g.partitions.iter().map(|p| p.owner.as_deref()).collect();
    assert_eq!(owners, vec![Some(a_id.as_str()), Some(b_id.as_str())]);
    assert!(g.members.iter().all(|m| m.client_id == "depot-test" && m.client_host == "/127.0.0.1"), "{g:?}");
    // Stale members and generations.
    assert_eq!(heartbeat(&mut a, &a_id, 1).await, ILLEGAL_GENERATION);
    assert_eq!(heartbeat(&mut a, "nobody", 2).await, UNKNOWN_MEMBER_ID);
    assert_eq!(commit(&mut a, &a_id, 1, 0, 4).await, ILLEGAL_GENERATION);
    assert_eq!(commit(&mut a, &a_id, 2, 1, 4).await, ILLEGAL_GENERATION, "not a's partition");
    assert_eq!(commit(&mut b, &b_id, 2, 1, 4).await, 0);
    let r = join(&mut a, 5, "someone-else").await;
    assert_eq!(r.error_code, UNKNOWN_MEMBER_ID);
    // OffsetFetch, old and new shapes.
    let req = OffsetFetchRequest::default().with_group_id(GroupId(s("g"))).with_topics(Some(vec![
        OffsetFetchRequestTopic::default().with_name(TopicName(s("t"))).with_partition_indexes(vec![0, 1]),
    ]));
    let r: OffsetFetchResponse = a.call(ApiKey::OffsetFetch, 7, &req).await;
    let got: Vec<(i32, i64)> = r.topics[0].partitions.iter().map(|p| (p.partition_index, p.committed_offset)).collect();
    assert_eq!(got, vec![(0, 2), (1, 4)]);
    let req = OffsetFetchRequest::default().with_groups(vec![
        offset_fetch_request::OffsetFetchRequestGroup::default().with_group_id(GroupId(s("g"))).with_topics(None),
        offset_fetch_request::OffsetFetchRequestGroup::default().with_group_id(GroupId(s("none"))).with_topics(Some(
            vec![
                offset_fetch_request::OffsetFetchRequestTopics::default()
                    .with_name(TopicName(s("t")))
                    .with_partition_indexes(vec![0]),
            ],
        )),
    ]);
    let r: OffsetFetchResponse = a.call(ApiKey::OffsetFetch, 8, &req).await;
    let all: Vec<(i32, i64)> =
        r.groups[0].topics[0].partitions.iter().map(|p| (p.partition_index, p.committed_offset)).collect();
    assert_eq!(all, vec![(0, 2), (1, 4)]);
    assert_eq!(r.groups[1].topics[0].partitions[0].committed_offset, -1, "never committed");
    // DescribeGroups and ListGroups.
    let r: DescribeGroupsResponse = a
        .call(
            ApiKey::DescribeGroups,
            5,
            &DescribeGroupsRequest::default().with_groups(vec![GroupId(s("g")), GroupId(s("nope"))]),
        )
        .await;
    let d = &r.groups[0];
    assert_eq!(
        (d.group_state.as_str(), d.protocol_type.as_str(), d.protocol_data.as_str()),
        ("Stable", "consumer", "range")
    );
    let bm = d.members.iter().find(|m| m.member_id.as_str() == b_id).expect("b described");
    assert_eq!(
        (bm.client_id.as_str(), bm.client_host.as_str(), bm.member_assignment.clone()),
        ("depot-test", "/127.0.0.1", b_bytes)
    );
    assert_eq!(r.groups[1].group_state.as_str(), "Dead");
    let r: ListGroupsResponse = a.call(ApiKey::ListGroups, 4, &ListGroupsRequest::default()).await;
    let listed: Vec<(&str, &str, &str)> =
        r.groups.iter().map(|g| (g.group_id.0.as_str(), g.protocol_type.as_str(), g.group_state.as_str())).collect();
    assert_eq!(listed, vec![("g", "consumer", "Stable")]);
    // b leaves (v3+ batch): a must rejoin, alone.
    let req = LeaveGroupRequest::default()
        .with_group_id(GroupId(s("g")))
        .with_members(vec![leave_group_request::MemberIdentity::default().with_member_id(s(&b_id))]);
    let r: LeaveGroupResponse = b.call(ApiKey::LeaveGroup, 4, &req).await;
    assert_eq!((r.error_code, r.members[0].error_code), (0, 0));
    assert_eq!(heartbeat(&mut a, &a_id, 2).await, REBALANCE_IN_PROGRESS);
    let r = join(&mut a, 5, &a_id).await;
    assert_eq!((r.error_code, r.generation_id, r.members.len()), (0, 3, 1));
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_commit_and_a_group_depot_pulls_as_are_kept_apart_from_kafka_members() {
    let l = listener().await;
    let mut c = l.client().await;
    // No members: generation -1 and no member id commit as an operator.
    assert_eq!(commit(&mut c, "", -1, 0, 3).await, 0);
    assert_eq!(l.engine.describe_group("g").unwrap().partitions[0].committed, Some(3));
    // A depot member holds the group: a Kafka consumer cannot join it.
    let m = l.engine.join_group("g", depot::engine::JoinRequest::new("pull", &["t"])).unwrap();
    assert_eq!(join(&mut c, 3, "").await.error_code, INCONSISTENT_GROUP_PROTOCOL);
    let r: ListGroupsResponse = c.call(ApiKey::ListGroups, 3, &ListGroupsRequest::default()).await;
    assert_eq!(r.groups[0].protocol_type.as_str(), "depot");
    l.engine.leave_group("g", &m.member_id).unwrap();
    let r = join(&mut c, 3, "").await;
    assert_eq!((r.error_code, r.leader.as_str()), (0, r.member_id.as_str()), "once it left, a Kafka consumer leads it");
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_commits_with_group_authorization_failed_and_changes_nothing() {
    let opts = depot::server::kafka::KafkaOptions { read_only: true, ..Default::default() };
    let l = Listener::with(opts).await;
    l.engine.create_topic("t", TopicConfig::with_partitions(2)).unwrap();
    l.engine.append("t", 0, &[depot::engine::NewRecord::value("r")], None).unwrap();
    let mut c = l.client().await;
    assert_eq!(commit(&mut c, "", -1, 0, 1).await, 30, "GROUP_AUTHORIZATION_FAILED");
    assert!(l.engine.committed_offsets("g").is_none_or(|o| o.is_empty()), "nothing committed");
    l.finish().await;
}

async fn delete_groups(c: &mut Wire, names: &[&str]) -> Vec<(String, i16)> {
    let req = DeleteGroupsRequest::default().with_groups_names(names.iter().map(|n| GroupId(s(n))).collect());
    let r: DeleteGroupsResponse = c.call(ApiKey::DeleteGroups, 2, &req).await;
    r.results.into_iter().map(|g| (g.group_id.0.to_string(), g.error_code)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_groups_deletes_an_empty_group_and_refuses_a_live_or_unknown_one_each_with_its_code() {
    let l = listener().await;
    let mut c = l.client().await;
    // "g" has only committed offsets; "busy" has a live member; "never" does not exist.
    assert_eq!(commit(&mut c, "", -1, 0, 3).await, 0);
    let m = l.engine.join_group("busy", depot::engine::JoinRequest::new("pull", &["t"])).unwrap();
    let got = delete_groups(&mut c, &["g", "busy", "never"]).await;
    assert_eq!(got, [("g".to_string(), 0), ("busy".to_string(), 68), ("never".to_string(), 69)]);
    assert!(l.engine.describe_group("g").is_err(), "g and its offsets are gone");
    assert!(l.engine.describe_group("busy").is_ok(), "a group with a live member stays");
    l.engine.leave_group("busy", &m.member_id).unwrap();
    l.finish().await;

    // Read-only: refused, nothing deleted.
    let opts = depot::server::kafka::KafkaOptions { read_only: true, ..Default::default() };
    let l = Listener::with(opts).await;
    l.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    l.engine.commit_offsets("kept", &[("t".to_string(), 0, 0)]).unwrap();
    let mut c = l.client().await;
    assert_eq!(delete_groups(&mut c, &["kept"]).await, [("kept".to_string(), 30)]);
    assert!(l.engine.describe_group("kept").is_ok());
    l.finish().await;
}
