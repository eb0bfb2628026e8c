//! File copies for staging and script download: blocking work moved off the async workers.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Copies everything inside `src` into `dst` (created if missing), recursively, replacing
/// files of the same name. Symbolic links to files are copied as the file they point at; a link
/// to a directory is an error, since following it could loop or leave the tree.
pub async fn copy_dir_contents(src: PathBuf, dst: PathBuf) -> io::Result<u64> {
    blocking(move || copy_dir_blocking(&src, &dst)).await
}

/// Copies one file to `dst`, creating `dst`'s parent directories.
pub async fn copy_file(src: PathBuf, dst: PathBuf) -> io::Result<u64> {
    blocking(move || {
        if let Some(parent) = dst.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(&src, &dst)
    })
    .await
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|join| Err(io::Error::other(join.to_string())))
}

fn copy_dir_blocking(src: &Path, dst: &Path) -> io::Result<u64> {
    fs::create_dir_all(dst)?;
    let mut copied = 0;
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copied += copy_dir_blocking(&from, &to)?;
        } else if kind.is_symlink() && fs::metadata(&from)?.is_dir() {
            return Err(io::Error::other(format!(
                "{} is a link to a directory, which is not copied",
                from.display()
            )));
        } else {
            fs::copy(&from, &to)?;
            copied += 1;
        }
    }
    Ok(copied)
}
