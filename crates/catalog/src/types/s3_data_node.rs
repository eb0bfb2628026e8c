//! `S3DataNode`: data stored in Amazon S3 (dp-object-s3datanode).
//!
//! Its paths are reached through the runner's object stores: an S3 server when one is
//! configured, otherwise the embedded store under the data directory (`docs/s3.md`).
//! `file://` URIs and absolute paths name local files.

use crate::common::{self, optional};
use crate::spec::{Category, FieldSpec, ObjectKind, OneOf, ValueType};

/// Data in Amazon S3: one object (filePath) or every object under a prefix (directoryPath).
pub struct S3DataNode;

/// Values of `compression`.
pub const COMPRESSION_VALUES: &[&str] = &["none", "gzip"];
/// Values of `s3EncryptionType`.
pub const S3_ENCRYPTION_TYPE_VALUES: &[&str] = &["SERVER_SIDE_ENCRYPTION", "NONE"];

static FIELDS: &[FieldSpec] = &[
    optional(
        "compression",
        ValueType::Enumeration(COMPRESSION_VALUES),
        "Compression of the data (none or gzip); honoured only for Redshift loads and CopyActivity.",
    ),
    optional(
        "dataFormat",
        ValueType::Reference(common::DATA_FORMAT_REF),
        "Format of the data described by this node.",
    ),
    optional(
        "directoryPath",
        ValueType::String,
        "S3 directory URI, e.g. s3://my-bucket/my-key-for-directory.",
    ),
    optional(
        "filePath",
        ValueType::String,
        "S3 object URI, e.g. s3://my-bucket/my-key-for-file.",
    ),
    optional(
        "manifestFilePath",
        ValueType::String,
        "S3 path of a Redshift-format manifest; when set, its entries are the files CopyActivity and RedshiftCopyActivity read.",
    ),
    optional(
        "s3EncryptionType",
        ValueType::Enumeration(S3_ENCRYPTION_TYPE_VALUES),
        "Overrides S3 encryption: SERVER_SIDE_ENCRYPTION (the default) or NONE.",
    ),
];

static ONE_OF: &[OneOf] = &[OneOf {
    fields: &["filePath", "directoryPath"],
    exclusive: true,
}];

impl ObjectKind for S3DataNode {
    fn type_name(&self) -> &'static str {
        "S3DataNode"
    }

    fn category(&self) -> Category {
        Category::DataNode
    }

    fn doc(&self) -> &'static str {
        "Data in Amazon S3: one object (filePath) or every object under a prefix (directoryPath)."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::DATA_NODE_FIELDS, FIELDS)
    }

    fn one_of(&self) -> &'static [OneOf] {
        ONE_OF
    }
}
