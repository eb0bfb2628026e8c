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
    /// Extra `--conf key=value` pairs given to every `spark-submit` and `spark-sql`.
    pub conf: BTreeMap<String, String>,
}

/// Where Apache Pig is, for `PigActivity`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct PigSettings {
    /// The Pig installation (its `bin/pig` is run); else `PIG_HOME`, else `pig` on `PATH`.
    pub home: Option<PathBuf>,
    /// Pig's `-x` execution type (default `local`).
    pub exec_type: Option<String>,
}

impl SparkSettings {
    /// These settings with what they leave unset taken from `SPARK_HOME` and
    /// `SLUICE_SPARK_MASTER`.
    pub fn or_env(mut self, var: impl Fn(&str) -> Option<String>) -> Self {
        let set = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        if self.spark_home.is_none() {
            self.spark_home = set(var("SPARK_HOME")).map(PathBuf::from);
        }
        if self.master.is_none() {
            self.master = set(var("SLUICE_SPARK_MASTER"));
        }
        self
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
        self
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
        let from_env = SparkSettings::default().or_env(env);
        assert_eq!(from_env.spark_home, Some(PathBuf::from("/opt/spark")));
        assert_eq!(from_env.master.as_deref(), Some("spark://h:7077"));
        let own = SparkSettings {
            spark_home: Some("/srv/spark".into()),
            master: Some("yarn".into()),
            ..SparkSettings::default()
        }
        .or_env(env);
        assert_eq!(own.spark_home, Some(PathBuf::from("/srv/spark")));
        assert_eq!(own.master.as_deref(), Some("yarn"));
        assert_eq!(
            PigSettings::default().or_env(env).home,
            Some(PathBuf::from("/opt/pig"))
        );
        assert_eq!(PigSettings::default().or_env(|_| None).home, None);
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
