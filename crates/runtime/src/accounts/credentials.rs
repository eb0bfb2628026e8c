//! Access keys and the accounts they belong to.
//!
//! A [`CredentialStore`] maps an access key id to its secret and account id. It is filled from
//! up to two sources by [`CredentialStore::from_env_and_file`] — the root pair in the environment
//! and a JSON credentials file — or holds one random key from
//! [`CredentialStore::generate_dev`] for `sluice server --dev`. See the module docs of
//! `sluice_api::auth` for the file format.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Environment variable holding the root access key id.
pub const ENV_ROOT_ACCESS_KEY_ID: &str = "SLUICE_ROOT_ACCESS_KEY_ID";
/// Environment variable holding the root secret access key.
pub const ENV_ROOT_SECRET_ACCESS_KEY: &str = "SLUICE_ROOT_SECRET_ACCESS_KEY";
/// Environment variable holding the root pair's account id (default [`DEFAULT_ACCOUNT_ID`]).
pub const ENV_ROOT_ACCOUNT_ID: &str = "SLUICE_ROOT_ACCOUNT_ID";
/// Account id of the root pair when `SLUICE_ROOT_ACCOUNT_ID` is unset, and of `--dev` keys.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// Who signed a request: the access key and the account it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    /// The access key id from the request's credential scope.
    pub access_key_id: String,
    /// The 12-digit account id the key belongs to.
    pub account_id: String,
}

/// A secret access key. `Debug` and `Display` print `**REDACTED**`, so a secret cannot end up
/// in a log line or an error message by accident; [`SecretKey::expose_secret`] is the one way
/// to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        SecretKey(secret.into())
    }

    /// The secret itself: for signing, or for printing a freshly generated `--dev` key once.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("**REDACTED**")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("**REDACTED**")
    }
}

/// One access key: id, secret and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// The access key id (`AKIA…` for generated keys; any id without whitespace, `/`, `,` or
    /// `=` is accepted).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: SecretKey,
    /// The 12-digit account id.
    pub account_id: String,
}

impl AccessKey {
    /// The principal this key authenticates as.
    pub fn principal(&self) -> Principal {
        Principal {
            access_key_id: self.access_key_id.clone(),
            account_id: self.account_id.clone(),
        }
    }
}

/// Why credentials could not be loaded. Every variant names its source (the variable or the
/// file) and never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// One of the two root variables is set without the other.
    #[error("{set} is set but {missing} is not: set both or neither")]
    IncompleteRootPair {
        /// The variable that is set.
        set: &'static str,
        /// The variable that is missing.
        missing: &'static str,
    },
    /// An environment variable holds an unusable value.
    #[error("environment variable {var}: {message}")]
    InvalidEnv {
        /// The variable.
        var: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The credentials file cannot be read or is not valid.
    #[error("credentials file {}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the JSON line and column or the entry (`accounts[1].keys[0]`).
        message: String,
    },
    /// A key given to [`CredentialStore::insert`] is malformed.
    #[error("{origin}: {message}")]
    InvalidKey {
        /// Where the key came from.
        origin: String,
        /// What is wrong with it.
        message: String,
    },
    /// The same access key id is defined twice.
    #[error("access key id {access_key_id} is defined twice: in {first} and in {second}")]
    DuplicateKey {
        /// The access key id.
        access_key_id: String,
        /// Where it was defined first.
        first: String,
        /// Where it was defined again.
        second: String,
    },
    /// The operating system's random number generator failed (generating `--dev` keys).
    #[error("cannot generate an access key: the system random number generator failed: {0}")]
    Random(String),
}

/// Access keys by id. Cheap to share behind an `Arc`; lookups do not allocate.
#[derive(Debug, Clone, Default)]
pub struct CredentialStore {
    keys: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    key: AccessKey,
    /// Where the key came from, for duplicate-key errors.
    source: String,
}

/// The credentials file. Unknown fields are errors, so a misspelt `secretAccesKey` is caught.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "camelCase",
    expecting = "an object {\"accounts\": [{\"accountId\": …, \"keys\": […]}]}"
)]
struct CredentialsFile {
    accounts: Vec<FileAccount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileAccount {
    account_id: String,
    keys: Vec<FileKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileKey {
    access_key_id: String,
    secret_access_key: String,
}

impl CredentialStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key. `source` says where it came from (used in duplicate-key errors). Fails if
    /// the id is already present or any part is malformed (the message names `source`).
    pub fn insert(
        &mut self,
        key: AccessKey,
        source: impl Into<String>,
    ) -> Result<(), CredentialError> {
        let source = source.into();
        if let Some(problem) = access_key_id_problem(&key.access_key_id) {
            return Err(invalid_at(&source, problem));
        }
        if key.secret_access_key.expose_secret().is_empty() {
            return Err(invalid_at(&source, "the secret access key is empty".into()));
        }
        if let Some(problem) = account_id_problem(&key.account_id) {
            return Err(invalid_at(&source, problem));
        }
        if let Some(existing) = self.keys.get(&key.access_key_id) {
            return Err(CredentialError::DuplicateKey {
                access_key_id: key.access_key_id,
                first: existing.source.clone(),
                second: source,
            });
        }
        self.keys
            .insert(key.access_key_id.clone(), Entry { key, source });
        Ok(())
    }

    /// Loads the root pair from the process environment (`SLUICE_ROOT_ACCESS_KEY_ID`,
    /// `SLUICE_ROOT_SECRET_ACCESS_KEY`, optional `SLUICE_ROOT_ACCOUNT_ID`) and, when `path` is
    /// given, every key of the credentials file. Either source may be absent; check
    /// [`CredentialStore::is_empty`] to refuse to serve without keys.
    pub fn from_env_and_file(path: Option<&Path>) -> Result<Self, CredentialError> {
        Self::from_lookup_and_file(|var| std::env::var_os(var), path)
    }

    /// [`CredentialStore::from_env_and_file`] with the environment given as a function like
    /// [`std::env::var_os`] (for tests and embedding). An empty variable counts as unset.
    pub fn from_lookup_and_file(
        lookup: impl Fn(&str) -> Option<OsString>,
        path: Option<&Path>,
    ) -> Result<Self, CredentialError> {
        let mut store = Self::new();
        let get = |var: &'static str| -> Result<Option<String>, CredentialError> {
            match lookup(var).map(OsString::into_string) {
                None => Ok(None),
                Some(Err(_)) => Err(CredentialError::InvalidEnv {
                    var,
                    message: "not valid UTF-8".into(),
                }),
                Some(Ok(v)) if v.is_empty() => Ok(None),
                Some(Ok(v)) => Ok(Some(v)),
            }
        };
        let id = get(ENV_ROOT_ACCESS_KEY_ID)?;
        let secret = get(ENV_ROOT_SECRET_ACCESS_KEY)?;
        match (id, secret) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(CredentialError::IncompleteRootPair {
                    set: ENV_ROOT_ACCESS_KEY_ID,
                    missing: ENV_ROOT_SECRET_ACCESS_KEY,
                });
            }
            (None, Some(_)) => {
                return Err(CredentialError::IncompleteRootPair {
                    set: ENV_ROOT_SECRET_ACCESS_KEY,
                    missing: ENV_ROOT_ACCESS_KEY_ID,
                });
            }
            (Some(access_key_id), Some(secret)) => {
                if let Some(problem) = access_key_id_problem(&access_key_id) {
                    return Err(CredentialError::InvalidEnv {
                        var: ENV_ROOT_ACCESS_KEY_ID,
                        message: problem,
                    });
                }
                let account_id =
                    get(ENV_ROOT_ACCOUNT_ID)?.unwrap_or_else(|| DEFAULT_ACCOUNT_ID.into());
                if let Some(problem) = account_id_problem(&account_id) {
                    return Err(CredentialError::InvalidEnv {
                        var: ENV_ROOT_ACCOUNT_ID,
                        message: problem,
                    });
                }
                store.insert(
                    AccessKey {
                        access_key_id,
                        secret_access_key: SecretKey(secret),
                        account_id,
                    },
                    format!("environment variable {ENV_ROOT_ACCESS_KEY_ID}"),
                )?;
            }
        }
        if let Some(path) = path {
            store.load_file(path)?;
        }
        Ok(store)
    }

    /// Adds every key of a credentials file.
    pub fn load_file(&mut self, path: &Path) -> Result<(), CredentialError> {
        let file_error = |message: String| CredentialError::File {
            path: path.to_path_buf(),
            message,
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| file_error(format!("cannot read: {e}")))?;
        warn_if_readable_by_others(path);
        let parsed: CredentialsFile =
            serde_json::from_str(&text).map_err(|e| file_error(e.to_string()))?;
        if parsed.accounts.is_empty() {
            return Err(file_error(
                "\"accounts\" is empty: list at least one account".into(),
            ));
        }
        let mut seen_accounts: BTreeMap<&str, usize> = BTreeMap::new();
        for (a, account) in parsed.accounts.iter().enumerate() {
            let at = format!("accounts[{a}]");
            if let Some(problem) = account_id_problem(&account.account_id) {
                return Err(file_error(format!("{at}.accountId: {problem}")));
            }
            if let Some(first) = seen_accounts.insert(&account.account_id, a) {
                return Err(file_error(format!(
                    "{at}: account {} is already listed as accounts[{first}]; list each account once",
                    account.account_id
                )));
            }
            if account.keys.is_empty() {
                return Err(file_error(format!(
                    "{at}.keys is empty: account {} needs at least one key",
                    account.account_id
                )));
            }
            for (k, key) in account.keys.iter().enumerate() {
                let at = format!("{at}.keys[{k}]");
                if let Some(problem) = access_key_id_problem(&key.access_key_id) {
                    return Err(file_error(format!("{at}.accessKeyId: {problem}")));
                }
                if key.secret_access_key.is_empty() {
                    return Err(file_error(format!("{at}.secretAccessKey is empty")));
                }
                self.insert(
                    AccessKey {
                        access_key_id: key.access_key_id.clone(),
                        secret_access_key: SecretKey(key.secret_access_key.clone()),
                        account_id: account.account_id.clone(),
                    },
                    format!("credentials file {} {at}", path.display()),
                )?;
            }
        }
        Ok(())
    }

    /// A store holding one random AWS-shaped key (`AKIA` + 16 uppercase letters and digits,
    /// a 40-character secret) for account [`DEFAULT_ACCOUNT_ID`]: what `sluice server --dev`
    /// serves. Read the pair back with [`CredentialStore::keys`] to show it to the user.
    pub fn generate_dev() -> Result<Self, CredentialError> {
        const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const SECRET_ALPHABET: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bytes = [0u8; 16 + 40];
        getrandom::fill(&mut bytes).map_err(|e| CredentialError::Random(e.to_string()))?;
        // Both alphabets have a power-of-two size (32 and 64), so masking is unbiased.
        let mut access_key_id = String::from("AKIA");
        access_key_id.extend(
            bytes[..16]
                .iter()
                .map(|b| char::from(ID_ALPHABET[usize::from(b & 31)])),
        );
        let secret: String = bytes[16..]
            .iter()
            .map(|b| char::from(SECRET_ALPHABET[usize::from(b & 63)]))
            .collect();
        let mut store = Self::new();
        store.insert(
            AccessKey {
                access_key_id,
                secret_access_key: SecretKey(secret),
                account_id: DEFAULT_ACCOUNT_ID.into(),
            },
            "generated --dev key",
        )?;
        Ok(store)
    }

    /// A random AWS-shaped key for `account_id` whose id starts with `prefix` (`AKIA` for
    /// long-term keys, `ASIA` for short-lived ones), padded to 20 characters.
    pub fn generate_key(prefix: &str, account_id: &str) -> Result<AccessKey, CredentialError> {
        const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const SECRET_ALPHABET: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bytes = [0u8; 20 + 40];
        getrandom::fill(&mut bytes).map_err(|e| CredentialError::Random(e.to_string()))?;
        let mut access_key_id = prefix.to_owned();
        let pad = 20usize.saturating_sub(prefix.len()).max(16);
        access_key_id.extend(
            bytes[..pad]
                .iter()
                .map(|b| char::from(ID_ALPHABET[usize::from(b & 31)])),
        );
        let secret: String = bytes[20..]
            .iter()
            .map(|b| char::from(SECRET_ALPHABET[usize::from(b & 63)]))
            .collect();
        Ok(AccessKey {
            access_key_id,
            secret_access_key: SecretKey(secret),
            account_id: account_id.to_owned(),
        })
    }

    /// Removes a key; returns whether it was there.
    pub fn remove(&mut self, access_key_id: &str) -> bool {
        self.keys.remove(access_key_id).is_some()
    }

    /// The key with this id.
    pub fn get(&self, access_key_id: &str) -> Option<&AccessKey> {
        self.keys.get(access_key_id).map(|e| &e.key)
    }

    /// Every key, by access key id.
    pub fn keys(&self) -> impl Iterator<Item = &AccessKey> {
        self.keys.values().map(|e| &e.key)
    }

    /// How many keys the store holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the store holds no key (the server should refuse to start unless `--dev`).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn invalid_at(source: &str, problem: String) -> CredentialError {
    CredentialError::InvalidKey {
        origin: source.to_owned(),
        message: problem,
    }
}

/// Why an access key id cannot be used, if it cannot. The characters refused would break the
/// `Credential=AKID/date/region/service/aws4_request` element of the Authorization header.
fn access_key_id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("the access key id is empty".into());
    }
    if id.len() > 128 {
        return Some("the access key id is longer than 128 characters".into());
    }
    if let Some(c) = id
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '/' | ',' | '=' | ';'))
    {
        return Some(format!(
            "the access key id {id:?} contains {c:?}; use letters, digits and punctuation other than / , = ;"
        ));
    }
    None
}

fn account_id_problem(id: &str) -> Option<String> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        None
    } else {
        Some(format!("the account id {id:?} is not 12 digits"))
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            file = %path.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "the credentials file holds secret keys but other users can read it; consider chmod 600"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_and_display() {
        let key = AccessKey {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: SecretKey::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            account_id: DEFAULT_ACCOUNT_ID.into(),
        };
        let debug = format!("{key:?}");
        assert!(!debug.contains("wJalr"), "{debug}");
        assert!(debug.contains("**REDACTED**"), "{debug}");
        assert_eq!(key.secret_access_key.to_string(), "**REDACTED**");
        let mut store = CredentialStore::new();
        store.insert(key, "test").unwrap();
        let debug = format!("{store:?}");
        assert!(!debug.contains("wJalr"), "{debug}");
    }

    #[test]
    fn malformed_ids_are_refused() {
        assert!(access_key_id_problem("AKIA/X").is_some());
        assert!(access_key_id_problem("AK IA").is_some());
        assert!(access_key_id_problem("").is_some());
        assert!(access_key_id_problem("test").is_none());
        assert!(account_id_problem("12345678901").is_some());
        assert!(account_id_problem("12345678901a").is_some());
        assert!(account_id_problem("111122223333").is_none());
    }
}
