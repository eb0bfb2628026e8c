//! `CSV`: comma-separated data format (dp-object-csv).

use sluice_data::format::{FormatFields, RecordFormat};
use sluice_model::{FieldValue, PipelineObject};

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
