//! `sluice import` against real services: moto's AWS Data Pipeline mock as the source (as AWS
//! would be), real `sluice server`s as the destination, and a second `sluice server` as a
//! source where moto falls short.
//!
//! What moto 5.2's Data Pipeline mock does not implement, and so what these tests take from a
//! Sluice source instead: it drops `parameterObjects` and `parameterValues` on
//! PutPipelineDefinition and answers GetPipelineDefinition with objects only; it ignores
//! `version`, so `active` answers the latest definition; it has no AddTags (tags given to
//! CreatePipeline are kept and described); it answers DescribePipelines for an unknown id with
//! an empty list and GetPipelineDefinition for one with an HTML 500; it checks no signatures.

#[path = "clients/harness.rs"]
mod harness;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use aws_sdk_datapipeline::Client;
use aws_sdk_datapipeline::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_datapipeline::operation::get_pipeline_definition::GetPipelineDefinitionOutput;
use aws_sdk_datapipeline::types::{
    Field, ParameterAttribute, ParameterObject, ParameterValue, PipelineDescription,
    PipelineObject, Tag,
};
use harness::{
    ROOT_ACCESS_KEY, ROOT_SECRET_KEY, Run, Server, doc_shell_block, run_isolated, run_shell,
    sdk_client, sdk_object,
};
use serde_json::Value;
use sluice_testsupport::sns::Moto;

/// The keys moto is given (it checks none).
const MOTO_KEY: &str = "AKIAMOTOSOURCE000001";
const MOTO_SECRET: &str = "moto-secret";

fn sluice() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_sluice"))
}

/// `sluice import --from-endpoint FROM ARGS…` with `env` (see [`keys`]).
fn import(dir: &Path, from: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["import", "--from-endpoint", from];
    all.extend_from_slice(args);
    run_isolated(sluice(), &all, env, dir)
}

fn keys<'a>(
    source: (&'a str, &'a str),
    destination: (&'a str, &'a str),
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", source.0),
        ("AWS_SECRET_ACCESS_KEY", source.1),
        ("SLUICE_ACCESS_KEY_ID", destination.0),
        ("SLUICE_SECRET_ACCESS_KEY", destination.1),
    ]
}

fn moto_client(moto: &Moto) -> Client {
    let config = aws_sdk_datapipeline::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.endpoint())
        .credentials_provider(Credentials::new(MOTO_KEY, MOTO_SECRET, None, None, "tests"))
        .build();
    Client::from_conf(config)
}

/// An API-form object; a value `ref:X` is a reference to X.
fn object(id: &str, fields: &[(&str, &str)]) -> PipelineObject {
    let fields = fields
        .iter()
        .map(|(key, value)| {
            let field = Field::builder().key(*key);
            match value.strip_prefix("ref:") {
                Some(target) => field.ref_value(target),
                None => field.string_value(*value),
            }
            .build()
            .unwrap()
        })
        .collect();
    sdk_object(id, fields)
}

fn parameter(id: &str, attributes: &[(&str, &str)]) -> ParameterObject {
    let attributes = attributes
        .iter()
        .map(|(key, value)| {
            ParameterAttribute::builder()
                .key(*key)
                .string_value(*value)
                .build()
                .unwrap()
        })
        .collect();
    ParameterObject::builder()
        .id(id)
        .set_attributes(Some(attributes))
        .build()
        .unwrap()
}

fn value(id: &str, value: &str) -> ParameterValue {
    ParameterValue::builder()
        .id(id)
        .string_value(value)
        .build()
        .unwrap()
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

async fn create(client: &Client, name: &str, unique_id: &str, tags: Vec<Tag>) -> String {
    client
        .create_pipeline()
        .name(name)
        .unique_id(unique_id)
        .set_tags(Some(tags))
        .send()
        .await
        .unwrap()
        .pipeline_id
}

async fn put(client: &Client, id: &str, objects: Vec<PipelineObject>) {
    client
        .put_pipeline_definition()
        .pipeline_id(id)
        .set_pipeline_objects(Some(objects))
        .send()
        .await
        .unwrap();
}

async fn describe(client: &Client, id: &str) -> PipelineDescription {
    client
        .describe_pipelines()
        .pipeline_ids(id)
        .send()
        .await
        .unwrap()
        .pipeline_description_list
        .remove(0)
}

async fn definition(client: &Client, id: &str, version: &str) -> GetPipelineDefinitionOutput {
    client
        .get_pipeline_definition()
        .pipeline_id(id)
        .version(version)
        .send()
        .await
        .unwrap()
}

/// A definition without the response's request id.
fn parts(
    output: &GetPipelineDefinitionOutput,
) -> (&[PipelineObject], &[ParameterObject], &[ParameterValue]) {
    (
        output.pipeline_objects(),
        output.parameter_objects(),
        output.parameter_values(),
    )
}

fn field<'a>(description: &'a PipelineDescription, key: &str) -> Option<&'a str> {
    description
        .fields()
        .iter()
        .find(|f| f.key() == key)
        .and_then(|f| f.string_value())
}

fn tag_set(tags: &[Tag]) -> BTreeSet<(String, String)> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

async fn pipeline_ids(client: &Client) -> Vec<String> {
    let mut ids: Vec<String> = client
        .list_pipelines()
        .send()
        .await
        .unwrap()
        .pipeline_id_list
        .into_iter()
        .filter_map(|p| p.id)
        .collect();
    ids.sort();
    ids
}

/// The report entry of the pipeline named `name`.
fn entry<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report:#}"))
}

/// `(object id, code)` of every finding of a report entry.
fn findings(entry: &Value) -> BTreeSet<(String, String)> {
    entry["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(id: &str, code: &str) -> (String, String) {
    (id.to_owned(), code.to_owned())
}

/// Three pipelines on moto as a user of AWS would have them: one with tags and a command that
/// needs `sudo`, one activated with an EC2 resource and an AWS CLI call, one for an on-premises
/// worker group. Returns their ids by name.
async fn seed_moto(moto: &Client) -> Vec<(String, String)> {
    let etl = create(
        moto,
        "nightly-etl",
        "etl-2026",
        vec![tag("env", "prod"), tag("team", "data")],
    )
    .await;
    put(
        moto,
        &etl,
        vec![
            object(
                "Default",
                &[
                    ("failureAndRerunMode", "CASCADE"),
                    ("scheduleType", "ondemand"),
                    ("workerGroup", "wg-etl"),
                ],
            ),
            object(
                "InstallTools",
                &[
                    ("command", "sudo yum install -y jq && jq --version"),
                    ("type", "ShellCommandActivity"),
                ],
            ),
            object(
                "Load",
                &[
                    ("command", "echo loading"),
                    ("dependsOn", "ref:InstallTools"),
                    ("type", "ShellCommandActivity"),
                ],
            ),
        ],
    )
    .await;

    let report = create(
        moto,
        "hourly-report",
        "report-1",
        vec![tag("owner", "analytics")],
    )
    .await;
    put(
        moto,
        &report,
        vec![
            object(
                "Default",
                &[
                    ("role", "DataPipelineDefaultRole"),
                    ("resourceRole", "DataPipelineDefaultResourceRole"),
                    ("schedule", "ref:Hourly"),
                    ("scheduleType", "cron"),
                ],
            ),
            object(
                "Hourly",
                &[
                    ("period", "1 hours"),
                    ("startDateTime", "2026-01-01T00:00:00"),
                    ("type", "Schedule"),
                ],
            ),
            object(
                "Box",
                &[
                    ("imageId", "ami-0123456789"),
                    ("instanceType", "t2.micro"),
                    ("terminateAfter", "1 hour"),
                    ("type", "Ec2Resource"),
                ],
            ),
            object(
                "Publish",
                &[
                    ("command", "aws s3 cp /tmp/report.csv s3://reports/"),
                    ("runsOn", "ref:Box"),
                    ("type", "ShellCommandActivity"),
                ],
            ),
        ],
    )
    .await;
    moto.activate_pipeline()
        .pipeline_id(&report)
        .send()
        .await
        .unwrap();

    let cleanup = create(moto, "cleanup", "cleanup-1", Vec::new()).await;
    put(
        moto,
        &cleanup,
        vec![
            object("Default", &[("scheduleType", "ondemand")]),
            object(
                "Sweep",
                &[
                    ("command", "find /data/tmp -mtime +7 -delete"),
                    ("type", "ShellCommandActivity"),
                    ("workerGroup", "wg-onprem"),
                ],
            ),
        ],
    )
    .await;
    vec![
        ("nightly-etl".into(), etl),
        ("hourly-report".into(), report),
        ("cleanup".into(), cleanup),
    ]
}

/// What moto holds for a pipeline: its description and its definition.
async fn moto_state(moto: &Client, id: &str) -> (PipelineDescription, Vec<PipelineObject>) {
    (
        describe(moto, id).await,
        definition(moto, id, "latest")
            .await
            .pipeline_objects
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn pipelines_move_from_moto_to_a_sluice_server_once() {
    let moto_server = Moto::start().expect("moto starts");
    let moto = moto_client(&moto_server);
    let seeded = seed_moto(&moto).await;
    let mut before = Vec::new();
    for (_, id) in &seeded {
        before.push(moto_state(&moto, id).await);
    }
    let server = Server::start();
    let sluice_client = sdk_client(&server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    let dir = tempfile::tempdir().unwrap();
    let env = keys((MOTO_KEY, MOTO_SECRET), (ROOT_ACCESS_KEY, ROOT_SECRET_KEY));
    let from = moto_server.endpoint();

    // Without a destination it only reports.
    let checked = import(dir.path(), &from, &["--all"], &env);
    assert_eq!(checked.code, 0, "{checked}");
    assert!(
        checked
            .stdout
            .contains("InstallTools: HOST_SUDO: command runs sudo"),
        "{checked}"
    );
    assert!(
        checked.stdout.contains("3 pipelines: 3 checked"),
        "{checked}"
    );
    assert!(pipeline_ids(&sluice_client).await.is_empty());

    let run = import(
        dir.path(),
        &from,
        &["--all", "--to", &server.endpoint, "--output", "json"],
        &env,
    );
    let report = run.json();
    assert_eq!(report["pipelines"].as_array().unwrap().len(), 3, "{run}");

    // The report names what will not run as on AWS, object by object.
    let etl = entry(&report, "nightly-etl");
    assert_eq!(
        findings(etl),
        BTreeSet::from([
            pair("InstallTools", "HOST_SUDO"),
            pair("InstallTools", "HOST_PACKAGE_INSTALL"),
            pair("Default", "WORKER_GROUP"),
        ])
    );
    let hourly = entry(&report, "hourly-report");
    assert_eq!(hourly["sourceState"], "SCHEDULED");
    assert_eq!(
        findings(hourly),
        BTreeSet::from([
            pair("PipelineDefinition", "ACTIVE_AT_SOURCE"),
            pair("Box", "RESOURCE_RUNS_LOCALLY"),
            pair("Publish", "HOST_AWS_CLI"),
        ])
    );
    assert_eq!(
        findings(entry(&report, "cleanup")),
        BTreeSet::from([pair("Sweep", "WORKER_GROUP")])
    );

    // Each pipeline is on Sluice with its name, uniqueId, tags and definition, not activated.
    let mut created = Vec::new();
    for ((name, source_id), (source, objects)) in seeded.iter().zip(&before) {
        let entry = entry(&report, name);
        assert_eq!(entry["result"], "created", "{entry:#}");
        assert_eq!(entry["sourceId"], source_id.as_str());
        assert_eq!(entry["validation"]["errored"], false, "{entry:#}");
        let target_id = entry["targetId"].as_str().unwrap().to_owned();
        let imported = describe(&sluice_client, &target_id).await;
        assert_eq!(imported.name(), name);
        assert_eq!(field(&imported, "uniqueId"), field(source, "uniqueId"));
        assert_eq!(tag_set(imported.tags()), tag_set(source.tags()));
        assert_eq!(field(&imported, "@pipelineState"), Some("PENDING"));
        let latest = definition(&sluice_client, &target_id, "latest").await;
        assert_eq!(latest.pipeline_objects(), objects.as_slice());
        assert!(latest.parameter_objects().is_empty());
        assert!(latest.parameter_values().is_empty());
        let active = definition(&sluice_client, &target_id, "active").await;
        assert!(
            active.pipeline_objects().is_empty(),
            "nothing was activated"
        );
        created.push(target_id);
    }
    created.sort();
    assert_eq!(pipeline_ids(&sluice_client).await, created);

    // Nothing changed at the source.
    for ((_, id), state) in seeded.iter().zip(&before) {
        assert_eq!(&moto_state(&moto, id).await, state);
    }

    // Again, signing for Sluice with a profile this time: no duplicates, nothing to change.
    let credentials = dir.path().join("credentials");
    fs::write(
        &credentials,
        format!(
            "[sluice]\naws_access_key_id = {ROOT_ACCESS_KEY}\naws_secret_access_key = {ROOT_SECRET_KEY}\n"
        ),
    )
    .unwrap();
    let credentials = credentials.to_str().unwrap();
    let mut profile_env = vec![
        ("AWS_ACCESS_KEY_ID", MOTO_KEY),
        ("AWS_SECRET_ACCESS_KEY", MOTO_SECRET),
    ];
    profile_env.push(("AWS_SHARED_CREDENTIALS_FILE", credentials));
    let again = import(
        dir.path(),
        &from,
        &[
            "--all",
            "--to",
            &server.endpoint,
            "--to-profile",
            "sluice",
            "--output",
            "json",
        ],
        &profile_env,
    )
    .json();
    for (name, _) in &seeded {
        assert_eq!(entry(&again, name)["result"], "unchanged", "{again:#}");
        assert_eq!(
            entry(&again, name)["targetId"],
            entry(&report, name)["targetId"]
        );
    }
    assert_eq!(pipeline_ids(&sluice_client).await, created);

    // Into files instead: definitions `sluice validate` accepts, and an index of the rest.
    let out = dir.path().join("out");
    let written = import(
        dir.path(),
        &from,
        &["--all", "--out", out.to_str().unwrap()],
        &env,
    );
    assert_eq!(written.code, 0, "{written}");
    for (_, id) in &seeded {
        let file = out.join(format!("{id}.json"));
        let validated = run_isolated(
            sluice(),
            &["validate", file.to_str().unwrap()],
            &[],
            dir.path(),
        );
        assert_eq!(validated.code, 0, "{validated}");
    }
    let index: Value =
        serde_json::from_str(&fs::read_to_string(out.join("pipelines.json")).unwrap()).unwrap();
    let listed = &index["pipelines"].as_array().unwrap();
    let etl_entry = listed.iter().find(|p| p["name"] == "nightly-etl").unwrap();
    assert_eq!(etl_entry["uniqueId"], "etl-2026");
    assert_eq!(
        etl_entry["tags"],
        serde_json::json!([{"key": "env", "value": "prod"}, {"key": "team", "value": "data"}])
    );
}

/// A Sluice server as the source carries what moto drops: parameters, values (a secret among
/// them) and an activated definition that differs from the latest.
#[tokio::test(flavor = "multi_thread")]
async fn parameters_values_and_the_active_definition_move_between_sluice_servers() {
    let source_server = Server::start();
    let source = sdk_client(&source_server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    let id = create(&source, "greetings", "greet-1", vec![tag("env", "test")]).await;
    let parameters = vec![
        parameter("myGreeting", &[("type", "String"), ("default", "hello")]),
        parameter("*myToken", &[("type", "String")]),
    ];
    let values = vec![value("myGreeting", "hi"), value("*myToken", "s3cr3t-token")];
    let put_version = |command: &'static str| {
        source
            .put_pipeline_definition()
            .pipeline_id(&id)
            .set_pipeline_objects(Some(vec![
                object(
                    "Default",
                    &[("scheduleType", "ondemand"), ("workerGroup", "local")],
                ),
                object(
                    "Greet",
                    &[("command", command), ("type", "ShellCommandActivity")],
                ),
            ]))
            .set_parameter_objects(Some(parameters.clone()))
            .set_parameter_values(Some(values.clone()))
            .send()
    };
    let first = put_version("echo #{myGreeting} #{*myToken} >/dev/null").await;
    assert!(!first.unwrap().errored);
    source
        .activate_pipeline()
        .pipeline_id(&id)
        .send()
        .await
        .unwrap();
    let second = put_version("echo #{myGreeting} again >/dev/null").await;
    assert!(!second.unwrap().errored);
    let source_latest = definition(&source, &id, "latest").await;
    let source_active = definition(&source, &id, "active").await;

    let destination_server = Server::start();
    let destination = sdk_client(&destination_server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    let dir = tempfile::tempdir().unwrap();
    let env = keys(
        (ROOT_ACCESS_KEY, ROOT_SECRET_KEY),
        (ROOT_ACCESS_KEY, ROOT_SECRET_KEY),
    );
    let run = import(
        dir.path(),
        &source_server.endpoint,
        &[
            "--pipeline-id",
            &id,
            "--to",
            &destination_server.endpoint,
            "--output",
            "json",
        ],
        &env,
    );
    let report = run.json();
    let greetings = entry(&report, "greetings");
    assert_eq!(greetings["result"], "created", "{run}");
    assert!(
        findings(greetings).contains(&pair("PipelineDefinition", "ACTIVE_DEFINITION_DIFFERS")),
        "{greetings:#}"
    );
    let differs = greetings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "ACTIVE_DEFINITION_DIFFERS")
        .unwrap();
    assert!(
        differs["message"]
            .as_str()
            .unwrap()
            .contains("object Greet"),
        "{differs}"
    );
    assert!(
        !run.stdout.contains("s3cr3t-token") && !run.stderr.contains("s3cr3t-token"),
        "{run}"
    );

    let target = greetings["targetId"].as_str().unwrap();
    let imported = definition(&destination, target, "latest").await;
    assert_eq!(parts(&imported), parts(&source_latest));
    assert_eq!(imported.parameter_values().len(), 2);
    let described = describe(&destination, target).await;
    assert_eq!(field(&described, "@pipelineState"), Some("PENDING"));
    assert_eq!(
        tag_set(described.tags()),
        BTreeSet::from([("env".to_owned(), "test".to_owned())])
    );
    assert!(
        definition(&destination, target, "active")
            .await
            .pipeline_objects()
            .is_empty()
    );
    // The source's definitions are as they were.
    assert_eq!(
        parts(&definition(&source, &id, "latest").await),
        parts(&source_latest)
    );
    assert_eq!(
        parts(&definition(&source, &id, "active").await),
        parts(&source_active)
    );

    // Files: the latest, its values alone, and the activated definition; owner-only.
    let out = dir.path().join("out");
    let written = import(
        dir.path(),
        &source_server.endpoint,
        &["--pipeline-id", &id, "--out", out.to_str().unwrap()],
        &env,
    );
    assert_eq!(written.code, 0, "{written}");
    let latest_file: Value =
        serde_json::from_str(&fs::read_to_string(out.join(format!("{id}.json"))).unwrap()).unwrap();
    assert_eq!(latest_file["values"]["myGreeting"], "hi");
    assert_eq!(latest_file["parameters"][0]["default"], "hello");
    let values_file: Value =
        serde_json::from_str(&fs::read_to_string(out.join(format!("{id}.values.json"))).unwrap())
            .unwrap();
    assert_eq!(values_file["values"]["*myToken"], "s3cr3t-token");
    let active_file = fs::read_to_string(out.join(format!("{id}.active.json"))).unwrap();
    assert!(
        active_file.contains("#{*myToken} >/dev/null"),
        "{active_file}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(out.join(format!("{id}.values.json")))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let validated = run_isolated(
        sluice(),
        &["validate", out.join(format!("{id}.json")).to_str().unwrap()],
        &[],
        dir.path(),
    );
    assert_eq!(validated.code, 0, "{validated}");
}

/// Failures at the source or at the destination's door stop the import before anything is
/// written, naming what is wrong.
#[tokio::test(flavor = "multi_thread")]
async fn bad_credentials_and_unknown_pipelines_stop_the_import_with_nothing_written() {
    let source_server = Server::start();
    let source = sdk_client(&source_server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    let id = create(&source, "one", "one-1", Vec::new()).await;
    put(
        &source,
        &id,
        vec![
            object(
                "Default",
                &[("scheduleType", "ondemand"), ("workerGroup", "local")],
            ),
            object(
                "Say",
                &[("command", "echo hi"), ("type", "ShellCommandActivity")],
            ),
        ],
    )
    .await;
    let destination_server = Server::start();
    let destination = sdk_client(&destination_server, ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    let dir = tempfile::tempdir().unwrap();
    let good = (ROOT_ACCESS_KEY, ROOT_SECRET_KEY);
    let to = ["--to", destination_server.endpoint.as_str()];
    let from = source_server.endpoint.as_str();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = args.to_vec();
        all.extend_from_slice(&to);
        import(dir.path(), from, &all, env)
    };

    let unknown = run(
        &["--pipeline-id", "df-NOSUCHPIPELINE0001"],
        &keys(good, good),
    );
    unknown.fails_with(2, "PipelineNotFoundException");
    assert!(
        unknown.stderr.contains("df-NOSUCHPIPELINE0001"),
        "{unknown}"
    );
    assert!(
        unknown.stderr.contains(&format!("source {from}")),
        "{unknown}"
    );

    let wrong_secret = run(&["--all"], &keys((ROOT_ACCESS_KEY, "not-the-secret"), good));
    wrong_secret.fails_with(2, "InvalidSignatureException");
    assert!(
        wrong_secret.stderr.contains("ListPipelines"),
        "{wrong_secret}"
    );

    let wrong_destination = run(&["--all"], &keys(good, ("AKIAUNKNOWNKEY000001", "x")));
    wrong_destination.fails_with(2, "UnrecognizedClientException");
    assert!(
        wrong_destination
            .stderr
            .contains(&format!("destination {}", destination_server.endpoint)),
        "{wrong_destination}"
    );

    let no_destination_keys = run(
        &["--all"],
        &[
            ("AWS_ACCESS_KEY_ID", ROOT_ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", ROOT_SECRET_KEY),
        ],
    );
    no_destination_keys.fails_with(2, "SLUICE_ACCESS_KEY_ID");

    let no_source_keys = run(
        &["--all"],
        &[
            ("SLUICE_ACCESS_KEY_ID", ROOT_ACCESS_KEY),
            ("SLUICE_SECRET_ACCESS_KEY", ROOT_SECRET_KEY),
        ],
    );
    no_source_keys.fails_with(2, "no AWS credentials");

    let bad_endpoint = import(dir.path(), "localhost:8080", &["--all"], &keys(good, good));
    bad_endpoint.fails_with(2, "neither an AWS region");

    // moto answers an unknown id with no description at all.
    let moto_server = Moto::start().expect("moto starts");
    let moto_unknown = import(
        dir.path(),
        &moto_server.endpoint(),
        &["--pipeline-id", "df-0000000000000000000"],
        &keys((MOTO_KEY, MOTO_SECRET), good),
    );
    moto_unknown.fails_with(2, "no such pipeline: df-0000000000000000000");

    assert!(pipeline_ids(&destination).await.is_empty());
    assert_eq!(pipeline_ids(&source).await, vec![id]);
}

/// docs/migrating.md's walk from AWS to Sluice by hand, its shell block run as written against
/// moto standing in for AWS: the definition fetched with the real AWS CLI runs on Sluice.
#[tokio::test(flavor = "multi_thread")]
async fn the_migration_guides_walkthrough_works_as_written() {
    let block = doc_shell_block("docs/migrating.md", "## From AWS to Sluice, by hand");

    let moto_server = Moto::start().expect("moto starts");
    let moto = moto_client(&moto_server);
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("migrated.txt");
    let id = create(&moto, "nightly-report", "nightly-report-1", Vec::new()).await;
    put(
        &moto,
        &id,
        vec![
            object(
                "Default",
                &[
                    ("scheduleType", "ondemand"),
                    ("failureAndRerunMode", "CASCADE"),
                    ("workerGroup", "reports"),
                ],
            ),
            object(
                "Report",
                &[
                    ("type", "ShellCommandActivity"),
                    (
                        "command",
                        &format!("echo ran on sluice >> '{}'", marker.display()),
                    ),
                ],
            ),
        ],
    )
    .await;

    let sluice_dir = sluice().parent().unwrap().display().to_string();
    let script = format!(
        "export PIPELINE_ID={id} AWS_ENDPOINT_URL={endpoint} AWS_DEFAULT_REGION=us-east-1 \
         AWS_ACCESS_KEY_ID={MOTO_KEY} AWS_SECRET_ACCESS_KEY={MOTO_SECRET} \
         PATH={sluice_dir}:$PATH\n{block}",
        endpoint = moto_server.endpoint(),
    );
    let run = run_shell(&script, dir.path());
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("pipeline.json: valid"), "{run:?}");
    let fetched: Value =
        serde_json::from_slice(&fs::read(dir.path().join("pipeline.json")).unwrap()).unwrap();
    assert!(fetched["objects"].is_array(), "{fetched}");
    assert_eq!(fs::read_to_string(&marker).unwrap(), "ran on sluice\n");
    assert!(dir.path().join("sluice-data/sluice.db").is_file());
}
