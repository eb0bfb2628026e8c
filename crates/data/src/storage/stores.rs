//! From a URI to the object store that holds it.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::{Path, PathPart};

use super::error::StorageError;
use super::settings::{S3Settings, S3Target, embedded_root};

/// Every object store a runner uses, built on first use: one client per S3 bucket, the
/// embedded store, and the local file system for `file://` URIs and absolute paths.
///
/// Cheap to clone; clones share the clients.
#[derive(Clone)]
pub struct ObjectStores {
    inner: Arc<Inner>,
}

struct Inner {
    settings: S3Settings,
    data_dir: PathBuf,
    local: Arc<dyn ObjectStore>,
    /// Per bucket for S3 (a client is bound to one bucket); one entry, `""`, for the embedded
    /// store, whose paths start with the bucket.
    buckets: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

/// One object (or prefix) and the store holding it.
#[derive(Clone)]
pub struct Location {
    pub store: Arc<dyn ObjectStore>,
    /// The key inside `store`.
    pub path: Path,
    /// The URI as written, for messages.
    pub uri: String,
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Location")
            .field("uri", &self.uri)
            .field("store", &self.store.to_string())
            .field("path", &self.path.as_ref())
            .finish()
    }
}

impl fmt::Debug for ObjectStores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStores")
            .field("target", &self.inner.settings.target())
            .field("data_dir", &self.inner.data_dir)
            .finish()
    }
}

impl ObjectStores {
    /// Checks the settings; clients are built when a URI first needs them.
    pub fn new(settings: &S3Settings, data_dir: &FsPath) -> Result<Self, StorageError> {
        check_settings(settings)?;
        Ok(ObjectStores {
            inner: Arc::new(Inner {
                settings: settings.clone(),
                data_dir: data_dir.to_path_buf(),
                local: Arc::new(LocalFileSystem::new()),
                buckets: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The `ObjectStores` for these settings, shared by every caller in the process that asks
    /// with the same settings and data directory, so clients (and their connection pools) are
    /// built once per runner rather than once per attempt.
    pub fn shared(settings: &S3Settings, data_dir: &FsPath) -> Result<Self, StorageError> {
        type Cache = Mutex<HashMap<(S3Settings, PathBuf), ObjectStores>>;
        static CACHE: LazyLock<Cache> = LazyLock::new(Mutex::default);
        let key = (settings.clone(), data_dir.to_path_buf());
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(stores) = cache.get(&key) {
            return Ok(stores.clone());
        }
        let stores = ObjectStores::new(settings, data_dir)?;
        cache.insert(key, stores.clone());
        Ok(stores)
    }

    /// The settings these stores were built from.
    pub fn settings(&self) -> &S3Settings {
        &self.inner.settings
    }

    /// One line saying where `s3://` URIs go (see [`S3Settings::describe`]).
    pub fn describe(&self) -> String {
        self.inner.settings.describe(&self.inner.data_dir)
    }

    /// `s3://bucket/key`, `file:///abs/path` (or `file://localhost/abs/path`), or an absolute
    /// local path → the store and the key in it. The key may be empty or end in `/` (a prefix).
    pub fn resolve(&self, uri: &str) -> Result<Location, StorageError> {
        let invalid = |reason: String| StorageError::InvalidUri {
            uri: uri.to_string(),
            reason,
        };
        if uri.is_empty() {
            return Err(invalid("empty URI".into()));
        }
        if let Some(rest) = strip_scheme(uri, "s3") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            check_bucket(bucket).map_err(invalid)?;
            let key = Path::parse(key).map_err(|err| invalid(err.to_string()))?;
            let (store, path) = match self.inner.settings.target() {
                S3Target::Embedded => {
                    // One store for all buckets: each bucket is a directory under it.
                    let path: Path = std::iter::once(PathPart::from(bucket))
                        .chain(key.parts())
                        .collect();
                    (self.embedded(uri)?, path)
                }
                S3Target::Remote { .. } => (self.bucket(bucket, uri)?, key),
            };
            return Ok(Location {
                store,
                path,
                uri: uri.to_string(),
            });
        }
        let local = if let Some(rest) = strip_scheme(uri, "file") {
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(invalid(
                    "a file URI must name an absolute path on this host (file:///path)".into(),
                ));
            }
            PathBuf::from(path)
        } else if let Some((scheme, _)) = uri.split_once("://") {
            return Err(invalid(format!(
                "unsupported URI scheme '{scheme}': expected s3://, file:// or an absolute local \
                 path"
            )));
        } else {
            let path = PathBuf::from(uri);
            if !path.is_absolute() {
                return Err(invalid(
                    "a local path must be absolute (or use s3:// or file://)".into(),
                ));
            }
            path
        };
        if local
            .components()
            .any(|c| c == std::path::Component::ParentDir)
        {
            return Err(invalid("'..' is not allowed".into()));
        }
        let path = Path::from_absolute_path(&local).map_err(|err| invalid(err.to_string()))?;
        Ok(Location {
            store: Arc::clone(&self.inner.local),
            path,
            uri: uri.to_string(),
        })
    }

    /// The file behind `uri` when it lives on this machine's disk (the embedded store, a
    /// `file://` URI or an absolute path), `None` when it lives on an S3 server. Executors use
    /// it where files allow more than objects: appending to a log as it is written, or telling
    /// an empty directory from a missing one.
    pub fn local_path(&self, uri: &str) -> Result<Option<PathBuf>, StorageError> {
        let location = self.resolve(uri)?;
        let is_s3 = strip_scheme(uri, "s3").is_some();
        let root = match (is_s3, self.inner.settings.target()) {
            (true, S3Target::Remote { .. }) => return Ok(None),
            (true, S3Target::Embedded) => embedded_root(&self.inner.data_dir),
            (false, _) => PathBuf::from("/"),
        };
        Ok(Some(
            location
                .path
                .parts()
                .fold(root, |path, part| path.join(part.as_ref())),
        ))
    }

    fn embedded(&self, uri: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
        let mut buckets = self.lock();
        if let Some(store) = buckets.get("") {
            return Ok(Arc::clone(store));
        }
        let root = embedded_root(&self.inner.data_dir);
        // Objects get the process's umask; the directory keeps them the owner's.
        crate::private_files::create_dir_all(&root).map_err(|err| {
            StorageError::io(
                "create the embedded object store for",
                uri,
                root.clone(),
                err,
            )
        })?;
        let store: Arc<dyn ObjectStore> = Arc::new(
            LocalFileSystem::new_with_prefix(&root)
                .map_err(|err| StorageError::from_store("open", uri, err))?,
        );
        buckets.insert(String::new(), Arc::clone(&store));
        Ok(store)
    }

    fn bucket(&self, bucket: &str, uri: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
        let mut buckets = self.lock();
        if let Some(store) = buckets.get(bucket) {
            return Ok(Arc::clone(store));
        }
        let store = build_s3(&self.inner.settings, bucket, uri)?;
        buckets.insert(bucket.to_string(), Arc::clone(&store));
        Ok(store)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<dyn ObjectStore>>> {
        self.inner
            .buckets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(feature = "s3")]
fn build_s3(
    settings: &S3Settings,
    bucket: &str,
    _uri: &str,
) -> Result<Arc<dyn ObjectStore>, StorageError> {
    use object_store::aws::AmazonS3Builder;
    use object_store::{BackoffConfig, RetryConfig};
    use std::time::Duration;

    // How long object_store keeps retrying a failing request (connection refused, 5xx). Its
    // own default is three minutes, long enough to look like a hang in a precondition check.
    const RETRY_TIMEOUT: Duration = Duration::from_secs(30);
    const MAX_RETRIES: usize = 4;

    let S3Target::Remote {
        endpoint,
        region,
        path_style,
    } = settings.target()
    else {
        unreachable!("build_s3 is only called for remote targets");
    };
    let mut builder = AmazonS3Builder::new()
        .with_client_options(client_options(settings, bucket)?)
        .with_http_connector(super::reach::ReachConnector::new(
            settings.endpoint_origin(),
            trust_remedy(settings),
        ))
        .with_bucket_name(bucket)
        .with_region(region)
        .with_virtual_hosted_style_request(!path_style)
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: MAX_RETRIES,
            retry_timeout: RETRY_TIMEOUT,
        });
    if let Some(endpoint) = &endpoint {
        let allow_http = settings
            .allow_http
            .unwrap_or_else(|| endpoint.starts_with("http://"));
        builder = builder.with_endpoint(endpoint).with_allow_http(allow_http);
    }
    match (&settings.access_key_id, &settings.secret_access_key) {
        (Some(key), Some(secret)) => {
            builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret.expose());
            if let Some(token) = &settings.session_token {
                builder = builder.with_token(token.expose());
            }
        }
        // Checked in `check_settings`: an endpoint without credentials is a public server.
        _ => builder = builder.with_skip_signature(true),
    }
    let store = builder.build().map_err(|err| StorageError::Settings {
        reason: format!("cannot build the S3 client for bucket '{bucket}': {err}"),
    })?;
    Ok(Arc::new(store))
}

/// object_store's defaults, trusting the CA bundle's certificates besides the system's roots.
/// Set before `with_allow_http`, which writes into the same options.
#[cfg(feature = "s3")]
fn client_options(
    settings: &S3Settings,
    bucket: &str,
) -> Result<object_store::ClientOptions, StorageError> {
    let mut options = object_store::ClientOptions::new();
    let Some(path) = &settings.ca_bundle else {
        return Ok(options);
    };
    let bad = |reason: String| StorageError::Settings { reason };
    let what = settings.ca_bundle_origin();
    let pem = crate::tls::read_ca_bundle(path, &what).map_err(bad)?;
    let certificates = object_store::Certificate::from_pem_bundle(&pem).map_err(|err| {
        bad(format!(
            "{what} {}: cannot be used for bucket '{bucket}': {err}",
            path.display()
        ))
    })?;
    for certificate in certificates {
        options = options.with_root_certificate(certificate);
    }
    Ok(options)
}

/// What to do when the endpoint's certificate is not trusted, for [`super::Unreachable`].
#[cfg(feature = "s3")]
fn trust_remedy(settings: &S3Settings) -> String {
    match &settings.ca_bundle {
        Some(path) => format!(
            "the CA bundle {} ({}) does not hold the CA that signed it",
            path.display(),
            settings.ca_bundle_origin()
        ),
        None => format!(
            "trust the CA that signed it with a PEM bundle in data.s3.caBundle or {}",
            super::CA_BUNDLE_ENV
        ),
    }
}

/// Settings that point at an S3 server are refused rather than read as the embedded store: the
/// data would silently end up on local disk instead of where the pipeline said.
#[cfg(not(feature = "s3"))]
fn build_s3(
    _settings: &S3Settings,
    _bucket: &str,
    uri: &str,
) -> Result<Arc<dyn ObjectStore>, StorageError> {
    Err(StorageError::LeftOut {
        uri: uri.to_string(),
        message: s3_left_out(),
    })
}

/// Why `s3://` URIs fail when S3 settings are set in a build without S3 support.
pub(super) fn s3_left_out() -> String {
    crate::left_out(
        "an S3 endpoint or credentials (settings or AWS_* environment variables)",
        "S3",
        "s3",
    ) + "; unset them to keep s3:// URIs in the embedded store"
}

fn check_settings(settings: &S3Settings) -> Result<(), StorageError> {
    let bad = |reason: &str| {
        Err(StorageError::Settings {
            reason: reason.to_string(),
        })
    };
    settings
        .check_embedded()
        .map_err(|reason| StorageError::Settings { reason })?;
    if let Some(endpoint) = &settings.endpoint
        && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
    {
        return Err(StorageError::Settings {
            reason: format!("endpoint '{endpoint}' must start with http:// or https://"),
        });
    }
    match (&settings.access_key_id, &settings.secret_access_key) {
        (Some(_), None) => bad("an access key id is set but no secret access key"),
        (None, Some(_)) => bad("a secret access key is set but no access key id"),
        _ if settings.session_token.is_some() && settings.access_key_id.is_none() => {
            bad("a session token is set but no access key id")
        }
        _ => Ok(()),
    }
}

/// The rules S3 gives for bucket names, loosely: enough to catch a key or a host name pasted in
/// the wrong place without refusing the names older buckets may have.
fn check_bucket(bucket: &str) -> Result<(), String> {
    if bucket.is_empty() {
        return Err("no bucket (expected s3://bucket/key)".into());
    }
    if bucket.len() > 255
        || !bucket
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        || bucket == "."
        || bucket == ".."
    {
        return Err(format!(
            "'{bucket}' is not a valid bucket name (letters, digits, '.', '-' and '_')"
        ));
    }
    Ok(())
}

/// The part after `scheme://`, matching the scheme case-insensitively as URIs do.
fn strip_scheme<'a>(uri: &'a str, scheme: &str) -> Option<&'a str> {
    let (head, rest) = uri.split_once("://")?;
    head.eq_ignore_ascii_case(scheme).then_some(rest)
}
