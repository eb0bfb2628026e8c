//! Object stores: S3-compatible servers, or a local directory standing in for S3.
//!
//! Every `s3://bucket/key` an executor reads or writes goes through [`ObjectStores::resolve`],
//! which picks the store from [`S3Settings`]:
//!
//! * with an endpoint or credentials (settings file, or the AWS environment variables), an S3
//!   client per bucket built with `object_store`, whose failures to connect name the endpoint
//!   and where it was set (`reach`);
//! * with neither, or pinned by the settings' `embedded`, the embedded store:
//!   `s3://bucket/key` is the file `<data-dir>/s3/bucket/key`, so a single machine needs no S3
//!   server at all.
//!
//! `file://` URIs and absolute paths resolve to the local file system, so data nodes and
//! staging can name local files with the same code path.

mod error;
mod ops;
#[cfg(feature = "s3")]
mod reach;
mod settings;
mod stores;

pub use error::{StorageError, Unreachable};
pub use ops::{Listed, MULTIPART_THRESHOLD, PART_SIZE};
pub use settings::{
    CA_BUNDLE_ENV, DEFAULT_REGION, PATH_STYLE_ENV, S3Origin, S3Settings, S3Target, Secret, Source,
    embedded_root,
};
pub use stores::{Location, ObjectStores};

/// The directory under the data directory that holds the embedded object store.
pub const EMBEDDED_DIR: &str = "s3";
