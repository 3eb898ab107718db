//! Heartbeat (v0–v4) and LeaveGroup (v0–v5; from v3 a batch of members, each answered).

use super::super::dispatch::{self, BoxFuture, Outcome, Request};
use super::super::{Broker, Session, errors};
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse, LeaveGroupRequest, LeaveGroupResponse};

pub fn heartbeat<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<HeartbeatRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let code = match u64::try_from(req.generation_id) {
            Err(_) => super::ILLEGAL_GENERATION,
            Ok(generation) => match b.engine.classic_heartbeat(&req.group_id.0, &req.member_id, generation) {
                Ok(()) => errors::NONE,
                Err(e) => super::logged("Heartbeat", s, &e),
            },
        };
        dispatch::reply(&HeartbeatResponse::default().with_error_code(code), r.version)
    })
}

pub fn leave<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<LeaveGroupRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let group = req.group_id.0.to_string();
        let mut resp = LeaveGroupResponse::default();
        if r.version < 3 {
            resp.error_code = match b.engine.classic_leave(&group, &req.member_id) {
                Ok(()) => errors::NONE,
                Err(e) => super::logged("LeaveGroup", s, &e),
            };
        } else {
            for m in req.members {
                let code = match b.engine.classic_leave(&group, &m.member_id) {
                    Ok(()) => errors::NONE,
                    Err(e) => super::logged("LeaveGroup", s, &e),
                };
                resp.members.push(
                    MemberResponse::default()
                        .with_member_id(m.member_id)
                        .with_group_instance_id(m.group_instance_id)
                        .with_error_code(code),
                );
            }
        }
        dispatch::reply(&resp, r.version)
    })
}
