//! Accounts and their access keys: the long-term keys of a [`CredentialStore`] and the
//! short-lived ones a [`KeyRing`] mints for the task runners the service starts. Verifying a
//! request's signature against them is the HTTP layer's (`sluice_api::auth`); the file format
//! of the credentials file is documented there.

mod credentials;
mod ephemeral;

pub use credentials::{
    AccessKey, CredentialError, CredentialStore, DEFAULT_ACCOUNT_ID, ENV_ROOT_ACCESS_KEY_ID,
    ENV_ROOT_ACCOUNT_ID, ENV_ROOT_SECRET_ACCESS_KEY, Principal, SecretKey,
};
pub use ephemeral::KeyRing;
