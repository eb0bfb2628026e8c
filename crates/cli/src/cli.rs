//! Command-line syntax. Option names follow the AWS CLI where it has an equivalent
//! (`--parameter-values`, `--parameter-values-uri`, `--output`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Serve the AWS Data Pipeline API (JSON 1.1 with SigV4) for the AWS CLI, the SDKs and
    /// task runners.
    ///
    /// Needs credentials: SLUICE_ROOT_ACCESS_KEY_ID and SLUICE_ROOT_SECRET_ACCESS_KEY, a
    /// --credentials file, or --dev for a generated key. Activated pipelines resume where they
    /// were when the server last stopped.
    Server(ServerArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ServerArgs {
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) listen: String,

    /// Where state, logs and the local object store live.
    #[arg(
        long,
        value_name = "DIR",
        env = "SLUICE_DATA_DIR",
        default_value = ".sluice"
    )]
    pub(crate) data_dir: PathBuf,

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

    /// How many tasks the in-process runner runs at once.
    #[arg(long, value_name = "N", default_value_t = default_workers())]
    pub(crate) workers: usize,

    /// A JSON file of service limits, e.g. {"pollWaitSeconds": 90, "maxPipelinesPerAccount":
    /// 100, "limits": {"enforcement": "error"}}.
    #[arg(long, value_name = "FILE")]
    pub(crate) settings: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The definition file.
    pub(crate) file: PathBuf,

    #[command(flatten)]
    pub(crate) parameters: ParameterValueArgs,

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
}

fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Text,
    Json,
}

/// Parameter values, given inline or from a file, exactly one way.
#[derive(Debug, Args)]
pub(crate) struct ParameterValueArgs {
    /// Parameter values as id=value; repeat an id to give an array parameter several values.
    #[arg(long = "parameter-values", value_name = "ID=VALUE", num_args = 1..)]
    pub(crate) parameter_values: Vec<String>,

    /// A JSON file whose top-level "values" object gives parameter values.
    #[arg(long = "parameter-values-uri", value_name = "FILE")]
    pub(crate) parameter_values_uri: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The definition file (file form with "objects", or API form with "pipelineObjects").
    pub(crate) file: PathBuf,

    #[command(flatten)]
    pub(crate) parameters: ParameterValueArgs,

    #[command(flatten)]
    pub(crate) limits: LimitArgs,

    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) output: OutputFormat,
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
