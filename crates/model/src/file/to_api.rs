//! File form → API form, following the AWS CLI's `translator.py` step for step, except that
//! JSON types the service would reject later (numbers, booleans, nested objects) are refused
//! here, with the object id and field named.

use crate::api::{
    Field, FieldValue, ParameterAttribute, ParameterObject, ParameterValue, PipelineDefinition,
    PipelineObject,
};

use super::error::{Document, FileError, Position, Section, place};
use super::json::{self, Entry, Node, ObjectNode};

/// A definition translated to the API form, with the problems that were tolerated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFile {
    pub definition: PipelineDefinition,
    /// One line per tolerated problem (a repeated JSON key, an empty list, an unknown top-level
    /// key), each starting with its line and column.
    pub warnings: Vec<String>,
}

/// Parses a definition file (`{"objects": [...], "parameters": [...], "values": {...}}`) into
/// the API form, as `aws datapipeline put-pipeline-definition --pipeline-definition` does.
///
/// - `objects` keep file order. `id` is required; `name` defaults to the id. The remaining keys
///   become fields in sorted key order (Rust's byte order on UTF-8, which is the code-point
///   order Python's `sorted` uses); a list gives one field per item under the same key;
///   `{"ref": "X"}` (`ref` as the only key) gives a `refValue`; a string gives a `stringValue`.
/// - `parameters` become parameter objects the same way (strings only; a list repeats the
///   attribute, as `allowedValues` does); `values` become parameter values in file order, a list
///   repeating the id.
/// - Other top-level keys are ignored, as the AWS CLI ignores them (console templates carry
///   `metadata`); any but `metadata` also produce a warning, since it is most likely a typo.
/// - A repeated key inside one JSON object keeps its last value, as in the AWS CLI, and produces
///   a warning. An empty list produces no field, as in the AWS CLI, and a warning.
/// - A UTF-8 byte order mark before the JSON is skipped.
///
/// # Errors
///
/// [`FileError::Json`] for invalid JSON; [`FileError::Shape`] for a misplaced structure (no
/// `objects`, an element without a string `id`); [`FileError::Value`] for a field whose value is
/// not a string, a reference or a list of them.
pub fn parse_definition_file(text: &str) -> Result<ParsedFile, FileError> {
    let text = strip_bom(text);
    let root = parse_json(Document::PipelineDefinition, text)?;
    let mut reader = Reader::new(Document::PipelineDefinition, text);
    let definition = reader.definition(&root)?;
    Ok(ParsedFile {
        definition,
        warnings: reader.warnings,
    })
}

/// Parses a definition in API form (`{"pipelineObjects": [...], "parameterObjects": [...],
/// "parameterValues": [...]}`, the shape GetPipelineDefinition returns). Field order is kept as
/// given; a repeated JSON key keeps its last value, as the AWS CLI's JSON reader does.
///
/// # Errors
///
/// [`FileError::Json`] for invalid JSON or JSON that does not match the API shapes; in a
/// document with repeated keys, a mismatch is a [`FileError::Shape`] without a position.
pub fn parse_api_definition(text: &str) -> Result<PipelineDefinition, FileError> {
    let text = strip_bom(text);
    let root = parse_json(Document::PipelineDefinition, text)?;
    api_definition(text, &root)
}

fn api_definition(text: &str, root: &Node) -> Result<PipelineDefinition, FileError> {
    let document = Document::PipelineDefinition;
    // serde's derive refuses a repeated key where the AWS CLI keeps the last one. Only then go
    // through the tree, which has already kept the last one, at the price of positions in errors.
    if !has_duplicates(root) {
        return serde_json::from_str(text).map_err(|error| FileError::from_json(document, &error));
    }
    serde_json::from_value(to_json_value(root)).map_err(|error| FileError::Shape {
        document,
        position: None,
        message: error.to_string(),
    })
}

fn has_duplicates(node: &Node) -> bool {
    match node {
        Node::Object(object) => {
            !object.duplicates.is_empty() || object.entries.iter().any(|e| has_duplicates(&e.value))
        }
        Node::Array(items) => items.iter().any(|i| has_duplicates(&i.node)),
        _ => false,
    }
}

/// Parses a definition in either form, told apart by the top-level key: `objects` for the file
/// form, `pipelineObjects` for the API form. Repeated keys are reported as warnings in both.
///
/// # Errors
///
/// As [`parse_definition_file`] and [`parse_api_definition`]; a document with both keys is a
/// [`FileError::Shape`], since either choice would silently drop the other half.
pub fn parse_any_definition(text: &str) -> Result<ParsedFile, FileError> {
    let text = strip_bom(text);
    let root = parse_json(Document::PipelineDefinition, text)?;
    let mut reader = Reader::new(Document::PipelineDefinition, text);
    let api_form = match &root {
        Node::Object(top) => match (top.get("objects"), top.get("pipelineObjects")) {
            (Some(_), Some(api)) => {
                return Err(reader.shape(
                    Some(api.offset),
                    "the document has both \"objects\" (file form) and \"pipelineObjects\" \
                     (API form); keep one",
                ));
            }
            (None, Some(_)) => true,
            _ => false,
        },
        _ => false,
    };
    if !api_form {
        let definition = reader.definition(&root)?;
        return Ok(ParsedFile {
            definition,
            warnings: reader.warnings,
        });
    }
    let definition = api_definition(text, &root)?;
    reader.warn_all_duplicates(&root);
    Ok(ParsedFile {
        definition,
        warnings: reader.warnings,
    })
}

/// Parses the file given to `--parameter-values-uri`: a JSON object whose `values` key holds
/// parameter values, translated as a definition's `values` are.
///
/// # Errors
///
/// [`FileError::Json`] for invalid JSON; [`FileError::Shape`] when `values` is missing or not an
/// object; [`FileError::Value`] for a value that is not a string or a list of strings.
pub fn parse_parameter_values_file(text: &str) -> Result<Vec<ParameterValue>, FileError> {
    let text = strip_bom(text);
    let root = parse_json(Document::ParameterValues, text)?;
    let mut reader = Reader::new(Document::ParameterValues, text);
    let top = reader.top_object(&root, "\"values\"")?;
    let values = top
        .get("values")
        .ok_or_else(|| reader.shape(None, "missing \"values\" key"))?;
    reader.values(values)
}

/// Parses the file given to `--parameter-objects`: a JSON object whose `parameters` key holds
/// parameter declarations, translated as a definition's `parameters` are. The AWS CLI reads
/// only that form; the bare list of declarations (`[{"id": "myX", ...}]`) is accepted too.
///
/// # Errors
///
/// As [`parse_parameter_values_file`], for `parameters`.
pub fn parse_parameter_objects_file(text: &str) -> Result<Vec<ParameterObject>, FileError> {
    let text = strip_bom(text);
    let root = parse_json(Document::ParameterObjects, text)?;
    let mut reader = Reader::new(Document::ParameterObjects, text);
    if let Node::Array(_) = root {
        let offset = text.len() - text.trim_start_matches(JSON_WHITESPACE).len();
        let list = Entry {
            key: "parameters".to_owned(),
            offset,
            value: root,
        };
        return reader.parameters(&list);
    }
    let top = reader.top_object(&root, "\"parameters\"")?;
    let parameters = top
        .get("parameters")
        .ok_or_else(|| reader.shape(None, "missing \"parameters\" key"))?;
    reader.parameters(parameters)
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

fn parse_json(document: Document, text: &str) -> Result<Node, FileError> {
    json::parse(text).map_err(|error| FileError::from_json(document, &error))
}

const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\n', '\r'];

const TOP_LEVEL_KEYS: [&str; 4] = ["objects", "parameters", "values", "metadata"];

/// Translation state: the text (to turn offsets into lines) and the warnings so far.
struct Reader<'a> {
    document: Document,
    text: &'a str,
    warnings: Vec<String>,
}

impl<'a> Reader<'a> {
    fn new(document: Document, text: &'a str) -> Self {
        Reader {
            document,
            text,
            warnings: Vec::new(),
        }
    }

    fn position(&self, offset: usize) -> Position {
        let (line, column) = json::line_column(self.text, offset);
        Position { line, column }
    }

    fn shape(&self, offset: Option<usize>, message: impl Into<String>) -> FileError {
        FileError::Shape {
            document: self.document,
            position: offset.map(|o| self.position(o)),
            message: message.into(),
        }
    }

    fn warn(&mut self, offset: usize, message: impl std::fmt::Display) {
        let position = self.position(offset);
        self.warnings.push(format!("{position}: {message}"));
    }

    fn warn_duplicates(&mut self, object: &ObjectNode, owner: &str) {
        for duplicate in &object.duplicates {
            let first = self.position(duplicate.first_offset);
            self.warn(
                duplicate.offset,
                format_args!(
                    "{owner}: duplicate key '{}' (first at line {}); the last value is used, \
                     as the AWS CLI does (give a list to keep several values)",
                    duplicate.key, first.line
                ),
            );
        }
    }

    /// Warns about repeated keys anywhere in the tree, for documents not otherwise walked.
    fn warn_all_duplicates(&mut self, node: &Node) {
        match node {
            Node::Object(object) => {
                self.warn_duplicates(object, "JSON object");
                for entry in &object.entries {
                    self.warn_all_duplicates(&entry.value);
                }
            }
            Node::Array(items) => {
                for item in items {
                    self.warn_all_duplicates(&item.node);
                }
            }
            _ => {}
        }
    }

    fn top_object<'n>(&self, root: &'n Node, expected: &str) -> Result<&'n ObjectNode, FileError> {
        match root {
            Node::Object(top) => Ok(top),
            other => Err(self.shape(
                Some(self.text.len() - self.text.trim_start_matches(JSON_WHITESPACE).len()),
                format!(
                    "the top level must be a JSON object with key {expected}, got {}",
                    describe(other)
                ),
            )),
        }
    }

    fn definition(&mut self, root: &Node) -> Result<PipelineDefinition, FileError> {
        let top = self.top_object(root, "\"objects\"")?;
        self.warn_duplicates(top, "top level");
        for entry in &top.entries {
            if !TOP_LEVEL_KEYS.contains(&entry.key.as_str()) {
                self.warn(
                    entry.offset,
                    format_args!(
                        "unknown top-level key '{}' is ignored (expected objects, parameters \
                         or values)",
                        entry.key
                    ),
                );
            }
        }
        let objects = top
            .get("objects")
            .ok_or_else(|| self.shape(None, "missing \"objects\" key"))?;
        let pipeline_objects = self.objects(objects)?;
        let parameter_objects = match top.get("parameters") {
            Some(parameters) => self.parameters(parameters)?,
            None => Vec::new(),
        };
        let parameter_values = match top.get("values") {
            Some(values) => self.values(values)?,
            None => Vec::new(),
        };
        Ok(PipelineDefinition {
            pipeline_objects,
            parameter_objects,
            parameter_values,
        })
    }

    fn list<'n>(&self, entry: &'n Entry) -> Result<&'n [json::Item], FileError> {
        match &entry.value {
            Node::Array(items) => Ok(items),
            other => Err(self.shape(
                Some(entry.offset),
                format!("\"{}\" must be a list, got {}", entry.key, describe(other)),
            )),
        }
    }

    /// The element's id, which must be a string: the API has no other spelling for it.
    fn element_id<'n>(
        &self,
        section: &str,
        index: usize,
        item: &'n json::Item,
    ) -> Result<(&'n ObjectNode, String), FileError> {
        let Node::Object(element) = &item.node else {
            return Err(self.shape(
                Some(item.offset),
                format!(
                    "{section}[{index}] must be a JSON object, got {}",
                    describe(&item.node)
                ),
            ));
        };
        let Some(id) = element.get("id") else {
            return Err(self.shape(
                Some(element.offset),
                format!(
                    "missing \"id\" key of element {section}[{index}]: {}",
                    preview(&item.node)
                ),
            ));
        };
        let Node::String(id_text) = &id.value else {
            return Err(self.shape(
                Some(id.offset),
                format!(
                    "{section}[{index}]: \"id\" must be a string, got {}{}",
                    describe(&id.value),
                    write_as_string_hint(&id.value)
                ),
            ));
        };
        Ok((element, id_text.clone()))
    }

    fn objects(&mut self, entry: &Entry) -> Result<Vec<PipelineObject>, FileError> {
        let items = self.list(entry)?;
        let mut objects = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let (element, id) = self.element_id("objects", index, item)?;
            self.warn_duplicates(element, &format!("object '{id}'"));
            let name = match element.get("name") {
                None => id.clone(),
                Some(name) => match &name.value {
                    Node::String(name) => name.clone(),
                    other => {
                        let message = not_a_string(Section::Objects, other);
                        return Err(self.value_error(
                            Section::Objects,
                            &id,
                            &name.key,
                            name.offset,
                            message,
                        ));
                    }
                },
            };
            let mut fields = Vec::new();
            for entry in sorted_entries(element, &["id", "name"]) {
                for value in self.field_values(Section::Objects, &id, entry)? {
                    fields.push(Field {
                        key: entry.key.clone(),
                        value,
                    });
                }
            }
            objects.push(PipelineObject { id, name, fields });
        }
        Ok(objects)
    }

    fn parameters(&mut self, entry: &Entry) -> Result<Vec<ParameterObject>, FileError> {
        let items = self.list(entry)?;
        let mut parameters = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let (element, id) = self.element_id("parameters", index, item)?;
            self.warn_duplicates(element, &format!("parameter '{id}'"));
            let mut attributes = Vec::new();
            for entry in sorted_entries(element, &["id"]) {
                for value in self.field_values(Section::Parameters, &id, entry)? {
                    attributes.push(ParameterAttribute {
                        key: entry.key.clone(),
                        string_value: string_of(value),
                    });
                }
            }
            parameters.push(ParameterObject { id, attributes });
        }
        Ok(parameters)
    }

    fn values(&mut self, entry: &Entry) -> Result<Vec<ParameterValue>, FileError> {
        let Node::Object(values) = &entry.value else {
            return Err(self.shape(
                Some(entry.offset),
                format!(
                    "\"values\" must be a JSON object mapping parameter ids to values, got {}",
                    describe(&entry.value)
                ),
            ));
        };
        self.warn_duplicates(values, "values");
        let mut parameter_values = Vec::new();
        for entry in &values.entries {
            for value in self.field_values(Section::Values, "values", entry)? {
                parameter_values.push(ParameterValue {
                    id: entry.key.clone(),
                    string_value: string_of(value),
                });
            }
        }
        Ok(parameter_values)
    }

    fn value_error(
        &self,
        section: Section,
        object: &str,
        field: &str,
        offset: usize,
        message: String,
    ) -> FileError {
        FileError::Value {
            document: self.document,
            section,
            object: object.to_owned(),
            field: field.to_owned(),
            position: Some(self.position(offset)),
            message,
        }
    }

    /// The values one key contributes: one per list item, or the single value.
    fn field_values(
        &mut self,
        section: Section,
        owner: &str,
        entry: &Entry,
    ) -> Result<Vec<FieldValue>, FileError> {
        let Node::Array(items) = &entry.value else {
            let value =
                self.scalar(section, owner, entry, &entry.value)
                    .map_err(|(offset, message)| {
                        let offset = offset.unwrap_or(entry.offset);
                        self.value_error(section, owner, &entry.key, offset, message)
                    })?;
            return Ok(vec![value]);
        };
        if items.is_empty() {
            let place = place(section, owner, &entry.key);
            self.warn(
                entry.offset,
                format_args!(
                    "{place}: the list is empty, so it gives no value (as in the AWS CLI)"
                ),
            );
        }
        let mut values = Vec::with_capacity(items.len());
        for (n, item) in items.iter().enumerate() {
            let value =
                self.scalar(section, owner, entry, &item.node)
                    .map_err(|(offset, message)| {
                        let offset = offset.unwrap_or(item.offset);
                        let message = format!("item {} of {}: {message}", n + 1, items.len());
                        self.value_error(section, owner, &entry.key, offset, message)
                    })?;
            values.push(value);
        }
        Ok(values)
    }

    /// One value, or the error message and, when it is more precise than the caller's, the
    /// offset to report it at.
    fn scalar(
        &mut self,
        section: Section,
        owner: &str,
        entry: &Entry,
        node: &Node,
    ) -> Result<FieldValue, (Option<usize>, String)> {
        match node {
            Node::String(s) => Ok(FieldValue::String(s.clone())),
            Node::Object(object) if section == Section::Objects && is_reference(object) => {
                self.warn_duplicates(object, &format!("object '{owner}' field '{}'", entry.key));
                let target = &object.entries[0];
                match &target.value {
                    Node::String(id) => Ok(FieldValue::Ref(id.clone())),
                    other => Err((
                        Some(target.offset),
                        format!(
                            "\"ref\" must be a string object id, got {}{}",
                            describe(other),
                            write_as_string_hint(other)
                        ),
                    )),
                }
            }
            other => Err((None, not_a_string(section, other))),
        }
    }
}

fn is_reference(object: &ObjectNode) -> bool {
    object.entries.len() == 1 && object.entries[0].key == "ref"
}

fn sorted_entries<'n>(element: &'n ObjectNode, skip: &[&str]) -> Vec<&'n Entry> {
    let mut entries: Vec<&Entry> = element
        .entries
        .iter()
        .filter(|e| !skip.contains(&e.key.as_str()))
        .collect();
    entries.sort_by(|a, b| a.key.cmp(&b.key));
    entries
}

/// Parameters and values never hold references (`scalar` refuses them there).
fn string_of(value: FieldValue) -> String {
    match value {
        FieldValue::String(s) | FieldValue::Ref(s) => s,
    }
}

fn not_a_string(section: Section, node: &Node) -> String {
    match (section, node) {
        (Section::Objects, Node::Object(object)) if object.get("ref").is_some() => format!(
            "a reference must have \"ref\" as its only key, got {}",
            describe(node)
        ),
        (Section::Objects, Node::Object(_)) => format!(
            "expected a string or a {{\"ref\": \"<id>\"}} reference, got {}",
            describe(node)
        ),
        (Section::Objects, Node::Array(_)) => format!(
            "expected a string or a {{\"ref\": \"<id>\"}} reference, got {} (lists do not nest)",
            describe(node)
        ),
        (_, Node::Array(_)) => format!(
            "expected a string, got {} (lists do not nest)",
            describe(node)
        ),
        (Section::Parameters, Node::Object(_)) => format!(
            "expected a string, got {} (parameter attributes hold only strings)",
            describe(node)
        ),
        (Section::Values, Node::Object(_)) => format!(
            "expected a string or a list of strings, got {}",
            describe(node)
        ),
        _ => format!(
            "expected a string, got {}{}",
            describe(node),
            write_as_string_hint(node)
        ),
    }
}

fn describe(node: &Node) -> String {
    match node {
        Node::Null => "null".to_owned(),
        Node::Bool(b) => format!("the boolean {b}"),
        Node::Number(n) => format!("the number {n}"),
        Node::String(_) => "a string".to_owned(),
        Node::Array(_) => "a list".to_owned(),
        Node::Object(object) if object.entries.is_empty() => "an empty object".to_owned(),
        Node::Object(object) => {
            const SHOWN: usize = 5;
            let mut keys: Vec<String> = object
                .entries
                .iter()
                .take(SHOWN)
                .map(|e| quoted(&e.key))
                .collect();
            if object.entries.len() > SHOWN {
                keys.push("...".to_owned());
            }
            let noun = if object.entries.len() == 1 {
                "key"
            } else {
                "keys"
            };
            format!("an object with {noun} {}", keys.join(", "))
        }
    }
}

/// Numbers and booleans are what people most often write unquoted; show the fix.
fn write_as_string_hint(node: &Node) -> String {
    match node {
        Node::Number(n) => format!(" (write \"{n}\")"),
        Node::Bool(b) => format!(" (write \"{b}\")"),
        _ => String::new(),
    }
}

fn quoted(key: &str) -> String {
    serde_json::Value::String(key.to_owned()).to_string()
}

/// The element as compact JSON, cut short: the AWS CLI prints the whole element, which can be
/// kilobytes of SQL.
fn preview(node: &Node) -> String {
    const LIMIT: usize = 120;
    let text = to_json_value(node).to_string();
    if text.len() <= LIMIT {
        return text;
    }
    let mut cut = LIMIT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &text[..cut])
}

fn to_json_value(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Number(n) => Value::Number(n.clone()),
        Node::String(s) => Value::String(s.clone()),
        Node::Array(items) => Value::Array(items.iter().map(|i| to_json_value(&i.node)).collect()),
        Node::Object(object) => Value::Object(
            object
                .entries
                .iter()
                .map(|e| (e.key.clone(), to_json_value(&e.value)))
                .collect(),
        ),
    }
}
