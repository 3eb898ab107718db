//! DeleteGroups (v0–v2): the engine's `delete_group` — a group with live members is refused
//! (NON_EMPTY_GROUP), one that does not exist is GROUP_ID_NOT_FOUND, and `--read-only` answers
//! GROUP_AUTHORIZATION_FAILED and deletes nothing; each group of the request gets its own answer.

use super::super::dispatch::{self, BoxFuture, Outcome, Request};
use super::super::{Broker, Session, errors};
use crate::engine::EngineError;
use kafka_protocol::ResponseError as E;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

pub fn handle<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<DeleteGroupsRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let mut resp = DeleteGroupsResponse::default();
        for id in req.groups_names {
            let name = id.0.to_string();
            let code = if b.opts.read_only {
                errors::GROUP_AUTHORIZATION_FAILED
            } else {
                let n = name.clone();
                match b.blocking(move |e| e.delete_group(&n)).await {
                    Ok(()) => errors::NONE,
                    Err(EngineError::NotFound { .. }) => E::GroupIdNotFound.code(),
                    Err(EngineError::Refused(why)) => {
                        tracing::info!("kafka: DeleteGroups {name} from {}: {why}", s.peer);
                        E::NonEmptyGroup.code()
                    }
                    Err(e) => {
                        tracing::warn!("kafka: DeleteGroups {name} from {}: {e}", s.peer);
                        errors::code(&e)
                    }
                }
            };
            resp.results.push(DeletableGroupResult::default().with_group_id(id).with_error_code(code));
        }
        dispatch::reply(&resp, r.version)
    })
}
