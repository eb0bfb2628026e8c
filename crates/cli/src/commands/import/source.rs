//! Reading pipelines from the source: which ones, what they are (DescribePipelines), and their
//! definitions (GetPipelineDefinition, `latest` and `active`). Only reads are sent.

use std::collections::HashMap;

use aws_sdk_datapipeline::Client;
use aws_sdk_datapipeline::error::ProvideErrorMetadata as _;
use aws_sdk_datapipeline::types as sdk;
use sluice_model::PipelineDefinition;
use sluice_model::ops::Tag;
use sluice_runner::remote::call_error;
use sluice_runner::remote::convert::definition_from_sdk;

/// DescribePipelines takes at most this many ids per call.
const DESCRIBE_BATCH: usize = 25;

/// Which pipelines to read.
pub(super) enum Selection {
    /// Every pipeline ListPipelines shows.
    All,
    /// These, in this order (duplicates dropped).
    Ids(Vec<String>),
}

/// A pipeline as DescribePipelines tells it.
#[derive(Debug, Clone)]
pub(super) struct Described {
    pub(super) id: String,
    pub(super) name: String,
    /// The `uniqueId` field, else the pipeline id (see [`describe`]).
    pub(super) unique_id: String,
    pub(super) description: Option<String>,
    pub(super) tags: Vec<Tag>,
    /// `@pipelineState`.
    pub(super) state: Option<String>,
}

/// A pipeline's definitions.
#[derive(Debug, Clone)]
pub(super) struct Definitions {
    pub(super) latest: PipelineDefinition,
    /// The activated definition, when the source has one.
    pub(super) active: Option<PipelineDefinition>,
}

/// Lists (for [`Selection::All`]) and describes the pipelines to import. Every failure here is
/// the source's, and nothing has been written yet, so the caller stops: refused credentials, an
/// unreachable endpoint, an id the source does not know.
pub(super) async fn describe(
    client: &Client,
    selection: &Selection,
) -> Result<Vec<Described>, String> {
    let ids = match selection {
        Selection::All => list(client).await?,
        Selection::Ids(ids) => {
            let mut unique: Vec<String> = Vec::with_capacity(ids.len());
            for id in ids {
                if !unique.contains(id) {
                    unique.push(id.clone());
                }
            }
            unique
        }
    };
    let mut described: HashMap<String, Described> = HashMap::with_capacity(ids.len());
    for batch in ids.chunks(DESCRIBE_BATCH) {
        let output = client
            .describe_pipelines()
            .set_pipeline_ids(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| call_error("DescribePipelines", &e))?;
        for description in output.pipeline_description_list {
            let pipeline = from_description(description);
            described.insert(pipeline.id.clone(), pipeline);
        }
    }
    // Some services answer an unknown id with no description rather than an error.
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| !described.contains_key(*id))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "DescribePipelines: no such pipeline: {}",
            missing.join(", ")
        ));
    }
    Ok(ids.iter().filter_map(|id| described.remove(id)).collect())
}

/// Every pipeline id ListPipelines gives, page after page.
pub(super) async fn list(client: &Client) -> Result<Vec<String>, String> {
    let listed: Vec<sdk::PipelineIdName> = client
        .list_pipelines()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|e| call_error("ListPipelines", &e))?;
    Ok(listed
        .into_iter()
        .filter_map(|p| p.id)
        .filter(|id| !id.is_empty())
        .collect())
}

/// The metadata of one description. AWS gives every pipeline a `uniqueId` field; one without it
/// (a service that does not keep it) is imported with its pipeline id as the unique id, so a
/// second import still finds the pipeline it created the first time.
pub(super) fn from_description(description: sdk::PipelineDescription) -> Described {
    let field = |key: &str| {
        description
            .fields
            .iter()
            .find(|f| f.key == key)
            .and_then(|f| f.string_value.clone())
            .filter(|v| !v.is_empty())
    };
    let unique_id = field("uniqueId").unwrap_or_else(|| description.pipeline_id.clone());
    let state = field("@pipelineState");
    let description_text = description
        .description
        .clone()
        .filter(|d| !d.is_empty())
        .or_else(|| field("description"));
    Described {
        unique_id,
        state,
        description: description_text,
        tags: description
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| Tag {
                key: t.key,
                value: t.value,
            })
            .collect(),
        id: description.pipeline_id,
        name: description.name,
    }
}

/// Both definitions of one pipeline. A source without an activated definition may answer
/// `active` with an empty object list (Sluice) or an `InvalidRequestException` (how AWS answers
/// is not documented); either means there is none.
pub(super) async fn definitions(client: &Client, pipeline_id: &str) -> Result<Definitions, String> {
    let latest = client
        .get_pipeline_definition()
        .pipeline_id(pipeline_id)
        .version("latest")
        .send()
        .await
        .map_err(|e| call_error("GetPipelineDefinition (latest)", &e))?;
    let latest =
        definition_from_sdk(latest).map_err(|e| format!("GetPipelineDefinition (latest): {e}"))?;
    let active = match client
        .get_pipeline_definition()
        .pipeline_id(pipeline_id)
        .version("active")
        .send()
        .await
    {
        Ok(output) => Some(
            definition_from_sdk(output)
                .map_err(|e| format!("GetPipelineDefinition (active): {e}"))?,
        ),
        Err(e) if e.code() == Some("InvalidRequestException") => None,
        Err(e) => return Err(call_error("GetPipelineDefinition (active)", &e)),
    };
    Ok(Definitions {
        latest,
        active: active.filter(|d| !d.pipeline_objects.is_empty()),
    })
}
