//! The engine's store conformance suite, run against a database file and an in-memory database.

use std::ops::Deref;

use sluice_store::SqliteStore;
use tempfile::TempDir;

/// A store in a fresh temporary directory, removed with it.
struct FileStore {
    store: SqliteStore,
    _dir: TempDir,
}

impl Deref for FileStore {
    type Target = SqliteStore;

    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

async fn file_store() -> FileStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&dir.path().join("state").join("sluice.db"))
        .await
        .expect("open the store");
    FileStore { store, _dir: dir }
}

mod file {
    use super::*;

    sluice_engine::store_conformance_suite!(file_store().await);
}
