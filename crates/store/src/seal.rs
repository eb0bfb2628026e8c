//! Secrets at rest: the values of `*` fields and `*` parameters are sealed (AES-256-GCM) in
//! every pipeline row, so that the state database, its WAL, its backups and a `pg_dump` hold
//! no secret in clear text.
//!
//! A sealed value reads `sluice:sealed:v1:<key id>:<hex of nonce ‖ ciphertext ‖ tag>`. The key
//! id (the first 8 bytes of the key's SHA-256) says which key sealed it, so a server given
//! another key fails naming both instead of reading garbage. The pipeline id is the
//! additional authenticated data: a sealed value copied into another pipeline's row does not
//! open. Values written before sealing existed read back as they are and are sealed on the
//! pipeline's next write.
//!
//! ring's AEAD is the implementation: it is already in every build (object_store and rustls
//! use it), and it is the one rustls trusts.

use std::borrow::Cow;
use std::io::Write as _;
use std::path::Path;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sluice_engine::StoreError;
use sluice_model::secret::is_secret_key;
use sluice_model::{FieldValue, PipelineDefinition};

const PREFIX: &str = "sluice:sealed:v1:";
/// A `LIKE` pattern matching a row that holds a sealed value.
pub(crate) const SEALED_LIKE: &str = "%sluice:sealed:v1:%";
/// Bytes of key material in a key file (AES-256).
const KEY_LEN: usize = 32;
/// Parameter attributes that carry a secret parameter's values.
const VALUE_ATTRIBUTES: [&str; 2] = ["default", "allowedValues"];

/// Seals and opens secret values with one key.
pub struct Sealer {
    key: LessSafeKey,
    key_id: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer with `key` (32 bytes).
    pub fn new(key: &[u8]) -> Result<Sealer, StoreError> {
        if key.len() != KEY_LEN {
            return Err(StoreError::Corrupt(format!(
                "a secret key is {KEY_LEN} bytes, this one is {}",
                key.len()
            )));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, key)
            .map_err(|_| StoreError::Corrupt("the secret key is not an AES-256 key".into()))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, key);
        Ok(Sealer {
            key: LessSafeKey::new(unbound),
            key_id: hex(&digest.as_ref()[..8]),
            rng: SystemRandom::new(),
        })
    }

    /// The key in the file at `path` (64 hexadecimal digits; whitespace around them is
    /// ignored).
    pub fn load(path: &Path) -> Result<Sealer, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot read the secret key {}: {e}",
                path.display()
            ))
        })?;
        let key = unhex(text.trim())
            .filter(|k| k.len() == KEY_LEN)
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "{} is not a secret key: it must hold {} hexadecimal digits",
                    path.display(),
                    KEY_LEN * 2
                ))
            })?;
        Sealer::new(&key)
    }

    /// The key in the file at `path`, generated there (readable by its owner only) when the
    /// file does not exist. Returns whether it was generated.
    pub fn load_or_create(path: &Path) -> Result<(Sealer, bool), StoreError> {
        if path.exists() {
            return Ok((Sealer::load(path)?, false));
        }
        let mut key = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| StoreError::Unavailable("no randomness for a secret key".into()))?;
        let cannot = |e: std::io::Error| {
            StoreError::Unavailable(format!(
                "cannot create the secret key {}: {e}",
                path.display()
            ))
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(cannot)?;
        }
        // Written aside, then linked into place: a process starting at the same moment
        // either finds no key file or a whole one, never half of it.
        let aside = path.with_extension(format!("new-{}", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&aside).and_then(|mut file| {
            writeln!(file, "{}", hex(&key))?;
            file.sync_all()
        });
        let linked = written.and_then(|()| std::fs::hard_link(&aside, path));
        let _ = std::fs::remove_file(&aside);
        match linked {
            Ok(()) => Ok((Sealer::new(&key)?, true)),
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok((Sealer::load(path)?, false))
            }
            Err(e) => Err(cannot(e)),
        }
    }

    /// Which key this is, as sealed values name it.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn seal(&self, pipeline_id: &str, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .expect("the system's random source failed");
        let mut sealed = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(pipeline_id.as_bytes()),
                &mut sealed,
            )
            .expect("AES-GCM seals any value of a definition's size");
        let mut out = String::with_capacity(PREFIX.len() + 17 + 2 * (NONCE_LEN + sealed.len()));
        out.push_str(PREFIX);
        out.push_str(&self.key_id);
        out.push(':');
        out.push_str(&hex(&nonce));
        out.push_str(&hex(&sealed));
        out
    }

    /// The value `text` seals, or `text` itself when it is not sealed.
    fn open(&self, pipeline_id: &str, text: &str) -> Result<Option<String>, String> {
        let Some(rest) = text.strip_prefix(PREFIX) else {
            return Ok(None);
        };
        let (key_id, body) = rest
            .split_once(':')
            .ok_or("a sealed value without its key id")?;
        if key_id != self.key_id {
            return Err(format!(
                "its secrets were sealed with key {key_id}, and this process has key {}: give \
                 every process that shares this database the same secret key file",
                self.key_id
            ));
        }
        let bytes = unhex(body).ok_or("a sealed value that is not hexadecimal")?;
        if bytes.len() < NONCE_LEN {
            return Err("a sealed value too short to hold its nonce".into());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| "a bad nonce")?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(pipeline_id.as_bytes()), &mut sealed)
            .map_err(|_| "a sealed value that does not open with this key (altered, or moved from another pipeline)")?;
        String::from_utf8(plain.to_vec())
            .map(Some)
            .map_err(|_| "a sealed value that is not text".into())
    }

    /// `definition` with its secret values sealed, or borrowed as it is when it holds none.
    pub(crate) fn seal_definition<'d>(
        &self,
        pipeline_id: &str,
        definition: &'d PipelineDefinition,
    ) -> Cow<'d, PipelineDefinition> {
        if !has_secret(definition) {
            return Cow::Borrowed(definition);
        }
        let mut copy = definition.clone();
        for_each_secret(&mut copy, |value| {
            // A value read without a key is still sealed: it stays as it is.
            if !value.starts_with(PREFIX) {
                *value = self.seal(pipeline_id, value);
            }
        });
        Cow::Owned(copy)
    }

    /// Opens the sealed values of `definition` in place.
    pub(crate) fn open_definition(
        &self,
        pipeline_id: &str,
        definition: &mut PipelineDefinition,
    ) -> Result<(), String> {
        let mut failed = None;
        for_each_secret(definition, |value| {
            if failed.is_some() {
                return;
            }
            match self.open(pipeline_id, value) {
                Ok(Some(plain)) => *value = plain,
                Ok(None) => {}
                Err(why) => failed = Some(why),
            }
        });
        failed.map_or(Ok(()), Err)
    }
}

/// What resealing one definition found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Resealing {
    /// Secret values in the definition.
    pub(crate) secrets: usize,
    /// Of those, the ones written again (sealed with the current key, or not sealed at all).
    pub(crate) resealed: usize,
}

impl Sealer {
    /// Seals every secret value of `definition` with `new` in place: a value this (the current)
    /// key sealed is opened and sealed again; one `new` already sealed, by a rotation that was
    /// interrupted, is left as it is once it is seen to open; one not sealed (written before
    /// sealing existed) is sealed. A value sealed with a third key, or that does not open,
    /// fails naming the keys, and leaves `definition` partly resealed: use a copy.
    pub(crate) fn reseal_definition(
        &self,
        new: &Sealer,
        pipeline_id: &str,
        definition: &mut PipelineDefinition,
    ) -> Result<Resealing, String> {
        let mut found = Resealing::default();
        let mut failed = None;
        for_each_secret(definition, |value| {
            if failed.is_some() {
                return;
            }
            found.secrets += 1;
            let plain = match sealed_by(value) {
                Some(id) if id == new.key_id => match new.open(pipeline_id, value) {
                    Ok(_) => return,
                    Err(why) => {
                        failed = Some(why);
                        return;
                    }
                },
                Some(id) if id != self.key_id => {
                    failed = Some(format!(
                        "a secret is sealed with key {id}, which is neither the current key {} \
                         nor the new key {}",
                        self.key_id, new.key_id
                    ));
                    return;
                }
                _ => match self.open(pipeline_id, value) {
                    Ok(opened) => opened.unwrap_or_else(|| value.clone()),
                    Err(why) => {
                        failed = Some(why);
                        return;
                    }
                },
            };
            *value = new.seal(pipeline_id, &plain);
            found.resealed += 1;
        });
        failed.map_or(Ok(found), Err)
    }
}

/// The id of the key that sealed `value`; `None` when it is not sealed.
fn sealed_by(value: &str) -> Option<&str> {
    value.strip_prefix(PREFIX)?.split(':').next()
}

/// Whether a definition read without a key holds sealed values (it cannot be used then).
pub(crate) fn holds_sealed(definition: &PipelineDefinition) -> bool {
    secrets(definition)
        .iter()
        .any(|&at| at.value(definition).starts_with(PREFIX))
}

fn has_secret(definition: &PipelineDefinition) -> bool {
    !secrets(definition).is_empty()
}

/// Calls `f` on every secret value of `definition`.
fn for_each_secret(definition: &mut PipelineDefinition, mut f: impl FnMut(&mut String)) {
    for at in secrets(definition) {
        f(at.value_mut(definition));
    }
}

/// Where a secret value sits in a definition: the one rule for what is secret, which sealing,
/// opening and checking all follow.
#[derive(Clone, Copy)]
enum SecretAt {
    /// A `*` field's string value: (object, field).
    Field(usize, usize),
    /// A value of a `*` parameter, given with or without its `*`.
    Value(usize),
    /// A `default` or `allowedValues` attribute of a `*` parameter: (parameter, attribute).
    Attribute(usize, usize),
}

impl SecretAt {
    fn value(self, definition: &PipelineDefinition) -> &str {
        match self {
            SecretAt::Field(o, f) => match &definition.pipeline_objects[o].fields[f].value {
                FieldValue::String(value) | FieldValue::Ref(value) => value,
            },
            SecretAt::Value(v) => &definition.parameter_values[v].string_value,
            SecretAt::Attribute(p, a) => {
                &definition.parameter_objects[p].attributes[a].string_value
            }
        }
    }

    fn value_mut(self, definition: &mut PipelineDefinition) -> &mut String {
        match self {
            SecretAt::Field(o, f) => match &mut definition.pipeline_objects[o].fields[f].value {
                FieldValue::String(value) | FieldValue::Ref(value) => value,
            },
            SecretAt::Value(v) => &mut definition.parameter_values[v].string_value,
            SecretAt::Attribute(p, a) => {
                &mut definition.parameter_objects[p].attributes[a].string_value
            }
        }
    }
}

/// Every secret value of `definition`.
fn secrets(definition: &PipelineDefinition) -> Vec<SecretAt> {
    let mut found = Vec::new();
    for (o, object) in definition.pipeline_objects.iter().enumerate() {
        for (f, field) in object.fields.iter().enumerate() {
            if is_secret_key(&field.key) && matches!(field.value, FieldValue::String(_)) {
                found.push(SecretAt::Field(o, f));
            }
        }
    }
    // A value given for a secret parameter without its `*` (`myPassword=…`, which AWS
    // accepts) is as secret as the rest.
    let declared: Vec<&str> = definition
        .parameter_objects
        .iter()
        .filter_map(|p| p.id.strip_prefix('*'))
        .collect();
    for (v, value) in definition.parameter_values.iter().enumerate() {
        if is_secret_key(&value.id) || declared.contains(&value.id.as_str()) {
            found.push(SecretAt::Value(v));
        }
    }
    for (p, parameter) in definition.parameter_objects.iter().enumerate() {
        if is_secret_key(&parameter.id) {
            for (a, attribute) in parameter.attributes.iter().enumerate() {
                if VALUE_ATTRIBUTES.contains(&attribute.key.as_str()) {
                    found.push(SecretAt::Attribute(p, a));
                }
            }
        }
    }
    found
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use sluice_model::{
        Field, ParameterAttribute, ParameterObject, ParameterValue, PipelineObject,
    };

    use super::*;

    fn definition() -> PipelineDefinition {
        PipelineDefinition {
            pipeline_objects: vec![PipelineObject {
                id: "Db".into(),
                name: "Db".into(),
                fields: vec![
                    Field::string("username", "etl"),
                    Field::string("*password", "hunter2-db"),
                ],
            }],
            parameter_objects: vec![ParameterObject {
                id: "*myPassword".into(),
                attributes: vec![
                    ParameterAttribute {
                        key: "type".into(),
                        string_value: "String".into(),
                    },
                    ParameterAttribute {
                        key: "default".into(),
                        string_value: "hunter2-default".into(),
                    },
                ],
            }],
            parameter_values: vec![
                ParameterValue {
                    id: "*myPassword".into(),
                    string_value: "hunter2-value".into(),
                },
                ParameterValue {
                    id: "myName".into(),
                    string_value: "plain".into(),
                },
                // Given without its `*`, as AWS accepts it: sealed all the same.
                ParameterValue {
                    id: "myPassword".into(),
                    string_value: "hunter2-unstarred".into(),
                },
            ],
        }
    }

    #[test]
    fn secret_values_are_sealed_and_open_again() {
        let sealer = Sealer::new(&[7; 32]).unwrap();
        let plain = definition();
        let sealed = sealer.seal_definition("df-1", &plain).into_owned();
        let text = serde_json::to_string(&sealed).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("etl") && text.contains("plain") && text.contains("String"));
        assert_eq!(text.matches(PREFIX).count(), 4);

        let mut opened = sealed.clone();
        sealer.open_definition("df-1", &mut opened).unwrap();
        assert_eq!(opened, plain);

        // Another pipeline's row, another key: refused, naming why.
        let mut moved = sealed.clone();
        let err = sealer.open_definition("df-2", &mut moved).unwrap_err();
        assert!(err.contains("moved from another pipeline"), "{err}");
        let other = Sealer::new(&[8; 32]).unwrap();
        let err = other
            .open_definition("df-1", &mut sealed.clone())
            .unwrap_err();
        assert!(
            err.contains(sealer.key_id()) && err.contains(other.key_id()),
            "{err}"
        );
        assert!(holds_sealed(&sealed));
    }

    #[test]
    fn resealing_moves_every_secret_to_the_new_key_once() {
        let (current, new) = (
            Sealer::new(&[7; 32]).unwrap(),
            Sealer::new(&[9; 32]).unwrap(),
        );
        let mut definition = current.seal_definition("df-1", &definition()).into_owned();
        // One value as written before sealing existed.
        definition.parameter_values[2].string_value = "hunter2-unstarred".into();
        let found = current
            .reseal_definition(&new, "df-1", &mut definition)
            .unwrap();
        assert_eq!(
            found,
            Resealing {
                secrets: 4,
                resealed: 4
            }
        );
        let text = serde_json::to_string(&definition).unwrap();
        assert_eq!(
            text.matches(&format!("{PREFIX}{}:", new.key_id())).count(),
            4
        );
        assert!(
            !text.contains("hunter2") && !text.contains(current.key_id()),
            "{text}"
        );
        let mut opened = definition.clone();
        new.open_definition("df-1", &mut opened).unwrap();
        assert_eq!(opened, super::tests::definition());

        // Again (an interrupted rotation run twice): nothing changes.
        let mut again = definition.clone();
        let found = current.reseal_definition(&new, "df-1", &mut again).unwrap();
        assert_eq!(
            found,
            Resealing {
                secrets: 4,
                resealed: 0
            }
        );
        assert_eq!(again, definition);

        // Sealed with neither key: refused, naming all three.
        let third = Sealer::new(&[5; 32]).unwrap();
        let mut foreign = third
            .seal_definition("df-1", &super::tests::definition())
            .into_owned();
        let err = current
            .reseal_definition(&new, "df-1", &mut foreign)
            .unwrap_err();
        for id in [third.key_id(), current.key_id(), new.key_id()] {
            assert!(err.contains(id), "{err}");
        }
        // Sealed with the new key for another pipeline: it does not open, so it is refused.
        let err = current
            .reseal_definition(&new, "df-2", &mut definition.clone())
            .unwrap_err();
        assert!(err.contains("moved from another pipeline"), "{err}");
    }

    #[test]
    fn a_definition_without_secrets_is_not_copied() {
        let sealer = Sealer::new(&[7; 32]).unwrap();
        let mut plain = definition();
        plain.pipeline_objects[0].fields.pop();
        plain.parameter_objects.clear();
        plain.parameter_values.remove(0);
        assert!(matches!(
            sealer.seal_definition("df-1", &plain),
            Cow::Borrowed(_)
        ));
        // Values stored before sealing existed read back as they are.
        let mut old = definition();
        sealer.open_definition("df-1", &mut old).unwrap();
        assert_eq!(old, definition());
    }

    #[test]
    fn key_files_are_generated_once_for_their_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/secret.key");
        let (first, created) = Sealer::load_or_create(&path).unwrap();
        assert!(created);
        let (second, created) = Sealer::load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first.key_id(), second.key_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        let err = Sealer::load(&path).unwrap_err().to_string();
        assert!(err.contains("64 hexadecimal digits"), "{err}");
    }
}
