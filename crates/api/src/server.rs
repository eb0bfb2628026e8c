//! Running the API: the HTTP listener beside the service's background work
//! ([`sluice_runtime::background`]), and a clean shutdown.
//!
//! Shutdown order, once `shutdown` fires: long polls answer empty and the listener stops
//! accepting; requests in flight finish; then the background work stops in its own order (the
//! in-process runner, the ticker, a last commit of every scheduler).
//!
//! With [`ServerTls`] every listener speaks HTTPS only. A connection's TLS handshake must end
//! within the header timeout, as its headers must, so clients that stall in the handshake
//! cannot hold connection slots; one that sends plain HTTP is answered `400` saying the port
//! speaks HTTPS, and closed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use sluice_runner::trust::CaBundle;
use sluice_runtime::Service;
use sluice_runtime::background::{Background, BackgroundOptions};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::authn::Authenticator;
use crate::forward;
use crate::router::{ApiConfig, metrics_response, router_with_client};
use crate::tls::ServerTls;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub api: ApiConfig,
    /// Run the in-process task runner.
    pub local_runner: bool,
    /// Tasks the in-process runner executes at once.
    pub workers: usize,
    /// Where the in-process runner keeps attempt logs and the local object store.
    pub data_dir: PathBuf,
    /// Serve HTTPS with this certificate (`None`: plain HTTP).
    pub tls: Option<ServerTls>,
    /// Certificate authorities trusted besides the system's when calls are forwarded to the
    /// other servers of a shared database.
    pub ca_bundle: Option<CaBundle>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("HTTP server: {0}")]
    Http(#[from] std::io::Error),
    #[error("task runner: {0}")]
    Runner(String),
    #[error("the client for forwarding calls to other servers: {0}")]
    Forwarding(String),
}

/// Serves the API on `listener` until `shutdown` fires, then shuts down in order.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    authenticator: Arc<dyn Authenticator>,
    options: ServerOptions,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    let client = forward::client(options.ca_bundle.as_ref()).map_err(ServerError::Forwarding)?;
    let background = Background::start(
        Arc::clone(&service),
        BackgroundOptions {
            local_runner: options.local_runner,
            workers: options.workers,
            data_dir: options.data_dir.clone(),
        },
    );
    let app = router_with_client(Arc::clone(&service), authenticator, options.api, client);
    let stopping = shutdown.clone();
    let served = serve_connections(
        listener,
        options.tls.as_ref(),
        app,
        &options.api,
        stopping,
        Some(&service),
    )
    .await;
    let stopped = background.stop().await.map_err(ServerError::Runner);
    served.map_err(ServerError::from).and(stopped)
}

/// Serves `GET /metrics` alone on `listener` until `shutdown` fires (`sluice server
/// --metrics-listen`): the metrics kept off the API's port, over HTTPS when `tls` is given.
/// Every other request is a 404.
pub async fn serve_metrics(
    listener: TcpListener,
    tls: Option<ServerTls>,
    service: Arc<Service>,
    config: ApiConfig,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|State(service): State<Arc<Service>>| async move {
                metrics_response(&service).await
            }),
        )
        .with_state(service);
    Ok(serve_connections(listener, tls.as_ref(), app, &config, shutdown, None).await?)
}

/// Headers the HTTP parser reads before giving up with a bare 431 (the router's own limit,
/// `router::MAX_HEADERS`, is lower).
const PARSED_HEADERS: usize = 1000;
/// Bytes the HTTP parser buffers for a request head (the router's limit on header bytes is
/// lower); per connection, so it also bounds what a slow client can make the server hold.
const HEADER_BUFFER_BYTES: usize = 128 * 1024;

/// Accepts connections until `shutdown`, then lets those open finish the request in hand
/// (after making `service`'s long polls answer).
///
/// hyper's HTTP/1 server directly rather than `axum::serve`, for what that does not offer: a
/// deadline on a request's headers (which also closes a kept-alive connection left idle, and
/// one that never finishes its headers), a cap on connections, and a deadline on the TLS
/// handshake. A connection's slot is taken before it is accepted and held until it closes,
/// handshake included.
async fn serve_connections(
    listener: TcpListener,
    tls: Option<&ServerTls>,
    app: axum::Router,
    config: &ApiConfig,
    shutdown: CancellationToken,
    service: Option<&Service>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => {
                slot.expect("the connection semaphore is never closed")
            }
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let config = *config;
        let tls = tls.cloned();
        let stop = shutdown.clone();
        connections.spawn(async move {
            match tls {
                None => serve_connection(stream, app, &config, &stop).await,
                Some(tls) => {
                    let secured = tokio::select! {
                        secured = handshake(&tls, stream, peer, config.header_timeout) => secured,
                        () = stop.cancelled() => None,
                    };
                    if let Some(stream) = secured {
                        serve_connection(stream, app, &config, &stop).await;
                    }
                }
            }
            drop(slot);
        });
    }
    if let Some(service) = service {
        tracing::info!("shutting down");
        service.begin_shutdown();
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Serves HTTP/1 requests on `io` until the client closes it, it idles past the header
/// timeout, or `stop` fires (then the request in hand finishes first).
async fn serve_connection<I>(io: I, app: axum::Router, config: &ApiConfig, stop: &CancellationToken)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        // Far above what the router accepts, so that a client with too many or too large
        // headers gets the API's JSON error, not the parser's bare 431.
        .max_headers(PARSED_HEADERS)
        .max_buf_size(HEADER_BUFFER_BYTES)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// The first byte of a TLS handshake record; a plain HTTP request starts with a letter.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// What a client speaking plain HTTP to the TLS port is told before the connection closes.
const PLAIN_HTTP_MESSAGE: &str = "This port speaks HTTPS: send the request to https:// instead\n";

fn plain_http_answer() -> String {
    format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{PLAIN_HTTP_MESSAGE}",
        PLAIN_HTTP_MESSAGE.len()
    )
}

/// Most bytes of a plain HTTP request read (and dropped) after answering it.
const PLAIN_HTTP_DRAIN_BYTES: usize = 64 * 1024;

/// Answers a plain HTTP request with a 400, then reads what the client sent until it closes:
/// closing with its request unread would reset the connection, and the client could lose the
/// answer. The caller's deadline bounds the wait.
async fn answer_plain_http(mut stream: TcpStream) {
    if stream
        .write_all(plain_http_answer().as_bytes())
        .await
        .is_err()
        || stream.shutdown().await.is_err()
    {
        return;
    }
    let mut buffer = [0u8; 4096];
    let mut drained = 0;
    while drained < PLAIN_HTTP_DRAIN_BYTES {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// The TLS handshake on a new connection, within `deadline` (the header timeout); `None` when
/// it fails or takes too long, which is logged at debug level only: scanners and confused
/// clients are common on a public port.
async fn handshake(
    tls: &ServerTls,
    stream: TcpStream,
    peer: SocketAddr,
    deadline: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let secured = tokio::time::timeout(deadline, async {
        let mut first = [0u8; 1];
        match stream.peek(&mut first).await {
            Ok(0) => return Err("closed before the TLS handshake".to_owned()),
            Ok(_) if first[0] != TLS_HANDSHAKE_RECORD => {
                answer_plain_http(stream).await;
                return Err("plain HTTP on the TLS port; answered 400".to_owned());
            }
            Ok(_) => {}
            Err(error) => return Err(error.to_string()),
        }
        tls.acceptor()
            .accept(stream)
            .await
            .map_err(|error| format!("TLS handshake failed: {error}"))
    })
    .await;
    match secured {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(why)) => {
            tracing::debug!(%peer, "connection closed: {why}");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, timeout = ?deadline, "connection closed: no TLS handshake within the header timeout");
            None
        }
    }
}
