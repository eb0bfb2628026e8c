//! moto as an SNS server, and an HTTP listener that receives what it delivers. The same
//! server answers AWS Data Pipeline's API too (moto's partial mock), the source of the
//! `sluice import` tests.
//!
//! moto is installed once from PyPI into a venv at `<tools>/moto-venv` (`moto[sns,sqs]`,
//! `flask`, `flask-cors`) and started per test on a free loopback port. A test creates a topic,
//! subscribes a [`NotificationListener`] to it over HTTP, and moto POSTs each published
//! message there straight away as `{"Type":"Notification","Subject":…,"Message":…}`. Topics
//! and subscriptions are made through SNS's query API directly, so this crate needs no AWS SDK.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::tools::{self, STARTUP_TIMEOUT, ServerProcess};

/// How often a start is retried on a new port when another process took the free port first.
const START_ATTEMPTS: u32 = 3;

/// The `moto_server` executable, installing moto first if needed.
pub fn install() -> io::Result<PathBuf> {
    let venv = tools::tools_dir().join("moto-venv");
    let bin = venv.join("bin/moto_server");
    tools::install_once("moto", &bin, || {
        tools::run_logged(
            "moto-venv",
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
        )?;
        tools::run_logged(
            "moto-install",
            Command::new(venv.join("bin/pip")).args([
                "install",
                "--quiet",
                "moto[sns,sqs]",
                "flask",
                "flask-cors",
            ]),
        )
    })
}

/// A running moto server, stopped on drop.
#[derive(Debug)]
pub struct Moto {
    port: u16,
    _process: ServerProcess,
    _scratch: tempfile::TempDir,
}

impl Moto {
    /// Installs (once) and starts a fresh server.
    pub fn start() -> io::Result<Moto> {
        let bin = install()?;
        let scratch = tempfile::Builder::new().prefix("moto-").tempdir()?;
        let mut last_error = None;
        for attempt in 0..START_ATTEMPTS {
            let port = tools::free_port();
            let log = scratch.path().join(format!("moto-{attempt}.log"));
            let mut process = ServerProcess::spawn(
                "moto",
                Command::new(&bin)
                    .args(["-H", "127.0.0.1", "-p"])
                    .arg(port.to_string()),
                &log,
            )?;
            match process.wait_for_port(port, STARTUP_TIMEOUT) {
                Ok(()) => {
                    return Ok(Moto {
                        port,
                        _process: process,
                        _scratch: scratch,
                    });
                }
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("moto did not start")))
    }

    /// The endpoint URL clients use.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates topic `name` and returns its ARN.
    pub fn create_topic(&self, name: &str) -> io::Result<String> {
        let body = self.query(&[("Action", "CreateTopic"), ("Name", name)])?;
        xml_value(&body, "TopicArn").ok_or_else(|| {
            io::Error::other(format!("CreateTopic answered without TopicArn: {body}"))
        })
    }

    /// Subscribes `endpoint` (an `http://` URL) to the topic.
    pub fn subscribe_http(&self, topic_arn: &str, endpoint: &str) -> io::Result<()> {
        self.query(&[
            ("Action", "Subscribe"),
            ("TopicArn", topic_arn),
            ("Protocol", "http"),
            ("Endpoint", endpoint),
        ])
        .map(drop)
    }

    /// One SNS query-API call; returns the response body, or an error with it on a non-200.
    fn query(&self, params: &[(&str, &str)]) -> io::Result<String> {
        let mut form = String::from("Version=2010-03-31");
        for (k, v) in params {
            form.push('&');
            form.push_str(k);
            form.push('=');
            form.push_str(&form_encode(v));
        }
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        // moto reads the region from the credential scope; the signature itself is not checked.
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request, \
             SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
            self.port,
            form.len(),
            form
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
            return Err(io::Error::other(format!("moto answered {head}\n{body}")));
        }
        Ok(body.to_owned())
    }
}

fn form_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn xml_value(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim().to_owned())
}

/// An HTTP endpoint on a free loopback port that answers 200 to every POST and hands the
/// bodies to the test.
#[derive(Debug)]
pub struct NotificationListener {
    port: u16,
    bodies: mpsc::Receiver<String>,
}

impl NotificationListener {
    pub fn start() -> io::Result<NotificationListener> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        let (tx, bodies) = mpsc::channel();
        // The thread ends when the test drops the receiver and the next delivery fails to send.
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                match read_request(stream) {
                    Ok(body) => {
                        if tx.send(body).is_err() {
                            return;
                        }
                    }
                    Err(err) => eprintln!("notification listener: {err}"),
                }
            }
        });
        Ok(NotificationListener { port, bodies })
    }

    /// The URL to subscribe.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/notify", self.port)
    }

    /// The next delivered body, or `None` if nothing arrives within `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<String> {
        self.bodies.recv_timeout(timeout).ok()
    }
}

fn read_request(stream: TcpStream) -> io::Result<String> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut stream = reader.into_inner();
    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_and_xml_answers_are_handled() {
        assert_eq!(form_encode("http://a b/"), "http%3A%2F%2Fa%20b%2F");
        assert_eq!(
            xml_value("<R><TopicArn> arn:x </TopicArn></R>", "TopicArn").as_deref(),
            Some("arn:x")
        );
        assert_eq!(xml_value("<R/>", "TopicArn"), None);
    }
}
