//! The classic consumer-group protocol on the engine's client-assigned groups
//! ([`crate::engine::classic`]): one file per concern.
//!
//! - [`coordinator`] — FindCoordinator (this node coordinates every group)
//! - [`join`] — JoinGroup — the join phase, waiting without a thread, "member id required" on v4+
//! - [`sync`] — SyncGroup — the leader's assignment, decoded into the partitions each member owns
//! - [`membership`] — Heartbeat and LeaveGroup
//! - [`commits`] — OffsetCommit and OffsetFetch, the engine's committed offsets
//! - [`listing`] — ListGroups and DescribeGroups; [`delete`] — DeleteGroups
//! - [`consumer_protocol`] — the "consumer" protocol's subscription and assignment bytes
//! - [`wait`] — waiting on the engine's group events with a deadline
//!
//! Not here: KIP-848's ConsumerGroupHeartbeat (not advertised), static membership
//! (`group.instance.id` is accepted and ignored: such members are dynamic ones here).

pub mod commits;
pub mod consumer_protocol;
pub mod coordinator;
pub mod delete;
pub mod join;
pub mod listing;
pub mod membership;
pub mod sync;
pub mod wait;

use super::Session;
use super::dispatch::Api;
use super::errors;
use crate::engine::ClassicError;
use kafka_protocol::ResponseError as E;
use kafka_protocol::messages::ApiKey;

pub const APIS: &[Api] = &[
    Api { key: ApiKey::FindCoordinator, min: 0, max: 4, handle: coordinator::handle },
    Api { key: ApiKey::JoinGroup, min: 0, max: 9, handle: join::handle },
    Api { key: ApiKey::SyncGroup, min: 0, max: 5, handle: sync::handle },
    Api { key: ApiKey::Heartbeat, min: 0, max: 4, handle: membership::heartbeat },
    Api { key: ApiKey::LeaveGroup, min: 0, max: 5, handle: membership::leave },
    Api { key: ApiKey::OffsetCommit, min: 2, max: 9, handle: commits::commit },
    Api { key: ApiKey::OffsetFetch, min: 1, max: 9, handle: commits::fetch },
    Api { key: ApiKey::ListGroups, min: 0, max: 5, handle: listing::list },
    Api { key: ApiKey::DescribeGroups, min: 0, max: 5, handle: listing::describe },
    Api { key: ApiKey::DeleteGroups, min: 0, max: 2, handle: delete::handle },
];

pub const ILLEGAL_GENERATION: i16 = E::IllegalGeneration.code();
pub const INCONSISTENT_GROUP_PROTOCOL: i16 = E::InconsistentGroupProtocol.code();
pub const INVALID_GROUP_ID: i16 = E::InvalidGroupId.code();
pub const UNKNOWN_MEMBER_ID: i16 = E::UnknownMemberId.code();
pub const INVALID_SESSION_TIMEOUT: i16 = E::InvalidSessionTimeout.code();
pub const REBALANCE_IN_PROGRESS: i16 = E::RebalanceInProgress.code();
pub const MEMBER_ID_REQUIRED: i16 = E::MemberIdRequired.code();
pub const COORDINATOR_NOT_AVAILABLE: i16 = E::CoordinatorNotAvailable.code();

/// The Kafka error for what a client-assigned group said.
pub fn code(e: &ClassicError) -> i16 {
    match e {
        ClassicError::UnknownMember { .. } => UNKNOWN_MEMBER_ID,
        ClassicError::IllegalGeneration { .. } => ILLEGAL_GENERATION,
        ClassicError::RebalanceInProgress(_) => REBALANCE_IN_PROGRESS,
        ClassicError::InconsistentProtocol(_) => INCONSISTENT_GROUP_PROTOCOL,
        // The member believes it owns a partition it does not: it must rejoin.
        ClassicError::NotOwner { .. } => ILLEGAL_GENERATION,
        ClassicError::Engine(crate::engine::EngineError::InvalidArgument(m)) if m.contains("session timeout") => {
            INVALID_SESSION_TIMEOUT
        }
        ClassicError::Engine(crate::engine::EngineError::InvalidArgument(m)) if m.contains("group") => INVALID_GROUP_ID,
        ClassicError::Engine(crate::engine::EngineError::Refused(_)) => errors::UNKNOWN_SERVER_ERROR,
        ClassicError::Engine(e) => errors::code(e),
    }
}

/// Logs a refusal worth a line (the client only sees a code) and returns its code.
pub fn logged(what: &str, s: &Session, e: &ClassicError) -> i16 {
    match e {
        ClassicError::UnknownMember { .. }
        | ClassicError::IllegalGeneration { .. }
        | ClassicError::RebalanceInProgress(_) => tracing::debug!("kafka: {what} from {}: {e}", s.peer),
        _ => tracing::warn!("kafka: {what} from {}: {e}", s.peer),
    }
    code(e)
}

/// The member's host as Kafka shows it: "/" and the connection's peer address.
pub fn client_host(s: &Session) -> String {
    format!("/{}", s.peer.ip())
}
