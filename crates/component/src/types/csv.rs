//! `CSV`: comma-separated data format (dp-object-csv).

use sluice_data::format::{FormatFields, RecordFormat};
use sluice_model::{FieldValue, PipelineObject};

use crate::common::{self, optional, repeated};
use crate::spec::{Category, FieldSpec, ObjectKind, ValueType};

/// Comma-separated values.
pub struct CSV;

static FIELDS: &[FieldSpec] = &[
    repeated(
        "column",
        ValueType::String,
        "Column as \"name TYPE\", e.g. \"hostname STRING\".",
    ),
    optional(
        "escapeChar",
        ValueType::String,
        "Character that makes the parser ignore the next character.",
    ),
];

impl ObjectKind for CSV {
    fn type_name(&self) -> &'static str {
        "CSV"
    }

    fn category(&self) -> Category {
        Category::DataFormat
    }

    fn doc(&self) -> &'static str {
        "Comma-separated values."
    }

    fn fields(&self) -> Vec<&'static FieldSpec> {
        common::with_common(common::PARENT_ONLY, FIELDS)
    }
}

/// The record format of a data node: its `dataFormat` object (`CSV`, `TSV`, `Custom`, `RegEx`),
/// or plain CSV when it has none.
pub(crate) fn record_format(format: Option<&PipelineObject>) -> Result<RecordFormat, String> {
    let Some(format) = format else {
        return Ok(RecordFormat::csv());
    };
    let fields = FormatFields {
        type_name: format.object_type().unwrap_or(""),
        id: &format.id,
        columns: format
            .values("column")
            .filter_map(FieldValue::as_str)
            .collect(),
        column_separator: format.string("columnSeparator"),
        record_separator: format.string("recordSeparator"),
        escape_char: format.string("escapeChar"),
        input_regex: format.string("inputRegEx"),
        output_format: format.string("outputFormat"),
    };
    RecordFormat::from_fields(&fields).map_err(|e| e.to_string())
}
