//! Files a test watches: output that a process writes, markers that commands leave.

use std::fs;
use std::path::Path;

/// A file's text, or an empty string while it does not exist.
pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// A file's lines, or none while it does not exist.
pub fn lines(path: &Path) -> Vec<String> {
    read(path).lines().map(str::to_owned).collect()
}

/// `path` as one single-quoted `sh` word, for commands that write to it. Panics on a path
/// that holds a quote itself, which temporary directories never do.
pub fn sh_quoted(path: &Path) -> String {
    let text = path.to_str().expect("a UTF-8 path");
    assert!(!text.contains('\''), "{text} needs more than single quotes");
    format!("'{text}'")
}
