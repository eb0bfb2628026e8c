//! Certificates a runner trusts beyond the system's own, shared by every client that speaks
//! TLS: the databases (`sslrootcert`, `serverSslCert`, `sslRootCert`), S3, DynamoDB and SNS
//! (`caBundle`, `AWS_CA_BUNDLE`).
//!
//! Design decisions:
//! * A bundle is read and checked here, before any client sees it, so a wrong file fails with
//!   a message naming it and what is wrong with it. The AWS SDK's HTTP client would panic on a
//!   PEM block it cannot parse, and the database drivers would only say "invalid certificate".
//! * A bundle adds to the system's root certificates; it never replaces them (the AWS CLI's
//!   `AWS_CA_BUNDLE` replaces them). Trusting one more CA is what a private endpoint needs, and
//!   keeping the system's roots means the same settings still reach AWS itself.
//! * A handshake refused because of the server's certificate is told as such, with the setting
//!   that would make it trusted ([`untrusted_hint`]): the drivers' own words
//!   (`invalid peer certificate: UnknownIssuer`) do not say what to do.

use std::path::Path;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Makes ring rustls's process-wide crypto provider, unless one is installed already.
///
/// sqlx 0.8 builds the certificate verifier of `verify-ca` (`VERIFY_CA`) from the process-wide
/// provider, and rustls panics when asked for it in a build that has both ring (sqlx's) and
/// aws-lc-rs (the AWS SDKs') and none was installed. ring is what sqlx's handshakes and
/// object_store's client use anyway; the AWS SDKs name theirs.
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Reads the PEM certificates in `path`, checking that there is at least one and that each can
/// be a root of trust. `what` names the setting for messages (`data.s3.caBundle`).
pub fn read_ca_bundle(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    let pem = std::fs::read(path)
        .map_err(|e| format!("{what} {}: cannot read it: {e}", path.display()))?;
    check_pem_certificates(&pem)
        .map_err(|reason| format!("{what} {}: {reason}", path.display()))?;
    Ok(pem)
}

/// Checks that `pem` holds at least one certificate and that every one of them can be a root of
/// trust; says what is wrong otherwise.
pub fn check_pem_certificates(pem: &[u8]) -> Result<usize, String> {
    let mut roots = RootCertStore::empty();
    for (n, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let cert = cert.map_err(|e| format!("certificate {} is not valid PEM: {e}", n + 1))?;
        roots
            .add(cert)
            .map_err(|e| format!("certificate {} cannot be a root of trust: {e}", n + 1))?;
    }
    match roots.len() {
        0 => Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()),
        n => Ok(n),
    }
}

/// When `message` (a client's error) says the server's certificate was refused, the sentence to
/// add to it: that the certificate is not trusted, and `remedy` (how to trust its CA).
pub fn untrusted_hint(message: &str, remedy: &str) -> Option<String> {
    // rustls's words for a certificate it does not accept (`invalid peer certificate:
    // UnknownIssuer`, `NotValidForName`, `Expired`, …), whichever client carried them.
    let refused = message.contains("invalid peer certificate")
        || message.contains("UnknownIssuer")
        || message.contains("certificate verify failed");
    refused.then(|| {
        format!(
            "the server's TLS certificate failed verification (not signed by a trusted CA, or \
             not for this host name): {remedy}"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_without_certificates_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = read_ca_bundle(&empty, "data.s3.caBundle").unwrap_err();
        assert!(
            err.contains("data.s3.caBundle") && err.contains("empty.pem") && err.contains("no PEM"),
            "{err}"
        );
        let missing = dir.path().join("missing.pem");
        let err = read_ca_bundle(&missing, "AWS_CA_BUNDLE").unwrap_err();
        assert!(
            err.contains("missing.pem") && err.contains("cannot read"),
            "{err}"
        );
        let garbled = dir.path().join("garbled.pem");
        std::fs::write(
            &garbled,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = read_ca_bundle(&garbled, "sslrootcert").unwrap_err();
        assert!(err.contains("certificate 1"), "{err}");
    }

    #[test]
    fn a_real_ca_certificate_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let ca = sluice_testsupport::test_ca::TestCa::create(dir.path()).unwrap();
        let pem = read_ca_bundle(&ca.certificate(), "caBundle").unwrap();
        assert_eq!(check_pem_certificates(&pem), Ok(1));
    }

    #[test]
    fn only_certificate_failures_get_the_hint() {
        let hint = untrusted_hint("invalid peer certificate: UnknownIssuer", "set X");
        assert!(hint.unwrap().ends_with("set X"));
        assert_eq!(
            untrusted_hint("Connection refused (os error 111)", "set X"),
            None
        );
    }
}
