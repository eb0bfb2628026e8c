//! The pipeline API through the Rust SDK, as the server tests drive it: launch a pipeline from
//! file-form objects, then inspect its instances and attempts.

#![allow(dead_code)]

use std::collections::BTreeMap;

use aws_sdk_datapipeline::Client;
use aws_sdk_datapipeline::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
use aws_sdk_datapipeline::types::{Field, ParameterAttribute, ParameterObject, PipelineObject};
use serde_json::{Value, json};

use crate::harness::{ROOT_ACCESS_KEY, ROOT_SECRET_KEY, api_form};

/// An object as DescribeObjects shows it: each key's values (references as their ids).
pub(crate) type Described = BTreeMap<String, Vec<String>>;

pub(crate) struct Api {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) client: Client,
}

impl Api {
    pub(crate) fn new(endpoint: &str) -> Api {
        Api::with_key(endpoint, ROOT_ACCESS_KEY, ROOT_SECRET_KEY)
    }

    pub(crate) fn with_key(endpoint: &str, key_id: &str, secret: &str) -> Api {
        Api::with_config(
            aws_sdk_datapipeline::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(endpoint)
                .credentials_provider(Credentials::new(key_id, secret, None, None, "tests"))
                .retry_config(RetryConfig::disabled())
                .build(),
        )
    }

    /// The SDK with `config` (an HTTP client trusting a test CA, …).
    pub(crate) fn with_config(config: aws_sdk_datapipeline::Config) -> Api {
        Api {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: Client::from_conf(config),
        }
    }

    /// Creates, defines and activates a pipeline from file-form `objects`; its id.
    pub(crate) fn launch(&self, name: &str, objects: Value) -> String {
        let id = self.define(name, objects);
        self.activate(&id);
        id
    }

    /// ActivatePipeline.
    pub(crate) fn activate(&self, id: &str) {
        self.rt.block_on(async {
            self.client
                .activate_pipeline()
                .pipeline_id(id)
                .send()
                .await
                .expect("activate_pipeline");
        });
    }

    /// Creates and defines a pipeline from file-form `objects` (not activated); its id.
    pub(crate) fn define(&self, name: &str, objects: Value) -> String {
        self.define_with(name, objects, json!([]))
    }

    /// [`Api::define`] with file-form parameter objects (`[{"id": …, "type": …, "default": …}]`).
    pub(crate) fn define_with(&self, name: &str, objects: Value, parameters: Value) -> String {
        let (objects, parameters, _) =
            api_form(&json!({ "objects": objects, "parameters": parameters }));
        let parameters: Vec<ParameterObject> = parameters
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let attributes = p["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| {
                        ParameterAttribute::builder()
                            .key(a["key"].as_str().unwrap())
                            .string_value(a["stringValue"].as_str().unwrap())
                            .build()
                            .unwrap()
                    })
                    .collect();
                ParameterObject::builder()
                    .id(p["id"].as_str().unwrap())
                    .set_attributes(Some(attributes))
                    .build()
                    .unwrap()
            })
            .collect();
        let objects: Vec<PipelineObject> = objects
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                let fields = o["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| {
                        Field::builder()
                            .key(f["key"].as_str().unwrap())
                            .set_string_value(f["stringValue"].as_str().map(str::to_owned))
                            .set_ref_value(f["refValue"].as_str().map(str::to_owned))
                            .build()
                            .unwrap()
                    })
                    .collect();
                PipelineObject::builder()
                    .id(o["id"].as_str().unwrap())
                    .name(o["name"].as_str().unwrap())
                    .set_fields(Some(fields))
                    .build()
                    .unwrap()
            })
            .collect();
        self.rt.block_on(async {
            let id = self
                .client
                .create_pipeline()
                .name(name)
                .unique_id(name)
                .send()
                .await
                .expect("create_pipeline")
                .pipeline_id
                .clone();
            let put = self
                .client
                .put_pipeline_definition()
                .pipeline_id(&id)
                .set_pipeline_objects(Some(objects))
                .set_parameter_objects(Some(parameters))
                .send()
                .await
                .expect("put_pipeline_definition");
            assert!(!put.errored, "invalid definition: {put:?}");
            id
        })
    }

    /// ListPipelines; the error's code and message when refused.
    pub(crate) fn list_pipelines(&self) -> Result<usize, String> {
        self.rt.block_on(async {
            self.client
                .list_pipelines()
                .send()
                .await
                .map(|out| out.pipeline_id_list.len())
                .map_err(|e| {
                    use aws_sdk_datapipeline::error::ProvideErrorMetadata;
                    format!("{}: {}", e.code().unwrap_or("?"), e.message().unwrap_or(""))
                })
        })
    }

    /// Every object of `sphere` (INSTANCE or ATTEMPT), by id.
    pub(crate) fn objects(
        &self,
        pipeline: &str,
        sphere: &str,
    ) -> Result<BTreeMap<String, Described>, String> {
        self.rt.block_on(async {
            let ids = self
                .client
                .query_objects()
                .pipeline_id(pipeline)
                .sphere(sphere)
                .limit(100)
                .send()
                .await
                .map_err(|e| format!("query_objects: {e:?}"))?
                .ids
                .unwrap_or_default();
            if ids.is_empty() {
                return Ok(BTreeMap::new());
            }
            let described = self
                .client
                .describe_objects()
                .pipeline_id(pipeline)
                .set_object_ids(Some(ids))
                .send()
                .await
                .map_err(|e| format!("describe_objects: {e:?}"))?;
            Ok(described
                .pipeline_objects
                .into_iter()
                .map(|o| {
                    let mut fields = Described::new();
                    for f in o.fields {
                        let value = f.string_value.or(f.ref_value).unwrap_or_default();
                        fields.entry(f.key).or_default().push(value);
                    }
                    (o.id, fields)
                })
                .collect())
        })
    }

    /// The attempts of `component`'s instances, by id.
    pub(crate) fn attempts_of(
        &self,
        pipeline: &str,
        component: &str,
    ) -> BTreeMap<String, Described> {
        self.objects(pipeline, "ATTEMPT")
            .unwrap()
            .into_iter()
            .filter(|(_, f)| one(f, "@componentParent") == Some(component))
            .collect()
    }

    pub(crate) fn set_status(&self, pipeline: &str, object: &str, status: &str) {
        self.rt.block_on(async {
            self.client
                .set_status()
                .pipeline_id(pipeline)
                .object_ids(object)
                .status(status)
                .send()
                .await
                .unwrap_or_else(|e| panic!("set_status {status}: {e:?}"));
        });
    }

    /// DeactivatePipeline.
    pub(crate) fn deactivate(&self, id: &str, cancel_active: bool) {
        self.rt.block_on(async {
            self.client
                .deactivate_pipeline()
                .pipeline_id(id)
                .cancel_active(cancel_active)
                .send()
                .await
                .expect("deactivate_pipeline");
        });
    }

    /// Waits up to `limit` until the instance of `component` has `status`; its id and fields.
    pub(crate) fn instance_with_status(
        &self,
        pipeline: &str,
        component: &str,
        status: &str,
        limit: std::time::Duration,
    ) -> (String, Described) {
        sluice_testsupport::poll::wait_for(&format!("{component} to be {status}"), limit, || {
            let instances = self.objects(pipeline, "INSTANCE")?;
            instances
                .into_iter()
                .find(|(_, f)| {
                    one(f, "@componentParent") == Some(component)
                        && one(f, "@status") == Some(status)
                })
                .ok_or_else(|| format!("{:?}", self.objects(pipeline, "INSTANCE")))
        })
    }
}

pub(crate) fn one<'a>(fields: &'a Described, key: &str) -> Option<&'a str> {
    fields.get(key).and_then(|v| v.first()).map(String::as_str)
}
