//! Extra certificate authorities a client trusts besides the system's: the PEM bundle of
//! `--ca-bundle FILE` / `AWS_CA_BUNDLE`, for servers whose certificates a private CA issued.
//!
//! The bundle is checked once, when it is loaded, so that every client built from it (the AWS
//! SDK's for task runners, the servers' own for forwarding) can take it as it is: the SDK
//! would panic on a certificate it cannot parse.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};

/// The certificates of a CA bundle file, each usable as a trust anchor. Cheap to clone.
#[derive(Clone)]
pub struct CaBundle(Arc<Loaded>);

struct Loaded {
    path: PathBuf,
    pem: Vec<u8>,
    certificates: Vec<CertificateDer<'static>>,
}

impl std::fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaBundle")
            .field("path", &self.0.path)
            .field("certificates", &self.0.certificates.len())
            .finish()
    }
}

/// Why a CA bundle cannot be used; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read the CA bundle {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "the CA bundle {path} holds no certificate: expected PEM blocks starting with \
         '-----BEGIN CERTIFICATE-----'"
    )]
    Empty { path: PathBuf },
    #[error("the CA bundle {path} is not valid PEM: {error}")]
    Pem { path: PathBuf, error: String },
    #[error("certificate {index} of the CA bundle {path} cannot be a trust root: {error}")]
    Certificate {
        path: PathBuf,
        index: usize,
        error: String,
    },
}

impl CaBundle {
    /// Reads and checks the PEM file at `path`: at least one certificate, every certificate
    /// parsable as a trust anchor. Other PEM blocks (a key kept in the same file) are ignored.
    pub fn load(path: &Path) -> Result<CaBundle, TrustError> {
        let pem = std::fs::read(path).map_err(|error| TrustError::Read {
            path: path.to_owned(),
            error,
        })?;
        CaBundle::from_pem(path, pem)
    }

    /// Checks `pem`, read from `path` (named in errors).
    pub fn from_pem(path: &Path, pem: Vec<u8>) -> Result<CaBundle, TrustError> {
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, pem::Error>>()
            .map_err(|error| TrustError::Pem {
                path: path.to_owned(),
                error: error.to_string(),
            })?;
        if certificates.is_empty() {
            return Err(TrustError::Empty {
                path: path.to_owned(),
            });
        }
        let mut roots = RootCertStore::empty();
        for (index, certificate) in certificates.iter().enumerate() {
            roots
                .add(certificate.clone())
                .map_err(|error| TrustError::Certificate {
                    path: path.to_owned(),
                    index: index + 1,
                    error: error.to_string(),
                })?;
        }
        Ok(CaBundle(Arc::new(Loaded {
            path: path.to_owned(),
            pem,
            certificates,
        })))
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// The file's text as it was read (for clients that take PEM).
    pub fn pem(&self) -> &[u8] {
        &self.0.pem
    }

    /// Its certificates, DER-encoded, in the file's order.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.0.certificates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(text: &str) -> Result<CaBundle, TrustError> {
        CaBundle::from_pem(Path::new("/etc/ca.pem"), text.as_bytes().to_vec())
    }

    #[test]
    fn a_file_without_certificates_is_refused_naming_it() {
        let error = bundle("just text\n").unwrap_err().to_string();
        assert!(error.contains("/etc/ca.pem"), "{error}");
        assert!(error.contains("holds no certificate"), "{error}");
        let missing = CaBundle::load(Path::new("/nonexistent/ca.pem"))
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("cannot read the CA bundle /nonexistent/ca.pem"),
            "{missing}"
        );
    }

    #[test]
    fn a_ca_certificate_loads_and_other_blocks_beside_it_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let ca = sluice_testsupport::test_ca::TestCa::create(dir.path()).unwrap();
        let bundle = CaBundle::load(&ca.certificate()).unwrap();
        assert_eq!(bundle.certificates().len(), 1);
        assert_eq!(bundle.path(), ca.certificate());

        // Two certificates and a key in one file.
        let issued = ca.issue("server").unwrap();
        let mut text = std::fs::read(ca.certificate()).unwrap();
        text.extend(std::fs::read(&issued.key).unwrap());
        text.extend(std::fs::read(&issued.certificate).unwrap());
        let both = CaBundle::from_pem(Path::new("both.pem"), text).unwrap();
        assert_eq!(both.certificates().len(), 2);
    }

    #[test]
    fn a_block_that_is_not_a_certificate_is_refused() {
        let text = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let error = bundle(text).unwrap_err().to_string();
        assert!(
            error.starts_with("certificate 1 of the CA bundle /etc/ca.pem"),
            "{error}"
        );
        let cut = "-----BEGIN CERTIFICATE-----\nAAAA\n";
        let error = bundle(cut).unwrap_err().to_string();
        assert!(error.contains("is not valid PEM"), "{error}");
    }
}
