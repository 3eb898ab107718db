//! ApiVersions: the versions of every API in the dispatch table, and nothing else. Its response
//! header is always v0 (clients read it before they know the broker's versions); a request of a
//! version depot does not know is answered in v0 with UNSUPPORTED_VERSION and the same ranges,
//! so the client retries with one it shares.

use super::dispatch::{self, Api, BoxFuture, Outcome, Request};
use super::errors;
use super::{Broker, Session};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};

pub const APIS: &[Api] = &[Api { key: ApiKey::ApiVersions, min: 0, max: 3, handle }];

fn handle<'a>(_b: &'a Broker, _s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        if let Err(o) = dispatch::decode::<ApiVersionsRequest>(&r) {
            return o;
        }
        dispatch::reply(&response(errors::NONE), r.version)
    })
}

/// The answer to an ApiVersions request of a version depot does not speak.
pub fn unsupported() -> Outcome {
    dispatch::reply(&response(errors::UNSUPPORTED_VERSION), 0)
}

/// depot's version ranges, by key.
pub fn response(error_code: i16) -> ApiVersionsResponse {
    let mut keys: Vec<ApiVersion> = dispatch::apis()
        .map(|a| ApiVersion::default().with_api_key(a.key as i16).with_min_version(a.min).with_max_version(a.max))
        .collect();
    keys.sort_by_key(|k| k.api_key);
    ApiVersionsResponse::default().with_error_code(error_code).with_api_keys(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::protocol::Decodable;

    #[test]
    fn the_ranges_encode_in_every_version_and_kip_848_is_not_advertised() {
        for v in 0..=3 {
            let Outcome::Reply { buf, header_version } = dispatch::reply(&response(0), v) else { panic!("v{v}") };
            assert_eq!(header_version, 0);
            let back =
                ApiVersionsResponse::decode(&mut buf.freeze().split_off(super::super::frame::HEADER_ROOM), v).unwrap();
            assert_eq!(back.api_keys.len(), dispatch::apis().count());
            assert!(back.api_keys.iter().all(|k| k.api_key != ApiKey::ConsumerGroupHeartbeat as i16));
        }
    }
}
