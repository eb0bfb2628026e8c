//! `s3://` URIs in step arguments, scripts and staged table locations, as the programs a step
//! starts must see them.
//!
//! With the embedded store (no S3 server configured), `s3://bucket/key` is the local path
//! `<data dir>/s3/bucket/key`, so a user's unchanged `spark-submit …,s3://bucket/in/` step
//! reads and writes the same objects every other activity does. Spark gets `file://` URIs
//! (a bare path would mean the cluster's default file system); other programs get the plain
//! path. `s3n://` and `s3a://`, which older EMR definitions use, map the same way.
//!
//! With an S3 server configured the URIs are left alone: Spark reads them directly only when
//! the user has configured Hadoop's S3A connector (see docs/emr.md).

use sluice_data::storage::ObjectStores;

/// How a mapped URI is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `/data/s3/bucket/key`.
    Path,
    /// `file:///data/s3/bucket/key`.
    FileUri,
}

const SCHEMES: &[&str] = &["s3://", "s3n://", "s3a://"];

/// Where a URI ends inside text: at whitespace, quotes and the punctuation that delimits
/// literals in SQL, shells and Pig Latin.
fn ends_uri(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\'' | '"' | '`' | ';' | ',' | '(' | ')' | '<' | '>')
}

/// `uri` mapped as [`Style`] says when it lives in the embedded store, else unchanged.
pub fn map_uri(stores: &ObjectStores, uri: &str, style: Style) -> String {
    let Some(scheme) = SCHEMES
        .iter()
        .find(|s| uri.len() >= s.len() && uri[..s.len()].eq_ignore_ascii_case(s))
    else {
        return uri.to_string();
    };
    let s3 = format!("s3://{}", &uri[scheme.len()..]);
    let Ok(Some(path)) = stores.local_path(&s3) else {
        return uri.to_string();
    };
    // A relative data directory would mean another place in the program's working directory.
    let path = std::path::absolute(&path).unwrap_or(path);
    let mut mapped = path.to_string_lossy().into_owned();
    if uri.ends_with('/') && !mapped.ends_with('/') {
        mapped.push('/');
    }
    match style {
        Style::Path => mapped,
        Style::FileUri => format!("file://{mapped}"),
    }
}

/// Every S3 URI inside `text` (a script, an argument such as `--files=s3://…`) mapped.
pub fn map_text(stores: &ObjectStores, text: &str, style: Style) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, scheme)) = next_uri(rest) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let len = tail[scheme.len()..]
            .find(ends_uri)
            .map_or(tail.len(), |n| n + scheme.len());
        out.push_str(&map_uri(stores, &tail[..len], style));
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

/// The first S3 URI in `text` that starts a word: its byte offset and scheme.
fn next_uri(text: &str) -> Option<(usize, &'static str)> {
    let lower = text.to_ascii_lowercase();
    SCHEMES
        .iter()
        .filter_map(|scheme| {
            lower.match_indices(scheme).find_map(|(at, _)| {
                let starts_word = lower[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_ascii_alphanumeric());
                starts_word.then_some((at, *scheme))
            })
        })
        .min_by_key(|(at, _)| *at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_data::storage::S3Settings;
    use std::path::Path;

    fn embedded() -> (tempfile::TempDir, ObjectStores) {
        let dir = tempfile::tempdir().unwrap();
        let stores = ObjectStores::new(&S3Settings::default(), dir.path()).unwrap();
        (dir, stores)
    }

    #[test]
    fn embedded_uris_become_local_paths() {
        let (dir, stores) = embedded();
        let root = dir.path().join("s3");
        assert_eq!(
            map_uri(&stores, "s3://b/in/", Style::FileUri),
            format!("file://{}/b/in/", root.display())
        );
        assert_eq!(
            map_uri(&stores, "s3n://b/x.py", Style::Path),
            format!("{}/b/x.py", root.display())
        );
        assert_eq!(map_uri(&stores, "hdfs:///x", Style::Path), "hdfs:///x");
        assert_eq!(map_uri(&stores, "-input", Style::Path), "-input");
    }

    #[test]
    fn uris_inside_text_are_mapped_where_they_start_a_word() {
        let (dir, stores) = embedded();
        let root = dir.path().join("s3");
        let script =
            "CREATE TABLE t LOCATION 's3://b/data/';\n--files=s3a://b/f.txt,x\nnots3://b/k";
        let mapped = map_text(&stores, script, Style::FileUri);
        assert_eq!(
            mapped,
            format!(
                "CREATE TABLE t LOCATION 'file://{r}/b/data/';\n--files=file://{r}/b/f.txt,x\nnots3://b/k",
                r = root.display()
            )
        );
    }

    #[test]
    fn a_relative_data_directory_still_maps_to_absolute_paths() {
        // The same temporary directory, named relative to the working directory.
        let dir = tempfile::tempdir().unwrap();
        let cwd = std::env::current_dir().unwrap();
        let up = "../".repeat(cwd.components().count() - 1);
        let relative = format!("{up}{}", dir.path().strip_prefix("/").unwrap().display());
        let stores = ObjectStores::new(&S3Settings::default(), Path::new(&relative)).unwrap();
        let mapped = map_uri(&stores, "s3://b/k", Style::FileUri);
        assert!(
            mapped.starts_with(&format!("file://{}/", cwd.display())),
            "{mapped}"
        );
        assert!(mapped.ends_with(&format!("{relative}/s3/b/k")), "{mapped}");
    }

    #[test]
    fn a_remote_store_leaves_uris_alone() {
        let dir = tempfile::tempdir().unwrap();
        let settings = S3Settings {
            endpoint: Some("http://127.0.0.1:9".into()),
            ..S3Settings::default()
        };
        let stores = ObjectStores::new(&settings, dir.path()).unwrap();
        assert_eq!(
            map_text(&stores, "x s3://b/k y", Style::Path),
            "x s3://b/k y"
        );
    }
}
