//! The web console of `sluice server`: server-rendered pages under `/console/` that answer
//! "what ran, what failed, why, and what do I do now", served by the server itself.
//!
//! * It calls [`sluice_runtime::Service`] directly, with the signed-in account's
//!   [`Principal`]: every action it offers is one of the service's operations
//!   ([`actions`]), authorised and scoped to the account exactly as over the API, logged and
//!   counted in `GET /metrics` under the operation's name as the API's calls are; a call about
//!   a pipeline another server of the deployment owns goes to that server ([`Relay`]).
//! * Sign-in takes an access key id and secret of the server's accounts, the keys the CLI
//!   signs with ([`KeyCheck`]); a server-side session follows ([`session`]), with a CSRF token
//!   on every form.
//! * Pages are plain HTML with escaping ([`html`]), one stylesheet and one small script
//!   embedded in the binary (`assets/`); graphs are SVG drawn on the server. Nothing to build
//!   with a JavaScript toolchain.
//! * Large pipelines stay fast because the run grid reads a window of instances from the
//!   store's indexes ([`data`]), never the whole pipeline.
//! * Pages that change while watched carry an event stream ([`live`]) that tells the page to
//!   reload its live part in place.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use sluice_runtime::Service;
use sluice_runtime::accounts::Principal;

mod actions;
mod assets;
mod auth;
mod data;
mod html;
mod live;
mod logs;
mod pages;
mod session;

pub use actions::{NoRelay, Relay};
pub use html::BASE;

/// Checks an access key id and its secret, as typed into the sign-in form.
pub trait KeyCheck: Send + Sync + 'static {
    /// The key's principal when `secret` is its secret (compared in constant time); `None`
    /// for an unknown key or a wrong secret alike.
    fn check(&self, access_key_id: &str, secret: &str) -> Option<Principal>;
}

/// How the console runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleOptions {
    /// A session unused for this long is signed out.
    pub idle_timeout: Duration,
    /// Mark the session cookie `Secure` (the server listens with TLS).
    pub secure_cookie: bool,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        ConsoleOptions {
            idle_timeout: Duration::from_secs(30 * 60),
            secure_cookie: false,
        }
    }
}

/// Largest form accepted: a definition file is uploaded as a form field.
const FORM_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub(crate) struct Console {
    pub(crate) service: Arc<Service>,
    pub(crate) keys: Arc<dyn KeyCheck>,
    pub(crate) relay: Arc<dyn Relay>,
    pub(crate) sessions: Arc<session::Sessions>,
    pub(crate) snapshots: Arc<data::Snapshots>,
    pub(crate) options: ConsoleOptions,
}

/// The console's routes, every one under [`BASE`], to merge into the server's router. Calls
/// about pipelines another server owns go to it through `relay`.
pub fn router(
    service: Arc<Service>,
    keys: Arc<dyn KeyCheck>,
    relay: Arc<dyn Relay>,
    options: ConsoleOptions,
) -> Router {
    let state = Console {
        service,
        keys,
        relay,
        sessions: Arc::new(session::Sessions::new(options.idle_timeout)),
        snapshots: Arc::default(),
        options,
    };
    let p = |rest: &str| format!("{BASE}/pipelines/{{id}}{rest}");
    Router::new()
        .route(BASE, get(pages::pipelines::list))
        .route(&format!("{BASE}/"), get(pages::pipelines::list))
        .route(&format!("{BASE}/assets/{{name}}"), get(assets::serve))
        .route(
            &format!("{BASE}/signin"),
            get(auth::signin_page).post(auth::signin),
        )
        .route(&format!("{BASE}/signout"), post(auth::signout))
        .route(&format!("{BASE}/pipelines"), post(pages::pipelines::create))
        .route(&p(""), get(pages::graph::page))
        .route(&p("/delete"), post(pages::pipelines::delete))
        .route(&p("/runs"), get(pages::grid::page))
        .route(&p("/status"), post(pages::grid::set_status))
        .route(
            &p("/definition"),
            get(pages::versions::page).post(pages::versions::upload),
        )
        .route(&p("/activate"), post(pages::versions::activate))
        .route(&p("/deactivate"), post(pages::versions::deactivate))
        .route(&p("/ahead"), get(pages::ahead::page))
        .route(&p("/events"), get(live::pipeline_events))
        .route(&p("/objects/{object}"), get(pages::object::page))
        .route(&p("/instances/{instance}"), get(pages::instance::page))
        .route(
            &p("/attempts/{attempt}/logs/{log}"),
            get(pages::instance::log_text),
        )
        .route(&p("/attempts/{attempt}/tail/{log}"), get(live::tail_log))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .with_state(state)
}
