//! InitProducerId (v0–4) for idempotent producers, and what Produce needs to append their
//! batches without duplicates: the producer of a partition's batch, and the Kafka error code of
//! each refusal.
//!
//! As in Kafka's broker, a request without a transactional id always gets a new producer id, at
//! epoch 0, whatever id and epoch a v3+ request names (librdkafka's idempotent producer never
//! names one: it bumps its epoch itself after a failed request, and the partition follows, see
//! `engine::producer`). Transactions are not supported: a transactional id is refused with
//! TRANSACTIONAL_ID_AUTHORIZATION_FAILED, the answer of a broker that will not let this client
//! be transactional (librdkafka reports it as a fatal error, not something to retry); an empty
//! one, as Kafka's coordinator answers it, with INVALID_REQUEST.
//! `--read-only` refuses with CLUSTER_AUTHORIZATION_FAILED, Kafka's answer to a client without
//! the IDEMPOTENT_WRITE permission.

use super::decode::BatchInfo;
use super::dispatch::{self, Api, BoxFuture, Outcome, Request};
use super::errors;
use super::{Broker, Session};
use crate::engine::producer::{ProducerBatch, SeqError};
use kafka_protocol::messages::{ApiKey, InitProducerIdRequest, InitProducerIdResponse, ProducerId};

pub const APIS: &[Api] = &[Api { key: ApiKey::InitProducerId, min: 0, max: 4, handle }];

fn handle<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<InitProducerIdRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let refused =
            |code: i16| InitProducerIdResponse::default().with_error_code(code).with_producer_id(ProducerId(-1));
        let resp = if req.transactional_id.as_ref().is_some_and(|t| t.is_empty()) {
            // Kafka's coordinator: an empty transactional id is not a null one.
            refused(errors::INVALID_REQUEST).with_producer_epoch(-1)
        } else if req.transactional_id.is_some() {
            tracing::warn!("kafka: {} asked for a transactional producer id; depot has no transactions", s.peer);
            refused(errors::TRANSACTIONAL_ID_AUTHORIZATION_FAILED).with_producer_epoch(-1)
        } else if b.opts.read_only {
            tracing::warn!("kafka: {} asked for a producer id; depot is read-only", s.peer);
            refused(errors::CLUSTER_AUTHORIZATION_FAILED).with_producer_epoch(-1)
        } else {
            match b.blocking(|e| e.init_producer_id()).await {
                Ok(id) => {
                    InitProducerIdResponse::default().with_producer_id(ProducerId(id as i64)).with_producer_epoch(0)
                }
                Err(e) => {
                    tracing::warn!("kafka: no producer id for {}: {e}", s.peer);
                    refused(errors::code(&e)).with_producer_epoch(-1)
                }
            }
        };
        dispatch::reply(&resp, r.version)
    })
}

/// The idempotent producer of a partition's record batches, `None` for a plain producer's.
/// An idempotent producer sends one batch per partition (Kafka refuses anything else).
pub fn batch_producer(infos: &[BatchInfo]) -> Result<Option<ProducerBatch>, (i16, String)> {
    let Some(first) = infos.first() else { return Ok(None) };
    if first.producer_id < 0 {
        if infos.iter().any(|i| i.producer_id >= 0) {
            return Err((errors::INVALID_RECORD, "batches of a producer id mixed with batches without one".into()));
        }
        return Ok(None);
    }
    if infos.len() != 1 {
        return Err((errors::INVALID_RECORD, "an idempotent producer sends exactly one batch per partition".into()));
    }
    let (Ok(seq), true) = (u32::try_from(first.base_sequence), first.producer_epoch >= 0) else {
        return Err((
            errors::INVALID_RECORD,
            format!(
                "producer {} sent sequence {} with epoch {}",
                first.producer_id, first.base_sequence, first.producer_epoch
            ),
        ));
    };
    Ok(Some(ProducerBatch { id: first.producer_id as u64, seq, epoch: Some(first.producer_epoch) }))
}

/// The Kafka error code for a batch the producer checks refused, as Kafka's broker answers and
/// librdkafka expects: DUPLICATE_SEQUENCE_NUMBER (success, offsets unknown) for a batch appended
/// before but no longer remembered; OUT_OF_ORDER_SEQUENCE_NUMBER for a gap (librdkafka bumps its
/// epoch and retries); INVALID_PRODUCER_EPOCH for an older epoch (what Kafka answers since 2.7,
/// where it replaced PRODUCER_FENCED on produce); UNKNOWN_PRODUCER_ID for an id depot never
/// handed out (librdkafka asks for a new one when nothing is in flight).
pub fn code(e: &SeqError) -> i16 {
    match e {
        SeqError::UnknownProducer { .. } => errors::UNKNOWN_PRODUCER_ID,
        SeqError::Fenced { .. } => errors::INVALID_PRODUCER_EPOCH,
        SeqError::OldDuplicate { .. } => errors::DUPLICATE_SEQUENCE_NUMBER,
        SeqError::OutOfOrder { .. } => errors::OUT_OF_ORDER_SEQUENCE_NUMBER,
    }
}
