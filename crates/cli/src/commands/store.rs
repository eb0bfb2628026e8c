//! `sluice store`: state databases.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use sluice_store::{
    CopyError, CopyOptions, Durability, RotateError, RotationReport, Sealer, rotate_sqlite,
};

use crate::cli::{StoreArgs, StoreCommand, StoreCopyArgs};
use crate::commands::{EXIT_INVALID, EXIT_USAGE, STATE_FILE};
use crate::state_store::{OpenStore, SECRET_KEY_FILE, StateLocation, secret_key};

pub(crate) fn run(args: &StoreArgs) -> Result<ExitCode> {
    match &args.command {
        StoreCommand::Copy(copy_args) => copy(copy_args),
        StoreCommand::RotateKey(rotate_args) => rotate_key(rotate_args),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn copy(args: &StoreCopyArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let (source, target) = (StateLocation::parse(&args.from), StateLocation::parse(&args.to));
        // Checked before the key, so that a mistyped source leaves no key file behind, and
        // before opening, which would create an empty database there.
        if let StateLocation::Sqlite(path) = &source
            && !path.is_file()
        {
            eprintln!("sluice: --from: {} does not exist", path.display());
            return Ok(ExitCode::from(EXIT_USAGE));
        }
        let Some(key_dir) = source.sqlite_dir().or(target.sqlite_dir()) else {
            eprintln!(
                "sluice: copying between two PostgreSQL databases needs --secret-key-file (the \
                 key their servers share)"
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        };
        let sealer = match secret_key(args.secret_key_file.as_deref(), key_dir) {
            Ok(sealer) => sealer,
            Err(error) => {
                eprintln!("sluice: {error:#}");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        };
        let from = match OpenStore::open(&source, Durability::default(), sealer.clone()).await {
            Ok(store) => store,
            Err(error) => {
                eprintln!("sluice: --from: {error:#}");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        };
        let to = match OpenStore::open(&target, Durability::default(), sealer).await {
            Ok(store) => store,
            Err(error) => {
                from.close().await;
                eprintln!("sluice: --to: {error:#}");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        };
        let options = CopyOptions {
            into_non_empty: args.into_non_empty,
            ..CopyOptions::default()
        };
        let copied = sluice_store::copy(&*from.store, &*to.store, &options).await;
        let (source, target) = (from.describe(), to.describe());
        from.close().await;
        to.close().await;
        match copied {
            Ok(report) => {
                println!(
                    "copied {} pipeline(s), {} instance(s) and {} attempt(s) from {source} to {target}",
                    report.pipelines, report.instances, report.attempts
                );
                for id in &report.skipped {
                    println!("skipped {id}: the target already holds it");
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(error @ CopyError::TargetNotEmpty(_)) => {
                eprintln!("sluice: {target}: {error}");
                Ok(ExitCode::from(EXIT_INVALID))
            }
            Err(error) => {
                eprintln!("sluice: copying {source} to {target} stopped: {error}");
                Ok(ExitCode::from(EXIT_INVALID))
            }
        }
    })
}

#[derive(Debug, clap::Args)]
pub(crate) struct StoreRotateKeyArgs {
    /// The data directory: its sluice.db is rotated unless --database names another state
    /// database, and its secret.key is the current key unless --secret-key-file names one.
    #[arg(
        long,
        value_name = "DIR",
        env = "SLUICE_DATA_DIR",
        default_value = ".sluice"
    )]
    data_dir: PathBuf,

    /// The state database: postgres://user:password@host:port/db, or a SQLite file.
    /// Default: SQLite in the data directory.
    #[arg(
        long,
        value_name = "URL",
        env = "SLUICE_DATABASE_URL",
        hide_env_values = true
    )]
    database: Option<String>,

    /// The key the secrets are sealed with now. Default: secret.key in the data directory.
    #[arg(long, value_name = "FILE", env = "SLUICE_SECRET_KEY_FILE")]
    secret_key_file: Option<PathBuf>,

    /// The key to seal them with from now on: a file of 64 hexadecimal digits, generated
    /// there (readable by its owner only) when it does not exist.
    #[arg(long, value_name = "FILE")]
    new_secret_key_file: PathBuf,
}

fn rotate_key(args: &StoreRotateKeyArgs) -> Result<ExitCode> {
    let usage = |message: String| {
        eprintln!("sluice: {message}");
        Ok(ExitCode::from(EXIT_USAGE))
    };
    let location = match &args.database {
        Some(text) => StateLocation::parse(text),
        None => StateLocation::Sqlite(args.data_dir.join(STATE_FILE)),
    };
    // Checked before the new key is generated, so that a mistyped location leaves no key file.
    if let StateLocation::Sqlite(path) = &location
        && !path.is_file()
    {
        return usage(format!("no state database at {}", path.display()));
    }
    let current_file = args
        .secret_key_file
        .clone()
        .unwrap_or_else(|| args.data_dir.join(SECRET_KEY_FILE));
    let current = match Sealer::load(&current_file) {
        Ok(sealer) => sealer,
        Err(error) => return usage(format!("the current key: {error}")),
    };
    if same_file(&current_file, &args.new_secret_key_file) {
        return usage(format!(
            "--new-secret-key-file names the current key {}: name a file for the new key",
            current_file.display()
        ));
    }
    let new_file = &args.new_secret_key_file;
    let (new, created) = match Sealer::load_or_create(new_file) {
        Ok(loaded) => loaded,
        Err(error) => return usage(format!("the new key: {error}")),
    };
    if created {
        println!(
            "generated key {} in {}; back it up with the database",
            new.key_id(),
            new_file.display()
        );
    }
    if new.key_id() == current.key_id() {
        return usage(format!(
            "{} holds the current key {}: the new key must differ",
            new_file.display(),
            current.key_id()
        ));
    }
    let rotated = runtime()?.block_on(rotate(&location, &current, &new))?;
    let (described, report) = match rotated {
        (described, Ok(report)) => (described, report),
        (described, Err(error)) => {
            eprintln!("sluice: {error}");
            if matches!(error, RotateError::Refused { .. } | RotateError::Store(_)) {
                eprintln!(
                    "sluice: nothing in {described} is lost: run the rotation again once the \
                     cause is fixed; what it resealed already stays sealed with key {}",
                    new.key_id()
                );
            }
            return Ok(ExitCode::from(EXIT_INVALID));
        }
    };
    print_rotation(&report, &described, &current, &current_file, &new, new_file);
    Ok(ExitCode::SUCCESS)
}

/// Rotates the database at `location`; returns it as messages name it (no password).
async fn rotate(
    location: &StateLocation,
    current: &Sealer,
    new: &Sealer,
) -> Result<(String, Result<RotationReport, RotateError>)> {
    match location {
        StateLocation::Sqlite(path) => Ok((
            path.display().to_string(),
            rotate_sqlite(path, current, new).await,
        )),
        #[cfg(feature = "postgres")]
        StateLocation::Postgres(url) => {
            // Without a sealer: one would refuse a database an interrupted rotation left
            // holding values of both keys.
            let store = match sluice_store::PostgresStore::connect(url).await {
                Ok(store) => store,
                Err(error) => return Ok(("the database".into(), Err(error.into()))),
            };
            let rotated = store.rotate_key(current, new).await;
            store.close().await;
            Ok((store.location().to_owned(), rotated))
        }
        #[cfg(not(feature = "postgres"))]
        StateLocation::Postgres(_) => anyhow::bail!(
            "{}",
            sluice_data::left_out("a PostgreSQL state database", "PostgreSQL", "postgres")
        ),
    }
}

fn print_rotation(
    report: &RotationReport,
    described: &str,
    current: &Sealer,
    current_file: &Path,
    new: &Sealer,
    new_file: &Path,
) {
    println!(
        "resealed {} secret value(s) in {} pipeline(s) of {described} with key {}; {} \
         pipeline(s) had theirs sealed with it already, {} hold no secret",
        report.values,
        report.resealed,
        new.key_id(),
        report.with_secrets - report.resealed,
        report.pipelines - report.with_secrets,
    );
    println!(
        "key {} no longer opens them: start the servers with --secret-key-file {} (or put it \
         in place of {}), and keep key {} while backups taken before now exist",
        current.key_id(),
        new_file.display(),
        current_file.display(),
        current.key_id()
    );
}

/// Whether two paths name one file (both must exist to be compared by identity).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
