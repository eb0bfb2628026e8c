//! Connection settings for every external system a runner talks to.

use serde::Deserialize;

/// Everything a runner needs to reach data: one value per runner, shared by its attempts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DataSettings {
    /// Where `s3://` URIs live.
    pub s3: crate::storage::S3Settings,
    /// How database objects (`rdsInstanceId`, `clusterId`) map to hosts.
    pub sql: crate::sql::SqlSettings,
    /// How DynamoDB tables are reached (per-region endpoints, credentials).
    pub dynamodb: crate::aws::DynamoSettings,
    /// How SNS topics are reached, for `SnsAlarm`.
    pub sns: crate::aws::SnsSettings,
    /// Where EMR-family work runs: the Spark installation and master.
    pub spark: crate::compute::SparkSettings,
    /// Where `PigActivity` finds Apache Pig.
    pub pig: crate::compute::PigSettings,
}

impl DataSettings {
    /// These settings with every S3 value they leave unset taken from the AWS environment
    /// variables ([`S3Settings::from_env`](crate::storage::S3Settings::from_env)), and the
    /// Spark and Pig ones from `SPARK_HOME`, `SLUICE_SPARK_MASTER` and `PIG_HOME`: values
    /// written in a settings file win over the environment.
    pub fn with_env(mut self) -> Self {
        self.s3 = self.s3.or(crate::storage::S3Settings::from_env());
        let var = |name: &str| std::env::var(name).ok();
        match self.spark.clone().or_env(var) {
            Ok(spark) => self.spark = spark,
            // Spark's attempts report it: the runner has no other way to say so.
            Err(message) => self.spark.conf_error = Some(message),
        }
        self.pig = self.pig.or_env(var);
        self
    }

    /// What is wrong with these settings as a settings file wrote them, before the environment
    /// fills them in: `s3.embedded` beside a key only an S3 server uses, a database entry's
    /// TLS mode that is not one of its engine's.
    pub fn check(&self) -> Result<(), String> {
        self.s3.check_embedded()?;
        self.sql.check()
    }

    /// The settings from the environment alone, for commands run without a settings file.
    pub fn from_env() -> Self {
        DataSettings::default().with_env()
    }
}
