//! Real servers for integration tests.
//!
//! Each server is installed once per machine from a public registry into the tools directory
//! (`$SLUICE_TOOLS`, default `/var/tmp/sluice-tools`), under a lock so parallel test binaries
//! do not race, and started per test on a free loopback port with its own scratch directory.
//! Dropping the handle stops the server.

pub mod databases;
pub mod dynamodb;
pub mod s3;
pub mod sns;
pub mod tools;
