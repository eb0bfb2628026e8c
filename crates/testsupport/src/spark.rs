//! Apache Spark for the EMR-family tests: PySpark from PyPI, run in `local[N]`.
//!
//! PySpark is installed once into its own venv at `<tools>/spark-venv` (Spark's jars come with
//! it; Java 17 must be on the machine). Its Spark home is the installed `pyspark` package,
//! whose `bin/spark-submit` and `bin/spark-sql` run without the venv on `PATH` once
//! `SPARK_HOME` points there.

use std::io;
use std::path::PathBuf;
use std::process::Command;

use crate::tools;

/// The PySpark release the tests run against.
pub const PYSPARK_VERSION: &str = "4.3.0";

/// The virtual environment PySpark is installed into.
pub fn venv() -> PathBuf {
    tools::tools_dir().join("spark-venv")
}

/// The Spark home (the installed `pyspark` package), installing PySpark first if needed.
pub fn install() -> io::Result<PathBuf> {
    let venv = venv();
    let marker = venv.join(format!("pyspark-{PYSPARK_VERSION}.installed"));
    tools::install_once("pyspark", &marker, || {
        tools::run_logged(
            "spark-venv",
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
        )?;
        tools::run_logged(
            "pyspark-install",
            Command::new(venv.join("bin/pip")).args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                &format!("pyspark=={PYSPARK_VERSION}"),
            ]),
        )?;
        std::fs::write(&marker, "")
    })?;
    spark_home()
}

/// The Spark home inside the venv, once installed.
fn spark_home() -> io::Result<PathBuf> {
    let lib = venv().join("lib");
    std::fs::read_dir(&lib)?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("site-packages/pyspark"))
        .find(|home| home.join("bin/spark-submit").is_file())
        .ok_or_else(|| {
            io::Error::other(format!(
                "no pyspark/bin/spark-submit under {}",
                lib.display()
            ))
        })
}
