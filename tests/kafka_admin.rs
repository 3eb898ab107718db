//! The admin APIs on the wire, with raw requests (the `kafka-protocol` crate as a client):
//! CreateTopics (defaults, duplicates, bad names, replication, configs, validate_only),
//! DeleteTopics (by name, unknown), DeleteRecords (the log start as ListOffsets and Fetch see
//! it), and read-only refusing all three. Real clients are in `tests/kafka_clients.rs`.

mod kafka_common;

use bytes::Bytes;
use depot::core::TopicConfig;
use depot::engine::NewRecord;
use depot::server::kafka::KafkaOptions;
use kafka_common::{Listener, Wire};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::RecordBatchDecoder;

fn name(t: &str) -> TopicName {
    TopicName(StrBytes::from_string(t.to_string()))
}

fn creatable(t: &str, partitions: i32, rf: i16) -> create_topics_request::CreatableTopic {
    create_topics_request::CreatableTopic::default()
        .with_name(name(t))
        .with_num_partitions(partitions)
        .with_replication_factor(rf)
}

async fn create(
    c: &mut Wire,
    version: i16,
    topics: Vec<create_topics_request::CreatableTopic>,
    validate_only: bool,
) -> Vec<(String, i16, String, i32)> {
    let req =
        CreateTopicsRequest::default().with_topics(topics).with_timeout_ms(5000).with_validate_only(validate_only);
    let r: CreateTopicsResponse = c.call(ApiKey::CreateTopics, version, &req).await;
    r.topics
        .into_iter()
        .map(|t| {
            (
                t.name.0.to_string(),
                t.error_code,
                t.error_message.map(|m| m.to_string()).unwrap_or_default(),
                t.num_partitions,
            )
        })
        .collect()
}

async fn delete_topics(c: &mut Wire, version: i16, names: &[&str]) -> Vec<(String, i16)> {
    let mut req = DeleteTopicsRequest::default().with_timeout_ms(5000);
    if version >= 6 {
        req.topics =
            names.iter().map(|n| delete_topics_request::DeleteTopicState::default().with_name(Some(name(n)))).collect();
    } else {
        req.topic_names = names.iter().map(|n| name(n)).collect();
    }
    let r: DeleteTopicsResponse = c.call(ApiKey::DeleteTopics, version, &req).await;
    r.responses.into_iter().map(|t| (t.name.map(|n| n.0.to_string()).unwrap_or_default(), t.error_code)).collect()
}

async fn delete_records(c: &mut Wire, version: i16, topic: &str, partition: i32, offset: i64) -> (i16, i64) {
    let req = DeleteRecordsRequest::default().with_timeout_ms(5000).with_topics(vec![
        delete_records_request::DeleteRecordsTopic::default().with_name(name(topic)).with_partitions(vec![
            delete_records_request::DeleteRecordsPartition::default()
                .with_partition_index(partition)
                .with_offset(offset),
        ]),
    ]);
    let r: DeleteRecordsResponse = c.call(ApiKey::DeleteRecords, version, &req).await;
    let p = &r.topics[0].partitions[0];
    (p.error_code, p.low_watermark)
}

async fn earliest(c: &mut Wire, topic: &str) -> i64 {
    let req = ListOffsetsRequest::default().with_replica_id(BrokerId(-1)).with_topics(vec![
        list_offsets_request::ListOffsetsTopic::default().with_name(name(topic)).with_partitions(vec![
            list_offsets_request::ListOffsetsPartition::default().with_partition_index(0).with_timestamp(-2),
        ]),
    ]);
    let r: ListOffsetsResponse = c.call(ApiKey::ListOffsets, 7, &req).await;
    r.topics[0].partitions[0].offset
}

/// Fetch v12 at `offset`: the error code, the log start offset and the first record's offset.
async fn fetch(c: &mut Wire, topic: &str, offset: i64) -> (i16, i64, Option<i64>) {
    let req = FetchRequest::default().with_max_wait_ms(0).with_min_bytes(1).with_max_bytes(1 << 20).with_topics(vec![
        fetch_request::FetchTopic::default().with_topic(name(topic)).with_partitions(vec![
            fetch_request::FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(1 << 20),
        ]),
    ]);
    let r: FetchResponse = c.call(ApiKey::Fetch, 12, &req).await;
    let pd = &r.responses[0].partitions[0];
    let mut recs = pd.records.clone().unwrap_or_default();
    let first = if recs.is_empty() {
        None
    } else {
        RecordBatchDecoder::decode_all(&mut recs).unwrap().into_iter().flat_map(|s| s.records).next().map(|r| r.offset)
    };
    (pd.error_code, pd.log_start_offset, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_topics_creates_with_defaults_and_refuses_duplicates_bad_names_and_replication() {
    let l = Listener::with(KafkaOptions { default_partitions: 4, ..KafkaOptions::default() }).await;
    let mut c = l.client().await;
    let got = create(&mut c, 7, vec![creatable("orders", 3, -1), creatable("fallback", -1, 1)], false).await;
    assert_eq!(got[0], ("orders".into(), 0, String::new(), 3));
    assert_eq!(got[1], ("fallback".into(), 0, String::new(), 4), "-1 takes --kafka-default-partitions");
    assert_eq!(l.engine.describe_topic("orders").unwrap().partitions.len(), 3);
    assert_eq!(l.engine.describe_topic("fallback").unwrap().partitions.len(), 4);
    // Again, in an old version: already there.
    let again = create(&mut c, 2, vec![creatable("orders", 1, 1)], false).await;
    assert_eq!(again[0].1, 36, "TOPIC_ALREADY_EXISTS");
    assert!(again[0].2.contains("already exists"), "{again:?}");
    assert_eq!(l.engine.describe_topic("orders").unwrap().partitions.len(), 3, "unchanged");
    // A name depot's rule refuses: the rule is in the message.
    let bad = create(&mut c, 7, vec![creatable("no/slashes", 1, 1)], false).await;
    assert_eq!(bad[0].1, 17, "INVALID_TOPIC_EXCEPTION");
    assert!(bad[0].2.contains("letters, digits"), "{bad:?}");
    // Replication beyond this one broker, no partitions, the same name twice in one request.
    let refused = create(
        &mut c,
        7,
        vec![
            creatable("replicated", 1, 3),
            creatable("empty", 0, 1),
            creatable("huge", 10_001, 1),
            creatable("twice", 1, 1),
            creatable("twice", 2, 1),
        ],
        false,
    )
    .await;
    let codes: Vec<i16> = refused.iter().map(|t| t.1).collect();
    assert_eq!(
        codes,
        [38, 37, 37, 42, 42],
        "INVALID_REPLICATION_FACTOR, INVALID_PARTITIONS, INVALID_REQUEST: {refused:?}"
    );
    assert!(refused[2].2.contains("between 1 and 10000 partitions"), "{refused:?}");
    for t in ["replicated", "empty", "huge", "twice"] {
        assert!(l.engine.describe_topic(t).is_err(), "{t} not created");
    }
    // Configs depot keeps become the topic's settings; others are refused.
    let config = |k: &str, v: &str| {
        create_topics_request::CreatableTopicConfig::default()
            .with_name(StrBytes::from_string(k.into()))
            .with_value(Some(StrBytes::from_string(v.into())))
    };
    let kept =
        creatable("kept", 1, 1).with_configs(vec![config("retention.ms", "60000"), config("cleanup.policy", "delete")]);
    let compacted = creatable("compacted", 1, 1).with_configs(vec![config("cleanup.policy", "compact")]);
    let got = create(&mut c, 5, vec![kept, compacted], false).await;
    assert_eq!((got[0].1, got[1].1), (0, 40), "INVALID_CONFIG for compaction: {got:?}");
    assert_eq!(l.engine.describe_topic("kept").unwrap().config.retention_ms, Some(60_000));
    // validate_only checks and creates nothing.
    let dry = create(&mut c, 7, vec![creatable("dry", 2, 1), creatable("orders", 1, 1)], true).await;
    assert_eq!((dry[0].1, dry[0].3, dry[1].1), (0, 2, 36));
    assert!(l.engine.describe_topic("dry").is_err(), "validate_only creates nothing");
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_topics_deletes_by_name_and_answers_unknown_topics() {
    let l = Listener::start().await;
    for t in ["a", "b", "c"] {
        l.engine.create_topic(t, TopicConfig::with_partitions(1)).unwrap();
    }
    let mut c = l.client().await;
    assert_eq!(delete_topics(&mut c, 6, &["a", "nope"]).await, [("a".into(), 0), ("nope".into(), 3)]);
    assert_eq!(delete_topics(&mut c, 1, &["b"]).await, [("b".into(), 0)]);
    let names: Vec<String> = l.engine.list_topics().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["c"]);
    // By id only (no name): depot has no topic ids.
    let req = DeleteTopicsRequest::default().with_topics(vec![delete_topics_request::DeleteTopicState::default()]);
    let r: DeleteTopicsResponse = c.call(ApiKey::DeleteTopics, 6, &req).await;
    assert_eq!(r.responses[0].error_code, 100, "UNKNOWN_TOPIC_ID");
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_records_moves_the_log_start_that_list_offsets_and_fetch_then_see() {
    let l = Listener::start().await;
    l.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    for i in 0..10 {
        l.engine.append("t", 0, &[NewRecord::value(format!("v{i}"))], None).unwrap();
    }
    let mut c = l.client().await;
    assert_eq!(delete_records(&mut c, 2, "t", 0, 4).await, (0, 4), "the low watermark");
    assert_eq!(earliest(&mut c, "t").await, 4, "ListOffsets earliest is the new start");
    assert_eq!(fetch(&mut c, "t", 2).await.0, 1, "a fetch below it is OFFSET_OUT_OF_RANGE");
    assert_eq!(fetch(&mut c, "t", 4).await, (0, 4, Some(4)));
    // Below the start changes nothing; past the end is out of range; -1 is the high watermark.
    assert_eq!(delete_records(&mut c, 0, "t", 0, 1).await, (0, 4));
    assert_eq!(delete_records(&mut c, 1, "t", 0, 11).await, (1, -1), "OFFSET_OUT_OF_RANGE");
    assert_eq!(delete_records(&mut c, 1, "t", 0, -7).await.0, 1);
    assert_eq!(earliest(&mut c, "t").await, 4);
    assert_eq!(delete_records(&mut c, 2, "t", 0, -1).await, (0, 10));
    assert_eq!(fetch(&mut c, "t", 10).await, (0, 10, None), "an empty log from 10 on");
    // A partition or topic that does not exist.
    assert_eq!(delete_records(&mut c, 2, "t", 1, 0).await.0, 3);
    assert_eq!(delete_records(&mut c, 2, "nope", 0, 0).await.0, 3);
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_every_admin_api_with_the_authorization_error_and_changes_nothing() {
    let l = Listener::with(KafkaOptions { read_only: true, ..KafkaOptions::default() }).await;
    l.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    l.engine.append("t", 0, &[NewRecord::value(Bytes::from_static(b"kept"))], None).unwrap();
    let mut c = l.client().await;
    let created = create(&mut c, 7, vec![creatable("fresh", 1, 1)], false).await;
    assert_eq!(created[0].1, 29, "TOPIC_AUTHORIZATION_FAILED");
    assert!(created[0].2.contains("read-only"), "{created:?}");
    let dry = create(&mut c, 7, vec![creatable("fresh", 1, 1)], true).await;
    assert_eq!(dry[0].1, 29, "validate_only too");
    assert_eq!(delete_topics(&mut c, 6, &["t"]).await, [("t".into(), 29)]);
    assert_eq!(delete_records(&mut c, 2, "t", 0, -1).await, (29, -1));
    assert!(l.engine.describe_topic("fresh").is_err());
    let p = &l.engine.describe_topic("t").unwrap().partitions[0];
    assert_eq!((p.log_start, p.end_offset), (0, 1), "nothing deleted");
    l.finish().await;
}
