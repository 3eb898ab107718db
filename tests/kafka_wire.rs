//! The Kafka listener on the wire: the protocol's contracts checked with raw requests (the
//! `kafka-protocol` crate as a client, or bytes no client would send), and with librdkafka (the
//! `rdkafka` crate depot links anyway) as a real client. The external clients (kcat) are in
//! `tests/kafka_clients.rs`.

mod kafka_common;

use depot::core::TopicConfig;
use depot::server::kafka::KafkaOptions;
use kafka_common::{Listener, Wire, logs};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::time::Duration;

fn topic_names(resp: &MetadataResponse) -> Vec<String> {
    resp.topics.iter().map(|t| t.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default()).collect()
}

fn metadata_request(topics: Option<&[&str]>) -> MetadataRequest {
    MetadataRequest::default().with_topics(topics.map(|ts| {
        ts.iter()
            .map(|t| {
                metadata_request::MetadataRequestTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_string(t.to_string()))))
            })
            .collect()
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_versions_lists_the_table_and_an_unknown_version_gets_error_35_with_the_ranges() {
    let l = Listener::start().await;
    let mut c = l.client().await;
    for v in [0, 3] {
        let r: ApiVersionsResponse = c.call(ApiKey::ApiVersions, v, &ApiVersionsRequest::default()).await;
        assert_eq!(r.error_code, 0);
        let md = r.api_keys.iter().find(|k| k.api_key == ApiKey::Metadata as i16).expect("Metadata advertised");
        assert_eq!((md.min_version, md.max_version), (0, 12));
        // Only what works and is tested: ApiVersions, Metadata, Produce, Fetch, ListOffsets,
        // InitProducerId, SaslHandshake, SaslAuthenticate, CreateTopics, DeleteTopics, DeleteRecords,
        // and the classic group protocol (OffsetCommit/Fetch, FindCoordinator, Join/Heartbeat/Leave/
        // SyncGroup, Describe/ListGroups).
        let ranges: Vec<(i16, i16, i16)> =
            r.api_keys.iter().map(|k| (k.api_key, k.min_version, k.max_version)).collect();
        assert_eq!(
            ranges,
            [
                (0, 3, 9),
                (1, 4, 12),
                (2, 1, 7),
                (3, 0, 12),
                (8, 2, 9),
                (9, 1, 9),
                (10, 0, 4),
                (11, 0, 9),
                (12, 0, 4),
                (13, 0, 5),
                (14, 0, 5),
                (15, 0, 5),
                (16, 0, 5),
                (17, 1, 1),
                (18, 0, 3),
                (19, 2, 7),
                (20, 1, 6),
                (21, 0, 2),
                (22, 0, 4),
                (36, 0, 2),
                (42, 0, 2)
            ]
        );
        assert!(
            !r.api_keys.iter().any(|k| k.api_key == ApiKey::ConsumerGroupHeartbeat as i16),
            "KIP-848 is not spoken"
        );
    }
    // A version from the future: the answer is v0 (the client cannot know more), error 35, and
    // the ranges, so the client can pick one both sides know. The connection stays usable.
    let (corr, mut frame) = c.frame(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default());
    let mut bytes = frame.to_vec();
    bytes[6..8].copy_from_slice(&99i16.to_be_bytes());
    frame = bytes.into();
    c.send_raw(&frame).await.unwrap();
    let mut resp = c.read_frame().await.expect("an answer, not a close");
    use bytes::Buf;
    assert_eq!(resp.get_i32(), corr);
    let r = <ApiVersionsResponse as kafka_protocol::protocol::Decodable>::decode(&mut resp, 0).unwrap();
    assert_eq!(r.error_code, 35, "UNSUPPORTED_VERSION");
    assert!(r.api_keys.iter().any(|k| k.api_key == ApiKey::ApiVersions as i16 && k.max_version == 3));
    let again: ApiVersionsResponse = c.call(ApiKey::ApiVersions, 2, &ApiVersionsRequest::default()).await;
    assert_eq!(again.error_code, 0);
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_names_this_node_as_the_only_broker_and_leader_of_every_partition() {
    let l = Listener::start().await;
    l.engine.create_topic("orders", TopicConfig::with_partitions(3)).unwrap();
    l.engine.create_topic("audit", TopicConfig::with_partitions(1)).unwrap();
    let mut c = l.client().await;
    for v in [0, 1, 4, 9, 12] {
        let all: MetadataResponse = c.call(ApiKey::Metadata, v, &metadata_request(None)).await;
        let mut names = topic_names(&all);
        names.sort();
        assert_eq!(names, ["audit", "orders"], "v{v}");
        assert_eq!(all.brokers.len(), 1);
        assert_eq!(
            (all.brokers[0].host.to_string(), all.brokers[0].port),
            (l.addr.ip().to_string(), l.addr.port() as i32)
        );
        let orders = all.topics.iter().find(|t| t.name.as_ref().is_some_and(|n| &*n.0 == "orders")).unwrap();
        assert_eq!(orders.partitions.len(), 3);
        for p in &orders.partitions {
            assert_eq!((p.error_code, p.leader_id.0), (0, 0));
            assert_eq!(p.leader_epoch, -1, "leader epoch -1 (v{v})");
        }
    }
    let one: MetadataResponse = c.call(ApiKey::Metadata, 12, &metadata_request(Some(&["orders", "nope"]))).await;
    assert_eq!(one.topics.len(), 2);
    let nope = &one.topics[1];
    assert_eq!(nope.error_code, 3, "UNKNOWN_TOPIC_OR_PARTITION");
    assert!(l.engine.describe_topic("nope").is_err(), "no auto-creation unless asked");
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_auto_create_metadata_creates_the_topics_it_names_with_the_default_partitions() {
    let l = Listener::with(KafkaOptions { auto_create: true, default_partitions: 4, ..KafkaOptions::default() }).await;
    let mut c = l.client().await;
    let r: MetadataResponse = c.call(ApiKey::Metadata, 9, &metadata_request(Some(&["fresh"]))).await;
    assert_eq!((r.topics[0].error_code, r.topics[0].partitions.len()), (0, 4));
    assert_eq!(l.engine.describe_topic("fresh").unwrap().partitions.len(), 4);
    let mut no = metadata_request(Some(&["held-back"]));
    no.allow_auto_topic_creation = false;
    let r: MetadataResponse = c.call(ApiKey::Metadata, 9, &no).await;
    assert_eq!(r.topics[0].error_code, 3, "the request did not allow creation");
    let bad: MetadataResponse = c.call(ApiKey::Metadata, 9, &metadata_request(Some(&["no/slashes"]))).await;
    assert_eq!(bad.topics[0].error_code, 17, "INVALID_TOPIC_EXCEPTION");
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librdkafka_reads_the_metadata() {
    let l = Listener::start().await;
    l.engine.create_topic("orders", TopicConfig::with_partitions(2)).unwrap();
    let bootstrap = l.bootstrap();
    let md = tokio::task::spawn_blocking(move || {
        let c: BaseConsumer = ClientConfig::new().set("bootstrap.servers", &bootstrap).create().expect("consumer");
        c.fetch_metadata(None, Duration::from_secs(10)).map(|m| {
            let topics: Vec<(String, usize)> =
                m.topics().iter().map(|t| (t.name().to_string(), t.partitions().len())).collect();
            (m.brokers().len(), m.brokers()[0].port(), topics)
        })
    })
    .await
    .unwrap()
    .expect("metadata through librdkafka");
    assert_eq!(md.0, 1);
    assert_eq!(md.1 as u16, l.addr.port());
    assert_eq!(md.2, vec![("orders".to_string(), 2)]);
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_close_their_connection_and_the_server_keeps_serving_others() {
    let l = Listener::start().await;
    let mut bystander = l.client().await;
    let ok: ApiVersionsResponse = bystander.call(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default()).await;
    assert_eq!(ok.error_code, 0);

    // An API key no Kafka has.
    let mut c = l.client().await;
    c.send_raw(&[0, 0, 0, 10, 0x7f, 0x00, 0, 0, 0, 0, 0, 1, 0xff, 0xff]).await.unwrap();
    assert!(c.closed().await, "an unknown API key closes the connection");
    assert!(logs().contains("unknown API key 32512 (v0)"), "the close is logged: {}", logs());
    // A version of Metadata depot does not speak.
    let mut c = l.client().await;
    let (_, frame) = c.frame(ApiKey::Metadata, 12, &metadata_request(None));
    let mut bytes = frame.to_vec();
    bytes[6..8].copy_from_slice(&40i16.to_be_bytes());
    c.send_raw(&bytes).await.unwrap();
    assert!(c.closed().await, "an unknown version closes the connection");
    assert!(logs().contains("Metadata v40 is not supported"), "{}", logs());
    // A frame announcing more than the cap, a negative size, one too small for a header.
    for size in [i32::MAX, -5, 3] {
        let mut c = l.client().await;
        c.send_raw(&size.to_be_bytes()).await.unwrap();
        assert!(c.closed().await, "size {size}");
        assert!(logs().contains(&format!("a request announced {size} bytes")), "{}", logs());
    }
    // A header that does not decode (a client id longer than the frame).
    let mut c = l.client().await;
    c.send_raw(&[0, 0, 0, 10, 0, 3, 0, 1, 0, 0, 0, 9, 0x7f, 0xff]).await.unwrap();
    assert!(c.closed().await);
    // A body that does not decode: Metadata v1 whose topic list is cut short.
    let mut c = l.client().await;
    let (_, frame) = c.frame(ApiKey::Metadata, 1, &metadata_request(Some(&["orders"])));
    let mut bytes = frame[..frame.len() - 2].to_vec();
    let size = (bytes.len() - 4) as i32;
    bytes[..4].copy_from_slice(&size.to_be_bytes());
    c.send_raw(&bytes).await.unwrap();
    assert!(c.closed().await);
    // A client that disconnects halfway through a request.
    let mut c = l.client().await;
    let (_, frame) = c.frame(ApiKey::Metadata, 12, &metadata_request(None));
    c.send_raw(&frame[..frame.len() / 2]).await.unwrap();
    drop(c);
    // One that announces a large request and sends a little of it, then stays: the server holds
    // only what arrived, and serves others meanwhile.
    let mut slow = l.client().await;
    slow.send_raw(&[0, 0x10, 0, 0, 0, 3, 0, 1]).await.unwrap();

    // The connection that behaved is still served, and so are new ones.
    let r: MetadataResponse = bystander.call(ApiKey::Metadata, 12, &metadata_request(None)).await;
    assert_eq!(r.brokers.len(), 1);
    let mut fresh = Wire::connect(l.addr).await;
    let r: ApiVersionsResponse = fresh.call(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default()).await;
    assert_eq!(r.error_code, 0);
    drop(slow);
    kafka_common::poll("the cut-short request to be logged", || logs().contains("a request was cut short")).await;
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_keeps_the_http_rule_and_serves_with_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let engine = depot::engine::Engine::open(dir.path(), kafka_common::engine_config()).unwrap();
    let open = depot::server::kafka::start("0.0.0.0:0", engine.clone(), KafkaOptions::default()).await;
    let err = open.err().expect("no loopback, no token: refused");
    assert!(err.contains("without a token"), "{err}");
    let token = KafkaOptions { token: Some("s3cret".into()), ..KafkaOptions::default() };
    let running = depot::server::kafka::start("127.0.0.1:0", engine.clone(), token).await;
    running.expect("a token is checked with SASL/PLAIN (tests/kafka_sasl.rs)").stop().await;
    let bad = KafkaOptions { default_partitions: 0, ..KafkaOptions::default() };
    assert!(depot::server::kafka::start("127.0.0.1:0", engine.clone(), bad).await.is_err());
    engine.close().unwrap();
}
