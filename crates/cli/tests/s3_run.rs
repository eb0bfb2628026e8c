//! `sluice run` against a real S3 server (s3s-fs on loopback), configured the way users do it:
//! the AWS environment variables.

mod common;

use std::fs;

use common::{Sandbox, ondemand_default};
use serde_json::json;
use sluice_testsupport::files::read;
use sluice_testsupport::s3::S3Server;

/// `sluice run` with the server's endpoint and credentials in the environment.
fn run_against(sb: &Sandbox, server: &S3Server, def: &std::path::Path) -> common::RunOutput {
    let mut command = sb.command(def);
    command.arg("--data-dir").arg(sb.data_dir());
    command.args(["--output", "json"]);
    for var in [
        "AWS_ENDPOINT_URL_S3",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "SLUICE_S3_PATH_STYLE",
    ] {
        command.env_remove(var);
    }
    command.envs(server.env());
    sb.run_command(command)
}

fn put(server: &S3Server, bucket: &str, key: &str, text: &str) {
    let file = server.object_file(bucket, key);
    fs::create_dir_all(file.parent().expect("parent")).expect("object dir");
    fs::write(file, text).expect("object");
}

#[test]
fn a_pipeline_reads_stages_and_writes_s3_through_the_environment() {
    let server = S3Server::start();
    for bucket in ["raw-data", "curated", "code", "run-logs"] {
        server.create_bucket(bucket);
    }
    put(&server, "raw-data", "day/part-0.csv", "1,a\n2,b\n");
    put(&server, "raw-data", "day/part-1.csv", "3,c\n");
    put(&server, "raw-data", "day/_SUCCESS", "");
    put(
        &server,
        "code",
        "count.sh",
        "cat \"$INPUT1_STAGING_DIR\"/part-* | wc -l | tr -d ' ' > \"$OUTPUT1_STAGING_DIR/count\"\n\
         echo \"counted for $1\"\n",
    );

    let sb = Sandbox::new();
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({ "maximumRetries": "0" })),
            { "id": "DayDone", "type": "S3KeyExists", "role": "r", "s3Key": "s3://raw-data/day/_SUCCESS" },
            { "id": "HasParts", "type": "S3PrefixNotEmpty", "role": "r", "s3Prefix": "s3://raw-data/day/part-" },
            { "id": "InputThere", "type": "Exists" },
            {
                "id": "Raw",
                "type": "S3DataNode",
                "directoryPath": "s3://raw-data/day",
                "precondition": [{ "ref": "InputThere" }, { "ref": "HasParts" }]
            },
            { "id": "Counts", "type": "S3DataNode", "directoryPath": "s3://curated/counts/day" },
            {
                "id": "Count",
                "type": "ShellCommandActivity",
                "scriptUri": "s3://code/count.sh",
                "scriptArgument": "day",
                "stage": "true",
                "input": { "ref": "Raw" },
                "output": { "ref": "Counts" },
                "precondition": { "ref": "DayDone" },
                "stdout": "s3://run-logs/count/stdout.txt"
            },
        ]),
    );
    let out = run_against(&sb, &server, &def);
    out.assert_code(0);
    assert_eq!(
        read(&server.object_file("curated", "counts/day/count")),
        "3\n"
    );
    assert_eq!(
        read(&server.object_file("run-logs", "count/stdout.txt")),
        "counted for day\n"
    );
    let report = out.report();
    for id in ["DayDone", "HasParts", "InputThere", "Raw", "Count"] {
        assert_eq!(report.one(id).status, "FINISHED", "{id}");
    }
    assert!(
        !sb.data_dir().join("s3").exists(),
        "nothing went to the embedded store"
    );
}

#[test]
fn a_wrong_secret_fails_the_check_with_the_uri_and_without_the_secret() {
    let server = S3Server::start();
    server.create_bucket("guarded");
    put(&server, "guarded", "ready", "");
    let sb = Sandbox::new();
    let marker = sb.sh("marker");
    let def = sb.write_definition(
        "p.json",
        json!([
            ondemand_default(json!({ "maximumRetries": "0" })),
            { "id": "Ready", "type": "S3KeyExists", "role": "r", "s3Key": "s3://guarded/ready", "maximumRetries": "0" },
            {
                "id": "Work",
                "type": "ShellCommandActivity",
                "command": format!("echo ran > {marker}"),
                "precondition": { "ref": "Ready" }
            },
        ]),
    );
    let mut command = sb.command(&def);
    command.arg("--data-dir").arg(sb.data_dir());
    command.envs(server.env());
    command.env("AWS_SECRET_ACCESS_KEY", "definitely-wrong-9x");
    let out = sb.run_command(command);
    out.assert_code(1);
    let text = format!("{}\n{}", out.stdout, out.stderr);
    assert!(
        text.contains("access to s3://guarded/ready was refused"),
        "{text}"
    );
    assert!(!text.contains("definitely-wrong-9x"), "{text}");
    assert!(!sb.path("marker").exists());
}
