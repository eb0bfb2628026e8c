//! AddTags and RemoveTags. Tags live in the pipeline record's `@tags` field as a JSON array,
//! in the order keys were first added.

use std::collections::BTreeMap;

use sluice_model::ops::{AddTagsInput, AddTagsOutput, RemoveTagsInput, RemoveTagsOutput, Tag};

use crate::accounts::Principal;
use crate::error::{ApiError, ApiResult};
use crate::service::{Service, TAGS};

/// Most tags per request and per pipeline.
pub const MAX_TAGS: usize = 10;

/// The tags a record holds.
pub(crate) fn stored_tags(fields: &BTreeMap<String, String>) -> Vec<Tag> {
    fields
        .get(TAGS)
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

pub(crate) fn encode_tags(tags: &[Tag]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".into())
}

/// Adds `new` to `tags`, overwriting the value of a key already present.
pub(crate) fn merge_tags(tags: &mut Vec<Tag>, new: &[Tag]) {
    for tag in new {
        match tags.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value.clone(),
            None => tags.push(tag.clone()),
        }
    }
}

impl Service {
    /// AddTags: adds or overwrites by key; a pipeline holds at most 10 tags.
    pub async fn add_tags(
        &self,
        principal: &Principal,
        input: AddTagsInput,
    ) -> ApiResult<AddTagsOutput> {
        let _control = self.control.lock().await;
        self.meta(principal, &input.pipeline_id)?;
        let mut tags = stored_tags(&self.record(&input.pipeline_id).await?.fields);
        merge_tags(&mut tags, &input.tags);
        if tags.len() > MAX_TAGS {
            return Err(ApiError::invalid(format!(
                "A pipeline can have at most {MAX_TAGS} tags; this would make {}",
                tags.len()
            )));
        }
        let encoded = encode_tags(&tags);
        self.write_record(&input.pipeline_id, move |record| {
            record.fields.insert(TAGS.into(), encoded);
        })
        .await?;
        Ok(AddTagsOutput {})
    }

    /// RemoveTags: keys the pipeline does not have are ignored.
    pub async fn remove_tags(
        &self,
        principal: &Principal,
        input: RemoveTagsInput,
    ) -> ApiResult<RemoveTagsOutput> {
        let _control = self.control.lock().await;
        self.meta(principal, &input.pipeline_id)?;
        let mut tags = stored_tags(&self.record(&input.pipeline_id).await?.fields);
        let before = tags.len();
        tags.retain(|t| !input.tag_keys.contains(&t.key));
        if tags.len() != before {
            let encoded = encode_tags(&tags);
            self.write_record(&input.pipeline_id, move |record| {
                if tags.is_empty() {
                    record.fields.remove(TAGS);
                } else {
                    record.fields.insert(TAGS.into(), encoded);
                }
            })
            .await?;
        }
        Ok(RemoveTagsOutput {})
    }
}
