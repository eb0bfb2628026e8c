//! Where a server's state lives: SQLite in the data directory (the default), or a PostgreSQL
//! database (`--database postgres://…`, `SLUICE_DATABASE_URL`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use sluice_engine::Store;
use sluice_store::{Durability, Sealer, SqliteStore};

use crate::commands::STATE_FILE;

/// The key file a data directory holds when none is named.
pub(crate) const SECRET_KEY_FILE: &str = "secret.key";

/// The key that seals secrets at rest: `key_file`, else `default_dir`'s `secret.key`,
/// generated there on first use.
pub(crate) fn secret_key(key_file: Option<&Path>, default_dir: &Path) -> Result<Arc<Sealer>> {
    let path = key_file.map_or_else(|| default_dir.join(SECRET_KEY_FILE), Path::to_path_buf);
    let (sealer, created) = Sealer::load_or_create(&path)
        .with_context(|| format!("the secret key {}", path.display()))?;
    if created {
        tracing::info!(
            path = %path.display(),
            key = sealer.key_id(),
            "generated the key that seals secrets in the state database; back it up with the database"
        );
    }
    Ok(Arc::new(sealer))
}

/// A state database, as the command line names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StateLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (it may carry a password: never print it, print
    /// [`OpenStore::describe`] instead).
    Postgres(String),
}

impl StateLocation {
    /// The directory of a SQLite database (where its key file lives by default).
    pub(crate) fn sqlite_dir(&self) -> Option<&Path> {
        match self {
            StateLocation::Sqlite(path) => Some(path.parent().unwrap_or_else(|| Path::new("."))),
            StateLocation::Postgres(_) => None,
        }
    }

    /// `postgres://…` / `postgresql://…` is a database; anything else a path: a directory
    /// (a data directory, whose `sluice.db` is meant) or a SQLite file.
    pub(crate) fn parse(text: &str) -> StateLocation {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return StateLocation::Postgres(text.to_owned());
        }
        let path = Path::new(text);
        if path.is_dir() {
            StateLocation::Sqlite(path.join(STATE_FILE))
        } else {
            StateLocation::Sqlite(path.to_path_buf())
        }
    }
}

/// An open state store and how to close it.
pub(crate) struct OpenStore {
    pub(crate) store: Arc<dyn Store>,
    backend: Backend,
}

enum Backend {
    Sqlite(Arc<SqliteStore>, PathBuf),
    #[cfg(feature = "postgres")]
    Postgres(Arc<sluice_store::PostgresStore>),
}

impl OpenStore {
    /// Opens (creating and migrating as needed) the store at `location`, sealing secrets
    /// with `sealer`.
    pub(crate) async fn open(
        location: &StateLocation,
        durability: Durability,
        sealer: Arc<Sealer>,
    ) -> Result<OpenStore> {
        match location {
            StateLocation::Sqlite(path) => {
                let store = SqliteStore::open_with(path, durability).await?;
                let store = Arc::new(store.seal_with(sealer).await?);
                Ok(OpenStore {
                    store: store.clone(),
                    backend: Backend::Sqlite(store, path.clone()),
                })
            }
            #[cfg(feature = "postgres")]
            StateLocation::Postgres(url) => {
                let store = sluice_store::PostgresStore::connect(url).await?;
                let store = Arc::new(store.seal_with(sealer).await?);
                Ok(OpenStore {
                    store: store.clone(),
                    backend: Backend::Postgres(store),
                })
            }
            #[cfg(not(feature = "postgres"))]
            StateLocation::Postgres(_) => anyhow::bail!(
                "{}",
                sluice_data::left_out("a PostgreSQL state database", "PostgreSQL", "postgres")
            ),
        }
    }

    /// The coordination of several servers sharing the database: PostgreSQL's; `None` for
    /// SQLite, which belongs to one process.
    pub(crate) fn cluster(&self) -> Option<Arc<dyn sluice_engine::Cluster>> {
        match &self.backend {
            Backend::Sqlite(..) => None,
            #[cfg(feature = "postgres")]
            Backend::Postgres(store) => Some(store.clone()),
        }
    }

    /// The store for messages: the file, or the database without its password.
    pub(crate) fn describe(&self) -> String {
        match &self.backend {
            Backend::Sqlite(_, path) => path.display().to_string(),
            #[cfg(feature = "postgres")]
            Backend::Postgres(store) => store.location().to_owned(),
        }
    }

    pub(crate) async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(store, _) => store.close().await,
            #[cfg(feature = "postgres")]
            Backend::Postgres(store) => store.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_databases_and_directories_hold_the_state_file() {
        assert_eq!(
            StateLocation::parse("postgres://u:p@h/db"),
            StateLocation::Postgres("postgres://u:p@h/db".into())
        );
        assert_eq!(
            StateLocation::parse("PostgreSQL://h/db"),
            StateLocation::Postgres("PostgreSQL://h/db".into())
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            StateLocation::parse(dir.path().to_str().unwrap()),
            StateLocation::Sqlite(dir.path().join(STATE_FILE))
        );
        assert_eq!(
            StateLocation::parse("/srv/old/state.db"),
            StateLocation::Sqlite("/srv/old/state.db".into())
        );
    }
}
