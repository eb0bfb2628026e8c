//! `sluice server`: the AWS Data Pipeline API over the state in the data directory (SQLite) or
//! a PostgreSQL database (`--database`), with the in-process task runner unless
//! `--no-local-runner`, and a task runner process per managed resource (`--provisioner
//! local-process`, the default). HTTPS with `--tls-cert` and `--tls-key`; `--ca-bundle` is
//! what the server trusts, and hands its task runners, for the calls they make to it.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow};
use sluice_api::auth::{
    CredentialStore, ENV_ROOT_ACCESS_KEY_ID, ENV_ROOT_ACCOUNT_ID, ENV_ROOT_SECRET_ACCESS_KEY,
    KeyRing,
};
use sluice_api::server::{ServerOptions, serve, serve_metrics};
use sluice_api::tls::ServerTls;
use sluice_api::{ApiConfig, Service, ServiceOptions};
use sluice_engine::{Store, SystemClock};
use sluice_runner::trust::CaBundle;
use sluice_runtime::cluster::ClusterSettings;
use sluice_runtime::provision::{
    ExternalProvisioner, LocalProcessProvisioner, LocalProcessSettings, Provisioner,
};
use tokio_util::sync::CancellationToken;

use crate::cli::ServerArgs;
use crate::commands::{EXIT_USAGE, STATE_FILE, stop_signal};
use crate::settings_file::SettingsFile;
use crate::state_store::{OpenStore, StateLocation, secret_key};

pub(crate) fn run(args: &ServerArgs) -> Result<ExitCode> {
    super::init_logging(args.log_format);
    let settings = match SettingsFile::load_optional(args.settings.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("sluice: {error:#}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let transport = match Transport::load(args) {
        Ok(transport) => transport,
        Err(message) => {
            eprintln!("sluice: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let credentials = match credentials(args) {
        Ok(credentials) => credentials,
        Err(message) => {
            eprintln!("sluice: {message}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run_server(args, credentials, settings, transport))
}

/// How the server is reached and what it trusts: its certificate (HTTPS) and the CA bundle of
/// the calls it, and the task runners it starts, make.
struct Transport {
    tls: Option<ServerTls>,
    ca_bundle: Option<CaBundle>,
}

impl Transport {
    /// Reads the files named, checking each, before anything else starts.
    fn load(args: &ServerArgs) -> Result<Transport, String> {
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(certificate), Some(key)) => {
                Some(ServerTls::load(certificate, key).map_err(|e| e.to_string())?)
            }
            // The command line requires both or neither.
            _ => None,
        };
        let ca_bundle = args
            .ca_bundle
            .as_deref()
            .map(CaBundle::load)
            .transpose()
            .map_err(|e| e.to_string())?;
        if let (Some(_), Some(url)) = (&tls, &args.advertise_url)
            && !url.starts_with("https://")
        {
            return Err(format!(
                "--advertise-url {url} is not an https:// URL, but this server serves HTTPS \
                 (--tls-cert): its task runners and the other servers could not reach it"
            ));
        }
        Ok(Transport { tls, ca_bundle })
    }

    fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Warns when the certificate does not hold the host of `endpoint`, the URL provisioned
    /// runners and other servers are given: they would refuse it.
    fn check_advertised(&self, endpoint: &str) {
        let Some(tls) = &self.tls else { return };
        let Some(host) = url_host(endpoint) else {
            return;
        };
        if !tls.names(host) {
            tracing::warn!(
                "the certificate {} is not valid for {host}, the host of {endpoint}, the URL \
                 this server's task runners and the other servers sharing its database use: \
                 they will refuse it. Set --advertise-url to a name the certificate holds",
                tls.certificate_file().display()
            );
        }
    }
}

/// The host of an `http(s)://host[:port]/…` URL, without the brackets of an IPv6 address.
fn url_host(url: &str) -> Option<&str> {
    let authority = url.split_once("://")?.1.split('/').next()?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, rest)| rest);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split_once(']').map(|(host, _)| host);
    }
    Some(
        host_port
            .split_once(':')
            .map_or(host_port, |(host, _)| host),
    )
}

/// The access keys the server accepts: the environment's root pair, a credentials file, and
/// with `--dev` a generated key, printed once on stdout (it is never stored or logged).
fn credentials(args: &ServerArgs) -> Result<CredentialStore, String> {
    let mut store = CredentialStore::from_env_and_file(args.credentials.as_deref())
        .map_err(|e| e.to_string())?;
    if args.dev {
        let dev = CredentialStore::generate_dev().map_err(|e| e.to_string())?;
        let mut out = std::io::stdout().lock();
        for key in dev.keys() {
            store
                .insert(key.clone(), "generated --dev key")
                .map_err(|e| e.to_string())?;
            let _ = writeln!(
                out,
                "Development access key (valid until this server stops; shown only now):\n  \
                 AWS_ACCESS_KEY_ID={}\n  AWS_SECRET_ACCESS_KEY={}\n  account {}",
                key.access_key_id,
                key.secret_access_key.expose_secret(),
                key.account_id
            );
        }
        let _ = out.flush();
    }
    if store.is_empty() {
        return Err(format!(
            "no credentials: the server accepts only signed requests. Set \
             {ENV_ROOT_ACCESS_KEY_ID} and {ENV_ROOT_SECRET_ACCESS_KEY} (account \
             {ENV_ROOT_ACCOUNT_ID}, default 000000000000), or pass --credentials FILE, or use \
             --dev to generate a key for local development"
        ));
    }
    Ok(store)
}

async fn run_server(
    args: &ServerArgs,
    credentials: CredentialStore,
    settings: SettingsFile,
    transport: Transport,
) -> Result<ExitCode> {
    super::create_data_dir(&args.data_dir, args.database.is_none())?;
    let location = match &args.database {
        Some(url) => StateLocation::parse(url),
        None => StateLocation::Sqlite(args.data_dir.join(STATE_FILE)),
    };
    let sealer = secret_key(args.secret_key_file.as_deref(), &args.data_dir)?;
    let store = OpenStore::open(&location, super::durability(args.fsync), sealer).await?;
    let state = store.describe();
    let shared: Arc<dyn Store> = store.store.clone();
    let mut options = ServiceOptions {
        data_dir: Some(args.data_dir.clone()),
        local_worker_groups: local_worker_groups(&args.local_worker_groups),
        ..ServiceOptions::default()
    };
    let mut api = ApiConfig::default();
    settings.apply(&mut options, &mut api);
    api.console = !args.no_console;
    // A browser sends a Secure cookie back only over HTTPS.
    api.console_secure_cookie = transport.tls.is_some();
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let metrics_listener = match &args.metrics_listen {
        Some(at) => Some(
            tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("cannot listen for metrics on {at}"))?,
        ),
        None => None,
    };
    api.metrics = metrics_listener.is_none();
    let scheme = transport.scheme();
    let endpoint = args
        .advertise_url
        .clone()
        .unwrap_or_else(|| advertised_endpoint(scheme, addr));
    transport.check_advertised(&endpoint);
    let opened = match store.cluster() {
        Some(cluster) => {
            let settings = ClusterSettings {
                server_id: format!("{}-{}", hostname(), sluice_runtime::new_request_id()),
                url: endpoint.clone(),
                lease: std::time::Duration::from_secs(args.lease_seconds.max(3)),
            };
            tracing::info!(server = %settings.server_id, url = %settings.url, lease_seconds = settings.lease.as_secs(), "joining the servers sharing {state}");
            Service::open_shared(shared, cluster, settings, Arc::new(SystemClock), options).await
        }
        None => Service::open(shared, Arc::new(SystemClock), options).await,
    };
    let service =
        opened.map_err(|e| anyhow!("cannot open the state in {}: {}", state, e.message()))?;
    tracing::info!(
        state = %state,
        logs = %args.data_dir.join("logs").display(),
        access_keys = credentials.len(),
        local_runner = !args.no_local_runner,
        workers = args.workers,
        tls_certificate = %transport.tls.as_ref().map_or_else(|| "-".into(), |t| t.certificate_file().display().to_string()),
        ca_bundle = %transport.ca_bundle.as_ref().map_or_else(|| "-".into(), |b| b.path().display().to_string()),
        "sluice server listening on {scheme}://{addr}"
    );
    tracing::info!("{}", service.options().data.s3.describe(&args.data_dir));
    let metrics_addr = match &metrics_listener {
        Some(listener) => listener.local_addr()?,
        None => addr,
    };
    tracing::info!("metrics on {scheme}://{metrics_addr}/metrics");
    // Before the readiness line, so that whoever waits for it knows both addresses.
    if metrics_listener.is_some() {
        println!("sluice server metrics on {scheme}://{metrics_addr}/metrics");
    }
    if api.console {
        println!("sluice server console on {scheme}://{addr}/console/");
    }
    println!("sluice server listening on {scheme}://{addr}");
    let _ = std::io::stdout().flush();

    let keys = Arc::new(KeyRing::new(credentials));
    let data = &service.options().data;
    let runner_env = [data.spark.to_env(), data.pig.to_env()].concat();
    service.set_provisioner(
        provisioner(args, endpoint, runner_env, transport.ca_bundle.as_ref())?,
        Some(Arc::clone(&keys)),
    );

    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone(), Arc::clone(&service)));
    let options = ServerOptions {
        api,
        local_runner: !args.no_local_runner,
        workers: args.workers,
        data_dir: args.data_dir.clone(),
        tls: transport.tls.clone(),
        ca_bundle: transport.ca_bundle,
    };
    let metrics_stop = shutdown.clone();
    let metrics = metrics_listener.map(|listener| {
        tokio::spawn(serve_metrics(
            listener,
            transport.tls,
            Arc::clone(&service),
            api,
            metrics_stop.clone(),
        ))
    });
    let served = serve(listener, Arc::clone(&service), keys, options, shutdown).await;
    metrics_stop.cancel();
    if let Some(metrics) = metrics {
        metrics
            .await
            .context("the metrics listener stopped abnormally")??;
    }
    // Runners still up (the server stopped some other way than a signal) go now; a restarted
    // server provisions the resources that still need them.
    service.stop_provisioned().await;
    store.close().await;
    served?;
    tracing::info!("sluice server stopped");
    Ok(ExitCode::SUCCESS)
}

/// On Ctrl-C or SIGTERM: stops the provisioned task runners while the API can still hear
/// their last reports, then cancels `shutdown`.
async fn cancel_on_signal(shutdown: CancellationToken, service: Arc<Service>) {
    stop_signal().await;
    service.stop_provisioned().await;
    shutdown.cancel();
}

/// The provisioner `--provisioner` names.
fn provisioner(
    args: &ServerArgs,
    endpoint: String,
    runner_env: Vec<(String, String)>,
    ca_bundle: Option<&CaBundle>,
) -> Result<Arc<dyn Provisioner>> {
    Ok(match args.provisioner.as_str() {
        "external" => Arc::new(ExternalProvisioner::default()),
        _ => {
            let executable: std::path::PathBuf = match std::env::var_os(ENV_TASKRUNNER_EXECUTABLE) {
                Some(path) => path.into(),
                #[cfg(not(feature = "taskrunner"))]
                None => {
                    let message = crate::commands::no_taskrunner();
                    tracing::warn!("managed resources cannot start: {message}");
                    return Ok(Arc::new(NoTaskRunner(message)));
                }
                #[cfg(feature = "taskrunner")]
                None => std::env::current_exe()
                    .context("cannot find the sluice executable to start task runners")?,
            };
            tracing::info!(endpoint = %endpoint, executable = %executable.display(), "managed resources run as local task runner processes");
            let mut settings =
                LocalProcessSettings::new(executable, endpoint, args.data_dir.clone());
            settings.env = runner_env;
            // The CAs this server trusts are those its runners need to trust it.
            settings.ca_bundle = ca_bundle
                .map(|bundle| std::path::absolute(bundle.path()))
                .transpose()
                .context("cannot find the CA bundle's absolute path")?;
            // The server's own settings file, so a resource's runner reaches data (database
            // ids, per-service endpoints) as the server's in-process runner does.
            if let Some(file) = &args.settings {
                let file = std::path::absolute(file)
                    .with_context(|| format!("cannot find {}", file.display()))?;
                let file = file.to_str().with_context(|| {
                    format!("the settings file's path {} is not UTF-8", file.display())
                })?;
                settings.extra_args = vec!["--settings".into(), file.to_owned()];
            }
            Arc::new(LocalProcessProvisioner::new(settings))
        }
    })
}

/// The local-process provisioner of a build without `sluice taskrunner`: every resource fails
/// to start, saying why (unless SLUICE_TASKRUNNER_EXECUTABLE names a sluice that has it).
#[cfg(not(feature = "taskrunner"))]
#[derive(Debug)]
struct NoTaskRunner(String);

#[cfg(not(feature = "taskrunner"))]
#[async_trait::async_trait]
impl Provisioner for NoTaskRunner {
    async fn start(
        &self,
        _request: sluice_runtime::provision::ProvisionRequest,
        _sink: sluice_runtime::provision::ReportSink,
    ) -> Result<(), sluice_runtime::provision::ProvisionError> {
        Err(sluice_runtime::provision::ProvisionError(self.0.clone()))
    }

    async fn stop(&self, _key: &sluice_runtime::provision::RunnerKey) {}

    async fn stop_all(&self) {}
}

/// This machine's name, to tell servers apart in logs and in the `servers` table.
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "sluice".to_owned())
}

/// Overrides the executable started as `<exe> taskrunner …` for managed resources.
const ENV_TASKRUNNER_EXECUTABLE: &str = "SLUICE_TASKRUNNER_EXECUTABLE";

/// The URL of the bound address as a local child can reach it: an unspecified address
/// (`0.0.0.0`, `::`) becomes loopback.
fn advertised_endpoint(scheme: &str, addr: std::net::SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("{scheme}://{}", std::net::SocketAddr::new(ip, addr.port()))
}

/// The groups the in-process runner takes besides groupless work: `local` (the group
/// definitions written for `sluice run` name, so that they run on a server unchanged) and
/// those named with `--local-worker-group`.
fn local_worker_groups(named: &[String]) -> Vec<String> {
    let mut groups = vec![crate::commands::LOCAL_WORKER_GROUP.to_owned()];
    groups.extend(
        named
            .iter()
            .filter(|g| *g != crate::commands::LOCAL_WORKER_GROUP)
            .cloned(),
    );
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_of_an_advertised_url() {
        assert_eq!(
            url_host("https://sluice.internal:8443"),
            Some("sluice.internal")
        );
        assert_eq!(url_host("https://127.0.0.1:8443/"), Some("127.0.0.1"));
        assert_eq!(url_host("https://[::1]:8443/api"), Some("::1"));
        assert_eq!(url_host("https://user@host"), Some("host"));
        assert_eq!(url_host("host:8443"), None);
    }

    #[test]
    fn the_default_url_takes_the_scheme_and_a_reachable_address() {
        let any: std::net::SocketAddr = "0.0.0.0:8443".parse().unwrap();
        assert_eq!(advertised_endpoint("https", any), "https://127.0.0.1:8443");
        let one: std::net::SocketAddr = "[::]:80".parse().unwrap();
        assert_eq!(advertised_endpoint("http", one), "http://[::1]:80");
    }
}
