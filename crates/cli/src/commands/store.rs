//! `sluice store`: state databases.

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use sluice_store::{CopyError, CopyOptions, Durability};

use crate::cli::{StoreArgs, StoreCommand, StoreCopyArgs};
use crate::commands::{EXIT_INVALID, EXIT_USAGE};
use crate::state_store::{OpenStore, StateLocation, secret_key};

pub(crate) fn run(args: &StoreArgs) -> Result<ExitCode> {
    match &args.command {
        StoreCommand::Copy(copy_args) => copy(copy_args),
    }
}

fn copy(args: &StoreCopyArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
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
