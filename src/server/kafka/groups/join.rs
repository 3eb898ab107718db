//! JoinGroup (v0–v9): a member joins (or rejoins) and waits for the join phase to end — every
//! known member rejoined, or the rebalance timeout passed — then learns the generation, the
//! chosen protocol, the leader and (the leader only) every member's metadata. From v4 a member
//! without an id is first answered MEMBER_ID_REQUIRED with one, as Kafka does.

use super::super::dispatch::{self, BoxFuture, Outcome, Request};
use super::super::{Broker, Session};
use super::{COORDINATOR_NOT_AVAILABLE, MEMBER_ID_REQUIRED, consumer_protocol, wait};
use crate::engine::{ClassicJoin, JoinAnswer, JoinStep, Joining};
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};
use kafka_protocol::protocol::StrBytes;
use std::time::Duration;

/// A little past the rebalance timeout: the engine ends the phase by then.
const SLACK: Duration = Duration::from_secs(5);

pub fn handle<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<JoinGroupRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let v = r.version;
        let group = req.group_id.0.to_string();
        let session_timeout = Duration::from_millis(req.session_timeout_ms.max(0) as u64);
        // v0 has no rebalance timeout: the session timeout is both, as in Kafka.
        let rebalance_timeout = match req.rebalance_timeout_ms {
            ms if v >= 1 && ms > 0 => Duration::from_millis(ms as u64),
            _ => session_timeout,
        };
        let protocol_type = req.protocol_type.to_string();
        let protocols: Vec<(String, Vec<u8>)> =
            req.protocols.iter().map(|p| (p.name.to_string(), p.metadata.to_vec())).collect();
        let topics = if protocol_type == consumer_protocol::CONSUMER {
            protocols.iter().find_map(|(_, md)| consumer_protocol::subscribed_topics(md)).unwrap_or_default()
        } else {
            Vec::new()
        };
        let join = ClassicJoin {
            member_id: req.member_id.to_string(),
            require_known_member: v >= 4,
            joining: Joining {
                client_id: r.client_id.clone().unwrap_or_default(),
                client_host: super::client_host(s),
                topics,
                session_timeout,
                rebalance_timeout,
                protocol_type: protocol_type.clone(),
                protocols,
            },
        };
        let failed = |code: i16, member_id: StrBytes| {
            let resp = JoinGroupResponse::default()
                .with_error_code(code)
                .with_generation_id(-1)
                .with_member_id(member_id)
                .with_protocol_name((v >= 7).then(StrBytes::default))
                .with_protocol_type(None);
            dispatch::reply(&resp, v)
        };
        let step = match b.engine.classic_join(&group, join) {
            Ok(s) => s,
            Err(e) => return failed(super::logged("JoinGroup", s, &e), req.member_id),
        };
        let answer = match step {
            JoinStep::MemberIdRequired(id) => return failed(MEMBER_ID_REQUIRED, StrBytes::from_string(id)),
            JoinStep::Joined(a) => a,
            JoinStep::Pending(id) => {
                let limit = rebalance_timeout + SLACK;
                match wait::until_ready(b, s, limit, |e| e.classic_join_wait(&group, &id)).await {
                    Ok(Some(a)) => a,
                    Ok(None) => return failed(COORDINATOR_NOT_AVAILABLE, StrBytes::from_string(id)),
                    Err(e) => return failed(super::logged("JoinGroup", s, &e), StrBytes::from_string(id)),
                }
            }
        };
        dispatch::reply(&response(answer, &protocol_type, v), v)
    })
}

fn response(a: JoinAnswer, protocol_type: &str, v: i16) -> JoinGroupResponse {
    JoinGroupResponse::default()
        .with_generation_id(i32::try_from(a.generation).unwrap_or(i32::MAX))
        .with_protocol_type((v >= 7).then(|| StrBytes::from_string(protocol_type.to_string())))
        .with_protocol_name(Some(StrBytes::from_string(a.protocol)))
        .with_leader(StrBytes::from_string(a.leader))
        .with_member_id(StrBytes::from_string(a.member_id))
        .with_members(
            a.members
                .into_iter()
                .map(|(id, md)| {
                    JoinGroupResponseMember::default()
                        .with_member_id(StrBytes::from_string(id))
                        .with_metadata(bytes::Bytes::from(md))
                })
                .collect(),
        )
}
