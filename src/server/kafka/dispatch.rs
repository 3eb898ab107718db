//! The one table of the APIs the listener answers, and what happens to a request before its
//! handler runs: the header and the version check, and (with a token) whether the connection
//! has authenticated ([`super::sasl`]). Each API group is one module with
//! one entry in [`GROUPS`] (a slice of its [`Api`]s); ApiVersions advertises exactly this table.
//!
//! What a real broker does is what happens here: an ApiVersions request of a version depot does
//! not know is answered (error 35 and depot's ranges, [`super::versions`]); any other unknown API
//! or version, or a header or body that does not decode closes the connection with a log line.

use super::{Broker, Session, admin, fetch, groups, metadata, offsets, produce, producer, sasl, versions};
use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion};
use std::future::Future;
use std::pin::Pin;

/// A handler's future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a handler gets: the request's header fields and its body (after the header).
pub struct Request {
    pub key: ApiKey,
    pub version: i16,
    pub correlation_id: i32,
    pub client_id: Option<String>,
    pub body: Bytes,
}

/// Answers one request.
pub type Handler = for<'a> fn(&'a Broker, &'a mut Session, Request) -> BoxFuture<'a, Outcome>;

/// One API: its key, the versions depot speaks, and its handler.
pub struct Api {
    pub key: ApiKey,
    pub min: i16,
    pub max: i16,
    pub handle: Handler,
}

/// Every API group's entries. A new group is a module with `pub const APIS: &[Api]` and a line here.
pub const GROUPS: &[&[Api]] = &[
    versions::APIS,
    metadata::APIS,
    produce::APIS,
    fetch::APIS,
    offsets::APIS,
    producer::APIS,
    sasl::APIS,
    admin::APIS,
    groups::APIS,
];

/// Every API depot answers, by key.
pub fn apis() -> impl Iterator<Item = &'static Api> {
    GROUPS.iter().flat_map(|g| g.iter())
}

/// The entry for an API key.
pub fn find(key: i16) -> Option<&'static Api> {
    apis().find(|a| a.key as i16 == key)
}

/// What to do after a request.
pub enum Outcome {
    /// Send this response (its body after `frame::HEADER_ROOM` bytes) with this header version.
    Reply { buf: BytesMut, header_version: i16 },
    /// Send nothing (a produce with acks=0).
    Silent,
    /// Close the connection; the reason is logged.
    Close(String),
}

/// Encodes `msg` as the response at `version`.
pub fn reply<T: Encodable + HeaderVersion>(msg: &T, version: i16) -> Outcome {
    let mut buf = super::frame::reply_buffer(msg.compute_size(version).unwrap_or(0));
    match msg.encode(&mut buf, version) {
        Ok(()) => Outcome::Reply { buf, header_version: T::header_version(version) },
        Err(e) => Outcome::Close(format!("could not encode the response (v{version}): {e}")),
    }
}

/// Decodes a request body, or the outcome that closes the connection over it.
pub fn decode<T: Decodable>(r: &Request) -> Result<T, Outcome> {
    let mut body = r.body.clone();
    T::decode(&mut body, r.version)
        .map_err(|e| Outcome::Close(format!("{:?} v{} does not decode: {e}", r.key, r.version)))
}

/// Reads the header of `frame`, checks the API and its version, and runs the
/// handler. Returns the correlation id with the outcome (0 when the header did not decode).
pub async fn handle(b: &Broker, s: &mut Session, frame: Bytes) -> (i32, Outcome) {
    // read_frame guarantees 8 bytes: key, version, correlation id.
    let mut head = &frame[..8];
    let (key, version, correlation_id) = (head.get_i16(), head.get_i16(), head.get_i32());
    let Some(api) = find(key) else {
        return (correlation_id, Outcome::Close(format!("unknown API key {key} (v{version})")));
    };
    if api.key == ApiKey::ApiVersions && !(api.min..=api.max).contains(&version) {
        // The contract of ApiVersions: an unknown version is answered, in v0, with error 35.
        return (correlation_id, versions::unsupported());
    }
    if !(api.min..=api.max).contains(&version) {
        return (
            correlation_id,
            Outcome::Close(format!(
                "{:?} v{version} is not supported (depot speaks v{}..v{})",
                api.key, api.min, api.max
            )),
        );
    }
    if let Some(why) = sasl::refuse(s, api.key) {
        return (correlation_id, Outcome::Close(why));
    }
    let mut rest = frame.clone();
    let header = match RequestHeader::decode(&mut rest, api.key.request_header_version(version)) {
        Ok(h) => h,
        Err(e) => {
            return (
                correlation_id,
                Outcome::Close(format!("{:?} v{version}: the header does not decode: {e}", api.key)),
            );
        }
    };
    let request = Request {
        key: api.key,
        version,
        correlation_id,
        client_id: header.client_id.map(|c| c.to_string()),
        body: rest,
    };
    (correlation_id, (api.handle)(b, s, request).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::protocol::Message;

    #[test]
    fn every_api_is_in_the_table_once_and_within_the_codecs_versions() {
        let mut keys: Vec<i16> = apis().map(|a| a.key as i16).collect();
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n, "an API key is in the table twice");
        for a in apis() {
            assert!(a.min <= a.max, "{:?}", a.key);
            let codec = codec_range(a.key);
            assert!(
                codec.0 <= a.min && a.max <= codec.1,
                "{:?} v{}..v{} outside the codec's {codec:?}",
                a.key,
                a.min,
                a.max
            );
        }
    }

    fn codec_range(key: ApiKey) -> (i16, i16) {
        use kafka_protocol::messages::*;
        fn r<T: Message>() -> (i16, i16) {
            (T::VERSIONS.min, T::VERSIONS.max)
        }
        match key {
            ApiKey::ApiVersions => r::<ApiVersionsRequest>(),
            ApiKey::SaslHandshake => r::<SaslHandshakeRequest>(),
            ApiKey::SaslAuthenticate => r::<SaslAuthenticateRequest>(),
            ApiKey::Metadata => r::<MetadataRequest>(),
            ApiKey::Produce => r::<ProduceRequest>(),
            ApiKey::Fetch => r::<FetchRequest>(),
            ApiKey::ListOffsets => r::<ListOffsetsRequest>(),
            ApiKey::OffsetCommit => r::<OffsetCommitRequest>(),
            ApiKey::OffsetFetch => r::<OffsetFetchRequest>(),
            ApiKey::CreateTopics => r::<CreateTopicsRequest>(),
            ApiKey::DeleteTopics => r::<DeleteTopicsRequest>(),
            ApiKey::DeleteRecords => r::<DeleteRecordsRequest>(),
            ApiKey::InitProducerId => r::<InitProducerIdRequest>(),
            ApiKey::FindCoordinator => r::<FindCoordinatorRequest>(),
            ApiKey::JoinGroup => r::<JoinGroupRequest>(),
            ApiKey::SyncGroup => r::<SyncGroupRequest>(),
            ApiKey::Heartbeat => r::<HeartbeatRequest>(),
            ApiKey::LeaveGroup => r::<LeaveGroupRequest>(),
            ApiKey::ListGroups => r::<ListGroupsRequest>(),
            ApiKey::DescribeGroups => r::<DescribeGroupsRequest>(),
            ApiKey::DeleteGroups => r::<DeleteGroupsRequest>(),
            other => panic!("{other:?} has no codec range in this test; add it"),
        }
    }
}
