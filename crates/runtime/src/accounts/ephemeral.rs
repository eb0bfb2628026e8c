//! Short-lived access keys the service mints for task runners it starts itself (managed
//! resources), beside the long-term keys of a [`CredentialStore`].
//!
//! Design decisions:
//! * One key per started runner, for the account that owns the pipeline, so the runner sees
//!   exactly what that account sees. It lives only in memory and is revoked when the resource
//!   attempt ends; a server restart therefore invalidates every one of them, which is right,
//!   since the restarted server provisions its resources anew.
//! * Ids start with `ASIA`, as AWS's temporary keys do, so they are recognisable in logs.
//! * Long-term keys are checked first and are never shadowed: a minted id that collides with a
//!   long-term one is refused.

use std::sync::{Arc, RwLock};

use super::{AccessKey, CredentialError, CredentialStore};

/// Long-term keys plus revocable short-lived ones; what `sluice server` authenticates with.
#[derive(Debug)]
pub struct KeyRing {
    permanent: CredentialStore,
    /// Replaced as a whole on mint and revoke (rare), so a lookup only clones an `Arc`.
    ephemeral: RwLock<Arc<CredentialStore>>,
}

impl KeyRing {
    pub fn new(permanent: CredentialStore) -> Self {
        KeyRing {
            permanent,
            ephemeral: RwLock::new(Arc::new(CredentialStore::new())),
        }
    }

    /// The long-term keys.
    pub fn permanent(&self) -> &CredentialStore {
        &self.permanent
    }

    /// Mints a new short-lived key for `account_id`.
    pub fn mint(&self, account_id: &str, purpose: &str) -> Result<AccessKey, CredentialError> {
        let key = CredentialStore::generate_key("ASIA", account_id)?;
        if self.permanent.get(&key.access_key_id).is_some() {
            return Err(CredentialError::DuplicateKey {
                access_key_id: key.access_key_id,
                first: "the credential store".into(),
                second: purpose.to_owned(),
            });
        }
        let mut guard = self.ephemeral.write().unwrap_or_else(|e| e.into_inner());
        let mut next = CredentialStore::clone(&guard);
        next.insert(key.clone(), purpose)?;
        *guard = Arc::new(next);
        Ok(key)
    }

    /// Revokes a short-lived key; requests signed with it are refused from now on.
    pub fn revoke(&self, access_key_id: &str) -> bool {
        let mut guard = self.ephemeral.write().unwrap_or_else(|e| e.into_inner());
        if guard.get(access_key_id).is_none() {
            return false;
        }
        let mut next = CredentialStore::clone(&guard);
        next.remove(access_key_id);
        *guard = Arc::new(next);
        true
    }

    /// The short-lived keys valid now (a snapshot: later mints and revocations do not change
    /// it).
    pub fn ephemeral(&self) -> Arc<CredentialStore> {
        Arc::clone(&self.ephemeral.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// How many short-lived keys are valid now.
    pub fn ephemeral_count(&self) -> usize {
        self.ephemeral
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}
