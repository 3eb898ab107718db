//! FindCoordinator (v0–v4): this node coordinates every group (and every transactional id); v4
//! answers each of the batched keys.

use super::super::dispatch::{self, BoxFuture, Outcome, Request};
use super::super::{Broker, NODE_ID, Session};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;

pub fn handle<'a>(_b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<FindCoordinatorRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let host = StrBytes::from_string(s.local.ip().to_string());
        let port = i32::from(s.local.port());
        let mut resp = FindCoordinatorResponse::default();
        if r.version >= 4 {
            resp.coordinators = req
                .coordinator_keys
                .into_iter()
                .map(|key| {
                    Coordinator::default()
                        .with_key(key)
                        .with_node_id(BrokerId(NODE_ID))
                        .with_host(host.clone())
                        .with_port(port)
                })
                .collect();
        } else {
            resp = resp.with_node_id(BrokerId(NODE_ID)).with_host(host).with_port(port);
        }
        dispatch::reply(&resp, r.version)
    })
}
