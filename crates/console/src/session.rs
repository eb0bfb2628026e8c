//! Server-side sessions: a random id in an HttpOnly, SameSite=Strict cookie (Secure when the
//! console is served over TLS) names a session held in memory, with the signed-in principal,
//! its CSRF token and when it was last used. A session idle for longer than the configured
//! time is gone; signing out removes it at once. Sessions do not survive a restart: signing
//! in again is the price of keeping no session state on disk.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header;
use sluice_runtime::accounts::Principal;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "sluice_console";

/// The cookie holding the sign-in form's CSRF token until the browser signs in.
pub(crate) const SIGNIN_COOKIE: &str = "sluice_console_signin";

/// Most sessions held at once; signing in past it drops the least recently used one.
const MAX_SESSIONS: usize = 10_000;

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) principal: Principal,
    pub(crate) csrf: String,
    last_used: Instant,
}

pub(crate) struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
    idle: Duration,
}

/// 32 random bytes as hex.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    hex::encode(bytes)
}

impl Sessions {
    pub(crate) fn new(idle: Duration) -> Self {
        Sessions {
            by_id: Mutex::new(HashMap::new()),
            idle,
        }
    }

    /// A new session for `principal`: its id (for the cookie).
    pub(crate) fn create(&self, principal: Principal) -> String {
        let id = random_token();
        let now = Instant::now();
        let mut sessions = self.by_id.lock().expect("sessions lock");
        sessions.retain(|_, s| now.duration_since(s.last_used) < self.idle);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(id, _)| id.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            id.clone(),
            Session {
                principal,
                csrf: random_token(),
                last_used: now,
            },
        );
        id
    }

    /// The live session `id` names, marked used now; an idle one is removed instead.
    pub(crate) fn touch(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut sessions = self.by_id.lock().expect("sessions lock");
        let session = sessions.get_mut(id)?;
        if now.duration_since(session.last_used) >= self.idle {
            sessions.remove(id);
            return None;
        }
        session.last_used = now;
        Some(session.clone())
    }

    /// Whether `id` names a live session, without counting this as a use (an open page's
    /// event stream must not keep its session from expiring).
    pub(crate) fn alive(&self, id: &str) -> bool {
        let sessions = self.by_id.lock().expect("sessions lock");
        sessions
            .get(id)
            .is_some_and(|s| s.last_used.elapsed() < self.idle)
    }

    pub(crate) fn remove(&self, id: &str) {
        self.by_id.lock().expect("sessions lock").remove(id);
    }
}

/// The session id the request's cookie carries.
pub(crate) fn cookie_value(headers: &HeaderMap) -> Option<String> {
    named_cookie(headers, COOKIE)
}

fn named_cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_owned())
}

/// The sign-in form's token when the form sent the one its page put in the sign-in cookie
/// (compared in constant time); `None` when either is missing or they differ.
pub(crate) fn signin_token(headers: &HeaderMap, sent: Option<&str>) -> Option<String> {
    let held = named_cookie(headers, SIGNIN_COOKIE).filter(|t| !t.is_empty())?;
    let sent = sent?;
    bool::from(sent.as_bytes().ct_eq(held.as_bytes())).then_some(held)
}

/// The `Set-Cookie` value holding a sign-in form's token, sent only back to the sign-in form.
pub(crate) fn signin_cookie(token: &str, secure: bool) -> String {
    cookie(SIGNIN_COOKIE, token, "/console/signin", false, secure)
}

/// The `Set-Cookie` value that removes the sign-in cookie once signed in.
pub(crate) fn clear_signin_cookie(secure: bool) -> String {
    cookie(SIGNIN_COOKIE, "", "/console/signin", true, secure)
}

/// The `Set-Cookie` value of a new session.
pub(crate) fn set_cookie(id: &str, secure: bool) -> String {
    cookie(COOKIE, id, "/console", false, secure)
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn clear_cookie(secure: bool) -> String {
    cookie(COOKIE, "", "/console", true, secure)
}

/// A console cookie: HttpOnly and SameSite=Strict always, `Secure` over TLS; `clear` expires
/// it at once.
fn cookie(name: &str, value: &str, path: &str, clear: bool, secure: bool) -> String {
    let max_age = if clear { "; Max-Age=0" } else { "" };
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict{max_age}{secure}")
}

/// Whether a form's CSRF token is the session's (in constant time).
pub(crate) fn csrf_matches(session: &Session, sent: Option<&str>) -> bool {
    sent.is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(session.csrf.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            access_key_id: "AKIA".into(),
            account_id: "111111111111".into(),
        }
    }

    #[test]
    fn sessions_expire_when_idle_and_on_sign_out() {
        // With no idle time allowed, a session is idle as soon as it exists.
        let sessions = Sessions::new(Duration::ZERO);
        let id = sessions.create(principal());
        assert!(sessions.touch(&id).is_none(), "idle session still valid");
        let sessions = Sessions::new(Duration::from_secs(60));
        let id = sessions.create(principal());
        assert!(sessions.touch(&id).is_some());
        sessions.remove(&id);
        assert!(sessions.touch(&id).is_none());
    }

    #[test]
    fn csrf_tokens_must_match() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let session = sessions.touch(&sessions.create(principal())).unwrap();
        assert!(csrf_matches(&session, Some(&session.csrf.clone())));
        assert!(!csrf_matches(&session, Some("nope")));
        assert!(!csrf_matches(&session, None));
    }

    #[test]
    fn the_sign_in_token_must_be_the_cookies() {
        let mut headers = HeaderMap::new();
        assert_eq!(signin_token(&headers, Some("abc")), None);
        headers.insert(
            header::COOKIE,
            "sluice_console_signin=abc; other=1".parse().unwrap(),
        );
        assert_eq!(signin_token(&headers, Some("abc")).as_deref(), Some("abc"));
        assert_eq!(signin_token(&headers, Some("abd")), None);
        assert_eq!(signin_token(&headers, None), None);
        assert!(signin_cookie("t", false).contains("Path=/console/signin; HttpOnly"));
    }

    #[test]
    fn the_cookie_is_read_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; sluice_console=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie_value(&headers).as_deref(), Some("abc"));
        assert!(set_cookie("x", true).contains("HttpOnly; SameSite=Strict; Secure"));
        assert!(!set_cookie("x", false).contains("Secure"));
    }

    #[test]
    fn cookies_are_set_and_cleared_on_their_paths() {
        assert_eq!(
            set_cookie("x", true),
            "sluice_console=x; Path=/console; HttpOnly; SameSite=Strict; Secure"
        );
        assert_eq!(
            clear_cookie(false),
            "sluice_console=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"
        );
        assert_eq!(
            signin_cookie("t", false),
            "sluice_console_signin=t; Path=/console/signin; HttpOnly; SameSite=Strict"
        );
        assert_eq!(
            clear_signin_cookie(true),
            "sluice_console_signin=; Path=/console/signin; HttpOnly; SameSite=Strict; \
             Max-Age=0; Secure"
        );
    }
}
