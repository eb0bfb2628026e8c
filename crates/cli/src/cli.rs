//! Command-line syntax. Option names follow the AWS CLI where it has an equivalent
//! (`--parameter-objects`, `--parameter-values`, `--parameter-values-uri`, `--output`).

use std::path::PathBuf;

use chrono::NaiveDateTime;
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version,
    about = "Run AWS Data Pipeline definitions on your own machines"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check a pipeline definition the way ValidatePipelineDefinition does.
    ///
    /// Exit status: 0 when valid (warnings allowed), 1 when invalid, 2 when the file cannot be
    /// read or parsed.
    Validate(ValidateArgs),
    /// Evaluate a string containing #{...} expressions and print the result.
    Eval(EvalArgs),
    /// Run a pipeline on this machine until every instance due by now has finished.
    ///
    /// Past intervals are backfilled. Running the same file again on the same data directory
    /// resumes where the last run stopped; a second run of the same pipeline while one is
    /// going is refused. Exit status: 0 when every instance FINISHED (or was SKIPPED), 1 when
    /// any FAILED, CASCADE_FAILED, TIMEDOUT or was CANCELED, 2 for an invalid definition or a
    /// usage error, 128 + the signal number when interrupted before everything due finished.
    Run(RunArgs),
    /// List the instances a pipeline would create, with their scheduled times and what each
    /// waits for, without running anything or writing any state.
    ///
    /// The pipeline is taken to be activated at --activate-at (default: now), as a first
    /// `sluice run` would activate it. Without --to or --count the window runs from the first
    /// interval (past intervals included, as a run backfills them) to one day after the
    /// activation. Exit status: 0 when the plan was printed, 2 for an invalid definition or a
    /// usage error.
    Plan(PlanArgs),
    /// Serve the AWS Data Pipeline API (JSON 1.1 with SigV4) for the AWS CLI, the SDKs and
    /// task runners.
    ///
    /// Needs credentials: SLUICE_ROOT_ACCESS_KEY_ID and SLUICE_ROOT_SECRET_ACCESS_KEY, a
    /// --credentials file, or --dev for a generated key. Activated pipelines resume where they
    /// were when the server last stopped.
    Server(ServerArgs),
    /// Take the tasks of one worker group from a Sluice server (or AWS) over HTTP and run them
    /// on this machine, as AWS's Task Runner does.
    ///
    /// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) or
    /// a profile (AWS_PROFILE, ~/.aws/credentials, ~/.aws/config). Prints a line starting with
    /// "sluice taskrunner ready" once it polls. Exits 0 on SIGINT/SIGTERM (after stopping and
    /// reporting its running tasks) or when a heartbeat answers terminate; 2 for bad options
    /// or missing credentials.
    #[command(name = "taskrunner", args_override_self = true)]
    TaskRunner(TaskRunnerArgs),
    /// Manage state databases.
    Store(StoreArgs),
    /// Copy pipelines from AWS Data Pipeline (or any endpoint of its API) to a Sluice server or
    /// into definition files, and report what will not run there as it did at the source.
    ///
    /// Reads with the AWS credentials of the environment or profile files; changes nothing at
    /// the source and activates nothing anywhere. Without --to or --out it only reports. Running
    /// it again creates no duplicates. Exit status: 0 when every pipeline was imported (or
    /// checked) with a valid definition, 1 when any was not or is invalid on Sluice, 2 for usage
    /// errors and when the source or the destination cannot be read or refuses the credentials
    /// (then nothing was written).
    Import(ImportArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("selection").required(true).args(["pipeline_ids", "all"])))]
// Parsed in every build so that the help is the same; read only where the command is built in.
#[cfg_attr(not(feature = "import"), allow(dead_code))]
pub(crate) struct ImportArgs {
    /// Where to read the pipelines: an AWS region (us-east-1: AWS Data Pipeline's endpoint
    /// there) or the URL of a service speaking its API.
    #[arg(long, value_name = "REGION|URL")]
    pub(crate) from_endpoint: String,

    /// The region requests to a --from-endpoint URL are signed for. Default: AWS_REGION,
    /// AWS_DEFAULT_REGION, the profile's, else us-east-1.
    #[arg(long, value_name = "REGION")]
    pub(crate) region: Option<String>,

    /// Read with the credentials of this profile (~/.aws/credentials, ~/.aws/config) instead
    /// of AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE.
    #[arg(long, value_name = "NAME")]
    pub(crate) from_profile: Option<String>,

    /// Certificate authorities (a PEM file) trusted besides the system's, for both
    /// --from-endpoint and --to.
    #[arg(long, value_name = "FILE", env = "AWS_CA_BUNDLE")]
    pub(crate) ca_bundle: Option<std::path::PathBuf>,

    /// A pipeline to import (repeatable).
    #[arg(long = "pipeline-id", value_name = "ID", num_args = 1..)]
    pub(crate) pipeline_ids: Vec<String>,

    /// Import every pipeline ListPipelines shows the credentials.
    #[arg(long)]
    pub(crate) all: bool,

    /// The Sluice server to create the pipelines on, e.g. http://127.0.0.1:8080. Its keys come
    /// from --to-profile, else SLUICE_ACCESS_KEY_ID and SLUICE_SECRET_ACCESS_KEY.
    #[arg(long, value_name = "URL", conflicts_with = "out")]
    pub(crate) to: Option<String>,

    /// Sign requests to --to with the keys of this profile (~/.aws/credentials,
    /// ~/.aws/config).
    #[arg(long, value_name = "NAME", requires = "to")]
    pub(crate) to_profile: Option<String>,

    /// Write each pipeline's definition file (<pipeline id>.json, for `sluice run` and
    /// `aws datapipeline put-pipeline-definition`) into this directory instead.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,

    /// How the report is printed.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) output: OutputFormat,
}

#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    #[command(subcommand)]
    pub(crate) command: StoreCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum StoreCommand {
    /// Copy every pipeline (definitions, fields, tags), instance and attempt from one state
    /// database to another, e.g. from a data directory's SQLite to PostgreSQL.
    ///
    /// Stop the servers using the source first. The target must hold no pipelines unless
    /// --into-non-empty is given. Every copied pipeline is read back and compared. Exit status:
    /// 0 when everything was copied, 1 when the copy stopped, 2 for a usage error.
    Copy(StoreCopyArgs),
    /// Seal every secret value of a state database with a new key.
    ///
    /// What the current key sealed is opened and sealed again, values sealed with the new key
    /// are left as they are (run it again after an interruption), and values sealed with any
    /// other key stop it before anything changes. Stop every server using the database first: it refuses a SQLite database another
    /// process has open, and a PostgreSQL database whose servers are running. Then start them
    /// with the new key. Exit status: 0 when rotated, 1 when refused or stopped, 2 for a usage
    /// error.
    RotateKey(crate::commands::store::StoreRotateKeyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct StoreCopyArgs {
    /// The state to copy: a data directory, a SQLite file, or postgres://user:password@host/db.
    #[arg(long, value_name = "LOCATION")]
    pub(crate) from: String,

    /// Where to copy it: a data directory, a SQLite file, or postgres://user:password@host/db.
    #[arg(long, value_name = "LOCATION")]
    pub(crate) to: String,

    /// Copy into a target that already holds pipelines; those it holds are left as they are.
    #[arg(long)]
    pub(crate) into_non_empty: bool,

    /// The key that seals secret values on both sides (see `sluice server --help`). Default:
    /// secret.key beside the SQLite side's database, generated when it has none.
    #[arg(long, value_name = "FILE", env = "SLUICE_SECRET_KEY_FILE")]
    pub(crate) secret_key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
// Parsed in every build so that the help is the same; read only where the command is built in.
#[cfg_attr(not(feature = "taskrunner"), allow(dead_code))]
pub(crate) struct TaskRunnerArgs {
    /// How log lines are written to stderr: text, or one JSON object per line (for log
    /// collectors).
    #[arg(long, value_enum, value_name = "FORMAT", env = "SLUICE_LOG_FORMAT", default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,

    /// The service URL, e.g. http://127.0.0.1:8080. Default: AWS's endpoint for the region.
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint: Option<String>,

    /// Certificate authorities (a PEM file) to trust besides the system's, for an https://
    /// --endpoint whose certificate a private CA issued.
    #[arg(long, value_name = "FILE", env = "AWS_CA_BUNDLE")]
    pub(crate) ca_bundle: Option<PathBuf>,

    /// The worker group whose tasks this runner takes (exact, case-sensitive match).
    #[arg(long, value_name = "NAME", alias = "workerGroup")]
    pub(crate) worker_group: String,

    /// How many tasks run at once.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub(crate) tasks: usize,

    /// The id sent with heartbeats. Default: sluice-<hostname>-<pid>.
    #[arg(long, value_name = "ID", alias = "taskrunnerId")]
    pub(crate) taskrunner_id: Option<String>,

    /// Where each attempt's logs are copied when it ends (s3://bucket/prefix, file:///dir or
    /// /dir), under <pipelineId>/<componentId>/<instanceId>/<attemptId>/. A pipeline's own
    /// pipelineLogUri, when the task carries one, takes precedence.
    #[arg(long, value_name = "URI", alias = "logUri")]
    pub(crate) log_uri: Option<String>,

    /// The region requests are signed for. Default: AWS_REGION, the profile's, else us-east-1.
    #[arg(long, value_name = "REGION")]
    pub(crate) region: Option<String>,

    /// Where attempt directories (logs/) and the local object store live.
    #[arg(
        long,
        value_name = "DIR",
        env = "SLUICE_DATA_DIR",
        default_value = ".sluice"
    )]
    pub(crate) data_dir: PathBuf,

    /// The longest the service holds a PollForTask open (AWS: 90); the HTTP read timeout is
    /// this plus 30 seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 90)]
    pub(crate) poll_wait: u64,

    /// Seconds between progress reports of a running task (AWS: 60). Attempts with a short
    /// reportProgressTimeout are reported at a third of it.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub(crate) report_interval: u64,

    /// Seconds between ReportTaskRunnerHeartbeat calls (AWS: 900); 0 sends none.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub(crate) heartbeat_interval: u64,

    /// Longest pause between attempts to reach the service while it is down.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub(crate) max_backoff: u64,

    /// The host name reported with polls and heartbeats. Default: this machine's.
    #[arg(long, value_name = "NAME")]
    pub(crate) hostname: Option<String>,

    /// An AWS Task Runner credentials file: {"access-id": "…", "private-key": "…"}, optionally
    /// with "endpoint", "region" and "log-uri" (options given here win). Its keys are used
    /// instead of the environment and profiles.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// The settings file of `sluice server --settings`: its "data" says how tasks reach data
    /// (s3, sql, dynamodb, sns, spark, pig), each value winning over its environment variable.
    /// Keys only a server uses (pollWaitSeconds, maxConnections, limits, …) are accepted and
    /// ignored; unknown keys are refused.
    #[arg(long, value_name = "FILE")]
    pub(crate) settings: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,

    /// Serve HTTPS with this certificate: a PEM file with the server's certificate first,
    /// then any intermediate certificates. Needs --tls-key. Read at start (a new certificate
    /// takes a restart).
    #[arg(
        long,
        value_name = "FILE",
        env = "SLUICE_TLS_CERT",
        requires = "tls_key"
    )]
    pub(crate) tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert: an unencrypted PEM file (PKCS#8, RSA or EC).
    #[arg(
        long,
        value_name = "FILE",
        env = "SLUICE_TLS_KEY",
        requires = "tls_cert"
    )]
    pub(crate) tls_key: Option<PathBuf>,

    /// Certificate authorities (a PEM file) trusted besides the system's for the calls this
    /// server makes: from the task runners it provisions (handed the same file), and to the
    /// other servers sharing its database.
    #[arg(long, value_name = "FILE", env = "AWS_CA_BUNDLE")]
    pub(crate) ca_bundle: Option<PathBuf>,

    /// Where state, logs and the local object store live.
    #[arg(
        long,
        value_name = "DIR",
        env = "SLUICE_DATA_DIR",
        default_value = ".sluice"
    )]
    pub(crate) data_dir: PathBuf,

    /// Serve `GET /metrics` (Prometheus) on this address instead of the API's, e.g.
    /// 127.0.0.1:9464 to keep it off a public port (it is not signed).
    #[arg(long, value_name = "ADDR", env = "SLUICE_METRICS_LISTEN")]
    pub(crate) metrics_listen: Option<String>,

    /// The state database: postgres://user:password@host:port/db (`sslmode` in the URL).
    /// Default: SQLite in the data directory.
    #[arg(
        long,
        value_name = "URL",
        env = "SLUICE_DATABASE_URL",
        hide_env_values = true
    )]
    pub(crate) database: Option<String>,

    /// The key that seals secret values (`*` fields and parameters) in the state database: a
    /// file of 64 hexadecimal digits. Default: secret.key in the data directory, generated on
    /// first start. Back it up with the database; servers sharing a database need the same.
    #[arg(long, value_name = "FILE", env = "SLUICE_SECRET_KEY_FILE")]
    pub(crate) secret_key_file: Option<PathBuf>,

    /// How log lines are written to stderr: text, or one JSON object per line (for log
    /// collectors).
    #[arg(long, value_enum, value_name = "FORMAT", env = "SLUICE_LOG_FORMAT", default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,

    /// A JSON file of access keys by account: {"accounts": [{"accountId": "…", "keys":
    /// [{"accessKeyId": "…", "secretAccessKey": "…"}]}]}.
    #[arg(long, value_name = "FILE")]
    pub(crate) credentials: Option<PathBuf>,

    /// Generate an access key for local development and print it once.
    #[arg(long)]
    pub(crate) dev: bool,

    /// Do not run tasks in this process; leave them to task runners polling the API.
    #[arg(long)]
    pub(crate) no_local_runner: bool,

    /// Do not serve the web console (by default at /console/ on the API's address).
    #[arg(long)]
    pub(crate) no_console: bool,

    /// Flush the state database to disk at every commit, so that it also survives an
    /// operating-system crash or power loss (by default it survives the process being killed
    /// at any moment).
    #[arg(long)]
    pub(crate) fsync: bool,

    /// How many tasks the in-process runner runs at once.
    #[arg(long, value_name = "N", default_value_t = default_workers())]
    pub(crate) workers: usize,

    /// A JSON file of service limits and data settings, e.g. {"pollWaitSeconds": 90,
    /// "maxPipelinesPerAccount": 100, "limits": {"enforcement": "error"}, "data": {"sql":
    /// {"rdsInstances": {…}}}}. The same file works for sluice run and sluice taskrunner.
    #[arg(long, value_name = "FILE")]
    pub(crate) settings: Option<PathBuf>,

    /// How managed resources (Ec2Resource, EmrCluster) get their task runner: `local-process`
    /// starts a `sluice taskrunner` process per resource; `external` leaves it to runners you
    /// start with `--worker-group <resource instance id>`.
    #[arg(long, value_name = "KIND", default_value = "local-process",
          value_parser = ["local-process", "external"])]
    pub(crate) provisioner: String,

    /// A named worker group whose tasks the in-process runner takes too (repeatable). By
    /// default it takes work that names no group, the group `local` (which definitions
    /// written for `sluice run` name) and the checks the service performs.
    #[arg(long = "local-worker-group", value_name = "NAME")]
    pub(crate) local_worker_groups: Vec<String>,

    /// The URL provisioned task runners, and the other servers sharing a PostgreSQL
    /// database, use to reach this server (default: the address it listens on).
    #[arg(long, value_name = "URL", env = "SLUICE_ADVERTISE_URL")]
    pub(crate) advertise_url: Option<String>,

    /// With a shared PostgreSQL database: how long a server's hold on a pipeline lasts unless
    /// renewed (every third of it); another server takes a dead server's pipelines over after
    /// it lapses.
    #[arg(
        long,
        value_name = "SECONDS",
        env = "SLUICE_LEASE_SECONDS",
        default_value_t = 15
    )]
    pub(crate) lease_seconds: u64,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) definition: DefinitionArgs,

    /// Where state, logs and the local object store live.
    #[arg(
        long,
        value_name = "DIR",
        env = "SLUICE_DATA_DIR",
        default_value = ".sluice"
    )]
    pub(crate) data_dir: PathBuf,

    /// How many tasks run at once.
    #[arg(long, value_name = "N", default_value_t = default_workers())]
    pub(crate) workers: usize,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) output: OutputFormat,

    /// Keep running and scheduling future intervals until interrupted.
    #[arg(long)]
    pub(crate) follow: bool,

    /// Discard what this data directory recorded for the file and start over.
    #[arg(long)]
    pub(crate) fresh: bool,

    /// The key that seals secret values (`*` fields and parameters) in the state database: a
    /// file of 64 hexadecimal digits. Default: secret.key in the data directory, generated on
    /// first start. Back it up with the database; servers sharing a database need the same.
    #[arg(long, value_name = "FILE", env = "SLUICE_SECRET_KEY_FILE")]
    pub(crate) secret_key_file: Option<PathBuf>,

    /// Flush the state database to disk at every commit, so that it also survives an
    /// operating-system crash or power loss (by default it survives the process being killed
    /// at any moment).
    #[arg(long)]
    pub(crate) fsync: bool,

    /// The settings file of `sluice server --settings`: its "data" says how tasks reach data
    /// (s3, sql, dynamodb, sns, spark, pig), each value winning over its environment variable,
    /// and its "limits" which definition limits apply. Keys only a server uses
    /// (pollWaitSeconds, maxConnections, …) are accepted and ignored; unknown keys are refused.
    #[arg(long, value_name = "FILE")]
    pub(crate) settings: Option<PathBuf>,
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Text,
    Json,
}

/// The definition file and the parameter options that go with it, as
/// `aws datapipeline put-pipeline-definition` takes them.
#[derive(Debug, Args)]
pub(crate) struct DefinitionArgs {
    /// The definition file (file form with "objects", or API form with "pipelineObjects").
    pub(crate) file: PathBuf,

    /// A JSON file of parameter declarations ({"parameters": [...]}, or the bare list) that
    /// replaces the definition's own "parameters"; file://PATH or PATH.
    #[arg(long = "parameter-objects", value_name = "FILE")]
    pub(crate) parameter_objects: Option<String>,

    #[command(flatten)]
    pub(crate) parameters: ParameterValueArgs,
}

/// Parameter values, given inline or from a file, exactly one way.
#[derive(Debug, Args)]
pub(crate) struct ParameterValueArgs {
    /// Parameter values as id=value; repeat an id to give an array parameter several values.
    #[arg(long = "parameter-values", value_name = "ID=VALUE", num_args = 1..)]
    pub(crate) parameter_values: Vec<String>,

    /// A JSON file whose top-level "values" object gives parameter values; file://PATH or
    /// PATH.
    #[arg(long = "parameter-values-uri", value_name = "FILE")]
    pub(crate) parameter_values_uri: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    #[command(flatten)]
    pub(crate) definition: DefinitionArgs,

    #[command(flatten)]
    pub(crate) limits: LimitArgs,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) output: OutputFormat,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub(crate) definition: DefinitionArgs,

    /// Plan as if the pipeline were first activated at this time (YYYY-MM-DDTHH:MM:SS, UTC):
    /// the start of FIRST_ACTIVATION_DATE_TIME schedules and the time of an ondemand run.
    /// Default: now.
    #[arg(long, value_name = "DATETIME", value_parser = parse_datetime_arg)]
    pub(crate) activate_at: Option<NaiveDateTime>,

    /// List instances scheduled to start at or after this time. Default: the start of the
    /// first interval.
    #[arg(long, value_name = "DATETIME", value_parser = parse_datetime_arg)]
    pub(crate) from: Option<NaiveDateTime>,

    /// List instances scheduled to start before this time. Default: one day after the
    /// activation, or after --from when that is later.
    #[arg(long, value_name = "DATETIME", value_parser = parse_datetime_arg)]
    pub(crate) to: Option<NaiveDateTime>,

    /// List the first N scheduled start times (intervals) from --from instead.
    #[arg(long, value_name = "N", conflicts_with = "to",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) count: Option<u32>,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) output: OutputFormat,
}

fn parse_datetime_arg(text: &str) -> Result<NaiveDateTime, String> {
    sluice_model::time::parse_datetime(text).map_err(|error| error.to_string())
}

/// Which service limits apply. AWS's limits are warnings unless asked otherwise.
#[derive(Debug, Args)]
pub(crate) struct LimitArgs {
    /// Treat AWS's service limits (15-minute minimum period, 100 objects, …) as errors.
    #[arg(long, conflicts_with = "limits")]
    pub(crate) strict_limits: bool,

    /// A JSON file of limit settings, e.g. {"max_objects": 500, "enforcement": "error"}.
    #[arg(long, value_name = "FILE")]
    pub(crate) limits: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The text to evaluate, e.g. "#{format(@scheduledStartTime, 'YYYY-MM-dd')}".
    pub(crate) expression: String,

    /// A definition whose objects, fields and parameters the expression may use.
    #[arg(long, value_name = "FILE", requires = "object")]
    pub(crate) definition: Option<PathBuf>,

    /// The object (component id) the expression is evaluated for.
    #[arg(long, value_name = "ID", requires = "definition")]
    pub(crate) object: Option<String>,

    /// The @scheduledStartTime to evaluate at (YYYY-MM-DDTHH:MM:SS, UTC). Defaults to now.
    #[arg(long, value_name = "DATETIME")]
    pub(crate) at: Option<String>,

    #[command(flatten)]
    pub(crate) parameters: ParameterValueArgs,
}
