#!/usr/bin/env python3
"""Writes the seed corpus of the `request` fuzz target (fuzz/seeds/request/): every one of the
19 operations as the AWS CLI v1 sends it, captured from the CLI itself.

Run it with the Python that has `awscli` installed (the project's venv:
`$SLUICE_VENV/bin/python fuzz/seeds/capture_request_seeds.py`). The CLI runs in this process
against a local server that records each request and answers it with an error, with its clock
set to the fuzz target's fixed time, so the CLI's own signatures verify in the target.

Each request is written four times, one per control byte (see fuzz_targets/request.rs): signed
again by the target in the Authorization header, with x-amz-content-sha256, presigned in the
query, and as the CLI signed it. One more is presigned here by botocore, as written.
"""

import datetime
import http.server
import json
import os
import sys
import tempfile
import threading

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# The fuzz target's key and clock (KEY_ID, SECRET, NOW_SECS in fuzz_targets/request.rs).
KEY_ID = "AKIAFUZZTARGET000001"
SECRET = "fuzz/target/secret/never/in/any/answer0"
NOW = datetime.datetime(2026, 11, 26, 4, 30, 48)

# Control bytes: low bits 31 keep the captured X-Amz-Target; bits 5-6 and 7 pick the signing.
MODES = {"sdk-header": 0x1F, "sdk-header-sha256": 0x9F, "sdk-query": 0x3F, "as-sent": 0x5F}

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "request")

DEFINITION = {
    "objects": [
        {"id": "Default", "name": "Default", "scheduleType": "ondemand",
         "workerGroup": "wg-etl", "pipelineLogUri": "s3://logs/#{myName}/"},
        {"id": "Db", "name": "Db", "type": "JdbcDatabase",
         "connectionString": "jdbc:postgresql://db:5432/sales",
         "username": "etl", "*password": "#{*myPassword}"},
        {"id": "Load", "name": "Load", "type": "ShellCommandActivity",
         "command": "echo #{format(@scheduledStartTime, 'YYYY-MM-dd')}",
         "database": {"ref": "Db"}, "maximumRetries": "2"},
    ],
    "parameters": [
        {"id": "*myPassword", "type": "String", "description": "Database password"},
        {"id": "myName", "type": "String", "default": "nightly", "allowedValues": ["nightly", "hourly"]},
    ],
    "values": {"myName": "nightly"},
}

# ValidatePipelineDefinition has no definition-file option in the CLI: the API form.
API_OBJECTS = [
    {"id": "Default", "name": "Default",
     "fields": [{"key": "scheduleType", "stringValue": "ondemand"},
                {"key": "workerGroup", "stringValue": "wg-etl"}]},
    {"id": "Load", "name": "Load",
     "fields": [{"key": "type", "stringValue": "ShellCommandActivity"},
                {"key": "command", "stringValue": "echo #{myName}"},
                {"key": "*token", "stringValue": "#{*myPassword}"},
                {"key": "runsOn", "refValue": "Default"}]},
]
API_PARAMETERS = [{"id": "*myPassword", "attributes": [{"key": "type", "stringValue": "String"}]}]
API_VALUES = [{"id": "*myPassword", "stringValue": "hunter2"}]

QUERY = {"selectors": [{"fieldName": "@status", "operator": {"type": "EQ", "values": ["FINISHED", "FAILED"]}}]}


def commands(scratch):
    definition = os.path.join(scratch, "definition.json")
    with open(definition, "w") as f:
        json.dump(DEFINITION, f)
    pid = "df-0123456789ABCDEFGHIJ"
    task = "TaskId_9f2b1c7e-4a1d-4c5b-9a0e-0123456789ab_@Load_2026-11-26T04:30:48_Attempt=1"
    return {
        "ActivatePipeline": ["activate-pipeline", "--pipeline-id", pid, "--start-timestamp",
                             "2026-11-26T04:00:00", "--parameter-values", "myName=hourly"],
        "AddTags": ["add-tags", "--pipeline-id", pid, "--tags", "key=team,value=data",
                    "key=env,value=prod"],
        "CreatePipeline": ["create-pipeline", "--name", "nightly-etl", "--unique-id",
                           "nightly-etl-2026", "--description", "Nightly load",
                           "--tags", "key=team,value=data"],
        "DeactivatePipeline": ["deactivate-pipeline", "--pipeline-id", pid, "--cancel-active"],
        "DeletePipeline": ["delete-pipeline", "--pipeline-id", pid],
        "DescribeObjects": ["describe-objects", "--pipeline-id", pid, "--object-ids", "Default",
                            "Load", "--evaluate-expressions"],
        "DescribePipelines": ["describe-pipelines", "--pipeline-ids", pid, "df-00000000000000000002"],
        "EvaluateExpression": ["evaluate-expression", "--pipeline-id", pid, "--object-id", "Load",
                               "--expression", "#{format(@scheduledStartTime, 'YYYY-MM-dd')}"],
        "GetPipelineDefinition": ["get-pipeline-definition", "--pipeline-id", pid,
                                  "--pipeline-version", "active"],
        "ListPipelines": ["list-pipelines"],
        "PollForTask": ["poll-for-task", "--worker-group", "wg-etl", "--hostname", "runner-1",
                        "--instance-identity", "document=doc,signature=sig"],
        "PutPipelineDefinition": ["put-pipeline-definition", "--pipeline-id", pid,
                                  "--pipeline-definition", "file://" + definition,
                                  "--parameter-values", "myPassword=hunter2"],
        "QueryObjects": ["query-objects", "--pipeline-id", pid, "--sphere", "INSTANCE",
                         "--objects-query", json.dumps(QUERY)],
        "RemoveTags": ["remove-tags", "--pipeline-id", pid, "--tag-keys", "team", "env"],
        "ReportTaskProgress": ["report-task-progress", "--task-id", task, "--fields",
                               "key=progress,stringValue=50"],
        "ReportTaskRunnerHeartbeat": ["report-task-runner-heartbeat", "--taskrunner-id", "tr-1",
                                      "--worker-group", "wg-etl", "--hostname", "runner-1"],
        "SetStatus": ["set-status", "--pipeline-id", pid, "--object-ids", "Load", "--status", "PAUSE"],
        "SetTaskStatus": ["set-task-status", "--task-id", task, "--task-status", "FAILED",
                          "--error-id", "Timeout", "--error-message", "took too long",
                          "--error-stack-trace", "at Load\n  at main"],
        "ValidatePipelineDefinition": ["validate-pipeline-definition", "--pipeline-id", pid,
                                       "--pipeline-objects", json.dumps(API_OBJECTS),
                                       "--parameter-objects", json.dumps(API_PARAMETERS),
                                       "--parameter-values", json.dumps(API_VALUES)],
    }


class Recorder(http.server.BaseHTTPRequestHandler):
    captured = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        Recorder.captured.append((self.path, list(self.headers.items()), body))
        # An error no client retries, so each command sends its request once.
        answer = b'{"__type": "InvalidRequestException", "message": "captured"}'
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def seed(control, path, headers, body):
    head = "POST %s\n" % path + "".join("%s: %s\n" % (k, v) for k, v in headers)
    return bytes([control]) + head.encode() + b"\n" + body


def main():
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = "http://127.0.0.1:%d" % server.server_port
    botocore.auth.get_current_datetime = lambda remove_tzinfo=True: NOW
    os.environ.update({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1",
                       "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    from awscli.clidriver import create_clidriver

    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for operation, args in commands(scratch).items():
            Recorder.captured.clear()
            create_clidriver().main(["datapipeline", *args, "--endpoint-url", endpoint])
            if len(Recorder.captured) != 1:
                sys.exit("%s: captured %d requests" % (operation, len(Recorder.captured)))
            path, headers, body = Recorder.captured[0]
            target = dict((k.lower(), v) for k, v in headers)["x-amz-target"]
            if target != "DataPipeline." + operation:
                sys.exit("%s: the CLI sent %s" % (operation, target))
            for mode, control in MODES.items():
                with open(os.path.join(OUT, "%s-%s" % (operation, mode)), "wb") as f:
                    f.write(seed(control, path, headers, body))
            if operation == "ListPipelines":
                presigned(operation, endpoint, headers)
    server.shutdown()


def presigned(operation, endpoint, headers):
    """The request presigned by botocore (query-string authentication), as written. botocore
    presigns with an unsigned payload, which the server refuses: this seed is for the parsing of
    the query's parameters, which the target's own presigning covers too but never shows the
    fuzzer as text."""
    keep = {"content-type", "x-amz-target", "host"}
    request = AWSRequest(method="POST", url=endpoint + "/",
                         headers={k: v for k, v in headers if k.lower() in keep})
    botocore.auth.SigV4QueryAuth(Credentials(KEY_ID, SECRET), "datapipeline", "us-east-1",
                                 expires=300).add_auth(request)
    path = request.prepare().url[len(endpoint):]
    kept = [(k, v) for k, v in headers if k.lower() in keep]
    with open(os.path.join(OUT, "%s-presigned-as-sent" % operation), "wb") as f:
        f.write(seed(MODES["as-sent"], path, kept, b""))


if __name__ == "__main__":
    main()
