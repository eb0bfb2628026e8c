//! Object stores: S3-compatible servers, or a local directory standing in for S3.
//!
//! Every `s3://bucket/key` an executor reads or writes goes through [`ObjectStores::resolve`],
//! which picks the store from [`S3Settings`]:
//!
//! * with an endpoint or credentials (settings file, or the AWS environment variables), an S3
//!   client per bucket built with `object_store`;
//! * with neither, the embedded store: `s3://bucket/key` is the file
//!   `<data-dir>/s3/bucket/key`, so a single machine needs no S3 server at all.
//!
//! `file://` URIs and absolute paths resolve to the local file system, so data nodes and
//! staging can name local files with the same code path.

mod error;
mod ops;
mod settings;
mod stores;

pub use error::StorageError;
pub use ops::{Listed, MULTIPART_THRESHOLD, PART_SIZE};
pub use settings::{DEFAULT_REGION, PATH_STYLE_ENV, S3Settings, S3Target, Secret, embedded_root};
pub use stores::{Location, ObjectStores};

/// The directory under the data directory that holds the embedded object store.
pub const EMBEDDED_DIR: &str = "s3";
