//! Slow, idle and many clients against the real `depot serve`: a request whose headers trickle in
//! is cut off after the header timeout, and so is a keep-alive connection left idle; SIGTERM
//! never waits on such a client (nor on a waiting pull) beyond the shutdown grace; more idle
//! connections than the open-file limit allows do not stop the server from answering.

mod common;

use common::raw::parse;
use common::serve::Served;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sends a request's first lines, then one more header line whenever the server has said nothing
/// for `every`, until the server closes the connection; how long that took and what it answered.
fn trickle(addr: std::net::SocketAddr, every: Duration, give_up: Duration) -> (Duration, String) {
    trickle_on(begin(addr), Instant::now(), every, give_up)
}

/// A connection that has sent a request's first lines.
fn begin(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").expect("send");
    s
}

/// [`trickle`] on a connection that has begun.
fn trickle_on(mut s: TcpStream, start: Instant, every: Duration, give_up: Duration) -> (Duration, String) {
    s.set_read_timeout(Some(every)).expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        assert!(start.elapsed() < give_up, "still connected after {:?}", start.elapsed());
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if s.write_all(b"X-Slow: 1\r\n").is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    (start.elapsed(), String::from_utf8_lossy(&got).into_owned())
}

#[test]
fn trickled_headers_and_idle_connections_are_cut_off_after_the_header_timeout() {
    let server = Served::start(&["--header-timeout-ms", "5000"], None);
    let (took, answer) = trickle(server.addr, Duration::from_secs(2), Duration::from_secs(20));
    assert!(took >= Duration::from_millis(4900) && took < Duration::from_secs(8), "cut off after {took:?}");
    assert!(!answer.contains("200 OK"), "the trickled request was served: {answer}");
    // A keep-alive connection after its answer: closed once idle for the timeout.
    let mut s = TcpStream::connect(server.addr).expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").expect("send");
    s.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).expect("the answer");
    assert_eq!(parse(&String::from_utf8_lossy(&buf[..n])).0, 200);
    let idle = Instant::now();
    assert_eq!(s.read(&mut buf).map_err(|e| e.kind()), Ok(0), "the idle connection is closed");
    let took = idle.elapsed();
    assert!(took >= Duration::from_millis(4900) && took < Duration::from_secs(8), "closed after {took:?}");
}

#[test]
fn sigterm_does_not_wait_on_slow_clients_or_waiting_pulls() {
    // Headers may take a minute here: only the shutdown can end the slow client in time.
    let mut server = Served::start(&["--header-timeout-ms", "60000", "--shutdown-grace-ms", "3000"], None);
    let addr = server.addr;
    let url = server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = reqwest::Client::new();
    rt.block_on(async {
        let r = c.post(format!("{url}/v1/topics")).json(&serde_json::json!({"name": "t"})).send().await.unwrap();
        assert!(r.status().is_success());
    });
    let pull = rt.spawn(async move {
        let r = c
            .post(format!("{url}/v1/groups/g/pull"))
            .json(&serde_json::json!({"topic": "t", "wait_ms": 60_000}))
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    });
    let slow = begin(addr);
    let slow = std::thread::spawn(move || {
        trickle_on(slow, Instant::now(), Duration::from_millis(500), Duration::from_secs(30))
    });
    // Both are in: the slow client has begun its request, and the group has its member.
    let deadline = Instant::now() + Duration::from_secs(20);
    let dir = server.dir.path().to_path_buf();
    rt.block_on(async {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let url = format!("http://{addr}/v1/groups/g");
        loop {
            let v: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap_or_default();
            if v["members"].as_array().is_some_and(|m| !m.is_empty()) {
                break;
            }
            assert!(Instant::now() < deadline, "the pull never joined: {v} ({})", dir.display());
            tick.tick().await;
        }
    });
    let (took, status) = server.terminate();
    assert!(status.success(), "depot serve exited with {status}");
    assert!(took < Duration::from_millis(3000 + 2000), "SIGTERM took {took:?}");
    let (pull_status, text) = rt.block_on(pull).unwrap();
    assert_eq!(pull_status, reqwest::StatusCode::SERVICE_UNAVAILABLE, "{text}");
    assert!(text.contains("shutting down"), "{text}");
    let (cut, _) = slow.join().unwrap();
    assert!(cut < Duration::from_secs(30), "the slow client was left connected");
}

#[test]
fn more_idle_connections_than_open_files_do_not_stop_the_server() {
    // This process holds 1,100 sockets; the server may hold at most 1,024 files.
    depot::server::raise_open_file_limit();
    let server = Served::start(&["--header-timeout-ms", "60000"], Some(1024));
    let idle: Vec<TcpStream> = (0..1100).map(|_| TcpStream::connect(server.addr).expect("connect")).collect();
    let start = Instant::now();
    let (status, body) = common::raw::request(server.addr, "GET /healthz HTTP/1.1\r\nHost: localhost", "");
    let took = start.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(took < Duration::from_secs(5), "/healthz took {took:?} behind 1,100 idle connections");
    let fds = std::fs::read_dir(format!("/proc/{}/fd", server.pid())).unwrap().count();
    assert!(fds < 1024, "the server holds {fds} files");
    // The oldest idle connections made room: the server closed them.
    let mut first = &idle[0];
    first.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(first.read(&mut [0u8; 16]).map_err(|e| e.kind()), Ok(0), "the idlest connection was closed");
    drop(idle);
}
