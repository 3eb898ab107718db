//! SyncGroup (v0–v5): the leader sends every member's assignment; the engine keeps the bytes and
//! the partitions they name (decoded here for the "consumer" protocol), so the group's owners
//! and lag are its own. Followers wait for the leader's sync, holding no thread.

use super::super::dispatch::{self, BoxFuture, Outcome, Request};
use super::super::{Broker, Session};
use super::{COORDINATOR_NOT_AVAILABLE, consumer_protocol, wait};
use crate::engine::Assignment;
use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};
use kafka_protocol::protocol::StrBytes;

pub fn handle<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<SyncGroupRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let v = r.version;
        let group = req.group_id.0.to_string();
        let member = req.member_id.to_string();
        let view = b.engine.classic_describe(&group);
        let consumer = view.as_ref().is_some_and(|g| g.protocol_type == consumer_protocol::CONSUMER);
        let reply = |code: i16, assignment: Vec<u8>| {
            let (ptype, pname) = match (&view, v >= 5) {
                (Some(g), true) => (
                    Some(StrBytes::from_string(g.protocol_type.clone())),
                    Some(StrBytes::from_string(g.protocol.clone())),
                ),
                _ => (None, None),
            };
            let resp = SyncGroupResponse::default()
                .with_error_code(code)
                .with_protocol_type(ptype)
                .with_protocol_name(pname)
                .with_assignment(bytes::Bytes::from(assignment));
            dispatch::reply(&resp, v)
        };
        let Ok(generation) = u64::try_from(req.generation_id) else {
            return reply(super::ILLEGAL_GENERATION, Vec::new());
        };
        let mut plan: Option<Vec<Assignment>> = None;
        if !req.assignments.is_empty() {
            let mut list = Vec::with_capacity(req.assignments.len());
            for a in &req.assignments {
                let tps = if consumer {
                    match consumer_protocol::assigned_partitions(&a.assignment) {
                        Some(t) => t,
                        None => {
                            tracing::warn!(
                                "kafka: SyncGroup from {}: the assignment for {} does not decode",
                                s.peer,
                                a.member_id
                            );
                            return reply(super::INCONSISTENT_GROUP_PROTOCOL, Vec::new());
                        }
                    }
                } else {
                    Vec::new()
                };
                list.push((a.member_id.to_string(), a.assignment.to_vec(), tps));
            }
            plan = Some(list);
        }
        let first = match b.engine.classic_sync(&group, &member, generation, plan) {
            Ok(w) => w,
            Err(e) => return reply(super::logged("SyncGroup", s, &e), Vec::new()),
        };
        let got = match first {
            crate::engine::Wait::Ready(bytes) => Ok(Some(bytes)),
            crate::engine::Wait::Pending(_) => {
                wait::until_ready(b, s, wait::MAX_WAIT, |e| e.classic_sync(&group, &member, generation, None)).await
            }
        };
        match got {
            Ok(Some(bytes)) => reply(super::super::errors::NONE, bytes),
            Ok(None) => reply(COORDINATOR_NOT_AVAILABLE, Vec::new()),
            Err(e) => reply(super::logged("SyncGroup", s, &e), Vec::new()),
        }
    })
}
