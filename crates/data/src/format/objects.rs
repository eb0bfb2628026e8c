//! Records in object-store objects: reading one object as a stream of record batches, and
//! writing a stream of batches as one object that appears only when the writer commits.
//!
//! Parsing and formatting run on blocking threads (they are CPU work over `std::io`); bytes
//! cross to the async object store through `SyncIoBridge`. Batches travel over bounded
//! channels, so memory stays bounded however large the objects are.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::sync::mpsc;
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::{Compression, FormatError, Record, RecordFormat, WriteFormat};

/// Records per batch sent between reader, converter and writer.
pub const BATCH_RECORDS: usize = 1024;
/// Batches in flight per channel.
pub const CHANNEL_BATCHES: usize = 8;

/// A batch of records.
pub type Batch = Vec<Record>;

/// What flows into an object writer: batches, then `Commit` once every producer succeeded.
/// A writer whose channel closes without `Commit` discards what it wrote.
#[derive(Debug)]
pub enum Chunk {
    Records(Batch),
    Commit,
}

/// One object: the store holding it, its key there, and its `s3://` URI for messages.
#[derive(Debug, Clone)]
pub struct ObjectFile {
    pub store: Arc<dyn ObjectStore>,
    pub path: Path,
    pub uri: String,
}

/// Why moving records in or out of an object failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectIoError {
    #[error("{uri}: {source}")]
    Format { uri: String, source: FormatError },
    #[error("{uri}: {source}")]
    Store {
        uri: String,
        source: object_store::Error,
    },
    #[error("{uri}: {message}")]
    Other { uri: String, message: String },
}

impl ObjectFile {
    fn format_err(&self) -> impl Fn(FormatError) -> ObjectIoError + '_ {
        |source| ObjectIoError::Format {
            uri: self.uri.clone(),
            source,
        }
    }

    fn store_err(&self) -> impl Fn(object_store::Error) -> ObjectIoError + '_ {
        |source| match crate::storage::Unreachable::find(&source) {
            // Said plainly rather than under object_store's layers of request details.
            Some(unreachable) => self.other(unreachable),
            None => ObjectIoError::Store {
                uri: self.uri.clone(),
                source,
            },
        }
    }

    fn other(&self, message: impl std::fmt::Display) -> ObjectIoError {
        ObjectIoError::Other {
            uri: self.uri.clone(),
            message: message.to_string(),
        }
    }

    /// Every object under this key taken as a directory, in key order, skipping names that
    /// start with `_` or `.` (markers such as `_SUCCESS`, as Hadoop does).
    pub async fn list_dir(&self) -> Result<Vec<ObjectFile>, ObjectIoError> {
        let mut paths: Vec<Path> = self
            .store
            .list(Some(&self.path))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(self.store_err())?;
        paths.retain(|p| {
            p.filename()
                .is_some_and(|name| !name.starts_with('_') && !name.starts_with('.'))
        });
        paths.sort();
        let base = self.uri.trim_end_matches('/');
        let prefix = self.path.as_ref().trim_end_matches('/');
        Ok(paths
            .into_iter()
            .map(|path| {
                let rel = path.as_ref()[prefix.len()..]
                    .trim_start_matches('/')
                    .to_string();
                ObjectFile {
                    store: self.store.clone(),
                    uri: format!("{base}/{rel}"),
                    path,
                }
            })
            .collect())
    }

    /// The object at relative path `name` (`/`-separated) inside this key taken as a directory.
    pub fn child(&self, name: &str) -> ObjectFile {
        let path = name
            .split('/')
            .filter(|part| !part.is_empty())
            .fold(self.path.clone(), |path, part| path.join(part));
        ObjectFile {
            store: self.store.clone(),
            path,
            uri: format!("{}/{name}", self.uri.trim_end_matches('/')),
        }
    }

    /// Whether the object exists.
    pub async fn exists(&self) -> Result<bool, ObjectIoError> {
        match self.store.head(&self.path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.store_err()(e)),
        }
    }

    /// Deletes the object; a missing object is not an error.
    pub async fn delete(&self) -> Result<(), ObjectIoError> {
        match self.store.delete(&self.path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.store_err()(e)),
        }
    }

    /// The object's bytes as an async reader.
    pub async fn byte_reader(
        &self,
    ) -> Result<impl tokio::io::AsyncBufRead + Unpin + Send + 'static, ObjectIoError> {
        let get = self.store.get(&self.path).await.map_err(self.store_err())?;
        Ok(StreamReader::new(
            get.into_stream().map_err(std::io::Error::other).boxed(),
        ))
    }

    /// The whole object as text (scripts, manifests).
    pub async fn read_to_string(&self) -> Result<String, ObjectIoError> {
        let get = self.store.get(&self.path).await.map_err(self.store_err())?;
        let bytes = get.bytes().await.map_err(self.store_err())?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.other("is not valid UTF-8 text"))
    }

    /// Copies this object's bytes to `to`, server-side when both are in the same store.
    pub async fn copy_to(&self, to: &ObjectFile) -> Result<(), ObjectIoError> {
        if Arc::ptr_eq(&self.store, &to.store) {
            return self
                .store
                .copy(&self.path, &to.path)
                .await
                .map_err(self.store_err());
        }
        let mut reader = self.byte_reader().await?;
        let mut writer = BufWriter::new(to.store.clone(), to.path.clone());
        let copied = tokio::io::copy_buf(&mut reader, &mut writer).await;
        match copied {
            Ok(_) => {
                use tokio::io::AsyncWriteExt;
                writer.shutdown().await.map_err(|e| to.other(e))
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(self.other(e))
            }
        }
    }

    /// Reads every record of the object and sends them in batches on `tx` (never `Commit`: that
    /// is for whoever runs every producer); returns how many. Stops early without error if the receiver goes away (its side reports why).
    pub async fn read_records(
        &self,
        format: RecordFormat,
        compression: Compression,
        tx: mpsc::Sender<Chunk>,
    ) -> Result<u64, ObjectIoError> {
        let reader = self.byte_reader().await?;
        let handle = tokio::runtime::Handle::current();
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let bridge = SyncIoBridge::new_with_handle(reader, handle);
            let mut records = format
                .reader(compression.decode(bridge))
                .map_err(this.format_err())?;
            let mut batch = Vec::with_capacity(BATCH_RECORDS);
            let mut count = 0;
            while let Some(record) = records.next_record().map_err(this.format_err())? {
                batch.push(record);
                count += 1;
                if batch.len() == BATCH_RECORDS {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RECORDS));
                    if tx.blocking_send(Chunk::Records(full)).is_err() {
                        return Ok(count);
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.blocking_send(Chunk::Records(batch));
            }
            Ok(count)
        })
        .await
        .map_err(|e| self.other(e))?
    }

    /// Writes the records received on `rx` as this object. The object appears (atomically,
    /// through a single or multipart upload) only when `Commit` arrives; if the channel closes
    /// first, or anything fails, the upload is aborted and nothing is left behind.
    pub async fn write_records(
        &self,
        format: impl WriteFormat,
        compression: Compression,
        mut rx: mpsc::Receiver<Chunk>,
    ) -> Result<u64, ObjectIoError> {
        let writer = BufWriter::with_capacity(self.store.clone(), self.path.clone(), 8 << 20);
        let handle = tokio::runtime::Handle::current();
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut bridge = SyncIoBridge::new_with_handle(writer, handle.clone());
            let written = (|| {
                let mut records = format
                    .record_writer(compression.encode(&mut bridge))
                    .map_err(this.format_err())?;
                let mut count = 0u64;
                loop {
                    match rx.blocking_recv() {
                        Some(Chunk::Records(batch)) => {
                            for record in &batch {
                                records.write_record(record).map_err(this.format_err())?;
                            }
                            count += batch.len() as u64;
                        }
                        Some(Chunk::Commit) => break,
                        None => return Err(this.other("the copy stopped before the end")),
                    }
                }
                records.finish().map_err(this.format_err())?;
                Ok(count)
            })();
            match written {
                Ok(count) => {
                    bridge.shutdown().map_err(|e| this.other(e))?;
                    Ok(count)
                }
                Err(e) => {
                    let mut inner = bridge.into_inner();
                    let _ = handle.block_on(inner.abort());
                    Err(e)
                }
            }
        })
        .await
        .map_err(|e| self.other(e))?
    }
}

impl From<crate::storage::Location> for ObjectFile {
    fn from(location: crate::storage::Location) -> Self {
        ObjectFile {
            store: location.store,
            path: location.path,
            uri: location.uri,
        }
    }
}

/// One entry of a Redshift-format manifest (`{"entries": [{"url": …, "mandatory": …}]}`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    pub url: String,
    /// A missing mandatory file fails the load; a missing optional one is skipped.
    #[serde(default)]
    pub mandatory: bool,
    /// Redshift's `meta.content_length`; accepted and not checked.
    #[serde(default)]
    pub meta: Option<serde_json::Value>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    entries: Vec<ManifestEntry>,
}

/// The entries of a Redshift-format manifest, in file order. The error says what is wrong
/// with the document (serde's message carries line and column).
pub fn parse_manifest(text: &str) -> Result<Vec<ManifestEntry>, String> {
    let manifest: Manifest = serde_json::from_str(text)
        .map_err(|e| format!("is not a manifest of the form {{\"entries\": [{{\"url\": \"s3://bucket/key\", \"mandatory\": true}}]}}: {e}"))?;
    if let Some(entry) = manifest.entries.iter().find(|e| e.url.trim().is_empty()) {
        return Err(format!("has an entry with an empty url: {entry:?}"));
    }
    Ok(manifest.entries)
}

#[cfg(test)]
mod manifest_tests {
    use super::parse_manifest;

    #[test]
    fn entries_default_to_optional_and_bad_documents_are_named() {
        let entries = parse_manifest(
            r#"{"entries": [{"url": "s3://b/a", "mandatory": true}, {"url": "s3://b/c", "meta": {"content_length": 5}}]}"#,
        )
        .unwrap();
        assert_eq!(entries.len(), 2);
        assert!(entries[0].mandatory && !entries[1].mandatory);
        assert_eq!(entries[1].url, "s3://b/c");
        assert!(
            parse_manifest(r#"{"files": []}"#)
                .unwrap_err()
                .contains("entries")
        );
        assert!(
            parse_manifest(r#"{"entries": [{"url": ""}]}"#)
                .unwrap_err()
                .contains("empty url")
        );
    }
}
