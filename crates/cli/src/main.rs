//! `sluice`: run AWS Data Pipeline definitions on your own machines.
//!
//! The binary is wiring only: argument parsing, reading files, printing. Every behaviour lives
//! in a library crate so that the API server and tests share it.

mod cli;
mod commands;
mod definition_input;
mod local_pipeline;
mod settings_file;
mod state_store;

use std::process::ExitCode;

use clap::Parser;

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Before any TLS connection: the state store's verifying modes need a process default.
    sluice_data::tls::install_crypto_provider();
    let result = match cli.command {
        cli::Command::Validate(args) => commands::validate::run(&args),
        cli::Command::Eval(args) => commands::eval::run(&args),
        cli::Command::Run(args) => commands::run::run(&args),
        cli::Command::Plan(args) => commands::plan::run(&args),
        cli::Command::Server(args) => commands::server::run(&args),
        cli::Command::TaskRunner(args) => commands::taskrunner::run(&args),
        cli::Command::Store(args) => commands::store::run(&args),
        cli::Command::Import(args) => commands::import::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("sluice: {error:#}");
            ExitCode::from(commands::EXIT_USAGE)
        }
    }
}
