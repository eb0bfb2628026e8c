//! Definition files (`objects`, `parameters`, `values`) and their translation to and from the
//! API form, exactly as the AWS CLI performs it.
//!
//! The AWS CLI translates blindly and leaves type errors to the service: `"maximumRetries": 3`
//! reaches botocore as a number and fails there, far from the file. Here the translation is the
//! same for every input the CLI accepts, and everything the service would refuse later is refused
//! while the file is read, with the line, the object id and the field. What the CLI tolerates
//! silently (a repeated JSON key, an empty list, an unknown top-level key) is tolerated the same
//! way, but reported in [`ParsedFile::warnings`].
//!
//! Indexes in messages (`objects[2]`) count from 0, as JSON paths do; list items are counted
//! in words (`item 2 of 3`).

mod error;
mod json;
mod options;
mod to_api;
mod to_file;

pub use error::{Document, FileError, Position, Section};
pub use options::{ParameterValuesOption, merge_parameter_values, parse_parameter_value_args};
pub use to_api::{
    ParsedFile, parse_any_definition, parse_api_definition, parse_definition_file,
    parse_parameter_objects_file, parse_parameter_values_file,
};
pub use to_file::to_definition_file;
