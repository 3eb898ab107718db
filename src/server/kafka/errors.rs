//! Kafka error codes, named, and the engine's errors as the code a Kafka broker would answer.

use crate::engine::EngineError;
use kafka_protocol::ResponseError as E;

pub const NONE: i16 = 0;
pub const UNKNOWN_SERVER_ERROR: i16 = E::UnknownServerError.code();
pub const OFFSET_OUT_OF_RANGE: i16 = E::OffsetOutOfRange.code();
pub const CORRUPT_MESSAGE: i16 = E::CorruptMessage.code();
pub const UNKNOWN_TOPIC_OR_PARTITION: i16 = E::UnknownTopicOrPartition.code();
pub const MESSAGE_TOO_LARGE: i16 = E::MessageTooLarge.code();
pub const INVALID_TOPIC: i16 = E::InvalidTopicException.code();
pub const RECORD_LIST_TOO_LARGE: i16 = E::RecordListTooLarge.code();
pub const INVALID_REQUIRED_ACKS: i16 = E::InvalidRequiredAcks.code();
pub const TOPIC_AUTHORIZATION_FAILED: i16 = E::TopicAuthorizationFailed.code();
pub const GROUP_AUTHORIZATION_FAILED: i16 = E::GroupAuthorizationFailed.code();
pub const CLUSTER_AUTHORIZATION_FAILED: i16 = E::ClusterAuthorizationFailed.code();
pub const INVALID_TIMESTAMP: i16 = E::InvalidTimestamp.code();
pub const UNSUPPORTED_SASL_MECHANISM: i16 = E::UnsupportedSaslMechanism.code();
pub const ILLEGAL_SASL_STATE: i16 = E::IllegalSaslState.code();
pub const UNSUPPORTED_VERSION: i16 = E::UnsupportedVersion.code();
pub const TOPIC_ALREADY_EXISTS: i16 = E::TopicAlreadyExists.code();
pub const INVALID_PARTITIONS: i16 = E::InvalidPartitions.code();
pub const INVALID_REPLICATION_FACTOR: i16 = E::InvalidReplicationFactor.code();
pub const INVALID_REQUEST: i16 = E::InvalidRequest.code();
pub const UNSUPPORTED_FOR_MESSAGE_FORMAT: i16 = E::UnsupportedForMessageFormat.code();
pub const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = E::OutOfOrderSequenceNumber.code();
pub const DUPLICATE_SEQUENCE_NUMBER: i16 = E::DuplicateSequenceNumber.code();
pub const INVALID_PRODUCER_EPOCH: i16 = E::InvalidProducerEpoch.code();
pub const TRANSACTIONAL_ID_AUTHORIZATION_FAILED: i16 = E::TransactionalIdAuthorizationFailed.code();
pub const KAFKA_STORAGE_ERROR: i16 = E::KafkaStorageError.code();
pub const SASL_AUTHENTICATION_FAILED: i16 = E::SaslAuthenticationFailed.code();
pub const UNKNOWN_PRODUCER_ID: i16 = E::UnknownProducerId.code();
pub const INVALID_RECORD: i16 = E::InvalidRecord.code();
pub const POLICY_VIOLATION: i16 = E::PolicyViolation.code();
pub const INVALID_REPLICA_ASSIGNMENT: i16 = E::InvalidReplicaAssignment.code();
pub const INVALID_CONFIG: i16 = E::InvalidConfig.code();
pub const UNKNOWN_TOPIC_ID: i16 = E::UnknownTopicId.code();

/// The code a Kafka broker answers for what the engine said. Refusals and conflicts depend on
/// the request; callers that know better map those themselves.
pub fn code(e: &EngineError) -> i16 {
    match e {
        EngineError::NotFound { .. } => UNKNOWN_TOPIC_OR_PARTITION,
        EngineError::AlreadyExists { .. } => TOPIC_ALREADY_EXISTS,
        EngineError::InvalidArgument(_) => INVALID_REQUEST,
        EngineError::OffsetOutOfRange { .. } => OFFSET_OUT_OF_RANGE,
        EngineError::Corrupt { .. } | EngineError::Io { .. } | EngineError::Failed(_) => KAFKA_STORAGE_ERROR,
        EngineError::Locked { .. } | EngineError::IllegalGeneration { .. } => UNKNOWN_SERVER_ERROR,
        EngineError::Refused(_) | EngineError::Conflict(_) => INVALID_REQUEST,
    }
}
