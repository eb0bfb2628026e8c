//! TLS for database connections, spelt as each database's own JDBC driver spells it, so that
//! connection strings and `jdbcProperties` written for AWS Data Pipeline mean what they meant
//! there.
//!
//! Which driver's words apply is decided by the connection string's scheme ([`Dialect`]):
//!
//! * `jdbc:postgresql:` (pgjdbc): `sslmode` = `disable`, `allow`, `prefer` (the default),
//!   `require`, `verify-ca` or `verify-full`; without `sslmode`, `ssl=true` (or a bare `ssl`)
//!   means `verify-full`, which differs from libpq (pgjdbc's SslMode.of and its "Configuring
//!   the Client" page). `require` never checks the certificate, even with `sslrootcert`
//!   (pgjdbc: "in this mode we will accept all server certificates"; libpq would verify).
//! * `jdbc:redshift:` (Amazon Redshift JDBC 2.x): the same words, but `ssl` defaults to true and
//!   then means `verify-ca` (its RedshiftProperty.SSL and SslMode.of), so a connection string
//!   that says nothing is encrypted and its certificate chain checked; `ssl=false` is `disable`.
//!   `AuthMech` is its older alias of `sslmode`. Redshift's certificates are issued by ACM,
//!   whose roots the system trusts.
//! * `sslfactory=org.postgresql.ssl.NonValidatingFactory` (or Redshift's
//!   `com.amazon.redshift.ssl.NonValidatingFactory`) turns the verification `ssl=true` implies
//!   off: encrypted, certificate not checked (`require`).
//! * `jdbc:mysql:` (MySQL Connector/J 8): `sslMode` = `DISABLED`, `PREFERRED` (the default),
//!   `REQUIRED`, `VERIFY_CA` or `VERIFY_IDENTITY`. Without it, the legacy `useSSL`,
//!   `requireSSL` and `verifyServerCertificate` are translated as Connector/J does: `useSSL=false`
//!   is `DISABLED`, else `verifyServerCertificate=true` is `VERIFY_CA`, else `requireSSL=true`
//!   is `REQUIRED`.
//! * `jdbc:mariadb:` (MariaDB Connector/J 3): `sslMode` = `disable`, `trust` (encrypted, not
//!   verified), `verify-ca` or `verify-full`, and the MySQL words as aliases; legacy
//!   `useSsl=true` is `verify-full`, `trust` with `trustServerCertificate`, `verify-ca` with
//!   `disableSslHostnameVerification` (its Configuration.handleLegacySslSettings). MariaDB's
//!   own default is `disable`; Sluice keeps `PREFERRED` for every MySQL-protocol URL, which
//!   encrypts whenever the server offers TLS and otherwise connects as `disable` would.
//! * The CA that signs the server's certificate: `sslrootcert=FILE` (PostgreSQL), MariaDB's
//!   `serverSslCert=FILE` (or the PEM text itself) for MySQL and MariaDB, `sslRootCert` in a
//!   settings entry. It is trusted besides the system's roots. Java key stores
//!   (`trustCertificateKeyStoreUrl`, `trustStore`) and client certificates are refused with
//!   what to use instead, rather than ignored.
//!
//! Property names are matched without regard to case; modes too.

use std::path::PathBuf;

/// Whose JDBC driver a connection is written for: the spelling of its TLS properties and what
/// they mean when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// pgjdbc: `jdbc:postgresql:`, and settings entries of the `postgresql` engine.
    #[default]
    PgJdbc,
    /// Amazon Redshift JDBC: `jdbc:redshift:`.
    Redshift,
    /// MySQL Connector/J: `jdbc:mysql:`, and settings entries of the `mysql` engine.
    MySql,
    /// MariaDB Connector/J: `jdbc:mariadb:`.
    MariaDb,
}

impl Dialect {
    fn is_mysql(self) -> bool {
        matches!(self, Dialect::MySql | Dialect::MariaDb)
    }
}

/// What a settings entry (`rdsInstances`, `redshiftClusters`) says about TLS; connection
/// properties override it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointTls {
    /// `sslMode`, in the engine's words.
    pub ssl_mode: Option<String>,
    /// `sslRootCert`: a PEM file.
    pub ssl_root_cert: Option<PathBuf>,
}

impl EndpointTls {
    fn root_cert(&self) -> Option<RootCert> {
        self.ssl_root_cert
            .as_ref()
            .map(|path| RootCert::file(path, "sslRootCert"))
    }
}

/// How much TLS a connection asks for, from none to a verified server identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Never encrypt.
    Disable,
    /// PostgreSQL only: connect without TLS, and with TLS (unverified) if that fails.
    Allow,
    /// Encrypt when the server offers TLS, without checking its certificate.
    Prefer,
    /// Always encrypt, without checking the certificate.
    Require,
    /// Always encrypt and check that a trusted CA signed the certificate, not the host name.
    VerifyCa,
    /// Always encrypt and check the certificate and that it names the host connected to.
    VerifyFull,
}

impl TlsMode {
    /// Whether the server's certificate is checked (so a root certificate is needed).
    pub fn verifies(self) -> bool {
        matches!(self, TlsMode::VerifyCa | TlsMode::VerifyFull)
    }
}

/// The certificate(s) a connection trusts besides the system's roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file, and the property or setting that named it.
    File { path: PathBuf, named_by: String },
    /// PEM text given inline (MariaDB's `serverSslCert=-----BEGIN CERTIFICATE-----…`).
    Pem(Vec<u8>),
}

impl RootCert {
    fn file(path: impl Into<PathBuf>, named_by: &str) -> RootCert {
        RootCert::File {
            path: path.into(),
            named_by: named_by.to_string(),
        }
    }

    /// The PEM certificates, read and checked (see [`crate::tls::read_ca_bundle`]).
    pub fn pem(&self) -> Result<Vec<u8>, String> {
        match self {
            RootCert::File { path, named_by } => crate::tls::read_ca_bundle(path, named_by),
            RootCert::Pem(pem) => crate::tls::check_pem_certificates(pem)
                .map(|_| pem.clone())
                .map_err(|reason| format!("serverSslCert: {reason}")),
        }
    }
}

/// A connection's TLS settings, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTls {
    pub mode: TlsMode,
    pub root_cert: Option<RootCert>,
    /// Where the mode came from, for messages: `sslmode=verify-full`, `ssl=true (…)`.
    pub origin: String,
}

impl SqlTls {
    /// For messages: `TLS verify-full (sslmode=verify-full)`.
    pub fn describe(&self) -> String {
        let mode = match self.mode {
            TlsMode::Disable => "off",
            TlsMode::Allow => "allow",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        };
        format!("TLS {mode} ({})", self.origin)
    }

    /// How to make the server's certificate trusted, in this dialect's words.
    pub fn trust_remedy(dialect: Dialect) -> &'static str {
        if dialect.is_mysql() {
            "give the CA certificate that signed it as a PEM file with serverSslCert=FILE (or \
             sslRootCert in the settings entry)"
        } else {
            "give the CA certificate that signed it as a PEM file with sslrootcert=FILE (or \
             sslRootCert in the settings entry)"
        }
    }
}

/// Resolves the TLS settings of a connection written for `dialect` from its properties (URL
/// query, then `jdbcProperties`; the last of a name wins) over its settings entry.
pub fn resolve(
    dialect: Dialect,
    properties: &[(String, String)],
    endpoint: &EndpointTls,
) -> Result<SqlTls, String> {
    let props = Props(properties, dialect.is_mysql());
    if dialect.is_mysql() {
        mysql(dialect, &props, endpoint)
    } else {
        postgres(dialect, &props, endpoint)
    }
}

/// Connection properties, looked up by name without regard to case, and whether the driver
/// reads `yes`/`no` and `1`/`0` as booleans (the MySQL and MariaDB drivers do; pgjdbc reads
/// them as false).
struct Props<'a>(&'a [(String, String)], bool);

impl Props<'_> {
    /// The last property called any of `names`, as `(name as written, value)`.
    fn get(&self, names: &[&str]) -> Option<(&str, &str)> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
            .map(|(k, v)| (k.as_str(), v.trim()))
    }

    /// A boolean property: `true`/`false` (any case), and a bare name (`ssl`, `ssl=`) as true,
    /// as the Java drivers read them (the MySQL and MariaDB drivers also `yes`/`no`, `1`/`0`);
    /// anything else is refused rather than read as false.
    fn flag(&self, names: &[&str]) -> Result<Option<(String, bool)>, String> {
        let Some((name, value)) = self.get(names) else {
            return Ok(None);
        };
        let on = match value.to_ascii_lowercase().as_str() {
            "" | "true" => true,
            "false" => false,
            "yes" | "1" if self.1 => true,
            "no" | "0" if self.1 => false,
            _ => {
                return Err(format!(
                    "{name}={value:?} is not a boolean: use {name}=true or {name}=false"
                ));
            }
        };
        Ok(Some((format!("{name}={value}"), on)))
    }

    /// Refuses the properties in `names` that are set, saying why and what to use instead.
    fn refuse(&self, names: &[&str], why: &str) -> Result<(), String> {
        match self.get(names) {
            Some((name, _)) => Err(format!("{name} cannot be used: {why}")),
            None => Ok(()),
        }
    }
}

const NO_CLIENT_CERTIFICATES: &str =
    "client certificates are not supported; authenticate with username and *password";
const PG_MODES: &str = "disable, allow, prefer, require, verify-ca, verify-full";
const MYSQL_MODES: &str = "DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY (MySQL \
                           Connector/J) or disable, trust, verify-ca, verify-full (MariaDB \
                           Connector/J)";

fn pg_mode(name: &str, value: &str) -> Result<TlsMode, String> {
    Ok(match value.to_ascii_lowercase().as_str() {
        "disable" => TlsMode::Disable,
        "allow" => TlsMode::Allow,
        "prefer" => TlsMode::Prefer,
        "require" => TlsMode::Require,
        "verify-ca" => TlsMode::VerifyCa,
        "verify-full" => TlsMode::VerifyFull,
        _ => return Err(format!("{name} {value:?} is not one of {PG_MODES}")),
    })
}

fn mysql_mode(name: &str, value: &str) -> Result<TlsMode, String> {
    // MariaDB Connector/J takes MySQL's words (and 0/1, false/true) as aliases of its own.
    Ok(
        match value.to_ascii_lowercase().replace('_', "-").as_str() {
            "disabled" | "disable" | "false" | "0" => TlsMode::Disable,
            "preferred" => TlsMode::Prefer,
            "required" | "trust" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-identity" | "verify-full" | "true" | "1" => TlsMode::VerifyFull,
            _ => return Err(format!("{name} {value:?} is not one of {MYSQL_MODES}")),
        },
    )
}

fn postgres(dialect: Dialect, props: &Props<'_>, endpoint: &EndpointTls) -> Result<SqlTls, String> {
    let redshift = dialect == Dialect::Redshift;
    props.refuse(&["sslcert", "sslkey"], NO_CLIENT_CERTIFICATES)?;
    let mode_names: &[&str] = if redshift {
        &["sslmode", "AuthMech"]
    } else {
        &["sslmode"]
    };
    // Whether the mode was asked for by name, as opposed to implied by `ssl` or a default.
    let (mut mode, mut origin, explicit) = if let Some((name, value)) = props.get(mode_names) {
        (pg_mode(name, value)?, format!("{name}={value}"), true)
    } else if let Some((written, on)) = props.flag(&["ssl"])? {
        let (mode, meaning) = match (on, redshift) {
            (true, false) => (TlsMode::VerifyFull, "pgjdbc reads it as verify-full"),
            (true, true) => (
                TlsMode::VerifyCa,
                "the Redshift driver reads it as verify-ca",
            ),
            (false, false) => (TlsMode::Prefer, "pgjdbc's default, prefer"),
            (false, true) => (TlsMode::Disable, "the Redshift driver reads it as disable"),
        };
        (mode, format!("{written}: {meaning}"), false)
    } else if let Some(value) = &endpoint.ssl_mode {
        (
            pg_mode("sslMode", value)?,
            format!("sslMode {value} in the settings entry"),
            true,
        )
    } else if redshift {
        (
            TlsMode::VerifyCa,
            "the jdbc:redshift: default: its ssl defaults to true".to_string(),
            false,
        )
    } else {
        (TlsMode::Prefer, "the default".to_string(), false)
    };
    if let Some((name, factory)) = props.get(&["sslfactory"]) {
        match factory.rsplit('.').next().unwrap_or(factory) {
            "NonValidatingFactory" if mode.verifies() && explicit => {
                return Err(format!(
                    "{origin} asks for the server's certificate to be verified, but \
                     {name}={factory} skips verification: leave out one of the two"
                ));
            }
            "NonValidatingFactory" if mode.verifies() => {
                mode = TlsMode::Require;
                origin = format!("{origin}, and {name}={factory}: encrypted, not verified");
            }
            "NonValidatingFactory" | "LibPQFactory" | "DefaultJavaSSLFactory" => {}
            _ => {
                return Err(format!(
                    "{name}={factory} names a Java class, which Sluice cannot load: say what \
                     to verify with sslmode ({PG_MODES}) and sslrootcert=FILE instead"
                ));
            }
        }
    }
    let root_cert = match props.get(&["sslrootcert"]) {
        // libpq's word for the system's roots, which are always trusted here.
        Some((_, "system")) => None,
        Some((name, path)) => Some(RootCert::file(path, name)),
        None => endpoint.root_cert(),
    };
    Ok(SqlTls {
        mode,
        root_cert,
        origin,
    })
}

fn mysql(dialect: Dialect, props: &Props<'_>, endpoint: &EndpointTls) -> Result<SqlTls, String> {
    props.refuse(
        &["trustCertificateKeyStoreUrl", "trustStore"],
        "it names a Java key store, which Sluice cannot read: give the CA certificate as a PEM \
         file with serverSslCert=FILE (or sslRootCert in the settings entry); `keytool \
         -exportcert -rfc -alias NAME -keystore STORE` writes one",
    )?;
    props.refuse(
        &["clientCertificateKeyStoreUrl", "keyStore"],
        NO_CLIENT_CERTIFICATES,
    )?;
    let (mode, origin) = if let Some((name, value)) = props.get(&["sslMode"]) {
        (mysql_mode(name, value)?, format!("{name}={value}"))
    } else if let Some(legacy) = legacy_mysql(dialect, props)? {
        legacy
    } else if let Some(value) = &endpoint.ssl_mode {
        (
            mysql_mode("sslMode", value)?,
            format!("sslMode {value} in the settings entry"),
        )
    } else {
        (TlsMode::Prefer, "the default".to_string())
    };
    let root_cert = match props.get(&["serverSslCert"]) {
        Some((name, value)) if value.starts_with("classpath:") => {
            return Err(format!(
                "{name}={value}: a Java class path resource cannot be read; give a file path or \
                 the PEM text"
            ));
        }
        Some((_, value)) if value.starts_with("-----BEGIN") => {
            Some(RootCert::Pem(value.as_bytes().to_vec()))
        }
        Some((name, path)) => Some(RootCert::file(path, name)),
        None => endpoint.root_cert(),
    };
    Ok(SqlTls {
        mode,
        root_cert,
        origin,
    })
}

/// The mode the legacy booleans ask for, read as `dialect`'s driver reads them; `None` when
/// none is set.
fn legacy_mysql(dialect: Dialect, props: &Props<'_>) -> Result<Option<(TlsMode, String)>, String> {
    if dialect == Dialect::MariaDb {
        let Some((written, on)) = props.flag(&["useSsl"])? else {
            return Ok(None);
        };
        if !on {
            return Ok(Some((TlsMode::Disable, written)));
        }
        let trust = props.flag(&["trustServerCertificate"])?;
        let no_host = props.flag(&["disableSslHostnameVerification"])?;
        return Ok(Some(match (trust, no_host) {
            (Some((t, true)), _) => (TlsMode::Require, format!("{written} and {t}")),
            (_, Some((h, true))) => (TlsMode::VerifyCa, format!("{written} and {h}")),
            _ => (TlsMode::VerifyFull, format!("{written}: verify-full")),
        }));
    }
    let use_ssl = props.flag(&["useSSL"])?;
    let verify = props.flag(&["verifyServerCertificate"])?;
    let require = props.flag(&["requireSSL"])?;
    if use_ssl.is_none() && verify.is_none() && require.is_none() {
        return Ok(None);
    }
    // Connector/J's defaults: useSSL true, the other two false.
    let is = |flag: &Option<(String, bool)>| flag.as_ref().map(|f| f.1);
    let written = [&use_ssl, &verify, &require]
        .into_iter()
        .flatten()
        .map(|(w, _)| w.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mode = if is(&use_ssl) == Some(false) {
        TlsMode::Disable
    } else if is(&verify) == Some(true) {
        TlsMode::VerifyCa
    } else if is(&require) == Some(true) {
        TlsMode::Require
    } else {
        TlsMode::Prefer
    };
    Ok(Some((mode, written)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn mode(dialect: Dialect, pairs: &[(&str, &str)]) -> TlsMode {
        resolve(dialect, &props(pairs), &EndpointTls::default())
            .unwrap_or_else(|e| panic!("{pairs:?}: {e}"))
            .mode
    }

    fn error(dialect: Dialect, pairs: &[(&str, &str)]) -> String {
        resolve(dialect, &props(pairs), &EndpointTls::default()).unwrap_err()
    }

    /// The mode of `query` (`a=b&c=d`, as in a connection string) read as `dialect`.
    fn mode_of(dialect: Dialect, query: &str) -> TlsMode {
        let pairs: Vec<(&str, &str)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .collect();
        mode(dialect, &pairs)
    }

    #[test]
    fn pgjdbc_reads_sslmode_and_ssl_as_pgjdbc_does() {
        use TlsMode::*;
        for (query, expected) in [
            ("", Prefer),
            ("sslmode=disable", Disable),
            ("sslmode=allow", Allow),
            ("SSLMODE=Verify-CA", VerifyCa),
            ("sslmode=verify-full", VerifyFull),
            ("ssl=true", VerifyFull),
            ("ssl", VerifyFull),
            ("ssl=false", Prefer),
            // sslmode wins over ssl, whatever the order.
            ("sslmode=require&ssl=true", Require),
            // The last of a name wins (jdbcProperties come after the URL's own).
            ("sslmode=disable&sslmode=require", Require),
            (
                "ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory",
                Require,
            ),
            (
                "ssl=true&sslfactory=org.postgresql.ssl.LibPQFactory",
                VerifyFull,
            ),
        ] {
            assert_eq!(mode_of(Dialect::PgJdbc, query), expected, "{query}");
        }
    }

    #[test]
    fn redshift_encrypts_and_checks_the_chain_unless_told_otherwise() {
        use TlsMode::*;
        for (query, expected) in [
            ("", VerifyCa),
            ("ssl=true", VerifyCa),
            ("ssl=false", Disable),
            ("AuthMech=prefer", Prefer),
            (
                "sslfactory=com.amazon.redshift.ssl.NonValidatingFactory",
                Require,
            ),
        ] {
            assert_eq!(mode_of(Dialect::Redshift, query), expected, "{query}");
        }
    }

    #[test]
    fn mysql_and_mariadb_read_their_own_words_and_legacy_flags() {
        use Dialect::{MariaDb, MySql};
        use TlsMode::*;
        for (dialect, query, expected) in [
            (MySql, "", Prefer),
            (MariaDb, "", Prefer),
            (MySql, "sslMode=DISABLED", Disable),
            (MySql, "sslMode=REQUIRED", Require),
            (MySql, "sslmode=verify_ca", VerifyCa),
            (MySql, "sslMode=VERIFY_IDENTITY", VerifyFull),
            (MariaDb, "sslMode=trust", Require),
            (MariaDb, "sslMode=verify-full", VerifyFull),
            (MariaDb, "sslMode=disable", Disable),
            (MySql, "useSSL=false", Disable),
            (MySql, "useSSL=true", Prefer),
            (MySql, "useSSL=true&requireSSL=true", Require),
            (
                MySql,
                "requireSSL=yes&verifyServerCertificate=true",
                VerifyCa,
            ),
            // sslMode wins over the legacy flags.
            (MySql, "useSSL=false&sslMode=REQUIRED", Require),
            (MariaDb, "useSsl=true", VerifyFull),
            (MariaDb, "useSSL=false", Disable),
            (MariaDb, "useSsl=true&trustServerCertificate=true", Require),
            (
                MariaDb,
                "useSsl=1&disableSslHostnameVerification=true",
                VerifyCa,
            ),
        ] {
            assert_eq!(mode_of(dialect, query), expected, "{dialect:?} {query}");
        }
    }

    #[test]
    fn unknown_modes_and_unusable_properties_say_what_to_use() {
        let err = error(Dialect::PgJdbc, &[("sslmode", "verify_full")]);
        assert!(
            err.contains("\"verify_full\"") && err.contains("verify-full") && err.contains("allow"),
            "{err}"
        );
        let err = error(Dialect::MySql, &[("sslMode", "STRICT")]);
        assert!(
            err.contains("\"STRICT\"") && err.contains("VERIFY_IDENTITY") && err.contains("trust"),
            "{err}"
        );
        let err = error(
            Dialect::MySql,
            &[("trustCertificateKeyStoreUrl", "file:/etc/trust.jks")],
        );
        assert!(
            err.contains("trustCertificateKeyStoreUrl")
                && err.contains("serverSslCert")
                && err.contains("sslRootCert"),
            "{err}"
        );
        let err = error(Dialect::PgJdbc, &[("sslfactory", "com.example.MyFactory")]);
        assert!(
            err.contains("com.example.MyFactory") && err.contains("sslmode"),
            "{err}"
        );
        let err = error(
            Dialect::PgJdbc,
            &[
                ("sslmode", "verify-full"),
                ("sslfactory", "org.postgresql.ssl.NonValidatingFactory"),
            ],
        );
        assert!(err.contains("leave out one"), "{err}");
        let err = error(Dialect::PgJdbc, &[("ssl", "yes")]);
        assert!(
            err.contains("ssl=\"yes\"") && err.contains("ssl=true"),
            "{err}"
        );
        let err = error(Dialect::PgJdbc, &[("sslcert", "/c.pem")]);
        assert!(
            err.contains("sslcert") && err.contains("client certificates"),
            "{err}"
        );
    }

    #[test]
    fn settings_entries_give_defaults_that_properties_override() {
        let endpoint = EndpointTls {
            ssl_mode: Some("verify-full".into()),
            ssl_root_cert: Some("/etc/ca.pem".into()),
        };
        let tls = resolve(Dialect::PgJdbc, &[], &endpoint).unwrap();
        assert_eq!(tls.mode, TlsMode::VerifyFull);
        assert!(
            tls.describe().contains("settings entry"),
            "{}",
            tls.describe()
        );
        assert_eq!(
            tls.root_cert,
            Some(RootCert::File {
                path: "/etc/ca.pem".into(),
                named_by: "sslRootCert".into()
            })
        );
        let tls = resolve(
            Dialect::PgJdbc,
            &props(&[("sslmode", "require"), ("sslrootcert", "/other.pem")]),
            &endpoint,
        )
        .unwrap();
        assert_eq!(tls.mode, TlsMode::Require);
        assert!(
            matches!(tls.root_cert, Some(RootCert::File { ref path, .. }) if path == std::path::Path::new("/other.pem"))
        );
        let err = resolve(
            Dialect::MySql,
            &[],
            &EndpointTls {
                ssl_mode: Some("verify-full-please".into()),
                ssl_root_cert: None,
            },
        )
        .unwrap_err();
        assert!(err.starts_with("sslMode \"verify-full-please\""), "{err}");
    }

    #[test]
    fn mariadb_takes_the_ca_inline_or_from_a_file() {
        let tls = resolve(
            Dialect::MariaDb,
            &props(&[(
                "serverSslCert",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            )]),
            &EndpointTls::default(),
        )
        .unwrap();
        assert!(matches!(tls.root_cert, Some(RootCert::Pem(_))));
        // The inline text is checked like a file's.
        assert!(
            tls.root_cert
                .unwrap()
                .pem()
                .unwrap_err()
                .contains("serverSslCert")
        );
        let err = error(Dialect::MariaDb, &[("serverSslCert", "classpath:ca.pem")]);
        assert!(err.contains("classpath"), "{err}");
    }
}
