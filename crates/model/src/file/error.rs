use std::fmt;

/// Which document a [`FileError`] is about; it starts every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Document {
    /// A pipeline definition, in file form or API form.
    PipelineDefinition,
    /// The file given to `--parameter-values-uri` (top-level `values`).
    ParameterValues,
    /// The file given to `--parameter-objects` (top-level `parameters`).
    ParameterObjects,
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Document::PipelineDefinition => "pipeline definition",
            Document::ParameterValues => "parameter values file",
            Document::ParameterObjects => "parameter objects file",
        })
    }
}

/// The part of a definition file a [`FileError::Value`] was found in; it decides what the
/// `object` and `field` of the error mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// `object` is a pipeline object id, `field` one of its keys.
    Objects,
    /// `object` is a parameter id, `field` one of its attributes.
    Parameters,
    /// `object` is `values`, `field` the parameter id whose value is wrong.
    Values,
}

/// A 1-based line and column in the document (columns count bytes, as serde_json does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a definition file, a parameter values file or a `--parameter-values` argument was
/// refused. Every message names the document and, where it can, the place: line and column,
/// object id and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The text is not valid JSON, or (for the API form) not the shape serde expects.
    #[error("{document}: line {line}, column {column}: {message}")]
    Json {
        document: Document,
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed JSON whose structure is wrong: a missing `objects` key, an element without
    /// `id`, a list where an object belongs.
    #[error("{document}: {}{message}", at(.position))]
    Shape {
        document: Document,
        position: Option<Position>,
        message: String,
    },
    /// A field, attribute or value of the wrong JSON type.
    #[error("{document}: {}{}: {message}", at(.position), place(*.section, .object, .field))]
    Value {
        document: Document,
        section: Section,
        object: String,
        field: String,
        position: Option<Position>,
        message: String,
    },
    /// A `--parameter-values` argument that is not `id=value`.
    #[error("--parameter-values: argument '{argument}': {message}")]
    Argument { argument: String, message: String },
    /// Both `--parameter-values` and `--parameter-values-uri` were given.
    #[error("only one of --parameter-values or --parameter-values-uri is allowed")]
    ConflictingParameterValueOptions,
}

fn at(position: &Option<Position>) -> String {
    position.map(|p| format!("{p}: ")).unwrap_or_default()
}

/// Names the object and field, in the words of the section they belong to.
pub(super) fn place(section: Section, object: &str, field: &str) -> String {
    match section {
        Section::Objects => format!("object '{object}' field '{field}'"),
        Section::Parameters => format!("parameter '{object}' attribute '{field}'"),
        Section::Values => format!("values entry '{field}'"),
    }
}

impl FileError {
    /// Turns a serde_json error into [`FileError::Json`], moving its position out of the
    /// message so every error reads `document: line L, column C: what`.
    pub(crate) fn from_json(document: Document, error: &serde_json::Error) -> FileError {
        let (line, column) = (error.line(), error.column());
        let full = error.to_string();
        let message = full
            .strip_suffix(&format!(" at line {line} column {column}"))
            .unwrap_or(&full)
            .to_owned();
        FileError::Json {
            document,
            line,
            column,
            message,
        }
    }
}
