//! Where an attempt's files live under the data directory.

use std::path::{Path, PathBuf};

/// The attempt's standard output, inside its [`attempt_dir`].
pub const STDOUT_LOG: &str = "stdout.log";
/// The attempt's standard error, inside its [`attempt_dir`].
pub const STDERR_LOG: &str = "stderr.log";
/// The runner's timestamped events for the attempt, inside its [`attempt_dir`].
pub const RUNNER_LOG: &str = "runner.log";

/// Longest file-name component produced, in bytes, leaving room for the suffix within the
/// usual 255-byte limit.
const MAX_NAME_BYTES: usize = 200;

/// `<data_dir>/logs/<pipeline id>/<attempt id>/`, each id made safe by [`file_name_for`].
pub fn attempt_dir(data_dir: &Path, pipeline_id: &str, attempt_id: &str) -> PathBuf {
    data_dir
        .join("logs")
        .join(file_name_for(pipeline_id))
        .join(file_name_for(attempt_id))
}

/// A single, readable file-name component for an object id.
///
/// Ids such as `@SayHello_2012-12-12T00:00:00_Attempt=1` are kept as they are. Path
/// separators, NUL and control characters become `_`, a leading `.` is prefixed with `_` (no
/// `..`, no hidden directories), and very long ids are shortened. Whenever anything changed, a
/// hash of the original id is appended, so two distinct ids never share a directory.
pub fn file_name_for(id: &str) -> String {
    let mut name: String = id
        .chars()
        .map(|c| match c {
            '/' | '\\' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    if name.len() > MAX_NAME_BYTES {
        let mut cut = MAX_NAME_BYTES;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    if name != id {
        name.push_str(&format!("~{:08x}", fnv1a(id.as_bytes())));
    }
    name
}

/// FNV-1a, folded to 32 bits: stable across Rust releases, unlike `DefaultHasher`, so the
/// directory of an id never moves.
fn fnv1a(bytes: &[u8]) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash ^ (hash >> 32)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ids_are_kept_readable() {
        let id = "@SayHello_2012-12-12T00:00:00_Attempt=1";
        assert_eq!(file_name_for(id), id);
        assert_eq!(
            attempt_dir(Path::new("/d"), "df-123", id),
            PathBuf::from(format!("/d/logs/df-123/{id}"))
        );
    }

    #[test]
    fn unsafe_ids_are_made_safe_and_stay_distinct() {
        for id in ["a/b", "..", ".", "", "x\ny", "a\\b", "/etc/passwd"] {
            let name = file_name_for(id);
            assert!(
                !name.contains('/') && !name.contains('\\'),
                "{id:?} -> {name}"
            );
            assert!(!name.starts_with('.'), "{id:?} -> {name}");
            assert!(!name.chars().any(char::is_control), "{id:?} -> {name}");
            assert!(!name.is_empty());
        }
        assert_ne!(file_name_for("a/b"), file_name_for("a_b"));
        assert_ne!(file_name_for("a/b"), file_name_for("a\\b"));
        assert!(file_name_for("a/b").starts_with("a_b~"));
    }

    #[test]
    fn long_ids_are_shortened_on_a_character_boundary() {
        let long = "é".repeat(300);
        let name = file_name_for(&long);
        assert!(name.len() <= 255);
        assert_ne!(name, file_name_for(&"é".repeat(301)));
    }
}
