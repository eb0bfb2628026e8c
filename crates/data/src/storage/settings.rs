//! How `s3://` URIs are reached: from a settings file, the AWS environment variables, or the
//! embedded default.
//!
//! Design decisions:
//! * `embedded: true` pins `s3://` to the embedded store whatever the environment holds, so the
//!   AWS credentials a local DynamoDB or SNS needs for signing do not turn `s3://` into Amazon
//!   S3. It stands alone: with any key that only an S3 server uses it is refused, since one of
//!   the two would be silently ignored.
//! * Where the endpoint and the credentials came from (settings file, which environment
//!   variable) is kept beside them ([`S3Origin`]), so that a message about an endpoint that
//!   cannot be reached can say why Sluice went there.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The Sluice environment variable that forces path-style (`true`) or virtual-hosted-style
/// (`false`) requests. AWS SDKs have no common variable for it.
pub const PATH_STYLE_ENV: &str = "SLUICE_S3_PATH_STYLE";

/// The environment variable the AWS CLI reads for a CA bundle; Sluice reads it for S3,
/// DynamoDB and SNS alike.
pub const CA_BUNDLE_ENV: &str = "AWS_CA_BUNDLE";

/// The region used when neither the settings nor the environment name one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How `s3://` URIs are reached.
///
/// Every field is optional so that a settings file can set some and leave the rest to the
/// environment ([`S3Settings::or`]). With no endpoint and no credentials at all, or with
/// `embedded`, `s3://` URIs live in the embedded object store under the data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct S3Settings {
    /// Keep `s3://` URIs in the embedded store whatever the environment says (AWS credentials
    /// meant for DynamoDB or SNS, `AWS_ENDPOINT_URL`). Refused together with any other key.
    pub embedded: bool,
    /// The S3 endpoint, e.g. `http://127.0.0.1:9000`; unset means AWS's own endpoint for the
    /// region (when credentials are set) or the embedded store (when they are not).
    pub endpoint: Option<String>,
    /// The signing region (default `us-east-1`).
    pub region: Option<String>,
    /// Path-style requests (`http://host/bucket/key`) instead of virtual-hosted-style
    /// (`http://bucket.host/key`). Defaults to true when an endpoint is set, since self-hosted
    /// servers rarely have wildcard DNS, and false for AWS.
    pub path_style: Option<bool>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
    /// Allow `http://` endpoints. Defaults to true when the endpoint itself says `http://`.
    pub allow_http: Option<bool>,
    /// A PEM file of CA certificates trusted for an `https://` endpoint besides the system's
    /// roots (else `AWS_CA_BUNDLE`), for a server whose certificate a private CA signed.
    pub ca_bundle: Option<PathBuf>,
    /// Where `endpoint` and the credentials came from: not a setting, kept for messages.
    #[serde(skip)]
    pub origin: S3Origin,
}

pub use sluice_model::Secret;

/// Where the two values that decide an S3 target came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct S3Origin {
    pub endpoint: Source,
    pub credentials: Source,
    pub ca_bundle: Source,
}

/// Where one setting came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Source {
    /// The `data.s3` object of a settings file (or settings built in code).
    #[default]
    Settings,
    /// The environment variable named.
    Env(&'static str),
}

impl Source {
    /// `data.s3.<key> in the settings file`, or `<VARIABLE> in the environment`.
    fn describe(self, key: &str) -> String {
        match self {
            Source::Settings => format!("data.s3.{key} in the settings file"),
            Source::Env(var) => format!("{var} in the environment"),
        }
    }
}

/// The keys that only mean something for an S3 server, with whether each is set.
fn server_keys(s: &S3Settings) -> [(&'static str, bool); 8] {
    [
        ("endpoint", s.endpoint.is_some()),
        ("region", s.region.is_some()),
        ("pathStyle", s.path_style.is_some()),
        ("accessKeyId", s.access_key_id.is_some()),
        ("secretAccessKey", s.secret_access_key.is_some()),
        ("sessionToken", s.session_token.is_some()),
        ("allowHttp", s.allow_http.is_some()),
        ("caBundle", s.ca_bundle.is_some()),
    ]
}

/// Where `s3://` URIs go, decided from [`S3Settings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Target {
    /// `s3://bucket/key` is the file `<dir>/bucket/key`.
    Embedded,
    /// An S3 API at `endpoint` (AWS's own when `None`).
    Remote {
        endpoint: Option<String>,
        region: String,
        path_style: bool,
    },
}

impl S3Settings {
    /// The settings the AWS SDKs would take from the process environment.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`S3Settings::from_env`] over any variable source (tests pass a map). Empty values
    /// count as unset, as they do for the AWS SDKs.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &'static str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (v, name))
        };
        let endpoint = get("AWS_ENDPOINT_URL_S3").or_else(|| get("AWS_ENDPOINT_URL"));
        let access_key_id = get("AWS_ACCESS_KEY_ID");
        let ca_bundle = get(CA_BUNDLE_ENV);
        S3Settings {
            embedded: false,
            origin: S3Origin {
                endpoint: endpoint
                    .as_ref()
                    .map_or(Source::Settings, |e| Source::Env(e.1)),
                credentials: access_key_id
                    .as_ref()
                    .map_or(Source::Settings, |k| Source::Env(k.1)),
                ca_bundle: ca_bundle
                    .as_ref()
                    .map_or(Source::Settings, |c| Source::Env(c.1)),
            },
            ca_bundle: ca_bundle.map(|c| PathBuf::from(c.0)),
            endpoint: endpoint.map(|e| e.0),
            region: get("AWS_REGION")
                .or_else(|| get("AWS_DEFAULT_REGION"))
                .map(|r| r.0),
            path_style: get(PATH_STYLE_ENV).and_then(|v| parse_bool(&v.0)),
            access_key_id: access_key_id.map(|k| k.0),
            secret_access_key: get("AWS_SECRET_ACCESS_KEY").map(|s| Secret::new(s.0)),
            session_token: get("AWS_SESSION_TOKEN").map(|t| Secret::new(t.0)),
            allow_http: None,
        }
    }

    /// These settings, with each unset field taken from `fallback`: a settings file's values
    /// win over the environment's. Pinned to the embedded store, they take nothing from it.
    pub fn or(self, fallback: S3Settings) -> S3Settings {
        if self.embedded {
            return self;
        }
        S3Settings {
            embedded: false,
            origin: S3Origin {
                endpoint: if self.endpoint.is_some() {
                    self.origin.endpoint
                } else {
                    fallback.origin.endpoint
                },
                credentials: if self.access_key_id.is_some() {
                    self.origin.credentials
                } else {
                    fallback.origin.credentials
                },
                ca_bundle: if self.ca_bundle.is_some() {
                    self.origin.ca_bundle
                } else {
                    fallback.origin.ca_bundle
                },
            },
            ca_bundle: self.ca_bundle.or(fallback.ca_bundle),
            endpoint: self.endpoint.or(fallback.endpoint),
            region: self.region.or(fallback.region),
            path_style: self.path_style.or(fallback.path_style),
            access_key_id: self.access_key_id.or(fallback.access_key_id),
            secret_access_key: self.secret_access_key.or(fallback.secret_access_key),
            session_token: self.session_token.or(fallback.session_token),
            allow_http: self.allow_http.or(fallback.allow_http),
        }
    }

    /// Refuses `embedded` beside a key that only an S3 server uses: one of the two would be
    /// ignored without a word.
    pub fn check_embedded(&self) -> Result<(), String> {
        if !self.embedded {
            return Ok(());
        }
        let set: Vec<&str> = server_keys(self)
            .into_iter()
            .filter(|(_, set)| *set)
            .map(|(key, _)| key)
            .collect();
        if set.is_empty() {
            return Ok(());
        }
        Err(format!(
            "data.s3.embedded keeps s3:// URIs in the embedded store, so data.s3.{} cannot be \
             set beside it: remove one or the other",
            set.join(", data.s3.")
        ))
    }

    /// Whether anything points away from the embedded store.
    pub fn is_remote(&self) -> bool {
        !self.embedded && (self.endpoint.is_some() || self.access_key_id.is_some())
    }

    /// The CA bundle's setting, for messages: `data.s3.caBundle in the settings file` or
    /// `AWS_CA_BUNDLE in the environment`.
    pub fn ca_bundle_origin(&self) -> String {
        self.origin.ca_bundle.describe("caBundle")
    }

    /// Where requests go and why, for messages: where the endpoint was set, or that Amazon
    /// S3's own endpoint is used because credentials are set, and by what. Names no credential.
    pub fn endpoint_origin(&self) -> String {
        if self.endpoint.is_some() {
            return format!("set by {}", self.origin.endpoint.describe("endpoint"));
        }
        format!("Amazon S3's own endpoint, used {}", self.why_amazon())
    }

    /// Why requests without an endpoint go to Amazon S3, with the way back to the embedded
    /// store when the environment's credentials (perhaps meant for another service) decided it.
    fn why_amazon(&self) -> String {
        let by = self.origin.credentials.describe("accessKeyId");
        let hint = match self.origin.credentials {
            Source::Env(_) => {
                "; to keep s3:// URIs on this machine, set \"data\": {\"s3\": {\"embedded\": \
                 true}} in a --settings file"
            }
            Source::Settings => "",
        };
        format!("because AWS credentials are set by {by}{hint}")
    }

    /// Where `s3://` URIs go with these settings.
    pub fn target(&self) -> S3Target {
        if !self.is_remote() {
            return S3Target::Embedded;
        }
        S3Target::Remote {
            endpoint: self.endpoint.clone(),
            region: self.region_or_default().to_string(),
            path_style: self.path_style.unwrap_or(self.endpoint.is_some()),
        }
    }

    pub fn region_or_default(&self) -> &str {
        self.region.as_deref().unwrap_or(DEFAULT_REGION)
    }

    /// One line saying where `s3://` URIs go, for the commands to log at start. It names no
    /// credential, not even the access key id.
    pub fn describe(&self, data_dir: &Path) -> String {
        match self.target() {
            S3Target::Embedded if self.embedded => format!(
                "s3:// URIs are files under {} (embedded object store, pinned by data.s3.embedded \
                 in the settings file)",
                embedded_root(data_dir).display()
            ),
            S3Target::Embedded => format!(
                "s3:// URIs are files under {} (embedded object store; set AWS_ENDPOINT_URL or \
                 AWS credentials to use an S3 server)",
                embedded_root(data_dir).display()
            ),
            S3Target::Remote { endpoint, .. } if !cfg!(feature = "s3") => format!(
                "s3:// URIs cannot go to {}: {}",
                endpoint.as_deref().unwrap_or("Amazon S3"),
                super::stores::s3_left_out()
            ),
            S3Target::Remote {
                endpoint,
                region,
                path_style,
            } => {
                let style = if path_style {
                    "path-style"
                } else {
                    "virtual-hosted-style"
                };
                let auth = if self.access_key_id.is_some() {
                    "signed requests"
                } else {
                    "unsigned requests (no credentials set)"
                };
                match endpoint {
                    Some(endpoint) => format!(
                        "s3:// URIs go to the S3 API at {endpoint} (region {region}, {style}, \
                         {auth}; endpoint {})",
                        self.endpoint_origin()
                    ),
                    None => format!(
                        "s3:// URIs go to Amazon S3 (region {region}, {style}, {auth}) {}",
                        self.why_amazon()
                    ),
                }
            }
        }
    }
}

/// The directory holding the embedded object store: `<data_dir>/s3`.
pub fn embedded_root(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join(super::EMBEDDED_DIR)
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn env_follows_the_aws_sdk_conventions() {
        let s = S3Settings::from_vars(vars(&[
            ("AWS_ENDPOINT_URL", "http://general:1"),
            ("AWS_ENDPOINT_URL_S3", "http://s3-specific:2"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "sekrit"),
            ("AWS_SESSION_TOKEN", ""),
            (PATH_STYLE_ENV, "false"),
        ]));
        assert_eq!(s.endpoint.as_deref(), Some("http://s3-specific:2"));
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s.path_style, Some(false));
        assert_eq!(s.access_key_id.as_deref(), Some("AKID"));
        assert_eq!(
            s.secret_access_key.as_ref().map(Secret::expose),
            Some("sekrit")
        );
        assert_eq!(s.session_token, None, "empty values count as unset");

        let s = S3Settings::from_vars(vars(&[
            ("AWS_ENDPOINT_URL", "http://general:1"),
            ("AWS_REGION", "ap-south-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
        ]));
        assert_eq!(s.endpoint.as_deref(), Some("http://general:1"));
        assert_eq!(s.region.as_deref(), Some("ap-south-1"));
    }

    #[test]
    fn the_ca_bundle_comes_from_the_file_else_aws_ca_bundle_and_says_which() {
        let env = S3Settings::from_vars(vars(&[("AWS_CA_BUNDLE", "/env/ca.pem")]));
        assert_eq!(env.ca_bundle.as_deref(), Some(Path::new("/env/ca.pem")));
        assert!(
            !env.is_remote(),
            "a CA bundle alone sends nothing to a server"
        );
        assert_eq!(env.ca_bundle_origin(), "AWS_CA_BUNDLE in the environment");
        let file: S3Settings = serde_json_like(r#"{"caBundle": "/file/ca.pem"}"#);
        let merged = file.or(env.clone());
        assert_eq!(merged.ca_bundle.as_deref(), Some(Path::new("/file/ca.pem")));
        assert_eq!(
            merged.ca_bundle_origin(),
            "data.s3.caBundle in the settings file"
        );
        let merged = S3Settings::default().or(env);
        assert_eq!(
            merged.ca_bundle_origin(),
            "AWS_CA_BUNDLE in the environment"
        );
    }

    #[test]
    fn settings_file_values_win_over_the_environment() {
        let file: S3Settings =
            serde_json_like(r#"{"endpoint": "http://file:9", "pathStyle": false}"#);
        let env = S3Settings::from_vars(vars(&[
            ("AWS_ENDPOINT_URL", "http://env:1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
        ]));
        let merged = file.or(env);
        assert_eq!(merged.endpoint.as_deref(), Some("http://file:9"));
        assert_eq!(merged.path_style, Some(false));
        assert_eq!(merged.access_key_id.as_deref(), Some("AKID"));
    }

    #[test]
    fn no_endpoint_and_no_credentials_means_the_embedded_store() {
        let s = S3Settings::default();
        assert_eq!(s.target(), S3Target::Embedded);
        let line = s.describe(Path::new("/data"));
        assert!(line.contains("/data/s3"), "{line}");

        let s = S3Settings {
            endpoint: Some("http://127.0.0.1:9000".into()),
            ..S3Settings::default()
        };
        assert_eq!(
            s.target(),
            S3Target::Remote {
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: DEFAULT_REGION.into(),
                path_style: true
            }
        );
        let s = S3Settings {
            access_key_id: Some("AKID".into()),
            ..S3Settings::default()
        };
        assert!(matches!(
            s.target(),
            S3Target::Remote {
                endpoint: None,
                path_style: false,
                ..
            }
        ));
    }

    #[test]
    fn secrets_never_show_in_debug_or_descriptions() {
        let s = S3Settings {
            endpoint: Some("http://127.0.0.1:9000".into()),
            access_key_id: Some("AKIDVISIBLE".into()),
            secret_access_key: Some(Secret::new("hunter2")),
            session_token: Some(Secret::new("tok3n")),
            ..S3Settings::default()
        };
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("tok3n"),
            "{debug}"
        );
        let line = s.describe(Path::new("/data"));
        assert!(
            !line.contains("hunter2") && !line.contains("AKIDVISIBLE"),
            "{line}"
        );
        assert!(line.contains("http://127.0.0.1:9000"), "{line}");
    }

    #[test]
    fn embedded_pins_s3_to_the_data_directory_whatever_the_environment_says() {
        let file: S3Settings = serde_json_like(r#"{"embedded": true}"#);
        file.check_embedded().unwrap();
        let env = S3Settings::from_vars(vars(&[
            ("AWS_ENDPOINT_URL", "http://env:1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "sekrit"),
        ]));
        assert!(matches!(env.target(), S3Target::Remote { .. }));
        let merged = file.or(env);
        assert_eq!(merged.target(), S3Target::Embedded);
        assert_eq!(
            merged.access_key_id, None,
            "nothing is taken from the environment"
        );
        let line = merged.describe(Path::new("/data"));
        assert!(
            line.contains("/data/s3") && line.contains("data.s3.embedded"),
            "{line}"
        );
    }

    #[test]
    fn embedded_beside_a_server_key_is_refused_naming_both() {
        for (text, key) in [
            (
                r#"{"embedded": true, "endpoint": "http://h:1"}"#,
                "data.s3.endpoint",
            ),
            (
                r#"{"embedded": true, "accessKeyId": "AK", "secretAccessKey": "hunter2"}"#,
                "data.s3.accessKeyId, data.s3.secretAccessKey",
            ),
            (
                r#"{"embedded": true, "caBundle": "/etc/ca.pem"}"#,
                "data.s3.caBundle",
            ),
            (
                r#"{"embedded": true, "region": "eu-west-1"}"#,
                "data.s3.region",
            ),
        ] {
            let err = serde_json_like(text).check_embedded().unwrap_err();
            assert!(
                err.contains("data.s3.embedded") && err.contains(key) && !err.contains("hunter2"),
                "{text}: {err}"
            );
        }
        let unpinned: S3Settings =
            serde_json_like(r#"{"embedded": false, "endpoint": "http://h:1"}"#);
        unpinned.check_embedded().unwrap();
        assert!(matches!(unpinned.target(), S3Target::Remote { .. }));
    }

    #[test]
    fn messages_say_where_the_endpoint_came_from() {
        let env = S3Settings::from_vars(vars(&[
            ("AWS_ENDPOINT_URL_S3", "http://env:1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "sekrit"),
        ]));
        assert_eq!(
            env.endpoint_origin(),
            "set by AWS_ENDPOINT_URL_S3 in the environment"
        );
        let file: S3Settings = serde_json_like(r#"{"endpoint": "http://file:9"}"#);
        assert_eq!(
            file.or(env.clone()).endpoint_origin(),
            "set by data.s3.endpoint in the settings file"
        );

        // Credentials alone mean Amazon S3: say which ones, and how to stay local.
        let keys_only = S3Settings::from_vars(vars(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "sekrit"),
        ]));
        let origin = S3Settings::default().or(keys_only).endpoint_origin();
        assert!(
            origin.starts_with("Amazon S3's own endpoint")
                && origin.contains("AWS_ACCESS_KEY_ID in the environment")
                && origin.contains("\"embedded\": true"),
            "{origin}"
        );
        assert!(
            !origin.contains("AKID") && !origin.contains("sekrit"),
            "{origin}"
        );
        let file_keys: S3Settings =
            serde_json_like(r#"{"accessKeyId": "AKID", "secretAccessKey": "sekrit"}"#);
        let origin = file_keys.endpoint_origin();
        assert!(
            origin.contains("data.s3.accessKeyId in the settings file")
                && !origin.contains("embedded"),
            "{origin}"
        );
        let line = file_keys.describe(Path::new("/data"));
        // A build without the S3 client says it cannot go there, naming the feature.
        let expected = if cfg!(feature = "s3") {
            "s3:// URIs go to Amazon S3"
        } else {
            "s3:// URIs cannot go to Amazon S3"
        };
        assert!(line.starts_with(expected), "{line}");
        assert!(!line.contains("AKID") && !line.contains("sekrit"), "{line}");
    }

    #[test]
    fn unknown_settings_fields_are_refused() {
        let err = serde_json::from_str::<S3Settings>(r#"{"endpont": "x"}"#).unwrap_err();
        assert!(err.to_string().contains("endpont"), "{err}");
    }

    fn serde_json_like(text: &str) -> S3Settings {
        serde_json::from_str(text).unwrap()
    }
}
