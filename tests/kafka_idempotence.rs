//! InitProducerId and idempotent Produce on the wire (raw requests, the `kafka-protocol` crate
//! as a client), and the engine's producer state across a reopen: a retried batch is not
//! appended twice and gets its original offset, a gap, an older epoch and an unknown producer id
//! get Kafka's codes, and all of it holds after a restart.

mod kafka_common;

use bytes::{Bytes, BytesMut};
use depot::core::TopicConfig;
use depot::engine::producer::{ProducerBatch, SeqError};
use depot::engine::{Engine, NewRecord};
use depot::server::kafka::KafkaOptions;
use kafka_common::{Listener, Wire};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType};

const NONE: i16 = 0;
const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
const DUPLICATE_SEQUENCE_NUMBER: i16 = 46;
const INVALID_PRODUCER_EPOCH: i16 = 47;
const TRANSACTIONAL_ID_AUTHORIZATION_FAILED: i16 = 53;
const UNKNOWN_PRODUCER_ID: i16 = 59;
const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;
const INVALID_RECORD: i16 = 87;
const INVALID_REQUEST: i16 = 42;

/// A producer's batch of `n` records `tag-0..`: id, epoch and base sequence in its header.
fn batch(pid: i64, epoch: i16, seq: i32, n: usize, tag: &str) -> Bytes {
    let recs: Vec<Record> = (0..n)
        .map(|i| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: pid,
            producer_epoch: epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: seq + i as i32,
            timestamp: 1_000,
            key: None,
            value: Some(Bytes::from(format!("{tag}-{i}"))),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        recs.iter(),
        &RecordEncodeOptions { version: 2, compression: Compression::None },
    )
    .unwrap();
    buf.freeze()
}

/// Produces one partition's records (v9, acks -1): the error code and base offset.
async fn produce(c: &mut Wire, partition: i32, records: Bytes) -> (i16, i64) {
    let req = ProduceRequest::default().with_acks(-1).with_timeout_ms(5000).with_topic_data(vec![
        produce_request::TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str("t")))
            .with_partition_data(vec![
                produce_request::PartitionProduceData::default().with_index(partition).with_records(Some(records)),
            ]),
    ]);
    let r: ProduceResponse = c.call(ApiKey::Produce, 9, &req).await;
    let p = &r.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

async fn init(c: &mut Wire, v: i16) -> InitProducerIdResponse {
    c.call(ApiKey::InitProducerId, v, &init_req(-1, -1)).await
}

/// What librdkafka's idempotent producer sends: no transactional id (null, not empty).
fn init_req(pid: i64, epoch: i16) -> InitProducerIdRequest {
    InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(-1)
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
}

fn values(e: &Engine, partition: u32) -> Vec<String> {
    let recs = e.fetch_all("t", partition, 0, 10_000).unwrap();
    recs.iter().map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_producer_id_hands_out_new_ids_at_epoch_0_and_refuses_transactions() {
    let l = Listener::start().await;
    let mut c = l.client().await;
    let mut ids = Vec::new();
    for v in 0..=4 {
        let r = init(&mut c, v).await;
        assert_eq!((r.error_code, r.producer_epoch), (NONE, 0), "v{v}");
        assert!(r.producer_id.0 > 0, "never 0 (v{v})");
        ids.push(r.producer_id.0);
    }
    // v3+ naming its id and epoch: as in Kafka without a transactional id, a new id at epoch 0.
    let r: InitProducerIdResponse = c.call(ApiKey::InitProducerId, 4, &init_req(ids[4], 0)).await;
    assert_eq!(r.producer_epoch, 0);
    ids.push(r.producer_id.0);
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "every id once: {ids:?}");
    let txn = InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(StrBytes::from_static_str("tx-1"))))
        .with_transaction_timeout_ms(60_000);
    let r: InitProducerIdResponse = c.call(ApiKey::InitProducerId, 4, &txn).await;
    assert_eq!((r.error_code, r.producer_id.0), (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1));
    // An empty transactional id is not a null one: Kafka's coordinator calls it invalid.
    let empty = init_req(-1, -1).with_transactional_id(Some(TransactionalId(StrBytes::from_static_str(""))));
    let r: InitProducerIdResponse = c.call(ApiKey::InitProducerId, 4, &empty).await;
    assert_eq!(r.error_code, INVALID_REQUEST);
    let v: ApiVersionsResponse = c.call(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default()).await;
    let k = v.api_keys.iter().find(|k| k.api_key == ApiKey::InitProducerId as i16).expect("advertised");
    assert_eq!((k.min_version, k.max_version), (0, 4));
    l.finish().await;

    let ro = Listener::with(KafkaOptions { read_only: true, ..KafkaOptions::default() }).await;
    let r = init(&mut ro.client().await, 4).await;
    assert_eq!(r.error_code, CLUSTER_AUTHORIZATION_FAILED);
    ro.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_batch_is_not_appended_twice_and_gaps_old_epochs_and_unknown_ids_get_kafkas_codes() {
    let l = Listener::start().await;
    l.engine.create_topic("t", TopicConfig::with_partitions(2)).unwrap();
    let mut c = l.client().await;
    let pid = init(&mut c, 4).await.producer_id.0;
    assert_eq!(produce(&mut c, 0, batch(pid, 0, 0, 3, "a")).await, (NONE, 0));
    // The retry: the original base offset, no error, nothing appended.
    assert_eq!(produce(&mut c, 0, batch(pid, 0, 0, 3, "a")).await, (NONE, 0));
    assert_eq!(produce(&mut c, 0, batch(pid, 0, 3, 2, "b")).await, (NONE, 3));
    // Sequences are per partition.
    assert_eq!(produce(&mut c, 1, batch(pid, 0, 0, 1, "p1")).await, (NONE, 0));
    // A gap (sequence 5 was never sent).
    assert_eq!(produce(&mut c, 0, batch(pid, 0, 6, 1, "gap")).await.0, OUT_OF_ORDER_SEQUENCE_NUMBER);
    // A retry with another record count is not the same batch.
    assert_eq!(produce(&mut c, 0, batch(pid, 0, 3, 1, "b")).await.0, OUT_OF_ORDER_SEQUENCE_NUMBER);
    // Five more batches push the first out of the window: its retry was appended before, and
    // its offsets are no longer known — DUPLICATE_SEQUENCE_NUMBER, which librdkafka counts as
    // delivered.
    for i in 0..5 {
        let (code, base) = produce(&mut c, 0, batch(pid, 0, 5 + i, 1, "w")).await;
        assert_eq!((code, base), (NONE, 5 + i as i64));
    }
    assert_eq!(produce(&mut c, 0, batch(pid, 0, 0, 3, "a")).await.0, DUPLICATE_SEQUENCE_NUMBER);
    assert_eq!(produce(&mut c, 0, batch(pid, 0, 9, 1, "w")).await, (NONE, 9), "still in the window");
    // A new epoch (librdkafka bumps its own after a failed request) starts at sequence 0.
    assert_eq!(produce(&mut c, 0, batch(pid, 1, 10, 1, "e1")).await.0, OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_eq!(produce(&mut c, 0, batch(pid, 1, 0, 2, "e1")).await, (NONE, 10));
    assert_eq!(produce(&mut c, 0, batch(pid, 1, 0, 2, "e1")).await, (NONE, 10), "a retry in the new epoch");
    // The old epoch is fenced.
    assert_eq!(produce(&mut c, 0, batch(pid, 0, 10, 1, "late")).await.0, INVALID_PRODUCER_EPOCH);
    // An id depot never handed out, and two batches of one producer in one partition's records.
    assert_eq!(produce(&mut c, 0, batch(pid + 1000, 0, 0, 1, "who")).await.0, UNKNOWN_PRODUCER_ID);
    let mut two = batch(pid, 1, 2, 1, "x").to_vec();
    two.extend_from_slice(&batch(pid, 1, 3, 1, "y"));
    assert_eq!(produce(&mut c, 0, two.into()).await.0, INVALID_RECORD);
    let want: Vec<String> = ["a-0", "a-1", "a-2", "b-0", "b-1", "w-0", "w-0", "w-0", "w-0", "w-0", "e1-0", "e1-1"]
        .map(String::from)
        .to_vec();
    assert_eq!(values(&l.engine, 0), want, "each batch once, nothing refused appended");
    assert_eq!(values(&l.engine, 1), ["p1-0"]);
    // Plain batches are not checked.
    assert_eq!(produce(&mut c, 0, batch(-1, -1, -1, 1, "plain")).await, (NONE, 12));
    assert_eq!(produce(&mut c, 0, batch(-1, -1, -1, 1, "plain")).await, (NONE, 13));

    // After a restart (the checkpoint gone too, so the window comes from the log): the retry
    // is still a duplicate, the old epoch still fenced, and new ids are new.
    let (dir, engine) = l.stop().await;
    engine.close().unwrap();
    drop(engine);
    std::fs::remove_file(dir.path().join("topics/t/0/checkpoint")).unwrap();
    let engine = Engine::open(dir.path(), kafka_common::engine_config()).unwrap();
    let l = Listener::on(dir, engine, KafkaOptions::default()).await;
    let mut c = l.client().await;
    assert_eq!(produce(&mut c, 0, batch(pid, 1, 0, 2, "e1")).await, (NONE, 10));
    assert_eq!(produce(&mut c, 0, batch(pid, 0, 10, 1, "late")).await.0, INVALID_PRODUCER_EPOCH);
    assert_eq!(produce(&mut c, 0, batch(pid, 1, 2, 1, "e1")).await, (NONE, 14));
    assert_eq!(produce(&mut c, 1, batch(pid, 0, 0, 1, "p1")).await, (NONE, 0), "partition 1 is still at epoch 0");
    let next = init(&mut c, 4).await.producer_id.0;
    assert!(next > pid, "{next} after {pid}");
    assert_eq!(values(&l.engine, 0).len(), 15);
    l.finish().await;
}

fn recs(tag: &str, n: usize) -> Vec<NewRecord> {
    (0..n).map(|i| NewRecord::value(format!("{tag}-{i}"))).collect()
}

fn kafka(id: u64, epoch: i16, seq: u32) -> ProducerBatch {
    ProducerBatch { id, seq, epoch: Some(epoch) }
}

#[test]
fn after_a_reopen_a_new_epochs_first_batch_is_not_taken_for_the_old_epochs_and_retries_are_still_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let open = || Engine::open(dir.path(), kafka_common::engine_config()).unwrap();
    let e = open();
    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let pid = e.init_producer_id().unwrap();
    // Epoch 0 writes sequences 0..2; then epoch 1 starts again at 0 with as many records.
    let first = e.append_idempotent("t", 0, &recs("e0", 2), kafka(pid, 0, 0)).unwrap().unwrap();
    assert_eq!(first.base_offset, 0);
    e.close().unwrap();
    drop(e);
    let e = open();
    assert!(e.append_idempotent("t", 0, &recs("e0", 2), kafka(pid, 0, 0)).unwrap().unwrap().duplicate);
    let bumped = e.append_idempotent("t", 0, &recs("e1", 2), kafka(pid, 1, 0)).unwrap().unwrap();
    assert_eq!((bumped.base_offset, bumped.duplicate), (2, false));
    // A crash now: a copy of the directory as it is, with the checkpoint still describing epoch
    // 0's batch at offset 0 (written by the close) and epoch 1's batch only in the log.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), copy.path());
    e.close().unwrap();
    drop(e);
    std::fs::remove_file(copy.path().join("depot.lock")).unwrap();
    let e = Engine::open(copy.path(), kafka_common::engine_config()).unwrap();
    let retry = e.append_idempotent("t", 0, &recs("e1", 2), kafka(pid, 1, 0)).unwrap().unwrap();
    assert_eq!((retry.base_offset, retry.duplicate), (2, true), "the new epoch's batch is remembered as its own");
    assert!(matches!(
        e.append_idempotent("t", 0, &recs("e0", 1), kafka(pid, 0, 2)).unwrap(),
        Err(SeqError::Fenced { epoch: 0, current: 1, .. })
    ));
    assert!(matches!(
        e.append_idempotent("t", 0, &recs("x", 1), kafka(pid + 5000, 0, 0)).unwrap(),
        Err(SeqError::UnknownProducer { .. })
    ));
    assert!(e.init_producer_id().unwrap() > pid);
    let all: Vec<String> = e
        .fetch_all("t", 0, 0, 100)
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect();
    assert_eq!(all, ["e0-0", "e0-1", "e1-0", "e1-1"]);
    e.close().unwrap();
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_damaged_producer_id_floor_or_epoch_journal_fails_the_open_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let open = || Engine::open(dir.path(), kafka_common::engine_config());
    let e = open().unwrap();
    e.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let pid = e.init_producer_id().unwrap();
    e.append_idempotent("t", 0, &recs("e3", 1), kafka(pid, 3, 0)).unwrap().unwrap();
    e.append_idempotent("t", 0, &recs("e4", 1), kafka(pid, 4, 0)).unwrap().unwrap();
    e.close().unwrap();
    drop(e);
    // Damage in the first of the two epoch starts (a valid one follows, so it is not a torn
    // append), and in the floor.
    for file in ["producer-ids", "topics/t/0/producer-epochs"] {
        let path = dir.path().join(file);
        let good = std::fs::read(&path).unwrap();
        let mut bad = good.clone();
        bad[9] ^= 0x04;
        std::fs::write(&path, &bad).unwrap();
        let err = open().err().unwrap_or_else(|| panic!("{file} damaged, and the engine opened")).to_string();
        assert!(err.contains(file.rsplit('/').next().unwrap()), "{err}");
        std::fs::write(&path, &good).unwrap();
    }
    let e = open().unwrap();
    let retry = e.append_idempotent("t", 0, &recs("e4", 1), kafka(pid, 4, 0)).unwrap().unwrap();
    assert_eq!((retry.base_offset, retry.duplicate), (1, true));
    e.close().unwrap();
}
