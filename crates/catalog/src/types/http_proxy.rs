//! `HttpProxy`: proxy settings for resources (dp-object-httpproxy).

use crate::common::{self, optional, required};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// An HTTP proxy through which a resource reaches AWS services.
pub struct HttpProxy;

static FIELDS: &[FieldSpec] = &[
    required("hostname", ValueType::String, "Proxy host."),
    required("port", ValueType::Integer, "Proxy port."),
    optional("*password", ValueType::String, "Proxy password."),
    optional(
        "s3NoProxy",
        ValueType::Boolean,
        "Bypass the proxy for Amazon S3.",
    ),
    optional("username", ValueType::String, "Proxy user name."),
    optional(
        "windowsDomain",
        ValueType::String,
        "Windows domain for an NTLM proxy.",
    ),
    optional(
        "windowsWorkgroup",
        ValueType::String,
        "Windows workgroup for an NTLM proxy.",
    ),
];

impl ObjectKind for HttpProxy {
    fn type_name(&self) -> &'static str {
        "HttpProxy"
    }

    fn category(&self) -> Category {
        Category::Configuration
    }

    fn doc(&self) -> &'static str {
        "An HTTP proxy through which a resource reaches AWS services."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}
