//! Signing in and out, the signed-in caller of every other page ([`Signed`]), and the CSRF
//! check of every form ([`Signed::form`]).

use axum::extract::{Form, FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sluice_runtime::accounts::Principal;

use crate::Console;
use crate::html::{
    BASE, Viewer, csrf_field, document, enc, error_page, esc, html_response, see_other,
};
use crate::session::{self, Session};

/// The signed-in caller of a request, from its session cookie. Without a live session a page
/// request is sent to the sign-in page (coming back afterwards), and anything else refused.
pub(crate) struct Signed {
    pub(crate) session: Session,
    id: String,
}

impl Signed {
    pub(crate) fn session_id(&self) -> &str {
        &self.id
    }

    pub(crate) fn principal(&self) -> &Principal {
        &self.session.principal
    }

    pub(crate) fn viewer(&self) -> Viewer<'_> {
        Viewer {
            access_key_id: &self.session.principal.access_key_id,
            account_id: &self.session.principal.account_id,
            csrf: &self.session.csrf,
        }
    }

    /// A submitted form, once its CSRF token is the session's; otherwise the refusal to send.
    fn form(&self, fields: Vec<(String, String)>) -> Result<Fields, Box<Response>> {
        let fields = Fields(fields);
        if session::csrf_matches(&self.session, fields.get("csrf")) {
            Ok(fields)
        } else {
            let reason = if fields.get("csrf").is_none() {
                "The form carried no CSRF token, so it was refused: reload the page and submit it again."
            } else {
                "The form's CSRF token is not this session's, so it was refused: reload the page and submit it again."
            };
            tracing::warn!(
                account = %self.session.principal.account_id,
                "console form refused: CSRF token missing or wrong"
            );
            Err(Box::new(error_page(
                StatusCode::FORBIDDEN,
                Some(&self.viewer()),
                reason,
            )))
        }
    }

    /// An error page for this caller.
    pub(crate) fn error(&self, status: StatusCode, message: &str) -> Response {
        error_page(status, Some(&self.viewer()), message)
    }
}

/// A submitted form's fields, repeated names kept in order.
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A field's value with surrounding blanks removed; `None` when missing or blank.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl FromRequestParts<Console> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Console) -> Result<Self, Response> {
        if let Some(id) = session::cookie_value(&parts.headers)
            && let Some(session) = state.sessions.touch(&id)
        {
            return Ok(Signed { session, id });
        }
        let path = parts.uri.path();
        let page =
            !(path.ends_with("/events") || path.contains("/tail/") || path.contains("/logs/"));
        if parts.method == Method::GET && page {
            let here = parts
                .uri
                .path_and_query()
                .map_or(BASE.to_owned(), |pq| pq.as_str().to_owned());
            return Err(see_other(&format!("{BASE}/signin?next={}", enc(&here))));
        }
        Err(error_page(
            StatusCode::UNAUTHORIZED,
            None,
            "You are not signed in, or your session ended: sign in again.",
        ))
    }
}

/// A form submitted by the signed-in caller with the session's CSRF token: what every action
/// takes, so none can be reached without the token.
pub(crate) struct Submitted {
    pub(crate) signed: Signed,
    pub(crate) form: Fields,
}

impl FromRequest<Console> for Submitted {
    type Rejection = Response;

    async fn from_request(request: Request, state: &Console) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let Form(fields) =
            Form::<Vec<(String, String)>>::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(IntoResponse::into_response)?;
        let form = signed.form(fields).map_err(|refused| *refused)?;
        Ok(Submitted { signed, form })
    }
}

#[derive(Deserialize)]
pub(crate) struct SigninQuery {
    next: Option<String>,
}

/// Where to go after signing in: only a path of the console itself.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next) if next.starts_with(BASE) && !next.starts_with("//") && !next.contains("\\") => {
            next.to_owned()
        }
        _ => format!("{BASE}/"),
    }
}

/// The sign-in form with its own CSRF token (`token`), which the browser also holds in the
/// sign-in cookie; the `Set-Cookie` value goes with the page.
fn signin_form(
    state: &Console,
    next: &str,
    access_key_id: &str,
    error: Option<&str>,
    token: &str,
) -> Response {
    let error = error.map_or(String::new(), |e| {
        format!(
            "<p class=\"error\" role=\"alert\" id=\"signin-error\">{}</p>",
            esc(e)
        )
    });
    let body = format!(
        "<section class=\"signin\"><h1>Sign in</h1>\
         <p>Use an access key of this server's accounts: the same key id and secret the AWS CLI \
         and SDKs sign with.</p>{error}\
         <form method=\"post\" action=\"{BASE}/signin\">{csrf}\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\
         <label>Access key id <input name=\"access_key_id\" id=\"access_key_id\" value=\"{}\" \
         autocomplete=\"username\" required autofocus></label>\
         <label>Secret access key <input type=\"password\" name=\"secret\" id=\"secret\" \
         autocomplete=\"current-password\" required></label>\
         <button type=\"submit\" id=\"signin\">Sign in</button></form></section>",
        esc(next),
        esc(access_key_id),
        csrf = csrf_field(token),
    );
    let mut response = document("Sign in", None, None, &body);
    let cookie = session::signin_cookie(token, state.options.secure_cookie);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

pub(crate) async fn signin_page(
    State(state): State<Console>,
    Query(query): Query<SigninQuery>,
) -> Response {
    let token = session::random_token();
    signin_form(&state, &safe_next(query.next.as_deref()), "", None, &token)
}

#[derive(Deserialize)]
pub(crate) struct SigninForm {
    access_key_id: String,
    secret: String,
    next: Option<String>,
    csrf: Option<String>,
}

/// Signs in, once the form's CSRF token is the one its sign-in page set in the sign-in
/// cookie: a page of another site cannot read that cookie, so it cannot sign a browser in to
/// an account of its choosing (login CSRF), which the session cookie's SameSite alone does not
/// stop.
pub(crate) async fn signin(
    State(state): State<Console>,
    headers: HeaderMap,
    Form(form): Form<SigninForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let key_id = form.access_key_id.trim();
    let Some(token) = session::signin_token(&headers, form.csrf.as_deref()) else {
        tracing::warn!("console sign-in refused: CSRF token missing or wrong");
        let mut response = signin_form(
            &state,
            &next,
            key_id,
            Some(
                "The sign-in form carried no CSRF token, or not the one this browser was given: \
                 sign in again from this page.",
            ),
            &session::random_token(),
        );
        *response.status_mut() = StatusCode::FORBIDDEN;
        return response;
    };
    let Some(principal) = state.keys.check(key_id, &form.secret) else {
        // Logged without the secret, and the same answer for an unknown key as for a wrong
        // secret, so the form tells nothing about which keys exist.
        tracing::info!(access_key_id = %key_id, "console sign-in refused");
        let mut response = signin_form(
            &state,
            &next,
            key_id,
            Some("The access key id or the secret is wrong."),
            &token,
        );
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return response;
    };
    tracing::info!(
        access_key_id = %principal.access_key_id,
        account = %principal.account_id,
        "console sign-in"
    );
    let id = state.sessions.create(principal);
    let mut response = see_other(&next);
    let secure = state.options.secure_cookie;
    for cookie in [
        session::set_cookie(&id, secure),
        session::clear_signin_cookie(secure),
    ] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

pub(crate) async fn signout(
    State(state): State<Console>,
    Submitted { signed, .. }: Submitted,
) -> Response {
    // The session the cookie names is the one checked above.
    let mut response = see_other(&format!("{BASE}/signin"));
    if let Ok(value) = HeaderValue::from_str(&session::clear_cookie(state.options.secure_cookie)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    state.sessions.remove(signed.session_id());
    tracing::info!(account = %signed.principal().account_id, "console sign-out");
    response
}

/// A plain-text refusal for requests that are not pages (event streams, log files).
pub(crate) fn text_error(status: StatusCode, message: &str) -> Response {
    let mut response = html_response(status, esc(message).to_string());
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
