"""The whole life of a pipeline through boto3 against `sluice server --no-local-runner`,
with this script acting as the task runner.

Run by `tests/api_clients.rs` and `tests/tls.rs` with the venv's Python. Environment:
SLUICE_ENDPOINT (http://127.0.0.1:PORT or https://…), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION, and for https:// SLUICE_CA_BUNDLE, the CA certificate to verify it with.
Exits 0 when every check holds; otherwise prints what differed and exits 1.
"""

import os
import sys
import time

import boto3
import botocore.config
import botocore.exceptions

WORKER_GROUP = "wg-boto3"
HOSTNAME = "boto3-runner.example"
DEADLINE_SECONDS = 30


class Mismatch(Exception):
    pass


def check(condition, message, *details):
    if not condition:
        raise Mismatch(" ".join([message] + [repr(d) for d in details]))


def step(text):
    print("--", text, flush=True)


def fields(obj):
    """An API-form object's fields as {key: [values]}; references as 'ref:ID'."""
    out = {}
    for f in obj["fields"]:
        value = f["stringValue"] if "stringValue" in f else "ref:" + f["refValue"]
        out.setdefault(f["key"], []).append(value)
    return out


def one(obj, key):
    values = fields(obj).get(key, [])
    check(len(values) == 1, "expected one %r on %s, got" % (key, obj.get("id", obj.get("pipelineId"))), values)
    return values[0]


def expect_error(name, call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as error:
        code = error.response["Error"]["Code"]
        check(code == name, "expected %s from %s, got" % (name, call.__name__), code, error.response)
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        check(status == 400, "expected HTTP 400 with %s, got" % name, status)
        return error
    raise Mismatch("expected %s from %s(%r), but it succeeded" % (name, call.__name__, kwargs))


OBJECTS = [
    {
        "id": "Default",
        "name": "Default",
        "fields": [
            {"key": "failureAndRerunMode", "stringValue": "CASCADE"},
            {"key": "maximumRetries", "stringValue": "0"},
            {"key": "scheduleType", "stringValue": "ondemand"},
            {"key": "workerGroup", "stringValue": WORKER_GROUP},
        ],
    },
    {
        "id": "Greet",
        "name": "Greet",
        "fields": [
            {"key": "command", "stringValue": 'echo "hello #{myGreeting}"'},
            {"key": "type", "stringValue": "ShellCommandActivity"},
        ],
    },
]
PARAMETERS = [
    {
        "id": "myGreeting",
        "attributes": [
            {"key": "default", "stringValue": "world"},
            {"key": "description", "stringValue": "Who to greet"},
            {"key": "type", "stringValue": "String"},
        ],
    }
]
VALUES = [{"id": "myGreeting", "stringValue": "definition"}]


def by_id(objects):
    return sorted(objects, key=lambda o: o["id"])


def main():
    endpoint = os.environ["SLUICE_ENDPOINT"]
    dp = boto3.client(
        "datapipeline",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        # None: botocore's default (verify against its own bundle).
        verify=os.environ.get("SLUICE_CA_BUNDLE"),
        config=botocore.config.Config(
            # PollForTask long-polls for up to 90 seconds.
            read_timeout=120,
            retries={"total_max_attempts": 1},
        ),
    )

    step("names, descriptions and tags keep their Unicode")
    fancy = dp.create_pipeline(
        name="Grüße ✓ 日本", uniqueId="unicode-1", description="façade — «quoted»", tags=[{"key": "émoji", "value": "🚰"}]
    )["pipelineId"]
    described = dp.describe_pipelines(pipelineIds=[fancy])["pipelineDescriptionList"][0]
    check(described["name"] == "Grüße ✓ 日本", "unicode name:", described["name"])
    check(described.get("description") == "façade — «quoted»", "unicode description:", described.get("description"))
    check(described.get("tags") == [{"key": "émoji", "value": "🚰"}], "unicode tags:", described.get("tags"))
    dp.delete_pipeline(pipelineId=fancy)

    step("create_pipeline is idempotent on (name, uniqueId)")
    created = dp.create_pipeline(
        name="boto3-demo",
        uniqueId="boto3-token",
        description="made by boto3",
        tags=[{"key": "team", "value": "data"}],
    )
    pipeline_id = created["pipelineId"]
    check(pipeline_id.startswith("df-"), "pipeline ids look like df-…:", pipeline_id)
    again = dp.create_pipeline(name="boto3-demo", uniqueId="boto3-token")
    check(again["pipelineId"] == pipeline_id, "same name and uniqueId, other id:", again)

    step("put_pipeline_definition reports validation errors, then takes a valid definition")
    bad = dp.put_pipeline_definition(
        pipelineId=pipeline_id,
        pipelineObjects=OBJECTS + [{"id": "Oops", "name": "Oops", "fields": [{"key": "type", "stringValue": "NoSuchType"}]}],
        parameterObjects=PARAMETERS,
        parameterValues=VALUES,
    )
    check(bad["errored"] is True, "an unknown type must error:", bad)
    check([e["id"] for e in bad["validationErrors"]] == ["Oops"], "errors belong to Oops:", bad["validationErrors"])
    check(any("UNKNOWN_TYPE" in m for m in bad["validationErrors"][0]["errors"]), "UNKNOWN_TYPE expected:", bad)
    put = dp.put_pipeline_definition(
        pipelineId=pipeline_id, pipelineObjects=OBJECTS, parameterObjects=PARAMETERS, parameterValues=VALUES
    )
    check(put["errored"] is False, "valid definition errored:", put)
    check(put.get("validationErrors", []) == [], "no validation errors expected:", put)

    step("validate_pipeline_definition")
    valid = dp.validate_pipeline_definition(
        pipelineId=pipeline_id, pipelineObjects=OBJECTS, parameterObjects=PARAMETERS, parameterValues=VALUES
    )
    check(valid["errored"] is False, "validation errored:", valid)

    step("get_pipeline_definition gives back what was put")
    got = dp.get_pipeline_definition(pipelineId=pipeline_id)
    check(by_id(got["pipelineObjects"]) == by_id(OBJECTS), "objects differ:", got["pipelineObjects"])
    check(got.get("parameterObjects") == PARAMETERS, "parameters differ:", got.get("parameterObjects"))
    check(got.get("parameterValues") == VALUES, "values differ:", got.get("parameterValues"))

    step("the list_pipelines paginator walks several pages")
    others = [dp.create_pipeline(name="filler-%02d" % i, uniqueId="filler-%02d" % i)["pipelineId"] for i in range(54)]
    pages = list(dp.get_paginator("list_pipelines").paginate())
    listed = [p["id"] for page in pages for p in page["pipelineIdList"]]
    check(len(pages) >= 2, "55 pipelines should take more than one page:", len(pages))
    check(len(listed) == len(set(listed)) == 55, "each pipeline once:", len(listed), len(set(listed)))
    check(set(listed) == set(others) | {pipeline_id}, "listed ids differ")
    names = {p["id"]: p["name"] for page in pages for p in page["pipelineIdList"]}
    check(names[pipeline_id] == "boto3-demo", "listed name:", names[pipeline_id])

    step("activate_pipeline with a parameter value")
    dp.activate_pipeline(pipelineId=pipeline_id, parameterValues=[{"id": "myGreeting", "stringValue": "boto3"}])
    state = one(dp.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"][0], "@pipelineState")
    check(state == "SCHEDULED", "an activated ondemand pipeline is SCHEDULED:", state)

    step("report_task_runner_heartbeat")
    beat = dp.report_task_runner_heartbeat(taskrunnerId="boto3-runner-1", workerGroup=WORKER_GROUP, hostname=HOSTNAME)
    check(beat["terminate"] is False, "the heartbeat must not terminate the runner:", beat)

    step("poll_for_task hands out the attempt with its fields evaluated")
    polled = dp.poll_for_task(workerGroup=WORKER_GROUP, hostname=HOSTNAME)
    task = polled.get("taskObject")
    check(task is not None, "no task for worker group", WORKER_GROUP, polled)
    check(task["pipelineId"] == pipeline_id, "task of another pipeline:", task["pipelineId"])
    attempt_id = task["attemptId"]
    check(attempt_id in task["objects"], "the task's objects lack the attempt", attempt_id, list(task["objects"]))
    attempt = task["objects"][attempt_id]
    check(one(attempt, "command") == 'echo "hello boto3"', "command evaluated with the activation's value:", fields(attempt))
    check(one(attempt, "type") == "ShellCommandActivity", "attempt type:", fields(attempt))
    task_id = task["taskId"]

    step("report_task_progress")
    progress = dp.report_task_progress(taskId=task_id)
    check(progress["canceled"] is False, "progress on a live task:", progress)

    step("query_objects and describe_objects show the running instance")
    instances = dp.get_paginator("query_objects").paginate(pipelineId=pipeline_id, sphere="INSTANCE").build_full_result()["ids"]
    check(len(instances) == 1, "one instance expected:", instances)
    instance_id = instances[0]
    described = dp.describe_objects(pipelineId=pipeline_id, objectIds=[instance_id, attempt_id])["pipelineObjects"]
    check([o["id"] for o in described] == [instance_id, attempt_id], "describe order:", [o["id"] for o in described])
    check(one(described[0], "@status") == "RUNNING", "instance while the task is held:", fields(described[0]))
    check(one(described[0], "@componentParent") == "ref:Greet", "instance parent:", fields(described[0]))
    check(one(described[1], "@status") == "RUNNING", "attempt while the task is held:", fields(described[1]))
    check(one(described[1], "hostname") == HOSTNAME, "attempt hostname:", fields(described[1]))

    step("set_task_status FINISHED finishes the instance")
    dp.set_task_status(taskId=task_id, taskStatus="FINISHED")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        obj = dp.describe_objects(pipelineId=pipeline_id, objectIds=[instance_id])["pipelineObjects"][0]
        status = one(obj, "@status")
        if status == "FINISHED":
            break
        check(time.monotonic() < deadline, "instance never FINISHED; last status", status)
        time.sleep(0.1)
    finished = dp.query_objects(
        pipelineId=pipeline_id,
        sphere="INSTANCE",
        query={"selectors": [{"fieldName": "@status", "operator": {"type": "EQ", "values": ["FINISHED"]}}]},
    )
    check(finished["ids"] == [instance_id], "FINISHED selector:", finished)

    step("a finished or unknown task is TaskNotFoundException")
    expect_error("TaskNotFoundException", dp.report_task_progress, taskId=task_id)
    expect_error("TaskNotFoundException", dp.set_task_status, taskId=task_id, taskStatus="FINISHED")
    expect_error("TaskNotFoundException", dp.report_task_progress, taskId="no-such-task-id")
    expect_error("TaskNotFoundException", dp.set_task_status, taskId="no-such-task-id", taskStatus="FAILED")

    step("the query_objects and describe_objects paginators")
    pages = list(
        dp.get_paginator("query_objects").paginate(
            pipelineId=pipeline_id, sphere="COMPONENT", PaginationConfig={"PageSize": 1}
        )
    )
    components = [i for page in pages for i in page["ids"]]
    check(sorted(components) == ["Default", "Greet"], "components:", components)
    check(len(pages) >= 2, "page size 1 over two components takes two pages:", len(pages))
    attempts = dp.get_paginator("query_objects").paginate(pipelineId=pipeline_id, sphere="ATTEMPT").build_full_result()["ids"]
    check(attempts == [attempt_id], "attempts:", attempts)
    objects = [
        o
        for page in dp.get_paginator("describe_objects").paginate(
            pipelineId=pipeline_id, objectIds=components + [instance_id] + attempts, evaluateExpressions=True
        )
        for o in page["pipelineObjects"]
    ]
    check([o["id"] for o in objects] == components + [instance_id] + attempts, "described:", [o["id"] for o in objects])
    greet = next(o for o in objects if o["id"] == "Greet")
    check(one(greet, "@sphere") == "COMPONENT", "component sphere:", fields(greet))
    check(one(objects[-1], "@status") == "FINISHED", "attempt status:", fields(objects[-1]))

    step("evaluate_expression")
    evaluated = dp.evaluate_expression(
        pipelineId=pipeline_id, objectId=instance_id, expression="#{myGreeting} from #{@pipelineId}"
    )
    check(evaluated["evaluatedExpression"] == "boto3 from " + pipeline_id, "evaluated:", evaluated)
    expect_error(
        "InvalidRequestException", dp.evaluate_expression, pipelineId=pipeline_id, objectId="NoSuchObject", expression="#{1}"
    )

    step("set_status PAUSE and RESUME on the component")
    dp.set_status(pipelineId=pipeline_id, objectIds=["Greet"], status="PAUSE")
    obj = dp.describe_objects(pipelineId=pipeline_id, objectIds=["Greet"])["pipelineObjects"][0]
    check(one(obj, "@status") == "PAUSED", "paused component:", fields(obj))
    dp.set_status(pipelineId=pipeline_id, objectIds=["Greet"], status="RESUME")
    obj = dp.describe_objects(pipelineId=pipeline_id, objectIds=["Greet"])["pipelineObjects"][0]
    check(one(obj, "@status") != "PAUSED", "resumed component:", fields(obj))

    step("a second run: the runner reports FAILED with its error")
    dp.activate_pipeline(pipelineId=pipeline_id)
    task = dp.poll_for_task(workerGroup=WORKER_GROUP, hostname=HOSTNAME).get("taskObject")
    check(task is not None and task["pipelineId"] == pipeline_id, "no task for the second run:", task)
    check(task["attemptId"] != attempt_id, "the second run has its own attempt:", task["attemptId"])
    progress = dp.report_task_progress(
        taskId=task["taskId"], fields=[{"key": "percentComplete", "stringValue": "50"}]
    )
    check(progress["canceled"] is False, "progress with fields:", progress)
    dp.set_task_status(
        taskId=task["taskId"],
        taskStatus="FAILED",
        errorId="GreetingError",
        errorMessage="could not greet",
        errorStackTrace="at greet()",
    )
    expect_error(
        "InvalidRequestException", dp.set_task_status, taskId=task["taskId"], taskStatus="FAILED", errorId="Service_Mine"
    )
    failed_attempt = task["attemptId"]
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        failed = dp.query_objects(
            pipelineId=pipeline_id,
            sphere="INSTANCE",
            query={"selectors": [{"fieldName": "@status", "operator": {"type": "EQ", "values": ["FAILED"]}}]},
        )["ids"]
        if failed:
            break
        check(time.monotonic() < deadline, "the second run never FAILED")
        time.sleep(0.1)
    check(len(failed) == 1 and failed[0] != instance_id, "one failed instance, not the first:", failed)
    attempt = dp.describe_objects(pipelineId=pipeline_id, objectIds=[failed_attempt])["pipelineObjects"][0]
    check(one(attempt, "@status") == "FAILED", "failed attempt:", fields(attempt))
    check(one(attempt, "errorId") == "GreetingError", "errorId:", fields(attempt))
    check(one(attempt, "errorMessage") == "could not greet", "errorMessage:", fields(attempt))

    step("set_status MARK_FINISHED on the failed instance")
    dp.set_status(pipelineId=pipeline_id, objectIds=failed, status="MARK_FINISHED")
    obj = dp.describe_objects(pipelineId=pipeline_id, objectIds=failed)["pipelineObjects"][0]
    check(one(obj, "@status") == "FINISHED", "marked finished:", fields(obj))

    step("a third run: set_status TRY_CANCEL cancels the task the runner holds")
    dp.activate_pipeline(pipelineId=pipeline_id)
    task = dp.poll_for_task(workerGroup=WORKER_GROUP, hostname=HOSTNAME).get("taskObject")
    check(task is not None and task["pipelineId"] == pipeline_id, "no task for the third run:", task)
    running = dp.query_objects(
        pipelineId=pipeline_id,
        sphere="INSTANCE",
        query={"selectors": [{"fieldName": "@status", "operator": {"type": "EQ", "values": ["RUNNING"]}}]},
    )["ids"]
    check(len(running) == 1, "one running instance:", running)
    dp.set_status(pipelineId=pipeline_id, objectIds=running, status="TRY_CANCEL")
    progress = dp.report_task_progress(taskId=task["taskId"])
    check(progress["canceled"] is True, "progress after TRY_CANCEL must say canceled:", progress)
    obj = dp.describe_objects(pipelineId=pipeline_id, objectIds=running)["pipelineObjects"][0]
    check(one(obj, "@status") == "CANCELED", "canceled instance:", fields(obj))
    # `aws datapipeline list-runs --status cancelled` sends the CLI's spelling.
    cancelled = dp.query_objects(
        pipelineId=pipeline_id,
        sphere="INSTANCE",
        query={"selectors": [{"fieldName": "@status", "operator": {"type": "EQ", "values": ["CANCELLED"]}}]},
    )["ids"]
    check(cancelled == running, "the CLI's CANCELLED selector:", cancelled)

    step("a fourth run: deactivating cancels the task the runner holds")
    dp.activate_pipeline(pipelineId=pipeline_id)
    task = dp.poll_for_task(workerGroup=WORKER_GROUP, hostname=HOSTNAME).get("taskObject")
    check(task is not None and task["pipelineId"] == pipeline_id, "no task for the fourth run:", task)
    dp.deactivate_pipeline(pipelineId=pipeline_id, cancelActive=True)
    progress = dp.report_task_progress(taskId=task["taskId"])
    check(progress["canceled"] is True, "progress after deactivation must say canceled:", progress)
    state = one(dp.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"][0], "@pipelineState")
    check(state == "INACTIVE", "deactivated state:", state)
    dp.activate_pipeline(pipelineId=pipeline_id)

    step("add_tags and remove_tags")
    dp.add_tags(pipelineId=pipeline_id, tags=[{"key": "env", "value": "test"}, {"key": "team", "value": "platform"}])
    described = dp.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"][0]
    tags = {t["key"]: t["value"] for t in described.get("tags", [])}
    check(tags == {"team": "platform", "env": "test"}, "tags after add_tags:", described.get("tags"))
    check(described.get("description") == "made by boto3", "description:", described.get("description"))
    dp.remove_tags(pipelineId=pipeline_id, tagKeys=["team"])
    described = dp.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"][0]
    check(described.get("tags") == [{"key": "env", "value": "test"}], "tags after remove_tags:", described.get("tags"))

    step("deactivate_pipeline and delete_pipeline")
    dp.deactivate_pipeline(pipelineId=pipeline_id)
    state = one(dp.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"][0], "@pipelineState")
    check(state in ("INACTIVE", "DEACTIVATING", "PAUSED"), "deactivated state:", state)
    dp.delete_pipeline(pipelineId=pipeline_id)
    expect_error("PipelineDeletedException", dp.describe_pipelines, pipelineIds=[pipeline_id])
    expect_error("PipelineNotFoundException", dp.describe_pipelines, pipelineIds=["df-NOSUCHPIPELINE0000"])
    listed = dp.get_paginator("list_pipelines").paginate().build_full_result()["pipelineIdList"]
    check(pipeline_id not in [p["id"] for p in listed], "a deleted pipeline is still listed")
    check(len(listed) == 54, "the other pipelines stay listed:", len(listed))

    print("boto3 life cycle: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Mismatch as mismatch:
        print("MISMATCH:", mismatch, file=sys.stderr)
        sys.exit(1)
    except botocore.exceptions.ClientError as error:
        print("UNEXPECTED SERVICE ERROR:", error.response.get("Error"), error.response.get("ResponseMetadata"), file=sys.stderr)
        raise
