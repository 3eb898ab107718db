//! Plain TCP for what an HTTP client library will not send: any `Host`, a request trickled a byte
//! at a time, a connection held open without a request.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The server's address in a harness URL (`http://127.0.0.1:PORT`).
pub fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").parse().expect("a socket address")
}

/// Sends `head` (request line and headers, without the blank line) and `body` on a new
/// connection with `Connection: close`, and returns the status and the body of the answer.
pub fn request(addr: SocketAddr, head: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let text = format!("{head}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    s.write_all(text.as_bytes()).expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read the answer");
    parse(&answer)
}

/// The status code and body of an HTTP/1.1 answer.
pub fn parse(answer: &str) -> (u16, String) {
    let status =
        answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no status: {answer:?}"));
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}
