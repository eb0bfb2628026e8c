//! Files and directories Sluice keeps for itself — attempt logs, event logs, lock files —
//! readable and writable by the user running it only (directories 0700, files 0600), whatever
//! the process's umask and whatever mode the data directory already had. Output an attempt's
//! own commands write keeps the umask they run with.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::path::Path;

/// Creates `dir` and its missing parents, each 0700. Directories that exist keep their mode.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Options that create files 0600 (an existing file keeps its mode).
pub fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Opens `path` for appending, creating it 0600, and its directory 0700, when missing.
pub fn open_append(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent() {
        create_dir_all(parent)?;
    }
    options().create(true).append(true).open(path)
}

/// Creates (or truncates) `path` for writing, 0600 when new.
pub fn create(path: &Path) -> io::Result<File> {
    options().create(true).write(true).truncate(true).open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn what_it_creates_is_the_owners_alone() {
        let scratch = tempfile::tempdir().unwrap();
        let log = scratch.path().join("logs/p/a/runner.log");
        open_append(&log).unwrap();
        create(&scratch.path().join("logs/lock")).unwrap();
        assert_eq!(mode(&scratch.path().join("logs")), 0o700);
        assert_eq!(mode(&scratch.path().join("logs/p/a")), 0o700);
        assert_eq!(mode(&log), 0o600);
        assert_eq!(mode(&scratch.path().join("logs/lock")), 0o600);
    }
}
