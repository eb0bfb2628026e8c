//! Where the EMR family's work runs: an Apache Spark installation standing for the
//! `EmrCluster`, and an Apache Pig installation when one is configured.
//!
//! These are settings rather than connectors: nothing here is linked in, the runner starts the
//! installation's own launchers (`spark-submit`, `spark-sql`, `pig`). They sit beside the data
//! settings so one settings file (`data.spark`, `data.pig`) configures a runner, and so they
//! parse the same in every build.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// How an `EmrCluster` maps onto Spark.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct SparkSettings {
    /// The Spark installation (a distribution, or the `pyspark` directory of a `pip install
    /// pyspark`); else `SPARK_HOME`, else `spark-submit` on `PATH`.
    pub spark_home: Option<PathBuf>,
    /// The master every step is submitted to (`spark://host:7077`, `yarn`, `k8s://…`); else
    /// `SLUICE_SPARK_MASTER`, else `local[N]` with N the runner's cores.
    pub master: Option<String>,
    /// Extra `--conf key=value` pairs given to every `spark-submit` and `spark-sql`; else
    /// `SLUICE_SPARK_CONF`.
    pub conf: BTreeMap<String, String>,
    /// Why the environment's Spark settings could not be read, if they could not: reported by
    /// every attempt that needs Spark.
    #[serde(skip)]
    pub conf_error: Option<String>,
}

/// Where Apache Pig is, for `PigActivity`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct PigSettings {
    /// The Pig installation (its `bin/pig` is run); else `PIG_HOME`, else `pig` on `PATH`.
    pub home: Option<PathBuf>,
    /// Pig's `-x` execution type; else `SLUICE_PIG_EXEC_TYPE`, else `local`.
    pub exec_type: Option<String>,
}

/// The variable carrying `conf` as a JSON object, for `sluice run` and for the task runners a
/// server starts (which read their settings from the environment).
pub const SPARK_CONF_ENV: &str = "SLUICE_SPARK_CONF";

impl SparkSettings {
    /// These settings with what they leave unset taken from `SPARK_HOME`,
    /// `SLUICE_SPARK_MASTER` and `SLUICE_SPARK_CONF` (a JSON object of strings; keys set here
    /// win). An unreadable `SLUICE_SPARK_CONF` is an error naming it.
    pub fn or_env(mut self, var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let set = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        if self.spark_home.is_none() {
            self.spark_home = set(var("SPARK_HOME")).map(PathBuf::from);
        }
        if self.master.is_none() {
            self.master = set(var("SLUICE_SPARK_MASTER"));
        }
        if let Some(json) = set(var(SPARK_CONF_ENV)) {
            let conf: BTreeMap<String, String> = serde_json::from_str(&json).map_err(|err| {
                format!("{SPARK_CONF_ENV} must be a JSON object of strings: {err}")
            })?;
            for (key, value) in conf {
                self.conf.entry(key).or_insert(value);
            }
        }
        Ok(self)
    }

    /// The environment that gives a child process these settings through
    /// [`or_env`](Self::or_env).
    pub fn to_env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        if let Some(home) = &self.spark_home {
            env.push(("SPARK_HOME".to_string(), home.display().to_string()));
        }
        if let Some(master) = &self.master {
            env.push(("SLUICE_SPARK_MASTER".to_string(), master.clone()));
        }
        if !self.conf.is_empty() {
            let json = serde_json::to_string(&self.conf).unwrap_or_default();
            env.push((SPARK_CONF_ENV.to_string(), json));
        }
        env
    }
}

impl PigSettings {
    /// These settings with the home directory taken from `PIG_HOME` when unset.
    pub fn or_env(mut self, var: impl Fn(&str) -> Option<String>) -> Self {
        if self.home.is_none() {
            self.home = var("PIG_HOME")
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from);
        }
        if self.exec_type.is_none() {
            self.exec_type = var("SLUICE_PIG_EXEC_TYPE").filter(|v| !v.trim().is_empty());
        }
        self
    }

    /// The environment that gives a child process these settings through
    /// [`or_env`](Self::or_env).
    pub fn to_env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        if let Some(home) = &self.home {
            env.push(("PIG_HOME".to_string(), home.display().to_string()));
        }
        if let Some(exec_type) = &self.exec_type {
            env.push(("SLUICE_PIG_EXEC_TYPE".to_string(), exec_type.clone()));
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_win_over_the_environment() {
        let env = |name: &str| match name {
            "SPARK_HOME" => Some("/opt/spark".to_string()),
            "SLUICE_SPARK_MASTER" => Some("spark://h:7077".to_string()),
            "PIG_HOME" => Some("/opt/pig".to_string()),
            _ => None,
        };
        let from_env = SparkSettings::default().or_env(env).unwrap();
        assert_eq!(from_env.spark_home, Some(PathBuf::from("/opt/spark")));
        assert_eq!(from_env.master.as_deref(), Some("spark://h:7077"));
        let own = SparkSettings {
            spark_home: Some("/srv/spark".into()),
            master: Some("yarn".into()),
            ..SparkSettings::default()
        }
        .or_env(env)
        .unwrap();
        assert_eq!(own.spark_home, Some(PathBuf::from("/srv/spark")));
        assert_eq!(own.master.as_deref(), Some("yarn"));
        assert_eq!(
            PigSettings::default().or_env(env).home,
            Some(PathBuf::from("/opt/pig"))
        );
        assert_eq!(PigSettings::default().or_env(|_| None).home, None);
    }

    #[test]
    fn settings_travel_to_child_processes_through_the_environment() {
        let spark = SparkSettings {
            spark_home: Some("/opt/spark".into()),
            master: Some("spark://h:7077".into()),
            conf: BTreeMap::from([("spark.executor.memory".into(), "4g".into())]),
            conf_error: None,
        };
        let env = spark.to_env();
        let var = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let back = SparkSettings::default().or_env(var).unwrap();
        assert_eq!(back.spark_home, spark.spark_home);
        assert_eq!(back.master, spark.master);
        assert_eq!(back.conf, spark.conf);
        let pig = PigSettings {
            home: Some("/opt/pig".into()),
            exec_type: Some("mapreduce".into()),
        };
        let env = pig.to_env();
        let var = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let back = PigSettings::default().or_env(var);
        assert_eq!((back.home, back.exec_type), (pig.home, pig.exec_type));
        let bad = SparkSettings::default()
            .or_env(|name| (name == SPARK_CONF_ENV).then(|| "[1]".to_string()))
            .unwrap_err();
        assert!(
            bad.contains("SLUICE_SPARK_CONF must be a JSON object"),
            "{bad}"
        );
    }

    #[test]
    fn settings_files_name_the_keys_in_camel_case() {
        let s: crate::DataSettings = serde_json::from_str(
            r#"{"spark": {"sparkHome": "/opt/spark", "master": "local[2]",
                          "conf": {"spark.sql.shuffle.partitions": "4"}},
                "pig": {"home": "/opt/pig", "execType": "local"}}"#,
        )
        .unwrap();
        assert_eq!(s.spark.master.as_deref(), Some("local[2]"));
        assert_eq!(s.spark.conf["spark.sql.shuffle.partitions"], "4");
        assert_eq!(s.pig.exec_type.as_deref(), Some("local"));
        assert!(
            serde_json::from_str::<crate::DataSettings>(r#"{"spark": {"home": "/x"}}"#).is_err()
        );
    }
}
