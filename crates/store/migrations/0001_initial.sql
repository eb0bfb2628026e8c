-- Each table keeps the whole record as JSON in `data`, which is the only column ever decoded;
-- the other columns are copies of the fields that lookups filter or sort on. A field added to a
-- record therefore needs no migration; a new column is needed only for a new kind of lookup.
--
-- Times are text `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn` (fixed width, so text order is time order).
-- `version` holds the record's u64 version as the i64 with the same bits; the store compares
-- versions after converting back, never in SQL.

CREATE TABLE pipelines (
    pipeline_id TEXT    NOT NULL PRIMARY KEY,
    state       TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    data        TEXT    NOT NULL
) STRICT;

CREATE TABLE instances (
    pipeline_id     TEXT NOT NULL REFERENCES pipelines (pipeline_id) ON DELETE CASCADE,
    instance_id     TEXT NOT NULL,
    component_id    TEXT NOT NULL,
    status          TEXT NOT NULL,
    scheduled_start TEXT NOT NULL,
    data            TEXT NOT NULL,
    PRIMARY KEY (pipeline_id, instance_id)
) STRICT;

-- Reading a pipeline's instances in schedule order.
CREATE INDEX instances_by_start ON instances (pipeline_id, scheduled_start, instance_id);
-- Finding instances in a given status (e.g. everything still running) across pipelines.
CREATE INDEX instances_by_status ON instances (status, pipeline_id);

CREATE TABLE attempts (
    pipeline_id      TEXT    NOT NULL REFERENCES pipelines (pipeline_id) ON DELETE CASCADE,
    attempt_id       TEXT    NOT NULL,
    instance_id      TEXT    NOT NULL,
    number           INTEGER NOT NULL,
    status           TEXT    NOT NULL,
    worker_group     TEXT    NOT NULL,
    lease_expires_at TEXT,
    data             TEXT    NOT NULL,
    PRIMARY KEY (pipeline_id, attempt_id)
) STRICT;

-- Reading a pipeline's attempts in (instance, number) order.
CREATE INDEX attempts_by_instance ON attempts (pipeline_id, instance_id, number);
-- PollForTask: waiting tasks of a worker group.
CREATE INDEX attempts_by_status ON attempts (status, worker_group);
-- Finding tasks whose runner's lease has lapsed.
CREATE INDEX attempts_by_lease ON attempts (lease_expires_at) WHERE lease_expires_at IS NOT NULL;
