//! Which files a job's `-input` paths stand for, as Hadoop's `FileInputFormat` lists them.
//!
//! A path is an object, or a prefix taken as a directory: every object under it, at any depth,
//! whose name (and the names of the directories between) does not start with `_` or `.`
//! (Hadoop's hidden files, such as `_SUCCESS`), and that is not an EMRFS `…_$folder$` marker.
//! Hadoop itself reads nested directories only when told to; reading them is more useful than
//! failing. A path may be a glob (`*`, `?`, `[a-z]`, `[^…]`, `{a,b}`) matching objects or
//! directories. `s3n://` and `s3a://` mean `s3://`.

use std::path::PathBuf;

use sluice_data::storage::{Location, ObjectStores};
use sluice_model::TaskResult;

use crate::exec::{error_id, storage};

/// One input file: one map task.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    /// For messages and the mapper's `map_input_file`.
    pub(crate) uri: String,
    pub(crate) location: Location,
    /// The file itself when it is on this machine (the embedded store, `file://`).
    pub(crate) local: Option<PathBuf>,
    /// Whether it is gzip-compressed (named `….gz`), read decompressed as Hadoop does.
    pub(crate) gzip: bool,
}

/// Compressed files Hadoop would decompress with codecs Sluice does not have.
const OTHER_CODECS: &[&str] = &[".bz2", ".deflate", ".snappy", ".lz4", ".zst", ".lzo"];

/// `s3n://…` and `s3a://…` as the `s3://` URI the object stores resolve.
pub(crate) fn store_uri(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest))
            if scheme.eq_ignore_ascii_case("s3n") || scheme.eq_ignore_ascii_case("s3a") =>
        {
            format!("s3://{rest}")
        }
        _ => uri.to_string(),
    }
}

fn step_failed(message: String) -> TaskResult {
    TaskResult::failed(error_id::STEP_FAILED, message)
}

/// Every input file of `paths`, in the order given, each path's files sorted by key.
pub(crate) async fn list(
    stores: &ObjectStores,
    paths: &[String],
) -> Result<Vec<Input>, TaskResult> {
    let mut inputs = Vec::new();
    for path in paths {
        let uri = store_uri(path);
        let what = format!("-input {path}");
        let found = if uri.contains(['*', '?', '[', '{']) {
            let found = glob(stores, &what, &uri).await?;
            if found.is_empty() {
                return Err(step_failed(format!("Input Pattern {path} matches 0 files")));
            }
            found
        } else {
            let location = stores
                .resolve(&uri)
                .map_err(|e| storage::failed(&what, &e))?;
            let listed = location
                .list()
                .await
                .map_err(|e| storage::failed(&what, &e))?;
            if !listed.is_empty() {
                listed
                    .into_iter()
                    .filter(|l| visible(&l.relative))
                    .map(|l| l.uri)
                    .collect()
            } else if !uri.ends_with('/')
                && location
                    .exists()
                    .await
                    .map_err(|e| storage::failed(&what, &e))?
            {
                vec![uri.clone()]
            } else {
                return Err(step_failed(format!("Input path does not exist: {path}")));
            }
        };
        for uri in found {
            inputs.push(input(stores, &what, uri)?);
        }
    }
    Ok(inputs)
}

fn input(stores: &ObjectStores, what: &str, uri: String) -> Result<Input, TaskResult> {
    let lower = uri.to_ascii_lowercase();
    if let Some(codec) = OTHER_CODECS.iter().find(|c| lower.ends_with(*c)) {
        return Err(TaskResult::failed(
            error_id::UNSUPPORTED,
            format!(
                "{what}: {uri} is compressed ({codec}); Sluice reads .gz and plain text inputs"
            ),
        ));
    }
    let location = stores
        .resolve(&uri)
        .map_err(|e| storage::failed(what, &e))?;
    let local = stores
        .local_path(&uri)
        .map_err(|e| storage::failed(what, &e))?;
    Ok(Input {
        gzip: lower.ends_with(".gz"),
        uri,
        location,
        local,
    })
}

/// Whether no part of a `/`-separated relative key is hidden from Hadoop.
fn visible(relative: &str) -> bool {
    relative
        .split('/')
        .all(|part| !part.starts_with(['_', '.']) && !part.ends_with("_$folder$"))
}

/// The files a glob stands for: the objects it matches, and those under the directories it
/// matches.
async fn glob(stores: &ObjectStores, what: &str, uri: &str) -> Result<Vec<String>, TaskResult> {
    let first = uri.find(['*', '?', '[', '{']).unwrap_or(uri.len());
    let base = &uri[..uri[..first].rfind('/').map_or(0, |at| at + 1)];
    let patterns: Vec<Vec<String>> = expand_braces(uri[base.len()..].trim_end_matches('/'))
        .iter()
        .map(|p| p.split('/').map(String::from).collect())
        .collect();
    let location = stores
        .resolve(base)
        .map_err(|e| storage::failed(what, &e))?;
    let listed = location
        .list()
        .await
        .map_err(|e| storage::failed(what, &e))?;
    Ok(listed
        .into_iter()
        .filter(|l| {
            let parts: Vec<&str> = l.relative.split('/').collect();
            visible(&l.relative)
                && patterns.iter().any(|pattern| {
                    parts.len() >= pattern.len()
                        && pattern.iter().zip(&parts).all(|(p, part)| matches(p, part))
                })
        })
        .map(|l| l.uri)
        .collect())
}

/// `a{b,c{d,e}}f` as `abf`, `acdf`, `acef`.
fn expand_braces(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_string()];
    };
    let mut depth = 0;
    let mut alternatives = Vec::new();
    let mut start = open + 1;
    for (at, c) in pattern.char_indices().skip_while(|(at, _)| *at <= open) {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            ',' if depth == 0 => {
                alternatives.push(&pattern[start..at]);
                start = at + 1;
            }
            '}' => {
                alternatives.push(&pattern[start..at]);
                let (head, tail) = (&pattern[..open], &pattern[at + 1..]);
                return alternatives
                    .iter()
                    .flat_map(|alt| expand_braces(&format!("{head}{alt}{tail}")))
                    .collect();
            }
            _ => {}
        }
    }
    // An unclosed brace is a literal character.
    vec![pattern.to_string()]
}

/// Whether one path component matches a glob component (`*`, `?`, `[…]`, `\` escapes).
fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    wildcard(&p, &n)
}

fn wildcard(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|skip| wildcard(&p[1..], &n[skip..])),
        Some('?') => !n.is_empty() && wildcard(&p[1..], &n[1..]),
        Some('[') => match class(&p[1..]) {
            Some((matcher, len)) => {
                n.first().is_some_and(|&c| matcher(c)) && wildcard(&p[1 + len..], &n[1..])
            }
            None => n.first() == Some(&'[') && wildcard(&p[1..], &n[1..]),
        },
        Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && wildcard(&p[2..], &n[1..]),
        Some(c) => n.first() == Some(c) && wildcard(&p[1..], &n[1..]),
    }
}

/// A character class after its `[`: what it accepts and how many characters it spans,
/// including the closing `]`; `None` when it is not closed.
fn class(p: &[char]) -> Option<(impl Fn(char) -> bool, usize)> {
    let negated = matches!(p.first(), Some('^' | '!'));
    let body_start = usize::from(negated);
    // A `]` first in the class is a member, not its end.
    let close = (body_start + 1..p.len()).find(|&at| p[at] == ']')?;
    let body: Vec<char> = p[body_start..close].to_vec();
    let accepts = move |c: char| {
        let mut at = 0;
        let mut hit = false;
        while at < body.len() {
            if at + 2 < body.len() && body[at + 1] == '-' {
                hit |= (body[at]..=body[at + 2]).contains(&c);
                at += 3;
            } else {
                hit |= body[at] == c;
                at += 1;
            }
        }
        hit != negated
    };
    Some((accepts, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_files_and_folder_markers_are_skipped() {
        assert!(visible("part-00000"));
        assert!(visible("2024/01/data.txt"));
        assert!(!visible("_SUCCESS"));
        assert!(!visible(".part-00000.crc"));
        assert!(!visible("_logs/history"));
        assert!(!visible("day_$folder$"));
    }

    #[test]
    fn older_s3_schemes_mean_s3() {
        assert_eq!(store_uri("s3n://b/k"), "s3://b/k");
        assert_eq!(store_uri("S3A://b/k"), "s3://b/k");
        assert_eq!(store_uri("s3://b/k"), "s3://b/k");
        assert_eq!(store_uri("/tmp/x"), "/tmp/x");
    }

    #[test]
    fn braces_expand_nested_and_unclosed_stay() {
        assert_eq!(expand_braces("a{b,c{d,e}}f"), ["abf", "acdf", "acef"]);
        assert_eq!(
            expand_braces("logs/{2023,2024}/*"),
            ["logs/2023/*", "logs/2024/*"]
        );
        assert_eq!(expand_braces("a{b"), ["a{b"]);
    }

    #[test]
    fn glob_components() {
        assert!(matches("*.txt", "a.txt"));
        assert!(!matches("*.txt", "a.txt.gz"));
        assert!(matches("part-?????", "part-00001"));
        assert!(matches("[a-c]x", "bx"));
        assert!(!matches("[^a-c]x", "bx"));
        assert!(matches("[!a-c]x", "dx"));
        assert!(matches("[]]", "]"));
        assert!(matches("\\*", "*"));
        assert!(!matches("\\*", "a"));
        assert!(matches("[oops", "[oops"));
        assert!(matches("*", ""));
    }
}
