//! Stand-ins for the executors of types whose support this build was compiled without (cargo
//! features): registered under the same names, so a runner still finds an executor for every
//! runnable type and the attempt fails saying which feature is missing, rather than "no
//! executor".

use sluice_model::TaskResult;

use crate::exec::error_id;
use crate::execute::{AttemptContext, ExecFuture, Execute};

/// Declares a unit struct named like the AWS type whose attempts fail with the message of
/// [`sluice_data::left_out`].
macro_rules! left_out {
    ($($name:ident: $support:literal, $feature:literal;)*) => {$(
        #[doc = concat!("`", stringify!($name), "` in a build without the `", $feature, "` feature: every attempt fails saying so.")]
        pub struct $name;

        impl Execute for $name {
            fn execute<'a>(&'a self, _ctx: &'a AttemptContext) -> ExecFuture<'a> {
                Box::pin(std::future::ready(failed(stringify!($name), $support, $feature)))
            }
        }
    )*};
}

left_out! {
    DynamoDBDataExists: "DynamoDB", "dynamodb";
    DynamoDBTableExists: "DynamoDB", "dynamodb";
    HiveCopyActivity: "DynamoDB", "dynamodb";
}

/// The result of an attempt of `type_name`, which needs `support` that this build leaves out.
pub(crate) fn failed(type_name: &str, support: &str, feature: &str) -> TaskResult {
    TaskResult::failed(
        error_id::UNSUPPORTED,
        sluice_data::left_out(type_name, support, feature),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use sluice_model::{PipelineObject, TaskObject, TaskStatus};
    use tokio_util::sync::CancellationToken;

    use crate::{AttemptContext, Executors, RunnerSettings};

    #[tokio::test]
    async fn left_out_types_are_registered_and_fail_naming_their_feature() {
        let dir = std::env::temp_dir();
        let ctx = AttemptContext {
            task: TaskObject {
                task_id: "t".into(),
                pipeline_id: "df-1".into(),
                attempt_id: "@A_1".into(),
                objects: BTreeMap::from([(
                    "@A_1".to_string(),
                    PipelineObject {
                        id: "@A_1".into(),
                        name: "@A_1".into(),
                        fields: Vec::new(),
                    },
                )]),
            },
            attempt_dir: dir.clone(),
            stdout_log: dir.join("stdout.log"),
            stderr_log: dir.join("stderr.log"),
            cancel: CancellationToken::new(),
            settings: Arc::new(RunnerSettings::default()),
        };
        let executors = Executors::builtin();
        for name in [
            "DynamoDBDataExists",
            "DynamoDBTableExists",
            "HiveCopyActivity",
        ] {
            let executor = executors.get(name).expect(name);
            let result = executor.execute(&ctx).await;
            assert_eq!(result.task_status, TaskStatus::Failed, "{name}");
            let message = result.error_message.unwrap_or_default();
            assert!(
                message.starts_with(name) && message.contains("cargo feature `dynamodb`"),
                "{name}: {message}"
            );
        }
    }
}
