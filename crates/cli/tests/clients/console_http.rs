//! The web console over plain HTTP, for tests that read its pages without a browser: a session
//! signed in through the sign-in form (the form's CSRF token and the cookie holding it, then
//! the session cookie), and the pages and logs it reads.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use sluice_testsupport::poll::wait_for;

use crate::harness::{RawResponse, raw_request};

/// How long a page may take to say what a test waits for.
const DEADLINE: Duration = Duration::from_secs(60);

/// A signed-in console session.
#[derive(Clone)]
pub(crate) struct Console {
    addr: SocketAddr,
    cookie: String,
}

impl Console {
    /// Signs in through the form with `key` and `secret`: the page first (with the sign-in
    /// cookie and the CSRF token it carries), then the form.
    pub(crate) fn sign_in(addr: SocketAddr, key: &str, secret: &str) -> Console {
        let page = raw_request(addr, "GET", "/console/signin", &[host(addr)], b"");
        assert_eq!(page.status, 200, "{page:?}");
        let signin_cookie = cookie(&page, "sluice_console_signin")
            .unwrap_or_else(|| panic!("no sign-in cookie: {page:?}"));
        let csrf = hidden_input(&page.body, "csrf")
            .unwrap_or_else(|| panic!("no CSRF token on the sign-in form: {page:?}"));
        let signed = post(
            addr,
            "/console/signin",
            &signin_cookie,
            &[
                ("csrf", &csrf),
                ("access_key_id", key),
                ("secret", secret),
                ("next", "/console/"),
            ],
        );
        assert_eq!(signed.status, 303, "{signed:?}");
        let cookie = cookie(&signed, "sluice_console")
            .unwrap_or_else(|| panic!("no session cookie: {signed:?}"));
        Console { addr, cookie }
    }

    pub(crate) fn get(&self, path: &str) -> RawResponse {
        let headers = [host(self.addr), ("cookie".into(), self.cookie.clone())];
        raw_request(self.addr, "GET", path, &headers, b"")
    }

    /// Submits a form of the console's (the session's CSRF token is one of `fields`).
    pub(crate) fn post(&self, path: &str, fields: &[(&str, &str)]) -> RawResponse {
        post(self.addr, path, &self.cookie, fields)
    }

    /// The session's CSRF token, from the first form of the page at `path`.
    pub(crate) fn csrf(&self, path: &str) -> String {
        let page = self.get(path);
        assert_eq!(page.status, 200, "{page:?}");
        hidden_input(&page.body, "csrf").unwrap_or_else(|| panic!("no CSRF token on {path}"))
    }

    /// The instance page's HTML.
    pub(crate) fn instance_page(&self, pipeline: &str, instance: &str) -> String {
        let page = self.get(&format!(
            "/console/pipelines/{pipeline}/instances/{}",
            encode(instance)
        ));
        assert_eq!(page.status, 200, "{page:?}");
        page.body
    }

    /// One log of an attempt as the console sends it: status and text.
    pub(crate) fn log(&self, pipeline: &str, attempt: &str, log: &str) -> (u16, String) {
        let answer = self.get(&format!(
            "/console/pipelines/{pipeline}/attempts/{}/logs/{log}",
            encode(attempt)
        ));
        (answer.status, answer.body)
    }

    /// Waits until the instance page says every one of `needles`; the page.
    #[track_caller]
    pub(crate) fn wait_page(&self, pipeline: &str, instance: &str, needles: &[&str]) -> String {
        wait_for(
            &format!("the instance page to say {needles:?}"),
            DEADLINE,
            || {
                let page = self.instance_page(pipeline, instance);
                match needles.iter().find(|n| !page.contains(**n)) {
                    None => Ok(page),
                    Some(missing) => Err(format!("no {missing:?} in {page}")),
                }
            },
        )
    }
}

/// `POST path` of a form with `cookie`.
fn post(addr: SocketAddr, path: &str, cookie: &str, fields: &[(&str, &str)]) -> RawResponse {
    let body = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let headers = [
        host(addr),
        (
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        ),
        ("cookie".into(), cookie.to_owned()),
    ];
    raw_request(addr, "POST", path, &headers, body.as_bytes())
}

fn host(addr: SocketAddr) -> (String, String) {
    ("host".into(), addr.to_string())
}

/// `name=value` of the `Set-Cookie` header setting cookie `name`.
fn cookie(response: &RawResponse, name: &str) -> Option<String> {
    response
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.split(';').next())
        .find(|pair| pair.split_once('=').is_some_and(|(n, _)| n.trim() == name))
        .map(str::to_owned)
}

/// The value of the hidden input `name` of a form.
fn hidden_input(html: &str, name: &str) -> Option<String> {
    html.split("<input")
        .skip(1)
        .map(|rest| &rest[..rest.find('>').unwrap_or(rest.len())])
        .find(|tag| tag.contains(&format!("name=\"{name}\"")))
        .and_then(|tag| tag.split("value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
}

/// Percent-encoding for form values and path segments.
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
