//! Real servers for integration tests, and the harness around them.
//!
//! Each server is installed once per machine from a public registry into the tools directory
//! (`$SLUICE_TOOLS`, default `/var/tmp/sluice-tools`), under a lock so parallel test binaries
//! do not race, and started per test on a free loopback port with its own scratch directory.
//! Dropping the handle stops the server.
//!
//! Beside them: child processes of a test ([`process`]), waiting with a deadline ([`poll`]),
//! files a test watches ([`files`]) and requests signed as the AWS clients sign them
//! ([`sigv4`]).

pub mod databases;
pub mod dynamodb;
pub mod files;
pub mod pg_ssl;
pub mod poll;
pub mod process;
pub mod relay;
pub mod s3;
pub mod sigv4;
pub mod sns;
pub mod spark;
pub mod test_ca;
pub mod tls_relay;
pub mod tools;
pub mod webdriver;
