//! HTTPS for `sluice server --tls-cert FILE --tls-key FILE`: the certificate chain and key,
//! read once at start, as a rustls server configuration.
//!
//! rustls with ring, the provider the rest of the build already has (sqlx's TLS); HTTP/1.1
//! only, as the listener serves. Errors name the file and say what is wrong with it, never
//! showing a key's contents.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio_rustls::rustls::server::ParsedCertificate;
use tokio_rustls::rustls::{self, ServerConfig};

/// A server's certificate chain and its key, ready to accept TLS connections.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
    leaf: CertificateDer<'static>,
    certificate_file: PathBuf,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("certificate_file", &self.certificate_file)
            .finish_non_exhaustive()
    }
}

/// Why the certificate or key cannot be used; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the {what} {path}: {error}")]
    Read {
        what: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "the TLS certificate file {0} holds no certificate: expected PEM blocks starting with \
         '-----BEGIN CERTIFICATE-----'"
    )]
    NoCertificate(PathBuf),
    #[error("the TLS certificate file {path} is not valid PEM: {error}")]
    CertificatePem { path: PathBuf, error: String },
    #[error(
        "the TLS key file {0} holds no usable private key: expected an unencrypted PEM key \
         ('-----BEGIN PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----' or \
         '-----BEGIN EC PRIVATE KEY-----'); an encrypted key must be decrypted first \
         (openssl pkey -in KEY -out KEY.plain)"
    )]
    NoKey(PathBuf),
    #[error("the TLS key file {0} is not valid PEM")]
    KeyPem(PathBuf),
    #[error("the TLS certificate {certificate} and key {key} cannot be used together: {error}")]
    Config {
        certificate: PathBuf,
        key: PathBuf,
        error: rustls::Error,
    },
}

impl ServerTls {
    /// Reads the certificate chain (PEM, the server's certificate first) and its private key.
    pub fn load(certificate: &Path, key: &Path) -> Result<ServerTls, TlsError> {
        let chain = read_chain(certificate)?;
        let key_der = read_key(key)?;
        let config_error = |error| TlsError::Config {
            certificate: certificate.to_owned(),
            key: key.to_owned(),
            error,
        };
        let leaf = chain[0].clone();
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(config_error)?
                .with_no_client_auth()
                .with_single_cert(chain, key_der)
                .map_err(config_error)?;
        // The listener speaks HTTP/1.1 only; saying so lets a client offering h2 settle on it.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            leaf,
            certificate_file: certificate.to_owned(),
        })
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }

    /// Whether the server's certificate is valid for `host` (a DNS name or an IP address),
    /// as a client reaching it by that name checks.
    pub fn names(&self, host: &str) -> bool {
        let Ok(name) = ServerName::try_from(host) else {
            return false;
        };
        ParsedCertificate::try_from(&self.leaf)
            .and_then(|parsed| rustls::client::verify_server_name(&parsed, &name))
            .is_ok()
    }

    /// The certificate file it was read from.
    pub fn certificate_file(&self) -> &Path {
        &self.certificate_file
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| TlsError::Read {
        what,
        path: path.to_owned(),
        error,
    })
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let text = read("TLS certificate file", path)?;
    let chain = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|error| TlsError::CertificatePem {
            path: path.to_owned(),
            error: error.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(path.to_owned()));
    }
    Ok(chain)
}

/// The first private key in the file. pki-types' own errors may quote a line of the file,
/// so they are replaced by ones that do not.
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let text = read("TLS key file", path)?;
    PrivateKeyDer::from_pem_slice(&text).map_err(|error| match error {
        pem::Error::NoItemsFound => TlsError::NoKey(path.to_owned()),
        _ => TlsError::KeyPem(path.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use sluice_testsupport::test_ca::TestCa;

    use super::*;

    #[test]
    fn a_certificate_and_its_key_load_and_name_the_hosts_they_were_issued_for() {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::create(dir.path()).unwrap();
        let issued = ca.issue("server").unwrap();
        let tls = ServerTls::load(&issued.certificate, &issued.key).unwrap();
        assert!(tls.names("localhost"));
        assert!(tls.names("127.0.0.1"));
        assert!(!tls.names("sluice.example.com"));
        assert!(!tls.names("::1"));
    }

    /// `openssl ARGS…` in `dir`.
    fn openssl(dir: &Path, args: &[&str]) {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    }

    #[test]
    fn rsa_and_ec_keys_load_in_their_traditional_forms_too() {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::create(dir.path()).unwrap();
        let issued = ca.issue("server").unwrap();
        let rsa = dir.path().join("rsa.key");
        openssl(
            dir.path(),
            &[
                "pkey",
                "-traditional",
                "-in",
                issued.key.to_str().unwrap(),
                "-out",
                rsa.to_str().unwrap(),
            ],
        );
        assert!(
            std::fs::read_to_string(&rsa)
                .unwrap()
                .starts_with("-----BEGIN RSA PRIVATE KEY-----")
        );
        ServerTls::load(&issued.certificate, &rsa).unwrap();

        openssl(
            dir.path(),
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost",
                "-keyout",
                "ec8.key",
                "-out",
                "ec.crt",
            ],
        );
        openssl(dir.path(), &["ec", "-in", "ec8.key", "-out", "ec.key"]);
        let ec = dir.path().join("ec.key");
        assert!(
            std::fs::read_to_string(&ec)
                .unwrap()
                .starts_with("-----BEGIN EC PRIVATE KEY-----")
        );
        let tls = ServerTls::load(&dir.path().join("ec.crt"), &ec).unwrap();
        assert!(tls.names("localhost"));
    }

    #[test]
    fn bad_files_are_named_and_keys_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::create(dir.path()).unwrap();
        let issued = ca.issue("server").unwrap();
        let other = ca.issue("other").unwrap();
        let message = |certificate: &Path, key: &Path| {
            ServerTls::load(certificate, key).unwrap_err().to_string()
        };

        let missing = dir.path().join("missing.pem");
        let error = message(&missing, &issued.key);
        assert!(
            error.starts_with(&format!(
                "cannot read the TLS certificate file {}",
                missing.display()
            )),
            "{error}"
        );

        // The key given as the certificate, and the certificate as the key.
        let error = message(&issued.key, &issued.key);
        assert!(error.contains("holds no certificate"), "{error}");
        assert!(error.contains(&issued.key.display().to_string()), "{error}");
        let error = message(&issued.certificate, &issued.certificate);
        assert!(error.contains("holds no usable private key"), "{error}");

        // A key that is not the certificate's.
        let error = message(&issued.certificate, &other.key);
        assert!(error.contains("cannot be used together"), "{error}");

        // A damaged key: the message shows none of it.
        let key_text = std::fs::read_to_string(&issued.key).unwrap();
        let body: Vec<&str> = key_text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let damaged = dir.path().join("damaged.key");
        std::fs::write(
            &damaged,
            format!("-----BEGIN PRIVATE KEY-----\n{}\n!!{}\n", body[0], body[1]),
        )
        .unwrap();
        let error = message(&issued.certificate, &damaged);
        assert!(error.contains("damaged.key"), "{error}");
        for line in &body[..2] {
            assert!(!error.contains(&line[..16]), "{error}");
        }
    }
}
