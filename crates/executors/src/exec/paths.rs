//! Where a URI written in a definition lives in the embedded layout.
//!
//! Executors read and write through the runner's object stores
//! ([`AttemptContext::object_stores`](crate::AttemptContext::object_stores)), which send
//! `s3://` to an S3 server when one is configured. [`local_path_for`] knows only the embedded
//! layout (`s3://bucket/key` is `<data_dir>/s3/bucket/key`) and stays for callers that need a
//! plain file path and run without an S3 server.

use std::path::{Component, Path, PathBuf};

use crate::execute::RunnerSettings;

/// The directory under the data directory that holds the embedded object store.
pub const OBJECT_STORE_DIR: &str = sluice_data::storage::EMBEDDED_DIR;

/// Maps `uri` to a local path.
///
/// Accepted forms:
/// - `s3://bucket/key` → `<data_dir>/s3/bucket/key` (the key may be empty or end in `/`);
/// - `file:///abs/path` or `file://localhost/abs/path` → `/abs/path`;
/// - an absolute local path, used as it is.
///
/// Relative local paths are rejected: the runner's working directory is not the attempt's, so
/// a relative path would silently mean different places to the runner and to the command.
/// `..` components are rejected in S3 URIs so that a key cannot escape the object store.
pub fn local_path_for(uri: &str, settings: &RunnerSettings) -> Result<PathBuf, String> {
    if uri.is_empty() {
        return Err("empty path".to_string());
    }
    if let Some(rest) = strip_scheme(uri, "s3") {
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("S3 URI '{uri}' has no bucket"));
        }
        let mut path = settings.data_dir.join(OBJECT_STORE_DIR);
        for part in std::iter::once(bucket).chain(key.split('/')) {
            match part {
                "" | "." => {}
                ".." => return Err(format!("S3 URI '{uri}' must not contain '..'")),
                part => path.push(part),
            }
        }
        return Ok(path);
    }
    if let Some(rest) = strip_scheme(uri, "file") {
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        if !path.starts_with('/') {
            return Err(format!(
                "file URI '{uri}' must name an absolute path on this host (file:///path)"
            ));
        }
        return Ok(PathBuf::from(path));
    }
    if let Some((scheme, _)) = uri.split_once("://") {
        return Err(format!(
            "unsupported URI scheme '{scheme}' in '{uri}': expected s3://, file:// or an absolute local path"
        ));
    }
    let path = Path::new(uri);
    if !path.is_absolute() {
        return Err(format!(
            "local path '{uri}' must be absolute (or use s3:// or file://)"
        ));
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(format!("local path '{uri}' must not contain '..'"));
    }
    Ok(path.to_path_buf())
}

/// The part after `scheme://`, matching the scheme case-insensitively as URIs do.
fn strip_scheme<'a>(uri: &'a str, scheme: &str) -> Option<&'a str> {
    let (head, rest) = uri.split_once("://")?;
    head.eq_ignore_ascii_case(scheme).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RunnerSettings {
        RunnerSettings {
            data_dir: PathBuf::from("/var/lib/sluice"),
            ..RunnerSettings::default()
        }
    }

    #[test]
    fn s3_uris_map_into_the_object_store() {
        let s = settings();
        assert_eq!(
            local_path_for("s3://bucket/a/b.txt", &s).unwrap(),
            PathBuf::from("/var/lib/sluice/s3/bucket/a/b.txt")
        );
        assert_eq!(
            local_path_for("s3://bucket/dir/", &s).unwrap(),
            PathBuf::from("/var/lib/sluice/s3/bucket/dir")
        );
        assert_eq!(
            local_path_for("S3://bucket", &s).unwrap(),
            PathBuf::from("/var/lib/sluice/s3/bucket")
        );
        assert!(
            local_path_for("s3:///key", &s)
                .unwrap_err()
                .contains("no bucket")
        );
        assert!(
            local_path_for("s3://b/../../etc", &s)
                .unwrap_err()
                .contains("..")
        );
    }

    #[test]
    fn file_uris_and_absolute_paths_are_local() {
        let s = settings();
        assert_eq!(
            local_path_for("file:///tmp/x", &s).unwrap(),
            PathBuf::from("/tmp/x")
        );
        assert_eq!(
            local_path_for("file://localhost/tmp/x", &s).unwrap(),
            PathBuf::from("/tmp/x")
        );
        assert_eq!(
            local_path_for("/tmp/x", &s).unwrap(),
            PathBuf::from("/tmp/x")
        );
        assert!(local_path_for("file://otherhost/tmp/x", &s).is_err());
    }

    #[test]
    fn other_schemes_and_relative_paths_are_errors() {
        let s = settings();
        let err = local_path_for("https://example.com/x.sh", &s).unwrap_err();
        assert!(err.contains("unsupported URI scheme 'https'"), "{err}");
        let err = local_path_for("scripts/x.sh", &s).unwrap_err();
        assert!(err.contains("must be absolute"), "{err}");
        assert!(local_path_for("", &s).is_err());
    }
}
