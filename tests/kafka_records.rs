//! Produce, Fetch and ListOffsets on the wire, with raw requests (the `kafka-protocol` crate as a
//! client): every codec, what is refused and why (nothing appended, the connection kept), acks,
//! empty fetches, the long poll, offsets out of range and by time.

mod kafka_common;

use bytes::{Bytes, BytesMut};
use depot::core::TopicConfig;
use depot::server::kafka::KafkaOptions;
use kafka_common::{Listener, Wire};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use std::time::{Duration, Instant};

fn name(t: &str) -> TopicName {
    TopicName(StrBytes::from_string(t.to_string()))
}

fn record(i: i64, value: Option<&str>) -> Record {
    Record {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: -1,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: TimestampType::Creation,
        offset: i,
        sequence: -1,
        timestamp: 1_000 + i,
        key: Some(Bytes::from(format!("k{i}\u{0}\u{ff}"))),
        value: value.map(|v| Bytes::from(v.to_string())),
        headers: [(StrBytes::from_static_str("h"), Some(Bytes::from_static(b"\x00\xff")))].into_iter().collect(),
    }
}

fn batch(values: &[&str], compression: Compression) -> Bytes {
    let recs: Vec<Record> = values.iter().enumerate().map(|(i, v)| record(i as i64, Some(v))).collect();
    encode(&recs, compression)
}

fn encode(recs: &[Record], compression: Compression) -> Bytes {
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(&mut buf, recs.iter(), &RecordEncodeOptions { version: 2, compression }).unwrap();
    buf.freeze()
}

fn produce_req(topic: &str, partition: i32, acks: i16, records: Bytes) -> ProduceRequest {
    ProduceRequest::default().with_acks(acks).with_timeout_ms(5000).with_topic_data(vec![
        produce_request::TopicProduceData::default().with_name(name(topic)).with_partition_data(vec![
            produce_request::PartitionProduceData::default().with_index(partition).with_records(Some(records)),
        ]),
    ])
}

/// Produces v9 and returns the one partition's answer.
async fn produce(
    c: &mut Wire,
    topic: &str,
    partition: i32,
    records: Bytes,
) -> produce_response::PartitionProduceResponse {
    let r: ProduceResponse = c.call(ApiKey::Produce, 9, &produce_req(topic, partition, -1, records)).await;
    r.responses[0].partition_responses[0].clone()
}

fn fetch_req(topic: &str, partition: i32, offset: i64, max_wait_ms: i32) -> FetchRequest {
    FetchRequest::default().with_max_wait_ms(max_wait_ms).with_min_bytes(1).with_max_bytes(1 << 20).with_topics(vec![
        fetch_request::FetchTopic::default().with_topic(name(topic)).with_partitions(vec![
            fetch_request::FetchPartition::default()
                .with_partition(partition)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(1 << 20),
        ]),
    ])
}

async fn fetch(
    c: &mut Wire,
    topic: &str,
    partition: i32,
    offset: i64,
    max_wait_ms: i32,
) -> fetch_response::PartitionData {
    let r: FetchResponse = c.call(ApiKey::Fetch, 12, &fetch_req(topic, partition, offset, max_wait_ms)).await;
    r.responses[0].partitions[0].clone()
}

fn records_of(pd: &fetch_response::PartitionData) -> Vec<Record> {
    let mut b = pd.records.clone().expect("records are never null");
    RecordBatchDecoder::decode_all(&mut b).unwrap().into_iter().flat_map(|s| s.records).collect()
}

fn values(l: &Listener, topic: &str) -> Vec<String> {
    let recs = l.engine.fetch_all(topic, 0, 0, 1000).unwrap();
    recs.iter().map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_codec_is_decompressed_stored_and_fetched_back_with_keys_headers_and_create_times() {
    let l = Listener::start().await;
    l.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let mut c = l.client().await;
    let codecs = [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];
    for (i, codec) in codecs.into_iter().enumerate() {
        let p = produce(&mut c, "t", 0, batch(&["a", "b", "c"], codec)).await;
        assert_eq!((p.error_code, p.base_offset), (0, 3 * i as i64), "{codec:?}");
        assert_eq!(p.log_append_time_ms, -1, "CreateTime is kept, so no append time is answered (as Kafka does)");
    }
    assert_eq!(values(&l, "t").len(), 15);
    let pd = fetch(&mut c, "t", 0, 0, 0).await;
    assert_eq!((pd.error_code, pd.high_watermark, pd.log_start_offset), (0, 15, 0));
    let got = records_of(&pd);
    assert_eq!(got.len(), 15);
    for (i, r) in got.iter().enumerate() {
        assert_eq!(r.offset, i as i64);
        assert_eq!(r.key, record((i % 3) as i64, None).key, "binary keys kept");
        assert_eq!(r.value.as_deref(), Some(["a", "b", "c"][i % 3].as_bytes()));
        assert_eq!(r.headers, record(0, None).headers, "binary header values kept");
        assert_eq!(r.timestamp_type, TimestampType::Creation, "fetched batches say the time is the client's");
        assert_eq!(r.timestamp, 1_000 + (i % 3) as i64, "the client's own timestamp is kept");
    }
    // From the middle of a produced batch: the records from that offset.
    let mid = records_of(&fetch(&mut c, "t", 0, 7, 0).await);
    assert_eq!(mid.first().map(|r| r.offset), Some(7));
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_batches_get_kafkas_error_codes_nothing_is_appended_and_the_connection_stays() {
    let l = Listener::start().await;
    l.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let mut c = l.client().await;
    // A flipped byte after the CRC.
    let mut bad = batch(&["x"], Compression::None).to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 0x55;
    assert_eq!(produce(&mut c, "t", 0, bad.into()).await.error_code, 2, "CORRUPT_MESSAGE");
    // A partition or a topic that does not exist.
    assert_eq!(produce(&mut c, "t", 1, batch(&["x"], Compression::None)).await.error_code, 3);
    assert_eq!(produce(&mut c, "nope", 0, batch(&["x"], Compression::None)).await.error_code, 3);
    assert!(l.engine.describe_topic("nope").is_err(), "not created without --kafka-auto-create");
    // A timestamp before 1970 (other than -1, "none"), or more than an hour ahead.
    let ahead =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 2 * 3_600_000;
    for ts in [-5, ahead] {
        let bad =
            encode(&[record(0, Some("fine")), Record { timestamp: ts, ..record(1, Some("bad")) }], Compression::None);
        assert_eq!(produce(&mut c, "t", 0, bad).await.error_code, 32, "INVALID_TIMESTAMP for {ts}");
    }
    // An idempotent producer's batch with an id depot never handed out (tests/kafka_idempotence.rs
    // has the rest).
    let mut idem = record(0, Some("x"));
    idem.producer_id = 7;
    idem.producer_epoch = 0;
    idem.sequence = 0;
    assert_eq!(produce(&mut c, "t", 0, encode(&[idem], Compression::None)).await.error_code, 59, "UNKNOWN_PRODUCER_ID");
    // A batch claiming two billion records in a few bytes: refused before room is made for them.
    let mut huge = batch(&["x"], Compression::None).to_vec();
    huge[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
    let crc = crc32c::crc32c(&huge[21..]);
    huge[17..21].copy_from_slice(&crc.to_be_bytes());
    assert_eq!(produce(&mut c, "t", 0, huge.into()).await.error_code, 2);
    // acks outside -1, 0, 1.
    let r: ProduceResponse =
        c.call(ApiKey::Produce, 9, &produce_req("t", 0, 2, batch(&["x"], Compression::None))).await;
    assert_eq!(r.responses[0].partition_responses[0].error_code, 21, "INVALID_REQUIRED_ACKS");
    assert!(values(&l, "t").is_empty(), "nothing was appended");
    // The same connection still produces.
    assert_eq!(produce(&mut c, "t", 0, batch(&["ok"], Compression::None)).await.error_code, 0);
    assert_eq!(values(&l, "t"), ["ok"]);
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_zero_gets_no_answer_and_the_next_request_is_answered_in_order() {
    let l = Listener::start().await;
    l.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let mut c = l.client().await;
    let (_, frame) = c.frame(ApiKey::Produce, 9, &produce_req("t", 0, 0, batch(&["quiet"], Compression::None)));
    c.send_raw(&frame).await.unwrap();
    // `call` checks the correlation id: the first answer on the wire is ApiVersions'.
    let v: ApiVersionsResponse = c.call(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default()).await;
    assert_eq!(v.error_code, 0);
    assert_eq!(values(&l, "t"), ["quiet"]);
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_produce_with_the_authorization_error_and_changes_nothing() {
    let l = Listener::with(KafkaOptions { read_only: true, auto_create: true, ..KafkaOptions::default() }).await;
    l.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let mut c = l.client().await;
    assert_eq!(
        produce(&mut c, "t", 0, batch(&["x"], Compression::None)).await.error_code,
        29,
        "TOPIC_AUTHORIZATION_FAILED"
    );
    assert_eq!(produce(&mut c, "fresh", 0, batch(&["x"], Compression::None)).await.error_code, 29);
    assert!(values(&l, "t").is_empty());
    assert!(l.engine.describe_topic("fresh").is_err(), "no auto-creation when read-only");
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_fetch_is_an_empty_set_a_long_poll_wakes_on_append_and_out_of_range_is_refused() {
    let l = Listener::start().await;
    l.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let mut c = l.client().await;
    // Nothing there: an empty record set (not null), after the wait asked for.
    let started = Instant::now();
    let pd = fetch(&mut c, "t", 0, 0, 200).await;
    assert!(started.elapsed() >= Duration::from_millis(200), "waited the max_wait_ms");
    assert_eq!((pd.error_code, pd.high_watermark), (0, 0));
    assert_eq!(pd.records, Some(Bytes::new()), "empty, never null");
    // A long poll: answered when a record arrives, well before its 20 s.
    let (_, frame) = c.frame(ApiKey::Fetch, 12, &fetch_req("t", 0, 0, 20_000));
    let started = Instant::now();
    c.send_raw(&frame).await.unwrap();
    kafka_common::poll("the fetch to wait for records", || l.parked_fetches() == 1).await;
    l.engine.append("t", 0, &[depot::engine::record::NewRecord::value("late")], None).unwrap();
    let mut resp = c.read_frame().await.expect("the fetch's answer");
    assert!(started.elapsed() < Duration::from_secs(15), "woken by the append, not the timeout");
    assert_eq!(l.parked_fetches(), 0);
    use bytes::Buf;
    resp.advance(4 + 1);
    let r = <FetchResponse as kafka_protocol::protocol::Decodable>::decode(&mut resp, 12).unwrap();
    let got = records_of(&r.responses[0].partitions[0]);
    assert_eq!(got.iter().map(|r| r.value.clone().unwrap()).collect::<Vec<_>>(), [Bytes::from_static(b"late")]);
    // Past the end, and a partition that does not exist.
    assert_eq!(fetch(&mut c, "t", 0, 5, 0).await.error_code, 1, "OFFSET_OUT_OF_RANGE");
    assert_eq!(fetch(&mut c, "t", 3, 0, 0).await.error_code, 3, "UNKNOWN_TOPIC_OR_PARTITION");
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_offsets_answers_earliest_latest_and_by_time() {
    let l = Listener::start().await;
    l.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let mut c = l.client().await;
    produce(&mut c, "t", 0, batch(&["a", "b"], Compression::None)).await;
    let appended = l.engine.fetch("t", 0, 0, 1, 1 << 20).unwrap()[0].timestamp;
    let ask = |ts: i64| {
        ListOffsetsRequest::default().with_replica_id(BrokerId(-1)).with_topics(vec![
            list_offsets_request::ListOffsetsTopic::default().with_name(name("t")).with_partitions(vec![
                list_offsets_request::ListOffsetsPartition::default().with_partition_index(0).with_timestamp(ts),
            ]),
        ])
    };
    for (ts, want) in [(-2, (0, -1)), (-1, (2, -1)), (0, (0, appended)), (appended + 60_000, (-1, -1))] {
        for v in [1, 7] {
            let r: ListOffsetsResponse = c.call(ApiKey::ListOffsets, v, &ask(ts)).await;
            let p = &r.topics[0].partitions[0];
            assert_eq!((p.error_code, p.offset, p.timestamp), (0, want.0, want.1), "timestamp {ts} v{v}");
        }
    }
    l.finish().await;
}

/// A one-record batch whose compressed records are followed by `trailing` zero bytes: a few KiB
/// on the wire that inflate past depot's 64 MiB batch limit. The crate's decoder reads the one
/// record and ignores the rest, so only a bound on the decompression itself refuses it.
fn bomb(codec: Compression, trailing: usize) -> Bytes {
    let b = batch(&["x"], Compression::None);
    let (header, plain) = b.split_at(61);
    let compressed = match codec {
        // zstd by hand: the record as a raw block, then blocks that repeat one zero byte 128 KiB
        // times each (4 bytes apiece).
        Compression::Zstd => {
            let mut z = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38];
            let block = |z: &mut Vec<u8>, last: bool, kind: u32, size: usize| {
                let h = u32::from(last) | (kind << 1) | ((size as u32) << 3);
                z.extend_from_slice(&h.to_le_bytes()[..3]);
            };
            block(&mut z, false, 0, plain.len());
            z.extend_from_slice(plain);
            let blocks = trailing.div_ceil(128 << 10);
            for i in 0..blocks {
                block(&mut z, i + 1 == blocks, 1, 128 << 10);
                z.push(0);
            }
            z
        }
        Compression::Gzip => {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(plain).unwrap();
            let zeros = vec![0u8; 1 << 20];
            for _ in 0..trailing.div_ceil(1 << 20) {
                e.write_all(&zeros).unwrap();
            }
            e.finish().unwrap()
        }
        other => panic!("no bomb for {other:?}"),
    };
    let attrs: i16 = match codec {
        Compression::Gzip => 1,
        _ => 4,
    };
    let mut out = header.to_vec();
    out[21..23].copy_from_slice(&attrs.to_be_bytes());
    out.extend_from_slice(&compressed);
    let len = (out.len() - 12) as i32;
    out[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out.into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_batch_that_inflates_past_the_limit_is_refused_without_appending_and_the_connection_stays() {
    let l = Listener::start().await;
    l.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let mut c = l.client().await;
    for codec in [Compression::Zstd, Compression::Gzip] {
        let b = bomb(codec, 65 << 20);
        let p = produce(&mut c, "t", 0, b.clone()).await;
        assert_eq!(p.error_code, 10, "{codec:?} ({} bytes on the wire): MESSAGE_TOO_LARGE", b.len());
        assert_eq!(p.base_offset, -1);
        assert!(p.error_message.as_deref().is_some_and(|m| m.contains("once decompressed")), "{:?}", p.error_message);
    }
    assert!(kafka_common::logs().contains("once decompressed"), "a log line says why");
    assert!(values(&l, "t").is_empty(), "nothing was appended");
    // The same bomb kept under the limit decompresses, and is then refused as Kafka refuses it:
    // a megabyte follows its one record (Kafka: "records still remaining").
    let small = bomb(Compression::Zstd, 1 << 20);
    assert!(small.len() < 4096, "a few KiB: {}", small.len());
    let p = produce(&mut c, "t", 0, small).await;
    assert_eq!(p.error_code, 2, "CORRUPT_MESSAGE: {:?}", p.error_message);
    assert!(p.error_message.as_deref().is_some_and(|m| m.contains("follow the last")), "{:?}", p.error_message);
    // And a legit compressed batch still goes through on the same connection.
    assert_eq!(produce(&mut c, "t", 0, batch(&["gz"], Compression::Gzip)).await.error_code, 0);
    assert_eq!(values(&l, "t"), ["gz"]);
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_times_tombstones_and_null_header_values_are_kept_and_read_back_exactly() {
    let l = Listener::start().await;
    l.engine.create_topic("t", TopicConfig::with_partitions(1)).unwrap();
    let mut c = l.client().await;
    // CreateTimes in the past and going backwards, a tombstone, a null header value, and -1
    // (no timestamp: the append time).
    let null_header = [(StrBytes::from_static_str("n"), None)].into_iter().collect();
    let sent = vec![
        Record { timestamp: 1_600_000_000_000, ..record(0, Some("first")) },
        Record { timestamp: 1_500_000_000_000, ..record(1, None) },
        Record { timestamp: 1_600_000_000_005, headers: null_header, ..record(2, Some("")) },
        Record { timestamp: -1, ..record(3, Some("now")) },
    ];
    let p = produce(&mut c, "t", 0, encode(&sent, Compression::None)).await;
    assert_eq!((p.error_code, p.base_offset, p.log_append_time_ms), (0, 0, -1));
    // A batch flagged LogAppendTime by its client takes the append time.
    let mut lat = encode(&[record(0, Some("stamped by depot"))], Compression::None).to_vec();
    lat[22] |= 1 << 3;
    let crc = crc32c::crc32c(&lat[21..]);
    lat[17..21].copy_from_slice(&crc.to_be_bytes());
    let p = produce(&mut c, "t", 0, lat.into()).await;
    assert_eq!(p.error_code, 0);
    assert!(p.log_append_time_ms > 1_700_000_000_000, "the append time: {}", p.log_append_time_ms);
    let stored = l.engine.fetch_all("t", 0, 0, 10).unwrap();
    let appended = stored[3].timestamp;
    assert!(appended > 1_700_000_000_000, "-1 took the append time: {appended}");
    assert_eq!(stored[4].timestamp, p.log_append_time_ms);

    let got = records_of(&fetch(&mut c, "t", 0, 0, 0).await);
    let seen: Vec<(i64, TimestampType, i64, Option<&[u8]>)> =
        got.iter().map(|r| (r.offset, r.timestamp_type, r.timestamp, r.value.as_deref())).collect();
    assert_eq!(
        seen,
        vec![
            (0, TimestampType::Creation, 1_600_000_000_000, Some(&b"first"[..])),
            (1, TimestampType::Creation, 1_500_000_000_000, None),
            (2, TimestampType::Creation, 1_600_000_000_005, Some(&b""[..])),
            (3, TimestampType::Creation, appended, Some(&b"now"[..])),
            (4, TimestampType::LogAppend, p.log_append_time_ms, Some(&b"stamped by depot"[..])),
        ]
    );
    assert_eq!(got[2].headers.get(&StrBytes::from_static_str("n")), Some(&None), "a null header value");
    assert_eq!(got[1].key, sent[1].key, "the tombstone's binary key");

    // depot peek --json shows the same, from the data directory.
    let (dir, engine) = l.stop().await;
    engine.close().unwrap();
    drop(engine);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_depot"))
        .env_remove("DEPOT_CONNECT")
        .env_remove("DEPOT_CONTEXT")
        .arg("--data")
        .arg(dir.path())
        .args(["--json", "peek", "t", "--partition", "0", "--max", "10"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5);
    let ts: Vec<i64> = lines.iter().map(|m| m["timestamp"].as_i64().unwrap()).collect();
    assert_eq!(ts, [1_600_000_000_000, 1_500_000_000_000, 1_600_000_000_005, appended, p.log_append_time_ms]);
    assert_eq!(lines[1]["value"], serde_json::Value::Null, "the tombstone: {}", lines[1]);
    assert_eq!(lines[1]["key"], serde_json::json!("k1\u{0}\u{ff}"), "{}", lines[1]);
    assert_eq!(lines[2]["value"], serde_json::json!(""), "an empty value is not a tombstone");
    assert_eq!(lines[2]["headers"], serde_json::json!([{"name": "n", "value": null}]), "a null header value");
    assert_eq!(lines[0]["value"], serde_json::json!("first"));
}
