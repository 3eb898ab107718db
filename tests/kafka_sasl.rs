//! SASL/PLAIN on the Kafka listener (`--token`): raw requests for the protocol's contracts (no
//! API before authentication, a wrong password or mechanism answered and the connection closed,
//! the right one opening every API), and librdkafka (the `rdkafka` crate depot links) as a real
//! client with and without the password. kcat is in `tests/kafka_clients.rs`.

mod kafka_common;

use bytes::Bytes;
use depot::core::TopicConfig;
use depot::server::kafka::KafkaOptions;
use kafka_common::{Listener, Wire, logs};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::time::Duration;

const TOKEN: &str = "s3cret-token";

async fn with_token() -> Listener {
    Listener::with(KafkaOptions { token: Some(TOKEN.into()), ..KafkaOptions::default() }).await
}

async fn handshake(c: &mut Wire, mechanism: &str) -> Option<SaslHandshakeResponse> {
    let req = SaslHandshakeRequest::default().with_mechanism(StrBytes::from_string(mechanism.into()));
    c.try_call(ApiKey::SaslHandshake, 1, &req).await
}

async fn authenticate(c: &mut Wire, version: i16, message: &[u8]) -> Option<SaslAuthenticateResponse> {
    let req = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::copy_from_slice(message));
    c.try_call(ApiKey::SaslAuthenticate, version, &req).await
}

async fn metadata(c: &mut Wire) -> Option<MetadataResponse> {
    c.try_call(ApiKey::Metadata, 12, &MetadataRequest::default().with_topics(None)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_nothing_but_apiversions_and_sasl_is_served_before_authentication() {
    let l = with_token().await;
    l.engine.create_topic("orders", TopicConfig::with_partitions(1)).unwrap();
    let mut c = l.client().await;
    assert!(metadata(&mut c).await.is_none(), "Metadata before authenticating closes the connection");
    assert!(logs().contains("Metadata before SASL authentication"), "{}", logs());
    // ApiVersions is answered (clients ask it first), and advertises the SASL APIs.
    let mut c = l.client().await;
    let v: ApiVersionsResponse = c.call(ApiKey::ApiVersions, 3, &ApiVersionsRequest::default()).await;
    let sasl: Vec<(i16, i16, i16)> = v
        .api_keys
        .iter()
        .filter(|k| [17, 36].contains(&k.api_key))
        .map(|k| (k.api_key, k.min_version, k.max_version))
        .collect();
    assert_eq!(sasl, [(17, 1, 1), (36, 0, 2)]);
    // A handshake does not open the other APIs either; only the credentials do.
    assert_eq!(handshake(&mut c, "PLAIN").await.expect("an answer").error_code, 0);
    assert!(metadata(&mut c).await.is_none(), "Metadata between handshake and authentication");
    // SaslAuthenticate without a handshake first.
    let mut c = l.client().await;
    assert!(authenticate(&mut c, 2, format!("\0depot\0{TOKEN}").as_bytes()).await.is_none());
    assert!(logs().contains("SaslAuthenticate before SaslHandshake"), "{}", logs());
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_or_mechanism_is_answered_then_the_connection_is_closed() {
    let l = with_token().await;
    let mut c = l.client().await;
    let r = handshake(&mut c, "SCRAM-SHA-512").await.expect("an answer before the close");
    assert_eq!(r.error_code, 33, "UNSUPPORTED_SASL_MECHANISM");
    assert_eq!(r.mechanisms.iter().map(|m| m.to_string()).collect::<Vec<_>>(), ["PLAIN"], "the list offered");
    assert!(c.closed().await, "closed after the answer");
    assert!(logs().contains("SASL mechanism \"SCRAM-SHA-512\" is not supported"), "{}", logs());
    for version in [0, 1, 2] {
        let mut c = l.client().await;
        assert_eq!(handshake(&mut c, "PLAIN").await.expect("handshake").error_code, 0);
        let r = authenticate(&mut c, version, b"\0depot\0not-the-token").await.expect("an answer before the close");
        assert_eq!(r.error_code, 58, "SASL_AUTHENTICATION_FAILED (v{version})");
        if version >= 1 {
            let msg = r.error_message.map(|m| m.to_string()).unwrap_or_default();
            assert!(msg.contains("Invalid username or password"), "{msg}");
        }
        assert!(c.closed().await, "closed after a failed authentication (v{version})");
    }
    assert!(logs().contains("SASL/PLAIN authentication failed"), "{}", logs());
    // A token that is a prefix of the password, or the other way round, is still wrong.
    let mut c = l.client().await;
    handshake(&mut c, "PLAIN").await.expect("handshake");
    let r = authenticate(&mut c, 2, format!("\0depot\0{TOKEN}x").as_bytes()).await.expect("answer");
    assert_eq!(r.error_code, 58);
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_as_the_password_of_any_user_opens_every_api() {
    let l = with_token().await;
    l.engine.create_topic("orders", TopicConfig::with_partitions(2)).unwrap();
    for (version, user) in [(0, "depot"), (2, "someone-else")] {
        let mut c = l.client().await;
        assert_eq!(handshake(&mut c, "PLAIN").await.expect("handshake").error_code, 0);
        let r = authenticate(&mut c, version, format!("\0{user}\0{TOKEN}").as_bytes()).await.expect("answer");
        assert_eq!((r.error_code, r.session_lifetime_ms), (0, 0), "v{version}");
        let md = metadata(&mut c).await.expect("Metadata once authenticated");
        assert_eq!(md.topics.len(), 1);
        // A second authentication on the same connection is refused, and the connection kept.
        let again = authenticate(&mut c, version, format!("\0{user}\0{TOKEN}").as_bytes()).await.expect("answer");
        assert_eq!(again.error_code, 34, "ILLEGAL_SASL_STATE");
        assert!(metadata(&mut c).await.is_some());
    }
    l.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_sasl_is_an_illegal_state_and_the_connection_stays() {
    let l = Listener::start().await;
    let mut c = l.client().await;
    assert_eq!(handshake(&mut c, "PLAIN").await.expect("answer").error_code, 34, "ILLEGAL_SASL_STATE");
    assert_eq!(authenticate(&mut c, 2, b"\0a\0b").await.expect("answer").error_code, 34);
    assert!(metadata(&mut c).await.is_some(), "plain Kafka is served as before");
    l.finish().await;
}

fn librdkafka_metadata(bootstrap: String, password: Option<&'static str>) -> Result<usize, String> {
    let mut cfg = ClientConfig::new();
    cfg.set("bootstrap.servers", &bootstrap);
    if let Some(p) = password {
        cfg.set("security.protocol", "SASL_PLAINTEXT")
            .set("sasl.mechanisms", "PLAIN")
            .set("sasl.username", "depot")
            .set("sasl.password", p);
    }
    let c: BaseConsumer = cfg.create().map_err(|e| e.to_string())?;
    c.fetch_metadata(None, Duration::from_secs(5)).map(|m| m.topics().len()).map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librdkafka_reads_metadata_with_the_token_and_not_without_it() {
    let l = with_token().await;
    l.engine.create_topic("orders", TopicConfig::with_partitions(1)).unwrap();
    let b = l.bootstrap();
    let ok = tokio::task::spawn_blocking(move || librdkafka_metadata(b, Some(TOKEN))).await.unwrap();
    assert_eq!(ok, Ok(1));
    let b = l.bootstrap();
    let wrong = tokio::task::spawn_blocking(move || librdkafka_metadata(b, Some("wrong"))).await.unwrap();
    assert!(wrong.is_err(), "a wrong password: {wrong:?}");
    let b = l.bootstrap();
    let none = tokio::task::spawn_blocking(move || librdkafka_metadata(b, None)).await.unwrap();
    assert!(none.is_err(), "no SASL at all: {none:?}");
    l.finish().await;
}
