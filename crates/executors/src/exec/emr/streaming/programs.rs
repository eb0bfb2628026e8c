//! What a `-mapper` or `-reducer` runs: shell commands, and scripts shipped with the job.
//!
//! Hadoop copies `-file`/`-files`/`-cacheFile` into every task's working directory and, when a
//! command's first word names one of them, runs that file; EMR's older releases also took a
//! script's URI as the mapper (`-mapper s3n://bucket/wordSplitter.py`), shipping it the same
//! way. Anything else is a shell command.

use std::path::Path;

use sluice_data::storage::ObjectStores;
use sluice_model::TaskResult;

use super::{inputs, staging};
use crate::exec::{error_id, storage};

/// Fetches a `-file`/`-files`/`-cacheFile` (`uri` or `uri#name`) into `files`, executable;
/// the name it has there.
pub(super) async fn ship(
    stores: &ObjectStores,
    what: &str,
    spec: &str,
    files: &Path,
) -> Result<String, TaskResult> {
    let (uri, fragment) = match spec.rsplit_once('#') {
        Some((uri, name)) if !name.is_empty() => (uri, Some(name)),
        _ => (spec, None),
    };
    let location = stores
        .resolve(&inputs::store_uri(uri))
        .map_err(|e| storage::failed(what, &e))?;
    let name = fragment
        .or_else(|| location.path.filename())
        .filter(|n| !n.contains('/') && *n != "." && *n != "..")
        .map(str::to_string)
        .ok_or_else(|| {
            TaskResult::failed(
                error_id::INVALID_TASK,
                format!("{what}: '{uri}' does not name a file"),
            )
        })?;
    let target = files.join(&name);
    location.get_to_file(&target).await.map_err(|err| {
        if err.is_not_found() {
            TaskResult::failed(error_id::SCRIPT_NOT_FOUND, format!("{what}: {err}"))
        } else {
            storage::failed(what, &err)
        }
    })?;
    use std::os::unix::fs::PermissionsExt as _;
    tokio::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))
        .await
        .map_err(|e| staging(&target, e))?;
    Ok(name)
}

/// The shell command a `-mapper`/`-reducer` runs as: a URI first word is fetched and shipped;
/// a first word naming a shipped file runs that file from the working directory (Hadoop
/// looks there before `PATH`).
pub(super) async fn command(
    stores: &ObjectStores,
    option: &str,
    text: &str,
    files: &Path,
    shipped: &mut Vec<String>,
) -> Result<String, TaskResult> {
    let (first, rest) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(first, rest)| (first, rest.trim_start()));
    let name = if first.contains("://") {
        let name = ship(stores, &format!("{option} {first}"), first, files).await?;
        shipped.push(name.clone());
        name
    } else if shipped.iter().any(|s| s == first) {
        first.to_string()
    } else {
        return Ok(text.to_string());
    };
    let quoted = sh_quote(&name);
    let program = if has_shebang(&files.join(&name)).await {
        format!("./{quoted}")
    } else {
        format!("/bin/sh ./{quoted}")
    };
    Ok(if rest.is_empty() {
        program
    } else {
        format!("{program} {rest}")
    })
}

async fn has_shebang(path: &Path) -> bool {
    use tokio::io::AsyncReadExt as _;
    let mut head = [0u8; 2];
    match tokio::fs::File::open(path).await {
        Ok(mut file) => file.read_exact(&mut head).await.is_ok() && &head == b"#!",
        Err(_) => false,
    }
}

fn sh_quote(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-+=@%:,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_data::storage::S3Settings;

    #[test]
    fn words_are_quoted_only_when_the_shell_would_split_them() {
        assert_eq!(sh_quote("wordSplitter.py"), "wordSplitter.py");
        assert_eq!(sh_quote("my script.sh"), "'my script.sh'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }

    #[tokio::test]
    async fn uris_and_shipped_names_run_from_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let stores = ObjectStores::new(&S3Settings::default(), &dir.path().join("data")).unwrap();
        let source = dir.path().join("src");
        std::fs::create_dir_all(&source).unwrap();
        std::fs::write(source.join("m.py"), "#!/usr/bin/env python3\n").unwrap();
        std::fs::write(source.join("r.sh"), "uniq -c\n").unwrap();
        let files = dir.path().join("files");
        let mut shipped = vec![
            ship(
                &stores,
                "-files",
                &format!("{}#red", source.join("r.sh").display()),
                &files,
            )
            .await
            .unwrap(),
        ];
        assert_eq!(shipped, ["red"]);
        let uri = format!("file://{}", source.join("m.py").display());
        let mapper = command(
            &stores,
            "-mapper",
            &format!("{uri} --lower"),
            &files,
            &mut shipped,
        )
        .await
        .unwrap();
        assert_eq!(mapper, "./m.py --lower");
        assert_eq!(shipped, ["red", "m.py"]);
        let reducer = command(&stores, "-reducer", "red", &files, &mut shipped)
            .await
            .unwrap();
        assert_eq!(reducer, "/bin/sh ./red");
        let plain = command(&stores, "-reducer", "sort -u", &files, &mut shipped)
            .await
            .unwrap();
        assert_eq!(plain, "sort -u");
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(files.join("m.py"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
    }
}
