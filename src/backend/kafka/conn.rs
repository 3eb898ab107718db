//! Talking to the cluster: timeouts, the librdkafka settings of each kind of client (from a
//! context's bootstrap and security settings), and librdkafka's errors in depot's terms.

use crate::backend::{BResult, BackendError};
use rdkafka::config::{ClientConfig, FromClientConfig};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use std::time::Duration;

use super::KafkaConfig;

/// How long a metadata, watermark, offset or group request may take.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `connect` waits for the first metadata answer.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(8);
/// How long reading records that are known to exist may take.
pub(super) const READ_TIMEOUT: Duration = Duration::from_secs(15);
/// How long joining a group for a pull may take (some brokers take ~20 s for a first join).
pub(super) const JOIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the lag-in-time probe may take per topic before the partition's lag_ms is left at 0.
pub(super) const LAG_PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The `group.id` of assign-only readers (never joined, never committed).
pub(super) const READER_GROUP: &str = "depot-reader";

/// The bootstrap and security settings of a context, as librdkafka properties (also the base of
/// `bench run`'s own producers and consumers).
pub fn client_config(cfg: &KafkaConfig) -> BResult<ClientConfig> {
    let brokers = cfg.brokers.trim();
    if brokers.is_empty() {
        return Err(BackendError::BadRequest(
            "no Kafka brokers given: set brokers = \"host:port[,host:port...]\" in the context".into(),
        ));
    }
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers)
        .set("client.id", "depot")
        .set("socket.connection.setup.timeout.ms", "10000")
        .set("allow.auto.create.topics", "false");
    let mechanism = match (&cfg.sasl_mechanism, &cfg.username) {
        (Some(m), _) => Some(m.trim().to_ascii_uppercase()),
        (None, Some(_)) => Some("PLAIN".to_string()),
        (None, None) => None,
    };
    if let Some(m) = &mechanism {
        if !["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"].contains(&m.as_str()) {
            return Err(BackendError::BadRequest(format!(
                "SASL mechanism {m:?} is not supported: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
            )));
        }
        let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) else {
            return Err(BackendError::BadRequest(format!(
                "SASL {m} needs both a username and a password (set them in the context or its environment variables)"
            )));
        };
        c.set("sasl.mechanism", m.as_str()).set("sasl.username", user).set("sasl.password", pass);
    }
    let tls = cfg.tls || cfg.ca_file.is_some();
    let protocol = match (mechanism.is_some(), tls) {
        (false, false) => "PLAINTEXT",
        (false, true) => "SSL",
        (true, false) => "SASL_PLAINTEXT",
        (true, true) => "SASL_SSL",
    };
    c.set("security.protocol", protocol);
    if let Some(ca) = &cfg.ca_file {
        if !ca.exists() {
            return Err(BackendError::BadRequest(format!("the CA file {} does not exist", ca.display())));
        }
        c.set("ssl.ca.location", ca.to_string_lossy().to_string());
    }
    Ok(c)
}

/// Settings of consumers that read without joining a group (peek, fetch, probes, replay).
/// librdkafka wants a `group.id` even for assign-only consumers; this one never subscribes and
/// never commits, so the broker never sees it as a group.
pub(super) fn reader_config(base: &ClientConfig) -> ClientConfig {
    let mut c = base.clone();
    c.set("group.id", READER_GROUP)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "100");
    c
}

/// Settings of a consumer acting as `group` (pull, commits, OffsetFetch).
pub(super) fn group_config(base: &ClientConfig, group: &str) -> ClientConfig {
    let mut c = base.clone();
    c.set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000")
        .set("fetch.wait.max.ms", "100");
    c
}

/// Creates a client; settings librdkafka rejects become errors that say what to change.
pub(super) fn create<T: FromClientConfig>(c: &ClientConfig, brokers: &str) -> BResult<T> {
    c.create::<T>().map_err(|e| match &e {
        KafkaError::ClientConfig(_, desc, key, _) => {
            let lower = desc.to_ascii_lowercase();
            if lower.contains("ssl") || lower.contains("openssl") || lower.contains("build time") {
                BackendError::Unsupported(format!(
                    "this depot build's librdkafka cannot use {key} as configured ({desc}): TLS and SASL/SCRAM need \
                     librdkafka built with OpenSSL — rebuild depot with rdkafka's `ssl-vendored` feature (or `ssl` \
                     with libssl-dev installed)"
                ))
            } else {
                BackendError::BadRequest(format!("Kafka client setting {key} was rejected: {desc}"))
            }
        }
        KafkaError::ClientCreation(msg) if msg.contains("recompile librdkafka") || msg.contains("No provider") => {
            BackendError::Unsupported(format!(
                "this depot build's librdkafka cannot do what the context asks ({msg}): SASL/SCRAM and TLS need \
                 librdkafka built with OpenSSL — rebuild depot with rdkafka's `ssl-vendored` feature (or `ssl` with \
                 libssl-dev installed); SASL PLAIN works without it"
            ))
        }
        _ => BackendError::Unavailable(format!("cannot create a Kafka client for {brokers}: {e}")),
    })
}

/// Turns a librdkafka error into a typed error; `what` says what depot was doing.
pub(super) fn kerr(what: &str, e: &KafkaError) -> BackendError {
    use RDKafkaErrorCode as C;
    let code = match e {
        KafkaError::AdminOp(c) => Some(*c),
        _ => e.rdkafka_error_code(),
    };
    let msg = format!("{what}: {e}");
    match code {
        Some(C::UnknownTopicOrPartition | C::UnknownTopic | C::UnknownPartition | C::GroupIdNotFound) => {
            BackendError::NotFound(msg)
        }
        Some(C::TopicAlreadyExists) => BackendError::Conflict(msg),
        Some(
            C::InvalidTopic
            | C::InvalidPartitions
            | C::InvalidReplicationFactor
            | C::InvalidConfig
            | C::InvalidArgument
            | C::PolicyViolation
            | C::OffsetOutOfRange
            | C::InvalidGroupId,
        ) => BackendError::BadRequest(msg),
        Some(
            C::TopicAuthorizationFailed
            | C::GroupAuthorizationFailed
            | C::ClusterAuthorizationFailed
            | C::SaslAuthenticationFailed
            | C::Authentication,
        ) => BackendError::Unauthorized(format!(
            "{msg}: check the context's username, password and SASL mechanism, and the cluster's ACLs"
        )),
        Some(C::UnsupportedVersion | C::UnsupportedFeature | C::NotImplemented) => {
            BackendError::Unsupported(format!("{msg}: this broker does not implement that request"))
        }
        Some(C::UnknownMemberId | C::RebalanceInProgress | C::IllegalGeneration | C::NonEmptyGroup) => {
            BackendError::Refused(msg)
        }
        _ => BackendError::Unavailable(msg),
    }
}

/// The first failure among an admin request's per-item results: as `known` names it, else in
/// librdkafka's words; `what` says what depot was doing ("deleting topic").
pub(super) fn admin_outcome(
    results: Vec<Result<String, (String, RDKafkaErrorCode)>>,
    what: &str,
    brokers: &str,
    known: impl Fn(&str, RDKafkaErrorCode) -> Option<BackendError>,
) -> BResult<()> {
    for r in results {
        if let Err((name, code)) = r {
            return Err(known(&name, code)
                .unwrap_or_else(|| kerr(&format!("{what} {name} on {brokers}"), &KafkaError::AdminOp(code))));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_settings_map_to_librdkafka_properties() {
        let mut cfg = KafkaConfig::new("b:9092");
        let c = client_config(&cfg).unwrap();
        assert_eq!(c.get("security.protocol"), Some("PLAINTEXT"));
        cfg.username = Some("u".into());
        assert!(matches!(client_config(&cfg), Err(BackendError::BadRequest(_))), "a password is needed");
        cfg.password = Some("p".into());
        let c = client_config(&cfg).unwrap();
        assert_eq!((c.get("security.protocol"), c.get("sasl.mechanism")), (Some("SASL_PLAINTEXT"), Some("PLAIN")));
        cfg.sasl_mechanism = Some("scram-sha-512".into());
        cfg.tls = true;
        let c = client_config(&cfg).unwrap();
        assert_eq!((c.get("security.protocol"), c.get("sasl.mechanism")), (Some("SASL_SSL"), Some("SCRAM-SHA-512")));
        cfg.sasl_mechanism = Some("GSSAPI".into());
        assert!(matches!(client_config(&cfg), Err(BackendError::BadRequest(_))));
        assert!(!format!("{cfg:?}").contains("\"p\""), "the password is not printed");
        assert!(matches!(client_config(&KafkaConfig::new(" ")), Err(BackendError::BadRequest(_))));
    }
}
