//! The Spark installation an `EmrCluster` stands for.
//!
//! Found in this order: `data.spark.sparkHome`, `SPARK_HOME`, then `spark-submit` on `PATH` —
//! either a Spark distribution's `bin` (or a link into it), or the `bin` of a Python virtual
//! environment where `pip install pyspark` put it, whose Spark home is the installed `pyspark`
//! package. Spark runs on the JVM, so `java` must be found too (`JAVA_HOME` or `PATH`).
//!
//! Every `spark-submit` and `spark-sql` gets `--master` (the settings' master, else
//! `local[N]` with N the runner's cores) and the settings' `--conf`s, and runs in the attempt
//! directory, where a local master keeps its `spark-warehouse` and Hive metastore.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use sluice_data::compute::SparkSettings;
use sluice_model::{FieldValue, PipelineObject, TaskResult};

use crate::exec::error_id;
use crate::exec::process::ProcessSpec;
use crate::execute::AttemptContext;

/// What to install and how to point Sluice at it, in every "Spark not found" message.
pub const INSTALL_HINT: &str = "install it with `pip install pyspark` (Java 17 or later is \
     needed too) and put its `spark-submit` on PATH, or set SPARK_HOME or `data.spark.sparkHome` \
     in the settings file (see docs/emr.md)";

/// A Spark installation and the master steps are submitted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spark {
    /// The Spark home: `bin/spark-submit`, `bin/spark-sql` and `jars/` are below it.
    pub home: PathBuf,
    pub master: String,
    /// `--conf` pairs for every launch.
    pub conf: Vec<(String, String)>,
}

/// The two launchers Sluice starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launcher {
    SparkSubmit,
    SparkSql,
}

impl Launcher {
    fn file_name(self) -> &'static str {
        match self {
            Launcher::SparkSubmit => "spark-submit",
            Launcher::SparkSql => "spark-sql",
        }
    }
}

impl Spark {
    /// Finds the installation `settings` (with the environment already folded in) point at,
    /// or says what is missing.
    pub fn locate(settings: &SparkSettings) -> Result<Spark, String> {
        if let Some(error) = &settings.conf_error {
            return Err(error.clone());
        }
        let home = match &settings.spark_home {
            Some(home) => {
                if !home.join("bin/spark-submit").is_file() {
                    return Err(format!(
                        "the Spark home {} has no bin/spark-submit; {INSTALL_HINT}",
                        home.display()
                    ));
                }
                home.clone()
            }
            None => home_from_path(std::env::var_os("PATH"))?,
        };
        if java_from(std::env::var_os("JAVA_HOME"), std::env::var_os("PATH")).is_none() {
            return Err(format!(
                "Spark at {} needs Java 17 or later, and neither JAVA_HOME nor PATH has a \
                 `java`: install a JDK (e.g. Debian's openjdk-17-jre-headless) or set JAVA_HOME",
                home.display()
            ));
        }
        let master = settings.master.clone().unwrap_or_else(default_master);
        Ok(Spark {
            home,
            master,
            conf: settings
                .conf
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    /// The installation for an attempt, or the failed result that names what to install.
    /// `what` names what needs Spark ("HiveActivity", "step 2").
    pub fn for_attempt(ctx: &AttemptContext, what: &str) -> Result<Spark, TaskResult> {
        Spark::locate(&ctx.settings.data.spark).map_err(|reason| {
            TaskResult::failed(
                error_id::SPARK_NOT_FOUND,
                format!("{what} needs Apache Spark, which this runner cannot use: {reason}"),
            )
        })
    }

    /// Whether steps run inside the runner's host (`local`, `local[N]`, `local[*]`).
    pub fn is_local(&self) -> bool {
        self.master == "local" || self.master.starts_with("local[")
    }

    /// A process running `launcher` against this installation's master, in the attempt
    /// directory, with the attempt's logs as its output; the caller adds its own arguments.
    /// Whether the settings' `--conf`s set `key`.
    pub fn has_conf(&self, key: &str) -> bool {
        self.conf.iter().any(|(k, _)| k == key)
    }

    pub fn process(&self, launcher: Launcher, ctx: &AttemptContext) -> ProcessSpec {
        let mut spec = ProcessSpec::new(
            self.home.join("bin").join(launcher.file_name()),
            &ctx.attempt_dir,
        );
        spec.args = vec!["--master".into(), self.master.clone().into()];
        for (key, value) in &self.conf {
            spec.args.push("--conf".into());
            spec.args.push(format!("{key}={value}").into());
        }
        spec.env = self.env();
        spec.stdout = vec![ctx.stdout_log.clone()];
        spec.stderr = vec![ctx.stderr_log.clone()];
        spec.lazy_outputs = vec![ctx.stdout_log.clone(), ctx.stderr_log.clone()];
        spec
    }

    fn env(&self) -> Vec<(OsString, OsString)> {
        let mut env: Vec<(OsString, OsString)> =
            vec![("SPARK_HOME".into(), self.home.clone().into_os_string())];
        // A local master binds to the host's name otherwise, which need not resolve.
        if self.is_local() && std::env::var_os("SPARK_LOCAL_IP").is_none() {
            env.push(("SPARK_LOCAL_IP".into(), "127.0.0.1".into()));
        }
        env
    }
}

/// The objects of a definition that need Spark, each with why, when `settings` locate no
/// usable installation (what `sluice validate` warns about): `HiveActivity`,
/// `HadoopActivity`, and `EmrActivity`s with a Spark step.
pub fn missing_spark(
    objects: &[PipelineObject],
    settings: &SparkSettings,
) -> Vec<(String, String)> {
    let needing: Vec<(String, &str)> = objects
        .iter()
        .filter_map(|o| {
            let why = match o.object_type()? {
                "HiveActivity" => "HiveActivity runs on spark-sql",
                "HadoopActivity" => "HadoopActivity runs its jar through spark-submit",
                "EmrActivity" => o
                    .values("step")
                    .filter_map(FieldValue::as_str)
                    .filter_map(|s| super::step::parse(s).ok())
                    .any(|s| super::step::needs_spark(&s))
                    .then_some("a step of this EmrActivity runs on Spark")?,
                _ => return None,
            };
            Some((o.id.clone(), why))
        })
        .collect();
    if needing.is_empty() {
        return Vec::new();
    }
    match Spark::locate(settings) {
        Ok(_) => Vec::new(),
        Err(reason) => needing
            .into_iter()
            .map(|(id, why)| {
                (
                    id,
                    format!("{why}, and this machine cannot run it: {reason}"),
                )
            })
            .collect(),
    }
}

/// The attempt's Spark working directory, `<data dir>/spark/<pipeline>/<attempt>` (absolute,
/// names made safe for Hadoop): staged tables and the SQL warehouse live there rather than in
/// the attempt directory, whose name has a `:`, which Hadoop cannot use in a path.
pub fn work_dir(ctx: &AttemptContext, what: &str) -> Result<PathBuf, TaskResult> {
    use super::hive::s3::{hadoop_safe, safe_name};
    let relative = ctx
        .settings
        .data_dir
        .join("spark")
        .join(safe_name(&ctx.task.pipeline_id))
        .join(safe_name(&ctx.task.attempt_id));
    let dir = std::path::absolute(&relative).map_err(|e| {
        TaskResult::failed(
            error_id::STAGING_FAILED,
            format!("{what}: cannot resolve {}: {e}", relative.display()),
        )
    })?;
    if !hadoop_safe(&dir.to_string_lossy()) {
        return Err(TaskResult::failed(
            error_id::STAGING_FAILED,
            format!(
                "{what}: Hadoop cannot use {} for Spark's files: a name on the way has ':' or a \
                 glob character; use another data directory",
                dir.display()
            ),
        ));
    }
    Ok(dir)
}

/// `local[N]` with N the cores this process may use.
fn default_master() -> String {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    format!("local[{cores}]")
}

/// The Spark home of the first `spark-submit` on `path`.
fn home_from_path(path: Option<OsString>) -> Result<PathBuf, String> {
    let Some(launcher) = find_program(path, "spark-submit") else {
        return Err(format!(
            "no Spark installation is configured and no `spark-submit` is on PATH; \
             {INSTALL_HINT}"
        ));
    };
    home_of_launcher(&launcher).ok_or_else(|| {
        format!(
            "found {} but cannot tell which Spark installation it belongs to; set SPARK_HOME",
            launcher.display()
        )
    })
}

/// A distribution's home (`<home>/bin/spark-submit`, followed through links) or the
/// `pyspark` package of the virtual environment whose `bin` holds the launcher.
fn home_of_launcher(launcher: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(launcher).ok()?;
    let home = real.parent()?.parent()?;
    if home.join("jars").is_dir() {
        return Some(home.to_path_buf());
    }
    let venv_lib = launcher.parent()?.parent()?.join("lib");
    std::fs::read_dir(venv_lib)
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("python"))
        .map(|entry| entry.path().join("site-packages/pyspark"))
        .find(|home| home.join("bin/spark-submit").is_file())
}

/// The `java` Spark will start.
fn java_from(java_home: Option<OsString>, path: Option<OsString>) -> Option<PathBuf> {
    if let Some(home) = java_home.filter(|h| !h.is_empty()) {
        let java = PathBuf::from(home).join("bin/java");
        return java.is_file().then_some(java);
    }
    find_program(path, "java")
}

/// The first file called `name` in the directories of `path` (a `PATH` value).
pub(crate) fn find_program(path: Option<OsString>, name: &str) -> Option<PathBuf> {
    path.iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\n").unwrap();
    }

    #[test]
    fn a_distribution_on_path_is_its_own_home() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("spark-4");
        touch(&home.join("bin/spark-submit"));
        std::fs::create_dir_all(home.join("jars")).unwrap();
        let found = home_from_path(Some(home.join("bin").into_os_string())).unwrap();
        assert_eq!(found, std::fs::canonicalize(&home).unwrap());
    }

    #[test]
    fn a_pip_install_is_found_through_its_virtual_environment() {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join("venv");
        touch(&venv.join("bin/spark-submit"));
        let pyspark = venv.join("lib/python3.11/site-packages/pyspark");
        touch(&pyspark.join("bin/spark-submit"));
        let found = home_from_path(Some(venv.join("bin").into_os_string())).unwrap();
        assert_eq!(found, pyspark);
    }

    #[test]
    fn nothing_on_path_names_what_to_install() {
        let dir = tempfile::tempdir().unwrap();
        let err = home_from_path(Some(dir.path().as_os_str().to_owned())).unwrap_err();
        assert!(err.contains("pip install pyspark"), "{err}");
        assert!(err.contains("SPARK_HOME"), "{err}");
        let err = Spark::locate(&SparkSettings {
            spark_home: Some(dir.path().join("nowhere")),
            ..SparkSettings::default()
        })
        .unwrap_err();
        assert!(err.contains("has no bin/spark-submit"), "{err}");
    }

    #[test]
    fn java_comes_from_java_home_before_path() {
        let dir = tempfile::tempdir().unwrap();
        let jdk = dir.path().join("jdk");
        touch(&jdk.join("bin/java"));
        assert_eq!(
            java_from(Some(jdk.clone().into_os_string()), None),
            Some(jdk.join("bin/java"))
        );
        assert_eq!(
            java_from(None, Some(jdk.join("bin").into_os_string())),
            Some(jdk.join("bin/java"))
        );
        assert_eq!(
            java_from(None, Some(dir.path().as_os_str().to_owned())),
            None
        );
    }

    #[test]
    fn the_default_master_is_local_on_every_core() {
        let master = default_master();
        assert!(
            master.starts_with("local[") && master.ends_with(']'),
            "{master}"
        );
        let spark = Spark {
            home: PathBuf::from("/opt/spark"),
            master,
            conf: Vec::new(),
        };
        assert!(spark.is_local());
        assert!(
            !Spark {
                master: "spark://h:7077".into(),
                ..spark
            }
            .is_local()
        );
    }
}
