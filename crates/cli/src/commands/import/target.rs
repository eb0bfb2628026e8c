//! Where imported pipelines go: a Sluice server over the API, or definition files.
//!
//! Design decisions:
//! - On a server, CreatePipeline with the source's name and uniqueId is idempotent, so a second
//!   import finds the pipeline the first one created. A pipeline that was already there gets
//!   the source's tags added (AddTags) and, while it is still PENDING, the source's definition;
//!   once activated on Sluice it is Sluice's own, and a different definition is not put over
//!   it (the pipeline is reported as kept). Nothing is ever activated.
//! - Files are written with mode 0600 in a directory created 0700: definitions carry the
//!   values of `*` secret fields and parameters in clear, as GetPipelineDefinition gives them.

use std::collections::HashSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use aws_sdk_datapipeline::Client;
use aws_sdk_datapipeline::types as sdk;
use serde_json::{Value, json};
use sluice_definition::PIPELINE_ID;
use sluice_model::PipelineDefinition;
use sluice_model::file::to_definition_file;
use sluice_model::ops::Tag;
use sluice_runner::remote::call_error;
use sluice_runner::remote::convert::{definition_from_sdk, definition_to_sdk};

use super::findings::differences;
use super::source::{Definitions, Described, from_description, list};

/// What became of one pipeline at the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Only reported: no destination was given.
    Checked,
    /// Created on the server.
    Created { id: String },
    /// It was there already and got the source's definition or tags.
    Updated { id: String },
    /// It was there already with the same definition and tags.
    Unchanged { id: String },
    /// It was there already, activated, with another definition, which was left in place.
    Kept { id: String, state: String },
    /// Definition files written.
    Written { files: Vec<PathBuf> },
}

/// The server's answer to PutPipelineDefinition: its validation errors, as `(id, message)`.
pub(super) type ServerErrors = Vec<(String, String)>;

/// A Sluice server reached with the SDK client.
pub(super) struct ServerTarget {
    client: Client,
    /// Pipeline ids the server listed before this import created any.
    existing: HashSet<String>,
}

impl ServerTarget {
    /// Lists the server's pipelines: that checks the address and the keys before anything is
    /// written, and tells a pipeline CreatePipeline found from one it made.
    pub(super) async fn connect(client: Client) -> Result<ServerTarget, String> {
        let existing = list(&client).await?.into_iter().collect();
        Ok(ServerTarget { client, existing })
    }

    /// Creates (or finds) the pipeline and gives it the source's tags and latest definition.
    pub(super) async fn write(
        &mut self,
        pipeline: &Described,
        definitions: &Definitions,
    ) -> Result<(Outcome, ServerErrors), String> {
        let tags: Vec<sdk::Tag> = pipeline.tags.iter().map(tag_to_sdk).collect();
        let id = self
            .client
            .create_pipeline()
            .name(&pipeline.name)
            .unique_id(&pipeline.unique_id)
            .set_description(pipeline.description.clone())
            .set_tags((!tags.is_empty()).then(|| tags.clone()))
            .send()
            .await
            .map_err(|e| call_error("CreatePipeline", &e))?
            .pipeline_id;
        if self.existing.insert(id.clone()) {
            let errors = self.put(&id, &definitions.latest).await?;
            return Ok((Outcome::Created { id }, errors));
        }
        let (state, current_tags) = self.describe(&id).await?;
        let missing: Vec<sdk::Tag> = pipeline
            .tags
            .iter()
            .filter(|t| !current_tags.contains(t))
            .map(tag_to_sdk)
            .collect();
        if !missing.is_empty() {
            self.client
                .add_tags()
                .pipeline_id(&id)
                .set_tags(Some(missing.clone()))
                .send()
                .await
                .map_err(|e| call_error("AddTags", &e))?;
        }
        let current = self
            .client
            .get_pipeline_definition()
            .pipeline_id(&id)
            .version("latest")
            .send()
            .await
            .map_err(|e| call_error("GetPipelineDefinition", &e))?;
        let current = definition_from_sdk(current).map_err(|e| format!("the server's {e}"))?;
        if differences(&current, &definitions.latest).is_empty() {
            let outcome = if missing.is_empty() {
                Outcome::Unchanged { id }
            } else {
                Outcome::Updated { id }
            };
            return Ok((outcome, Vec::new()));
        }
        if state != "PENDING" {
            return Ok((Outcome::Kept { id, state }, Vec::new()));
        }
        let errors = self.put(&id, &definitions.latest).await?;
        Ok((Outcome::Updated { id }, errors))
    }

    /// PutPipelineDefinition. A definition the server finds invalid is still stored (as AWS
    /// does); its errors are returned for the report.
    async fn put(&self, id: &str, definition: &PipelineDefinition) -> Result<ServerErrors, String> {
        let sdk = definition_to_sdk(definition);
        let output = self
            .client
            .put_pipeline_definition()
            .pipeline_id(id)
            .set_pipeline_objects(Some(sdk.objects))
            .set_parameter_objects(Some(sdk.parameters))
            .set_parameter_values(Some(sdk.values))
            .send()
            .await
            .map_err(|e| call_error("PutPipelineDefinition", &e))?;
        Ok(output
            .validation_errors
            .unwrap_or_default()
            .into_iter()
            .flat_map(|e| {
                let id = e.id.unwrap_or_else(|| PIPELINE_ID.to_owned());
                e.errors
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |m| (id.clone(), m))
            })
            .collect())
    }

    /// The pipeline's `@pipelineState` and tags on the server.
    async fn describe(&self, id: &str) -> Result<(String, Vec<Tag>), String> {
        let output = self
            .client
            .describe_pipelines()
            .pipeline_ids(id)
            .send()
            .await
            .map_err(|e| call_error("DescribePipelines", &e))?;
        let described = output
            .pipeline_description_list
            .into_iter()
            .find(|d| d.pipeline_id == id)
            .map(from_description)
            .ok_or_else(|| format!("DescribePipelines: the server did not describe {id}"))?;
        Ok((described.state.unwrap_or_default(), described.tags))
    }
}

fn tag_to_sdk(tag: &Tag) -> sdk::Tag {
    sdk::Tag::builder()
        .key(&tag.key)
        .value(&tag.value)
        .build()
        .expect("key and value are always set")
}

/// The file this import writes its index to, beside the definitions.
const INDEX_FILE: &str = "pipelines.json";

/// A directory of definition files.
pub(super) struct DirectoryTarget {
    dir: PathBuf,
    index: Vec<Value>,
}

impl DirectoryTarget {
    /// Creates the directory (owner only) if needed.
    pub(super) fn create(dir: &Path) -> Result<DirectoryTarget, String> {
        crate::commands::create_data_dir(dir, false).map_err(|e| format!("{e:#}"))?;
        Ok(DirectoryTarget {
            dir: dir.to_path_buf(),
            index: Vec::new(),
        })
    }

    /// Writes `<id>.json` (the latest definition in file form: objects, parameters, values),
    /// `<id>.values.json` (the values alone, for `--parameter-values-uri`) when there are
    /// values, and `<id>.active.json` when the activated definition differs from the latest.
    pub(super) fn write(
        &mut self,
        pipeline: &Described,
        definitions: &Definitions,
    ) -> Result<Outcome, String> {
        let stem = file_stem(&pipeline.id);
        let mut files = Vec::new();
        let definition_file = format!("{stem}.json");
        self.write_json(&definition_file, &to_definition_file(&definitions.latest))?;
        files.push(self.dir.join(&definition_file));
        let mut entry = json!({
            "pipelineId": pipeline.id,
            "name": pipeline.name,
            "uniqueId": pipeline.unique_id,
            "tags": pipeline.tags,
            "definition": definition_file,
        });
        if let Some(description) = &pipeline.description {
            entry["description"] = json!(description);
        }
        if let Some(state) = &pipeline.state {
            entry["state"] = json!(state);
        }
        if let Some(values) = to_definition_file(&definitions.latest).get("values") {
            let values_file = format!("{stem}.values.json");
            self.write_json(&values_file, &json!({ "values": values }))?;
            files.push(self.dir.join(&values_file));
            entry["values"] = json!(values_file);
        }
        if let Some(active) = &definitions.active
            && !differences(active, &definitions.latest).is_empty()
        {
            let active_file = format!("{stem}.active.json");
            self.write_json(&active_file, &to_definition_file(active))?;
            files.push(self.dir.join(&active_file));
            entry["activeDefinition"] = json!(active_file);
        }
        self.index.push(entry);
        Ok(Outcome::Written { files })
    }

    /// Writes `pipelines.json`: what the definition files cannot hold (name, uniqueId,
    /// description, tags, state at the source) for each pipeline of this import.
    pub(super) fn finish(&self) -> Result<PathBuf, String> {
        self.write_json(INDEX_FILE, &json!({ "pipelines": self.index }))?;
        Ok(self.dir.join(INDEX_FILE))
    }

    fn write_json(&self, name: &str, value: &Value) -> Result<(), String> {
        let path = self.dir.join(name);
        let mut text = serde_json::to_string_pretty(value).expect("JSON values serialise");
        text.push('\n');
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        options
            .open(&path)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }
}

/// A pipeline id as a file name: AWS's ids (`df-…`) as they are, anything that could leave the
/// directory or hide the file made harmless.
fn file_stem(id: &str) -> String {
    let stem: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() { "_".into() } else { stem }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_ids_make_safe_file_names() {
        assert_eq!(file_stem("df-0123ABC"), "df-0123ABC");
        assert_eq!(file_stem("../etc/passwd"), "___etc_passwd");
        assert_eq!(file_stem(".hidden"), "_hidden");
        assert_eq!(file_stem(""), "_");
    }
}
