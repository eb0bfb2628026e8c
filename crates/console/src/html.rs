//! Writing HTML: one escaping helper for text and attributes, one for URL path segments, the
//! page frame every page shares, and how a status reads (an icon and its name beside the
//! colour, so colour never carries it alone).

use std::fmt::{self, Display, Write as _};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Where the console is served.
pub const BASE: &str = "/console";

/// Text escaped for HTML element content and quoted attribute values.
pub(crate) struct Esc<'a>(pub(crate) &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

pub(crate) fn esc(text: &str) -> Esc<'_> {
    Esc(text)
}

/// A URL path segment or query value: everything but unreserved characters percent-encoded,
/// so ids holding `@`, `:`, `=` or `/` survive the round trip.
pub(crate) struct Enc<'a>(pub(crate) &'a str);

impl Display for Enc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
                f.write_char(char::from(byte))?;
            } else {
                write!(f, "%{byte:02X}")?;
            }
        }
        Ok(())
    }
}

pub(crate) fn enc(text: &str) -> Enc<'_> {
    Enc(text)
}

/// `/console/pipelines/<id>` and what lies under it.
pub(crate) fn pipeline_url(pipeline_id: &str, rest: &str) -> String {
    format!("{BASE}/pipelines/{}{rest}", enc(pipeline_id))
}

pub(crate) fn instance_url(pipeline_id: &str, instance_id: &str) -> String {
    pipeline_url(pipeline_id, &format!("/instances/{}", enc(instance_id)))
}

pub(crate) fn object_url(pipeline_id: &str, object_id: &str) -> String {
    pipeline_url(pipeline_id, &format!("/objects/{}", enc(object_id)))
}

/// The icon and CSS class of a status; the name itself is always written beside the icon.
pub(crate) fn status_icon(status: &str) -> (&'static str, &'static str) {
    match status {
        "FINISHED" | "HEALTHY" => ("\u{2714}", "ok"),
        "FAILED" | "ERROR" | "TIMEDOUT" => ("\u{2716}", "bad"),
        "CASCADE_FAILED" => ("\u{21af}", "bad"),
        "CANCELED" => ("\u{2298}", "off"),
        "RUNNING" | "CREATING" | "ACTIVATING" => ("\u{25b6}", "run"),
        "WAITING_ON_DEPENDENCIES" | "WAITING_FOR_RUNNER" => ("\u{25d4}", "wait"),
        "PAUSED" | "SHUTTING_DOWN" => ("\u{2016}", "off"),
        "SKIPPED" => ("\u{21b7}", "off"),
        "SCHEDULED" | "PENDING" | "DEACTIVATING" | "INACTIVE" => ("\u{25cb}", "idle"),
        _ => ("\u{2022}", "idle"),
    }
}

/// A status as a badge: icon, name and colour.
pub(crate) fn badge(status: &str) -> String {
    let (icon, class) = status_icon(status);
    format!(
        "<span class=\"badge s-{class}\"><span aria-hidden=\"true\">{icon}</span> {}</span>",
        esc(status)
    )
}

/// Who is signed in, for the page header and forms.
pub(crate) struct Viewer<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) account_id: &'a str,
    pub(crate) csrf: &'a str,
}

/// The hidden CSRF field every form of a signed-in page carries.
pub(crate) fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(csrf)
    )
}

/// A whole page. `live` is the event stream whose `changed` events make the page reload its
/// parts marked `data-live-part` in place, and the fingerprint the page was read at (so a
/// change between reading and listening is not missed).
pub(crate) fn document(
    title: &str,
    viewer: Option<&Viewer<'_>>,
    live: Option<(&str, u64)>,
    body: &str,
) -> Response {
    let mut html = String::with_capacity(body.len() + 2048);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} \u{2014} Sluice</title>\
         <link rel=\"stylesheet\" href=\"{BASE}/assets/console.css\">\
         <script src=\"{BASE}/assets/console.js\" defer></script></head><body>",
        esc(title)
    );
    html.push_str("<header class=\"top\"><a class=\"brand\" href=\"");
    html.push_str(BASE);
    html.push_str("/\">Sluice</a>");
    if let Some(viewer) = viewer {
        let _ = write!(
            html,
            "<nav><a href=\"{BASE}/\">Pipelines</a></nav><div class=\"who\">\
             <span title=\"access key {}\">account {}</span>\
             <form method=\"post\" action=\"{BASE}/signout\">{}\
             <button type=\"submit\">Sign out</button></form></div>",
            esc(viewer.access_key_id),
            esc(viewer.account_id),
            csrf_field(viewer.csrf)
        );
    }
    html.push_str("</header><main id=\"main\"");
    if let Some((url, seen)) = live {
        let _ = write!(html, " data-live=\"{}\" data-seen=\"{seen}\"", esc(url));
    }
    html.push('>');
    html.push_str(body);
    html.push_str("</main></body></html>");
    html_response(StatusCode::OK, html)
}

/// An HTML answer with the headers every console response carries: no caching, no framing,
/// scripts only from the console itself.
pub(crate) fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(headers);
    response
}

pub(crate) fn secure_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// A page saying what went wrong, with the status code it deserves.
pub(crate) fn error_page(
    status: StatusCode,
    viewer: Option<&Viewer<'_>>,
    message: &str,
) -> Response {
    let body = format!(
        "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p><p><a href=\"{BASE}/\">Back to the pipelines</a></p>",
        esc(status.canonical_reason().unwrap_or("Error")),
        esc(message)
    );
    let mut response = document("Error", viewer, None, &body);
    *response.status_mut() = status;
    response
}

/// A `303 See Other` to `location` (after a form was handled).
pub(crate) fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    secure_headers(response.headers_mut());
    response
}

/// A notice carried to the next page in the query string (`?notice=`), shown once.
pub(crate) fn with_notice(location: &str, notice: &str) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    format!("{location}{sep}notice={}", enc(notice))
}

/// The notice banner, if any.
pub(crate) fn notice(text: Option<&str>) -> String {
    match text {
        Some(text) if !text.is_empty() => {
            format!("<p class=\"notice\" role=\"status\">{}</p>", esc(text))
        }
        _ => String::new(),
    }
}

/// Whether a field holds a secret: AWS's leading `*`, and anything named like a password or
/// key, which the console masks even where the definition did not mark it.
pub(crate) fn is_secret_field(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    sluice_model::secret::is_secret_key(key)
        || lower.contains("password")
        || lower.contains("secret")
        || lower.ends_with("accesskey")
}

/// A field's value as shown: masked when it is a secret.
pub(crate) fn shown_value<'a>(key: &str, value: &'a str) -> &'a str {
    if is_secret_field(key) {
        sluice_model::secret::MASK
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>").to_string(),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("plain").to_string(), "plain");
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(
            enc("@A_2024-01-01T00:00:00_Attempt=1").to_string(),
            "%40A_2024-01-01T00%3A00%3A00_Attempt%3D1"
        );
        assert_eq!(enc("a/b c").to_string(), "a%2Fb%20c");
    }

    #[test]
    fn secrets_are_masked() {
        assert_eq!(shown_value("*password", "hunter2"), "****");
        assert_eq!(shown_value("password", "hunter2"), "****");
        assert_eq!(shown_value("command", "echo"), "echo");
    }
}
