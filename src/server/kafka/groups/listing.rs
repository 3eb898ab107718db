//! ListGroups (v0–v5) and DescribeGroups (v0–v5): every group the engine has. A Kafka group (the
//! client-assigned kind) shows its state, protocol type and protocol, and each member's client
//! id, host, metadata and assignment; a group depot assigns itself shows protocol type "depot"
//! (its members pull through depot, not the Kafka protocol) and no member bytes; a group with only
//! committed offsets is Empty with no protocol type, as Kafka shows one.

use super::super::dispatch::{self, BoxFuture, Outcome, Request};
use super::super::{Broker, Session, errors};
use crate::engine::{ClassicView, Phase};
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{
    DescribeGroupsRequest, DescribeGroupsResponse, GroupId, ListGroupsRequest, ListGroupsResponse,
};
use kafka_protocol::protocol::StrBytes;

/// Protocol type of a group whose members depot assigns partitions to.
const DEPOT: &str = "depot";

/// State name and protocol type of a group as Kafka lists it.
fn kind(b: &Broker, info: &crate::core::GroupInfo) -> (String, String, Option<ClassicView>) {
    match b.engine.classic_describe(&info.name) {
        Some(v) => (v.phase.kafka_name().to_string(), v.protocol_type.clone(), Some(v)),
        None if info.members.is_empty() => (Phase::Empty.kafka_name().to_string(), String::new(), None),
        None => (Phase::Stable.kafka_name().to_string(), DEPOT.to_string(), None),
    }
}

pub fn list<'a>(b: &'a Broker, _s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<ListGroupsRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let mut resp = ListGroupsResponse::default();
        for info in b.engine.list_groups() {
            let (state, ptype, _) = kind(b, &info);
            let states_ok =
                req.states_filter.is_empty() || req.states_filter.iter().any(|f| f.eq_ignore_ascii_case(&state));
            let types_ok =
                req.types_filter.is_empty() || req.types_filter.iter().any(|f| f.eq_ignore_ascii_case("classic"));
            if !(states_ok && types_ok) {
                continue;
            }
            resp.groups.push(
                ListedGroup::default()
                    .with_group_id(GroupId(StrBytes::from_string(info.name)))
                    .with_protocol_type(StrBytes::from_string(ptype))
                    .with_group_state(StrBytes::from_string(state))
                    .with_group_type(StrBytes::from_static_str("classic")),
            );
        }
        dispatch::reply(&resp, r.version)
    })
}

pub fn describe<'a>(b: &'a Broker, _s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<DescribeGroupsRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let mut resp = DescribeGroupsResponse::default();
        for id in req.groups {
            let mut out = DescribedGroup::default().with_group_id(id.clone()).with_authorized_operations(i32::MIN);
            match b.engine.describe_group(&id.0) {
                Err(_) => {
                    // Kafka describes a group it does not know as Dead, without an error.
                    out.group_state = StrBytes::from_static_str("Dead");
                }
                Ok(info) => {
                    let (state, ptype, view) = kind(b, &info);
                    out.group_state = StrBytes::from_string(state);
                    out.protocol_type = StrBytes::from_string(ptype);
                    match view {
                        Some(v) => {
                            out.protocol_data = StrBytes::from_string(v.protocol.clone());
                            out.members = v
                                .members
                                .into_iter()
                                .map(|m| {
                                    DescribedGroupMember::default()
                                        .with_member_id(StrBytes::from_string(m.member_id))
                                        .with_client_id(StrBytes::from_string(m.client_id))
                                        .with_client_host(StrBytes::from_string(m.client_host))
                                        .with_member_metadata(bytes::Bytes::from(m.metadata))
                                        .with_member_assignment(bytes::Bytes::from(m.assignment))
                                })
                                .collect();
                        }
                        None => {
                            out.protocol_data = StrBytes::from_string(info.assignor.clone());
                            out.members = info
                                .members
                                .into_iter()
                                .map(|m| {
                                    DescribedGroupMember::default()
                                        .with_member_id(StrBytes::from_string(m.member_id))
                                        .with_client_id(StrBytes::from_string(m.client_id))
                                        .with_client_host(StrBytes::from_string(m.client_host))
                                })
                                .collect();
                        }
                    }
                }
            }
            out.error_code = errors::NONE;
            resp.groups.push(out);
        }
        dispatch::reply(&resp, r.version)
    })
}
