//! A real `sluice server` against clients that mean it harm: sixteen unauthenticated
//! connections announcing (and sending) 32 MiB bodies must not grow the server past 100 MB
//! resident (it once reached 532 MB), and connections that never finish their headers must be
//! closed by the server rather than held. Too many or too large headers get the API's JSON
//! error.

#[path = "clients/harness.rs"]
mod harness;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use harness::{Server, ServerConfig};

const CONNECTIONS: usize = 16;
const ANNOUNCED: usize = 32 * 1024 * 1024;

/// The server's peak resident memory so far (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmHWM in kB");
    kib * 1024
}

/// A server whose clients get `header_timeout_seconds` to send their headers; the directory
/// holds its settings file.
fn server(header_timeout_seconds: u64) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings.json");
    std::fs::write(
        &settings,
        format!(r#"{{"headerTimeoutSeconds": {header_timeout_seconds}}}"#),
    )
    .unwrap();
    let server = Server::start_with(ServerConfig {
        args: vec!["--settings".into(), settings.display().to_string()],
        ..ServerConfig::default()
    });
    (server, dir)
}

/// Sends the headers of an unsigned ListPipelines announcing a 32 MiB body, then as much of
/// the body as the server takes; returns what the server answered, if anything.
fn flood(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: DataPipeline.ListPipelines\r\nContent-Length: {ANNOUNCED}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("send the headers");
    let chunk = vec![b' '; 1024 * 1024];
    for _ in 0..ANNOUNCED / chunk.len() {
        // The server answers and closes without reading: writing then fails, as it should.
        if stream.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn unauthenticated_bodies_are_not_buffered() {
    let (server, _settings) = server(30);
    let pid = server.pid();
    let before = peak_rss(pid);
    let answers: Vec<String> = std::thread::scope(|scope| {
        let floods: Vec<_> = (0..CONNECTIONS)
            .map(|_| scope.spawn(|| flood(server.addr)))
            .collect();
        floods.into_iter().map(|f| f.join().unwrap()).collect()
    });
    for answer in &answers {
        assert!(
            answer.starts_with("HTTP/1.1 400")
                && answer.contains("MissingAuthenticationTokenException"),
            "an unsigned request is refused: {answer:?}"
        );
    }
    let peak = peak_rss(pid);
    eprintln!(
        "peak RSS {} MB after the attack ({} MB before)",
        peak / (1024 * 1024),
        before / (1024 * 1024)
    );
    assert!(
        peak < 100 * 1024 * 1024,
        "peak RSS {} MB (before the attack: {} MB)",
        peak / (1024 * 1024),
        before / (1024 * 1024)
    );
}

#[test]
fn connections_that_never_finish_their_headers_are_closed() {
    let timeout = 2;
    let (server, _settings) = server(timeout);
    let started = Instant::now();
    let closed: Vec<Duration> = std::thread::scope(|scope| {
        let holders: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                scope.spawn(|| {
                    let mut stream = TcpStream::connect(server.addr).expect("connect");
                    stream
                        .write_all(b"POST / HTTP/1.1\r\nHost: sluice\r\nX-Amz-Tar")
                        .unwrap();
                    // Long enough to fail the test if the server holds on; the read returns
                    // once the server closes the connection.
                    stream
                        .set_read_timeout(Some(Duration::from_secs(30)))
                        .unwrap();
                    let mut rest = Vec::new();
                    let ended = stream.read_to_end(&mut rest);
                    assert!(
                        ended.is_ok() || started.elapsed() < Duration::from_secs(30),
                        "the connection was still open after 30 s"
                    );
                    started.elapsed()
                })
            })
            .collect();
        holders.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for elapsed in closed {
        assert!(
            elapsed >= Duration::from_secs(timeout) - Duration::from_millis(100)
                && elapsed < Duration::from_secs(20),
            "closed after {elapsed:?} (header timeout {timeout} s)"
        );
    }
    // The server still serves whoever completes a request.
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: sluice\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
}

/// Sends a request with `extra` header lines and returns the server's whole answer.
fn with_headers(addr: SocketAddr, extra: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: DataPipeline.ListPipelines\r\nContent-Length: 2\r\nConnection: close\r\n\
         {extra}\r\n{{}}"
    );
    stream.write_all(head.as_bytes()).expect("send the request");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn too_many_or_too_large_headers_get_the_apis_json_error() {
    let (server, _dir) = server(30);
    let many: String = (0..150).map(|i| format!("X-Filler-{i}: {i}\r\n")).collect();
    let large = format!("X-Filler: {}\r\n", "a".repeat(40 * 1024));
    for extra in [many, large] {
        let answer = with_headers(server.addr, &extra);
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(head.starts_with("HTTP/1.1 431"), "{head}");
        let error: serde_json::Value = serde_json::from_str(body)
            .unwrap_or_else(|e| panic!("a JSON error body ({e}): {answer}"));
        assert_eq!(error["__type"], "RequestHeaderFieldsTooLargeException");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("at most 100 headers"),
            "{error}"
        );
    }
    // Within the limits, the same request is only refused for its missing signature.
    let answer = with_headers(server.addr, "X-Filler: 1\r\n");
    assert!(
        answer.contains("x-amzn-errortype: MissingAuthenticationTokenException"),
        "{answer}"
    );
}
