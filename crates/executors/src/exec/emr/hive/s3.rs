//! `S3DataNode`s as staged tables: the directory an input table reads, and publishing what
//! the script wrote into an output table.
//!
//! A table's location must be a directory Spark can read, and Hadoop cannot take `:` or glob
//! characters in any name on the way (see [`hadoop_safe`]). With the embedded store an input's
//! `directoryPath` is read in place (its local path) when every name allows; otherwise, and
//! for a `filePath`, its files are hard-linked (or copied) into a directory of their own, with
//! such characters replaced by `_`. With an S3 server configured, inputs are downloaded
//! first, named the same way.
//!
//! Outputs are written into a fresh directory of the attempt and published only once the
//! script has succeeded: the data files (Hadoop's hidden `.…` and `_…` files, such as `.crc`
//! checksums and `_SUCCESS`, are left behind) become `part-00000`, `part-00001`, … under
//! `directoryPath`, in the order of Spark's names, replacing the `part-…` objects an earlier
//! run left there; other objects under the directory are left alone. A `filePath` output
//! receives the files one after the other as one object. `compression: gzip` compresses on
//! the way (`.gz` is added to part names); a file Hive already compressed is published as is.

use std::path::{Path, PathBuf};

use sluice_data::format::Compression;
use sluice_data::format::objects::ObjectFile;
use sluice_data::storage::ObjectStores;
use sluice_model::{PipelineObject, TaskResult};

use crate::exec::{error_id, storage};

/// An `S3DataNode`'s location, as staging needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Side {
    pub node: String,
    /// `directoryPath` or `filePath`.
    pub uri: String,
    pub is_dir: bool,
    pub gzip: bool,
}

impl S3Side {
    /// Reads the evaluated node; `what` (`"HiveActivity input1"`) starts error messages.
    pub fn from_node(what: &str, node: &PipelineObject) -> Result<S3Side, TaskResult> {
        let invalid =
            |m: String| TaskResult::failed(error_id::INVALID_TASK, format!("{what}: {m}"));
        if node.string("manifestFilePath").is_some() {
            return Err(TaskResult::failed(
                error_id::UNSUPPORTED,
                format!(
                    "{what}: S3DataNode {} has a manifestFilePath; a staged table reads a \
                     directory or a file, not a manifest",
                    node.id
                ),
            ));
        }
        let (uri, is_dir) = match (node.string("filePath"), node.string("directoryPath")) {
            (Some(file), None) => (file, false),
            (None, Some(dir)) => (dir, true),
            _ => {
                return Err(invalid(format!(
                    "S3DataNode {} needs exactly one of filePath and directoryPath",
                    node.id
                )));
            }
        };
        let compression = Compression::parse(node.string("compression"))
            .map_err(|e| invalid(format!("S3DataNode {}: {e}", node.id)))?;
        Ok(S3Side {
            node: node.id.clone(),
            uri: uri.to_owned(),
            is_dir,
            gzip: compression == Compression::Gzip,
        })
    }
}

/// How an input was made readable, for the attempt's output.
pub struct StagedInput {
    pub dir: PathBuf,
    pub how: String,
}

/// What Hadoop cannot take in a path: it reads `:` in a path component as a URI scheme and
/// the glob characters as patterns.
const HADOOP_UNSAFE: [char; 8] = [':', '{', '}', '[', ']', '*', '?', '\\'];

/// Whether Hadoop can take `path` as it is: a table location and every name below it must
/// avoid [`HADOOP_UNSAFE`]. (Attempt directories have `:` in their names, S3 keys often do.)
pub fn hadoop_safe(path: &str) -> bool {
    !path.contains(HADOOP_UNSAFE)
}

/// `name` with what Hadoop cannot take replaced by `_`.
pub fn safe_name(name: &str) -> String {
    name.replace(HADOOP_UNSAFE, "_")
}

/// Makes the input's files readable as one local directory; `scratch` is a fresh directory
/// the input may be put in.
pub async fn stage_input(
    stores: &ObjectStores,
    what: &str,
    side: &S3Side,
    scratch: &Path,
) -> Result<StagedInput, TaskResult> {
    let failed = |e: &sluice_data::storage::StorageError| storage::failed(what, e);
    let io_failed = |action: &str, path: &Path, e: std::io::Error| {
        TaskResult::failed(
            error_id::STAGING_FAILED,
            format!("{what}: cannot {action} {}: {e}", path.display()),
        )
    };
    let local = stores.local_path(&side.uri).map_err(|e| failed(&e))?;
    make_dir(scratch)
        .await
        .map_err(|e| io_failed("create", scratch, e))?;
    let staged = |how: String| StagedInput {
        dir: scratch.to_path_buf(),
        how,
    };
    match (local, side.is_dir) {
        (Some(dir), true) => {
            let dir = std::path::absolute(&dir).unwrap_or(dir);
            match tokio::fs::metadata(&dir).await {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(TaskResult::failed(
                        error_id::INVALID_TASK,
                        format!(
                            "{what}: the directoryPath {} of {} is a file",
                            side.uri, side.node
                        ),
                    ));
                }
                // An S3 prefix with nothing under it is an empty table, not an error.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(staged(format!(
                        "{} holds nothing: the table is empty",
                        side.uri
                    )));
                }
                Err(e) => return Err(io_failed("read", &dir, e)),
            }
            let listing = dir.clone();
            let files = tokio::task::spawn_blocking(move || files_below(&listing))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
                .map_err(|e| io_failed("list", &dir, e))?;
            let in_place = hadoop_safe(&dir.to_string_lossy())
                && files.iter().all(|(_, relative)| hadoop_safe(relative));
            if in_place {
                return Ok(StagedInput {
                    how: format!("reads {} in place", dir.display()),
                    dir,
                });
            }
            for (file, relative) in &files {
                link(file, &scratch.join(safe_name(relative)))
                    .await
                    .map_err(|e| io_failed("stage", file, e))?;
            }
            Ok(staged(format!(
                "linked the {} files of {} into {} (Hadoop cannot read their names as they are)",
                files.len(),
                side.uri,
                scratch.display()
            )))
        }
        (Some(file), false) => {
            let target = scratch.join(safe_name(&file_name(what, side)?));
            link(&file, &target).await.map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    TaskResult::failed(
                        error_id::STAGING_FAILED,
                        format!(
                            "{what}: the filePath {} of {} does not exist",
                            side.uri, side.node
                        ),
                    )
                } else {
                    io_failed("stage", &file, e)
                }
            })?;
            Ok(staged(format!(
                "reads {} from {}",
                side.uri,
                scratch.display()
            )))
        }
        (None, true) => {
            let location = stores.resolve(&side.uri).map_err(|e| failed(&e))?;
            let objects = location.list().await.map_err(|e| failed(&e))?;
            for object in &objects {
                let target = scratch.join(safe_name(&object.relative));
                location
                    .child(&object.relative)
                    .map_err(|e| failed(&e))?
                    .get_to_file(&target)
                    .await
                    .map_err(|e| failed(&e))?;
            }
            Ok(staged(format!(
                "downloaded {} objects of {} into {}",
                objects.len(),
                side.uri,
                scratch.display()
            )))
        }
        (None, false) => {
            let target = scratch.join(safe_name(&file_name(what, side)?));
            stores
                .get_to_file(&side.uri, &target)
                .await
                .map_err(|e| failed(&e))?;
            Ok(staged(format!(
                "downloaded {} into {}",
                side.uri,
                scratch.display()
            )))
        }
    }
}

/// A hard link to `file` at `target` (a copy across file systems).
async fn link(file: &Path, target: &Path) -> std::io::Result<()> {
    if let Some(dir) = target.parent() {
        make_dir(dir).await?;
    }
    match tokio::fs::hard_link(file, target).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(e),
        Err(_) => tokio::fs::copy(file, target).await.map(drop),
    }
}

/// Every file below `dir` with its `/`-separated path relative to it.
fn files_below(dir: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((at, prefix)) = pending.pop() {
        for entry in std::fs::read_dir(&at)? {
            let entry = entry?;
            let relative = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type()?.is_dir() {
                pending.push((entry.path(), format!("{relative}/")));
            } else {
                found.push((entry.path(), relative));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

fn file_name(what: &str, side: &S3Side) -> Result<String, TaskResult> {
    side.uri
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty() && !n.ends_with(':'))
        .map(str::to_owned)
        .ok_or_else(|| {
            TaskResult::failed(
                error_id::INVALID_TASK,
                format!(
                    "{what}: the filePath {} of {} names no file",
                    side.uri, side.node
                ),
            )
        })
}

pub(crate) async fn make_dir(dir: &Path) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await
}

/// The data files Hive wrote into `dir`, in name order: regular files whose names do not
/// start with `.` or `_`.
pub async fn data_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => return Err(e),
    };
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') || !entry.file_type().await?.is_file() {
            continue;
        }
        files.push(entry.path());
    }
    files.sort();
    Ok(files)
}

fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// Publishes the files of the output table in `dir` to the node; `scratch` holds compressed
/// copies. Returns a line for the attempt's output.
pub async fn publish_output(
    stores: &ObjectStores,
    what: &str,
    side: &S3Side,
    dir: &Path,
    scratch: &Path,
) -> Result<String, TaskResult> {
    let io_failed = |path: &Path, e: std::io::Error| {
        TaskResult::failed(
            error_id::STAGING_FAILED,
            format!("{what}: cannot read {}: {e}", path.display()),
        )
    };
    let failed = |e: &sluice_data::storage::StorageError| storage::failed(what, e);
    let files = data_files(dir).await.map_err(|e| io_failed(dir, e))?;
    if files.is_empty() {
        return Ok(format!(
            "{what}: the script wrote no files; nothing was published to {}",
            side.uri
        ));
    }
    make_dir(scratch).await.map_err(|e| io_failed(scratch, e))?;
    if !side.is_dir {
        let target = scratch.join("published");
        let sources = files.clone();
        let gzip = side.gzip;
        let joined = target.clone();
        tokio::task::spawn_blocking(move || join_files(&sources, &joined, gzip))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
            .map_err(|e| io_failed(&target, e))?;
        stores
            .put_file(&target, &side.uri)
            .await
            .map_err(|e| failed(&e))?;
        return Ok(format!(
            "{what}: published {} as {}",
            count(files.len(), "file"),
            side.uri
        ));
    }
    let location = stores.resolve(&side.uri).map_err(|e| failed(&e))?;
    let mut written = Vec::with_capacity(files.len());
    for (k, file) in files.iter().enumerate() {
        let compress = side.gzip && !is_gz(file);
        let ext = if compress || is_gz(file) { ".gz" } else { "" };
        let name = format!("part-{k:05}{ext}");
        let source = if compress {
            let target = scratch.join(&name);
            let (from, to) = (vec![file.clone()], target.clone());
            tokio::task::spawn_blocking(move || join_files(&from, &to, true))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
                .map_err(|e| io_failed(file, e))?;
            target
        } else {
            file.clone()
        };
        location
            .child(&name)
            .map_err(|e| failed(&e))?
            .put_file(&source)
            .await
            .map_err(|e| failed(&e))?;
        written.push(name);
    }
    // Parts of an earlier run that wrote more files would otherwise stay mixed in.
    let mut removed = 0;
    for listed in location.list().await.map_err(|e| failed(&e))? {
        let stale = !listed.relative.contains('/')
            && listed.relative.starts_with("part-")
            && !written.contains(&listed.relative);
        if stale {
            let object: ObjectFile = location
                .child(&listed.relative)
                .map_err(|e| failed(&e))?
                .into();
            object.delete().await.map_err(|e| {
                TaskResult::failed(error_id::STORAGE_FAILED, format!("{what}: {e}"))
            })?;
            removed += 1;
        }
    }
    let mut line = format!(
        "{what}: published {} under {}",
        count(written.len(), "file"),
        side.uri
    );
    if removed > 0 {
        line.push_str(&format!(
            " (removed {} of an earlier run)",
            count(removed, "part object")
        ));
    }
    Ok(line)
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Writes `sources` one after the other into `target`, gzip-compressing those not compressed
/// yet when `gzip` (one gzip member each, which readers take as one stream).
fn join_files(sources: &[PathBuf], target: &Path, gzip: bool) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(target)?);
    for source in sources {
        let mut input = std::fs::File::open(source)?;
        if gzip && !is_gz(source) {
            let mut encoder = Compression::Gzip.encode(&mut out);
            std::io::copy(&mut input, &mut encoder)?;
            encoder.finish_stream()?;
        } else {
            std::io::copy(&mut input, &mut out)?;
        }
    }
    std::io::Write::flush(&mut out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_data::storage::S3Settings;

    fn node(fields: &[(&str, &str)]) -> PipelineObject {
        PipelineObject {
            id: "Out".into(),
            name: "Out".into(),
            fields: fields
                .iter()
                .map(|(k, v)| sluice_model::Field::string(*k, *v))
                .collect(),
        }
    }

    #[test]
    fn nodes_need_one_location_and_no_manifest() {
        let side = S3Side::from_node(
            "x",
            &node(&[("directoryPath", "s3://b/out"), ("compression", "GZIP")]),
        )
        .unwrap();
        assert!(side.is_dir && side.gzip);
        let err = S3Side::from_node("x", &node(&[])).unwrap_err();
        assert!(err.error_message.unwrap().contains("exactly one of"));
        let err = S3Side::from_node(
            "x",
            &node(&[("filePath", "s3://b/f"), ("manifestFilePath", "s3://b/m")]),
        )
        .unwrap_err();
        assert_eq!(err.error_id.as_deref(), Some(error_id::UNSUPPORTED));
    }

    #[tokio::test]
    async fn data_files_become_numbered_parts_and_stale_parts_go() {
        let tmp = tempfile::tempdir().unwrap();
        let stores = ObjectStores::new(&S3Settings::default(), tmp.path()).unwrap();
        let table = tmp.path().join("table");
        std::fs::create_dir_all(&table).unwrap();
        std::fs::write(table.join("part-00001-b-c000"), "b\n").unwrap();
        std::fs::write(table.join("part-00000-a-c000"), "a\n").unwrap();
        std::fs::write(table.join(".part-00000-a-c000.crc"), "x").unwrap();
        std::fs::write(table.join("_SUCCESS"), "").unwrap();
        let out = tmp.path().join("s3/b/out");
        std::fs::create_dir_all(&out).unwrap();
        for stale in ["part-00000", "part-00002", "keep.txt"] {
            std::fs::write(out.join(stale), "old\n").unwrap();
        }
        let side = S3Side {
            node: "Out".into(),
            uri: "s3://b/out".into(),
            is_dir: true,
            gzip: false,
        };
        let line = publish_output(&stores, "o", &side, &table, &tmp.path().join("scratch"))
            .await
            .unwrap();
        assert_eq!(
            line,
            "o: published 2 files under s3://b/out (removed 1 part object of an earlier run)"
        );
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["keep.txt", "part-00000", "part-00001"]);
        assert_eq!(
            std::fs::read_to_string(out.join("part-00000")).unwrap(),
            "a\n"
        );

        let file = S3Side {
            uri: "s3://b/report.csv.gz".into(),
            is_dir: false,
            gzip: true,
            ..side
        };
        publish_output(&stores, "o", &file, &table, &tmp.path().join("scratch"))
            .await
            .unwrap();
        let bytes = std::fs::read(tmp.path().join("s3/b/report.csv.gz")).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut Compression::Gzip.decode(std::io::Cursor::new(bytes)),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, "a\nb\n");
    }
}
