//! Reading back the logs runners copy to a log location ([`attempt_logs_uri`]), for whoever
//! shows them on another machine than the runner's (the console of `sluice server`).
//!
//! Reads go through `sluice-data`'s object stores with the reader's own settings: an `s3://`
//! location is read from the S3 server those settings name (or from the reader's embedded
//! store), so reader and runner must be pointed at one store for the copies to be found.
//! Logs are read in parts (the end of a large log without the rest), each part a size check
//! and one ranged read.
//!
//! [`attempt_logs_uri`]: crate::attempt_logs_uri

use std::path::Path;

use sluice_data::DataSettings;
use sluice_data::storage::{ObjectStores, StorageError};

/// Why a copied log could not be read. Messages name the URI and never a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadedLogError {
    /// No object at the URI: the attempt wrote no such log, or its runner has not copied it
    /// (yet).
    #[error("{uri} does not exist")]
    Missing { uri: String },
    /// The store refused, could not be reached, or cannot hold such a URI.
    #[error("{0}")]
    Unreadable(String),
}

/// Part of a copied log: bytes `start..start + bytes.len()` of an object `len` bytes long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPart {
    pub start: u64,
    pub len: u64,
    pub bytes: Vec<u8>,
}

/// The object stores copied logs are read through; cheap to clone.
#[derive(Debug, Clone)]
pub struct UploadedLogs {
    stores: ObjectStores,
}

impl UploadedLogs {
    /// Readers with `settings` (their `s3` part) and `data_dir` (where the embedded store
    /// lives), sharing clients with every other user of the same settings in the process.
    pub fn new(settings: &DataSettings, data_dir: &Path) -> Result<Self, UploadedLogError> {
        ObjectStores::shared(&settings.s3, data_dir)
            .map(|stores| UploadedLogs { stores })
            .map_err(|err| UploadedLogError::Unreadable(format!("cannot read copied logs: {err}")))
    }

    /// At most `max` bytes of the log at `uri` from `offset`; none when `offset` is at or past
    /// its end.
    pub async fn read_from(
        &self,
        uri: &str,
        offset: u64,
        max: u64,
    ) -> Result<LogPart, UploadedLogError> {
        self.read(uri, |len| offset.min(len), max).await
    }

    /// The last `max` bytes of the log at `uri`.
    pub async fn read_tail(&self, uri: &str, max: u64) -> Result<LogPart, UploadedLogError> {
        self.read(uri, |len| len.saturating_sub(max), max).await
    }

    async fn read(
        &self,
        uri: &str,
        start: impl FnOnce(u64) -> u64,
        max: u64,
    ) -> Result<LogPart, UploadedLogError> {
        let failed = |err| classify(uri, err);
        let location = self.stores.resolve(uri).map_err(failed)?;
        let len = match location.head().await {
            Ok(meta) => meta.size,
            Err(StorageError::NotFound { .. }) => {
                // A HEAD answer has no body, so a missing bucket looks like a missing key;
                // `exists` tells them apart (and a missing bucket is an error, not "not yet").
                location.exists().await.map_err(failed)?;
                return Err(UploadedLogError::Missing { uri: uri.into() });
            }
            Err(err) => return Err(failed(err)),
        };
        let start = start(len);
        let end = start.saturating_add(max).min(len);
        let bytes = location.get_range(start..end).await.map_err(failed)?;
        Ok(LogPart {
            start,
            len,
            bytes: bytes.to_vec(),
        })
    }
}

fn classify(uri: &str, err: StorageError) -> UploadedLogError {
    if let StorageError::NotFound { .. } = err {
        return UploadedLogError::Missing { uri: uri.into() };
    }
    let message = err.to_string();
    if message.contains(uri) {
        UploadedLogError::Unreadable(message)
    } else {
        UploadedLogError::Unreadable(format!("cannot read {uri}: {message}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn parts_of_a_copied_log_and_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let logs = UploadedLogs::new(&DataSettings::default(), dir.path()).unwrap();
        let file = dir.path().join("copied/stdout.log");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "0123456789").unwrap();
        let uri = format!("file://{}", file.display());

        let tail = logs.read_tail(&uri, 4).await.unwrap();
        assert_eq!(
            (tail.start, tail.len, &tail.bytes[..]),
            (6, 10, &b"6789"[..])
        );
        let part = logs.read_from(&uri, 2, 3).await.unwrap();
        assert_eq!((part.start, &part.bytes[..]), (2, &b"234"[..]));
        assert!(logs.read_from(&uri, 10, 3).await.unwrap().bytes.is_empty());
        let whole = logs.read_tail(&uri, 100).await.unwrap();
        assert_eq!((whole.start, whole.bytes.len()), (0, 10));

        let missing = format!("file://{}/copied/stderr.log", dir.path().display());
        assert_eq!(
            logs.read_tail(&missing, 4).await.unwrap_err(),
            UploadedLogError::Missing {
                uri: missing.clone()
            }
        );
        let odd = logs.read_tail("ftp://host/log", 4).await.unwrap_err();
        assert!(
            matches!(&odd, UploadedLogError::Unreadable(m) if m.contains("ftp://host/log")),
            "{odd:?}"
        );
    }
}
