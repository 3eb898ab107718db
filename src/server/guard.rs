//! The guard every request passes before its handler: the token; without a token, the `Host` and
//! `Origin` (only loopback names, so a web page cannot reach the server through DNS rebinding);
//! then read-only, refused before a body is read.

use super::{AppState, call_of};
use crate::backend::BackendError;
use crate::backend::read_only::Why;
use crate::server::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Token check, then (without a token) the Host and Origin checks, then the read-only check.
pub(super) async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(token) = s.opts.token.as_deref() {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
            let msg = if given.is_some() { "wrong token" } else { "this server needs a token" };
            return ApiError(
                StatusCode::UNAUTHORIZED,
                BackendError::Unauthorized(format!("{msg}: send `Authorization: Bearer TOKEN` (depot: --token)")),
            )
            .into_response();
        }
    } else if let Err(refusal) = check_loopback_names(&req) {
        return ApiError(StatusCode::FORBIDDEN, BackendError::Refused(refusal)).into_response();
    }
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let call = route.and_then(|r| call_of(req.method(), &r));
    if s.opts.read_only && call.is_some_and(crate::backend::read_only::Call::writes) {
        return ApiError(StatusCode::FORBIDDEN, Why::Server.refusal()).into_response();
    }
    next.run(req).await
}

/// Whether `a` and `b` are equal, in a time that depends on their lengths only (the HTTP token,
/// and the Kafka listener's SASL/PLAIN password).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Without a token, a request must be addressed to a loopback name (its `Host`, and the authority
/// of an absolute request URI) and, when it names an `Origin` (browsers do), come from one.
fn check_loopback_names(req: &Request) -> Result<(), String> {
    let why = "without a token this server answers only requests addressed to localhost, 127.0.0.1 or [::1] \
               (any port), so that a web page cannot reach it through DNS rebinding; to serve other names, \
               start it with --token TOKEN (clients then send `Authorization: Bearer TOKEN`)";
    let host = req.headers().get(header::HOST).map(|h| h.to_str().unwrap_or("\u{fffd}"));
    for h in host.into_iter().chain(req.uri().authority().map(|a| a.as_str())) {
        if !is_loopback_host(h) {
            return Err(format!("Host {h:?} is not a loopback name: {why}"));
        }
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let o = origin.to_str().unwrap_or("\u{fffd}");
        let host = o.strip_prefix("http://").or_else(|| o.strip_prefix("https://"));
        if !host.is_some_and(is_loopback_host) {
            return Err(format!("Origin {o:?} is not a loopback page: {why}"));
        }
    }
    Ok(())
}

/// `localhost`, a name under `.localhost`, a 127.0.0.0/8 address or `[::1]`, with any port (or none).
pub fn is_loopback_host(host_port: &str) -> bool {
    let host = match host_port.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((h, port)) if port.is_empty() || port.strip_prefix(':').is_some_and(is_port) => h,
            _ => return false,
        },
        None => match host_port.rsplit_once(':') {
            Some((h, port)) if is_port(port) => h,
            Some(_) => return false,
            None => host_port,
        },
    };
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return !host.starts_with('.');
    }
    host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_host_names_pass() {
        for ok in [
            "localhost",
            "localhost:7878",
            "LOCALHOST:1",
            "localhost.",
            "app.localhost:80",
            "127.0.0.1",
            "127.0.0.1:7878",
            "127.1.2.3:9",
            "[::1]",
            "[::1]:7878",
        ] {
            assert!(is_loopback_host(ok), "{ok} refused");
        }
        for bad in [
            "evil.example",
            "evil.example:7878",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "localhostx",
            ".localhost",
            "10.0.0.1:7878",
            "[::2]:1",
            "[::1]x",
            "localhost:",
            "localhost:99999999",
            "",
        ] {
            assert!(!is_loopback_host(bad), "{bad} accepted");
        }
    }
}
