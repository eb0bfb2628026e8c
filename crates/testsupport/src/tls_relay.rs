//! A TLS-terminating relay in front of a plain test server (s3s-fs, dynalite, moto), so a test
//! can reach it over `https://` with a certificate of its own CA.
//!
//! Clients speak TLS to `localhost:port()` (the certificate names `localhost` and `127.0.0.1`,
//! signed by the relay's [`TestCa`]); each connection's plain bytes go to the target
//! unchanged, so signatures over the `Host` header still verify. A client that does not trust
//! the CA fails its handshake and never reaches the target. The relay runs on a thread of its
//! own with its own runtime, so it serves synchronous and asynchronous tests alike; dropping it
//! stops it.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use crate::test_ca::TestCa;

/// A running relay from `https://localhost:port()` to a plain TCP target.
#[derive(Debug)]
pub struct TlsRelay {
    port: u16,
    ca: TestCa,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    // Last, so the CA's files outlive the relay.
    _dir: TempDir,
}

impl TlsRelay {
    /// Makes a CA and a certificate for the relay, and relays a free loopback port to `target`.
    pub fn start(target: SocketAddr) -> io::Result<TlsRelay> {
        let dir = tempfile::Builder::new()
            .prefix("sluice-tls-relay")
            .tempdir()?;
        let ca = TestCa::create(dir.path())?;
        let issued = ca.issue("relay")?;
        let certificates = CertificateDer::pem_file_iter(&issued.certificate)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(io::Error::other)?;
        let key = PrivateKeyDer::from_pem_file(&issued.key).map_err(io::Error::other)?;
        // The provider is named: with both ring and aws-lc-rs in the build, rustls has no
        // process-wide default.
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .and_then(|builder| {
                    builder
                        .with_no_client_auth()
                        .with_single_cert(certificates, key)
                })
                .map_err(io::Error::other)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::spawn(move || {
            runtime.block_on(serve(listener, acceptor, target, stopped));
        });
        Ok(TlsRelay {
            port,
            ca,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `https://localhost:<port>`: the name the certificate is for.
    pub fn endpoint(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// The PEM certificate of the CA that signed the relay's: what a client must trust.
    pub fn ca_certificate(&self) -> PathBuf {
        self.ca.certificate()
    }
}

impl Drop for TlsRelay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Accepts until `stopped`; each connection is relayed by a task of its own, and ends with the
/// runtime when the relay stops.
async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    target: SocketAddr,
    mut stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let client = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => client,
                Err(_) => continue,
            },
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            // A client that refuses the certificate ends here, having reached nothing.
            let Ok(mut tls) = acceptor.accept(client).await else {
                return;
            };
            let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
        });
    }
}
