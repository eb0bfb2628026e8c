//! `sluice server` through the real AWS clients: the AWS CLI v1 and boto3 (from a venv, see
//! `clients/harness.rs`) and the Rust `aws-sdk-datapipeline` crate. Each test starts its own
//! server on a free port with its own data directory and walks the whole life of a pipeline,
//! or checks what authentication and account failures look like to the clients.

#[path = "clients/harness.rs"]
mod harness;

use std::fs;
use std::path::Path;
use std::time::Duration;

use aws_sdk_datapipeline::error::ProvideErrorMetadata;
use aws_sdk_datapipeline::types::{
    Field, Operator, OperatorType, ParameterAttribute, ParameterObject, ParameterValue,
    PipelineObject, Query, Selector, Tag,
};
use harness::{
    AwsCli, ROOT_ACCESS_KEY, ROOT_SECRET_KEY, Server, ServerConfig, SlowClock, api_form,
    assert_boto3_lifecycle, doc_shell_block, field, greet_definition, normalise_definition,
    raw_post, run_shell, sdk_client, sdk_config, sdk_object, signed_headers,
};
use serde_json::{Value, json};
use sluice_testsupport::files::lines;
use sluice_testsupport::poll::{wait_for, wait_for_async};

/// How long a pipeline run may take to finish.
const RUN_DEADLINE: Duration = Duration::from_secs(30);

fn ids(value: &Value) -> Vec<String> {
    value["ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// 1. AWS CLI v1
// ---------------------------------------------------------------------------------------------

#[test]
fn aws_cli_walks_a_pipeline_through_its_life() {
    let server = Server::start();
    let aws = AwsCli::root(&server);
    walk_a_pipeline_through_its_life(&aws, &server.dir().join("greetings.txt"));
}

/// The same walk against two servers sharing one PostgreSQL database, each command sent to the
/// other server than the one before.
#[cfg(feature = "postgres")]
#[test]
fn aws_cli_walks_a_pipeline_through_its_life_across_two_servers() {
    let db = sluice_testsupport::databases::PgDatabase::create("sluice_cli_two_servers");
    // Servers sharing a database share the key that seals its secrets.
    let keys = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        args: vec![
            "--database".into(),
            db.url(),
            "--secret-key-file".into(),
            keys.path().join("secret.key").display().to_string(),
        ],
        ..ServerConfig::default()
    };
    let one = Server::start_with(config.clone());
    let two = Server::start_with(config);
    let aws = AwsCli::alternating(&[&one, &two]);
    walk_a_pipeline_through_its_life(&aws, &one.dir().join("greetings.txt"));
}

/// `--log-format json`: every line the server logs is one JSON object a log collector can read,
/// with its level, message and fields.
#[test]
fn a_server_asked_for_json_logs_writes_one_object_per_line() {
    let server = Server::start_with(ServerConfig {
        args: vec!["--log-format".into(), "json".into()],
        ..ServerConfig::default()
    });
    AwsCli::root(&server).json(&["list-pipelines"]);
    let log = server.stderr();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?} is not JSON"))
        })
        .collect();
    assert!(
        lines.iter().any(|l| l["level"] == "INFO"
            && l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("sluice server listening on"))),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["operation"] == "ListPipelines"),
        "the request is logged with its operation: {log}"
    );
}

/// The value of `export NAME=value` in `text`.
fn exported<'t>(text: &'t str, name: &str) -> &'t str {
    let prefix = format!("export {name}=");
    text.lines()
        .find_map(|l| l.trim().strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("the README exports {name}"))
}

/// The README's AWS CLI walkthrough, run as written against a server started with the
/// README's example keys (only the address differs: the test's server takes a free port).
#[test]
fn the_readme_aws_cli_walkthrough_works_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    let block = doc_shell_block("README.md", "### With the AWS CLI");
    let server_block = &readme[readme.find("export SLUICE_ROOT_ACCESS_KEY_ID=").unwrap()..];
    let (key, secret) = (
        exported(server_block, "SLUICE_ROOT_ACCESS_KEY_ID"),
        exported(server_block, "SLUICE_ROOT_SECRET_ACCESS_KEY"),
    );
    assert_eq!(exported(&block, "AWS_ACCESS_KEY_ID"), key);
    let server = Server::start_with(ServerConfig {
        root_env: false,
        credentials: Some(json!({ "accounts": [{ "accountId": "000000000000",
            "keys": [{ "accessKeyId": key, "secretAccessKey": secret }] }] })),
        ..ServerConfig::default()
    });
    let script = block.replace("http://127.0.0.1:8080", &server.endpoint);
    let run = run_shell(&script, &root);
    assert_eq!(run.code, 0, "{run:?}");
    let id = run
        .stdout
        .lines()
        .find(|l| l.starts_with("df-"))
        .unwrap_or_else(|| panic!("the pipeline id is echoed: {run:?}"))
        .trim()
        .to_owned();
    assert!(
        run.stdout.contains("Report"),
        "list-runs lists the run: {run:?}"
    );
    let aws = AwsCli::new(&server, key, secret);
    wait_for("the README's run to finish", RUN_DEADLINE, || {
        let runs = aws.run_plain(&["list-runs", "--pipeline-id", &id]);
        if runs.stdout.contains("FINISHED") {
            Ok(())
        } else {
            Err(runs.stdout)
        }
    });
}

fn walk_a_pipeline_through_its_life(aws: &AwsCli, out_file: &Path) {
    let out_file = out_file.to_path_buf();

    // create-pipeline is idempotent on (name, unique id).
    let created = aws.json(&["create-pipeline", "--name", "demo", "--unique-id", "tok1"]);
    let id = created["pipelineId"]
        .as_str()
        .expect("pipelineId")
        .to_owned();
    assert!(id.starts_with("df-"), "{created}");
    let again = aws.json(&["create-pipeline", "--name", "demo", "--unique-id", "tok1"]);
    assert_eq!(again, created);
    let id = id.as_str();

    // put-pipeline-definition with the file form.
    let definition = greet_definition(&out_file);
    let def_path = aws.scratch().join("def.json");
    fs::write(&def_path, serde_json::to_vec_pretty(&definition).unwrap()).unwrap();
    let file_arg = format!("file://{}", def_path.display());
    let put = aws.json(&[
        "put-pipeline-definition",
        "--pipeline-id",
        id,
        "--pipeline-definition",
        &file_arg,
    ]);
    assert_eq!(
        put,
        json!({"validationErrors": [], "validationWarnings": [], "errored": false})
    );

    // validate-pipeline-definition takes the API form; a misspelt field is reported on its
    // object.
    let (objects, parameters, values) = api_form(&definition);
    let write = |name: &str, value: &Value| {
        let path = aws.scratch().join(name);
        fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
        format!("file://{}", path.display())
    };
    let objects_arg = write("objects.json", &objects);
    let parameters_arg = write("parameters.json", &parameters);
    let values_arg = write("values.json", &values);
    let validate = |objects_arg: &str| {
        aws.json(&[
            "validate-pipeline-definition",
            "--pipeline-id",
            id,
            "--pipeline-objects",
            objects_arg,
            "--parameter-objects",
            &parameters_arg,
            "--parameter-values",
            &values_arg,
        ])
    };
    assert_eq!(
        validate(&objects_arg),
        json!({"validationErrors": [], "validationWarnings": [], "errored": false})
    );
    let mut misspelt = objects.clone();
    misspelt[1]["fields"][0]["key"] = json!("comand");
    let answer = validate(&write("misspelt.json", &misspelt));
    assert_eq!(answer["errored"], json!(true), "{answer}");
    assert_eq!(
        answer["validationErrors"][0]["id"],
        json!("Greet"),
        "{answer}"
    );
    let messages = answer["validationErrors"][0]["errors"].to_string();
    assert!(messages.contains("comand"), "{answer}");

    // get-pipeline-definition prints the file form: the same definition back.
    let got = aws.json(&["get-pipeline-definition", "--pipeline-id", id]);
    assert_eq!(
        normalise_definition(&got),
        normalise_definition(&definition),
        "get-pipeline-definition printed\n{got:#}"
    );

    // activate-pipeline with an inline parameter value; the in-process runner runs the
    // activity.
    aws.json(&[
        "activate-pipeline",
        "--pipeline-id",
        id,
        "--parameter-values",
        "myGreeting=cli",
    ]);
    let runs = wait_for("list-runs to show a FINISHED run", RUN_DEADLINE, || {
        let runs = aws.json(&["list-runs", "--pipeline-id", id]);
        let finished = runs
            .as_array()
            .is_some_and(|r| r.len() == 1 && r[0]["@status"] == json!("FINISHED"));
        if finished {
            Ok(runs)
        } else {
            Err(runs.to_string())
        }
    });
    assert_eq!(lines(&out_file), ["hello cli"]);
    let run = &runs[0];
    assert_eq!(run["@componentParent"], json!("Greet"), "{runs:#}");
    let instance = run["@id"].as_str().expect("@id").to_owned();
    let instance = instance.as_str();

    // list-runs' own table format (no --output) names the run and its status.
    let table = aws.run_plain(&["list-runs", "--pipeline-id", id]);
    assert_eq!(table.code, 0, "{table}");
    assert!(table.stdout.contains("Scheduled Start"), "{table}");
    assert!(table.stdout.contains("Greet"), "{table}");
    assert!(table.stdout.contains("FINISHED"), "{table}");
    assert!(table.stdout.contains(instance), "{table}");
    // list-runs' status filter (a QueryObjects selector on @status).
    let finished_runs = aws.json(&["list-runs", "--pipeline-id", id, "--status", "finished"]);
    assert_eq!(
        finished_runs.as_array().map(Vec::len),
        Some(1),
        "{finished_runs}"
    );
    let failed_runs = aws.json(&[
        "list-runs",
        "--pipeline-id",
        id,
        "--status",
        "failed,cancelled",
    ]);
    assert_eq!(failed_runs, json!([]));

    // The active definition carries the activation's value; the latest keeps the file's.
    let active = aws.json(&[
        "get-pipeline-definition",
        "--pipeline-id",
        id,
        "--pipeline-version",
        "active",
    ]);
    assert_eq!(active["values"]["myGreeting"], json!("cli"), "{active:#}");

    // describe-objects with evaluated expressions.
    let described = aws.json(&[
        "describe-objects",
        "--pipeline-id",
        id,
        "--object-ids",
        instance,
        "--evaluate-expressions",
    ]);
    let object = &described["pipelineObjects"][0];
    assert_eq!(object["id"], json!(instance), "{described:#}");
    assert_eq!(field(object, "@status").as_deref(), Some("FINISHED"));
    assert_eq!(field(object, "@sphere").as_deref(), Some("INSTANCE"));
    assert_eq!(
        field(object, "command"),
        Some(format!("echo \"hello cli\" >> \"{}\"", out_file.display())),
        "{described:#}"
    );
    let scheduled_start = field(object, "@scheduledStartTime").expect("@scheduledStartTime");

    // query-objects per sphere, with and without a selector.
    let instances = aws.json(&["query-objects", "--pipeline-id", id, "--sphere", "INSTANCE"]);
    assert_eq!(ids(&instances), [instance]);
    let finished = aws.json(&[
        "query-objects",
        "--pipeline-id",
        id,
        "--sphere",
        "INSTANCE",
        "--objects-query",
        r#"{"selectors": [{"fieldName": "@status", "operator": {"type": "EQ", "values": ["FINISHED"]}}]}"#,
    ]);
    assert_eq!(ids(&finished), [instance]);
    let attempts = aws.json(&["query-objects", "--pipeline-id", id, "--sphere", "ATTEMPT"]);
    assert_eq!(ids(&attempts).len(), 1, "{attempts}");
    let components = aws.json(&[
        "query-objects",
        "--pipeline-id",
        id,
        "--sphere",
        "COMPONENT",
    ]);
    assert!(
        ids(&components).contains(&"Greet".to_owned()),
        "{components}"
    );

    // set-status RERUN runs the instance again.
    aws.json(&[
        "set-status",
        "--pipeline-id",
        id,
        "--object-ids",
        instance,
        "--status",
        "RERUN",
    ]);
    wait_for("the rerun to finish", RUN_DEADLINE, || {
        let described = aws.json(&[
            "describe-objects",
            "--pipeline-id",
            id,
            "--object-ids",
            instance,
        ]);
        let status = field(&described["pipelineObjects"][0], "@status");
        let written = lines(&out_file);
        if status.as_deref() == Some("FINISHED") && written.len() == 2 {
            Ok(())
        } else {
            Err(format!("status {status:?}, file {written:?}"))
        }
    });
    assert_eq!(lines(&out_file), ["hello cli", "hello cli"]);

    // evaluate-expression on the instance.
    let evaluated = aws.json(&[
        "evaluate-expression",
        "--pipeline-id",
        id,
        "--object-id",
        instance,
        "--expression",
        "#{myGreeting} at #{format(@scheduledStartTime, 'YYYY-MM-dd')}",
    ]);
    assert_eq!(
        evaluated,
        json!({"evaluatedExpression": format!("cli at {}", &scheduled_start[..10])})
    );

    // add-tags and remove-tags show in describe-pipelines.
    aws.json(&[
        "add-tags",
        "--pipeline-id",
        id,
        "--tags",
        "key=env,value=test",
        "key=team,value=data",
    ]);
    aws.json(&["remove-tags", "--pipeline-id", id, "--tag-keys", "team"]);
    let described = aws.json(&["describe-pipelines", "--pipeline-ids", id]);
    let description = &described["pipelineDescriptionList"][0];
    assert_eq!(description["pipelineId"], json!(id), "{described:#}");
    assert_eq!(description["name"], json!("demo"), "{described:#}");
    assert_eq!(
        description["tags"],
        json!([{"key": "env", "value": "test"}]),
        "{described:#}"
    );
    assert_eq!(
        field(description, "@pipelineState").as_deref(),
        Some("SCHEDULED"),
        "{described:#}"
    );

    // deactivate-pipeline, delete-pipeline, and the pipeline is gone.
    aws.json(&["deactivate-pipeline", "--pipeline-id", id]);
    let described = aws.json(&["describe-pipelines", "--pipeline-ids", id]);
    let state = field(&described["pipelineDescriptionList"][0], "@pipelineState");
    assert_eq!(state.as_deref(), Some("INACTIVE"), "{described:#}");
    assert!(
        ids_of_pipelines(aws).contains(&id.to_owned()),
        "listed before deletion"
    );
    aws.json(&["delete-pipeline", "--pipeline-id", id]);
    aws.run(&["describe-pipelines", "--pipeline-ids", id])
        .fails_with(255, "PipelineDeletedException");
    assert!(!ids_of_pipelines(aws).contains(&id.to_owned()));
    aws.run(&["delete-pipeline", "--pipeline-id", id])
        .fails_with(255, "PipelineNotFoundException");
}

/// Creates a pipeline named `name` and puts a definition with `definition_args` (the
/// `put-pipeline-definition` options after `--pipeline-id`), which must be accepted.
fn create_and_put(aws: &AwsCli, name: &str, definition_args: &[&str]) -> String {
    let created = aws.json(&["create-pipeline", "--name", name, "--unique-id", name]);
    let id = created["pipelineId"].as_str().unwrap().to_owned();
    let mut args = vec!["put-pipeline-definition", "--pipeline-id", &id];
    args.extend_from_slice(definition_args);
    let put = aws.json(&args);
    assert_eq!(put["errored"], json!(false), "{name}: {put:#}");
    id
}

/// A server that runs no tasks itself, for tests about definitions.
fn server_without_runner() -> Server {
    Server::start_with(ServerConfig {
        local_runner: false,
        ..ServerConfig::default()
    })
}

#[test]
fn aws_cli_round_trips_the_example_definitions() {
    let server = server_without_runner();
    let aws = AwsCli::root(&server);
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files: Vec<_> = fs::read_dir(&examples)
        .expect("examples/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        let definition = format!("file://{}", file.display());
        let id = create_and_put(&aws, &name, &["--pipeline-definition", &definition]);
        let got = aws.json(&["get-pipeline-definition", "--pipeline-id", &id]);
        let original: Value = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(
            normalise_definition(&got),
            normalise_definition(&original),
            "{name}: get-pipeline-definition printed\n{got:#}"
        );
    }
}

/// `put-pipeline-definition --parameter-objects` sends the file's declarations as the
/// definition's `parameterObjects`, replacing the definition's own; `sluice plan` (like
/// `validate` and `run`) given the same option sees the same definition as the one the server
/// returns.
#[test]
fn aws_cli_parameter_objects_replace_the_definitions_parameters_as_sluice_does() {
    let server = server_without_runner();
    let aws = AwsCli::root(&server);
    let dir = aws.scratch();
    let definition = json!({
        "objects": [
            { "id": "Default", "name": "Default", "scheduleType": "cron",
              "schedule": { "ref": "Daily" }, "workerGroup": "local" },
            { "id": "Daily", "type": "Schedule", "period": "1 day", "startDateTime": "#{myStart}" },
            { "id": "Job", "type": "ShellCommandActivity", "command": "true" }
        ],
        "parameters": [
            { "id": "myStart", "type": "String", "default": "2020-01-01T00:00:00" },
            { "id": "myUnused", "type": "String", "optional": "true" }
        ]
    });
    let objects = json!({ "parameters": [
        { "id": "myStart", "type": "String", "default": "2026-03-01T00:00:00" }
    ]});
    fs::write(dir.join("def.json"), definition.to_string()).unwrap();
    fs::write(dir.join("objects.json"), objects.to_string()).unwrap();
    let id = create_and_put(
        &aws,
        "p",
        &[
            "--pipeline-definition",
            "file://def.json",
            "--parameter-objects",
            "file://objects.json",
        ],
    );
    let stored = aws.json(&["get-pipeline-definition", "--pipeline-id", &id]);
    assert_eq!(stored["parameters"], objects["parameters"], "{stored:#}");
    fs::write(dir.join("stored.json"), stored.to_string()).unwrap();

    let plan = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("plan")
            .args(args)
            .args(["--activate-at", "2026-03-05T00:00:00", "--count", "2"])
            .args(["--output", "json"])
            .current_dir(dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let with_option = plan(&["def.json", "--parameter-objects", "file://objects.json"]);
    assert_eq!(with_option, plan(&["stored.json"]));
    assert!(
        with_option.contains("@Job_2026-03-01T00:00:00"),
        "{with_option}"
    );
}

fn ids_of_pipelines(aws: &AwsCli) -> Vec<String> {
    let listed = aws.json(&["list-pipelines"]);
    listed["pipelineIdList"]
        .as_array()
        .expect("pipelineIdList")
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 2. boto3
// ---------------------------------------------------------------------------------------------

#[test]
fn boto3_walks_a_pipeline_through_its_life_as_its_task_runner() {
    let server = Server::start_with(ServerConfig {
        local_runner: false,
        ..ServerConfig::default()
    });
    assert_boto3_lifecycle(&server, &[]);
}

// ---------------------------------------------------------------------------------------------
// 3. The Rust SDK
// ---------------------------------------------------------------------------------------------

fn string_field(key: &str, value: &str) -> Field {
    Field::builder()
        .key(key)
        .string_value(value)
        .build()
        .unwrap()
}

/// The greeting pipeline through the SDK's builders.
fn greet_objects(worker_group: &str, command: &str) -> (Vec<PipelineObject>, ParameterObject) {
    let objects = vec![
        sdk_object(
            "Default",
            vec![
                string_field("failureAndRerunMode", "CASCADE"),
                string_field("maximumRetries", "0"),
                string_field("scheduleType", "ondemand"),
                string_field("workerGroup", worker_group),
            ],
        ),
        sdk_object(
            "Greet",
            vec![
                string_field("command", command),
                string_field("type", "ShellCommandActivity"),
            ],
        ),
    ];
    let parameter = ParameterObject::builder()
        .id("myGreeting")
        .attributes(
            ParameterAttribute::builder()
                .key("type")
                .string_value("String")
                .build()
                .unwrap(),
        )
        .attributes(
            ParameterAttribute::builder()
                .key("default")
                .string_value("world")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    (objects, parameter)
}

fn sdk_field(object: &PipelineObject, key: &str) -> Option<String> {
    object
        .fields()
        .iter()
        .find(|f| f.key() == key)
        .and_then(|f| f.string_value().or(f.ref_value()).map(str::to_owned))
}

fn status_is(status: &str) -> Query {
    Query::builder()
        .selectors(
            Selector::builder()
                .field_name("@status")
                .operator(
                    Operator::builder()
                        .r#type(OperatorType::Equal)
                        .values(status)
                        .build(),
                )
                .build(),
        )
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_walks_a_pipeline_through_its_life() {
    let server = Server::start();
    let client = sdk_client(&server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    let out_file = server.dir().join("rust-greetings.txt");

    let created = client
        .create_pipeline()
        .name("rust-demo")
        .unique_id("rust-token")
        .description("made by the Rust SDK")
        .tags(Tag::builder().key("team").value("data").build().unwrap())
        .send()
        .await
        .expect("create_pipeline");
    let id = created.pipeline_id().to_owned();
    let again = client
        .create_pipeline()
        .name("rust-demo")
        .unique_id("rust-token")
        .send()
        .await
        .expect("create_pipeline again");
    assert_eq!(again.pipeline_id(), id);

    let command = format!(
        "echo \"hello #{{myGreeting}}\" >> \"{}\"",
        out_file.display()
    );
    let (objects, parameter) = greet_objects("wg-rust", &command);
    let put = client
        .put_pipeline_definition()
        .pipeline_id(&id)
        .set_pipeline_objects(Some(objects.clone()))
        .parameter_objects(parameter.clone())
        .send()
        .await
        .expect("put_pipeline_definition");
    assert!(!put.errored(), "{put:?}");
    assert!(put.validation_errors().is_empty(), "{put:?}");

    let got = client
        .get_pipeline_definition()
        .pipeline_id(&id)
        .send()
        .await
        .expect("get_pipeline_definition");
    assert_eq!(got.pipeline_objects(), objects.as_slice());
    assert_eq!(got.parameter_objects(), [parameter]);

    client
        .activate_pipeline()
        .pipeline_id(&id)
        .parameter_values(
            ParameterValue::builder()
                .id("myGreeting")
                .string_value("rust")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("activate_pipeline");

    let instance = wait_for_async("a FINISHED instance", RUN_DEADLINE, || async {
        let finished = client
            .query_objects()
            .pipeline_id(&id)
            .sphere("INSTANCE")
            .query(status_is("FINISHED"))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        match finished.ids() {
            [one] => Ok(one.clone()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!(lines(&out_file), ["hello rust"]);

    let described = client
        .describe_objects()
        .pipeline_id(&id)
        .object_ids(&instance)
        .object_ids("Greet")
        .evaluate_expressions(true)
        .send()
        .await
        .expect("describe_objects");
    let [inst, component] = described.pipeline_objects() else {
        panic!("two objects expected: {described:?}");
    };
    assert_eq!(sdk_field(inst, "@status").as_deref(), Some("FINISHED"));
    assert_eq!(
        sdk_field(inst, "@componentParent").as_deref(),
        Some("Greet")
    );
    assert_eq!(
        sdk_field(inst, "command"),
        Some(format!("echo \"hello rust\" >> \"{}\"", out_file.display()))
    );
    assert_eq!(
        sdk_field(component, "@sphere").as_deref(),
        Some("COMPONENT")
    );

    // PAUSE and RESUME on the component.
    let component_status = || async {
        let described = client
            .describe_objects()
            .pipeline_id(&id)
            .object_ids("Greet")
            .send()
            .await
            .expect("describe_objects");
        sdk_field(&described.pipeline_objects()[0], "@status")
    };
    client
        .set_status()
        .pipeline_id(&id)
        .object_ids("Greet")
        .status("PAUSE")
        .send()
        .await
        .expect("set_status PAUSE");
    assert_eq!(component_status().await.as_deref(), Some("PAUSED"));
    client
        .set_status()
        .pipeline_id(&id)
        .object_ids("Greet")
        .status("RESUME")
        .send()
        .await
        .expect("set_status RESUME");
    assert_ne!(component_status().await.as_deref(), Some("PAUSED"));

    // A refused SetStatus is an InvalidRequestException.
    let error = client
        .set_status()
        .pipeline_id(&id)
        .object_ids("NoSuchObject")
        .status("PAUSE")
        .send()
        .await
        .expect_err("set_status on an unknown object");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_invalid_request_exception()),
        "{error:?}"
    );

    let evaluated = client
        .evaluate_expression()
        .pipeline_id(&id)
        .object_id(&instance)
        .expression("#{myGreeting}-#{1 + 2}")
        .send()
        .await
        .expect("evaluate_expression");
    assert_eq!(evaluated.evaluated_expression(), "rust-3");

    // Activating again with another value (and a start timestamp, sent as epoch seconds with
    // a fraction) runs the ondemand pipeline once more under the changed definition.
    client
        .activate_pipeline()
        .pipeline_id(&id)
        .parameter_values(
            ParameterValue::builder()
                .id("myGreeting")
                .string_value("rust-again")
                .build()
                .unwrap(),
        )
        .start_timestamp(aws_sdk_datapipeline::primitives::DateTime::from(
            std::time::SystemTime::now(),
        ))
        .send()
        .await
        .expect("activate_pipeline again");
    wait_for_async("a second FINISHED instance", RUN_DEADLINE, || async {
        let finished = client
            .query_objects()
            .pipeline_id(&id)
            .sphere("INSTANCE")
            .query(status_is("FINISHED"))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let written = lines(&out_file);
        if finished.ids().len() == 2 && written.len() == 2 {
            Ok(())
        } else {
            Err(format!("{:?}, file {written:?}", finished.ids()))
        }
    })
    .await;
    assert_eq!(lines(&out_file), ["hello rust", "hello rust-again"]);

    client
        .add_tags()
        .pipeline_id(&id)
        .tags(Tag::builder().key("env").value("test").build().unwrap())
        .send()
        .await
        .expect("add_tags");
    client
        .remove_tags()
        .pipeline_id(&id)
        .tag_keys("team")
        .send()
        .await
        .expect("remove_tags");
    let described = client
        .describe_pipelines()
        .pipeline_ids(&id)
        .send()
        .await
        .expect("describe_pipelines");
    let description = &described.pipeline_description_list()[0];
    assert_eq!(description.name(), "rust-demo");
    assert_eq!(description.description(), Some("made by the Rust SDK"));
    assert_eq!(
        description.tags(),
        [Tag::builder().key("env").value("test").build().unwrap()]
    );

    client
        .deactivate_pipeline()
        .pipeline_id(&id)
        .send()
        .await
        .expect("deactivate_pipeline");
    client
        .delete_pipeline()
        .pipeline_id(&id)
        .send()
        .await
        .expect("delete_pipeline");
    let error = client
        .describe_pipelines()
        .pipeline_ids(&id)
        .send()
        .await
        .expect_err("describe_pipelines after delete");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_pipeline_deleted_exception()),
        "{error:?}"
    );
    let listed = client
        .list_pipelines()
        .send()
        .await
        .expect("list_pipelines");
    assert!(
        listed
            .pipeline_id_list()
            .iter()
            .all(|p| p.id() != Some(id.as_str())),
        "{listed:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Authentication failures as the clients report them
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_failures_reach_the_clients_as_aws_errors() {
    let server = Server::start();

    // The AWS CLI: no signature, an unknown key, a wrong secret.
    let anonymous = AwsCli::anonymous(&server);
    anonymous
        .run(&["list-pipelines", "--no-sign-request"])
        .fails_with(255, "MissingAuthenticationTokenException");
    let unknown = AwsCli::new(&server, "AKIANOBODYKNOWSTHIS0", ROOT_SECRET_KEY);
    unknown
        .run(&["list-pipelines"])
        .fails_with(255, "UnrecognizedClientException");
    let wrong_secret = AwsCli::new(&server, ROOT_ACCESS_KEY, "not-the-secret");
    let run = wrong_secret.run(&["list-pipelines"]);
    run.fails_with(255, "InvalidSignatureException");
    assert!(
        run.stderr
            .contains("The request signature we calculated does not match"),
        "{run}"
    );
    // The right keys work, signed for any region and with a session token (which the
    // signature covers; Sluice issues none, so it is not otherwise checked).
    assert_eq!(
        AwsCli::root(&server).json(&["list-pipelines"])["pipelineIdList"],
        json!([])
    );
    let mut elsewhere = AwsCli::root(&server);
    elsewhere.env = vec![
        ("AWS_DEFAULT_REGION".into(), "eu-west-1".into()),
        ("AWS_SESSION_TOKEN".into(), "a-session-token".into()),
    ];
    assert_eq!(
        elsewhere.json(&["list-pipelines"])["pipelineIdList"],
        json!([])
    );

    // The Rust SDK with a clock 20 minutes slow.
    let slow = aws_sdk_datapipeline::Client::from_conf(
        sdk_config(&server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY)
            .time_source(SlowClock {
                behind: Duration::from_secs(20 * 60),
            })
            .build(),
    );
    let error = slow
        .list_pipelines()
        .send()
        .await
        .expect_err("a request dated 20 minutes ago");
    assert_eq!(error.code(), Some("InvalidSignatureException"), "{error:?}");
    assert!(
        error
            .message()
            .unwrap_or_default()
            .contains("Signature expired"),
        "{error:?}"
    );

    // Hand-signed requests: a correct one works, an old one has expired, a tampered body
    // no longer matches its signature.
    let keys = (ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    let body = br#"{"name": "signed", "uniqueId": "signed-1"}"#;
    let now = std::time::SystemTime::now();
    let headers = signed_headers(server.addr, "CreatePipeline", body, keys, now);
    let ok = raw_post(server.addr, &headers, body);
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(ok.json()["pipelineId"].is_string(), "{ok:?}");

    let old = now - Duration::from_secs(20 * 60);
    let headers_old = signed_headers(server.addr, "CreatePipeline", body, keys, old);
    let expired = raw_post(server.addr, &headers_old, body);
    assert_eq!(expired.status, 400, "{expired:?}");
    assert_eq!(expired.json()["__type"], json!("InvalidSignatureException"));
    let message = expired.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.starts_with("Signature expired: "), "{message}");
    assert_eq!(
        expired.header("x-amzn-ErrorType"),
        Some("InvalidSignatureException"),
        "{expired:?}"
    );

    let mut tampered = body.to_vec();
    let at = tampered.iter().position(|&b| b == b'1').unwrap();
    tampered[at] = b'2';
    let forged = raw_post(server.addr, &headers, &tampered);
    assert_eq!(forged.status, 400, "{forged:?}");
    assert_eq!(
        forged.json()["__type"],
        json!("InvalidSignatureException"),
        "{forged:?}"
    );
    // A malformed Authorization header.
    let mut garbled = headers.clone();
    for (name, value) in &mut garbled {
        if name.eq_ignore_ascii_case("authorization") {
            *value = "AWS4-HMAC-SHA256 Credential=nonsense".into();
        }
    }
    let incomplete = raw_post(server.addr, &garbled, body);
    assert_eq!(incomplete.status, 400, "{incomplete:?}");
    assert_eq!(
        incomplete.json()["__type"],
        json!("IncompleteSignatureException"),
        "{incomplete:?}"
    );
    // Nothing was created by the refused requests.
    let listed = AwsCli::root(&server).json(&["list-pipelines"]);
    assert_eq!(
        listed["pipelineIdList"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Accounts
// ---------------------------------------------------------------------------------------------

const ACCOUNT_A: &str = "111122223333";
const KEY_A: (&str, &str) = (
    "AKIAACCOUNTAKEY00001",
    "secret-of-account-a/000000000000000000000",
);
const ACCOUNT_B: &str = "444455556666";
const KEY_B: (&str, &str) = (
    "AKIAACCOUNTBKEY00001",
    "secret-of-account-b/000000000000000000000",
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_do_not_see_each_others_pipelines_or_tasks() {
    let server = Server::start_with(ServerConfig {
        local_runner: false,
        root_env: false,
        credentials: Some(json!({"accounts": [
            {"accountId": ACCOUNT_A, "keys": [{"accessKeyId": KEY_A.0, "secretAccessKey": KEY_A.1}]},
            {"accountId": ACCOUNT_B, "keys": [{"accessKeyId": KEY_B.0, "secretAccessKey": KEY_B.1}]},
        ]})),
        ..ServerConfig::default()
    });
    let a = sdk_client(&server, KEY_A.0, KEY_A.1);
    let b = sdk_client(&server, KEY_B.0, KEY_B.1);

    // A's pipeline, activated, with a task waiting for a runner of worker group "shared".
    let id = a
        .create_pipeline()
        .name("mine")
        .unique_id("same-token")
        .send()
        .await
        .expect("create_pipeline")
        .pipeline_id()
        .to_owned();
    let (objects, parameter) = greet_objects("shared", "echo \"hello #{myGreeting}\"");
    let put = a
        .put_pipeline_definition()
        .pipeline_id(&id)
        .set_pipeline_objects(Some(objects))
        .parameter_objects(parameter)
        .send()
        .await
        .expect("put_pipeline_definition");
    assert!(!put.errored(), "{put:?}");
    a.activate_pipeline()
        .pipeline_id(&id)
        .send()
        .await
        .expect("activate_pipeline");
    let described = a
        .describe_pipelines()
        .pipeline_ids(&id)
        .send()
        .await
        .expect("describe_pipelines");
    let fields = described.pipeline_description_list()[0].fields();
    let owner = fields
        .iter()
        .find(|f| f.key() == "pipelineCreator")
        .and_then(|f| f.string_value());
    assert_eq!(owner, Some(ACCOUNT_A), "{described:?}");
    wait_for_async("A's attempt to wait for a runner", RUN_DEADLINE, || async {
        let waiting = a
            .query_objects()
            .pipeline_id(&id)
            .sphere("ATTEMPT")
            .query(status_is("WAITING_FOR_RUNNER"))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        if waiting.ids().len() == 1 {
            Ok(())
        } else {
            Err(format!("{waiting:?}"))
        }
    })
    .await;

    // B sees nothing of it.
    let error = b
        .describe_pipelines()
        .pipeline_ids(&id)
        .send()
        .await
        .expect_err("B describes A's pipeline");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_pipeline_not_found_exception()),
        "{error:?}"
    );
    let error = b
        .get_pipeline_definition()
        .pipeline_id(&id)
        .send()
        .await
        .expect_err("B reads A's definition");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_pipeline_not_found_exception()),
        "{error:?}"
    );
    let error = b
        .delete_pipeline()
        .pipeline_id(&id)
        .send()
        .await
        .expect_err("B deletes A's pipeline");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_pipeline_not_found_exception()),
        "{error:?}"
    );
    let listed = b.list_pipelines().send().await.expect("B lists");
    assert!(listed.pipeline_id_list().is_empty(), "{listed:?}");
    // Idempotency of CreatePipeline is per account: the same name and token give B its own.
    let theirs = b
        .create_pipeline()
        .name("mine")
        .unique_id("same-token")
        .send()
        .await
        .expect("B creates");
    assert_ne!(theirs.pipeline_id(), id);

    // B's runner of the same worker group gets no task of A's, however long it waits...
    let polled = tokio::time::timeout(
        Duration::from_secs(3),
        b.poll_for_task().worker_group("shared").send(),
    )
    .await;
    match polled {
        Err(_elapsed) => {}
        Ok(Ok(out)) => assert!(out.task_object().is_none(), "B got A's task: {out:?}"),
        Ok(Err(error)) => panic!("B's poll failed: {error:?}"),
    }
    // ...while A's runner gets it at once.
    let task = tokio::time::timeout(
        Duration::from_secs(10),
        a.poll_for_task()
            .worker_group("shared")
            .hostname("a-host")
            .send(),
    )
    .await
    .expect("A's poll answers at once")
    .expect("A polls");
    let task = task.task_object().expect("A's task").clone();
    assert_eq!(task.pipeline_id(), Some(id.as_str()));
    let task_id = task.task_id().expect("taskId").to_owned();

    // B cannot report on A's task.
    let error = b
        .report_task_progress()
        .task_id(&task_id)
        .send()
        .await
        .expect_err("B reports progress on A's task");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_task_not_found_exception()),
        "{error:?}"
    );
    let error = b
        .set_task_status()
        .task_id(&task_id)
        .task_status(aws_sdk_datapipeline::types::TaskStatus::Failed)
        .send()
        .await
        .expect_err("B sets the status of A's task");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_task_not_found_exception()),
        "{error:?}"
    );
    let heartbeat = a
        .report_task_runner_heartbeat()
        .taskrunner_id("a-runner")
        .worker_group("shared")
        .hostname("a-host")
        .send()
        .await
        .expect("A's runner heartbeats");
    assert!(!heartbeat.terminate());
    a.set_task_status()
        .task_id(&task_id)
        .task_status(aws_sdk_datapipeline::types::TaskStatus::Finished)
        .send()
        .await
        .expect("A finishes its task");
    wait_for_async("A's instance to finish", RUN_DEADLINE, || async {
        let finished = a
            .query_objects()
            .pipeline_id(&id)
            .sphere("INSTANCE")
            .query(status_is("FINISHED"))
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        if finished.ids().len() == 1 {
            Ok(())
        } else {
            Err(format!("{finished:?}"))
        }
    })
    .await;
    let listed = a.list_pipelines().send().await.expect("A lists");
    let mine: Vec<_> = listed
        .pipeline_id_list()
        .iter()
        .filter_map(|p| p.id())
        .collect();
    assert_eq!(mine, [id.as_str()]);
}

#[test]
fn aws_cli_acts_as_a_task_runner() {
    let server = Server::start_with(ServerConfig {
        local_runner: false,
        ..ServerConfig::default()
    });
    let aws = AwsCli::root(&server);
    let out_file = server.dir().join("runner-greetings.txt");
    let id = aws.json(&[
        "create-pipeline",
        "--name",
        "runner",
        "--unique-id",
        "runner-1",
    ])["pipelineId"]
        .as_str()
        .expect("pipelineId")
        .to_owned();
    let def_path = aws.scratch().join("def.json");
    fs::write(
        &def_path,
        serde_json::to_vec(&greet_definition(&out_file)).unwrap(),
    )
    .unwrap();
    let file_arg = format!("file://{}", def_path.display());
    let put = aws.json(&[
        "put-pipeline-definition",
        "--pipeline-id",
        &id,
        "--pipeline-definition",
        &file_arg,
    ]);
    assert_eq!(put["errored"], json!(false), "{put}");
    aws.json(&["activate-pipeline", "--pipeline-id", &id]);

    let heartbeat = aws.json(&[
        "report-task-runner-heartbeat",
        "--taskrunner-id",
        "cli-runner",
        "--worker-group",
        "wg-clients",
        "--hostname",
        "cli-host",
    ]);
    assert_eq!(heartbeat, json!({"terminate": false}));

    let polled = aws.json(&[
        "poll-for-task",
        "--worker-group",
        "wg-clients",
        "--hostname",
        "cli-host",
    ]);
    let task = &polled["taskObject"];
    assert_eq!(task["pipelineId"], json!(id), "{polled}");
    let task_id = task["taskId"].as_str().expect("taskId").to_owned();
    let attempt_id = task["attemptId"].as_str().expect("attemptId").to_owned();
    let attempt = &task["objects"][&attempt_id];
    assert_eq!(
        field(attempt, "type").as_deref(),
        Some("ShellCommandActivity")
    );
    let command = field(attempt, "command").expect("command");
    assert!(command.starts_with("echo \"hello files\""), "{command}");

    let progress = aws.json(&["report-task-progress", "--task-id", &task_id]);
    assert_eq!(progress, json!({"canceled": false}));
    aws.json(&[
        "set-task-status",
        "--task-id",
        &task_id,
        "--task-status",
        "FINISHED",
    ]);
    let late = aws.run(&[
        "set-task-status",
        "--task-id",
        &task_id,
        "--task-status",
        "FAILED",
    ]);
    late.fails_with(255, "TaskNotFoundException");

    let finished = aws.json(&[
        "query-objects",
        "--pipeline-id",
        &id,
        "--sphere",
        "INSTANCE",
        "--objects-query",
        r#"{"selectors": [{"fieldName": "@status", "operator": {"type": "EQ", "values": ["FINISHED"]}}]}"#,
    ]);
    assert_eq!(
        finished["ids"].as_array().map(Vec::len),
        Some(1),
        "{finished}"
    );
}
