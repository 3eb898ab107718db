//! SASL/PLAIN for `--token`: SaslHandshake (v1: the tokens then travel in SaslAuthenticate
//! requests) and SaslAuthenticate (v0–2). Any user name; the password is the token, compared in
//! constant time. With a token, a connection may send nothing but ApiVersions, SaslHandshake and
//! SaslAuthenticate until it has authenticated — anything else closes it, as a Kafka broker's
//! SASL listener does. A wrong password, an unsupported mechanism or a malformed PLAIN message
//! is answered with its error and then the connection is closed, as Kafka does.
//!
//! SaslHandshake v0 (raw SASL bytes after it, without Kafka framing) is not spoken: librdkafka
//! (2.0.2, Debian's kcat, and current) and the Java client use v1 when the broker advertises it,
//! and a v0 request closes the connection like any other unsupported version. Re-authentication
//! (KIP-368) is not offered: the session lifetime is 0.
//!
//! Without a token the listener speaks plain Kafka; a SASL request there gets ILLEGAL_SASL_STATE,
//! as on a Kafka PLAINTEXT listener.

use super::dispatch::{self, Api, BoxFuture, Outcome, Request};
use super::errors;
use super::{Broker, Session};
use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;

pub const APIS: &[Api] = &[
    Api { key: ApiKey::SaslHandshake, min: 1, max: 1, handle: handshake },
    Api { key: ApiKey::SaslAuthenticate, min: 0, max: 2, handle: authenticate },
];

/// The one mechanism depot offers.
pub const PLAIN: &str = "PLAIN";

/// Where a connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No token is configured: every API is open and SASL is not spoken.
    Open,
    /// A token is configured and the client has not chosen a mechanism yet.
    Start,
    /// SaslHandshake chose PLAIN: the next SaslAuthenticate carries the credentials.
    Handshaken,
    /// Authenticated as this user.
    Done(String),
}

impl Auth {
    /// A new connection's state.
    pub fn new(token: Option<&str>) -> Auth {
        if token.is_some() { Auth::Start } else { Auth::Open }
    }
}

/// Why `key` may not be served on this connection yet (its close is logged), or `None`.
pub fn refuse(s: &Session, key: ApiKey) -> Option<String> {
    if matches!(s.auth, Auth::Open | Auth::Done(_))
        || matches!(key, ApiKey::ApiVersions | ApiKey::SaslHandshake | ApiKey::SaslAuthenticate)
    {
        return None;
    }
    Some(format!(
        "{key:?} before SASL authentication (this listener has a token: connect with SASL/PLAIN, the token as the password)"
    ))
}

fn handshake<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<SaslHandshakeRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let mechanisms = vec![StrBytes::from_static_str(PLAIN)];
        let answer = |code: i16| SaslHandshakeResponse::default().with_error_code(code).with_mechanisms(mechanisms);
        let code = match (&s.auth, b.opts.token.is_some()) {
            (_, false) | (Auth::Done(_), _) => errors::ILLEGAL_SASL_STATE,
            (Auth::Handshaken, _) => {
                s.close_after = Some("a second SaslHandshake".into());
                errors::ILLEGAL_SASL_STATE
            }
            _ if &*req.mechanism == PLAIN => {
                s.auth = Auth::Handshaken;
                errors::NONE
            }
            _ => {
                s.close_after = Some(format!("SASL mechanism {:?} is not supported (only PLAIN)", &*req.mechanism));
                errors::UNSUPPORTED_SASL_MECHANISM
            }
        };
        dispatch::reply(&answer(code), r.version)
    })
}

fn authenticate<'a>(b: &'a Broker, s: &'a mut Session, r: Request) -> BoxFuture<'a, Outcome> {
    Box::pin(async move {
        let req = match dispatch::decode::<SaslAuthenticateRequest>(&r) {
            Ok(q) => q,
            Err(o) => return o,
        };
        let mut resp = SaslAuthenticateResponse::default().with_auth_bytes(Bytes::new());
        let Some(token) = b.opts.token.as_deref() else {
            resp.error_code = errors::ILLEGAL_SASL_STATE;
            resp.error_message = Some(StrBytes::from_static_str(
                "this listener has no token: connect without SASL (security.protocol=PLAINTEXT)",
            ));
            return dispatch::reply(&resp, r.version);
        };
        match &s.auth {
            Auth::Handshaken => {}
            Auth::Done(_) => {
                resp.error_code = errors::ILLEGAL_SASL_STATE;
                resp.error_message = Some(StrBytes::from_static_str(
                    "SaslAuthenticate request received after successful authentication",
                ));
                return dispatch::reply(&resp, r.version);
            }
            _ => return Outcome::Close("SaslAuthenticate before SaslHandshake".into()),
        }
        match check_plain(&req.auth_bytes, token) {
            Ok(user) => {
                tracing::info!("kafka: {} authenticated as {user:?} (SASL/PLAIN)", s.peer);
                s.auth = Auth::Done(user);
            }
            Err(why) => {
                s.close_after = Some(format!("SASL/PLAIN authentication failed: {why}"));
                resp.error_code = errors::SASL_AUTHENTICATION_FAILED;
                resp.error_message = Some(StrBytes::from_string(why));
            }
        }
        dispatch::reply(&resp, r.version)
    })
}

/// The user of a PLAIN message (RFC 4616: `[authzid] NUL authcid NUL passwd`) whose password is
/// `token`; else what is wrong, in words that do not say whether the user exists (any user does).
pub fn check_plain(message: &[u8], token: &str) -> Result<String, String> {
    let parts: Vec<&[u8]> = message.split(|&b| b == 0).collect();
    let [authzid, user, password] = parts[..] else {
        return Err(format!("Invalid SASL/PLAIN response: expected 3 tokens, got {}", parts.len().min(4)));
    };
    let user = std::str::from_utf8(user).map_err(|_| "Authentication failed: the username is not UTF-8".to_string())?;
    if user.is_empty() {
        return Err("Authentication failed: username not specified".into());
    }
    if password.is_empty() {
        return Err("Authentication failed: password not specified".into());
    }
    if !crate::server::guard::constant_time_eq(password, token.as_bytes()) {
        return Err("Authentication failed: Invalid username or password (the password is depot's --token)".into());
    }
    if !authzid.is_empty() && authzid != user.as_bytes() {
        return Err(
            "Authentication failed: Client requested an authorization id that is different from username".into()
        );
    }
    Ok(user.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_takes_any_user_with_the_token_as_the_password() {
        assert_eq!(check_plain(b"\0depot\0s3cret", "s3cret"), Ok("depot".into()));
        assert_eq!(check_plain(b"alice\0alice\0s3cret", "s3cret"), Ok("alice".into()));
        let wrong = check_plain(b"\0depot\0s3cre", "s3cret").unwrap_err();
        assert!(wrong.contains("Invalid username or password"), "{wrong}");
        assert!(check_plain(b"\0depot\0", "s3cret").unwrap_err().contains("password not specified"));
        assert!(check_plain(b"\0\0s3cret", "s3cret").unwrap_err().contains("username not specified"));
        assert!(check_plain(b"s3cret", "s3cret").unwrap_err().contains("expected 3 tokens, got 1"));
        assert!(check_plain(b"\0a\0s3cret\0x", "s3cret").unwrap_err().contains("got 4"));
        assert!(check_plain(b"bob\0alice\0s3cret", "s3cret").unwrap_err().contains("authorization id"));
    }
}
