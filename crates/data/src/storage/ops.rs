//! Operations on objects: existence checks, listing, and moving whole files and directories
//! between local disk and a store.
//!
//! Downloads are written to a temporary file beside the target and renamed into place, and
//! uploads use one PUT (or one multipart upload, completed at the end), so a reader on either
//! side never sees half an object.

use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::StorageError;
use super::stores::{Location, ObjectStores};

/// Files up to this size are uploaded with one PUT; larger ones as a multipart upload.
pub const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;

/// The part size of multipart uploads (S3's minimum is 5 MiB).
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// How many parts of one upload are in flight at once.
const PART_CONCURRENCY: usize = 4;

/// How many objects of a directory are downloaded or uploaded at once.
const TRANSFER_CONCURRENCY: usize = 8;

/// An object found by [`Location::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The object's URI, in the same form as the listed prefix.
    pub uri: String,
    /// The key relative to the listed prefix, `/`-separated.
    pub relative: String,
    pub size: u64,
}

impl Location {
    /// Whether an object exists at exactly this key. A missing object is `Ok(false)`; a
    /// missing S3 bucket is an error, since no key can ever appear in it.
    pub async fn exists(&self) -> Result<bool, StorageError> {
        match self.store.head(&self.path).await {
            Ok(_) => Ok(true),
            Err(err) => match StorageError::from_store("check", &self.uri, err) {
                StorageError::NotFound { .. } => {
                    // A HEAD response has no body, so a missing bucket looks like a missing
                    // key; a listing (usually empty: nothing is under a file's key) tells them
                    // apart.
                    self.first_under().await?;
                    Ok(false)
                }
                err => Err(err),
            },
        }
    }

    /// The object's size and modification time.
    pub async fn head(&self) -> Result<ObjectMeta, StorageError> {
        self.store
            .head(&self.path)
            .await
            .map_err(|err| StorageError::from_store("read", &self.uri, err))
    }

    /// Whether any object's key starts with this key, as S3's `ListObjects` `prefix` means it:
    /// `s3://b/logs/2026-` matches `logs/2026-01.txt`, and `s3://b/logs/` everything under
    /// `logs/`.
    pub async fn prefix_not_empty(&self) -> Result<bool, StorageError> {
        if self.uri.ends_with('/') || self.path.as_ref().is_empty() {
            return self.first_under().await.map(|o| o.is_some());
        }
        // Keys sort after their prefix and before anything else greater than it, so the first
        // key after this one under the same parent decides (S3 lists in key order; a local
        // store's default filters the whole listing, which is also correct).
        let needle = self.path.as_ref().to_string();
        let parts: Vec<_> = self.path.parts().collect();
        let parent: Path = parts[..parts.len() - 1].iter().cloned().collect();
        let parent = (!parent.as_ref().is_empty()).then_some(parent);
        let mut stream = self.store.list_with_offset(parent.as_ref(), &self.path);
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(|err| StorageError::from_store("list", &self.uri, err))?;
            if meta.location.as_ref().starts_with(&needle) {
                return Ok(true);
            }
        }
        // The listing starts after the key itself.
        self.exists().await
    }

    async fn first_under(&self) -> Result<Option<ObjectMeta>, StorageError> {
        let prefix = (!self.path.as_ref().is_empty()).then_some(&self.path);
        let mut stream = self.store.list(prefix);
        match stream.next().await {
            Some(Ok(meta)) => Ok(Some(meta)),
            Some(Err(err)) => Err(StorageError::from_store("list", &self.uri, err)),
            None => Ok(None),
        }
    }

    /// Every object under this key taken as a directory (`s3://b/dir` lists `dir/…`), sorted
    /// by key.
    pub async fn list(&self) -> Result<Vec<Listed>, StorageError> {
        let prefix = (!self.path.as_ref().is_empty()).then_some(&self.path);
        let metas: Vec<ObjectMeta> = self
            .store
            .list(prefix)
            .try_collect()
            .await
            .map_err(|err| StorageError::from_store("list", &self.uri, err))?;
        let base = self.uri.trim_end_matches('/');
        let mut listed: Vec<Listed> = metas
            .into_iter()
            .filter_map(|meta| {
                let relative: Vec<String> = meta
                    .location
                    .prefix_match(&self.path)?
                    .map(|p| p.as_ref().to_string())
                    .collect();
                let relative = relative.join("/");
                (!relative.is_empty()).then(|| Listed {
                    uri: format!("{base}/{relative}"),
                    relative,
                    size: meta.size,
                })
            })
            .collect();
        listed.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(listed)
    }

    /// The whole object in memory; for small objects such as scripts.
    pub async fn get_bytes(&self) -> Result<Bytes, StorageError> {
        let result = self
            .store
            .get(&self.path)
            .await
            .map_err(|err| StorageError::from_store("read", &self.uri, err))?;
        result
            .bytes()
            .await
            .map_err(|err| StorageError::from_store("read", &self.uri, err))
    }

    /// Bytes `range` of the object, which must lie within it (ask [`Location::head`] for its
    /// size first): the end of a log without reading the rest.
    pub async fn get_range(&self, range: Range<u64>) -> Result<Bytes, StorageError> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        self.store
            .get_range(&self.path, range)
            .await
            .map_err(|err| StorageError::from_store("read", &self.uri, err))
    }

    /// Writes `bytes` as the whole object.
    pub async fn put_bytes(&self, bytes: impl Into<Bytes>) -> Result<(), StorageError> {
        self.store
            .put(&self.path, PutPayload::from_bytes(bytes.into()))
            .await
            .map(drop)
            .map_err(|err| StorageError::from_store("write", &self.uri, err))
    }

    /// Deletes the object; one that is not there is not an error.
    pub async fn delete(&self) -> Result<(), StorageError> {
        match self.store.delete(&self.path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(StorageError::from_store("delete", &self.uri, err)),
        }
    }

    /// Downloads the object to `file` (parent directories created), returning its size. The
    /// file appears complete or not at all.
    pub async fn get_to_file(&self, file: &FsPath) -> Result<u64, StorageError> {
        let io = |err| StorageError::io("download", &self.uri, file.to_path_buf(), err);
        if let Some(parent) = file.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        let result = self
            .store
            .get(&self.path)
            .await
            .map_err(|err| StorageError::from_store("read", &self.uri, err))?;
        let partial = partial_name(file);
        let mut out = tokio::fs::File::create(&partial).await.map_err(io)?;
        let mut stream = result.into_stream();
        let mut written = 0u64;
        let copied: Result<(), StorageError> = async {
            while let Some(chunk) = stream.next().await {
                let chunk =
                    chunk.map_err(|err| StorageError::from_store("read", &self.uri, err))?;
                out.write_all(&chunk).await.map_err(io)?;
                written += chunk.len() as u64;
            }
            out.flush().await.map_err(io)?;
            out.sync_all().await.map_err(io)?;
            tokio::fs::rename(&partial, file).await.map_err(io)
        }
        .await;
        if copied.is_err() {
            let _ = tokio::fs::remove_file(&partial).await;
        }
        copied.map(|()| written)
    }

    /// Uploads `file` as this object, returning its size: one PUT up to
    /// [`MULTIPART_THRESHOLD`], a multipart upload beyond (aborted on failure, so no partial
    /// object is left behind).
    pub async fn put_file(&self, file: &FsPath) -> Result<u64, StorageError> {
        let io = |err| StorageError::io("upload to", &self.uri, file.to_path_buf(), err);
        let mut input = tokio::fs::File::open(file).await.map_err(io)?;
        let size = input.metadata().await.map_err(io)?.len();
        if size <= MULTIPART_THRESHOLD {
            let mut data = Vec::with_capacity(size as usize);
            input.read_to_end(&mut data).await.map_err(io)?;
            let len = data.len() as u64;
            self.put_bytes(data).await?;
            return Ok(len);
        }
        let store_err = |err| StorageError::from_store("write", &self.uri, err);
        let upload = self
            .store
            .put_multipart(&self.path)
            .await
            .map_err(store_err)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; PART_SIZE];
        let mut total = 0u64;
        loop {
            let n = match input.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) => {
                    let _ = writer.abort().await;
                    return Err(io(err));
                }
            };
            if let Err(err) = writer.wait_for_capacity(PART_CONCURRENCY).await {
                let _ = writer.abort().await;
                return Err(store_err(err));
            }
            writer.write(&buf[..n]);
            total += n as u64;
        }
        writer.finish().await.map_err(store_err)?;
        Ok(total)
    }

    /// Copies this object to `to`: inside the store when both are in the same one, streamed
    /// through this process otherwise.
    pub async fn copy_to(&self, to: &Location) -> Result<(), StorageError> {
        if Arc::ptr_eq(&self.store, &to.store) {
            return self
                .store
                .copy(&self.path, &to.path)
                .await
                .map_err(|err| StorageError::from_store("copy", &self.uri, err));
        }
        let result = self
            .store
            .get(&self.path)
            .await
            .map_err(|err| StorageError::from_store("read", &self.uri, err))?;
        if result.meta.size <= MULTIPART_THRESHOLD {
            let bytes = result
                .bytes()
                .await
                .map_err(|err| StorageError::from_store("read", &self.uri, err))?;
            return to.put_bytes(bytes).await;
        }
        let store_err = |err| StorageError::from_store("write", &to.uri, err);
        let upload = to.store.put_multipart(&to.path).await.map_err(store_err)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(err) => {
                    let _ = writer.abort().await;
                    return Err(StorageError::from_store("read", &self.uri, err));
                }
            };
            if let Err(err) = writer.wait_for_capacity(PART_CONCURRENCY).await {
                let _ = writer.abort().await;
                return Err(store_err(err));
            }
            writer.put(chunk);
        }
        writer.finish().await.map(drop).map_err(store_err)
    }

    /// Downloads every object under this prefix into `dir`, keeping their relative paths,
    /// several at a time; returns how many objects were downloaded.
    pub async fn get_dir(&self, dir: &FsPath) -> Result<usize, StorageError> {
        let objects = self.list().await?;
        let count = objects.len();
        futures::stream::iter(objects)
            .map(|object| async move {
                let target = object
                    .relative
                    .split('/')
                    .fold(dir.to_path_buf(), |path, part| path.join(part));
                self.child(&object.relative)?.get_to_file(&target).await
            })
            .buffer_unordered(TRANSFER_CONCURRENCY)
            .try_collect::<Vec<u64>>()
            .await?;
        Ok(count)
    }

    /// Uploads every file under `dir` below this prefix, keeping their relative paths, several
    /// at a time; returns how many files were uploaded.
    pub async fn put_dir(&self, dir: &FsPath) -> Result<usize, StorageError> {
        let root = dir.to_path_buf();
        let files = tokio::task::spawn_blocking(move || files_under(&root))
            .await
            .unwrap_or_else(|join| Err(std::io::Error::other(join.to_string())))
            .map_err(|err| StorageError::io("upload to", &self.uri, dir.to_path_buf(), err))?;
        let count = files.len();
        futures::stream::iter(files)
            .map(|(file, relative)| async move { self.child(&relative)?.put_file(&file).await })
            .buffer_unordered(TRANSFER_CONCURRENCY)
            .try_collect::<Vec<u64>>()
            .await?;
        Ok(count)
    }

    /// The location of `relative` (`/`-separated) under this one.
    pub fn child(&self, relative: &str) -> Result<Location, StorageError> {
        let mut path = self.path.clone();
        for part in relative.split('/').filter(|p| !p.is_empty()) {
            if part == "." || part == ".." {
                return Err(StorageError::InvalidUri {
                    uri: format!("{}/{relative}", self.uri.trim_end_matches('/')),
                    reason: "'.' and '..' are not allowed in keys".into(),
                });
            }
            path = path.join(part);
        }
        Ok(Location {
            store: Arc::clone(&self.store),
            path,
            uri: format!("{}/{relative}", self.uri.trim_end_matches('/')),
        })
    }
}

impl ObjectStores {
    /// [`Location::get_to_file`] for a URI.
    pub async fn get_to_file(&self, uri: &str, file: &FsPath) -> Result<u64, StorageError> {
        self.resolve(uri)?.get_to_file(file).await
    }

    /// [`Location::put_file`] for a URI.
    pub async fn put_file(&self, file: &FsPath, uri: &str) -> Result<u64, StorageError> {
        self.resolve(uri)?.put_file(file).await
    }

    /// [`Location::list`] for a URI.
    pub async fn list(&self, prefix_uri: &str) -> Result<Vec<Listed>, StorageError> {
        self.resolve(prefix_uri)?.list().await
    }

    /// [`Location::exists`] for a URI.
    pub async fn exists(&self, uri: &str) -> Result<bool, StorageError> {
        self.resolve(uri)?.exists().await
    }

    /// Whether `uri` names an object: on local disk a regular file, on S3 an existing key.
    pub async fn file_exists(&self, uri: &str) -> Result<bool, StorageError> {
        match self.local_path(uri)? {
            Some(path) => local_kind(uri, &path).await.map(|k| k == Some(false)),
            None => self.resolve(uri)?.exists().await,
        }
    }

    /// Whether `uri` names a directory: on local disk an existing directory (possibly empty),
    /// on S3 a prefix with at least one object under `uri/`, since S3 has no empty
    /// directories.
    pub async fn dir_exists(&self, uri: &str) -> Result<bool, StorageError> {
        match self.local_path(uri)? {
            Some(path) => local_kind(uri, &path).await.map(|k| k == Some(true)),
            None => Ok(self.resolve(uri)?.first_under().await?.is_some()),
        }
    }

    /// [`Location::prefix_not_empty`] for a URI.
    pub async fn prefix_not_empty(&self, prefix_uri: &str) -> Result<bool, StorageError> {
        self.resolve(prefix_uri)?.prefix_not_empty().await
    }

    /// [`Location::copy_to`] between two URIs.
    pub async fn copy(&self, from: &str, to: &str) -> Result<(), StorageError> {
        self.resolve(from)?.copy_to(&self.resolve(to)?).await
    }
}

/// `Some(true)` for a directory, `Some(false)` for anything else, `None` when nothing is there.
async fn local_kind(uri: &str, path: &FsPath) -> Result<Option<bool>, StorageError> {
    match tokio::fs::metadata(path).await {
        Ok(meta) => Ok(Some(meta.is_dir())),
        Err(err)
            if matches!(
                err.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(err) => Err(StorageError::io("check", uri, path.to_path_buf(), err)),
    }
}

/// `<name>.partial` beside `file`, where a download is written before it is renamed into place.
fn partial_name(file: &FsPath) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    file.with_file_name(name)
}

/// Every regular file under `root` with its `/`-separated path relative to `root`. A link to a
/// file counts as the file; a link to a directory is an error, since following it could loop
/// or leave the tree.
fn files_under(root: &FsPath) -> std::io::Result<Vec<(PathBuf, String)>> {
    fn walk(dir: &FsPath, prefix: &str, out: &mut Vec<(PathBuf, String)>) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().into_string().map_err(|name| {
                std::io::Error::other(format!("file name {name:?} is not UTF-8"))
            })?;
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                walk(&path, &relative, out)?;
            } else if kind.is_symlink() && std::fs::metadata(&path)?.is_dir() {
                return Err(std::io::Error::other(format!(
                    "{} is a link to a directory, which is not uploaded",
                    path.display()
                )));
            } else {
                out.push((path, relative));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, "", &mut out)?;
    Ok(out)
}
