//! Installs every test server ahead of the tests (CI calls this so that installs do not count
//! against test timings). Each install is skipped when its tool is already present, so running
//! it again is cheap.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use sluice_testsupport::{dynamodb, s3, sns, spark, tools};

/// Installs one tool, returning where it is.
type Install = fn() -> io::Result<PathBuf>;

fn main() -> ExitCode {
    let installs: [(&str, Install); 4] = [
        ("s3s-fs (S3)", s3::install),
        ("dynalite (DynamoDB)", dynamodb::install),
        ("moto (SNS, Data Pipeline)", sns::install),
        ("PySpark (Spark)", spark::install),
    ];
    println!("tools directory: {}", tools::tools_dir().display());
    let mut failed = false;
    for (name, install) in installs {
        let started = Instant::now();
        match install() {
            Ok(path) => println!(
                "{name}: {} ({:.1}s)",
                path.display(),
                started.elapsed().as_secs_f64()
            ),
            Err(err) => {
                eprintln!("{name}: install failed: {err}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
